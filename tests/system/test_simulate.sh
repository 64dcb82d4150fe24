# System test: `vettime simulate` serves fake stratum-1 NTP servers that a
# real NTP client (a mode-3 request built and checked here in python3, no
# extra packages) sees with the scenario's offsets and faults: offset,
# a scheduled step, silence, kiss-o'-death, stratum 16 / LI 3, MACs good and
# bad, no answer to modes 6 and 7, the origin timestamp echoed. Also: every
# bundled scenario parses, a bad one is refused with FILE:LINE and exit 78,
# SIGTERM and the end of the duration stop it with exit 0; servers bound to
# their own loopback addresses (`bind`, --bind-base) answer from them.
. "$(dirname "$0")/lib.sh"

# ntpc PORT [--host A] [--mode M] [--version V] [--poll P] [--len N]
#           [--key ID:HEX] [--bad-digest]
# Sends one request to A (127.0.0.1) and prints the answer as JSON
# ({"answered": false} if none within 1 s), with the address it came from
# (from). With --key the request carries an MD5 MAC and the answer's MAC is
# checked (mac_ok).
cat > "$T/ntpc.py" <<'PY'
import argparse, hashlib, json, os, socket, struct, time
NTP_UNIX = 2208988800
p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--mode", type=int, default=3)
p.add_argument("--version", type=int, default=4)
p.add_argument("--poll", type=int, default=4)
p.add_argument("--len", type=int, default=48)
p.add_argument("--key", default="")
p.add_argument("--bad-digest", action="store_true")
a = p.parse_args()
def to_ntp(t):
    return (int(t) + NTP_UNIX) << 32 | int((t % 1) * 2**32)
def from_ntp(v):
    return (v >> 32) - NTP_UNIX + (v & 0xffffffff) / 2**32
nonce = struct.unpack("!Q", os.urandom(8))[0]
pkt = struct.pack("!BBbb", a.version << 3 | a.mode, 0, a.poll, 0) + bytes(36) + struct.pack("!Q", nonce)
pkt = pkt[:a.len] if a.len < 48 else pkt
keyid, key = 0, b""
if a.key:
    keyid, hexkey = a.key.split(":")
    keyid, key = int(keyid), bytes.fromhex(hexkey)
    digest = bytearray(hashlib.md5(key + pkt).digest())
    if a.bad_digest:
        digest[0] ^= 1
    pkt += struct.pack("!I", keyid) + bytes(digest)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
t1 = time.time()
s.sendto(pkt, (a.host, a.port))
try:
    r, sender = s.recvfrom(1024)
except OSError:
    print(json.dumps({"answered": False})); raise SystemExit(0)
t4 = time.time()
li_vn_mode, stratum, poll, prec, rdelay, rdisp, refid = struct.unpack("!BBbbII4s", r[:16])
ref, org, rec, xmt = struct.unpack("!QQQQ", r[16:48])
t2, t3 = from_ntp(rec), from_ntp(xmt)
out = {"answered": True, "len": len(r), "li": li_vn_mode >> 6, "vn": (li_vn_mode >> 3) & 7,
       "mode": li_vn_mode & 7, "stratum": stratum, "poll": poll, "precision": prec,
       "rootdelay": rdelay / 65536, "rootdisp": rdisp / 65536,
       "refid": refid.rstrip(b"\0").decode("ascii", "replace"),
       "from": "%s:%d" % sender, "origin_ok": org == nonce, "offset": ((t2 - t1) + (t3 - t4)) / 2,
       "delay": (t4 - t1) - (t3 - t2), "ref_age": t2 - from_ntp(ref)}
if len(r) > 48:
    rid = struct.unpack("!I", r[48:52])[0]
    out["mac_ok"] = rid == keyid and hashlib.md5(key + r[:48]).digest() == r[52:]
print(json.dumps(out))
PY
ntpc() { python3 "$T/ntpc.py" "$@"; }
# q NAME PYTHON_EXPR ntpc-ARGS...: one request, then the expression over its answer.
q() {
  local name=$1 expr=$2; shift 2
  ntpc "$@" > "$T/$name.json" && json_check "$T/$name.json" "$expr"
}

