#!/usr/bin/env bash
# `make check-asan`: the programs and unit tests built with
# -fsanitize=address,undefined (in BUILD, build/asan) run
#   1. every unit test, with LeakSanitizer on (detect_leaks=1);
#   2. vettimed against `vettime simulate` (both sanitized) for SECONDS:
#      a DCF77 server steps 0.5 s away and back (tests/system/alerting/
#      raise-clear.scn), so the daemon polls, votes, raises and clears
#      alarms and delivers the notifications to a syslog listener; a chrony
#      SOCK source gets good samples and garbage; the NTP server answers
#      good, short, authenticated-looking and control requests; the API,
#      the metrics and the dashboard are read, the configuration reloaded
#      (SIGHUP), then the daemon is stopped with SIGTERM (leaks checked at
#      its exit too);
#   3. vettime report (text, JSON, HTML) and replay over that history, and
#      vettime decode over the recorded receiver files of tests/data;
#   4. the system tests of SANITIZE_SYSTEM with these programs (the
#      configuration and SIGHUP, a SIGKILL and restart, SHM and SOCK, the
#      history API, gpsd, alerting).
# Every sanitizer report goes to a file under the run's directory
# (log_path) and stops the program (halt_on_error=1); the check passes when
# every program exited 0, the daemon ran rounds, and no report was written.
# Ends with "check-asan: passed" or "check-asan: FAILED (...)"; exit 1 then.
# Usage: run.sh BUILD SECONDS
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
BUILD=${1:-build/asan}
SECONDS_RUN=${2:-25}
OUT=$TOP/$BUILD/check
rm -rf "$OUT"; mkdir -p "$OUT/reports"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$OUT/reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1:log_path=$OUT/reports/ubsan"
export LSAN_OPTIONS="log_path=$OUT/reports/lsan"
t0=$SECONDS
problems=()
note() { problems+=("$1"); echo "FAIL - $1"; }

# ---- 1. unit tests -----------------------------------------------------
n=0
for t in "$BUILD"/tests/test_*; do
  [[ -x $t && ! $t == *.d && ! $t == *.log ]] || continue
  n=$((n + 1))
  "$t" > "$t.log" 2>&1; rc=$?
  if [[ $rc -ne 0 ]]; then
    note "unit $(basename "$t") (exit $rc; $t.log)"
    tail -n 15 "$t.log"
  fi
done
echo "unit tests under ASan+UBSan+LSan: $n programs run in $((SECONDS - t0)) s"
[[ $n -gt 0 ]] || note "no unit test found in $BUILD/tests"

# ---- 2. the daemon -----------------------------------------------------
VETTIMED=$TOP/$BUILD/bin/vettimed
VETTIME=$TOP/$BUILD/bin/vettime
D=$OUT/daemon; mkdir -p "$D"
PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
             for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap stop_all EXIT
