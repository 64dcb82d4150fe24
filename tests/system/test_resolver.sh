# System test: host names are resolved off the loop (lib/resolver.h), and
# polls are spread (probes/ntp_client.c). A resolver stub loaded with
# LD_PRELOAD (tests/system/slow_resolver.c) makes getaddrinfo() take 8 s
# for one name, answer a wrong address first for another, and fail for a
# third, and take 3 s for a gpsd host; vettimed polls three real chronyd
# servers by address beside them.
# Asserted, in numbers:
# - while the slow name resolves, the source exists and says "unresolved",
#   the rounds keep a one-second pace (largest gap between two rounds in
#   the history < 1.5 s) and the servers polled by address keep sending
#   samples (at least 6 each before the slow one's first, none more than
#   2.5 s apart);
# - the slow name resolves after its 8 s and its source then has samples;
# - a server whose name points where nothing answers is looked up again
#   after 8 unanswered polls, and polled at its new address;
# - a gpsd source given by name is looked up the same way (3 s here);
# - a name that cannot be resolved leaves its source "unresolved" with the
#   reason, and is tried again 8 s later;
# - no sched_add_fd() call drops its result (grep);
# - polls are spread: the three address sources' first samples are not at
#   the same instant, and their intervals vary (not all 1.000 s);
# - a reload during a lookup drops it safely, and SIGTERM does not wait
#   for one.
. "$(dirname "$0")/lib.sh"

# Every registration with the loop is checked: no sched_add_fd() call
# stands alone as a statement, its result dropped (five did).
unchecked() { grep -rnE '^[[:space:]]*sched_add_fd\(.*\);[[:space:]]*$' "$TOP"/{lib,monitor,probes,alerting,web,snmp,cli,server} --include='*.c'; }
check "no sched_add_fd() result is ignored" test -z "$(unchecked)"
unchecked

SHIM=$T/slow_resolver.so
check "the resolver stub builds" cc -shared -fPIC -O2 -Wall -Wextra -o "$SHIM" \
  "$TOP/tests/system/slow_resolver.c" -ldl

P_A=$(free_port); P_B=$(free_port); P_C=$(free_port); P_HTTP=$(free_port); P_NOGPSD=$(free_port)
start_chronyd a "$P_A" ""
start_chronyd b "$P_B" "+1"
start_chronyd c "$P_C" ""
for p in "$P_A" "$P_B" "$P_C"; do
  check "chronyd on port $p answers" wait_for 10 ntp_answers "$p"
done

MAP=$T/names
cat > "$MAP" <<MAP
slow.vettime.test 8 127.0.0.1
moving.vettime.test 0 127.0.0.2
nowhere.vettime.test 0 -
gpsd.vettime.test 3 127.0.0.1
MAP

cat > "$T/vettime.conf" <<CONF
server 127.0.0.1 port $P_A minpoll 0 maxpoll 0 class GPS
server 127.0.0.1 port $P_B minpoll 0 maxpoll 0 class GAL
server 127.0.0.1 port $P_C minpoll 0 maxpoll 0 class PTP
server slow.vettime.test port $P_C minpoll 0 maxpoll 0 class DCF
server moving.vettime.test port $P_C minpoll 0 maxpoll 0 class MSF
server nowhere.vettime.test port $P_C minpoll 0 maxpoll 0 class WWVB
gpsd gpsd.vettime.test:$P_NOGPSD
database $T/history.db
http 127.0.0.1 port $P_HTTP
log debug
CONF

sources_json() { "$VETTIME" -c "$T/vettime.conf" sources --json > "$T/$1.json"; }
t_start=$(date +%s.%N)
LD_PRELOAD=$SHIM VT_SLOW_RESOLVER=$MAP start_vettimed "$T/vettime.conf"
t_api=$(date +%s.%N)
echo "the API answered $(python3 -c "print(round($t_api - $t_start, 3))") s after the start"
check "the API answers within 3 s of the start (nothing waits for the slow name)" \
  python3 -c "import sys; sys.exit(0 if $t_api - $t_start < 3 else 1)"

