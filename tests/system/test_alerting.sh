# Alerting against real receivers on loopback (docs/alerting.md): vettimed
# runs `vettime simulate` scenarios that raise and clear alarms, and its
# notifications go to
#   - a syslog collector (tests/system/alerting/syslog_listener.py) over UDP,
#     TCP (octet counting) and a Unix socket: RFC 5424 lines;
#   - a real SMTP server: /usr/bin/python3 -m aiosmtpd (Debian's
#     python3-aiosmtpd) with a handler that stores or rejects (alert_smtp.py);
#   - snmptrapd (net-snmp) in the foreground, decoding with VETTIME-MIB and
#     the IETF base MIBs from npm's net-snmp (scripts/fetch-base-mibs.sh):
#     v2c traps and informs on one instance, v3 authPriv traps and informs
#     on another that accepts nothing but those users.
# Three parts run side by side, each under 90 s:
#   A delivery: content on every channel, routing, repeats, heartbeats,
#     `vettime alert test`;
#   B durability: SMTP server and trap receiver down, vettimed SIGKILLed
#     once mid-way and restarted; when they come up every notification
#     arrives, none twice under different ids, the outbox empties, and the
#     rounds never waited;
#   C flapping and dead: a flapping source makes one alarm (two
#     notifications), and mail the server refuses with 554 ends dead, shown,
#     and is not retried.
. "$(dirname "$0")/lib.sh"
AL=$TOP/tests/system/alerting
SMTPD=(/usr/bin/python3 -m aiosmtpd -n)

MIBS=$("$TOP/scripts/fetch-base-mibs.sh" 2>"$T/mibs.err") || MIBS=""
if [[ -z $MIBS ]]; then
  echo "SNMP receivers skipped: no IETF base MIBs: $(cat "$T/mibs.err")"
fi
SNMP_OK=$([[ -n $MIBS ]] && command -v snmptrapd >/dev/null && echo 1 || echo 0)

# start_trapd DIR NAME PORT: snmptrapd in the foreground, config DIR/NAME.conf,
# decoded log in DIR/NAME.log.
start_trapd() {
  mkdir -p "$1/$2.persist"
  SNMP_PERSISTENT_DIR=$1/$2.persist timeout 300 snmptrapd -f -Lo -C -c "$1/$2.conf" \
    -M "$MIBS:$TOP/schema" -m SNMPv2-MIB:VETTIME-MIB "udp:127.0.0.1:$3" > "$1/$2.log" 2>&1 &
  PIDS+=($!)
  echo $! > "$1/$2.pid"
}

# start_smtp DIR PORT HANDLER: aiosmtpd storing mail in DIR/mail (or rejecting).
start_smtp() {
  PYTHONPATH=$AL timeout 300 "${SMTPD[@]}" -l "127.0.0.1:$2" -c "alert_smtp.$3" "$1/mail" \
    > "$1/smtp.log" 2>&1 &
  PIDS+=($!)
  echo $! > "$1/smtp.pid"
}

# start_sim DIR SCENARIO: the fake servers; DIR/servers.conf for vettimed.
start_sim() {
  local base; base=$(free_ports 3)
  echo "$base" > "$1/base"
  "$VETTIME" simulate "$AL/$2.scn" --port-base "$base" --config "$1/servers.conf" \
    --ready "$1/ready" > "$1/simulate.log" 2>&1 &
  PIDS+=($!)
  wait_for 10 test -e "$1/ready"
}

# start_daemon DIR: vettimed on DIR/vettime.conf, log appended to DIR/vettimed.log.
start_daemon() {
  "$VETTIMED" -c "$1/vettime.conf" >> "$1/vettimed.log" 2>&1 &
  PIDS+=($!)
  echo $! > "$1/vettimed.pid"
}

q() { sqlite3 -cmd ".timeout 2000" "$1/history.db" "$2"; }
# sql_ge DIR SQL N / sql_eq DIR SQL N: for wait_for, which re-runs them.
sql_ge() { local v; v=$(q "$1" "$2" 2>/dev/null); [[ ${v:-0} -ge $3 ]]; }
sql_eq() { local v; v=$(q "$1" "$2" 2>/dev/null); [[ -n $v && $v -eq $3 ]]; }
dcf() { echo "127.0.0.1:$(( $(cat "$1/base") + 2 ))"; }
tcp_listening() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.5)" "$1"; }

