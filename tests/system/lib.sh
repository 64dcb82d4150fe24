# Shared helpers for the system tests: real daemons on loopback, started and
# stopped by the test itself, every wait bounded. Source it from a test:
#   . "$(dirname "$0")/lib.sh"
# Then: check "what" COMMAND... ; summary (prints "N passed, N failed").
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VETTIMED=${VT_VETTIMED:-$TOP/vettimed}
VETTIME=${VT_VETTIME:-$TOP/vettime}
T=$(mktemp -d /tmp/vettime-test.XXXXXX)
PIDS=()
PASSED=0
FAILED=0

# Stops every process in PIDS: TERM, then KILL for what is still there.
stop_pids() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
}

# For a part of a test run as a background subshell (`part_x &`): the
# processes it starts go into its own copy of PIDS, which the parent's
# cleanup never sees, so the part stops them itself when it ends or is
# stopped. The parent adds the part's own PID to its PIDS.
part_begin() {
  PIDS=()
  trap stop_pids EXIT
  trap 'stop_pids; exit 1' TERM INT
}

cleanup() {
  [[ -n "${CLEANED:-}" ]] && return
  CLEANED=1
  stop_pids
  if [[ $FAILED -eq 0 && -z "${KEEP_TMP:-}" ]]; then rm -rf "$T"; else echo "test files kept in $T"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 1' TERM INT

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }

# check "description" command... : passes when the command exits 0.
check() {
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

summary() {
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}

# A free loopback port (UDP and TCP), from the kernel's ephemeral range.
free_port() {
  python3 - <<'PY'
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port)); break
    except OSError:
        pass
print(port)
PY
}

# free_ports COUNT: a base port with COUNT consecutive ports above it free
# for both UDP and TCP on loopback (the simulator numbers its servers from a
# base port).
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
while True:
    base = random.randint(20000, 59000)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", p)); socks.append(s)
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind(("127.0.0.1", p)); socks.append(t)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}

# start_chronyd NAME PORT FAKETIME EXTRA_CONF
# A chronyd serving its own clock as stratum 1 on 127.0.0.1:PORT without
# touching the system clock (-x); FAKETIME ("" for none) shifts it with
# libfaketime, e.g. '+5y' or '+1'.
start_chronyd() {
  local name=$1 port=$2 shift_by=$3 extra=${4:-}
  cat > "$T/$name.conf" <<CONF
port $port
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 1
cmdport 0
pidfile $T/$name.pid
driftfile $T/$name.drift
$extra
CONF
  if [[ -n "$shift_by" ]]; then
    timeout 600 faketime -f "$shift_by" chronyd -x -d -u root -f "$T/$name.conf" > "$T/$name.log" 2>&1 &
  else
    timeout 600 chronyd -x -d -u root -f "$T/$name.conf" > "$T/$name.log" 2>&1 &
  fi
  PIDS+=($!)
}

# ntp_answers PORT: true once something answers an NTP request there.
ntp_answers() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.3)
s.sendto(b"\x23" + bytes(47), ("127.0.0.1", int(sys.argv[1])))
try:
    s.recv(512); sys.exit(0)
except OSError:
    sys.exit(1)
PY
}

# wait_for SECONDS command... : polls every 0.2 s until the command succeeds.
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  while ((SECONDS < end)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# start_vettimed CONF: runs the daemon in the background, log in $T/vettimed.log,
# and waits until its API answers. Not under timeout(1), which would stand
# between the test's signals (SIGHUP, SIGKILL) and the daemon; cleanup()
# stops it, also when run.sh's timeout stops the test.
start_vettimed() {
  "$VETTIMED" -c "$1" > "$T/vettimed.log" 2>&1 &
  VETTIMED_PID=$!
  PIDS+=($VETTIMED_PID)
  wait_for 10 "$VETTIME" -c "$1" status
}

# json_check FILE PYTHON_EXPR: evaluates the expression with `d` bound to the
# parsed JSON document; passes when it is true. Prints the document otherwise.
json_check() {
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"d": d, "abs": abs, "all": all, "any": any, "len": len})
if not ok:
    print("expression false:", sys.argv[2]); print(json.dumps(d, indent=1)[:3000])
sys.exit(0 if ok else 1)
PY
}