# At once: every source exists; the slow one is resolving.
S="d['sources']"
sources_json early
check "early: seven sources; the slow name's is 'unresolved', 'resolving slow.vettime.test', nothing sent" \
  json_check "$T/early.json" "len($S) == 7 and $S[3]['state'] == 'unresolved' and \
    $S[3]['detail'] == 'resolving slow.vettime.test' and $S[3]['counters']['sent'] == 0"

# The moving name first points at 127.0.0.2, where nothing answers; once
# looked up, it moves to the server. vettimed only sees that by looking it
# up again, which it does after 8 unanswered polls (8-10 s from now).
check "the moving name was looked up once, at 127.0.0.2" \
  wait_for 5 grep -q "^moving.vettime.test 127.0.0.2" "$MAP.log"
sed -i 's/^moving.vettime.test 0 127.0.0.2/moving.vettime.test 0 127.0.0.1/' "$MAP"

# Six seconds in, the slow name is still resolving and the others poll.
sleep_until() { python3 -c "import time; time.sleep(max(0, $t_start + $1 - time.time()))"; }
sleep_until 6
sources_json mid
"$VETTIME" -c "$T/vettime.conf" sources > "$T/mid.txt"; cat "$T/mid.txt"
check "6 s in: the slow source is still 'unresolved' with no sample" json_check "$T/mid.json" \
  "$S[3]['state'] == 'unresolved' and $S[3]['counters']['valid'] == 0"
check "6 s in: the three address sources have at least 4 valid samples each" json_check "$T/mid.json" \
  "all($S[i]['counters']['valid'] >= 4 for i in (0, 1, 2))"
check "6 s in: the sources table shows the state 'unresolved'" grep -q "unresolved" "$T/mid.txt"
check "6 s in: the unresolvable name says why" json_check "$T/mid.json" \
  "$S[5]['state'] == 'unresolved' and $S[5]['detail'].startswith('cannot resolve nowhere.vettime.test')"
check "6 s in: the gpsd source's name was looked up (3 s) and nothing listens there: 'unreachable'" \
  json_check "$T/mid.json" "$S[6]['state'] == 'unreachable'"
check "6 s in: ... the stub saw the gpsd name's lookup" grep -q "^gpsd.vettime.test 127.0.0.1" "$MAP.log"

slow_has_samples() { sources_json late && json_check "$T/late.json" "$S[3]['counters']['valid'] >= 3"; }
check "the slow source has 3 valid samples within 20 s" wait_for 20 slow_has_samples
moving_has_samples() { sources_json late && json_check "$T/late.json" "$S[4]['counters']['valid'] >= 3"; }
check "the moved source has 3 valid samples within 20 s" wait_for 20 moving_has_samples
sources_json late
"$VETTIME" -c "$T/vettime.conf" sources > "$T/late.txt"; cat "$T/late.txt"
check "the slow source is 'ok' with detail 'slow.vettime.test is 127.0.0.1'" json_check "$T/late.json" \
  "$S[3]['state'] == 'ok' and $S[3]['detail'] == 'slow.vettime.test is 127.0.0.1'"
check "the moved source is 'ok' at 127.0.0.1 and counted its unanswered polls (timeout >= 7)" \
  json_check "$T/late.json" "$S[4]['state'] == 'ok' and $S[4]['detail'] == 'moving.vettime.test is 127.0.0.1' \
    and $S[4]['counters']['timeout'] >= 7"
check "the log says the slow name resolved after about 8 s" \
  grep -qE "server slow.vettime.test:$P_C: slow.vettime.test resolved to 127.0.0.1 in 8\.[0-9]+ s" "$T/vettimed.log"
check "the log says the moving name moved" grep -q \
  "moving.vettime.test now resolves to 127.0.0.1 (was 127.0.0.2)" "$T/vettimed.log"

kill -TERM "$VETTIMED_PID"
check "vettimed exits 0 on SIGTERM" wait "$VETTIMED_PID"
echo "---- resolver stub's log"; cat "$MAP.log"

