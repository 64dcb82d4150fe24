# System test of the command-line contract (README.md "Exit status",
# vettime(1), vettimed(8)): every command's failure modes exit with the
# code of the one table, and every command answers -h/--help on stdout
# with exit 0.
#
# Without a daemon: --help and -h on every command and alert subcommand,
# `help COMMAND`, -V/--version of both programs; bad options and bad
# arguments (64, and 3 for the monitoring plugin `check`); the daemon not
# reachable (69; check: 3); a configuration that cannot be used (78, also
# `http off`); a file that does not exist (66) or is not a history (65);
# a stub HTTP server that answers with garbage, an error or the wrong
# shape (76), and with empty lists ("no events", "no alarms").
#
# With a daemon against `vettime simulate` (4 servers; at t=8 gps2 starts
# answering with KoD RATE and dcf1's refid changes; at t=20 dcf1 falls
# silent; at t=30 gps2 answers again): `status` leads with the verdict, the open alarms and the
# serving state; `sources` has LastRx and Reach in octal; `sourcestats`
# a line per source; events newest first and oldest first with
# --reverse; one KoD event for a server kissing on every poll, and one
# when it stops; the
# class-lost alarm names "class DCF" in the table as in the log; the info
# alarm (refid-change) is logged at info; `alert retry` of an unknown id
# is 65; `alert test --wait` reports delivery (not "is vettimed
# running?") while vettimed runs, and 69 once it is stopped.
. "$(dirname "$0")/lib.sh"

# rc_is NAME WANT CMD...: runs CMD, its stdout in $T/NAME.out and stderr in
# $T/NAME.err; true when it exits WANT (prints what it said otherwise).
rc_is() {
  local name=$1 want=$2; shift 2
  "$@" > "$T/$name.out" 2> "$T/$name.err"
  local rc=$?
  [[ $rc -eq $want ]] && return 0
  echo "  exit $rc, expected $want: $*"; head -3 "$T/$name.err" "$T/$name.out"
  return 1
}

# help_ok NAME WORD CMD...: exit 0, the help on stdout (mentioning WORD and
# "usage"), nothing on stderr.
help_ok() {
  local name=$1 word=$2; shift 2
  rc_is "$name" 0 "$@" && grep -q "usage:" "$T/$name.out" && grep -qw -- "$word" "$T/$name.out" \
    && [[ ! -s "$T/$name.err" ]] && return 0
  echo "  $*: no usage naming $word on stdout, or something on stderr"
  return 1
}

# ---- --help on every command -----------------------------------------------
COMMANDS="status sources sourcestats vote events alarms simulate replay alert report check decode help"
for c in $COMMANDS; do
  check "vettime $c --help: exit 0, usage on stdout" help_ok "h-$c" "$c" "$VETTIME" "$c" --help
  check "vettime $c -h: exit 0, usage on stdout" help_ok "h2-$c" "$c" "$VETTIME" "$c" -h
  check "vettime help $c: the same help" help_ok "h3-$c" "$c" "$VETTIME" help "$c"
done
for s in status test retry; do
  check "vettime alert $s --help: exit 0" help_ok "ha-$s" "$s" "$VETTIME" alert "$s" --help
done
check "vettime --help lists every command" help_ok h-top sourcestats "$VETTIME" --help
for c in $COMMANDS; do
  grep -qE "^  $c " "$T/h-top.out" || { fail "vettime --help lists $c"; }
done
check "vettime --help has the exit status table" grep -q "69 vettimed not reachable" "$T/h-top.out"
check "vettime -h: exit 0" help_ok h-top2 COMMAND "$VETTIME" -h
check "vettimed -h: exit 0, usage on stdout" help_ok hd vettimed "$VETTIMED" -h
check "vettimed --help: exit 0" help_ok hd2 vettimed "$VETTIMED" --help
VERSION=$(sed -n 's/^#define VT_VERSION "\(.*\)"/\1/p' "$TOP/lib/version.h")
check "vettime -V: \"vettime $VERSION\"" eval "[[ \"\$('$VETTIME' -V)\" == 'vettime $VERSION' ]]"
check "vettime --version" eval "[[ \"\$('$VETTIME' --version)\" == 'vettime $VERSION' ]]"
check "vettimed -V: \"vettimed $VERSION\"" eval "[[ \"\$('$VETTIMED' -V)\" == 'vettimed $VERSION' ]]"
check "vettimed --version" eval "[[ \"\$('$VETTIMED' --version)\" == 'vettimed $VERSION' ]]"