# ---------------------------------------------------------------------------
# A: delivery
part_a() {
  part_begin
  local d=$T/a; mkdir -p "$d"
  local p; p=$(free_ports 8)
  local http=$p su=$((p + 1)) st=$((p + 2)) sm=$((p + 3)) t2=$((p + 4)) t3=$((p + 5)) sd=$((p + 6))
  echo "$su $st $sm $t2 $t3" > "$d/ports"
  local our_eng=0x80007ed9047674657374           # 0x80007ed904 "vtest"
  local trapd_eng=0x80001f8804$(printf vttrapd | od -An -tx1 | tr -d ' \n') # net-snmp text engine id
  python3 "$AL/syslog_listener.py" udp "127.0.0.1:$su" "$d/sysudp.txt" & PIDS+=($!)
  python3 "$AL/syslog_listener.py" tcp "127.0.0.1:$st" "$d/systcp.txt" & PIDS+=($!)
  start_smtp "$d" "$sm" Record
  mkdir -p "$d/digest"
  start_smtp "$d/digest" "$sd" Record
  start_sim "$d" raise-clear || return 1
  local snmp=""
  if [[ $SNMP_OK == 1 ]]; then
    printf 'authCommunity log public\n' > "$d/trapd2.conf"
    cat > "$d/trapd3.conf" <<CONF
engineID vttrapd
createUser -e $our_eng vttrap SHA trapauth123 AES trappriv123
createUser vtinf SHA-256 infauth1234 AES infpriv1234
authUser log vttrap priv
authUser log vtinf priv
CONF
    start_trapd "$d" trapd2 "$t2"
    start_trapd "$d" trapd3 "$t3"
    snmp="alert snmp 127.0.0.1:$t2 version 2c community public kinds falseticker name trap2c heartbeat 8
alert snmp 127.0.0.1:$t2 version 2c community public inform kinds falseticker name inform2c
alert snmp 127.0.0.1:$t3 version 3 user vttrap auth SHA trapauth123 priv AES trappriv123 engineid $our_eng kinds falseticker name trap3
alert snmp 127.0.0.1:$t3 version 3 inform user vtinf auth SHA-256 infauth1234 priv AES infpriv1234 engineid $trapd_eng kinds falseticker name inform3"
  fi
  wait_for 10 tcp_listening "$sm"; wait_for 10 tcp_listening "$st"
  { cat "$d/servers.conf"; cat <<CONF
database $d/history.db
http 127.0.0.1 port $http
alarmclear 3
alertsite site-a
alertrepeat 6
alertretry 0.5 2
heartbeat 0
alert syslog remote udp 127.0.0.1:$su name sysudp heartbeat 8
alert syslog remote tcp 127.0.0.1:$st facility local3 name systcp
alert mail smtp://127.0.0.1:$sm from vettime@example.net to noc@example.net,oncall@example.org min-severity critical name mail
alert mail smtp://127.0.0.1:$sd from vettime@example.net to digest@example.net digest 6 name digest
$snmp
CONF
  } > "$d/vettime.conf"
  start_daemon "$d"
  # Until the falseticker alarm has been raised, cleared and delivered everywhere.
  wait_for 60 sql_ge "$d" "SELECT count(*) FROM alert_outbox WHERE kind = 'falseticker' AND event = 'clear' AND state = 'sent'" "$([[ $SNMP_OK == 1 ]] && echo 7 || echo 3)"
  "$VETTIME" -c "$d/vettime.conf" alert test --wait 15 > "$d/alert-test.out" 2>&1
  echo $? > "$d/alert-test.rc"
  wait_for 10 sql_eq "$d" "SELECT count(*) FROM alert_outbox WHERE state != 'sent'" 0
  "$VETTIME" -c "$d/vettime.conf" alert status --json > "$d/status.json"
  "$VETTIME" -c "$d/vettime.conf" alarms --json > "$d/alarms.json"
  kill "$(cat "$d/vettimed.pid")"
}

