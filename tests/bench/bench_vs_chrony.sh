#!/usr/bin/env bash
# Benchmark (issue 8): vettime's vote side by side with chronyd 4.3, both
# polling the very same `vettime simulate` servers at the same time.
#
# Each case runs one simulator with its servers on their own loopback
# addresses (--bind-base 127.0.N.11: chronyd takes one source per address),
# one vettimed (the simulator's --config lines + database + http) and one
# `chronyd -x -d` with the same `server ADDRESS port P minpoll A maxpoll B
# iburst` lines (A, B: the scenario's `poll`), serving its own time on a
# loopback port. A watcher (bench_vs_chrony.py watch) records ten times a
# second each source's vote_state from vettimed's API (/api/v1/sources) and
# once a second one NTP exchange with chronyd's server; after the run bench_vs_chrony.py analyse
# reads the watcher's log, vettimed's SQLite history and chronyd's logs
# (selection, measurements, statistics, tracking) and computes the figures.
# The column meanings and sign conventions are in BENCHMARKS.md and at the
# top of bench_vs_chrony.py. Prints one markdown table.
#
# Environment:
#   BENCH_CASES  cases to run (names without .scn), default all six:
#                local-oscillator step-1ms walk-slow walk-fast majority-step
#                clean-five
#   BENCH_SHORT  1: walk-slow runs 420 s instead of 900 s, clean-five 300 s
#                instead of 1860 s (the other cases are short already)
#   BENCH_JOBS   cases run at once (default 3; each case is four light
#                processes polling once a second or slower)
#   BENCH_OUT    the directory of each case's files (BENCH_OUT/CASE, replaced
#                when the case runs again) and of table.md (default
#                tests/out/bench_vs_chrony). Not under /tmp: a long run's
#                files must not depend on what else cleans /tmp.
set -u
. "$(dirname "$0")/../system/lib.sh"
BENCH=$TOP/tests/bench
PY=$BENCH/bench_vs_chrony.py
ALL_CASES="local-oscillator step-1ms walk-slow walk-fast majority-step clean-five"
CASES=${BENCH_CASES:-$ALL_CASES}
SHORT=${BENCH_SHORT:-0}
JOBS=${BENCH_JOBS:-3}
OUT=${BENCH_OUT:-$TOP/tests/out/bench_vs_chrony}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 1

# kill_case DIR: stops the processes a case started (their pids are in
# DIR/pids while it runs).
kill_case() {
  local p
  [[ -e $1/pids ]] || return 0
  while read -r p; do kill "$p" 2>/dev/null; done < "$1/pids"
  rm -f "$1/pids"
}

# Stops the cases still running and what they started, then lib.sh's cleanup.
stop_cases() {
  local c p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  for c in $CASES; do kill_case "$OUT/$c"; done
  cleanup
}
trap stop_cases EXIT
trap 'stop_cases; exit 1' TERM INT

for c in $CASES; do
  [[ -e $TOP/tests/scenarios/$c.scn ]] || { echo "no scenario tests/scenarios/$c.scn" >&2; exit 64; }
done
for b in "$VETTIMED" "$VETTIME"; do
  [[ -x $b ]] || { echo "$b is missing: run make" >&2; exit 1; }
done
command -v chronyd > /dev/null || { echo "chronyd is missing: run make deps" >&2; exit 1; }

# short_duration CASE: the duration BENCH_SHORT gives it, or nothing.
short_duration() {
  case $1 in
    walk-slow) echo 420 ;;
    clean-five) echo 300 ;;
  esac
}

