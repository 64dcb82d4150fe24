# System test of SNMP polling: Debian's snmpd as the AgentX master agent
# (unprivileged, on a free high UDP port on loopback, its AgentX socket in
# the test's folder, a read-only community, stopped at the end, every wait
# bounded), vettimed with a simulator scenario (one falseticker of three
# classes) and `agentx` pointing at that socket. snmpwalk of the vettime
# subtree, decoded with VETTIME-MIB and the IETF base MIBs
# (scripts/fetch-base-mibs.sh), must show every source by name and the
# verdict: vetted, the vetted offset within tolerance of the API's, the
# falseticker's vote state. Then the master goes away and comes back: the
# subagent reconnects by itself and the one-second rounds keep their pace
# meanwhile. Also: the MIB passes snmptranslate and smilint, bad agentx
# lines are refused with the reason. About 25 s.
. "$(dirname "$0")/lib.sh"
cd "$TOP"

MIBS=$("$TOP/scripts/fetch-base-mibs.sh" 2>"$T/mibs.err") || MIBS=""
if [[ -z $MIBS ]]; then
  echo "skipping the decoded checks: $(cat "$T/mibs.err")"
fi
for tool in snmpd snmpwalk snmpget; do
  command -v $tool > /dev/null || { fail "$tool is installed (scripts/install-deps.sh)"; summary; exit 1; }
done

# ---- the MIB and the directive ---------------------------------------------
if [[ -n $MIBS ]]; then
  check "snmptranslate: vtSourceOffsetNs is .1.3.6.1.4.1.32473.7.1.3.1.7" \
    test "$(snmptranslate -M "$MIBS:$TOP/schema" -m VETTIME-MIB -On VETTIME-MIB::vtSourceOffsetNs 2>&1)" = ".1.3.6.1.4.1.32473.7.1.3.1.7"
  check "snmptranslate: the notifications keep their OIDs (vtFalsetickerRaised .0.106)" \
    test "$(snmptranslate -M "$MIBS:$TOP/schema" -m VETTIME-MIB -On VETTIME-MIB::vtFalsetickerRaised 2>&1)" = ".1.3.6.1.4.1.32473.7.0.106"
  if command -v smilint > /dev/null; then
    check "smilint -l 4: VETTIME-MIB is clean" bash -c "SMIPATH='$MIBS' smilint -l 4 schema/VETTIME-MIB.txt > '$T/smilint.out' 2>&1 && ! test -s '$T/smilint.out'"
  fi
fi
printf 'agentx udp:127.0.0.1:705\n' > "$T/bad1.conf"
check "agentx with a UDP socket is refused, naming the forms it takes" \
  bash -c "'$VETTIMED' -t -c '$T/bad1.conf' 2>&1 | grep -q 'is not an AgentX socket (a Unix socket path'"
printf 'agentx /tmp/x ping 0\n' > "$T/bad2.conf"
check "agentx ping 0 is refused" bash -c "! '$VETTIMED' -t -c '$T/bad2.conf' > /dev/null 2>&1"
printf 'agentx /tmp/x ping 2 timeout 1\nserver 127.0.0.1\ndatabase %s/good.db\nhttp off\n' "$T" > "$T/good.conf"
check "agentx SOCKET ping 2 timeout 1 is accepted" "$VETTIMED" -t -c "$T/good.conf"

# ---- the master agent -------------------------------------------------------
snmp_port=$(free_port)
AX=$T/agentx
mkdir -p "$AX" "$T/snmp-persist"
chmod 755 "$T"
chmod 1777 "$AX" "$T/snmp-persist"
cat > "$T/snmpd.conf" <<CONF
master agentx
agentXSocket $AX/master
agentXPerms 0660 0770
rocommunity vtpublic 127.0.0.1
CONF
chmod 644 "$T/snmpd.conf"
# snmpd unprivileged: as nobody when the test runs as root. -C: no other
# configuration file; -I -smux: no SMUX port (199 needs root); no MIBs of
# its own to load.
start_snmpd() {
  local as=()
  [[ $(id -u) -eq 0 ]] && as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  MIBS= MIBDIRS=/nonexistent SNMP_PERSISTENT_DIR=$T/snmp-persist \
    timeout 120 "${as[@]}" snmpd -f -Lo -C -c "$T/snmpd.conf" -I -smux \
    "udp:127.0.0.1:$snmp_port" >> "$T/snmpd.log" 2>&1 &
  SNMPD_PID=$!
  PIDS+=($SNMPD_PID)
  wait_for 10 test -S "$AX/master"
}
check "snmpd starts as the AgentX master on 127.0.0.1:$snmp_port" start_snmpd
# nobody made the socket 0660: let the daemon (root or not) in.
chmod 666 "$AX/master" 2>/dev/null || true