# ---------------------------------------------------------------------------
# B: durability (receivers down, SIGKILL, restart, receivers up)
part_b() {
  part_begin
  local d=$T/b; mkdir -p "$d"
  local p; p=$(free_ports 4)
  local http=$p sm=$((p + 1)) t2=$((p + 2))
  start_sim "$d" raise-clear || return 1
  local snmp=""
  [[ $SNMP_OK == 1 ]] && snmp="alert snmp 127.0.0.1:$t2 version 2c community public inform timeout 1 name inform2c"
  { cat "$d/servers.conf"; cat <<CONF
database $d/history.db
http 127.0.0.1 port $http
alarmclear 3
alertsite site-b
alertrepeat 0
alertretry 0.5 2
heartbeat 0
alert mail smtp://127.0.0.1:$sm from vettime@example.net to noc@example.net name mail
$snmp
CONF
  } > "$d/vettime.conf"
  start_daemon "$d"
  local t_start=$SECONDS
  wait_for 20 sql_ge "$d" "SELECT count(*) FROM alert_outbox WHERE kind = 'falseticker' AND event = 'raise' AND attempts >= 1" 1
  sleep 1
  kill -9 "$(cat "$d/vettimed.pid")"
  wait "$(cat "$d/vettimed.pid")" 2>/dev/null
  q "$d" "SELECT count(*) FROM alert_outbox WHERE state = 'pending'" > "$d/pending-at-kill"
  echo "killed at $((SECONDS - t_start)) s" >> "$d/timeline"
  date +%s%N > "$d/restart_ns"
  start_daemon "$d"
  # The restarted daemon raises the alarm again (a new id: the alarm table
  # starts empty) and clears it when dcf1 comes back; all still pending.
  wait_for 40 sql_ge "$d" "SELECT count(*) FROM alert_outbox WHERE kind = 'falseticker' AND event = 'clear'" 1
  sleep 2
  q "$d" "SELECT count(*) FROM alert_outbox WHERE state = 'pending'" > "$d/pending-before-up"
  q "$d" "SELECT count(*) FROM alert_outbox WHERE state = 'sent'" > "$d/sent-before-up"
  date +%s%N > "$d/up_ns"
  echo "receivers up at $((SECONDS - t_start)) s" >> "$d/timeline"
  start_smtp "$d" "$sm" Record
  if [[ $SNMP_OK == 1 ]]; then
    printf 'authCommunity log public\n' > "$d/trapd2.conf"
    start_trapd "$d" trapd2 "$t2"
  fi
  wait_for 30 sql_eq "$d" "SELECT count(*) FROM alert_outbox WHERE state = 'pending'" 0
  echo "outbox empty at $((SECONDS - t_start)) s" >> "$d/timeline"
  date +%s%N > "$d/empty_ns"
  sleep 1
  "$VETTIME" -c "$d/vettime.conf" alert status --json > "$d/status.json"
  kill "$(cat "$d/vettimed.pid")"
}

