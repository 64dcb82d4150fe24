# System test of `vettime report` and `vettime check` on a history this
# test builds: the real vettimed against `vettime simulate` (three fake
# stratum-1 servers on loopback, one of which steps by 0.5 s at t=15 and
# so becomes a falseticker with a critical alarm; at t=22 all three fall
# silent, the vote is lost and the clock model goes into holdover), about
# 45 s in all.
#
# check: against the running daemon, exit 0, 1 and 2 with thresholds in
# the monitoring-plugins range syntax (an '@' inversion among them), and
# 3 once the daemon is stopped and for a malformed range; with -d, the
# same from the history.
# report: its figures against the same figures computed here
# independently from the SQLite file with python3's sqlite3 (a source's
# availability and median offset, the vetted rounds, the alarms), --json
# parses and has those numbers, --html is self-contained and has its SVG
# charts, exit 2 for the period with the critical alarm, 0 for the quiet
# period before the fault, and the exit table's codes (README.md "Exit
# status") for a bad period (64), a missing database (66) and a file that
# is not a history (65).
. "$(dirname "$0")/lib.sh"

cat > "$T/fault.scn" <<'SCN'
name report-check
duration 120
seed 3
poll 0 1
server gps1 refid GPS jitter 20us
server gal1 refid GAL jitter 20us offset 10us
server dcf1 refid DCF jitter 100us
at 15 dcf1 step +0.5s
at 22 gps1 silent
at 22 gal1 silent
at 22 dcf1 silent
SCN
BASE=$(free_ports 3)
HTTP=$(free_port)
START=$(date +%s.%N)
"$VETTIME" simulate "$T/fault.scn" --port-base "$BASE" --config "$T/servers.conf" \
  --ready "$T/ready" > "$T/sim.log" 2>&1 &
PIDS+=($!)
SIM=$!
check "the simulator is ready within 5 s" wait_for 5 test -s "$T/ready"
{ cat "$T/servers.conf"; printf 'database %s/history.db\nhttp 127.0.0.1 port %s\n' "$T" "$HTTP"; } > "$T/vettime.conf"
CONF=$T/vettime.conf
check "vettimed answers within 10 s" start_vettimed "$CONF"
GPS1=127.0.0.1:$BASE DCF1=127.0.0.1:$((BASE + 2))

# ---- vettime check against the running daemon --------------------------
# chk NAME EXPECTED_EXIT ARGS...: runs the check, keeps its line in $T/NAME.
chk() {
  local name=$1 want=$2; shift 2
  "$VETTIME" -c "$CONF" check "$@" > "$T/$name.out" 2>&1
  local rc=$?
  [[ $rc -eq $want ]] || { echo "exit $rc, expected $want: $(cat "$T/$name.out")"; return 1; }
}
vetted() { "$VETTIME" -c "$CONF" vote --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["vetted"] else 1)'; }
check "the vote is vetted within 15 s" wait_for 15 vetted
QUIET_END=$(date +%s.%N) # before t=15: no fault yet
check "check: OK (0) before the fault, all thresholds met" \
  chk ok0 0 -w 10ms -c 100ms --sources-warn 3: --sources-crit 2: --classes-crit 2: --alarms-crit 0
check "check: the OK line and its perfdata" grep -qE \
  '^VETTIME OK - vetted, offset [-+][0-9.]+(ns|us|ms) bound [0-9.]+(ns|us|ms), 3/3 sources, 3/3 classes, 0 alarms [|] offset=-?[0-9.]+s;0.01;0.1;; bound=[0-9.]+s;;;0; sources=3;3:;2:;0;3 classes=3;;2:;0;3 alarms=0;;0;0;$' "$T/ok0.out"
cat "$T/ok0.out"

active_critical() {
  "$VETTIME" -c "$CONF" alarms --json | python3 -c '
import json, sys
sys.exit(0 if any(a["active"] and a["severity"] == "critical" for a in json.load(sys.stdin)["alarms"]) else 1)'
}
check "the step at t=15 raises a critical alarm within 25 s" wait_for 25 active_critical
check "check: OK (0) with loose thresholds and an @ range that does not hit" \
  chk ok1 0 -w 10ms -c 100ms --sources-crit @0:1