# ---- bad usage: 64 (check: 3) ----------------------------------------------
DEAD=$(free_port) # nothing listens here
U="-u http://127.0.0.1:$DEAD"
check "vettime (no command): 64" rc_is u0 64 "$VETTIME"
check "vettime nosuch: 64" rc_is u1 64 "$VETTIME" nosuch
check "... says which" grep -q 'unknown command "nosuch"' "$T/u1.err"
check "vettime --bogus: 64" rc_is u2 64 "$VETTIME" --bogus status
for c in status sources sourcestats vote events alarms; do
  check "vettime $c --bogus: 64 before any request" rc_is "ub-$c" 64 "$VETTIME" $U "$c" --bogus
  check "vettime $c extra: 64" rc_is "ua-$c" 64 "$VETTIME" $U "$c" extra
done
check "... the bad option named, the command's usage on stderr" \
  eval "grep -q 'unknown option \"--bogus\"' '$T/ub-events.err' && grep -q 'usage: vettime .*events' '$T/ub-events.err'"
check "vettime status --reverse: 64 (only events and alarms have it)" rc_is u3 64 "$VETTIME" $U status --reverse
check "vettime help nosuch: 64" rc_is u4 64 "$VETTIME" help nosuch
check "vettime simulate --bogus: 64" rc_is u5 64 "$VETTIME" simulate --bogus
check "vettime simulate (no scenario): 64" rc_is u6 64 "$VETTIME" simulate
check "vettime replay --bogus: 64" rc_is u7 64 "$VETTIME" replay --bogus
check "vettime replay extra: 64" rc_is u8 64 "$VETTIME" replay extra
check "vettime report --bogus: 64" rc_is u9 64 "$VETTIME" report --bogus
check "vettime report --since 24x: 64" rc_is u10 64 "$VETTIME" report --since 24x
check "vettime decode --bogus: 64" rc_is u11 64 "$VETTIME" decode --bogus nmea x
check "vettime decode nmea (no file): 64" rc_is u12 64 "$VETTIME" decode nmea
check "vettime decode nosuch FILE: 64" rc_is u13 64 "$VETTIME" decode nosuch /dev/null
check "vettime check --bogus: 3 (a monitoring plugin: UNKNOWN)" rc_is u14 3 "$VETTIME" $U check --bogus
check "vettimed -x: 64" rc_is u15 64 "$VETTIMED" -x
check "vettimed extra: 64" rc_is u16 64 "$VETTIMED" extra

# ---- the daemon not reachable: 69 (check: 3) -------------------------------
for c in status sources sourcestats vote events alarms; do
  check "vettime $c, nothing listening: 69" rc_is "un-$c" 69 "$VETTIME" $U "$c"
done
check "... says so" grep -q "cannot reach vettimed at http://127.0.0.1:$DEAD" "$T/un-status.err"
check "vettime check, nothing listening: 3 (UNKNOWN)" rc_is un-check 3 "$VETTIME" $U check
check "... on stdout, the plugin's way" grep -q "^VETTIME UNKNOWN" "$T/un-check.out"

# ---- configuration, files: 78, 66, 65 --------------------------------------
printf 'server\n' > "$T/bad.conf"
printf 'database %s/nodir/none.db\nhttp off\nserver 127.0.0.1 port %s\n' "$T" "$DEAD" > "$T/off.conf"
printf 'database %s/none.db\nserver 127.0.0.1 port %s\nalert mail smtp://127.0.0.1:%s from a@example.net to b@example.net name mail\n' \
  "$T" "$DEAD" "$DEAD" > "$T/nodb.conf"
