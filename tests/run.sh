#!/usr/bin/env bash
# Runs every test: the unit-test binaries given as arguments, the layer
# check (tests/layers.sh), then every tests/system/test_*.sh. Each prints "N passed, N failed" as its last line;
# this script adds them up and ends with the same line for the whole suite.
# A test program that crashes or prints no count counts as one failure.
set -u
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0
outdir=tests/out
mkdir -p "$outdir"

# Every process a test starts inherits VT_TEST_TOKEN (a value unique to
# this run and test); whatever still carries it when the test is over was
# left behind: it is listed, killed and counted as one failure. (A test
# that runs parts in background subshells must stop what each part started:
# the parent's list of PIDs does not see them.)
leftovers() { # token: the PIDs of the processes whose environment holds it
  local f pid
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}; pid=${pid%/environ}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    tr '\0' '\n' 2>/dev/null < "$f" | grep -qxF "VT_TEST_TOKEN=$1" && echo "$pid"
  done
}

run_one() { # name, command...
  local name=$1; shift
  local log="$outdir/${name//\//-}.log" start=$SECONDS
  local token="$name.$$.$RANDOM$RANDOM"
  rm -f "$log.count"
  VT_TEST_TOKEN=$token "$@" > "$log" 2>&1
  local rc=$?
  local left; left=$(leftovers "$token")
  if [[ -n $left ]]; then
    { echo "left behind by $name:"; ps -o pid=,args= -p $(echo $left | tr ' ' ','); } >> "$log"
    kill -9 $left 2>/dev/null
    echo "FAIL - $name left $(echo $left | wc -w) process(es) running (listed in $log)" >> "$log"
    rc=1
  fi
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  local p=0 f=0
  if [[ -n "$line" ]]; then
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  fi
  if [[ -z "$line" || ( $rc -ne 0 && $f -eq 0 ) ]]; then f=$((f + 1)); fi
  echo "$p $f" > "$log.count"
  printf '%-40s %3d passed, %d failed  (%ds)\n' "$name" "$p" "$f" $((SECONDS - start))
  if [[ $f -ne 0 ]]; then
    echo "---- $log (last 40 lines)"; tail -n 40 "$log"; echo "----"
  fi
}

# Adds up the counts that run_one left beside each log.
add_counts() { # name
  local p f
  read -r p f < "$outdir/${1//\//-}.log.count" || { p=0; f=1; }
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

for bin in "$@"; do
  run_one "unit/$(basename "$bin")" "$bin"
  add_counts "unit/$(basename "$bin")"
done
run_one "layers" bash tests/layers.sh
add_counts layers

# A test may ask for a longer limit than 300 s with a line
# "# run.sh timeout: SECONDS" (the scenario suite runs for about 5
# minutes). A long test that mostly waits may run beside the others with
# a line "# run.sh: beside the others": it starts first, in the
# background, and its result is printed when the others are done (two
# tests at a time at most, so the timing checks keep their margins).
system_tests=() beside=()
for t in tests/system/test_*.sh; do
  [[ -e $t ]] || continue
  if grep -qx '# run.sh: beside the others' "$t"; then beside+=("$t"); else system_tests+=("$t"); fi
done
run_system() { # test script
  local limit
  limit=$(sed -n 's/^# run.sh timeout: \([0-9]\+\)$/\1/p' "$1" | head -n 1)
  run_one "system/$(basename "$1" .sh)" timeout "${limit:-300}" bash "$1"
}
beside_pid=
if [[ ${#beside[@]} -gt 0 ]]; then
  ( for t in "${beside[@]}"; do run_system "$t"; done ) > "$outdir/beside.out" 2>&1 &
  beside_pid=$!
fi
for t in "${system_tests[@]}"; do
  run_system "$t"
  add_counts "system/$(basename "$t" .sh)"
done
if [[ -n $beside_pid ]]; then
  wait "$beside_pid"
  cat "$outdir/beside.out"
  for t in "${beside[@]}"; do add_counts "system/$(basename "$t" .sh)"; done
fi

echo "$total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
