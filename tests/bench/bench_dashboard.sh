#!/usr/bin/env bash
# The dashboard's first load (issue 11: under 1 s) with 50 sources: the
# daemon polls 50 simulated servers (five classes) on loopback for
# BENCH_WARMUP seconds (default 30), then Debian's headless chromium opens
# the page BENCH_RUNS times (default 10, each with an empty cache) and
# tests/bench/dashboard_load.mjs times the navigation to the full source
# table and to the chart with data. Exit status 1 when a load of the table
# took 1 s or more. The chart reads the history API where the daemon has
# it (a warm-up's worth of history), else the page's own polls.
#
# BENCH_HISTORY_DAYS=30: issue 11's history behind the page. The daemon is
# started once to create its database and its 50 source rows, stopped, and
# tests/bench/prefill_history.py writes DAYS of samples every 16 s for each
# source and a vote every second, ending a minute ago (30 days: 8.1 million
# samples, 2.6 million votes, about 1.3 GB), straight into the tables; then
# the daemon starts again on that file and the loads are timed. The
# prefilled days have no roll-ups (they bypass the writer): the page's
# first load reads the default 10 minutes, raw, which the roll-ups do not
# serve anyway.
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
if [[ ${BENCH_HISTORY_DAYS:-0} -gt 0 ]]; then
  sleep 3
  kill "$VETTIMED_PID"; wait "$VETTIMED_PID" 2>/dev/null
  t0=$SECONDS
  python3 "$TOP/tests/bench/prefill_history.py" "$T/history.db" "$BENCH_HISTORY_DAYS" || exit 1
  echo "prefilled $BENCH_HISTORY_DAYS days in $((SECONDS - t0)) s: $(du -h "$T/history.db" | cut -f1)"
  t0=$SECONDS
  # A large file takes longer than start_vettimed's 10 s (its integrity
  # check, the open roll-up buckets rebuilt from the raw rows).
  "$VETTIMED" -c "$T/vettime.conf" > "$T/vettimed.log" 2>&1 &
  VETTIMED_PID=$!
  PIDS+=($VETTIMED_PID)
  wait_for 300 "$VETTIME" -c "$T/vettime.conf" status > /dev/null ||
    { echo "vettimed did not start on the prefilled history:"; tail -5 "$T/vettimed.log"; exit 1; }
  echo "vettimed answered $((SECONDS - t0)) s after its start on that file"
fi
sleep "${BENCH_WARMUP:-30}"
timeout 120 node "$TOP/tests/bench/dashboard_load.mjs" "http://127.0.0.1:$http/" \
  "${BENCH_RUNS:-10}" "$N" "$TOP/build/node"
