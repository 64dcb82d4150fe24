#!/usr/bin/env bash
# The one-way layers (docs/design.md, "Layers"): every `#include "..."` of
# the daemon's and the CLI's sources may name only a header of its own
# floor or a lower one. The floors, bottom up:
#   1 ground  logging, the event loop, time and civil-date helpers, the
#             line-parser toolkit, the bind check (lib/)
#   2 core    pure decoders, MACs, the vote, detectors, alarms, analysis
#   3 state   drivers (probes/) and the daemon's state (monitor/)
#   4 face    web/, alerting/, snmp/, cli/, server/ (the NTP server; it may
#             not include another face: what it shows goes through
#             monitor/report)
#   5 main    the daemon's main, which wires every module together
# One check per include line; each violation is printed as
# "FILE includes HEADER: LAYER_A may not include LAYER_B". Ends with
# "N passed, N failed" (tests/run.sh counts it). Exit status 1 on a failure.
set -u
cd "$(dirname "$0")/.."

# The floor of a file: by folder, with the files that are not on their
# folder's floor named.
layer_of() {
  case $1 in
    lib/*) echo ground ;;
    # Pure cores: bytes or arrays in, results out; no I/O, no clock reads.
    probes/ntp_wire.[ch] | probes/ntp_auth.[ch] | probes/nmea.[ch] | probes/dcf77.[ch] | \
    probes/meinberg.[ch] | probes/gpsd_json.[ch] | probes/shm_sock.h | probes/refclass.[ch] | \
    probes/rx_continuity.[ch] | probes/nts_ke.[ch] | probes/nts_ef.[ch]) echo core ;;
    monitor/vote.[ch] | monitor/detect.[ch] | monitor/alarms.[ch] | monitor/events.[ch] | \
    monitor/analysis.[ch] | monitor/srcfilter.[ch] | monitor/clockmodel.[ch] | \
    monitor/rollup.[ch]) echo core ;;
    monitor/vettimed.c) echo main ;;
    probes/* | monitor/*) echo state ;;
    web/* | alerting/* | snmp/* | cli/* | server/*) echo face ;;
    *) echo unknown ;;
  esac
}

rank() {
  case $1 in
    ground) echo 1 ;; core) echo 2 ;; state) echo 3 ;; face) echo 4 ;; main) echo 5 ;;
    *) echo 0 ;;
  esac
}

# Known wrong-way includes, each with why it is still there. A line here is
# "FILE HEADER"; delete it as soon as the include goes.
EXCEPTIONS=(
)

is_exception() {
  local e
  for e in "${EXCEPTIONS[@]}"; do [[ $e == "$1 $2" ]] && return 0; done
  return 1
}

pass=0 fail=0
for file in $(find lib monitor probes alerting web snmp cli server -name '*.[ch]' 2>/dev/null | sort); do
  from=$(layer_of "$file")
  while IFS= read -r header; do
    # "folder/x.h" is from the top of the tree (-I.); "x.h" beside the file.
    [[ $header == */* ]] || header=$(dirname "$file")/$header
    to=$(layer_of "$header")
    if [[ $from == unknown || $to == unknown ]]; then
      echo "$file includes $header: no floor for $([[ $from == unknown ]] && echo "$file" || echo "$header") (add it to layer_of in tests/layers.sh)"
      fail=$((fail + 1))
    elif [[ $file == server/* && $header =~ ^(web|alerting|cli)/ ]]; then
      echo "$file includes $header: the NTP server may not include another face"
      fail=$((fail + 1))
    elif (( $(rank "$to") <= $(rank "$from") )); then
      pass=$((pass + 1))
    elif is_exception "$file" "$header"; then
      echo "$file includes $header: $from may not include $to (a listed exception)"
      pass=$((pass + 1))
    else
      echo "$file includes $header: $from may not include $to"
      fail=$((fail + 1))
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