check "check: WARNING (1): agreeing sources 2 below --sources-warn 3:" \
  chk warn 1 --sources-warn 3: --sources-crit 2:
check "check: the WARNING line names the threshold" grep -q \
  '^VETTIME WARNING - sources 2 (--sources-warn 3:); vetted, .*, 2/3 sources, 2/3 classes, [0-9]* alarms\? ([0-9]* critical) | .* sources=2;3:;2:;0;3 ' "$T/warn.out"
check "check: CRITICAL (2): @0:2 inverted, alert inside" \
  chk crit 2 --sources-warn 3: --sources-crit @0:2
check "check: the CRITICAL line" grep -q '^VETTIME CRITICAL - sources 2 (--sources-crit @0:2);' "$T/crit.out"
check "check: CRITICAL (2): an open alarm against --alarms-crit 0" chk alarm 2 --alarms-crit 0
check "check -d (the history, not the API): CRITICAL (2) with @0:2" \
  chk dbcrit 2 -d "$T/history.db" --sources-crit @0:2
check "check -d: OK (0) with @0:1" chk dbok 0 -d "$T/history.db" --sources-crit @0:1
check "check -d: the same line as through the API" grep -q \
  '^VETTIME CRITICAL - sources 2 (--sources-crit @0:2); vetted, .*, 2/3 sources, 2/3 classes' "$T/dbcrit.out"
check "check: WARNING (1): |offset| against -w 1ns" chk offw 1 -w 1ns -c 1s
check "check: UNKNOWN (3): a malformed range, with the reason" chk badrange 3 -w 10:5
check "check: ... the reason" grep -qF \
  'VETTIME UNKNOWN - --offset-warn: bad range "10:5": the start 10 is above the end 5' "$T/badrange.out"
cat "$T/warn.out" "$T/crit.out"

holdover() { grep -q 'event holdover system' "$T/vettimed.log"; }
check "all silent at t=22: holdover within 35 s (the samples age out first)" wait_for 35 holdover
check "check: CRITICAL (2) when not vetted" chk nv 2
check "check: ... says why, offset and bound undetermined (U)" grep -q \
  '^VETTIME CRITICAL - not vetted: .* | offset=U;;;; bound=U;;;0; sources=0;;;0;3 ' "$T/nv.out"
check "check: WARNING (1) when not vetted with --not-vetted warning" chk nvw 1 --not-vetted warning
cat "$T/nv.out"
sleep 2
END=$(date +%s.%N)
kill "$SIM" "$VETTIMED_PID"
check "vettimed stops within 5 s" wait_for 5 eval "! kill -0 $VETTIMED_PID"
check "check: UNKNOWN (3) when the daemon is down" chk down 3 -w 1ms
check "check: ... and why" grep -q '^VETTIME UNKNOWN - cannot reach vettimed at http://127.0.0.1:'"$HTTP"': Connection refused' "$T/down.out"
cat "$T/down.out"

# ---- vettime report --------------------------------------------------------
DB=$T/history.db
"$VETTIME" -c "$CONF" report --from "$START" --to "$END" > "$T/report.txt" 2> "$T/report.err"
check "report: exit 2 for the period with the critical alarm" test $? -eq 2
cat "$T/report.txt"
"$VETTIME" -c "$CONF" report --from "$START" --to "$END" --json > "$T/report.json"
check "report --json: exit 2" test $? -eq 2
"$VETTIME" report -d "$DB" --from "$START" --to "$END" --html > "$T/report.html"
check "report --html: exit 2" test $? -eq 2
"$VETTIME" report -d "$DB" --from "$START" --to "$QUIET_END" > "$T/quiet.txt"
check "report: exit 0 for the quiet period before the fault" test $? -eq 0
check "report: the quiet period says OK" grep -q '^OK: no critical alarm in the period$' "$T/quiet.txt"
"$VETTIME" report -d "$DB" --since 2h > /dev/null
check "report --since 2h: exit 2 (it holds the alarm)" test $? -eq 2

