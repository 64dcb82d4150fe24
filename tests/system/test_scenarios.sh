# Scenario suite: the real vettimed against `vettime simulate` (fake
# stratum-1 servers on loopback with scripted faults), one scenario per
# tests/scenarios/*.scn, all run side by side. Each asserts the vote's
# verdict, the events, and the exact start of the alarm lines in the
# daemon's log ("alarm N raised: SEVERITY KIND SOURCE (CLASS): ..."), and,
# round by round from the votes table of its history, that the vetted
# offset is right: the simulator serves the local clock plus its scripted
# offset, so the true offset (true time minus local clock) is 0, and every
# vetted round must have |offset| <= error (the truth inside the bound) and
# |offset| <= the scenario's tolerance below.
#
# SCENARIOS="walk-fast clean-five" bash tests/system/test_scenarios.sh
# runs only those (default: every row of the table). The longest row
# (walk-slow, 300 s) sets the wall time, about 5.5 minutes:
# run.sh timeout: 600
# (Not run beside the other tests: two of its per-round accuracy checks
# failed in one CI run while it shared the two cores with them.)
. "$(dirname "$0")/lib.sh"
SCN=$TOP/tests/scenarios

# One row per scenario: how long it runs (s; the simulator is stopped then),
# the per-round tolerance of the vetted offset around the truth 0 (us), the
# fewest vetted rounds that count as a run (an empty table must not pass),
# and why that tolerance. sigma_c is the noise of the honest sources
# combined by precision, (sum 1/jitter^2)^-1/2, over the fewest honest
# sources the scenario leaves; the tolerance is ~3 sigma_c plus any scripted
# honest bias, rounded up (50 us where issue 8 states it).
TABLE='
one-of-three-falseticker  25  60 15  gps1 0 and gal1 +30us at 20us: sigma_c 14us, 3 sigma 42 + 15us mean bias
two-of-five               25  50 15  gps1-3 at 0/+20/-20us, 20us: sigma_c 12us, 3 sigma 35 + up to 15us of their spread
three-of-five             45  50  0  no majority, nothing may be vetted; were a round vetted, gps1+gps2 20us: 42us
dcf-outvoted              25  50 15  gps1 and gal1 at 20us: sigma_c 14us, 3 sigma 42us
five-year-jump            55  60 35  after t=20 gal1 20us and dcf1 200us: sigma_c 20us, 3 sigma 60us
step-1ms                  58 110 38  after t=20 gal1 and dcf1 at 50us: sigma_c 35us, 3 sigma 106us
slow-walk                115  50 80  issue 8: within 50us throughout (gps1 and dcf1 20us: 3 sigma 42us)
silent                    45  50 30  after t=15 gps1 and dcf1 at 20us: sigma_c 14us, 3 sigma 42us
local-oscillator          55  50 35  issue 8: within 50us throughout (gal1 and dcf1 20us: 3 sigma 42us)
kod-leap                  35  60 20  gps1 0, gal2 -10us at 20us, dcf1 200us: sigma_c 14us, 3 sigma 42 + 10us bias
walk-fast                230  50 150 issue 8: within 50us throughout (the walk starts at t=90)
walk-slow                300  50 220 issue 8: within 50us throughout (out of the estimate about 200 s after its walk starts at t=60; the full 900 s run is in make bench)
clean-five               180  80 120 header: +-40us holds 5-95 % (1.645 sigma, sigma <= 24us); 3.3 sigma of that
majority-step            110  90 20  before t=30 (checked only then) three at 50us: sigma_c 29us, 3 sigma 87us
'
# Rounds from this time on (s since the simulator started) are left out of
# the per-round truth checks: only where the liars are the majority (the
# truth cannot be inside the bound once they moved; their own checks below).
declare -A EXCLUDE_FROM=([majority-step]=30)

declare -A RUN TOL MINV
ORDER=()
while read -r name run tol minv _; do
  [[ -n "$name" ]] || continue
  RUN[$name]=$run TOL[$name]=$tol MINV[$name]=$minv
  ORDER+=("$name")
done <<< "$TABLE"
want() { [[ -z "${SCENARIOS:-}" || " $SCENARIOS " == *" $1 "* ]]; }

