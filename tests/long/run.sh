#!/usr/bin/env bash
# `make test-long`: every tests/long/test_*.sh, one after the other, each
# ending with "N passed, N failed"; adds them up and ends with the same
# line for the whole set (as tests/run.sh does for `make test`). Logs in
# tests/out/long-*.log; each test's output is also printed, since it is
# the evidence (commands and their output).
set -u
cd "$(dirname "$0")/../.."
mkdir -p tests/out
total_pass=0 total_fail=0
for t in tests/long/test_*.sh; do
  name=$(basename "$t" .sh)
  log=tests/out/long-$name.log
  echo "==== $t"
  timeout 1800 bash "$t" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  p=0 f=0
  if [[ -n "$line" ]]; then p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}; fi
  if [[ -z "$line" || ( $rc -ne 0 && $f -eq 0 ) ]]; then f=$((f + 1)); fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  printf '%-40s %3d passed, %d failed\n' "long/$name" "$p" "$f"
done
echo "$total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
