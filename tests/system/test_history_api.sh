# System test of the history API (issue 11): the real vettimed against
# `vettime simulate` (one of three servers a falseticker) for about 20 s;
# then /api/v1/history of a source, read raw and from the minute level,
# must match the samples in the daemon's SQLite history point by point
# (python3's sqlite3 on the same file), /api/v1/history/vetted the votes,
# /api/v1/events and /api/v1/alarms over a range the events and alarms
# rows; and every bad parameter answers 400 with a JSON reason.
. "$(dirname "$0")/lib.sh"

HTTP=$(free_port); BASE=$(free_ports 3)
"$VETTIME" simulate "$TOP/tests/scenarios/one-of-three-falseticker.scn" --port-base "$BASE" \
  --config "$T/servers.conf" --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
check "simulator ready" wait_for 10 test -e "$T/ready"
{ cat "$T/servers.conf"; printf 'database %s/history.db\nhttp 127.0.0.1 port %s\n' "$T" "$HTTP"; } > "$T/vettime.conf"
FROM=$(date +%s)
check "vettimed answers" start_vettimed "$T/vettime.conf"
check "the falseticker alarm is raised" wait_for 20 grep -q "alarm 1 raised: critical falseticker" "$T/vettimed.log"
sleep 14
# Two seconds back: every sample up to TO has been flushed by its round.
TO=$(( $(date +%s) - 2 ))
API=http://127.0.0.1:$HTTP/api/v1
GPS=127.0.0.1:$BASE

# get NAME URL: the body into $T/NAME.json, the status into $T/NAME.code.
get() { curl -s -o "$T/$1.json" -w '%{http_code}' "$2" > "$T/$1.code"; }