# run_scenario NAME SECONDS EXTRA_CONFIG: simulator and daemon for SECONDS,
# then the API's documents into $T/NAME/, then both stopped. $T/NAME/start_ns
# is CLOCK_REALTIME just before the simulator started (its t = 0).
run_scenario() {
  local name=$1 seconds=$2 extra=$3 d=$T/$1
  mkdir -p "$d"
  local base; base=$(free_ports 8)
  echo "$base" > "$d/base"
  date +%s%N > "$d/start_ns"
  "$VETTIME" simulate "$SCN/$name.scn" --port-base "$base" --config "$d/servers.conf" \
    --ready "$d/ready" > "$d/simulate.log" 2>&1 &
  local sim=$!
  wait_for 10 test -e "$d/ready" || { echo "simulator for $name did not start"; kill $sim; return 1; }
  local http; http=$(free_port)
  { cat "$d/servers.conf"; printf 'database %s/history.db\nhttp 127.0.0.1 port %s\nalarmclear 10\n%b\n' "$d" "$http" "$extra"; } > "$d/vettime.conf"
  "$VETTIMED" -c "$d/vettime.conf" > "$d/vettimed.log" 2>&1 &
  local daemon=$!
  sleep "$seconds"
  for doc in vote sources events alarms; do
    "$VETTIME" -c "$d/vettime.conf" "$doc" --json > "$d/$doc.json"
  done
  kill $daemon $sim 2>/dev/null
  wait $daemon $sim 2>/dev/null
  return 0
}

# port N of a scenario: the N-th server (0-based) of its file.
port() { echo $(( $(cat "$T/$1/base") + $2 )); }
src() { echo "127.0.0.1:$(port "$1" "$2")"; }
logged() { grep -qF -- "$2" "$T/$1/vettimed.log" || { echo "not in $1/vettimed.log: $2"; grep -E "alarm|event" "$T/$1/vettimed.log" | head -20; return 1; }; }
j() { json_check "$T/$1/$2.json" "$3"; }
# Seconds since the simulator of scenario $1 started, for a JSON time in
# Unix seconds (alarms' "raised", events' "time").
start_s() { python3 -c "print($(cat "$T/$1/start_ns")/1e9)"; }

# votes NAME PYTHON_EXPR: the expression over v, the scenario's vote rows
# oldest first, each with t (s since the simulator started), vetted (bool),
# offset and error (s, None when not vetted); helpers changes(rows) (how
# often the verdict changed) and pct(xs, p) (percentile). Passes when true.
# votes NAME rounds TOL_US MIN [FROM]: the per-round truth checks of the
# vetted rows before FROM: |offset| <= error, |offset| <= TOL_US, and at
# least MIN of them; prints the count and the worst round in any case.
votes() {
  python3 - "$T/$1" "$1" "${@:2}" <<'PY'
import sqlite3, sys
d, name, what = sys.argv[1], sys.argv[2], sys.argv[3]
start = int(open(d + "/start_ns").read())
db = sqlite3.connect(d + "/history.db")
class Row:
    def __init__(self, r):
        self.t = (r[0] - start) / 1e9; self.vetted = bool(r[1]); self.offset = r[2]; self.error = r[3]
v = [Row(r) for r in db.execute("SELECT time_ns, vetted, offset, error FROM votes ORDER BY time_ns, id")]
us = lambda x: "none" if x is None else "%+.1f us" % (x * 1e6)
def changes(rows):
    return sum(1 for a, b in zip(rows, rows[1:]) if a.vetted != b.vetted)
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")
if what != "rounds":
    ok = eval(what, {"v": v, "changes": changes, "pct": pct, "abs": abs, "all": all, "any": any,
                     "len": len, "sum": sum, "min": min, "max": max})
    if not ok:
        print("expression false:", what)
        vt = [r for r in v if r.vetted]
        print("%s: %d rounds (t %.1f-%.1f s), %d vetted, %d verdict changes; vetted offsets 5/50/95 %%: %s %s %s"
              % (name, len(v), v[0].t if v else 0, v[-1].t if v else 0, len(vt), changes(v),
                 *(us(pct([r.offset for r in vt if r.offset is not None], p)) for p in (5, 50, 95))))
    sys.exit(0 if ok else 1)
kind, tol, need = sys.argv[4], float(sys.argv[5]) * 1e-6, int(sys.argv[6])
until = float(sys.argv[7]) if len(sys.argv) > 7 else float("inf")
rows = [r for r in v if r.vetted and r.t < until]
def excess(r):  # how far the round is from passing, in s (<= 0: passes)
    if r.offset is None or r.error is None: return float("inf")
    return abs(r.offset) - (r.error if kind == "bound" else tol)
bad = [r for r in rows if excess(r) > 0]
worst = max(rows, key=excess, default=None)
if worst is None and kind != "count":
    print("  %s: no vetted rounds to check" % name); sys.exit(0)
span = "" if until == float("inf") else " before t=%g s" % until
if kind == "count":
    print("  %s: %d vetted of %d rounds%s (need %d)" % (name, len(rows), len([r for r in v if r.t < until]), span, need))
    sys.exit(0 if len(rows) >= need else 1)
if worst is not None:
    print("  %s: %s%d of %d vetted rounds%s with %s; worst at t=%.1f s: offset %s, error %s"
          % (name, "" if bad else "ok: ", len(bad), len(rows), span,
             "|offset| > error" if kind == "bound" else "|offset| > %g us" % (tol * 1e6),
             worst.t, us(worst.offset), "none" if worst.error is None else "%.1f us" % (worst.error * 1e6)))
sys.exit(1 if bad else 0)
PY
}

