# System test: vettimed polls three real chronyd servers on loopback, one
# true, one under `faketime -f '+1'` and one under `faketime -f '+5y'`, and
# must measure offsets near 0 s, 1 s and 157680000 s (5 x 365 days) with
# error bounds, stratum and refid, in the API and in the history database.
. "$(dirname "$0")/lib.sh"

P_GOOD=$(free_port); P_ONE=$(free_port); P_FIVE=$(free_port); P_HTTP=$(free_port)
start_chronyd good "$P_GOOD" ""
start_chronyd plus1s "$P_ONE" "+1"
start_chronyd plus5y "$P_FIVE" "+5y"
for p in "$P_GOOD" "$P_ONE" "$P_FIVE"; do
  check "chronyd on port $p answers" wait_for 10 ntp_answers "$p"
done

cat > "$T/vettime.conf" <<CONF
# three stratum-1 servers; polled every 1-2 s so the test is short
server 127.0.0.1 port $P_GOOD minpoll 0 maxpoll 1 iburst class GPS
server 127.0.0.1 port $P_ONE minpoll 0 maxpoll 1 iburst class GAL
server 127.0.0.1 port $P_FIVE minpoll 0 maxpoll 1 iburst
database $T/history.db
http 127.0.0.1 port $P_HTTP
log debug
CONF

check "vettimed -t accepts the configuration" "$VETTIMED" -t -c "$T/vettime.conf"
check "vettimed starts and its API answers" start_vettimed "$T/vettime.conf"

# Wait until every source has at least 4 valid samples.
enough_samples() {
  "$VETTIME" -c "$T/vettime.conf" sources --json > "$T/sources.json" &&
    json_check "$T/sources.json" 'len(d["sources"]) == 3 and all(s["counters"]["valid"] >= 4 for s in d["sources"])'
}
check "all three sources have 4 valid samples within 20 s" wait_for 20 enough_samples
"$VETTIME" -c "$T/vettime.conf" sources --json > "$T/sources.json"
"$VETTIME" -c "$T/vettime.conf" sources > "$T/sources.txt"
cat "$T/sources.txt"

src="d['sources']"
check "true server: offset near 0 s" json_check "$T/sources.json" "abs($src[0]['offset']) < 0.05"
check "+1 s server: offset near 1 s" json_check "$T/sources.json" "abs($src[1]['offset'] - 1) < 0.05"
check "+5y server: offset near 157680000 s" json_check "$T/sources.json" "abs($src[2]['offset'] - 157680000) < 0.05"
check "every source has an error bound in (0, 0.1) s" json_check "$T/sources.json" \
  "all(0 < s['error_bound'] < 0.1 for s in $src)"
check "every source reports stratum 1 and chrony's local refid" json_check "$T/sources.json" \
  "all(s['stratum'] == 1 and s['refid'] == '127.127.1.1' for s in $src)"
check "classes: configured GPS and GAL, inferred LOCL from the refid" json_check "$T/sources.json" \
  "[s['class'] for s in $src] == ['GPS', 'GAL', 'LOCL']"
check "reach register and state" json_check "$T/sources.json" \
  "all(s['reach'] > 0 and s['state'] == 'ok' for s in $src)"
check "table lists the +5y server's offset" grep -q "+157680000" "$T/sources.txt"

"$VETTIME" -c "$T/vettime.conf" status --json > "$T/status.json"
check "status: 3 sources, 3 reachable" json_check "$T/status.json" \
  "d['sources'] == 3 and d['reachable'] == 3 and d['with_sample'] == 3"

# SIGTERM flushes the history: everything counted as valid is in the database.
kill -TERM "$VETTIMED_PID"
check "vettimed exits 0 on SIGTERM" wait "$VETTIMED_PID"
q() { sqlite3 "$T/history.db" "$1"; }
valid=$(python3 -c "import json;print(sum(s['counters']['valid'] for s in json.load(open('$T/sources.json'))['sources']))")
stored=$(q "SELECT count(*) FROM samples")
echo "valid samples seen before SIGTERM: $valid, stored after: $stored"
check "history holds at least every sample seen before SIGTERM" test "$stored" -ge "$valid"
last_offset() { q "SELECT s.offset FROM samples s JOIN sources o ON o.id = s.source_id WHERE o.name = '127.0.0.1:$1' ORDER BY rx_time_ns DESC LIMIT 1"; }
near() { python3 -c "import sys; sys.exit(0 if abs(float('$1') - $2) < $3 else 1)"; }
check "database: true server offset near 0" near "$(last_offset "$P_GOOD")" 0 0.05
check "database: +1 s server offset near 1 s" near "$(last_offset "$P_ONE")" 1 0.05
check "database: +5y server offset near 157680000 s" near "$(last_offset "$P_FIVE")" 157680000 0.05
check "database: error bounds, stratum and refid stored" test \
  "$(q "SELECT count(*) FROM samples WHERE error_bound > 0 AND error_bound < 0.1 AND stratum = 1 AND refid = 2139029761")" -eq "$stored"
check "vettimed logged its start and stop" grep -q "vettimed stopped" "$T/vettimed.log"

summary