# ---------------------------------------------------------------------------
# C: flapping, and mail refused for good
part_c() {
  part_begin
  local d=$T/c; mkdir -p "$d"
  local p; p=$(free_ports 3)
  local http=$p sm=$((p + 1))
  python3 "$AL/syslog_listener.py" unix "$d/log.sock" "$d/sysunix.txt" & PIDS+=($!)
  start_smtp "$d" "$sm" Reject
  start_sim "$d" flapping || return 1
  wait_for 10 tcp_listening "$sm"; wait_for 10 test -S "$d/log.sock"
  { cat "$d/servers.conf"; cat <<CONF
database $d/history.db
http 127.0.0.1 port $http
alarmclear 5
alertsite site-c
alertrepeat 0
alertretry 0.5 2
heartbeat 0
alert syslog remote unix $d/log.sock name sysunix
alert mail smtp://127.0.0.1:$sm from vettime@example.net to noc@example.net kinds falseticker name mail
CONF
  } > "$d/vettime.conf"
  start_daemon "$d"
  wait_for 70 sql_ge "$d" "SELECT count(*) FROM alert_outbox WHERE kind = 'falseticker' AND event = 'clear' AND state != 'pending'" 2
  sleep 3 # time for retries, were there any
  "$VETTIME" -c "$d/vettime.conf" alarms > "$d/alarms.txt" 2>&1
  "$VETTIME" -c "$d/vettime.conf" alarms --json > "$d/alarms.json" 2>&1
  "$VETTIME" -c "$d/vettime.conf" alert status > "$d/status.txt" 2>&1; echo $? > "$d/status.rc"
  cp "$d/mail/rejected" "$d/rejected.before-retry" 2>/dev/null
  "$VETTIME" -c "$d/vettime.conf" alert retry all > "$d/retry.out" 2>&1
  wait_for 10 sql_eq "$d" "SELECT count(*) FROM alert_outbox WHERE channel = 'mail' AND state = 'pending'" 0
  sleep 2
  kill "$(cat "$d/vettimed.pid")"
}

part_a > "$T/a.out" 2>&1 & PIDS+=($!)
part_b > "$T/b.out" 2>&1 & PIDS+=($!)
part_c > "$T/c.out" 2>&1 & PIDS+=($!)
wait

# ---------------------------------------------------------------------------
# Assertions

if [[ -n $MIBS ]]; then
  check "VETTIME-MIB loads in snmptranslate: vtFalsetickerRaised is .1.3.6.1.4.1.32473.7.0.106" \
    test "$(snmptranslate -M "$MIBS:$TOP/schema" -m VETTIME-MIB -On VETTIME-MIB::vtFalsetickerRaised 2>&1)" = ".1.3.6.1.4.1.32473.7.0.106"
  check "VETTIME-MIB passes smilint -l 4 without a message" \
    test -z "$(SMIPATH=$MIBS smilint -l 4 "$TOP/schema/VETTIME-MIB.txt" 2>&1)"
fi
a=$T/a b=$T/b c=$T/c
read -r SU ST SM T2 T3 < "$a/ports"
ALARM_A=$(q "$a" "SELECT alarm_id FROM alert_outbox WHERE channel = 'mail' AND kind = 'falseticker' AND event = 'raise' ORDER BY id LIMIT 1")
CHANNELS_A="sysudp systcp mail digest"
[[ $SNMP_OK == 1 ]] && CHANNELS_A="$CHANNELS_A trap2c inform2c trap3 inform3"

every_channel_raise_clear() {
  local ch ok=0
  for ch in $CHANNELS_A; do
    local r c pend
    r=$(q "$a" "SELECT count(*) FROM alert_outbox WHERE channel = '$ch' AND alarm_id = $ALARM_A AND event = 'raise' AND state = 'sent'")
    c=$(q "$a" "SELECT count(*) FROM alert_outbox WHERE channel = '$ch' AND alarm_id = $ALARM_A AND event = 'clear' AND state = 'sent'")
    pend=$(q "$a" "SELECT count(*) FROM alert_outbox WHERE channel = '$ch' AND state != 'sent'")
    [[ $r == 1 && $c == 1 && $pend == 0 ]] || { echo "$ch: raise $r clear $c not-sent $pend"; ok=1; }
  done
  return $ok
}
check "A: alarm $ALARM_A raised and cleared, one notification each, sent on every channel ($CHANNELS_A)" \
  every_channel_raise_clear
check "A: routing: the step alarm (warning) reaches syslog, not mail (min-severity critical)" \
  test "$(q "$a" "SELECT count(*) FROM alert_outbox WHERE kind = 'step' AND channel = 'sysudp'")" -ge 1 -a \
       "$(q "$a" "SELECT count(*) FROM alert_outbox WHERE kind != 'falseticker' AND kind != '' AND channel IN ('mail', 'trap2c', 'trap3')")" -eq 0

# RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [vettime@32473 ...] MSG
syslog_check() { # FILE PRI_RAISE PRI_CLEAR CHANNEL
  python3 - "$@" "$ALARM_A" "$(dcf "$a")" "$a/history.db" <<'PY'
import re, sqlite3, sys
path, pri_r, pri_c, ch, alarm, src, db = sys.argv[1:]
rx = re.compile(r'^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) (\S+) (\d+) (\S+) \[vettime@32473((?: [a-z]+="(?:[^"\\\]]|\\.)*")+)\] (.*)$')
seqs = dict(sqlite3.connect(db).execute("SELECT event, id FROM alert_outbox WHERE channel = ? AND alarm_id = ? AND event IN ('raise','clear')", (ch, int(alarm))).fetchall())
lines = [l.rstrip("\n") for l in open(path)]
bad = [l for l in lines if not rx.match(l)]
if bad: print("not RFC 5424:", bad[:3]); sys.exit(1)
def sd(l): return dict(re.findall(r'([a-z]+)="((?:[^"\\\]]|\\.)*)"', rx.match(l).group(7)))
mine = [l for l in lines if sd(l).get("alarm") == alarm and sd(l).get("kind") == "falseticker"]
raise_ = [l for l in mine if sd(l)["event"] == "raise"]; clear = [l for l in mine if sd(l)["event"] == "clear"]
ok = len(raise_) == 1 and len(clear) == 1
if ok:
    m, s = rx.match(raise_[0]), sd(raise_[0])
    ok = (m.group(1) == pri_r and m.group(3) == "site-a" and m.group(4) == "vettimed" and m.group(6) == "raise"
          and s["source"] == src and s["class"] == "DCF" and s["severity"] == "critical" and s["seq"] == str(seqs["raise"])
          and float(s["value"]) > 0.4 and m.group(8).startswith("alarm %s raised: critical falseticker %s (DCF): " % (alarm, src)))
    m, s = rx.match(clear[0]), sd(clear[0])
    ok = ok and (m.group(1) == pri_c and m.group(6) == "clear" and s["seq"] == str(seqs["clear"])
                 and m.group(8).startswith("alarm %s cleared: falseticker %s (DCF) after " % (alarm, src)))
if not ok: print("lines for alarm", alarm, ":", mine, "seqs", seqs); sys.exit(1)
PY
}
check "A: syslog UDP: RFC 5424 lines, raise <26> and clear <29> with alarm id, kind, source, class, value, sequence, text" \
  syslog_check "$a/sysudp.txt" 26 29 sysudp
check "A: syslog TCP (octet counting, facility local3): raise <154>, clear <157>, no bad frame" \
  syslog_check "$a/systcp.txt" 154 157 systcp
check "A: syslog heartbeat lines (heartbeat 8 on sysudp)" grep -q ' heartbeat \[vettime@32473 seq="[0-9]*" event="heartbeat"' "$a/sysudp.txt"

mail_check() { # DIR DB CHANNEL ALARM SOURCE SITE
  python3 - "$@" <<'PY'
import email, email.utils, glob, sqlite3, sys
d, db, ch, alarm, src, site = sys.argv[1:]
rows = sqlite3.connect(db).execute("SELECT id, event, msgid FROM alert_outbox WHERE channel = ? ORDER BY id", (ch,)).fetchall()
mails = [email.message_from_binary_file(open(f, "rb")) for f in sorted(glob.glob(d + "/mail/*.eml"))]
by_id = {}
for m in mails: by_id.setdefault(m["Message-ID"], []).append(m)
errors = []
if set(by_id) != {r[2] for r in rows}: errors.append("Message-IDs %s != outbox %s" % (sorted(by_id), [r[2] for r in rows]))
for rid, ev, msgid in rows:
    for m in by_id.get(msgid, []):
        if m["X-Vettime-Sequence"] != str(rid): errors.append("sequence of %s" % msgid)
        if email.utils.parsedate_to_datetime(m["Date"]) is None: errors.append("Date")
        if m["X-Envelope-To"] != "noc@example.net, oncall@example.org" or "oncall@example.org" not in m["To"]: errors.append("recipients " + m["X-Envelope-To"])
        body = m.get_payload()
        if ev == "raise" and m["X-Vettime-Alarm"] == alarm:
            want = "[vettime CRITICAL] falseticker raised: %s (DCF) at %s (alarm %s)" % (src, site, alarm)
            if m["Subject"] != want: errors.append("subject %r != %r" % (m["Subject"], want))
            for s in ("alarm %s raised: critical falseticker %s (DCF)" % (alarm, src), "Evidence at the time:", "vote: vetted", src, "class-outvoted"):
                if s not in body: errors.append("body lacks %r" % s)
        if ev == "clear" and m["Subject"] != "[vettime cleared] falseticker: %s (DCF) at %s (alarm %s)" % (src, site, alarm):
            errors.append("clear subject %r" % m["Subject"])
        if ev == "repeat" and "still raised" not in m["Subject"]: errors.append("repeat subject %r" % m["Subject"])
        if ev == "test" and m["Subject"] != "[vettime] test notification from %s" % site: errors.append("test subject %r" % m["Subject"])
if errors: print("\n".join(errors[:10])); sys.exit(1)
PY
}
check "A: mail: one mail per outbox row with its Message-ID; subjects, two recipients, Date, body with evidence" \
  mail_check "$a" "$a/history.db" mail "$ALARM_A" "$(dcf "$a")" site-a