for s in "${ORDER[@]}"; do
  want "$s" && run_scenario "$s" "${RUN[$s]}" "" &
done
wait

# The per-round truth checks, every scenario.
for s in "${ORDER[@]}"; do
  want "$s" || continue
  check "$s: at least ${MINV[$s]} vetted rounds" votes "$s" rounds count 0 "${MINV[$s]}" ${EXCLUDE_FROM[$s]:-}
  check "$s: truth inside the vetted bound every round" votes "$s" rounds bound 0 0 ${EXCLUDE_FROM[$s]:-}
  check "$s: vetted offset within ${TOL[$s]} us of the truth every round" votes "$s" rounds tol "${TOL[$s]}" 0 ${EXCLUDE_FROM[$s]:-}
done

s=one-of-three-falseticker
if want $s; then
  check "$s: vetted near 0" j $s vote "d['vetted'] and abs(d['offset']) < 0.001"
  check "$s: dcf1 is the falseticker" j $s sources \
    "[x['vote_state'] for x in d['sources']] in (['best','combined','class-outvoted'], ['combined','best','class-outvoted'])"
  check "$s: alarm line" logged $s "raised: critical falseticker $(src $s 2) (DCF): class-outvoted: "
fi

s=two-of-five
if want $s; then
  check "$s: vetted near 0 with 3 of 5" j $s vote "d['vetted'] and abs(d['offset']) < 0.001 and d['agreeing'] == 3"
  check "$s: gps4 and gps5 are falsetickers" j $s sources \
    "[x['vote_state'] for x in d['sources']][3:] == ['falseticker', 'falseticker']"
  check "$s: alarm line for gps4" logged $s "raised: critical falseticker $(src $s 3) (GPS): falseticker: "
  check "$s: alarm line for gps5" logged $s "raised: critical falseticker $(src $s 4) (GPS): falseticker: "
fi

s=three-of-five
if want $s; then
  check "$s: not vetted, no majority" j $s vote "not d['vetted'] and d['why_not'].startswith('no majority: 2 of 5 sources agree')"
  check "$s: quorum alarm line" logged $s "raised: critical quorum-lost system: the time is not vetted: no majority: 2 of 5 sources agree"
  check "$s: no falseticker alarm without a vetted time" j $s alarms "all(a['kind'] != 'falseticker' for a in d['alarms'])"
fi

