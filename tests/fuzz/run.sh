#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target for SECONDS (or until RUNS
# executions, when RUNS is given: whichever comes first) with its
# corpus in build/fuzz/corpus/NAME (seeded from tests/fuzz/seeds/NAME), one
# target after the other, and prints a table: target, executions, seconds
# taken, corpus size, findings. A finding (crash, leak, timeout, sanitizer
# report) leaves its input in build/fuzz/findings/ and makes the exit status
# non-zero; reproduce it with `build/fuzz/NAME FILE`.
# Usage: run.sh SECONDS [RUNS] BINARY...
set -u
cd "$(dirname "$0")/../.."
seconds=$1; shift
runs=-1
[[ ${1:-} =~ ^-?[0-9]+$ ]] && { runs=$1; shift; }
mkdir -p build/fuzz/findings
status=0
echo "| target | executions | seconds | corpus | findings |"
echo "|---|---:|---:|---:|---:|"
for bin in "$@"; do
  name=$(basename "$bin")
  corpus=build/fuzz/corpus/$name
  mkdir -p "$corpus"
  [[ -d tests/fuzz/seeds/$name ]] && cp -n tests/fuzz/seeds/$name/* "$corpus/" 2>/dev/null
  log=build/fuzz/$name.log
  start=$(date +%s)
  timeout $((seconds + 60)) "$bin" "$corpus" -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 \
    -artifact_prefix=build/fuzz/findings/"$name"- -print_final_stats=1 > "$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  findings=$(ls build/fuzz/findings/"$name"-* 2>/dev/null | wc -l)
  echo "| $name | ${execs:-?} | $took | $(ls "$corpus" | wc -l) | $findings |"
  if [[ $rc -ne 0 || $findings -ne 0 ]]; then status=1; tail -30 "$log"; fi
done
exit $status
