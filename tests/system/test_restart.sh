# System test: an alarm survives a crash. vettimed raises a falseticker
# alarm against `vettime simulate`, is killed with SIGKILL, and restarts: the
# alarm is still open with the same id, it is not raised a second time, and
# the samples of the first run are in the history.
. "$(dirname "$0")/lib.sh"

HTTP=$(free_port); BASE=$(free_ports 3)
"$VETTIME" simulate "$TOP/tests/scenarios/one-of-three-falseticker.scn" --port-base "$BASE" \
  --config "$T/servers.conf" --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
check "simulator ready" wait_for 10 test -e "$T/ready"
{ cat "$T/servers.conf"; printf 'database %s/history.db\nhttp 127.0.0.1 port %s\n' "$T" "$HTTP"; } > "$T/vettime.conf"

"$VETTIMED" -c "$T/vettime.conf" > "$T/run1.log" 2>&1 &
first=$!
PIDS+=($first)
check "first run raises the falseticker alarm" wait_for 20 grep -q "alarm 1 raised: critical falseticker 127.0.0.1:$((BASE + 2)) (DCF)" "$T/run1.log"
sleep 1.5 # one more round: the alarm row is flushed with its round
kill -9 "$first"
wait "$first" 2>/dev/null
samples1=$(sqlite3 "$T/history.db" "SELECT count(*) FROM samples")
check "the first run's samples are in the history" test "$samples1" -gt 0
check "the alarm row is open in the history" test \
  "$(sqlite3 "$T/history.db" "SELECT count(*) FROM alarms WHERE id = 1 AND cleared_ns IS NULL")" -eq 1

"$VETTIMED" -c "$T/vettime.conf" > "$T/run2.log" 2>&1 &
PIDS+=($!)
check "second run restores alarm 1" wait_for 10 grep -q "alarm 1 (falseticker 127.0.0.1:$((BASE + 2))) is still open from the previous run" "$T/run2.log"
sleep 6
"$VETTIME" -u "http://127.0.0.1:$HTTP" alarms --json > "$T/alarms.json"
check "alarm 1 is active after the restart" json_check "$T/alarms.json" \
  "any(a['id'] == 1 and a['active'] and a['kind'] == 'falseticker' for a in d['alarms'])"
check "and not raised a second time" bash -c "! grep -q 'raised: critical falseticker' '$T/run2.log'"
check "history kept the first run's samples" test "$(sqlite3 "$T/history.db" "SELECT count(*) FROM samples")" -gt "$samples1"
summary