s=dcf-outvoted
if want $s; then
  check "$s: vetted near 0 by GPS and GAL" j $s vote \
    "d['vetted'] and abs(d['offset']) < 0.001 and sorted(d['agreeing_class_names']) == ['GAL', 'GPS']"
  check "$s: both DCF servers outvoted" j $s sources \
    "[x['vote_state'] for x in d['sources']][2:] == ['class-outvoted', 'class-outvoted']"
  check "$s: alarm line for dcf1" logged $s "raised: critical falseticker $(src $s 2) (DCF): class-outvoted: "
  check "$s: alarm line for dcf2" logged $s "raised: critical falseticker $(src $s 3) (DCF): class-outvoted: "

  # Replay of the same history: as run, and "what if minclasses were 3".
  "$VETTIME" replay --db "$T/$s/history.db" --json > "$T/$s/replay.json"
  "$VETTIME" replay --db "$T/$s/history.db" --minclasses 3 --json > "$T/$s/replay3.json"
  "$VETTIME" replay --db "$T/$s/history.db" --minclasses 3 --verdicts > "$T/$s/replay3.txt"
  check "$s: replay as configured vets most rounds" j $s replay \
    "d['rounds'] > 10 and d['vetted_rounds'] >= d['rounds'] - 3"
  check "$s: replay with minclasses 3 vets none" j $s replay3 "d['minclasses'] == 3 and d['vetted_rounds'] == 0"
  # Every round's verdict (--verdicts): the first round may come before
  # every class has its first sample (the polls are spread over a second).
  check "$s: and says why" test "$(grep -c "round: not vetted .*: only 2 classes agree, 3 required" "$T/$s/replay3.txt")" -ge 15
fi

s=five-year-jump
if want $s; then
  check "$s: the jump is a step event of +157680000 s" j $s events \
    "any(e['kind'] == 'step' and e['source'] == '$(src $s 0)' and abs(e['value'] - 157680000) < 1 for e in d['events'])"
  check "$s: date-far alarm line" logged $s "raised: critical date-far $(src $s 0) (GPS): "
  check "$s: falseticker alarm line" logged $s "raised: critical falseticker $(src $s 0) (GPS): "
  check "$s: still vetted by the other two" j $s vote "d['vetted'] and abs(d['offset']) < 0.01"
fi

s=step-1ms
if want $s; then
  check "$s: a step event of about +1 ms on gps1" j $s events \
    "any(e['kind'] == 'step' and e['source'] == '$(src $s 0)' and abs(e['value'] - 0.001) < 0.0003 for e in d['events'])"
  check "$s: step alarm line" logged $s "raised: warning step $(src $s 0) (GPS): "
  check "$s: no step on the other two" j $s events \
    "all(e['source'] == '$(src $s 0)' for e in d['events'] if e['kind'] == 'step')"
fi

s=slow-walk
if want $s; then
  check "$s: gal1 flagged by the walk or drift detector" j $s events \
    "any(e['kind'] in ('slow-walk', 'drift') and e['source'] == '$(src $s 1)' for e in d['events'])"
  check "$s: alarm line" grep -qE "raised: warning (slow-walk|drift) $(src $s 1) \(GAL\): " "$T/$s/vettimed.log"
fi

s=silent
if want $s; then
  check "$s: gal1 unreachable event" j $s events \
    "any(e['kind'] == 'unreachable' and e['source'] == '$(src $s 1)' for e in d['events'])"
  check "$s: unreachable alarm line" logged $s "raised: warning unreachable $(src $s 1) (GAL): no answer to the last 8 polls"
  check "$s: still vetted by GPS and DCF" j $s vote "d['vetted']"
fi

s=local-oscillator
if want $s; then
  check "$s: refid change GPS -> LOCL" j $s events \
    "any(e['kind'] == 'refid-change' and e['source'] == '$(src $s 0)' and 'GPS to LOCL' in e['text'] for e in d['events'])"
  check "$s: refid alarm line" logged $s "raised: info refid-change $(src $s 0) ("
  check "$s: the GPS class is lost" logged $s "raised: warning class-lost class GPS: class GPS has no agreeing source"
  check "$s: gps1 on its own oscillator never votes, and says why" j $s sources \
    "d['sources'][0]['vote_state'] == 'local-osc' and 'own oscillator' in d['sources'][0]['vote_why']"
  # Replay of the stored history re-runs the same vote: its verdicts hold
  # the truth in their bound and stay within 50 us, as the live ones did.
  "$VETTIME" replay --db "$T/$s/history.db" --json --verdicts > "$T/$s/replay.json"
  check "$s: replay's verdicts: vetted, truth in the bound, within 50 us" j $s replay \
    "(len(d['verdicts']) > 30 and sum(x['vetted'] for x in d['verdicts']) >= len(d['verdicts']) - 2 and
      all(abs(x['offset']) <= x['error'] and abs(x['offset']) <= 50e-6 for x in d['verdicts'] if x['vetted']))"