# run_case NAME INDEX: one case in $OUT/NAME; its figures in
# $OUT/NAME/result.json.
run_case() {
  local name=$1 idx=$2 d=$OUT/$1
  rm -rf "$d"
  mkdir -p "$d/chrony"
  local scn=$d/$name.scn dur short=0
  cp "$TOP/tests/scenarios/$name.scn" "$scn"
  if [[ $SHORT == 1 && -n $(short_duration "$name") ]]; then
    sed -i -E "s/^duration[[:space:]]+[^#]*/duration $(short_duration "$name") /" "$scn"
    short=1
  fi
  dur=$(awk '$1 == "duration" {print $2}' "$scn")
  local n poll_min poll_max
  n=$(grep -c '^server ' "$scn")
  read -r poll_min poll_max < <(awk '$1 == "poll" {print $2, $3}' "$scn")
  local base sport http
  base=$(free_ports "$n"); sport=$(free_port); http=$(free_port)
  printf '{"name": "%s", "duration": %s, "short": %s}\n' "$name" "$dur" \
    "$([[ $short == 1 ]] && echo true || echo false)" > "$d/case.json"

  "$VETTIME" simulate "$scn" --bind-base "127.0.$idx.11" --port-base "$base" \
    --config "$d/servers.conf" --ready "$d/ready" > "$d/sim.out" 2> "$d/sim.err" &
  local sim=$!
  echo $sim >> "$d/pids"
  wait_for 10 test -e "$d/ready" || { echo "$name: the simulator did not start" >&2; kill_case "$d"; return 1; }
  stat -c %.9Y "$d/ready" > "$d/t0" # scenario time 0, as wall-clock time

  { cat "$d/servers.conf"; echo "database $d/history.db"; echo "http 127.0.0.1 port $http"; } \
    > "$d/vettime.conf"
  {
    echo "# chronyd polling the same servers as vettimed (bench_vs_chrony.sh)"
    while read -r _ addr port; do
      echo "server $addr port $port minpoll ${poll_min:-0} maxpoll ${poll_max:-1} iburst"
    done < "$d/ready"
    echo "port $sport"           # chronyd serves its (virtual) time here: the watcher reads it
    echo "bindaddress 127.0.0.1"
    echo "allow 127.0.0.1"
    echo "cmdport 0"
    echo "pidfile $d/chronyd.pid"
    echo "driftfile $d/chronyd.drift"
    echo "logdir $d/chrony"
    echo "log measurements statistics tracking selection"
  } > "$d/chrony.conf"

  "$VETTIMED" -c "$d/vettime.conf" > "$d/vettimed.log" 2>&1 &
  echo $! >> "$d/pids"
  local vd=$!
  chronyd -x -d -u root -f "$d/chrony.conf" > "$d/chronyd.log" 2>&1 &
  echo $! >> "$d/pids"
  local chr=$!
  wait_for 10 "$VETTIME" -c "$d/vettime.conf" status || { echo "$name: vettimed did not start" >&2; kill_case "$d"; return 1; }
  python3 "$PY" watch "$d" "$VETTIME" "$d/vettime.conf" "$sport" &
  echo $! >> "$d/pids"
  local w=$!
  echo "$name: running $dur s (servers on 127.0.$idx.11.., ports $base..)" >&2

  wait "$sim"
  sleep 1
  kill -TERM "$w" "$vd" "$chr" 2>/dev/null
  wait "$w" "$vd" "$chr" 2>/dev/null
  rm -f "$d/pids"
  python3 "$PY" analyse "$d" || { echo "$name: analysis failed" >&2; return 1; }
  echo "$name: done" >&2
}

rm -f "$OUT/table.md"

# Run the cases, at most $JOBS at a time; the longest first.
order=()
for c in clean-five walk-slow walk-fast majority-step local-oscillator step-1ms; do
  [[ " $CASES " == *" $c "* ]] && order+=("$c")
done
for c in $CASES; do [[ " ${order[*]} " == *" $c "* ]] || order+=("$c"); done
idx=0
for c in "${order[@]}"; do
  idx=$((idx + 1))
  while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n; done
  run_case "$c" "$idx" &
done
wait

results=()
status=0
for c in $CASES; do
  if [[ -s $OUT/$c/result.json ]]; then results+=("$OUT/$c/result.json"); else status=1; fi
done
[[ ${#results[@]} -gt 0 ]] && python3 "$PY" table "${results[@]}" | tee "$OUT/table.md"
echo
echo "chronyd $(chronyd --version | awk '{print $4}'), $(date -u +%Y-%m-%d); files in $OUT"
FAILED=$status   # lib.sh's cleanup keeps $T when something failed
exit $status
