# System test: vettimed serving the vetted time with NTS (RFC 8915; issue 14
# item 2). vettimed polls `vettime simulate`'s three correct stratum-1
# servers so that its vote is vetted, and serves NTP and NTS-KE on loopback
# with a certificate made here by openssl; then:
#   - vettimed -t: a key that is not the certificate's, a missing key file
#     and a certificate without a key are refused with FILE:LINE;
#   - chronyd 4.3 as an NTS client (`chronyd -Q` with ntstrustedcerts)
#     accepts the time: offset within 1 ms, counted as NTS-KE sessions and
#     NTS answers;
#   - NTS-KE by hand (python's ssl): TLS 1.3, ALPN ntske/1, NTPv4, AEAD 15,
#     8 cookies of 104 bytes, a Port record naming the NTP port; ALPN
#     http/1.1 refused; an unknown critical record -> error 0; a record cut
#     short -> error 1; no common AEAD -> no AEAD record;
#   - NTS-KE bounded: 4 idle connections per address held until the 2 s
#     deadline, more refused at once, another address still served;
#   - forged NTP requests: a real cookie with a bad Authenticator and a
#     cookie of an unknown key get an NTS NAK (KoD NTSN, the unique
#     identifier echoed, no Authenticator), two cookies are dropped; each
#     counted;
#   - a restart keeping the key file: chronyd's saved cookies still work
#     (no new NTS-KE session); one whose key is older than ntsrotate: a new
#     key, the old one kept, the old cookies still open; a restart without
#     the file: NTS NAK, chronyd re-keys and gets the time again.
. "$(dirname "$0")/lib.sh"
deadline=$((SECONDS + 150))
PROBE="python3 $(dirname "$0")/nts_probe.py"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$T/srv.key" -out "$T/srv.pem" -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$T/openssl.log" 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$T/other.key" -out "$T/other.pem" -days 2 -subj "/CN=other" >> "$T/openssl.log" 2>&1
check "openssl makes the certificates" test -s "$T/srv.pem" -a -s "$T/other.key"

cat > "$T/serve.scn" <<'SCN'
name serve
duration 280
seed 10
poll 0 1
server gps1 refid GPS jitter 10us
server gal1 refid GAL jitter 10us
server dcf1 refid DCF jitter 50us
SCN
base=$(free_ports 3)
"$VETTIME" simulate "$T/serve.scn" --port-base "$base" --config "$T/servers.conf" \
  --ready "$T/sim.ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -e "$T/sim.ready" || fail "the simulator started"

P=$(free_port); KE=$(free_port); HTTP=$(free_port)
mkdir -p "$T/keys"
{
  cat "$T/servers.conf"
  echo "database $T/history.db"
  echo "http 127.0.0.1 port $HTTP"
  echo "serve 127.0.0.1 port $P"
  echo "ntsservercert $T/srv.pem"
  echo "ntsserverkey $T/srv.key"
  echo "ntsport $KE"
  echo "ntsdumpdir $T/keys"
} > "$T/vettime.conf"

# ---- vettimed -t -------------------------------------------------------------
check "vettimed -t accepts the NTS configuration" "$VETTIMED" -t -c "$T/vettime.conf"
line=$(grep -n ntsserverkey "$T/vettime.conf" | cut -d: -f1)
sed "s#$T/srv.key#$T/other.key#" "$T/vettime.conf" > "$T/bad1.conf"
"$VETTIMED" -t -c "$T/bad1.conf" > "$T/bad1.out" 2>&1
echo "rc $?" >> "$T/bad1.out"
check "vettimed -t: a bad NTS key is a configuration error (78), no database made" \
  bash -c "grep -q '^rc 78$' '$T/bad1.out' && ! test -e '$T/history.db'"
check "vettimed -t: a key not the certificate's, FILE:LINE" \
  grep -q "bad1.conf:$line: ntsserverkey .*not the certificate's" "$T/bad1.out"
sed "s#$T/srv.key#$T/missing.key#" "$T/vettime.conf" > "$T/bad2.conf"
"$VETTIMED" -t -c "$T/bad2.conf" > "$T/bad2.out" 2>&1
check "vettimed -t: an unreadable key, FILE:LINE" \
  grep -q "bad2.conf:$line: ntsserverkey .*No such file" "$T/bad2.out"
grep -v ntsserverkey "$T/vettime.conf" > "$T/bad3.conf"
"$VETTIMED" -t -c "$T/bad3.conf" > "$T/bad3.out" 2>&1
check "vettimed -t: a certificate without a key" grep -q "ntsservercert without ntsserverkey" "$T/bad3.out"

# ---- serving -----------------------------------------------------------------
check "vettimed starts" start_vettimed "$T/vettime.conf"
status_json() { "$VETTIME" -c "$T/vettime.conf" status --json > "$T/status.json" 2>/dev/null; }
# sc PYTHON_EXPR: over the server's counters (c).
sc() { status_json && json_check "$T/status.json" "(lambda c: $1)(d['server']['counters'])"; }
check "vettimed serves once the vote is vetted" \
  wait_for 40 bash -c "'$VETTIME' -c '$T/vettime.conf' status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"server\"][\"state\"] == \"serving\" else 1)'"