check "vettime -c BAD status: 78" rc_is c1 78 "$VETTIME" -c "$T/bad.conf" status
check "... with FILE:LINE" grep -q "$T/bad.conf:1" "$T/c1.err"
check "vettime -c MISSING status: 78" rc_is c2 78 "$VETTIME" -c "$T/missing.conf" status
check "vettime -c (http off) status: 78" rc_is c3 78 "$VETTIME" -c "$T/off.conf" status
check "... says the API is off" grep -q "the HTTP API is off" "$T/c3.err"
check "vettime -c BAD alert status: 78" rc_is c4 78 "$VETTIME" -c "$T/bad.conf" alert status
check "vettime -c BAD report: 78" rc_is c5 78 "$VETTIME" -c "$T/bad.conf" report
check "vettime -c BAD replay: 78" rc_is c6 78 "$VETTIME" -c "$T/bad.conf" replay
check "vettime alert status, no database yet: 66" rc_is c7 66 "$VETTIME" -c "$T/nodb.conf" alert status
check "vettime alert retry 1, no database yet: 66" rc_is c8 66 "$VETTIME" -c "$T/nodb.conf" alert retry 1
check "vettime report -d MISSING: 66" rc_is c9 66 "$VETTIME" report -d "$T/none.db"
check "vettime replay --db MISSING: 66" rc_is c10 66 "$VETTIME" -c "$T/nodb.conf" replay --db "$T/none.db"
check "vettime decode nmea MISSING: 66" rc_is c11 66 "$VETTIME" decode nmea "$T/none.log"
check "vettime simulate MISSING.scn: 66" rc_is c12 66 "$VETTIME" simulate "$T/none.scn"
printf 'duration 10\nserver a refid GPS\nat 5 b step 1ms\n' > "$T/bad.scn"
check "vettime simulate BAD.scn: 78" rc_is c13 78 "$VETTIME" simulate "$T/bad.scn"
echo "not sqlite" > "$T/junk.db"
check "vettime report -d NOT-A-HISTORY: 65" rc_is c14 65 "$VETTIME" report -d "$T/junk.db"
check "none of these created the database" test ! -e "$T/none.db"

# ---- a server that is not vettimed: 76; empty lists ------------------------
STUB=$(free_port)
cat > "$T/stub.py" <<'PY'
import http.server, sys
DOCS = {"/api/v1/events": (200, b'{"events": []}'), "/api/v1/alarms": (200, b'{"alarms": []}'),
        "/api/v1/status": (200, b"<html>not json</html>"),
        "/api/v1/vote": (500, b'{"error": "boom"}'), "/api/v1/sources": (200, b'{"sources": {}}')}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code, body = DOCS.get(self.path, (404, b'{"error": "no such document"}'))
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
timeout 300 python3 "$T/stub.py" "$STUB" &
PIDS+=($!)
S="-u http://127.0.0.1:$STUB"
check "the stub HTTP server answers" wait_for 5 curl -s -o /dev/null "http://127.0.0.1:$STUB/api/v1/events"
check "vettime status, an answer that is not JSON: 76" rc_is s1 76 "$VETTIME" $S status
check "vettime vote, HTTP 500: 76" rc_is s2 76 "$VETTIME" $S vote
check "... with the daemon's message" grep -q "answered 500 for /api/v1/vote: boom" "$T/s2.err"
check "vettime sources, the wrong shape: 76" rc_is s3 76 "$VETTIME" $S sources
check "vettime sourcestats, the wrong shape: 76" rc_is s4 76 "$VETTIME" $S sourcestats
check "vettime events, an empty list: 0, \"no events\"" \
  eval "rc_is s5 0 '$VETTIME' $S events && [[ \"\$(cat '$T/s5.out')\" == 'no events' ]]"
check "vettime events --reverse, an empty list: \"no events\"" \
  eval "rc_is s6 0 '$VETTIME' $S events --reverse && [[ \"\$(cat '$T/s6.out')\" == 'no events' ]]"
check "vettime alarms, an empty list: 0, \"no alarms ...\"" \
  eval "rc_is s7 0 '$VETTIME' $S alarms && grep -q '^no alarms (none open, none cleared in the last hour)$' '$T/s7.out'"

# ---- against a daemon ------------------------------------------------------
cat > "$T/cli.scn" <<'SCN'
name cli
duration 300
seed 5
poll 0 1
server gps1 refid GPS jitter 20us
server gps2 refid GPS jitter 20us offset 10us
server gal1 refid GAL jitter 20us offset -10us
server dcf1 refid DCF jitter 100us
at 8 gps2 kod RATE
at 8 dcf1 refid DCFA
at 20 dcf1 silent
at 30 gps2 resume
SCN
BASE=$(free_ports 4)
HTTP=$(free_port)
"$VETTIME" simulate "$T/cli.scn" --port-base "$BASE" --config "$T/servers.conf" \
  --ready "$T/ready" > "$T/sim.log" 2>&1 &
PIDS+=($!)
check "the simulator is ready within 5 s" wait_for 5 test -s "$T/ready"
{ cat "$T/servers.conf"
  printf 'database %s/history.db\nhttp 127.0.0.1 port %s\nalarmclear 5\n' "$T" "$HTTP"
  printf 'alertretry 0.5 1 expire 2\n'
  printf 'alert mail smtp://127.0.0.1:%s from a@example.net to b@example.net name mail\n' "$DEAD"
} > "$T/vettime.conf"
CONF=$T/vettime.conf
V() { "$VETTIME" -c "$CONF" "$@"; }
check "vettimed answers within 10 s" start_vettimed "$CONF"
GPS2=127.0.0.1:$((BASE + 1)) DCF1=127.0.0.1:$((BASE + 3))
vetted() { V vote --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["vetted"] else 1)'; }
check "the vote is vetted within 15 s" wait_for 15 vetted

