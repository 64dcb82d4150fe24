#!/usr/bin/env bash
# The `make bench` runner: the Makefile has built build/tests/bench_*. Runs
# each benchmark, bounded by a timeout, and prints its markdown table:
# history ingest, the history API on 30 days of 50 sources, vote cost, detection (time to detect, false alarms),
# daemon memory, NTP serving against chronyd and a bare UDP echo (about
# 1 min; bench_ntp_load and bench_udp_echo are its helpers, not benchmarks
# of their own), and vettime's vote against chronyd 4.3 on the same
# simulated servers (about 32 min; BENCH_SHORT=1 about 8 min, BENCH_CASES
# picks cases: see tests/bench/bench_vs_chrony.sh). Fails if any step fails.
set -u
cd "$(dirname "$0")/../.."
status=0

bench() { # title binary timeout
  echo "## $1 ($2)"
  echo
  if [[ -x $2 ]]; then
    timeout "$3" "$2" || { echo "$2 failed ($?)"; status=1; }
  else
    echo "$2 is missing: run make bench"; status=1
  fi
  echo
}

bench "History ingest" build/tests/bench_history 120
bench "History API: 30 days of 50 sources (ingest with roll-ups, reads)" build/tests/bench_history_api 900
bench "Vote round" build/tests/bench_vote 60
bench "Detection" build/tests/bench_detect 300

echo "## Daemon memory (tests/bench/rss.sh)"
echo
timeout 300 bash tests/bench/rss.sh || { echo "rss.sh failed ($?)"; status=1; }
echo

echo "## The dashboard's first load (tests/bench/bench_dashboard.sh)"
echo
timeout 300 bash tests/bench/bench_dashboard.sh || { echo "bench_dashboard.sh failed ($?)"; status=1; }
echo

echo "## NTP serving: vettimed, chronyd and a UDP echo (tests/bench/bench_serve.sh)"
echo
timeout 300 bash tests/bench/bench_serve.sh || { echo "bench_serve.sh failed ($?)"; status=1; }
echo

echo "## vettime and chronyd on the same servers (tests/bench/bench_vs_chrony.sh)"
echo
timeout 2700 bash tests/bench/bench_vs_chrony.sh || { echo "bench_vs_chrony.sh failed ($?)"; status=1; }
exit $status