# The same figures, computed here from the SQLite file.
python3 - "$DB" "$START" "$END" "$GPS1" "$DCF1" > "$T/expected.json" <<'PY'
import json, math, sqlite3, statistics, sys
db = sqlite3.connect(sys.argv[1])
f, t = round(float(sys.argv[2]) * 1e9), round(float(sys.argv[3]) * 1e9)
rounds = [r for r in db.execute("SELECT time_ns, vetted FROM votes WHERE time_ns BETWEEN ? AND ? ORDER BY time_ns, id", (f, t))]
def source(name):
    sid, first = db.execute("SELECT id, first_seen_ns FROM sources WHERE name = ?", (name,)).fetchone()
    rows = db.execute("SELECT rx_time_ns, offset, coalesce(poll, 0) FROM samples WHERE source_id = ?"
                      " AND rx_time_ns BETWEEN ? AND ? ORDER BY rx_time_ns, id", (sid, f - 2100 * 10**9, t)).fetchall()
    # availability: rounds whose newest sample is at most 2 polls + 1 s old
    n = fresh = j = 0; last = None
    for r, _ in rounds:
        while j < len(rows) and rows[j][0] <= r:
            last = rows[j]; j += 1
        if r < first: continue
        n += 1
        if last and r - last[0] <= 2 * (10**9 << max(0, min(17, last[2]))) + 10**9: fresh += 1
    offs = [o for (x, o, _) in rows if f <= x <= t]
    a = sorted(abs(o) for o in offs)
    return {"samples": len(offs), "availability": fresh / n, "median": statistics.median(offs),
            "p99": a[math.ceil(0.99 * len(a)) - 1], "max": a[-1]}
# observed and not vetted time: a round stands until the next (1 s past a
# gap of more than 5 s), the last until the end of the period (at most 1 s)
not_vetted = 0
for i, (r, v) in enumerate(rounds):
    nxt = rounds[i + 1][0] if i + 1 < len(rounds) else None
    ln = (nxt - r if nxt - r <= 5 * 10**9 else 10**9) if nxt is not None else min(10**9, t - r)
    if not v: not_vetted += ln
run_end = rounds[-1][0] + min(10**9, t - rounds[-1][0])
ev = db.execute("SELECT time_ns, ended FROM events WHERE kind = 'holdover' AND time_ns BETWEEN ? AND ? ORDER BY time_ns, id", (f, t)).fetchall()
start = [x for x, e in ev if not e][0]
ended = [x for x, e in ev if e and x > start]
holdover = min(ended[0] if ended else t, run_end) - start
alarms = db.execute("SELECT count(*), sum(severity = 'critical') FROM alarms WHERE raised_ns <= ?"
                    " AND (cleared_ns IS NULL OR cleared_ns >= ?)", (t, f)).fetchone()
print(json.dumps({"gps1": source(sys.argv[4]), "dcf1": source(sys.argv[5]), "rounds": len(rounds),
                  "vetted_rounds": sum(v for _, v in rounds), "alarms": alarms[0], "critical": alarms[1],
                  "not_vetted": not_vetted / 1e9, "holdover": holdover / 1e9}))
PY
cat "$T/expected.json"; echo
# cmp EXPR: true when the expression over d (the report) and e (ours) holds.
cmp() {
  python3 - "$T/report.json" "$T/expected.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); e = json.load(open(sys.argv[2]))
src = {s["name"]: s for s in d["sources"]}
close = lambda a, b: abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
ok = eval(sys.argv[3], {"d": d, "e": e, "src": src, "close": close})
if not ok: print("false:", sys.argv[3])
sys.exit(0 if ok else 1)
PY
}
check "report --json: version 1, status critical, exit_status 2" \
  cmp 'd["report_version"] == 1 and d["status"] == "critical" and d["exit_status"] == 2'
check "report --json: the rounds and vetted rounds" \
  cmp 'd["time"]["rounds"] == e["rounds"] and d["time"]["vetted_rounds"] == e["vetted_rounds"] and e["rounds"] > 15'
check "report --json: the time not vetted (the silence)" \
  cmp 'abs(d["time"]["not_vetted"] - e["not_vetted"]) < 1e-6 and e["not_vetted"] > 1'
check "report --json: the time in holdover" \
  cmp 'abs(d["time"]["holdover"] - e["holdover"]) < 1e-6 and e["holdover"] > 1'