# matches DOC SQL_SOURCE STEP: the document's points equal the rows of the
# history grouped the same way (point = floor(t / step)): the same times,
# counts, extremes and worst bounds (the API rounds to the nanosecond),
# and the means within a nanosecond.
matches() {
  python3 - "$T/$1.json" "$T/history.db" "$2" "$3" "$FROM" "$TO" <<'PY'
import json, sqlite3, sys
doc, dbpath, source, step, frm, to = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
d = json.load(open(doc)); p = d["points"]
db = sqlite3.connect(dbpath)
origin = frm // step * step
if source == "vetted":
    rows = db.execute("SELECT time_ns, CASE WHEN vetted THEN offset END, CASE WHEN vetted THEN error END"
                      " FROM votes WHERE time_ns >= ? AND time_ns <= ?", (origin * 10**9, to * 10**9)).fetchall()
    count_key, bound_key = "rounds", "error_max"
else:
    rows = db.execute("SELECT s.rx_time_ns, s.offset, s.error_bound FROM samples s JOIN sources o"
                      " ON o.id = s.source_id WHERE o.name = ? AND s.rx_time_ns >= ? AND s.rx_time_ns <= ?",
                      (source, origin * 10**9, to * 10**9)).fetchall()
    count_key, bound_key = "count", "bound_max"
pts = {}
for t, off, b in rows:
    k = (t // 10**9 - origin) // step
    pts.setdefault(k, []).append((off, b))
want_t = [origin + k * step for k in sorted(pts)]
bad = []
if p["time"] != want_t:
    bad.append("times %s... != %s..." % (p["time"][:5], want_t[:5]))
else:
    for i, k in enumerate(sorted(pts)):
        vals = [o for o, _ in pts[k] if o is not None]; bs = [x for _, x in pts[k] if x is not None]
        if p[count_key][i] != len(pts[k]): bad.append("point %d: count %s != %d" % (i, p[count_key][i], len(pts[k])))
        if vals:
            for key, want in (("offset_min", min(vals)), ("offset_max", max(vals)), (bound_key, max(bs)),
                              ("offset_mean", sum(vals) / len(vals))):
                if p[key][i] is None or abs(p[key][i] - want) > 1.01e-9:
                    bad.append("point %d: %s %s != %.12g" % (i, key, p[key][i], want))
        elif p["offset_mean"][i] is not None:
            bad.append("point %d: a mean without a vetted round" % i)
print("%s: %d points, %d rows, resolution %s, step %s" % (source, len(p["time"]), len(rows), d["resolution"], d["step"]))
for b in bad[:10]: print(b)
sys.exit(0 if rows and not bad else 1)
PY
}

get raw5 "$API/history?source=$GPS&from=$FROM&to=$TO&step=5"
check "history of a source, raw, step 5 s: 200" test "$(cat "$T/raw5.code")" = 200
check "  it says raw and step 5" json_check "$T/raw5.json" "d['resolution'] == 'raw' and d['step'] == 5 and d['source'] == '$GPS'"
check "  its points match the samples in SQLite" matches raw5 "$GPS" 5
get min "$API/history?source=$GPS&from=$FROM&to=$TO&step=60"
check "history at step 60 s (minute roll-ups and the open bucket's raw rows) matches" matches min "$GPS" 60
check "  it says minute" json_check "$T/min.json" "d['resolution'] == 'minute'"
get dcf "$API/history?source=127.0.0.1:$((BASE + 2))&from=$FROM&to=$TO&step=10"
check "the falseticker's history shows its +0.5 s" json_check "$T/dcf.json" "all(abs(x - 0.5) < 0.01 for x in d['points']['offset_mean'])"
check "  and matches the samples in SQLite" matches dcf "127.0.0.1:$((BASE + 2))" 10
get auto "$API/history?source=$GPS&from=$FROM&to=$TO"
check "without step: the automatic step (1 s over this range)" json_check "$T/auto.json" "d['step'] == 1 and len(d['points']['time']) > 5"
check "  and its points match" matches auto "$GPS" 1
get vet "$API/history/vetted?from=$FROM&to=$TO&step=5"
check "vetted series matches the votes (rounds, offsets, error)" matches vet vetted 5
check "  vetted throughout with 2 of 3 agreeing after the start" json_check "$T/vet.json" \
  "d['points']['vetted'][-1] == d['points']['rounds'][-1] and d['points']['agreeing_min'][-1] == 2"
get rfc "$API/history?source=$GPS&from=$(date -u -d @"$FROM" +%Y-%m-%dT%H:%M:%SZ)&to=$TO&step=5"
check "RFC 3339 from gives the same points as Unix seconds" \
  python3 -c "import json,sys; a=json.load(open('$T/raw5.json')); b=json.load(open('$T/rfc.json')); sys.exit(a['points'] != b['points'])"

get ev "$API/events?from=$FROM&to=$TO"
check "events over a range: those of the events table" python3 - "$T/ev.json" "$T/history.db" "$FROM" "$TO" <<'PY'
import json, sqlite3, sys
d = json.load(open(sys.argv[1])); db = sqlite3.connect(sys.argv[2])
n = db.execute("SELECT count(*) FROM events WHERE time_ns BETWEEN ? AND ?", (int(sys.argv[3]) * 10**9, int(sys.argv[4]) * 10**9)).fetchone()[0]
print("events: api %d, sqlite %d, truncated %s" % (len(d["events"]), n, d["truncated"]))
sys.exit(0 if n > 0 and len(d["events"]) == n and d["truncated"] is False else 1)
PY
get al "$API/alarms?from=$FROM"
check "alarms over a range: the falseticker alarm, active" json_check "$T/al.json" \
  "any(a['id'] == 1 and a['kind'] == 'falseticker' and a['active'] for a in d['alarms']) and 'truncated' in d"
get recent "$API/events"
check "events without a range: the daemon's recent list as before" json_check "$T/recent.json" "'events' in d and 'truncated' not in d"

# bad NAME QUERY REASON: 400 and {"error": "...REASON..."}.
bad() {
  get bad "$API/$2"
  check "400 for $1" bash -c "test \"\$(cat '$T/bad.code')\" = 400 && python3 -c \"import json,sys; e=json.load(open('$T/bad.json'))['error']; print(e); sys.exit('''$3''' not in e)\""
}
bad "an unknown source" "history?source=nope.example" "unknown source"
bad "a missing source" "history?from=$FROM" "missing source"
bad "from after to" "history?source=$GPS&from=$TO&to=$FROM" "from is after to"
bad "a time that is no number" "history?source=$GPS&from=yesterday" "neither Unix seconds nor an RFC 3339"
bad "step 0" "history?source=$GPS&step=0" "positive whole number"
bad "a negative step" "history?source=$GPS&step=-60" "positive whole number"
bad "a step that is no number" "history?source=$GPS&step=abc" "positive whole number"
bad "too many points" "history?source=$GPS&from=$((TO - 3 * 86400))&to=$TO&step=60" "too many points"
bad "raw over more than 6 h" "history?source=$GPS&from=$((TO - 86400))&to=$TO&step=50" "reads raw samples"
bad "a range too long" "history/vetted?from=0&to=$TO" "range too long"
bad "a bad time in events" "events?from=1.2.3" "from:"
bad "from after to in alarms" "alarms?from=$TO&to=$FROM" "from is after to"
get nf "$API/history/127.0.0.1"
check "404 for a path under history" test "$(cat "$T/nf.code")" = 404
summary
