# System test: the NTP shared-memory and chrony SOCK refclock probes.
# A small C writer (tests/system/refclock_writer.c, built here with cc)
# stands in for gpsd: it fills an SHM segment (unit chosen free, key
# 0x4e545030 + unit) and sends SOCK datagrams, each saying the reference is
# +0.25 s ahead of the local clock. vettimed must report offsets of +0.25 s
# (and +0.15 s for a sock source configured with `offset 0.1`), stratum 0,
# the configured classes, the SHM precision as the error bound; count
# malformed SOCK datagrams (short, long, wrong magic, NaN offset) as
# bad_input, leap 3 as unsynchronised and a pulse-only sample as untrusted,
# and keep running; count a bad SHM precision as bad_input and leap 3 as
# unsynchronised. A stale socket file is replaced at start and removed at
# stop; a path that is not a socket is refused at start. About 20 s.
. "$(dirname "$0")/lib.sh"

# VETTIMED_UNDER_TEST: another build of the daemon to test (default ./vettimed)
VETTIMED=${VETTIMED_UNDER_TEST:-$VETTIMED}
# probes/probe.c names the receiver drivers by weak reference: a driver the
# link did not pull out of libvettime.a would make the daemon say "no driver".
linked() { nm "$VETTIMED" 2>/dev/null | grep -qE " [DdRr] $1\$"; }
for sym in shm_ops sock_ops; do
  check "vettimed is linked with $sym" linked "$sym"
done
WRITER=$T/refclock_writer
check "the writer builds" cc -std=c11 -O2 -Wall -Wextra -o "$WRITER" "$TOP/tests/system/refclock_writer.c" -lm

# A unit whose segment does not exist yet; removed again at the end.
shm_exists() { ipcs -m | awk '{print $1}' | grep -qi "^$(printf '0x%08x' "$1")$"; }
UNIT=
for u in $(shuf -i 100-199 -n 20); do
  if ! shm_exists $((0x4e545030 + u)); then UNIT=$u; break; fi
done
KEY=$((0x4e545030 + ${UNIT:-0}))
trap 'ipcrm -M "$KEY" 2>/dev/null; cleanup' EXIT
trap 'ipcrm -M "$KEY" 2>/dev/null; cleanup; exit 1' TERM INT
check "a free SHM unit" test -n "$UNIT"

SOCK1=$T/refclock.sock
SOCK2=$T/refclock-offset.sock
# A socket file left behind by an earlier run.
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])" "$SOCK1"
check "a stale socket file exists before the start" test -S "$SOCK1"

P_HTTP=$(free_port)
cat > "$T/vettime.conf" <<CONF
shm $UNIT class GPS
sock $SOCK1 class GAL
sock $SOCK2 offset 0.1 class DCF
database $T/history.db
http 127.0.0.1 port $P_HTTP
log debug
CONF
check "vettimed -t accepts shm and sock sources" "$VETTIMED" -t -c "$T/vettime.conf"
check "vettimed starts and its API answers" start_vettimed "$T/vettime.conf"
check "the stale socket was replaced by the daemon's" test -S "$SOCK1"
check "the SHM segment exists (created by the daemon)" shm_exists "$KEY"

timeout 60 "$WRITER" shm "$UNIT" 0.25 30 > "$T/writer-shm.log" 2>&1 &
SHM_WRITER=$!
PIDS+=($SHM_WRITER)
timeout 60 "$WRITER" sock "$SOCK1" 0.25 30 > "$T/writer-sock1.log" 2>&1 &
PIDS+=($!)
timeout 60 "$WRITER" sock "$SOCK2" 0.25 30 > "$T/writer-sock2.log" 2>&1 &
PIDS+=($!)

sources() { "$VETTIME" -c "$T/vettime.conf" sources --json > "$T/sources.json"; }
SHM="[s for s in d['sources'] if s['kind'] == 'shm'][0]"
S1="[s for s in d['sources'] if s['name'] == 'sock:$SOCK1'][0]"
S2="[s for s in d['sources'] if s['name'] == 'sock:$SOCK2'][0]"
enough() { sources && json_check "$T/sources.json" "all(s['counters']['valid'] >= 4 for s in d['sources'])"; }
check "every source has 4 valid samples within 15 s" wait_for 15 enough
sources
"$VETTIME" -c "$T/vettime.conf" sources

