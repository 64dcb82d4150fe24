#!/usr/bin/env bash
# Benchmark: the daemon's resident memory with 100 configured servers,
# polled every 1-2 s (far faster than production) against two real chronyd
# instances on loopback, for 30 s. Prints a markdown table.
set -u
cd "$(dirname "$0")/../.."
. tests/system/lib.sh
N=100
P1=$(free_port); P2=$(free_port); P_HTTP=$(free_port)
start_chronyd bench1 "$P1" ""
start_chronyd bench2 "$P2" ""
wait_for 10 ntp_answers "$P1"; wait_for 10 ntp_answers "$P2"
{
  echo "database $T/history.db"
  echo "http 127.0.0.1 port $P_HTTP"
  echo "log warning"
  for i in $(seq 1 $N); do
    if (( i % 2 )); then p=$P1; else p=$P2; fi
    # One voter: a configuration where no source can vote is refused.
    if (( i == 1 )); then sel=""; else sel=" noselect"; fi
    echo "server 127.0.0.1 port $p minpoll 0 maxpoll 1 iburst$sel class NTP"
  done
} > "$T/bench.conf"
python3 - "$T/bench.conf" <<'PY'
import sys, re
lines = open(sys.argv[1]).read().splitlines()
out, n = [], 0
for l in lines:
    if l.startswith("server "):
        n += 1
        # 127.0.0.1 written as 2130706433, 0x7f000001, 127.1, ... all parse
        # to loopback; simplest unique spelling: leading zeros in the last octet.
        l = l.replace("127.0.0.1", "127.0.0." + "0" * n + "1", 1)
    out.append(l)
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
start_vettimed "$T/bench.conf" || { echo "vettimed did not start"; cat "$T/vettimed.log"; exit 1; }
sleep 30
if [[ -n "${RSS_DETAIL:-}" ]]; then awk '/^[0-9a-f]/ {name=$6} /^Rss/ {rss[name]+=$2} END {for (n in rss) if (rss[n] > 50) print rss[n], n}' /proc/$VETTIMED_PID/smaps | sort -rn; fi
rss=$(awk '/^VmRSS/ {print $2}' /proc/$VETTIMED_PID/status)
hwm=$(awk '/^VmHWM/ {print $2}' /proc/$VETTIMED_PID/status)
pss=$(awk '/^Pss:/ {print $2}' /proc/$VETTIMED_PID/smaps_rollup)
priv=$(awk '/^Private_Dirty:/ {print $2}' /proc/$VETTIMED_PID/smaps_rollup)
"$VETTIME" -c "$T/bench.conf" status --json > "$T/status.json"
written=$(python3 -c "import json;print(json.load(open('$T/status.json'))['samples_written'])")
reach=$(python3 -c "import json;print(json.load(open('$T/status.json'))['reachable'])")
echo "| servers | reachable | run (s) | samples written | VmRSS (KiB) | VmHWM (KiB) | PSS (KiB) | private dirty (KiB) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "| $N | $reach | 30 | $written | $rss | $hwm | $pss | $priv |"
echo
echo "VmRSS counts shared library pages (libc, libcrypto, SQLite, and GnuTLS,"
echo "which Debian's libmicrohttpd pulls in) in full; PSS divides them among"
echo "the processes mapping them; private dirty is the daemon's own memory."
PASSED=1