check "report --json: gps1's sample count" cmp "src['$GPS1']['samples'] == e['gps1']['samples']"
check "report --json: gps1's availability (rounds with a fresh sample)" \
  cmp "close(src['$GPS1']['availability'], e['gps1']['availability'])"
check "report --json: gps1's median offset" cmp "close(src['$GPS1']['offset_median'], e['gps1']['median'])"
check "report --json: gps1's p99 and max |offset|" \
  cmp "close(src['$GPS1']['offset_p99_abs'], e['gps1']['p99']) and close(src['$GPS1']['offset_max_abs'], e['gps1']['max'])"
check "report --json: dcf1's median offset (half of its samples after the step)" \
  cmp "close(src['$DCF1']['offset_median'], e['dcf1']['median'])"
check "report --json: dcf1 was a falseticker for a while, gps1 never" \
  cmp "src['$DCF1']['falseticker'] > 1 and src['$GPS1']['falseticker'] == 0"
check "report --json: dcf1 has a step" cmp "src['$DCF1']['steps'] >= 1"
check "report --json: the step is no drift (|drift| of dcf1 < 100 ppm)" cmp "abs(src['$DCF1']['drift_ppm']) < 100"
check "report --json: the number of alarms and critical ones" \
  cmp 'd["alarms"]["count"] == e["alarms"] and d["alarms"]["critical"] == e["critical"] and e["critical"] >= 1'
check "report --json: the DCF class did not agree for a while" \
  cmp '[c for c in d["classes"] if c["class"] == "DCF"][0]["availability"] < 1'
check "report text: gps1's line has its median offset" python3 - "$T/report.txt" "$T/expected.json" "$GPS1" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read(); e = json.load(open(sys.argv[2]))
m = e["gps1"]["median"]
us = "%+.3fus" % (m * 1e6) if abs(m) >= 1e-6 else "%+.0fns" % (m * 1e9)
line = [l for l in text.splitlines() if l.strip().startswith(sys.argv[3])][0]
print(line)
sys.exit(0 if us in line and ("%.2f %%" % (e["gps1"]["availability"] * 100)) in line else 1)
PY
check "report text: the alarms line counts them" \
  grep -q "^Alarms: $(python3 -c "import json; print(json.load(open('$T/expected.json'))['alarms'])") in the period" "$T/report.txt"
check "report text: CRITICAL heading" grep -q '^CRITICAL: [0-9]* critical alarms\? in the period$' "$T/report.txt"
check "report --html: a whole page" eval "head -1 '$T/report.html' | grep -q '<!DOCTYPE html>' && tail -1 '$T/report.html' | grep -q '</html>'"
check "report --html: inline SVG, one chart a source and the vetted one" \
  test "$(grep -c '<svg ' "$T/report.html")" -eq 4
check "report --html: self-contained (no http://, https://, src=, href=, script, url() but #local)" \
  eval "! grep -qiE 'http://|https://|src=|href=|<script|@import|url\\([^#]' '$T/report.html'"
check "report --html: 600 px charts" grep -q 'width="600"' "$T/report.html"
check "report --html: every chart has its line, even over a short period" \
  test "$(grep -c '<polyline' "$T/report.html")" -ge 4

"$VETTIME" report -d "$DB" --from "$END" --to "$START" > /dev/null 2> "$T/bad.err"
check "report: exit 64 (EX_USAGE) for an empty period" test $? -eq 64
check "report: ... with the reason" grep -q 'the period is empty' "$T/bad.err"
"$VETTIME" report -d "$DB" --since 24x > /dev/null 2> "$T/bad2.err"
check "report: exit 64 (EX_USAGE) for a bad --since" test $? -eq 64
check "report: ... with the reason" grep -qF 'bad --since "24x"' "$T/bad2.err"
"$VETTIME" report -d "$T/nothing.db" > /dev/null 2> "$T/nodb.err"
check "report: exit 66 (EX_NOINPUT) without a database" test $? -eq 66
check "report: ... with the reason" grep -q "no history at $T/nothing.db" "$T/nodb.err"
echo "not sqlite" > "$T/junk.db"
"$VETTIME" report -d "$T/junk.db" > /dev/null 2> "$T/junk.err"
check "report: exit 65 (EX_DATAERR) for a file that is not a history" test $? -eq 65
cat "$T/junk.err"

summary