check "shm: offset +0.25 s (clock - receive)" json_check "$T/sources.json" "abs($SHM['offset'] - 0.25) < 1e-6"
check "shm: error bound 2^-20 s from the writer's precision" json_check "$T/sources.json" \
  "abs($SHM['error_bound'] - 2**-20) < 1e-12"
check "shm: stratum 0, class GPS, refid GPS, state ok" json_check "$T/sources.json" \
  "$SHM['stratum'] == 0 and $SHM['class'] == 'GPS' and $SHM['refid'] == 'GPS' and $SHM['state'] == 'ok'"
check "sock: offset +0.25 s (chrony's sign: reference - system)" json_check "$T/sources.json" \
  "abs($S1['offset'] - 0.25) < 1e-6"
check "sock: error bound 1 ms (no precision in the format)" json_check "$T/sources.json" \
  "abs($S1['error_bound'] - 1e-3) < 1e-6"
check "sock: stratum 0, class GAL, state ok" json_check "$T/sources.json" \
  "$S1['stratum'] == 0 and $S1['class'] == 'GAL' and $S1['state'] == 'ok'"
check "sock with offset 0.1: +0.15 s" json_check "$T/sources.json" "abs($S2['offset'] - 0.15) < 1e-6"
check "the vote: SHM and SOCK agree at +0.25 s, the +0.15 s source is outvoted" \
  json_check "$T/sources.json" \
  "$SHM['vote_state'] in ('combined', 'best') and $S1['vote_state'] in ('combined', 'best') and $S2['vote_state'] in ('falseticker', 'class-outvoted')"
check "no bad input so far" json_check "$T/sources.json" \
  "all(s['counters']['bad_input'] == 0 for s in d['sources'])"

# Malformed input.
check "the writer sends malformed SOCK datagrams" "$WRITER" sock-bad "$SOCK1"
kill "$SHM_WRITER"; wait "$SHM_WRITER" 2>/dev/null # the bad samples must not be overwritten
check "the writer puts malformed SHM samples" "$WRITER" shm-bad "$UNIT"
counted() {
  sources && json_check "$T/sources.json" \
    "$S1['counters']['bad_input'] == 4 and $S1['counters']['unsynchronised'] == 1 and $S1['counters']['untrusted'] == 1"
}
check "sock: short, long, bad magic and NaN counted as bad_input; leap 3 and a pulse counted" \
  wait_for 5 counted
shm_counted() {
  sources && json_check "$T/sources.json" \
    "$SHM['counters']['bad_input'] == 1 and $SHM['counters']['unsynchronised'] == 1"
}
check "shm: bad precision counted as bad_input, leap 3 as unsynchronised" wait_for 3 shm_counted
valid1=$(python3 -c "import json; d=json.load(open('$T/sources.json')); print($S1['counters']['valid'])")
more() { sources && json_check "$T/sources.json" "$S1['counters']['valid'] > $valid1 + 2 and $S1['state'] == 'ok'"; }
check "the daemon keeps running and taking good samples" wait_for 5 more
check "vettimed is still alive" kill -0 "$VETTIMED_PID"

kill -TERM "$VETTIMED_PID"
check "vettimed exits 0 on SIGTERM" wait "$VETTIMED_PID"
check "the socket files are removed at stop" test ! -e "$SOCK1" -a ! -e "$SOCK2"
stored=$(sqlite3 "$T/history.db" "SELECT count(*) FROM samples WHERE stratum = 0 AND abs(offset - 0.25) < 1e-6")
echo "samples at +0.25 s in the history: $stored"
check "the samples are in the history" test "${stored:-0}" -ge 8

# A path that is not a socket is refused at start, with the path named.
touch "$T/not-a-socket"
printf 'sock %s\ndatabase %s/h2.db\nhttp 127.0.0.1 port %s\n' "$T/not-a-socket" "$T" "$(free_port)" > "$T/bad.conf"
timeout 10 "$VETTIMED" -c "$T/bad.conf" > "$T/bad.log" 2>&1
rc=$?
check "a regular file at the sock path stops the start (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "the message names the path" grep -q "not-a-socket: the path exists and is not a socket" "$T/bad.log"
check "the regular file is left alone" test -f "$T/not-a-socket"

summary