digest_check() {
  python3 - "$a" <<'PY2'
import email, glob, sqlite3, sys
d = sys.argv[1]
rows = sqlite3.connect(d + "/history.db").execute("SELECT count(*) FROM alert_outbox WHERE channel = 'digest'").fetchone()[0]
mails = [email.message_from_binary_file(open(f, "rb")) for f in sorted(glob.glob(d + "/digest/mail/*.eml"))]
listed = sum(m.get_payload().count("==== ") or 1 for m in mails)
print("digest: %d notifications in %d mails" % (rows, len(mails)))
ok = len(mails) < rows and listed == rows and any(m["Message-ID"].startswith("<vettime.digest") for m in mails)
sys.exit(0 if ok else 1)
PY2
}
check "A: digest 6: the notifications of the digest channel came in fewer mails, each listing its share" digest_check
check "A: repeat: the critical alarm was announced again while raised (alertrepeat 6)" \
  test "$(q "$a" "SELECT count(*) FROM alert_outbox WHERE channel = 'mail' AND event = 'repeat' AND alarm_id = $ALARM_A AND text LIKE 'still raised (repeat 1): alarm $ALARM_A raised:%'")" -ge 1

trap_check() { # LOG CHANNEL...
  local log=$1; shift
  python3 - "$log" "$a/history.db" "$ALARM_A" "$(dcf "$a")" "$@" <<'PY'
import re, sqlite3, sys
log, db, alarm, src = sys.argv[1:5]
text = open(log).read()
notes = re.split(r'\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d )', text)
seq = {}
for n in notes:
    m = re.search(r'vtNotifSequence\.0 = Gauge32: (\d+)', n)
    if m: seq.setdefault(int(m.group(1)), []).append(n)
con = sqlite3.connect(db)
errors = []
for ch in sys.argv[5:]:
    for rid, ev in con.execute("SELECT id, event FROM alert_outbox WHERE channel = ? AND event IN ('raise','clear','test')", (ch,)):
        got = seq.get(rid, [])
        if len(got) != 1: errors.append("%s row %d (%s): received %d times" % (ch, rid, ev, len(got))); continue
        n = got[0]
        want = {"raise": "VETTIME-MIB::vtFalsetickerRaised", "clear": "VETTIME-MIB::vtFalsetickerCleared", "test": "VETTIME-MIB::vtTestNotification"}[ev]
        need = ["snmpTrapOID.0 = OID: " + want, "vtSite.0 = STRING: site-a"]
        if ev != "test":
            need += ["vtAlarmId.0 = Gauge32: " + alarm, "vtAlarmSource.0 = STRING: " + src, "vtAlarmClass.0 = STRING: DCF",
                     "vtAlarmSeverity.0 = INTEGER: critical(3)", "vtAlarmKind.0 = STRING: falseticker",
                     "vtAlarmText.0 = STRING: alarm %s %s" % (alarm, "raised: critical falseticker" if ev == "raise" else "cleared: falseticker")]
        errors += ["%s row %d lacks %r" % (ch, rid, s) for s in need if s not in n]
if errors: print("\n".join(errors[:10])); sys.exit(1)
PY
}
if [[ $SNMP_OK == 1 ]]; then
  check "A: snmptrapd v2c: traps and informs decoded with VETTIME-MIB, each notification once, with id, source, class, severity, text" \
    trap_check "$a/trapd2.log" trap2c inform2c
  check "A: snmptrapd v3 (authPriv users only): traps (our engine id) and informs (SHA-256) decoded, each once" \
    trap_check "$a/trapd3.log" trap3 inform3
  check "A: SNMP heartbeat notification (heartbeat 8 on trap2c)" grep -q "snmpTrapOID.0 = OID: VETTIME-MIB::vtHeartbeat" "$a/trapd2.log"
