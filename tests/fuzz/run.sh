#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target for SECONDS with its corpus in
# tests/fuzz/corpus/NAME (seeded from tests/data where a target has seeds),
# and prints a table: target, executions, corpus size, findings. A finding
# (crash, leak, sanitizer report) leaves its input in build/fuzz/findings/.
# Usage: run.sh SECONDS BINARY...
set -u
cd "$(dirname "$0")/../.."
seconds=$1; shift
mkdir -p build/fuzz/findings
status=0
echo "| target | seconds | executions | corpus | findings |"
echo "|---|---:|---:|---:|---:|"
for bin in "$@"; do
  name=$(basename "$bin")
  corpus=build/fuzz/corpus/$name
  mkdir -p "$corpus"
  [[ -d tests/fuzz/seeds/$name ]] && cp -n tests/fuzz/seeds/$name/* "$corpus/" 2>/dev/null
  log=build/fuzz/$name.log
  timeout $((seconds + 60)) "$bin" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -artifact_prefix=build/fuzz/findings/"$name"- -print_final_stats=1 > "$log" 2>&1
  rc=$?
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  findings=$(ls build/fuzz/findings/"$name"-* 2>/dev/null | wc -l)
  echo "| $name | $seconds | ${execs:-?} | $(ls "$corpus" | wc -l) | $findings |"
  if [[ $rc -ne 0 || $findings -ne 0 ]]; then status=1; tail -30 "$log"; fi
done
exit $status
