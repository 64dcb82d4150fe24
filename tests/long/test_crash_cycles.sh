# Long test (`make test-long`): crash safety at scale (issue 13). vettimed
# polls four `vettime simulate` servers whose DCF77 server steps 0.5 s
# away and back every 15 s, so alarms are raised and cleared all the time
# and their notifications go to a syslog collector over TCP; the daemon is
# killed with SIGKILL CYCLES times (default 100) at a random moment 1.5 to
# 5 s after each start (in polling, in a round's flush, raising or clearing
# an alarm, delivering a notification, or still starting) and restarted at
# once. After each kill, before the restart:
#   - PRAGMA integrity_check is "ok";
#   - what is committed is noted (samples, alarms, outbox rows).
# At the end a last run drains the outbox and stops with SIGTERM; then:
#   - everything noted after any kill is still there, unchanged (an alarm's
#     clear may only have been added; a sent notification stays sent);
#   - samples are contiguous per source: a gap longer than GAP_NORMAL s
#     spans a kill, and is no longer than that kill's restart window plus
#     WINDOW_SLACK s (what the last round had not flushed and the first
#     poll of the next start);
#   - alarm ids are unique, each alarm has its raise notification and each
#     cleared alarm its clear (same transaction);
#   - no notification is lost: every outbox row is sent (and was received,
#     by its seq) or still pending; nothing received is unknown to the
#     outbox; the same seq received twice is the same notification.
# Prints the figures (kills, restart window, gaps, rows, duplicates).
# CYCLES=10 bash tests/long/test_crash_cycles.sh for a short run.
. "$(dirname "$0")/../system/lib.sh"
CYCLES=${CYCLES:-100}
GAP_NORMAL=${GAP_NORMAL:-5}
WINDOW_SLACK=${WINDOW_SLACK:-8}
AL=$TOP/tests/system/alerting
D=$T
t_start=$SECONDS

# The scenario: long enough for every cycle; dcf1 is 0.5 s off from 5 to
# 11 s of every 15.
python3 - "$CYCLES" > "$D/crash.scn" <<'PY'
import sys
n = int(sys.argv[1])
dur = max(300, int(n * 6 + 200))
print("name crash-cycles\nduration %d\nseed 13\npoll 0 1" % dur)
print("server gps1 refid GPS jitter 20us\nserver gal1 refid GAL jitter 20us offset 30us")
print("server gps2 refid GPS jitter 20us offset -10us")
print("server dcf1 refid DCF jitter 200us")
for k in range(min(dur // 15, 500)):
    print("at %d dcf1 step +0.5s\nat %d dcf1 step -0.5s" % (15 * k + 5, 15 * k + 11))
PY
base=$(free_ports 6)
"$VETTIME" simulate "$D/crash.scn" --port-base "$base" --config "$D/servers.conf" \
  --ready "$D/ready" > "$D/simulate.log" 2>&1 &
PIDS+=($!)
check "simulator ready" wait_for 10 test -e "$D/ready"
http=$((base + 4)) syslog=$((base + 5))
python3 "$AL/syslog_listener.py" tcp "127.0.0.1:$syslog" "$D/received.txt" &
PIDS+=($!)
check "syslog collector listening" wait_for 10 python3 -c \
  "import socket; socket.create_connection(('127.0.0.1', $syslog), 0.5)"
{ cat "$D/servers.conf"; cat <<CONF
database $D/history.db
http 127.0.0.1 port $http
alarmclear 3
alertsite crash
alertrepeat 0
alertretry 0.5 2
heartbeat 0
alert syslog remote tcp 127.0.0.1:$syslog name sys
CONF
} > "$D/vettime.conf"

q() { sqlite3 -cmd ".timeout 5000" "$D/history.db" "$1"; }
start_daemon() {
  date +%s%N >> "$D/starts"
  "$VETTIMED" -c "$D/vettime.conf" >> "$D/vettimed.log" 2>&1 &
  DAEMON=$!
  PIDS+=($DAEMON)
}

bad_integrity=0 died=0
: > "$D/kills"; : > "$D/starts"; mkdir -p "$D/snap"
for ((i = 1; i <= CYCLES; i++)); do
  start_daemon
  sleep "$(python3 -c "import random; print(round(random.uniform(1.5, 5.0), 2))")"
  kill -0 "$DAEMON" 2>/dev/null || { died=$((died + 1)); echo "cycle $i: the daemon had exited: $(tail -n 3 "$D/vettimed.log")"; }
  date +%s%N >> "$D/kills"
  kill -9 "$DAEMON" 2>/dev/null
  wait "$DAEMON" 2>/dev/null
  ic=$(q "PRAGMA integrity_check" 2>&1)
  if [[ $ic != ok ]]; then
    bad_integrity=$((bad_integrity + 1)); echo "cycle $i: integrity_check: $ic"
    cp "$D/history.db" "$D/corrupt-$i.db" 2>/dev/null
  fi
  q "SELECT coalesce(max(id), 0), count(*), coalesce(sum(rx_time_ns % 1000003), 0) FROM samples" > "$D/snap/samples.$i"
  q "SELECT id, kind, source_id, raised_ns, coalesce(cleared_ns, '') FROM alarms ORDER BY id" > "$D/snap/alarms.$i"
  q "SELECT id, event, coalesce(alarm_id, ''), state FROM alert_outbox ORDER BY id" > "$D/snap/outbox.$i"
  ((i % 10 == 0)) && echo "cycle $i: $(q "SELECT count(*) FROM samples") samples, $(q "SELECT count(*) FROM alarms") alarms, $(q "SELECT count(*) FROM alert_outbox") notifications ($((SECONDS - t_start)) s)"
done
check "$CYCLES SIGKILLs left $CYCLES intact databases (integrity_check ok)" test "$bad_integrity" -eq 0
check "the daemon was running at every kill" test "$died" -eq 0

# The last run: the outbox drains, then a clean stop.
start_daemon
check "the last start answers" wait_for 20 "$VETTIME" -c "$D/vettime.conf" status
sleep 3
check "the outbox drains" wait_for 60 bash -c \
  "[[ \$(sqlite3 -cmd '.timeout 5000' '$D/history.db' \"SELECT count(*) FROM alert_outbox WHERE state = 'pending'\") == 0 ]]"
"$VETTIME" -c "$D/vettime.conf" alert status --json > "$D/alert.json"
kill -TERM "$DAEMON"; wait "$DAEMON"; rc=$?
check "the last run stops cleanly on SIGTERM" test "$rc" -eq 0
sleep 1 # the collector writes what it has
check "integrity_check ok at the end" test "$(q 'PRAGMA integrity_check')" = ok

python3 "$TOP/tests/long/crash_verdict.py" "$D" "$GAP_NORMAL" "$WINDOW_SLACK" > "$D/verdict.txt"
rc=$?
cat "$D/verdict.txt"
check "after $CYCLES kills: nothing committed lost, samples contiguous, alarms and notifications whole" test "$rc" -eq 0
check "alarms were raised and cleared during the cycles" \
  test "$(q "SELECT count(*) FROM alarms WHERE cleared_ns IS NOT NULL")" -ge $((CYCLES / 10))
check "notifications were delivered during the cycles" \
  test "$(q "SELECT count(*) FROM alert_outbox WHERE state = 'sent'")" -ge $((CYCLES / 10))
echo "took $((SECONDS - t_start)) s"
summary
