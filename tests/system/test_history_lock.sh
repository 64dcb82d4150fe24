# System test (issue 13, item 4): a locked database loses nothing. Another
# process holds BEGIN EXCLUSIVE on the history for 20 s while vettimed
# starts against three simulated servers that the database has never seen,
# and again for 12 s while it runs, during which one server's refid (so its
# class) changes. Afterwards: every valid sample the daemon took is stored
# (per source, the stored count equals the probe's `valid` counter, with no
# gap beyond one poll), the loss counter is 0, the rounds kept their
# one-second pace (no gap between two vote rows of 1.5 s or more), the
# class change is recorded, and the lock was logged a few times, not once
# per sample. Before the fix: 32, 26 and 32 of 47 valid samples stored
# (the first lock's samples dropped, and the refid change's source missing
# for the rest of the second lock: a 6.8 s hole), 58 log lines about the
# lock, a round gap of 1.52 s, no counter. After: 51 of 51 each, gaps of
# 1.0 s, 4 lines, history_dropped 0.
. "$(dirname "$0")/lib.sh"

HTTP=$(free_port); BASE=$(free_ports 3)
cat > "$T/lock.scn" <<'SCN'
name history-lock
duration 120
seed 5
poll 0 0
server gps1 refid GPS jitter 20us
server gal1 refid GAL jitter 20us offset 30us
server dcf1 refid DCF jitter 200us offset 100us
at 38 gal1 refid GPS
SCN
DB=$T/history.db
"$VETTIME" simulate "$T/lock.scn" --port-base "$BASE" --config "$T/servers.conf" \
  --ready "$T/ready" > "$T/simulate.log" 2>&1 &
SIM=$!
PIDS+=($SIM)
SIM_START=$(date +%s.%N)
check "simulator ready" wait_for 10 test -e "$T/ready"

# A history that exists (WAL, schema applied) but knows none of the three
# servers: a first run polls a port where nothing answers.
DEAD=$(free_port)
printf 'server 127.0.0.1 port %s minpoll 0 maxpoll 0\ndatabase %s\nhttp 127.0.0.1 port %s\n' \
  "$DEAD" "$DB" "$HTTP" > "$T/first.conf"
start_vettimed "$T/first.conf"
kill -TERM "$VETTIMED_PID"; wait "$VETTIMED_PID" 2>/dev/null
check "the first run made a history" test "$(sqlite3 "$DB" 'PRAGMA journal_mode')" = wal

# hold_lock SECONDS READY_FILE [START_AT]: BEGIN EXCLUSIVE from another
# process (Python's sqlite3), from the Unix time START_AT (or now).
hold_lock() {
  python3 - "$DB" "$1" "$2" "${3:-0}" <<'PY' &
import sqlite3, sys, time
db, hold, ready, start = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
while time.time() < start:
    time.sleep(0.05)
c = sqlite3.connect(db, isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
open(ready, "w").write("%.3f\n" % time.time())
time.sleep(hold)
c.execute("ROLLBACK")
c.close()
PY
  PIDS+=($!)
}

hold_lock 20 "$T/lock1"
check "the first lock is held" wait_for 10 test -e "$T/lock1"
{ cat "$T/servers.conf"; printf 'database %s\nhttp 127.0.0.1 port %s\n' "$DB" "$HTTP"; } > "$T/vettime.conf"
start_vettimed "$T/vettime.conf"
check "vettimed started under the lock" kill -0 "$VETTIMED_PID"
# The second lock from simulator time 32 s to 44 s; gal1's refid changes
# at 38 s, in the middle of it.
hold_lock 12 "$T/lock2" "$(python3 -c "print($SIM_START + 32)")"
check "the second lock is held" wait_for 60 test -e "$T/lock2"
sleep 6
"$VETTIME" -u "http://127.0.0.1:$HTTP" status --json > "$T/status-locked.json"
"$VETTIME" -u "http://127.0.0.1:$HTTP" status > "$T/status-locked.txt"
check "during the lock the API shows the samples waiting, none lost" json_check \
  "$T/status-locked.json" "d.get('history_buffered', 0) >= 10 and d.get('history_dropped') == 0"
check "and so does vettime status" grep -q "^History lost:    0 ([0-9]* samples waiting for a write)" \
  "$T/status-locked.txt"
sleep 14
# The servers stop: nothing more is sampled; two rounds later the counters
# are final.
kill "$SIM"; wait "$SIM" 2>/dev/null
sleep 3
"$VETTIME" -u "http://127.0.0.1:$HTTP" sources --json > "$T/sources.json"
"$VETTIME" -u "http://127.0.0.1:$HTTP" status --json > "$T/status.json"
kill -TERM "$VETTIMED_PID"; wait "$VETTIMED_PID" 2>/dev/null
check "vettimed stopped cleanly" grep -q "vettimed stopped" "$T/vettimed.log"

check "the daemon counts no lost sample" json_check "$T/status.json" \
  "d.get('history_dropped') == 0 and d.get('history_buffered') == 0"
check "the locked flushes were counted as errors" json_check "$T/status.json" \
  "d['history_errors'] >= 25"

# Every valid sample is stored, without a hole, for every source.
python3 - "$T/sources.json" "$DB" > "$T/compare.txt" <<'PY'
import json, sqlite3, sys
srcs = json.load(open(sys.argv[1]))["sources"]
db = sqlite3.connect(sys.argv[2])
bad = 0
for s in srcs:
    rows = [r[0] for r in db.execute(
        "SELECT rx_time_ns FROM samples JOIN sources o ON o.id = source_id"
        " WHERE o.name = ? ORDER BY rx_time_ns", (s["name"],))]
    gap = max((b - a) / 1e9 for a, b in zip(rows, rows[1:])) if len(rows) > 1 else 0
    valid = s["counters"]["valid"]
    ok = valid > 40 and len(rows) == valid and gap < 2.5
    bad += not ok
    print("%s valid %d stored %d largest gap %.2f s %s" % (s["name"], valid, len(rows), gap,
          "ok" if ok else "BAD"))
sys.exit(1 if bad else 0)
PY
rc=$?
cat "$T/compare.txt"
check "every valid sample is stored, no gap beyond one poll" test $rc -eq 0

# The refid change during the second lock reached the sources table.
GAL1=127.0.0.1:$((BASE + 1))
check "gal1's new class (GPS) is stored" test \
  "$(sqlite3 "$DB" "SELECT class FROM sources WHERE name = '$GAL1'")" = GPS

# The rounds kept their pace through both locks: one vote row a second.
gap=$(sqlite3 "$DB" "SELECT max(d) FROM (SELECT (time_ns - lag(time_ns) OVER (ORDER BY time_ns)) / 1e9 AS d FROM votes)")
rounds=$(sqlite3 "$DB" "SELECT count(*) FROM votes")
echo "rounds stored: $rounds, largest gap between rounds: $gap s"
check "rounds stored through the locks" test "$rounds" -ge 40
check "no round gap of 1.5 s or more" python3 -c "import sys; sys.exit(0 if $gap < 1.5 else 1)"

locklines=$(grep -ci "locked" "$T/vettimed.log")
echo "log lines about the lock: $locklines"
grep -i "locked" "$T/vettimed.log" | head -8
check "the lock is logged a few times, not per sample or round" test "$locklines" -le 4
check "the end of each lock is logged with its counts" test \
  "$(grep -c "writing again after" "$T/vettimed.log")" -eq 2
summary