# The numbers, from the history and the stub's log.
python3 - "$T/history.db" "$MAP.log" "$P_A" "$P_B" "$P_C" "$t_start" > "$T/figures.txt" <<'PY'
import sqlite3, statistics, sys
db, log, pa, pb, pc, t0 = sys.argv[1:]
c = sqlite3.connect(db)
rounds = [r[0] / 1e9 for r in c.execute("SELECT time_ns FROM votes ORDER BY time_ns")]
def samples(name):
    return [r[0] / 1e9 for r in c.execute(
        "SELECT rx_time_ns FROM samples s JOIN sources o ON o.id = s.source_id "
        "WHERE o.name = ? ORDER BY rx_time_ns", (name,))]
a, b, cc = (samples("127.0.0.1:" + p) for p in (pa, pb, pc))
slow = samples("slow.vettime.test:" + pc)
first_slow = slow[0] if slow else float("inf")
gaps = [y - x for x, y in zip(rounds, rounds[1:])]
before = [t for t in rounds if t < first_slow]
fig = {
    "rounds": len(rounds),
    "max_round_gap": max(gaps) if gaps else 99,
    "rounds_before_slow": len(before),
    "first_round_after_start": rounds[0] - float(t0) if rounds else 99,
    "slow_first_after_first_round": first_slow - rounds[0] if rounds else 99,
}
for key, s in (("a", a), ("b", b), ("c", cc)):
    pre = [t for t in s if t < first_slow]
    iv = [y - x for x, y in zip(s, s[1:])]
    fig[key + "_before_slow"] = len(pre)
    fig[key + "_max_gap_before_slow"] = max((y - x for x, y in zip(pre, pre[1:])), default=99)
    fig[key + "_interval_sd_ms"] = statistics.pstdev(iv) * 1e3 if len(iv) > 2 else 0
    fig[key + "_interval_mean"] = statistics.mean(iv) if iv else 0
firsts = [s[0] for s in (a, b, cc) if s]
fig["first_sample_spread_ms"] = (max(firsts) - min(firsts)) * 1e3 if len(firsts) == 3 else 0
looks = {}
for line in open(log):
    name, addr, start, end = line.split()
    looks.setdefault(name, []).append((addr, float(start), float(end)))
m = looks.get("moving.vettime.test", [])
fig["moving_lookups"] = len(m)
fig["moving_relookup_after"] = m[1][1] - m[0][2] if len(m) >= 2 else 0
n = looks.get("nowhere.vettime.test", [])
fig["nowhere_lookups"] = len(n)
fig["nowhere_retry_after"] = n[1][1] - n[0][2] if len(n) >= 2 else 0
s = looks.get("slow.vettime.test", [])
fig["slow_lookup_seconds"] = s[0][2] - s[0][1] if s else 0
for k, v in fig.items():
    print(k, round(v, 4) if isinstance(v, float) else v)
PY
cat "$T/figures.txt"
fig() { awk -v k="$1" '$1 == k {print $2}' "$T/figures.txt"; }
is() { python3 -c "import sys; sys.exit(0 if $1 else 1)"; }
check "the stub kept the slow lookup 8 s ($(fig slow_lookup_seconds) s)" is "$(fig slow_lookup_seconds) >= 7.9"
check "the first round came within 2.5 s of the start ($(fig first_round_after_start) s)" \
  is "$(fig first_round_after_start) < 2.5"
check "the rounds keep a one-second pace: largest gap $(fig max_round_gap) s < 1.5 s" \
  is "$(fig max_round_gap) < 1.5"
check "at least 6 rounds ran before the slow source's first sample ($(fig rounds_before_slow))" \
  is "$(fig rounds_before_slow) >= 6"
check "the slow source's first sample came at least 6 s after the first round ($(fig slow_first_after_first_round) s)" \
  is "$(fig slow_first_after_first_round) >= 6"