fi
check "A: vettime alert test --wait: every channel says sent, exit 0" \
  bash -c "[[ \$(cat '$a/alert-test.rc') == 0 ]] && [[ \$(grep -c ': sent' '$a/alert-test.out') == $(wc -w <<< "$CHANNELS_A") ]] || { cat '$a/alert-test.out'; false; }"
check "A: the test notification arrived on syslog (MSGID test)" grep -q ' test \[vettime@32473 seq="[0-9]*" event="test"' "$a/sysudp.txt"
check "A: alert status: nothing pending or dead" json_check "$a/status.json" "d['pending'] == [] and d['dead'] == [] and d['sent'] > 0"

# B
MAIL_ROWS_B=$(q "$b" "SELECT count(*) FROM alert_outbox WHERE channel = 'mail'")
check "B: notifications were pending when vettimed was SIGKILLed ($(cat "$b/pending-at-kill" 2>/dev/null) rows)" \
  test "$(cat "$b/pending-at-kill" 2>/dev/null || echo 0)" -ge 1
check "B: while the receivers were down, nothing was sent ($(cat "$b/pending-before-up") pending)" \
  test "$(cat "$b/sent-before-up")" -eq 0 -a "$(cat "$b/pending-before-up")" -ge 3
check "B: the outbox emptied once they came up: no pending, no dead" \
  test "$(q "$b" "SELECT count(*) FROM alert_outbox WHERE state != 'sent'")" -eq 0 -a "$MAIL_ROWS_B" -ge 3
RESTART_B=$(cat "$b/restart_ns")
check "B: rows written before the kill and after the restart were all delivered; the first was retried across the kill ($(q "$b" "SELECT attempts FROM alert_outbox ORDER BY id LIMIT 1") attempts)" \
  test "$(q "$b" "SELECT count(*) FROM alert_outbox WHERE created_ns < $RESTART_B AND state = 'sent'")" -ge 2 -a \
       "$(q "$b" "SELECT count(*) FROM alert_outbox WHERE created_ns > $RESTART_B AND state = 'sent'")" -ge 2 -a \
       "$(q "$b" "SELECT attempts FROM alert_outbox ORDER BY id LIMIT 1")" -ge 2 -a \
       "$(q "$b" "SELECT count(*) FROM alert_outbox WHERE kind = 'falseticker' AND event = 'clear'")" -ge 1
mail_set_check() { # every outbox row's Message-ID arrived; nothing else arrived
  python3 - "$b" <<'PY'
import email, glob, sqlite3, sys
d = sys.argv[1]
ids = {r[0] for r in sqlite3.connect(d + "/history.db").execute("SELECT msgid FROM alert_outbox WHERE channel = 'mail'")}
got = [email.message_from_binary_file(open(f, "rb"))["Message-ID"] for f in glob.glob(d + "/mail/*.eml")]
print("mail: %d rows, %d received, %d distinct" % (len(ids), len(got), len(set(got))))
sys.exit(0 if set(got) == ids else 1)
PY
}
check "B: mail: every notification arrived; any copy carries the same Message-ID" mail_set_check
if [[ $SNMP_OK == 1 ]]; then
  inform_set_check() {
    python3 - "$b" <<'PY'
import re, sqlite3, sys
d = sys.argv[1]
ids = {r[0] for r in sqlite3.connect(d + "/history.db").execute("SELECT id FROM alert_outbox WHERE channel = 'inform2c'")}
got = [int(x) for x in re.findall(r'vtNotifSequence\.0 = Gauge32: (\d+)', open(d + "/trapd2.log").read())]
print("informs: %d rows, %d received, %d distinct" % (len(ids), len(got), len(set(got))))
sys.exit(0 if set(got) == ids else 1)
PY
  }
  check "B: informs: every notification arrived; any copy carries the same vtNotifSequence" inform_set_check