check "status: exit 0" rc_is st 0 V status
check "status leads with the verdict" grep -qE '^Vetted: +yes, offset [-+][0-9.]+(ns|us|ms) ±[0-9.]+(ns|us|ms) \(4 of 4 sources, 3 of 3 classes\)$' <(head -1 "$T/st.out")
check "... then the open alarms" grep -qE '^Alarms: +(none open|[0-9]+ open \(.*\))$' <(sed -n 2p "$T/st.out")
check "... then the serving state" grep -qE '^Serving: +off \(no serve directive\)$' <(sed -n 3p "$T/st.out")
cat "$T/st.out"

check "sources: exit 0" rc_is so 0 V sources
check "sources: a LastRx column" grep -qE '^Name +Class +Str Refid +Reach Poll LastRx +Offset' "$T/so.out"
check "sources: Reach in octal with its leading 0 (gps1: 0377 or 0177 ...)" \
  grep -qE "^127.0.0.1:$BASE +GPS +1 GPS +0[0-7]+ +[0-9]+ +[0-9]+ " "$T/so.out"
check "sources --json: reach is the number (255 = 0377)" eval "V sources --json > '$T/so.json'"
json_check "$T/so.json" 'all(isinstance(s["reach"], int) and 0 <= s["reach"] <= 255 for s in d["sources"])' \
  && pass "sources --json: reach a number" || fail "sources --json: reach a number"
cat "$T/so.out"
check "sourcestats: exit 0" rc_is ss 0 V sourcestats
check "sourcestats: the header" grep -qE '^Name +Class +NP +Freq ppm +Jitter +Offset +Std Dev$' "$T/ss.out"
check "sourcestats: gps1 with its samples and an offset" \
  grep -qE "^127.0.0.1:$BASE +GPS +[1-8] +(-|[-+][0-9.]+) +[0-9.]+(ns|us|ms) +[-+][0-9.]+(ns|us|ms) " "$T/ss.out"
check "sourcestats: a line per source" test "$(grep -c '^127.0.0.1:' "$T/ss.out")" -eq 4
cat "$T/ss.out"

