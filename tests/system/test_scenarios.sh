# Scenario suite: the real vettimed against `vettime simulate` (fake
# stratum-1 servers on loopback with scripted faults), one scenario per
# tests/scenarios/*.scn, all run side by side. Each asserts the vote's
# verdict, the events, and the exact start of the alarm lines in the
# daemon's log ("alarm N raised: SEVERITY KIND SOURCE (CLASS): ...").
. "$(dirname "$0")/lib.sh"
SCN=$TOP/tests/scenarios

# run_scenario NAME SECONDS EXTRA_CONFIG: simulator and daemon for SECONDS,
# then the API's documents into $T/NAME/, then both stopped.
run_scenario() {
  local name=$1 seconds=$2 extra=$3 d=$T/$1
  mkdir -p "$d"
  local base; base=$(free_ports 8)
  echo "$base" > "$d/base"
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

run_scenario one-of-three-falseticker 25 "" &
run_scenario two-of-five 25 "" &
run_scenario three-of-five 45 "" &
run_scenario dcf-outvoted 25 "" &
run_scenario five-year-jump 55 "" &
run_scenario step-1ms 65 "" &
run_scenario slow-walk 115 "" &
run_scenario silent 45 "" &
run_scenario local-oscillator 40 "" &
run_scenario kod-leap 35 "" &
wait

s=one-of-three-falseticker
check "$s: vetted near 0" j $s vote "d['vetted'] and abs(d['offset']) < 0.001"
check "$s: dcf1 is the falseticker" j $s sources \
  "[x['vote_state'] for x in d['sources']] in (['best','combined','class-outvoted'], ['combined','best','class-outvoted'])"
check "$s: alarm line" logged $s "raised: critical falseticker $(src $s 2) (DCF): class-outvoted: "

s=two-of-five
check "$s: vetted near 0 with 3 of 5" j $s vote "d['vetted'] and abs(d['offset']) < 0.001 and d['agreeing'] == 3"
check "$s: gps4 and gps5 are falsetickers" j $s sources \
  "[x['vote_state'] for x in d['sources']][3:] == ['falseticker', 'falseticker']"
check "$s: alarm line for gps4" logged $s "raised: critical falseticker $(src $s 3) (GPS): falseticker: "
check "$s: alarm line for gps5" logged $s "raised: critical falseticker $(src $s 4) (GPS): falseticker: "

s=three-of-five
check "$s: not vetted, no majority" j $s vote "not d['vetted'] and d['why_not'].startswith('no majority: 2 of 5 sources agree')"
check "$s: quorum alarm line" logged $s "raised: critical quorum-lost system: the time is not vetted: no majority: 2 of 5 sources agree"
check "$s: no falseticker alarm without a vetted time" j $s alarms "all(a['kind'] != 'falseticker' for a in d['alarms'])"

s=dcf-outvoted
check "$s: vetted near 0 by GPS and GAL" j $s vote \
  "d['vetted'] and abs(d['offset']) < 0.001 and sorted(d['agreeing_class_names']) == ['GAL', 'GPS']"
check "$s: both DCF servers outvoted" j $s sources \
  "[x['vote_state'] for x in d['sources']][2:] == ['class-outvoted', 'class-outvoted']"
check "$s: alarm line for dcf1" logged $s "raised: critical falseticker $(src $s 2) (DCF): class-outvoted: "
check "$s: alarm line for dcf2" logged $s "raised: critical falseticker $(src $s 3) (DCF): class-outvoted: "

# Replay of the same history: as run, and "what if minclasses were 3".
"$VETTIME" replay --db "$T/$s/history.db" --json > "$T/$s/replay.json"
"$VETTIME" replay --db "$T/$s/history.db" --minclasses 3 --json > "$T/$s/replay3.json"
"$VETTIME" replay --db "$T/$s/history.db" --minclasses 3 > "$T/$s/replay3.txt"
check "$s: replay as configured vets most rounds" j $s replay \
  "d['rounds'] > 10 and d['vetted_rounds'] >= d['rounds'] - 3"
check "$s: replay with minclasses 3 vets none" j $s replay3 "d['minclasses'] == 3 and d['vetted_rounds'] == 0"
check "$s: and says why" grep -q "vote: not vetted: only 2 classes agree, 3 required" "$T/$s/replay3.txt"

s=five-year-jump
check "$s: the jump is a step event of +157680000 s" j $s events \
  "any(e['kind'] == 'step' and e['source'] == '$(src $s 0)' and abs(e['value'] - 157680000) < 1 for e in d['events'])"
check "$s: date-far alarm line" logged $s "raised: critical date-far $(src $s 0) (GPS): "
check "$s: falseticker alarm line" logged $s "raised: critical falseticker $(src $s 0) (GPS): "
check "$s: still vetted by the other two" j $s vote "d['vetted'] and abs(d['offset']) < 0.01"

s=step-1ms
check "$s: a step event of about +1 ms on gps1" j $s events \
  "any(e['kind'] == 'step' and e['source'] == '$(src $s 0)' and abs(e['value'] - 0.001) < 0.0003 for e in d['events'])"
check "$s: step alarm line" logged $s "raised: warning step $(src $s 0) (GPS): "
check "$s: no step on the other two" j $s events \
  "all(e['source'] == '$(src $s 0)' for e in d['events'] if e['kind'] == 'step')"

s=slow-walk
check "$s: gal1 flagged by the walk or drift detector" j $s events \
  "any(e['kind'] in ('slow-walk', 'drift') and e['source'] == '$(src $s 1)' for e in d['events'])"
check "$s: alarm line" grep -qE "raised: warning (slow-walk|drift) $(src $s 1) \(GAL\): " "$T/$s/vettimed.log"

s=silent
check "$s: gal1 unreachable event" j $s events \
  "any(e['kind'] == 'unreachable' and e['source'] == '$(src $s 1)' for e in d['events'])"
check "$s: unreachable alarm line" logged $s "raised: warning unreachable $(src $s 1) (GAL): no answer to the last 8 polls"
check "$s: still vetted by GPS and DCF" j $s vote "d['vetted']"

s=local-oscillator
check "$s: refid change GPS -> LOCL" j $s events \
  "any(e['kind'] == 'refid-change' and e['source'] == '$(src $s 0)' and 'GPS to LOCL' in e['text'] for e in d['events'])"
check "$s: refid alarm line" logged $s "raised: info refid-change $(src $s 0) ("
check "$s: the GPS class is lost" logged $s "raised: warning class-lost class GPS: class GPS has no agreeing source"

s=kod-leap
check "$s: gps2 backs off on RATE but is still polled" j $s sources \
  "d['sources'][1]['state'] == 'rate' and d['sources'][1]['poll'] > 0 and d['sources'][1]['counters']['kod'] >= 1"
check "$s: gal1 is marked denied and polled at maxpoll" j $s sources \
  "d['sources'][2]['state'] == 'denied' and d['sources'][2]['poll'] == 3"
check "$s: kod alarm lines" bash -c "grep -qF 'raised: warning kod $(src $s 1) (GPS): ' '$T/$s/vettimed.log' && grep -qF 'raised: warning kod $(src $s 2) (GAL): ' '$T/$s/vettimed.log'"
check "$s: leap disagreement event" j $s events "any(e['kind'] == 'leap-disagree' for e in d['events'])"
check "$s: still vetted" j $s vote "d['vetted']"

summary