fi
# The measuring loop never waits on a channel: one vote a second while the
# receivers were down (SMTP refused, informs timing out).
gap_check() {
  local from to; from=$(cat "$b/restart_ns"); to=$(cat "$b/empty_ns")
  local r; r=$(q "$b" "SELECT count(*), max(g) FROM (SELECT time_ns - lag(time_ns) OVER (ORDER BY time_ns) AS g FROM votes WHERE time_ns BETWEEN $from AND $to)")
  local n=${r%|*} gap=${r#*|}
  echo "votes during the outage: $n in $(( (to - from) / 1000000000 )) s, longest gap $(( gap / 1000000 )) ms"
  (( n >= (to - from) / 1000000000 - 3 && gap < 2000000000 ))
}
check "B: the rounds kept their 1 s pace during the outage (no wait on a channel)" gap_check

# C
check "C: flapping: one falseticker alarm, one raise and one clear notification on syslog" \
  test "$(q "$c" "SELECT count(*) FROM alert_outbox WHERE channel = 'sysunix' AND kind = 'falseticker' AND event = 'raise'")" -eq 1 -a \
       "$(q "$c" "SELECT count(*) FROM alert_outbox WHERE channel = 'sysunix' AND kind = 'falseticker' AND event = 'clear'")" -eq 1 -a \
       "$(grep -c 'kind="falseticker"' "$c/sysunix.txt")" -eq 2
check "C: the flapping was counted as repeats of the one alarm" \
  json_check "$c/alarms.json" "[a['repeats'] > 0 for a in d['alarms'] if a['kind'] == 'falseticker'] == [True]"
check "C: mail refused with 554: every mail row dead after exactly one attempt" \
  test "$(q "$c" "SELECT count(*) FROM alert_outbox WHERE channel = 'mail' AND state = 'dead' AND attempts = 1 AND last_error LIKE 'smtp 554%'")" -eq 2 -a \
       "$(q "$c" "SELECT count(*) FROM alert_outbox WHERE channel = 'mail'")" -eq 2
check "C: not retried: the server saw each mail once" test "$(wc -l < "$c/rejected.before-retry")" -eq 2
check "C: logged at critical level" grep -q "error: alert: CRITICAL: mail: notification [0-9]* (raise of alarm [0-9]*) is dead after 1 attempts: smtp 554" "$c/vettimed.log"
check "C: vettime alarms shows the dead notifications" grep -q "2 alert notifications dead" "$c/alarms.txt"
check "C: vettime alert status lists them and exits 1" \
  bash -c "[[ \$(cat '$c/status.rc') == 1 ]] && grep -q 'dead notifications: 2' '$c/status.txt' && grep -q 'smtp 554' '$c/status.txt'"
DEAD_C=$(q "$c" "SELECT count(*) FROM alert_outbox WHERE channel = 'mail' AND state = 'dead'")
check "C: vettime alert retry all requeues them; refused again, dead again" \
  bash -c "grep -q '2 dead notifications requeued' '$c/retry.out' && [[ \$(wc -l < '$c/mail/rejected') == 4 && $DEAD_C == 2 ]]"

for x in a b c; do
  if [[ $FAILED -ne 0 ]]; then echo "---- part $x"; tail -5 "$T/$x.out"; grep -E "alert|error" "$T/$x/vettimed.log" | tail -15; fi
done
cat "$b/timeline" 2>/dev/null
summary