# ---- the daemon ---------------------------------------------------------------
base=$(free_ports 3)
"$VETTIME" simulate tests/scenarios/one-of-three-falseticker.scn --port-base "$base" \
  --config "$T/servers.conf" --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -e "$T/ready" || fail "the simulator starts"
http=$(free_port)
# A trap channel too: the SNMP sink and the subagent share net-snmp's
# library in one process (the subagent initialises it first).
trap_port=$(free_port)
python3 - "$trap_port" "$T/traps" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1]))); s.settimeout(1)
n, end = 0, time.time() + 100
while time.time() < end:
    try:
        s.recv(65536); n += 1; open(sys.argv[2], "w").write(str(n))
    except OSError:
        pass
PY
PIDS+=($!)
printf 'token-%s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$T/token"
chmod 600 "$T/token"
{ cat "$T/servers.conf"
  printf 'database %s/history.db\nhttp 127.0.0.1 port %s\nagentx %s/master ping 1\n' "$T" "$http" "$AX"
  printf 'httptoken %s/token\nalert snmp 127.0.0.1:%s version 2c community public kinds witness name traps\n' "$T" "$trap_port"; } > "$T/vettime.conf"
"$VETTIMED" -d -c "$T/vettime.conf" > "$T/vettimed.log" 2>&1 & PIDS+=($!); wait_for 10 "$VETTIME" -c "$T/vettime.conf" status || fail "vettimed starts"
check "the subagent connects to the master" \
  wait_for 10 grep -q "AgentX subagent connected" "$T/vettimed.log"
wait_for 15 bash -c "curl -sf http://127.0.0.1:$http/api/v1/vote | grep -q '\"vetted\":true'" || fail "the scenario is vetted"
sleep 2 # a falseticker round or two after vetting

walk() { # walk FILE: the vettime subtree, decoded when the MIBs are there
  if [[ -n $MIBS ]]; then
    timeout 10 snmpwalk -v2c -c vtpublic -t 2 -r 1 -M "$MIBS:$TOP/schema" -m VETTIME-MIB -OQ \
      "127.0.0.1:$snmp_port" .1.3.6.1.4.1.32473.7 > "$1" 2> "$1.err"
  else
    timeout 10 snmpwalk -v2c -c vtpublic -t 2 -r 1 -On -OQ "127.0.0.1:$snmp_port" \
      .1.3.6.1.4.1.32473.7 > "$1" 2> "$1.err"
  fi
}
walk "$T/walk.txt"
curl -s "http://127.0.0.1:$http/api/v1/vote" -o "$T/vote.json"
curl -s "http://127.0.0.1:$http/api/v1/sources" -o "$T/sources.json"
head -40 "$T/walk.txt"
check "snmpwalk of the vettime subtree through snmpd answers" test -s "$T/walk.txt"
python3 - "$T" "${MIBS:+decoded}" <<'PY' && pass "the walk shows every source by name, vetted, the offset within 200 us of the API's, the falseticker's vote state" || fail "the walk shows the sources and the verdict"
import json, re, sys
d, decoded = sys.argv[1], sys.argv[2] == "decoded"
walk = open(d + "/walk.txt").read()
vote = json.load(open(d + "/vote.json")); sources = json.load(open(d + "/sources.json"))["sources"]
def val(name, numeric):
    key = name if decoded else numeric
    m = re.search("^" + re.escape(key) + r" = (.*)$", walk, re.M)
    return m.group(1).strip().strip('"') if m else None
R = ".1.3.6.1.4.1.32473.7.1"
ok = True
vetted = val("VETTIME-MIB::vtVetted.0", R + ".2.1.0")
ok &= vetted in ("true", "1")
off_ns = val("VETTIME-MIB::vtVettedOffsetNs.0", R + ".2.2.0")
off_ns = int(off_ns.split()[0]) if off_ns else None
ok &= off_ns is not None and abs(off_ns * 1e-9 - vote["offset"]) < 200e-6
exact = val("VETTIME-MIB::vtVettedOffset.0", R + ".2.4.0")
ok &= exact is not None and abs(float(exact.split()[0]) - off_ns * 1e-9) < 1.5e-9
for i, s in enumerate(sources, 1):
    name = val("VETTIME-MIB::vtSourceName.%d" % i, R + ".3.1.2.%d" % i)
    cls = val("VETTIME-MIB::vtSourceClass.%d" % i, R + ".3.1.4.%d" % i)
    ok &= name == s["name"] and cls == s["class"]
    vs = val("VETTIME-MIB::vtSourceVoteState.%d" % i, R + ".3.1.6.%d" % i)
    if s["class"] == "DCF":  # the scenario's falseticker, 0.5 s ahead
        ok &= vs in ("classOutvoted", "falseticker", "10", "9")
        so = val("VETTIME-MIB::vtSourceOffsetNs.%d" % i, R + ".3.1.7.%d" % i)
        ok &= so is not None and abs(int(so.split()[0]) * 1e-9 - 0.5) < 0.01
