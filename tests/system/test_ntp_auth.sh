# System test: authenticated NTP (RFC 8573) against real chronyd servers.
# chronyd reads a chrony-format key file; vettimed reads the same keys
# written the NTPsec way, so both formats are exercised.
# - Keys 1 (AES-128-CMAC) and 2 (SHA1) match: authenticated samples.
# - Key 3 differs between the two sides: chronyd cannot verify the request
#   and drops it without an answer (chrony sends no crypto-NAK), so the
#   source must stay unreachable with no sample, and the daemon must run on.
# - Key 1 through a relay that flips a bit of chronyd's MAC: the response
#   fails verification here and must be rejected and counted as auth_fail.
. "$(dirname "$0")/lib.sh"

CMAC_KEY=2b7e151628aed2a6abf7158809cf4f3c
SHA1_KEY=00112233445566778899aabbccddeeff00112233
cat > "$T/chrony.keys" <<KEYS
1 AES128 HEX:$CMAC_KEY
2 SHA1 HEX:$SHA1_KEY
3 SHA1 HEX:1111111111111111111111111111111111111111
KEYS
cat > "$T/ntp.keys" <<KEYS
# NTPsec ntp.keys(5) style: hex keys without a prefix
1 AES-128-CMAC $CMAC_KEY
2 SHA1 $SHA1_KEY
3 SHA1 2222222222222222222222222222222222222222
KEYS
chmod 600 "$T/ntp.keys" # vettimed refuses a key file others may read

P1=$(free_port); P2=$(free_port); P3=$(free_port); P_RELAY=$(free_port); P_HTTP=$(free_port)
for p in "$P1" "$P2" "$P3"; do
  start_chronyd "auth$p" "$p" "" "keyfile $T/chrony.keys"
  check "chronyd on port $p answers" wait_for 10 ntp_answers "$p"
done

timeout 120 python3 "$(dirname "$0")/udp_tamper.py" "$P_RELAY" "$P1" 100 &
PIDS+=($!)

cat > "$T/vettime.conf" <<CONF
keyfile $T/ntp.keys
server 127.0.0.1 port $P1 key 1 minpoll 0 maxpoll 0 iburst
server 127.0.0.1 port $P2 key 2 minpoll 0 maxpoll 0 iburst
server 127.0.0.1 port $P3 key 3 minpoll 0 maxpoll 0 iburst
server 127.0.0.1 port $P_RELAY key 1 minpoll 0 maxpoll 0 iburst
database $T/history.db
http 127.0.0.1 port $P_HTTP
CONF
check "vettimed starts" start_vettimed "$T/vettime.conf"

sources() { "$VETTIME" -c "$T/vettime.conf" sources --json > "$T/sources.json"; }
settled() {
  sources && json_check "$T/sources.json" \
    "d['sources'][0]['counters']['valid'] >= 3 and d['sources'][1]['counters']['valid'] >= 3 and d['sources'][2]['counters']['sent'] >= 3 and d['sources'][3]['counters']['auth_fail'] >= 3"
}
check "authenticated sources get 3 samples within 15 s" wait_for 15 settled
sources
src="d['sources']"
check "AES-128-CMAC source accepted, offset near 0" json_check "$T/sources.json" \
  "$src[0]['state'] == 'ok' and abs($src[0]['offset']) < 0.05 and $src[0]['counters']['auth_fail'] == 0"
check "SHA1 source accepted, offset near 0" json_check "$T/sources.json" \
  "$src[1]['state'] == 'ok' and abs($src[1]['offset']) < 0.05 and $src[1]['counters']['auth_fail'] == 0"
check "wrong key: chronyd drops the request; no sample, timeouts counted, unreachable" json_check "$T/sources.json" \
  "$src[2]['counters']['valid'] == 0 and $src[2]['counters']['timeout'] >= 2 and $src[2]['state'] == 'unreachable' and not $src[2]['have_sample']"
check "tampered MAC: every response rejected and counted, state auth-fail" json_check "$T/sources.json" \
  "$src[3]['counters']['valid'] == 0 and $src[3]['counters']['auth_fail'] == $src[3]['counters']['received'] and $src[3]['state'] == 'auth-fail' and not $src[3]['have_sample']"
check "vettimed is still running" kill -0 "$VETTIMED_PID"
check "the failure is logged with the server and key id" grep -q "server 127.0.0.1:$P_RELAY: response failed authentication (auth-fail, key 1)" "$T/vettimed.log"

# A key id that is not in the key file stops the daemon at start, naming the line.
sed "s/key 3/key 9/" "$T/vettime.conf" > "$T/badkey.conf"
"$VETTIMED" -t -c "$T/badkey.conf" > "$T/badkey.out" 2>&1
check "unknown key id refused with exit 78 (EX_CONFIG)" test $? -eq 78
check "the message names the file, line and key" grep -q "badkey.conf:4: server 127.0.0.1:$P3: key 9 is not in $T/ntp.keys" "$T/badkey.out"

summary
