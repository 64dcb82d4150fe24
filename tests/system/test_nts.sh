# System test: NTS (RFC 8915) against real chronyd 4.3 NTS servers on
# loopback, with certificates made here by openssl.
# - chronyd A (cert A, trusted by vettimed through ntstrustedcerts): NTS-KE,
#   cookies, authenticated samples with an offset near 0 (no faketime).
# - chronyd B with another self-signed certificate for the same address:
#   verification fails; no sample, state nts-certificate, logged. The same
#   server with `certset 1` (ntstrustedcerts 1 holds cert B) gives samples.
# - a TLS server that offers only ALPN "http/1.1": state nts-alpn.
# - a TLS server that shares no AEAD algorithm (answers as chronyd does
#   then): state nts-aead.
# - a closed port: state nts-refused.
# - chronyd A's NTS-KE but NTP to a UDP port nobody answers: the eight
#   cookies run out and a new key exchange follows.
# - chronyd A through a relay that moves the transmit timestamp of every
#   response 1000 s ahead (udp_tamper.py xmt): every response rejected and
#   counted as auth_fail, no sample, nothing stored in the history.
# - chronyd A restarted with new cookie keys (its ntsdumpdir emptied): the
#   old cookies get an NTS NAK, vettimed runs a new key exchange and the
#   samples resume.
# - vettime sources shows the Auth column; vettime status warns about the
#   one plain NTP source.
. "$(dirname "$0")/lib.sh"

mkcert() { # NAME: a self-signed P-256 certificate for 127.0.0.1 and localhost
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/$1.key" -out "$T/$1.pem" -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$T/$1.openssl.log" 2>&1
}
check "openssl makes certificate A" mkcert certa
check "openssl makes certificate B" mkcert certb

P_A=$(free_port); KE_A=$(free_port); P_B=$(free_port); KE_B=$(free_port)
KE_ALPN=$(free_port); KE_CLOSED=$(free_port); P_RELAY=$(free_port); P_HTTP=$(free_port)
KE_AEAD=$(free_port); P_SILENT=$(free_port)
mkdir -p "$T/dumpa" "$T/dumpb"
nts_conf() { # CERT KEPORT DUMPDIR
  printf 'ntsservercert %s\nntsserverkey %s\nntsport %s\nntsdumpdir %s\n' \
    "$T/$1.pem" "$T/$1.key" "$2" "$3"
}
start_chronyd ntsa "$P_A" "" "$(nts_conf certa "$KE_A" "$T/dumpa")"
start_chronyd ntsb "$P_B" "" "$(nts_conf certb "$KE_B" "$T/dumpb")"
check "chronyd A answers NTP" wait_for 10 ntp_answers "$P_A"
check "chronyd B answers NTP" wait_for 10 ntp_answers "$P_B"
tcp_open() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1"; }
check "chronyd A listens for NTS-KE" wait_for 10 tcp_open "$KE_A"

timeout 300 python3 "$(dirname "$0")/nts_ke_fake.py" alpn "$KE_ALPN" "$T/certa.pem" "$T/certa.key" 280 &
PIDS+=($!)
timeout 300 python3 "$(dirname "$0")/nts_ke_fake.py" aead "$KE_AEAD" "$T/certa.pem" "$T/certa.key" 280 &
PIDS+=($!)
timeout 300 python3 "$(dirname "$0")/udp_tamper.py" "$P_RELAY" "$P_A" 280 xmt &
PIDS+=($!)
check "the ALPN server listens" wait_for 10 tcp_open "$KE_ALPN"
check "the AEAD server listens" wait_for 10 tcp_open "$KE_AEAD"

cat > "$T/vettime.conf" <<CONF
ntstrustedcerts $T/certa.pem
ntstrustedcerts 1 $T/certb.pem
server 127.0.0.1 nts ntsport $KE_A minpoll 0 maxpoll 0 iburst
server 127.0.0.1 nts ntsport $KE_B minpoll 0 maxpoll 0 iburst
server 127.0.0.1 nts ntsport $KE_ALPN minpoll 0 maxpoll 0 iburst
server 127.0.0.1 nts ntsport $KE_CLOSED minpoll 0 maxpoll 0 iburst
server 127.0.0.1 nts ntsport $KE_A port $P_RELAY minpoll 0 maxpoll 0 iburst
server 127.0.0.1 port $P_A minpoll 0 maxpoll 0 iburst
server 127.0.0.1 nts ntsport $KE_AEAD minpoll 0 maxpoll 0 iburst
server 127.0.0.1 nts ntsport $KE_A port $P_SILENT minpoll 0 maxpoll 0 iburst
server 127.0.0.1 nts ntsport $KE_B port $P_B certset 1 minpoll 0 maxpoll 0 iburst
server localhost nts ntsport $KE_A minpoll 0 maxpoll 0 iburst
database $T/history.db
http 127.0.0.1 port $P_HTTP
log debug
CONF
check "vettimed -t accepts the NTS configuration" "$VETTIMED" -t -c "$T/vettime.conf"
check "vettimed starts" start_vettimed "$T/vettime.conf"