ok &= val("VETTIME-MIB::vtAgreeingClasses.0", R + ".2.10.0") == "2"
if not ok:
    print("vote:", vote); print("sources:", [(s["name"], s["class"]) for s in sources])
sys.exit(0 if ok else 1)
PY
if [[ -n $MIBS ]]; then
  check "a GET of a source that does not exist: noSuchInstance" \
    bash -c "timeout 10 snmpget -v2c -c vtpublic -M '$MIBS:$TOP/schema' -m VETTIME-MIB 127.0.0.1:$snmp_port VETTIME-MIB::vtSourceName.99 2>&1 | grep -q 'No Such Instance'"
  check "a GET of vtVetted.1 (not the scalar's .0): noSuchInstance" \
    bash -c "timeout 10 snmpget -v2c -c vtpublic -M '$MIBS:$TOP/schema' -m VETTIME-MIB 127.0.0.1:$snmp_port VETTIME-MIB::vtVetted.1 2>&1 | grep -q 'No Such Instance'"
  check "the NTP server's counters: vtServerRequests.0 a Counter64 (0: no serve line)" \
    bash -c "timeout 10 snmpget -v2c -c vtpublic -M '$MIBS:$TOP/schema' -m VETTIME-MIB 127.0.0.1:$snmp_port VETTIME-MIB::vtServerRequests.0 2>&1 | grep -q 'Counter64: 0'"
fi

check "with the subagent running, the SNMP trap sink still sends (a test notification over HTTP)" \
  bash -c "curl -sf -X POST -H \"Authorization: Bearer \$(cat '$T/token')\" http://127.0.0.1:$http/api/v1/alert/test > /dev/null && \
           for i in \$(seq 50); do [[ -s '$T/traps' ]] && exit 0; sleep 0.2; done; exit 1"

# ---- the master goes away and comes back --------------------------------------
t0=$(date +%s%N)
kill "$SNMPD_PID"
wait "$SNMPD_PID" 2>/dev/null
sleep 3
rm -f "$AX/master"
check "snmpd starts again" start_snmpd
chmod 666 "$AX/master" 2>/dev/null || true
check "the daemon logs that the master went away" \
  wait_for 5 grep -q "agentx: the session with the master agent closed" "$T/vettimed.log"
check "the subagent reconnects by itself (ping 1 s)" \
  wait_for 15 bash -c "[[ \$(grep -c 'AgentX subagent connected' '$T/vettimed.log') -ge 2 ]]"
sleep 1
walk "$T/walk2.txt"
check "after the reconnection the walk shows the sources again" \
  bash -c "grep -c 'vtSourceName\\|\\.3\\.1\\.2\\.' '$T/walk2.txt' | grep -qx 3"
t1=$(date +%s%N)
python3 - "$T" "$t0" "$t1" <<'PY' > "$T/pace.json"
import json, sqlite3, sys
d, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ts = [r[0] for r in sqlite3.connect(d + "/history.db").execute(
    "SELECT time_ns FROM votes WHERE time_ns BETWEEN ? AND ? ORDER BY time_ns", (t0, t1))]
g = [(b - a) / 1e9 for a, b in zip(ts, ts[1:])]
print(json.dumps({"rounds": len(ts), "gap_s_max": round(max(g), 4) if g else None,
                  "gap_s_mean": round(sum(g) / len(g), 4) if g else None}))
PY
cat "$T/pace.json"
check "the rounds keep their pace while the master is gone and back (every gap < 1.2 s)" \
  json_check "$T/pace.json" 'd["rounds"] >= 4 and d["gap_s_max"] < 1.2'
echo "figures: agentx reconnect $(cat "$T/pace.json")"

kill "$SNMPD_PID" 2>/dev/null
wait "$SNMPD_PID" 2>/dev/null
check "snmpd is stopped at the end" bash -c "! kill -0 $SNMPD_PID 2>/dev/null"
summary