# ---- scenario files: bundled ones parse, a bad one is refused ----------
for f in "$TOP"/tests/scenarios/*.scn "$TOP"/demo/demo.scn; do
  check "$(basename "$f") parses (--check)" "$VETTIME" simulate "$f" --check
done
printf 'duration 10\nserver a refid GPS\nat 5 b step 1ms\n' > "$T/bad.scn"
"$VETTIME" simulate "$T/bad.scn" > /dev/null 2> "$T/bad.err"
check "a bad scenario exits 78" test $? -eq 78
check "the error names FILE:LINE" grep -qxF "vettime simulate: $T/bad.scn:3: unknown server \"b\"" "$T/bad.err"

# ---- one run: six servers, faults at 0 s and a step at 6 s -------------
KEY=0102030405060708090a0b0c0d0e0f10
echo "1 MD5 HEX:$KEY" > "$T/keys"
cat > "$T/sys.scn" <<'SCN'
name system-test
duration 60
seed 7
poll 0 0
server a refid GPS offset 0.25s jitter 0 rootdelay 1ms rootdisp 2ms
server b refid GAL
server c refid DCF
server d refid GPS
server e refid GAL key 1 jitter 0
server f refid GPS key 1
at 6 a step +0.1s
at 0 b silent
at 0 c kod RATE
at 0 d stratum 16
at 0 f badmac
SCN
BASE=$(free_port)
for i in 1 2 3 4 5; do # six consecutive free ports from BASE
  ok=1
  for p in $(seq "$BASE" $((BASE + 5))); do
    python3 -c "import socket,sys; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).bind(('127.0.0.1',$p))" 2>/dev/null || ok=0
  done
  [[ $ok -eq 1 ]] && break
  BASE=$(free_port)
done
PA=$BASE PB=$((BASE + 1)) PC=$((BASE + 2)) PD=$((BASE + 3)) PE=$((BASE + 4)) PF=$((BASE + 5))
"$VETTIME" simulate "$T/sys.scn" --port-base "$BASE" --config "$T/servers.conf" \
  --ready "$T/ready" --keyfile "$T/keys" > "$T/sim.out" 2> "$T/sim.err" &
SIM=$!
PIDS+=($SIM)
check "the ready file appears within 5 s" wait_for 5 test -s "$T/ready"
check "ready file: one line per server" test "$(wc -l < "$T/ready")" -eq 6
check "ready file names the ports" grep -qx "a 127.0.0.1 $PA" "$T/ready"
check "config: a server line for a" grep -qx "server 127.0.0.1 port $PA minpoll 0 maxpoll 0 iburst" "$T/servers.conf"
check "config: key 1 for e" grep -qx "server 127.0.0.1 port $PE minpoll 0 maxpoll 0 iburst key 1" "$T/servers.conf"
check "config: the keyfile" grep -qx "keyfile $T/keys" "$T/servers.conf"

check "offset 0.25 s before the step (+-5 ms)" q a1 \
  'd["answered"] and abs(d["offset"] - 0.25) < 0.005' "$PA"
check "origin = the request's transmit" json_check "$T/a1.json" 'd["origin_ok"]'
check "stratum 1, refid GPS, LI 0, mode 4, precision -20" json_check "$T/a1.json" \
  'd["stratum"] == 1 and d["refid"] == "GPS" and d["li"] == 0 and d["mode"] == 4 and d["precision"] == -20'
check "root delay 1 ms, root dispersion 2 ms" json_check "$T/a1.json" \
  'abs(d["rootdelay"] - 0.001) < 2e-5 and abs(d["rootdisp"] - 0.002) < 2e-5'
check "reference timestamp a second before" json_check "$T/a1.json" 'abs(d["ref_age"] - 1) < 1e-3'
check "version and poll copied (v3, poll 7)" q a2 \
  'd["answered"] and d["vn"] == 3 and d["poll"] == 7 and d["len"] == 48' "$PA" --version 3 --poll 7
check "mode 6 request: no answer" q a3 'not d["answered"]' "$PA" --mode 6
check "mode 7 request: no answer" q a4 'not d["answered"]' "$PA" --mode 7
check "mode 1 request: no answer" q a5 'not d["answered"]' "$PA" --mode 1
check "47-byte request: no answer" q a6 'not d["answered"]' "$PA" --len 47
check "version 5 request: no answer" q a7 'not d["answered"]' "$PA" --version 5

check "silent server: no answer" q b1 'not d["answered"]' "$PB"
check "kod RATE: stratum 0, refid RATE" q c1 \
  'd["answered"] and d["stratum"] == 0 and d["refid"] == "RATE" and d["origin_ok"]' "$PC"
check "stratum 16: LI 3" q d1 'd["answered"] and d["li"] == 3 and d["stratum"] == 16' "$PD"
check "keyed server: MAC under key 1 verifies" q e1 \
  'd["answered"] and d["len"] == 68 and d["mac_ok"] and abs(d["offset"]) < 0.005' "$PE" --key "1:$KEY"
check "keyed server: no answer without a MAC" q e2 'not d["answered"]' "$PE"
check "keyed server: no answer to a bad MAC" q e3 'not d["answered"]' "$PE" --key "1:$KEY" --bad-digest
check "keyed server: no answer to another key id" q e4 'not d["answered"]' "$PE" --key "2:$KEY"
check "badmac: the answer's MAC does not verify" q f1 \
  'd["answered"] and d["len"] == 68 and not d["mac_ok"]' "$PF" --key "1:$KEY"

check "the step is announced at t=6 (within 15 s)" \
  wait_for 15 grep -qx "t=6.000 a step +0.100000 s" "$T/sim.out"
check "offset 0.35 s after the step (+-5 ms)" q a8 \
  'd["answered"] and abs(d["offset"] - 0.35) < 0.005' "$PA"
check "faults at t=0 were announced" grep -qx "t=0.000 c kod RATE" "$T/sim.out"

kill -TERM "$SIM"
check "SIGTERM stops the simulator within 5 s" wait_for 5 eval "! kill -0 $SIM"
wait "$SIM"
check "and it exits 0" test $? -eq 0
check "it says why it stopped" grep -q "stopped by SIGTERM" "$T/sim.err"
check "it counted the dropped requests" grep -q "a: answered 3, kod 0, silent 0, dropped length 1, version 1, mode 3, auth 0" "$T/sim.err"
cat "$T/sim.err"

# ---- servers on their own loopback addresses ---------------------------
# chronyd takes one source per address: `bind` in the file and --bind-base
# give each server its own. An answer must come from the address asked, and
# nothing may answer on 127.0.0.1 at those ports.
cat > "$T/bind.scn" <<'SCN'
duration 60
poll 0 0
server x refid GPS offset 0.1s jitter 0 bind 127.0.0.2
server y refid GAL offset 0.2s jitter 0 bind 127.0.0.3
SCN
BP=$(free_ports 2)
"$VETTIME" simulate "$T/bind.scn" --port-base "$BP" --config "$T/bind.conf" \
  --ready "$T/bind.ready" > "$T/bind.out" 2> "$T/bind.err" &
BSIM=$!
PIDS+=($BSIM)
check "bind: the ready file appears within 5 s" wait_for 5 test -s "$T/bind.ready"
check "bind: ready file gives x's address" grep -qx "x 127.0.0.2 $BP" "$T/bind.ready"
check "bind: ready file gives y's address" grep -qx "y 127.0.0.3 $((BP + 1))" "$T/bind.ready"
check "bind: config line for x on 127.0.0.2" \
  grep -qx "server 127.0.0.2 port $BP minpoll 0 maxpoll 0 iburst" "$T/bind.conf"
check "bind: config line for y on 127.0.0.3" \
  grep -qx "server 127.0.0.3 port $((BP + 1)) minpoll 0 maxpoll 0 iburst" "$T/bind.conf"
check "bind: x answers from 127.0.0.2 with its offset" q bx \
  "d['answered'] and d['from'] == '127.0.0.2:$BP' and abs(d['offset'] - 0.1) < 0.005" \
  "$BP" --host 127.0.0.2
check "bind: y answers from 127.0.0.3 with its offset" q by \
  "d['answered'] and d['from'] == '127.0.0.3:$((BP + 1))' and abs(d['offset'] - 0.2) < 0.005" \
  "$((BP + 1))" --host 127.0.0.3
check "bind: nothing answers on 127.0.0.1 at x's port" q bx1 'not d["answered"]' "$BP"
check "bind: nothing answers on 127.0.0.1 at y's port" q by1 'not d["answered"]' "$((BP + 1))"
check "bind: --check shows the addresses" eval \
  "'$VETTIME' simulate '$T/bind.scn' --check | grep -q ' 127.0.0.3:12302 '"
kill -TERM "$BSIM"; wait "$BSIM"

# --bind-base renumbers the addresses in file order, with --port-base.
BP=$(free_ports 2)
"$VETTIME" simulate "$T/bind.scn" --port-base "$BP" --bind-base 127.0.0.21 \
  --config "$T/bb.conf" --ready "$T/bb.ready" > "$T/bb.out" 2> "$T/bb.err" &
BSIM=$!
PIDS+=($BSIM)
check "--bind-base: the ready file appears within 5 s" wait_for 5 test -s "$T/bb.ready"
check "--bind-base: x on 127.0.0.21, y on 127.0.0.22" eval \
  "grep -qx 'x 127.0.0.21 $BP' '$T/bb.ready' && grep -qx 'y 127.0.0.22 $((BP + 1))' '$T/bb.ready'"
check "--bind-base: config lines" eval \
  "grep -qx 'server 127.0.0.21 port $BP minpoll 0 maxpoll 0 iburst' '$T/bb.conf' &&
   grep -qx 'server 127.0.0.22 port $((BP + 1)) minpoll 0 maxpoll 0 iburst' '$T/bb.conf'"
check "--bind-base: y answers from 127.0.0.22" q bby \
  "d['answered'] and d['from'] == '127.0.0.22:$((BP + 1))' and abs(d['offset'] - 0.2) < 0.005" \
  "$((BP + 1))" --host 127.0.0.22
check "--bind-base: nothing on y's file address 127.0.0.3" q bby3 'not d["answered"]' \
  "$((BP + 1))" --host 127.0.0.3
kill -TERM "$BSIM"; wait "$BSIM"

printf 'duration 10\nserver a refid GPS\nserver b refid GAL bind 10.1.2.3\n' > "$T/bindbad.scn"
"$VETTIME" simulate "$T/bindbad.scn" --check > /dev/null 2> "$T/bindbad.err"
check "a non-loopback bind exits 78" test $? -eq 78
check "with FILE:LINE and why" grep -qxF \
  "vettime simulate: $T/bindbad.scn:3: bad bind address \"10.1.2.3\": not a loopback address (127.0.0.0/8)" \
  "$T/bindbad.err"
"$VETTIME" simulate "$T/bind.scn" --check --bind-base 10.0.0.1 > /dev/null 2> "$T/bb-bad.err"
check "a non-loopback --bind-base exits 64" test $? -eq 64
check "and says why" grep -qF 'bad --bind-base "10.0.0.1": not a loopback address' "$T/bb-bad.err"

# ---- the duration ends a run by itself ---------------------------------
printf 'duration 1\nserver a refid GPS\n' > "$T/short.scn"
P=$(free_port)
"$VETTIME" simulate "$T/short.scn" --port-base "$P" > "$T/short.out" 2> "$T/short.err" &
SHORT=$!
PIDS+=($SHORT)
check "a 1 s scenario ends by itself within 10 s" wait_for 10 eval "! kill -0 $SHORT"
wait "$SHORT"
check "and exits 0" test $? -eq 0
check "at the end of its duration" grep -q "stopped by the end of the scenario's duration" "$T/short.err"

summary