GOOD="127.0.0.1/nts:$KE_A"; FORGED="127.0.0.1:$P_RELAY/nts:$KE_A"
sources() { "$VETTIME" -c "$T/vettime.conf" sources --json > "$T/sources.json"; }
src="d['sources']"
settled() {
  sources && json_check "$T/sources.json" \
    "$src[0]['counters']['valid'] >= 4 and $src[1]['state'] == 'nts-certificate' and $src[2]['state'] == 'nts-alpn' and $src[3]['state'] == 'nts-refused' and $src[4]['counters']['auth_fail'] >= 4" > /dev/null
}
check "within 20 s: NTS samples, and each failure has its state" wait_for 20 settled
sources
check "NTS source: samples accepted, offset near 0, no auth failure" json_check "$T/sources.json" \
  "$src[0]['name'] == '$GOOD' and $src[0]['state'] == 'ok' and $src[0]['have_sample'] and abs($src[0]['offset']) < 0.05 and $src[0]['counters']['auth_fail'] == 0 and $src[0]['auth'] == 'nts'"
check "NTS source: cookies kept (detail names them and one key exchange)" json_check "$T/sources.json" \
  "'cookies' in $src[0]['detail'] and '1 key exchange' in $src[0]['detail'] and 'port $P_A' in $src[0]['detail']"
check "certificate that does not match: no sample, state nts-certificate" json_check "$T/sources.json" \
  "$src[1]['counters']['valid'] == 0 and $src[1]['counters']['sent'] == 0 and not $src[1]['have_sample'] and 'certificate verification failed' in $src[1]['detail']"
check "wrong ALPN: no sample, state nts-alpn" json_check "$T/sources.json" \
  "$src[2]['counters']['sent'] == 0 and not $src[2]['have_sample'] and 'ntske/1' in $src[2]['detail']"
check "closed port: state nts-refused" json_check "$T/sources.json" \
  "$src[3]['counters']['sent'] == 0 and 'refused' in $src[3]['detail']"
check "forged transmit timestamps: every response rejected and counted, no sample" json_check "$T/sources.json" \
  "$src[4]['name'] == '$FORGED' and $src[4]['counters']['valid'] == 0 and $src[4]['counters']['auth_fail'] == $src[4]['counters']['received'] and $src[4]['state'] == 'auth-fail' and not $src[4]['have_sample']"
check "the plain source is reported as unauthenticated" json_check "$T/sources.json" \
  "$src[5]['auth'] == 'none' and $src[1]['auth'] == 'nts'"
aead_failed() { sources && json_check "$T/sources.json" "$src[6]['state'] == 'nts-aead'" > /dev/null; }
check "no common AEAD algorithm: state nts-aead" wait_for 10 aead_failed
check "no common AEAD algorithm: no request sent, the reason in detail" json_check "$T/sources.json" \
  "$src[6]['counters']['sent'] == 0 and 'no common AEAD' in $src[6]['detail']"
rekeyed_silent() { sources && json_check "$T/sources.json" "'2 key exchanges' in $src[7]['detail']" > /dev/null; }
check "cookies run out (8 unanswered requests): a new key exchange" wait_for 20 rekeyed_silent
check "chronyd B under certset 1 (its certificate trusted there): samples" json_check "$T/sources.json" \
  "$src[8]['state'] == 'ok' and $src[8]['counters']['valid'] >= 3 and abs($src[8]['offset']) < 0.05"
# By name: the NTS-KE host and the NTP server (the exchange names none, so
# the same name) looked up off the loop, the certificate checked for the
# DNS name.
if [[ $(getent ahosts localhost | head -1 | cut -d' ' -f1) == 127.0.0.1 ]]; then
  check "by name (localhost): samples, the NTP server looked up by name" json_check "$T/sources.json" \
    "$src[9]['name'] == 'localhost/nts:$KE_A' and $src[9]['state'] == 'ok' and $src[9]['counters']['valid'] >= 3 and 'NTP localhost port $P_A' in $src[9]['detail']"
fi
check "... after the eight cookies were spent" json_check "$T/sources.json" \
  "$src[7]['counters']['sent'] >= 8 and $src[7]['counters']['timeout'] >= 7 and $src[7]['counters']['valid'] == 0"
check "log: certificate failure with the reason" grep -q "NTS-KE with 127.0.0.1 port $KE_B failed (certificate): certificate verification failed" "$T/vettimed.log"
check "log: ALPN failure" grep -q "NTS-KE with 127.0.0.1 port $KE_ALPN failed (alpn)" "$T/vettimed.log"
check "log: refused" grep -q "NTS-KE with 127.0.0.1 port $KE_CLOSED failed (refused)" "$T/vettimed.log"
check "log: NTS authentication failures of the forged source" grep -q "server $FORGED: response failed NTS authentication (auth-fail)" "$T/vettimed.log"