class_lost() { V alarms --json | python3 -c '
import json, sys
sys.exit(0 if any(a["active"] and a["kind"] == "class-lost" for a in json.load(sys.stdin)["alarms"]) else 1)'; }
check "dcf1 silent at t=20: a class-lost alarm within 60 s" wait_for 60 class_lost
sleep 2
check "alarms: exit 0" rc_is al 0 V alarms
check "alarms: the class-lost alarm's source is \"class DCF\"" grep -qE '^ *[0-9]+ warning +class-lost +class DCF ' "$T/al.out"
check "... as the log says" grep -qE 'alarm [0-9]+ raised: warning class-lost class DCF' "$T/vettimed.log"
check "an info alarm (refid-change) is logged at info" \
  grep -qE '^<6>info: alarm [0-9]+ raised: info refid-change' "$T/vettimed.log"
check "... and no info alarm at warning" eval "! grep -qE '^<4>warning: alarm [0-9]+ raised: info' '$T/vettimed.log'"
check "alarms: newest raised first" python3 - "$T/al.out" <<'PY'
import re, sys
t = [m.group(1) for m in (re.search(r" (\d{4}-\d\d-\d\dT[\d:]+Z) ", l) for l in open(sys.argv[1]).read().splitlines()[2:]) if m]
sys.exit(0 if len(t) >= 2 and t == sorted(t, reverse=True) else 1)
PY
check "alarms --reverse: exit 0" rc_is al-r 0 V alarms --reverse
check "alarms --reverse: oldest raised first" python3 - "$T/al-r.out" <<'PY'
import re, sys
t = [m.group(1) for m in (re.search(r" (\d{4}-\d\d-\d\dT[\d:]+Z) ", l) for l in open(sys.argv[1]).read().splitlines()[2:]) if m]
sys.exit(0 if len(t) >= 2 and t == sorted(t) and t != sorted(t, reverse=True) else 1)
PY

check "events: exit 0" rc_is ev 0 V events
check "events: newest first" python3 - "$T/ev.out" <<'PY'
import sys
t = [l.split()[0] for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(t) >= 3 and t == sorted(t, reverse=True) else 1)
PY
check "events --reverse: exit 0" rc_is ev-r 0 V events --reverse
check "events --reverse: oldest first" python3 - "$T/ev-r.out" <<'PY'
import sys
t = [l.split()[0] for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(t) >= 3 and t == sorted(t) and t != sorted(t, reverse=True) else 1)
PY
check "events: class-lost names its class" grep -qE ' class-lost class DCF: class DCF has no agreeing source' "$T/ev.out"
V events --json > "$T/ev.json"
V sources --json > "$T/so2.json"
check "gps2 kissed on many polls (counters.kod >= 5)" json_check "$T/so2.json" \
  "[s for s in d['sources'] if s['name'] == '$GPS2'][0]['counters']['kod'] >= 5"
check "... but wrote one kod event, not one a poll" json_check "$T/ev.json" \
  "len([e for e in d['events'] if e['kind'] == 'kod' and e['source'] == '$GPS2' and not e['ended']]) == 1"
check "... and the probe logged one warning for it" \
  test "$(grep -c "warning: server $GPS2: kiss-o'-death RATE" "$T/vettimed.log")" -eq 1
kod_ended() { V events --json | python3 -c "
import json, sys
sys.exit(0 if [e for e in json.load(sys.stdin)['events'] if e['kind'] == 'kod' and e['source'] == '$GPS2' and e['ended']] else 1)"; }
check "gps2 answers again (t=30): one 'kod ended' event within 40 s" wait_for 40 kod_ended
V events --json > "$T/ev2.json"
check "... and still one kod start" json_check "$T/ev2.json" \
  "len([e for e in d['events'] if e['kind'] == 'kod' and e['source'] == '$GPS2' and not e['ended']]) == 1"
check "events: the kod end as text" eval "V events | grep -qE ' kod ended $GPS2: kod ended$'"

# ---- alert: unknown id, test --wait ----------------------------------------
check "alert retry 99999 (no such notification): 65" rc_is ar1 65 V alert retry 99999
check "... says so" grep -q "no notification 99999" "$T/ar1.err"
check "alert retry abc: 64" rc_is ar2 64 V alert retry abc
check "alert retry (neither ID nor all): 64" rc_is ar2b 64 V alert retry
check "alert test nosuch (no such channel): 65" rc_is at1 65 V alert test nosuch
check "alert test --wait x: 64" rc_is at2 64 V alert test --wait x
check "alert test --wait 8 (mail to a closed port): 1, not delivered" rc_is at3 1 V alert test mail --wait 8
check "... says what happened, not \"is vettimed running?\"" \
  eval "grep -qE '^test notification [0-9]+ on mail: (dead|still pending after [0-9]+ attempt)' '$T/at3.out' && ! grep -q 'running' '$T/at3.out'"
cat "$T/at3.out"
check "alert status, dead notifications: exit 1 (not good)" rc_is as1 1 V alert status
check "... the dead ones listed newest first" python3 - "$T/as1.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("dead notifications:")[1]
ids = [int(m.group(1)) for m in re.finditer(r"^  (\d+) ", text, re.M)]
sys.exit(0 if len(ids) >= 2 and ids == sorted(ids, reverse=True) else 1)
PY
ID=$(sed -n 's/^test notification \([0-9]*\) on mail: dead.*/\1/p' "$T/at3.out")
if [[ -n "$ID" ]]; then
  check "alert retry $ID (a dead one): 0, 1 requeued" \
    eval "rc_is ar3 0 V alert retry $ID && grep -q '^1 dead notification requeued$' '$T/ar3.out'"
else
  fail "the test notification is dead within 8 s (alertretry 0.5 1 expire 2)"
fi

kill "$VETTIMED_PID"
check "vettimed stops" wait_for 10 eval "! kill -0 $VETTIMED_PID"
check "status, the daemon stopped: 69" rc_is gone 69 V status
check "alert test --wait 6, no vettimed: 69, not picked up" rc_is at4 69 V alert test mail --wait 6
check "... says nobody took it up, and how old the newest vote is" \
  grep -qE "not picked up in 6 s: no vettimed runs on this database \(its newest vote is [0-9]+ s old\)" "$T/at4.out"
ID=$(sed -n 's/^test notification \([0-9]*\) on mail: not picked up.*/\1/p' "$T/at4.out")
check "alert retry $ID (pending, not dead): 65" rc_is ar4 65 V alert retry "${ID:-0}"
check "... says it is not dead" grep -q "is pending, not dead" "$T/ar4.err"

summary