for k in a b c; do
  check "address source $k: $(fig ${k}_before_slow) samples before the slow source's first (>= 6)" \
    is "$(fig ${k}_before_slow) >= 6"
  check "address source $k: no gap over 2.5 s meanwhile ($(fig ${k}_max_gap_before_slow) s)" \
    is "$(fig ${k}_max_gap_before_slow) < 2.5"
  # Lengthened by a uniform 0-5 %: mean 1.025 s, sd 14 ms; unjittered
  # polls measure about 1.002 s and 3 ms on a loaded machine. With the
  # dozen or so intervals of a run, an sd under 5 ms or a mean under
  # 1.010 s comes by chance about once in a thousand runs (simulated); the
  # former bound of 8 ms failed one CI run in about thirty (sd 7.2 ms).
  check "address source $k: intervals jittered, sd $(fig ${k}_interval_sd_ms) ms > 5 ms, mean $(fig ${k}_interval_mean) s in [1.010, 1.06]" \
    is "$(fig ${k}_interval_sd_ms) > 5 and 1.010 <= $(fig ${k}_interval_mean) <= 1.06"
done
# Each first poll at random within the first second: the three within
# 15 ms of each other has a chance of 3 x 0.015^2, under 0.1 %; unspread,
# they are sent in one wake-up and answered within 0.5-4 ms (measured on a
# loaded machine).
check "the address sources' first samples are spread ($(fig first_sample_spread_ms) ms > 15 ms)" \
  is "$(fig first_sample_spread_ms) > 15"
check "the moving name was looked up twice ($(fig moving_lookups))" is "$(fig moving_lookups) == 2"
check "... the second time after 8 unanswered polls ($(fig moving_relookup_after) s, in [7.5, 12])" \
  is "7.5 <= $(fig moving_relookup_after) <= 12"
check "the unresolvable name was tried again 8 s later ($(fig nowhere_retry_after) s, in [7.9, 9])" \
  is "$(fig nowhere_lookups) >= 2 and 7.9 <= $(fig nowhere_retry_after) <= 9"

# Part 2: a reload (SIGHUP) while a lookup is in flight drops it: its
# thread finishes on its own 4 s later and its answer is thrown away; the
# new sources look the name up afresh. Then SIGTERM while another lookup
# sleeps: the daemon does not wait for it.
mv "$T/vettimed.log" "$T/vettimed1.log"
MAP2=$T/names2
echo "reload.vettime.test 4 127.0.0.1" > "$MAP2"
cat > "$T/vettime2.conf" <<CONF
server 127.0.0.1 port $P_A minpoll 0 maxpoll 0 class GPS
server reload.vettime.test port $P_C minpoll 0 maxpoll 0 class DCF
database $T/history2.db
http 127.0.0.1 port $P_HTTP
log debug
CONF
LD_PRELOAD=$SHIM VT_SLOW_RESOLVER=$MAP2 start_vettimed "$T/vettime2.conf"
sleep 1
kill -HUP "$VETTIMED_PID"
reloaded_has_samples() {
  "$VETTIME" -c "$T/vettime2.conf" sources --json > "$T/reload.json" &&
    json_check "$T/reload.json" "d['sources'][1]['counters']['valid'] >= 2"
}
check "after a reload during its lookup, the name resolves and is polled (within 15 s)" \
  wait_for 15 reloaded_has_samples
check "the daemon is still running" kill -0 "$VETTIMED_PID"
check "the stub saw two lookups of the name (one dropped by the reload)" \
  test "$(grep -c '^reload.vettime.test ' "$MAP2.log")" -eq 2
check "the log has exactly one 'resolved' line for it (the dropped answer was not used)" \
  test "$(grep -c 'reload.vettime.test resolved to 127.0.0.1' "$T/vettimed.log")" -eq 1
echo "reload.vettime.test 10 127.0.0.1" > "$MAP2"
kill -HUP "$VETTIMED_PID"
relooking() {
  "$VETTIME" -c "$T/vettime2.conf" sources --json > "$T/reload2.json" &&
    json_check "$T/reload2.json" "d['sources'][1]['state'] == 'unresolved'"
}
check "after a second reload the name is being looked up again ('unresolved')" wait_for 5 relooking
sleep 1
t_term=$(date +%s.%N)
kill -TERM "$VETTIMED_PID"
wait "$VETTIMED_PID"; rc=$?
t_gone=$(date +%s.%N)
check "SIGTERM during a 10-s lookup: exit 0 within 2 s ($(python3 -c "print(round($t_gone - $t_term, 2))") s)" \
  python3 -c "import sys; sys.exit(0 if $rc == 0 and $t_gone - $t_term < 2 else 1)"

summary
