#!/usr/bin/env bash
# `make demo`: starts three chronyd stratum-1 servers on loopback (one of
# them 1 s ahead under faketime), then runs vettimed in the foreground on
# demo/vettime.conf. Ctrl-C stops everything. Needs root (chronyd).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=$PWD/demo/run
mkdir -p "$RUN"
sed "s|@RUN@|$RUN|g" demo/vettime.conf > "$RUN/vettime.conf"

pids=()
stop_all() { kill "${pids[@]}" 2>/dev/null || true; }
trap stop_all EXIT

start_chronyd() { # name port faketime-spec
  cat > "$RUN/$1.conf" <<CONF
port $2
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 1
cmdport 0
pidfile $RUN/$1.pid
driftfile $RUN/$1.drift
CONF
  if [[ -n "$3" ]]; then
    faketime -f "$3" chronyd -x -d -u root -f "$RUN/$1.conf" > "$RUN/$1.log" 2>&1 &
  else
    chronyd -x -d -u root -f "$RUN/$1.conf" > "$RUN/$1.log" 2>&1 &
  fi
  pids+=($!)
}
start_chronyd gps 11123 ""
start_chronyd galileo 11124 ""
start_chronyd dcf77 11125 "+1"

cat <<MSG
vettime demo
  stratum-1 servers: chronyd on 127.0.0.1:11123 (GPS), :11124 (GAL),
                     :11125 (DCF, 1 s ahead under faketime)
  configuration:     $RUN/vettime.conf
  history database:  $RUN/history.db
Look at it from another terminal:
  ./vettime -c $RUN/vettime.conf sources
  ./vettime -c $RUN/vettime.conf status
  sqlite3 $RUN/history.db 'SELECT * FROM samples ORDER BY id DESC LIMIT 5'
Ctrl-C stops the demo.

MSG
./vettimed -c "$RUN/vettime.conf"
