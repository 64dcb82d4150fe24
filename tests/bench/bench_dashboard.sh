#!/usr/bin/env bash
# The dashboard's first load (issue 11: under 1 s) with 50 sources: the
# daemon polls 50 simulated servers (five classes) on loopback for
# BENCH_WARMUP seconds (default 30), then Debian's headless chromium opens
# the page BENCH_RUNS times (default 10, each with an empty cache) and
# tests/bench/dashboard_load.mjs times the navigation to the full source
# table and to the chart with data. Exit status 1 when a load of the table
# took 1 s or more. The chart reads the history API where the daemon has
# it (a warm-up's worth of history), else the page's own polls.
set -u
. "$(dirname "$0")/../system/lib.sh"
N=50
bash "$TOP/scripts/install-playwright.sh" || exit 1

classes=(GPS GAL GLO BDS DCF)
{
  printf 'name bench-dashboard\nduration 600\nseed 5\npoll 0 1\n'
  for ((i = 0; i < N; i++)); do
    printf 'server s%02d refid %s jitter 20us\n' "$i" "${classes[i % 5]}"
  done
} > "$T/bench.scn"
base=$(free_ports $N)
"$VETTIME" simulate "$T/bench.scn" --port-base "$base" --config "$T/servers.conf" \
  --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -e "$T/ready" || { echo "the simulator did not start"; exit 1; }
http=$(free_port)
{ cat "$T/servers.conf"; printf 'database %s/history.db\nhttp 127.0.0.1 port %s\n' "$T" "$http"; } > "$T/vettime.conf"
start_vettimed "$T/vettime.conf" || { echo "vettimed did not start"; exit 1; }
sleep "${BENCH_WARMUP:-30}"
timeout 120 node "$TOP/tests/bench/dashboard_load.mjs" "http://127.0.0.1:$http/" \
  "${BENCH_RUNS:-10}" "$N" "$TOP/build/node"