# The forger's rejections rise while nothing of its is stored.
fail_before=$(python3 -c "import json; print(json.load(open('$T/sources.json'))['sources'][4]['counters']['auth_fail'])")
sleep 3
sources
check "forged source: the rejected counter keeps rising" json_check "$T/sources.json" \
  "$src[4]['counters']['auth_fail'] > $fail_before and $src[4]['counters']['valid'] == 0"
stored() { sqlite3 "$T/history.db" "SELECT count(*) FROM samples s JOIN sources o ON o.id = s.source_id WHERE o.name = '$1'"; }
good_stored() { [[ $(stored "$GOOD") -gt 0 ]]; }
check "the NTS source's samples are stored" wait_for 15 good_stored
check "the forged source has no stored sample" test "$(stored "$FORGED")" = 0

"$VETTIME" -c "$T/vettime.conf" sources > "$T/sources.txt"
check "vettime sources has an Auth column" grep -qE "^Name .* Auth +State" "$T/sources.txt"
check "vettime sources shows nts for the NTS source" grep -qE "^127.0.0.1/nts:$KE_A .* nts +ok" "$T/sources.txt"
"$VETTIME" -c "$T/vettime.conf" status > "$T/status.txt"
check "vettime status warns about the plain source" \
  grep -q "^Warning: *1 NTP source is neither NTS nor keyed: 127.0.0.1:$P_A$" "$T/status.txt"
curl -s "http://127.0.0.1:$P_HTTP/metrics" > "$T/metrics.txt"
check "/metrics: auth info of the NTS source" grep -q "vettime_source_auth_info{source=\"$GOOD\",auth=\"nts\"} 1" "$T/metrics.txt"
check "/metrics: auth failures of the forged source" \
  grep -qE "vettime_source_probe_events_total\{source=\"$FORGED\",event=\"auth_fail\"\} [1-9]" "$T/metrics.txt"

# chronyd A restarts with new cookie keys: NTS NAK, new key exchange, samples resume.
valid_before=$(python3 -c "import json; print(json.load(open('$T/sources.json'))['sources'][0]['counters']['valid'])")
kill "$(cat "$T/ntsa.pid")"
gone() { ! kill -0 "$(cat "$T/ntsa.pid" 2>/dev/null)" 2>/dev/null; }
check "chronyd A stops" wait_for 10 gone
rm -f "$T"/dumpa/*
start_chronyd ntsa "$P_A" "" "$(nts_conf certa "$KE_A" "$T/dumpa")"
check "chronyd A is back" wait_for 10 ntp_answers "$P_A"
rekeyed() {
  sources && json_check "$T/sources.json" \
    "'2 key exchanges' in $src[0]['detail'] and $src[0]['counters']['valid'] >= $valid_before + 3 and $src[0]['state'] == 'ok'" > /dev/null
}
check "after the restart: a new key exchange and samples again" wait_for 20 rekeyed
check "the NTS NAK was seen and logged" grep -q "server $GOOD: NTS NAK (the server no longer knows our cookies): new key exchange" "$T/vettimed.log"
sources
check "the NAK counts as a kiss-o'-death, never as a sample" json_check "$T/sources.json" \
  "$src[0]['counters']['kod'] >= 1 and abs($src[0]['offset']) < 0.05"
check "vettimed is still running" kill -0 "$VETTIMED_PID"

# An ntstrustedcerts that cannot be read stops the start, with the reason.
sed "s|^ntstrustedcerts /.*|ntstrustedcerts $T/missing.pem|; s|^http .*|http off|" "$T/vettime.conf" > "$T/badcerts.conf"
timeout 10 "$VETTIMED" -c "$T/badcerts.conf" > "$T/badcerts.out" 2>&1
check "a missing ntstrustedcerts is refused at start (78)" test $? -eq 78
# Checked before anything starts (issue 12), at the ntstrustedcerts line.
check "the message names the ntstrustedcerts line and the file" \
  grep -q "badcerts.conf:1: cannot load ntstrustedcerts $T/missing.pem" "$T/badcerts.out"

printf 'server 127.0.0.1 nts certset 5\nhttp off\ndatabase %s\n' "$T/set.db" > "$T/noset.conf"
timeout 10 "$VETTIMED" -c "$T/noset.conf" > "$T/noset.out" 2>&1
check "a certset without ntstrustedcerts is refused at start (78)" test $? -eq 78
check "... with the reason" grep -q "noset.conf:1: server 127.0.0.1: certset 5 has no ntstrustedcerts line" "$T/noset.out"
check "... and no database file" test ! -e "$T/set.db"

summary
