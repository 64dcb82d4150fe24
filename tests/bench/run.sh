#!/usr/bin/env bash
# The `make bench` runner: the Makefile has built build/tests/bench_*. Runs
# the history ingest benchmark (about 10 s), then, if present, the daemon
# memory benchmark tests/bench/rss.sh. Each step is bounded by a timeout;
# the script fails if any step fails.
set -u
cd "$(dirname "$0")/../.."
status=0

echo "## History ingest (build/tests/bench_history)"
echo
if [[ -x build/tests/bench_history ]]; then
  timeout 120 build/tests/bench_history || { echo "bench_history failed ($?)"; status=1; }
else
  echo "build/tests/bench_history is missing: run make bench"; status=1
fi

if [[ -f tests/bench/rss.sh ]]; then
  echo
  echo "## Daemon memory (tests/bench/rss.sh)"
  echo
  timeout 300 bash tests/bench/rss.sh || { echo "rss.sh failed ($?)"; status=1; }
fi
exit $status