check "the key file is made, mode 0600" bash -c "[[ \$(stat -c %a '$T/keys/ntskeys') == 600 ]]"

mkdir -p "$T/cdump"
cat > "$T/chronyc.conf" <<CONF
server 127.0.0.1 port $P nts ntsport $KE iburst
ntstrustedcerts $T/srv.pem
ntsdumpdir $T/cdump
cmdport 0
pidfile $T/chronyc.pid
CONF
# chrony_q N: chronyd -Q, its log in $T/chronyq-N.log; passes when it
# reports the offset, within 1 ms.
chrony_q() {
  timeout 30 chronyd -Q -u root -f "$T/chronyc.conf" > "$T/chronyq-$1.log" 2>&1
  python3 - "$T/chronyq-$1.log" <<'PY'
import re, sys
m = re.search(r"System clock wrong by (-?[0-9.]+) seconds", open(sys.argv[1]).read())
print("offset", m and m.group(1)); sys.exit(0 if m and abs(float(m.group(1))) < 0.001 else 1)
PY
}
check "chronyd -Q with NTS accepts vettimed's time (within 1 ms)" chrony_q 1
check "counted: an NTS-KE session, NTS answers" sc "c['nts_ke_sessions'] >= 1 and c['nts_answered'] >= 1 and c['nts_nak'] == 0"
check "chronyd kept vettimed's cookies" test -s "$T/cdump/127.0.0.1.nts"
"$VETTIME" -c "$T/vettime.conf" status > "$T/status.txt"
check "vettime status counts the NTS answers" grep -Eq "^Serving: .* requests answered \([0-9]+ with NTS\)" "$T/status.txt"

# ---- NTS-KE by hand ----------------------------------------------------------
$PROBE ke "$KE" "$T/srv.pem" > "$T/ke.json"
check "NTS-KE: TLS 1.3, ntske/1, NTPv4, AEAD 15, 8 cookies, Port $P" json_check "$T/ke.json" \
  "d['version'] == 'TLSv1.3' and d['alpn'] == 'ntske/1' and \
   [r['body'] for r in d['records'] if r['type'] == 1] == ['0000'] and \
   [r['body'] for r in d['records'] if r['type'] == 4] == ['000f'] and \
   [len(r['body']) // 2 for r in d['records'] if r['type'] == 5] == [104] * 8 and \
   [int(r['body'], 16) for r in d['records'] if r['type'] == 7] == [$P] and \
   d['records'][-1]['type'] == 0"
$PROBE ke "$KE" "$T/srv.pem" http/1.1 > "$T/ke-alpn.json"
check "NTS-KE: ALPN http/1.1 refused (no_application_protocol)" json_check "$T/ke-alpn.json" \
  "'no application protocol' in d.get('error', '').lower()"
$PROBE ke "$KE" "$T/srv.pem" ntske/1 critical > "$T/ke-crit.json"
check "NTS-KE: an unknown critical record: error 0" json_check "$T/ke-crit.json" \
  "[r['body'] for r in d['records'] if r['type'] == 2] == ['0000'] and not any(r['type'] == 5 for r in d['records'])"
$PROBE ke "$KE" "$T/srv.pem" ntske/1 bad > "$T/ke-bad.json"
check "NTS-KE: a malformed record: error 1 (bad request)" json_check "$T/ke-bad.json" \
  "[r['body'] for r in d['records'] if r['type'] == 2] == ['0001']"
$PROBE ke "$KE" "$T/srv.pem" ntske/1 noaead > "$T/ke-noaead.json"
check "NTS-KE: no common AEAD: no AEAD record, no cookie" json_check "$T/ke-noaead.json" \
  "not any(r['type'] in (4, 5) for r in d['records']) and d['records'][-1]['type'] == 0"
check "counted: NTS-KE failures (ALPN, errors)" sc "c['nts_ke_failed'] >= 4"

# Bounded: 6 idle connections from one address (no TLS hello): 4 are held,
# then closed at the 2 s deadline; 2 are refused at once. A real exchange
# from another loopback address meanwhile still succeeds.
python3 - "$KE" > "$T/ke-idle.txt" <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2) for _ in range(6)]
import select
t0 = time.monotonic(); closed = []; open_ = list(socks)
while open_ and time.monotonic() - t0 < 5:
    ready, _, _ = select.select(open_, [], [], 0.05)
    for s in ready:  # readable: the server closed it (EOF or reset)
        closed.append(round(time.monotonic() - t0, 1)); open_.remove(s)
