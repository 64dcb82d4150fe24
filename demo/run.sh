#!/usr/bin/env bash
# `make demo`: runs `vettime simulate demo/demo.scn` (three fake stratum-1
# servers on loopback: GPS, Galileo and DCF77, which agree until the DCF77
# server steps by +250 ms at 20 s (and back at 50 s) and the Galileo server
# starts a slow walk at 60 s), then vettimed in the foreground on
# demo/vettime.conf. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=$PWD/demo/run
mkdir -p "$RUN"
sed "s|@RUN@|$RUN|g" demo/vettime.conf > "$RUN/vettime.conf"
rm -f "$RUN/ready"

./vettime simulate demo/demo.scn --ready "$RUN/ready" > "$RUN/simulate.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -e "$RUN/ready" ]] && break; sleep 0.1; done
[[ -e "$RUN/ready" ]] || { echo "the simulator did not start:"; cat "$RUN/simulate.log"; exit 1; }

cat <<MSG
vettime demo
  fake stratum-1 servers (vettime simulate demo/demo.scn, log $RUN/simulate.log):
    127.0.0.1:11123 GPS, :11124 GAL, :11125 DCF
    t=20 s   the DCF77 server steps by +250 ms   -> step event, falseticker alarm
    t=50 s   it steps back                       -> step event, the falseticker ends
    t=60 s   the Galileo server walks at 10 us/s -> slow-walk / falseticker alarms
  configuration:     $RUN/vettime.conf
  history database:  $RUN/history.db
Look at it from another terminal:
  ./vettime -c $RUN/vettime.conf sources
  ./vettime -c $RUN/vettime.conf vote
  ./vettime -c $RUN/vettime.conf alarms
  ./vettime -c $RUN/vettime.conf events
  ./vettime -c $RUN/vettime.conf replay --minclasses 3
  ./vettime -c $RUN/vettime.conf status    # the NTP server on 127.0.0.1:11223
  chronyd -Q 'server 127.0.0.1 port 11223 iburst'
  sqlite3 $RUN/history.db 'SELECT * FROM events'
Ctrl-C stops the demo.

MSG
./vettimed -c "$RUN/vettime.conf"