fi

s=kod-leap
if want $s; then
  check "$s: gps2 backs off on RATE but is still polled" j $s sources \
    "d['sources'][1]['state'] == 'rate' and d['sources'][1]['poll'] > 0 and d['sources'][1]['counters']['kod'] >= 1"
  check "$s: gal1 is marked denied and polled at maxpoll" j $s sources \
    "d['sources'][2]['state'] == 'denied' and d['sources'][2]['poll'] == 3"
  check "$s: kod alarm lines" bash -c "grep -qF 'raised: warning kod $(src $s 1) (GPS): ' '$T/$s/vettimed.log' && grep -qF 'raised: warning kod $(src $s 2) (GAL): ' '$T/$s/vettimed.log'"
  check "$s: leap disagreement event" j $s events "any(e['kind'] == 'leap-disagree' for e in d['events'])"
  check "$s: still vetted" j $s vote "d['vetted']"
fi

s=walk-fast
if want $s; then
  check "$s: gps1 flagged by the walk or drift detector" j $s events \
    "any(e['kind'] in ('slow-walk', 'drift') and e['source'] == '$(src $s 0)' for e in d['events'])"
  check "$s: walk/drift alarm line" grep -qE "raised: warning (slow-walk|drift) $(src $s 0) \(GPS\): " "$T/$s/vettimed.log"
  check "$s: gps1 ends a falseticker" j $s sources \
    "d['sources'][0]['vote_state'] in ('falseticker', 'class-outvoted')"
  # "long before its walk reaches a millisecond": by t=140 (+0.5 ms).
  check "$s: gps1 falseticker alarm by t=140 s" j $s alarms \
    "any(a['kind'] == 'falseticker' and a['source'] == '$(src $s 0)' and a['raised'] - $(start_s $s) <= 140 for a in d['alarms'])"
fi

# walk-slow: its per-round checks above are what its header asks for.

s=clean-five
if want $s; then
  check "$s: vetted in >= 95 % of the rounds after the first 10 s" votes $s \
    "len([r for r in v if r.t >= 10]) > 100 and sum(r.vetted for r in v if r.t >= 10) >= 0.95 * len([r for r in v if r.t >= 10])"
  check "$s: no step, drift, slow-walk or falseticker event" j $s events \
    "not [e for e in d['events'] if e['kind'] in ('step', 'drift', 'slow-walk', 'falseticker')]"
  check "$s: 5-95 % of the vetted offsets within +-40 us" votes $s \
    "-40e-6 <= pct([r.offset for r in v if r.vetted], 5) and pct([r.offset for r in v if r.vetted], 95) <= 40e-6"
fi

# majority-step: gps1 and gal1 (the majority) step +2 ms at t=30. The
# per-round truth checks above stop at t=30; from then on, the header.
s=majority-step
if want $s; then
  check "$s: vetted before the step and at the end" votes $s \
    "any(r.vetted for r in v if 20 <= r.t < 30) and v[-1].vetted"
  check "$s: at most one change of verdict once vetted" votes $s \
    "changes([r for r in v if r.t >= min([x.t for x in v if x.vetted] or [0])]) <= 1"
  # Within 2 rounds of the step being seen: both stepped servers are polled
  # again within 2 s (maxpoll 1), then 2 rounds.
  check "$s: critical witness alarm naming GPS and GAL, raised at t=30-34 s" j $s alarms \
    "any(a['kind'] == 'witness' and a['severity'] == 'critical' and 'GPS' in a['text'] and 'GAL' in a['text'] and 30 <= a['raised'] - $(start_s $s) <= 34 for a in d['alarms'])"
  check "$s: witness alarm line" grep -qE "raised: critical witness .*(GPS.*GAL|GAL.*GPS)" "$T/$s/vettimed.log"
  check "$s: dcf1 is the source left out, not gps1 or gal1" j $s sources \
    "[x['vote_state'] in ('falseticker', 'class-outvoted') for x in d['sources']] == [False, False, True]"
fi

summary