print(" ".join(map(str, sorted(closed))))
PY
IDLE=$!
sleep 0.5
ke_other() {
  python3 - "$KE" "$T/srv.pem" <<'PY'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.load_verify_locations(sys.argv[2])
ctx.set_alpn_protocols(["ntske/1"])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3, source_address=("127.0.0.2", 0))
with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
    s.sendall(bytes.fromhex("80010002000080040002000f80000000"))  # NTPv4, AEAD 15, End
    data = s.recv(4096)
    sys.exit(0 if len(data) > 8 * 104 else 1)
PY
}
check "NTS-KE from another address while one holds its 4 connections" ke_other
wait "$IDLE"
check "NTS-KE: 2 of 6 idle connections refused at once, 4 closed at the 2 s deadline" python3 - "$T/ke-idle.txt" <<'PY'
import sys
t = [float(x) for x in open(sys.argv[1]).read().split()]
print(t); sys.exit(0 if len(t) == 6 and all(x < 1 for x in t[:2]) and all(1.5 <= x <= 3.5 for x in t[2:]) else 1)
PY
check "counted: NTS-KE refused (2) and timed out" sc "c['nts_ke_refused'] == 2 and c['nts_ke_failed'] >= 8"

# ---- forged NTP requests -----------------------------------------------------
COOKIE=$(python3 -c "import json,sys; print([r['body'] for r in json.load(open(sys.argv[1]))['records'] if r['type'] == 5][0])" "$T/ke.json")
$PROBE ntp "$P" badauth "$COOKIE" > "$T/ntp-badauth.json"
check "a real cookie with a bad Authenticator: NTS NAK (KoD NTSN, uid echoed, no Authenticator)" \
  json_check "$T/ntp-badauth.json" \
  "d['answer'] and d['stratum'] == 0 and d['kiss'] == 'NTSN' and d['uid_echo'] and not d['has_auth'] and d['len'] <= d['sent']"
$PROBE ntp "$P" unknown > "$T/ntp-unknown.json"
check "a cookie of an unknown key: NTS NAK" json_check "$T/ntp-unknown.json" \
  "d['answer'] and d['kiss'] == 'NTSN' and d['uid_echo']"
$PROBE ntp "$P" twocookies "$COOKIE" > "$T/ntp-two.json"
check "two cookies (malformed): no answer" json_check "$T/ntp-two.json" "not d['answer']"
check "counted: 2 NAKs (1 for an unknown key), 1 malformed" \
  sc "c['nts_nak'] == 2 and c['nts_unknown_key'] == 1 and c['nts_malformed'] == 1"
curl -s "http://127.0.0.1:$HTTP/metrics" > "$T/metrics.txt"
check "/metrics: NTS answers and NTS-KE sessions" python3 - "$T/metrics.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
a = float(re.search(r'^vettime_server_nts_answered_total (\S+)$', t, re.M).group(1))
s = float(re.search(r'^vettime_server_nts_ke_total\{result="session"\} (\S+)$', t, re.M).group(1))
n = float(re.search(r'^vettime_server_requests_total\{result="nts_nak"\} (\S+)$', t, re.M).group(1))
print(a, s, n); sys.exit(0 if a >= 1 and s >= 2 and n == 2 else 1)
PY

# ---- restarts ----------------------------------------------------------------
restart() {
  kill "$VETTIMED_PID" 2>/dev/null
  wait "$VETTIMED_PID" 2>/dev/null
  start_vettimed "$T/vettime.conf" &&
    wait_for 40 bash -c "'$VETTIME' -c '$T/vettime.conf' status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"server\"][\"state\"] == \"serving\" else 1)'"
}
check "restarted with its key file" restart
check "chronyd's saved cookies still open after the restart" chrony_q 2
check "counted: NTS answers without a new NTS-KE session" \
  sc "c['nts_answered'] >= 1 and c['nts_ke_sessions'] == 0 and c['nts_nak'] == 0"
# A key file whose newest key is older than ntsrotate (3600 s): a new key
# at start, the old one kept, the cookies chronyd holds still open.
kill "$VETTIMED_PID"
wait "$VETTIMED_PID" 2>/dev/null
sed -i 's/ [0-9]*$/ 1000/' "$T/keys/ntskeys"
check "restarted with an old key" restart
check "rotated at start: a new key logged, two keys kept" bash -c \
  "grep -q 'new cookie key' '$T/vettimed.log' && [[ \$(grep -vc '^#' '$T/keys/ntskeys') == 2 ]]"
check "chronyd's cookies of the previous key still open" chrony_q 4
check "counted: no NAK after the rotation" sc "c['nts_answered'] >= 1 and c['nts_nak'] == 0"
rm -f "$T/keys/ntskeys"
check "restarted without its key file" restart
check "a new key file" test -s "$T/keys/ntskeys"
check "chronyd re-keys after the NAK and accepts the time" chrony_q 3
check "counted: an NTS NAK for an unknown key, then a new NTS-KE session and NTS answers" \
  sc "c['nts_unknown_key'] >= 1 and c['nts_ke_sessions'] >= 1 and c['nts_answered'] >= 1"

((SECONDS < deadline)) || echo "warning: the test ran past its budget"
summary