wait_for() { local end=$((SECONDS + $1)); shift
             while ((SECONDS < end)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
ports=$(python3 - <<'PY'
import random, socket
while True:
    base = random.randint(20000, 59000); socks = []
    try:
        for p in range(base, base + 6):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", p)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
)
sim_base=$ports http=$((ports + 3)) syslog=$((ports + 4)) ntp=$((ports + 5))
d0=$SECONDS
"$VETTIME" simulate "$TOP/tests/system/alerting/raise-clear.scn" --port-base "$sim_base" \
  --config "$D/servers.conf" --ready "$D/ready" > "$D/simulate.log" 2>&1 &
sim=$!; PIDS+=($sim)
python3 "$TOP/tests/system/alerting/syslog_listener.py" udp "127.0.0.1:$syslog" "$D/syslog.txt" &
PIDS+=($!)
wait_for 20 test -e "$D/ready" || note "the simulator did not start ($D/simulate.log)"
{ cat "$D/servers.conf"; cat <<CONF
database $D/history.db
http 127.0.0.1 port $http
alarmclear 3
alertsite asan
alertrepeat 0
alertretry 0.5 2
heartbeat 0
alert syslog remote udp 127.0.0.1:$syslog name sys
sock $D/refclock.sock class GAL
serve 127.0.0.1 port $ntp
ratelimit interval 0.05 burst 20 kod
CONF
} > "$D/vettime.conf"
"$VETTIMED" -c "$D/vettime.conf" > "$D/vettimed.log" 2>&1 &
daemon=$!; PIDS+=($daemon)
URL=http://127.0.0.1:$http
wait_for 20 "$VETTIME" -c "$D/vettime.conf" status || note "the daemon's API did not answer ($D/vettimed.log)"
# chrony SOCK samples, every 0.25 s, with garbage between them.
python3 - "$D/refclock.sock" "$SECONDS_RUN" <<'PY' > "$D/sock-writer.log" 2>&1 &
import os, socket, struct, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
end = time.time() + secs
i = 0
while time.time() < end:
    t = time.time()
    good = struct.pack("=qqdiiii", int(t), int((t % 1) * 1e6), 0.0, 0, 0, 0, 0x534f434b)
    bad = [os.urandom(i % 64), good[:-4] + b"XXXX", struct.pack("=qqdiiii", 0, -5, float("nan"), 1, 7, 0, 0x534f434b)]
    for pkt in [good, bad[i % 3]]:
        try:
            s.sendto(pkt, path)
        except OSError:
            pass
    i += 1
    time.sleep(0.25)
PY
PIDS+=($!)
# NTP requests: good ones, short ones, with a fake MAC, mode 6 and 7, a burst.
ntp_requests() {
  python3 - "$ntp" <<'PY'
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
port = int(sys.argv[1]); answers = 0
base = struct.pack("!BBbb", 4 << 3 | 3, 0, 4, 0) + bytes(36) + os.urandom(8)
reqs = [base, base[:47], base + struct.pack("!I", 1) + os.urandom(16), base + struct.pack("!I", 2) + os.urandom(20),
        bytes([0x16]) + bytes(11), bytes([0x17]) + bytes(47), base + bytes(28), os.urandom(200)] + [base] * 40
for r in reqs:
    s.sendto(r, ("127.0.0.1", port))
    try:
        s.recv(1024); answers += 1
    except OSError:
        pass
print(answers)
sys.exit(0 if answers > 0 else 1)
PY
}
half=$((d0 + SECONDS_RUN / 2))
while ((SECONDS < half)); do sleep 1; done
kill -HUP "$daemon" 2>/dev/null
api_fail=0
for doc in status sources vote events alarms; do
  "$VETTIME" -c "$D/vettime.conf" $doc --json > "$D/$doc.json" 2>> "$D/cli.err" || api_fail=1
done
for path in /metrics / /ui/app.js /api/v1/history/vetted /nothing "/api/v1/history?source=x&from=nonsense"; do
  curl -s -o /dev/null --max-time 5 "$URL$path" || api_fail=1
done
[[ $api_fail -eq 0 ]] || note "an API read failed ($D/cli.err)"
ntp_requests > "$D/ntp.txt" 2>&1 || note "the NTP server answered nothing ($D/ntp.txt)"
while ((SECONDS < d0 + SECONDS_RUN)); do sleep 1; done
"$VETTIME" -c "$D/vettime.conf" alert status --json > "$D/alert.json" 2>> "$D/cli.err" || note "vettime alert status failed"
"$VETTIME" -c "$D/vettime.conf" check > "$D/check.txt" 2>> "$D/cli.err" # a verdict, any exit
kill -TERM "$daemon" 2>/dev/null
wait_for 15 bash -c "! kill -0 $daemon" || note "the daemon did not stop on SIGTERM"
wait "$daemon"; rc=$?
[[ $rc -eq 0 ]] || note "vettimed exited $rc ($D/vettimed.log)"
kill -TERM "$sim" 2>/dev/null; wait "$sim"; rc=$?
[[ $rc -eq 0 ]] || note "vettime simulate exited $rc ($D/simulate.log)"
stop_all; PIDS=()

q() { sqlite3 "$D/history.db" "$1" 2>/dev/null || echo 0; }
rounds=$(q "SELECT count(*) FROM votes"); samples=$(q "SELECT count(*) FROM samples")
alarms=$(q "SELECT count(*) FROM alarms"); sent=$(q "SELECT count(*) FROM alert_outbox WHERE state = 'sent'")
lines=$(grep -c . "$D/syslog.txt" 2>/dev/null || true)
echo "daemon under ASan+UBSan+LSan for $((SECONDS - d0)) s: $rounds rounds, $samples samples, $alarms alarms, $sent notifications sent, ${lines:-0} received"
[[ ${rounds:-0} -ge $((SECONDS_RUN / 2)) ]] || note "the daemon ran ${rounds:-0} rounds in ${SECONDS_RUN} s"
[[ ${samples:-0} -gt 0 ]] || note "no sample in the history"
[[ ${alarms:-0} -ge 1 ]] || note "no alarm raised (the DCF77 step at t=4)"
[[ ${lines:-0} -ge 1 ]] || note "no notification reached the syslog listener"
sock_samples=$(q "SELECT count(*) FROM samples JOIN sources ON sources.id = source_id WHERE sources.kind = 'sock'")
echo "the SOCK source: ${sock_samples:-0} samples; the NTP server: $(cat "$D/ntp.txt" 2>/dev/null) answers to 48 requests"
[[ ${sock_samples:-0} -ge 1 ]] || note "no sample from the SOCK source"

# ---- 3. the CLI over the run's history and the recorded receiver files -
cli_fail=0
for args in "report -d $D/history.db --since 1h" "report -d $D/history.db --since 1h --json" \
            "report -d $D/history.db --since 1h --html" "replay --db $D/history.db --from -1h --quiet"; do
  # shellcheck disable=SC2086
  "$VETTIME" $args > "$D/cli-out.txt" 2>> "$D/cli.err"; rc=$?
  [[ $rc -lt 64 ]] || { cli_fail=1; echo "vettime $args: exit $rc"; }
done
for f in "$TOP"/tests/data/nmea/*.log; do
  "$VETTIME" decode nmea "$f" > /dev/null 2>> "$D/cli.err" || { cli_fail=1; echo "decode nmea $f failed"; }
done
for f in "$TOP"/tests/data/gpsd/*.chk; do
  "$VETTIME" decode gpsd "$f" --json > /dev/null 2>> "$D/cli.err"; rc=$?
  [[ $rc -lt 64 ]] || { cli_fail=1; echo "decode gpsd $f: exit $rc"; }
done
[[ $cli_fail -eq 0 ]] || note "a vettime report, replay or decode failed ($D/cli.err)"

# ---- 4. system tests with the sanitized programs ------------------------
# tests/system/lib.sh takes the programs from VT_VETTIMED and VT_VETTIME.
# Not here: the scenario suite (minutes), test_serial (85 s),
# test_ntp_server (faketime's LD_PRELOAD and ASan's run time exclude each
# other) and test_http_access (clean under the sanitizers, but its pace
# check, every round within 1.2 s of the last during a slowloris attack,
# is not for a daemon slowed down two to three times: one 1.42 s gap in
# two runs). SANITIZE_SYSTEM="test_x ..." chooses others.
for name in ${SANITIZE_SYSTEM-test_config test_restart test_shm_sock test_history_api test_gpsd test_alerting}; do
  s0=$SECONDS
  VT_VETTIMED=$VETTIMED VT_VETTIME=$VETTIME timeout 300 bash "tests/system/$name.sh" > "$OUT/$name.log" 2>&1
  rc=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/$name.log" | tail -n 1)
  printf 'system/%-20s %s (%d s)\n' "$name" "${line:-no count}" $((SECONDS - s0))
  [[ $rc -eq 0 && $line == *" 0 failed" ]] || { note "system/$name under the sanitizers ($OUT/$name.log)"; grep FAIL "$OUT/$name.log" | head -5; }
done

# ---- the sanitizers' reports -------------------------------------------
reports=$(find "$OUT/reports" -type f -size +0 | sort)
if [[ -n $reports ]]; then
  note "sanitizer reports: $(echo "$reports" | wc -l)"
  for r in $reports; do echo "==== $r"; head -n 40 "$r"; done
fi
# Reports the log_path missed (a program that writes its stderr to its log)
if grep -lE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)|runtime error:' \
     "$BUILD"/tests/test_*.log "$D"/*.log "$OUT"/test_*.log 2>/dev/null; then
  note "sanitizer output in the logs above"
fi

echo "check-asan: $((SECONDS - t0)) s"
if [[ ${#problems[@]} -eq 0 ]]; then
  echo "check-asan: passed"
  exit 0
fi
echo "check-asan: FAILED (${#problems[@]}: ${problems[*]})"
exit 1
