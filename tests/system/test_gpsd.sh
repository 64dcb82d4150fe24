# System test: the real gpsd, fed by gpsfake (a pty replay of the u-blox
# NEO-M9N NMEA log with its times rewritten to the present), and vettimed
# watching that gpsd over its JSON protocol next to two `vettime simulate`
# NTP servers (classes GAL and DCF), so that a vote runs.
#
# Asserts: the gpsd source gets samples once three fixes were seen; its
# class is GNSS (the log uses GPS, Galileo, GLONASS and BeiDou) and its
# refid "GNSS" at stratum 0; its offset is within +-1 s (serial timing
# without PPS: gpsd's TOFF says when the fix's first sentence arrived; the
# replay's pacing is only known to some 0.3 s, see below); the error bound
# is the TOFF bound (0.5 s); it takes part in the vote (vote_state is
# neither no-sample nor unreachable/stale/too-far); no line was bad input
# and the warm-up was counted as untrusted; a `device` filter naming
# another receiver sees nothing; when gpsd goes away the source reconnects
# to a new gpsd (counted) and samples again; samples reach the history.
#
# Part 2, against a scripted gpsd (PPS and faults gpsfake cannot play):
# PPS samples with a microsecond bound, hostile lines counted, and a
# receiver that loses satellites, antenna and PPS raises degraded events.
#
# Bounded: gpsfake, the simulator and the scripted gpsd run under
# timeout(1), every wait is bounded; the whole test takes about 45 s.
. "$(dirname "$0")/lib.sh"

LOG=$TOP/tests/data/gpsd/ublox-neo-m9n-nmea.log
PATH=$PATH:/usr/sbin
# VETTIMED_UNDER_TEST: another build of the daemon to test (default ./vettimed)
VETTIMED=${VETTIMED_UNDER_TEST:-$VETTIMED}
# probes/probe.c names the receiver drivers by weak reference: a driver the
# link did not pull out of libvettime.a would make the daemon say "no driver".
linked() { nm "$VETTIMED" 2>/dev/null | grep -qE " [DdRr] $1\$"; }
for sym in gpsd_ops; do
  check "vettimed is linked with $sym" linked "$sym"
done
installed() { command -v "$1" > /dev/null; }
for prog in gpsd gpsfake sqlite3; do
  check "$prog is installed" installed "$prog"
done

P_GPSD=$(free_port); P_HTTP=$(free_port); BASE=$(free_port)

# ---- the fake receiver ----------------------------------------------------

# The NMEA log with epoch k (from the k-th RMC) at T0 + k seconds, every
# time and date field rewritten and every checksum recomputed. gpsfake is
# launched at 0.35 s into a second with T0 two seconds later: gpsfake and
# gpsd take about 1.6 s before the first sentence reaches gpsd, so the
# replayed receiver starts within a few tenths of a second of the local
# clock; -c 0.043 s between sentences (23 a cycle) keeps it at one epoch a
# second (measured drift about 1 ms per epoch).
cat > "$T/replay.py" <<'PY'
import datetime, os, sys, time
log, out, epochs, port, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
TIME_FIELDS = {"RMC": [1], "GGA": [1], "GLL": [5], "GST": [1], "ZDA": [1], "GBS": [1], "GNS": [1]}

def checksum(body):
    c = 0
    for ch in body.encode("ascii"):
        c ^= ch
    return "%02X" % c

def rewrite(t0):
    k, lines = -1, []
    for line in open(log, encoding="ascii"):
        line = line.strip()
        if not line.startswith("$"):
            continue
        f = line[1:].split("*")[0].split(",")
        kind = f[0][2:]
        k += kind == "RMC"
        if k < 0:
            continue
        if k >= epochs:
            break
        t = datetime.datetime.fromtimestamp(t0 + k, datetime.timezone.utc)
        for i in TIME_FIELDS.get(kind, []):
            f[i] = t.strftime("%H%M%S.00")
        if kind == "RMC":
            f[9] = t.strftime("%d%m%y")
        if kind == "ZDA":
            f[2:5] = [t.strftime("%d"), t.strftime("%m"), t.strftime("%Y")]
        body = ",".join(f)
        lines.append("$%s*%s\r\n" % (body, checksum(body)))
    with open(out, "w", encoding="ascii") as fp:
        fp.write("".join(lines))

now = time.time()
time.sleep((0.35 - now % 1) % 1)
t0 = int(time.time()) + 2
rewrite(t0)
print("T0", t0, flush=True)
os.environ["TMPDIR"] = tmp  # gpsfake's control socket
os.execvp("timeout", ["timeout", "90", "gpsfake", "-1", "-q", "-n", "-s", "115200",
                      "-c", "0.043", "-P", port, out])
PY

# start_gpsfake NAME EPOCHS: gpsd on 127.0.0.1:$P_GPSD (gpsfake never
# passes -G: loopback only) replaying EPOCHS seconds of the log.
start_gpsfake() {
  python3 "$T/replay.py" "$LOG" "$T/$1.nmea" "$2" "$P_GPSD" "$T" > "$T/$1.log" 2>&1 &
  GPSFAKE_PID=$!
  PIDS+=($GPSFAKE_PID)
}

gpsd_listening() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.5)" "$1"; }

# ---- NTP servers and the daemon ---------------------------------------------

cat > "$T/ntp.scn" <<'SCN'
name gpsd-neighbours
duration 85
seed 7
poll 0 1
server gal1 refid GAL
server dcf1 refid DCF
SCN
timeout 90 "$VETTIME" simulate "$T/ntp.scn" --port-base "$BASE" --config "$T/servers.conf" \
  --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
check "simulated NTP servers ready" wait_for 10 test -e "$T/ready"

start_gpsfake first 40
check "gpsd (under gpsfake) listens on 127.0.0.1:$P_GPSD" wait_for 10 gpsd_listening "$P_GPSD"

{
  cat "$T/servers.conf"
  echo "gpsd 127.0.0.1:$P_GPSD"
  echo "gpsd 127.0.0.1:$P_GPSD device /dev/no-such-receiver"
  echo "database $T/history.db"
  echo "http 127.0.0.1 port $P_HTTP"
  echo "log debug"
} > "$T/vettime.conf"
check "vettimed -t accepts gpsd sources" "$VETTIMED" -t -c "$T/vettime.conf"
check "vettimed starts and its API answers" start_vettimed "$T/vettime.conf"

sources() { "$VETTIME" -c "$T/vettime.conf" sources --json > "$T/sources.json"; }
GPSD="[s for s in d['sources'] if s['name'] == 'gpsd:127.0.0.1:$P_GPSD'][0]"
FILTERED="[s for s in d['sources'] if s['kind'] == 'gpsd' and s['name'].endswith('/dev/no-such-receiver')][0]"
voting() {
  sources && json_check "$T/sources.json" \
    "$GPSD['counters']['valid'] >= 5 and $GPSD['vote_state'] not in (None, 'no-sample')"
}
check "the gpsd source has samples and is in the vote within 25 s" wait_for 25 voting
sources
"$VETTIME" -c "$T/vettime.conf" sources
python3 - "$T/sources.json" "$P_GPSD" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for s in d["sources"] if s["name"] == "gpsd:127.0.0.1:" + sys.argv[2]][0]
print("gpsd source: offset %+.3f s, error bound %.3f s, jitter %.3f s, vote %s, valid %d, untrusted %d"
      % (s["offset"], s["error_bound"], s["jitter"], s["vote_state"], s["counters"]["valid"],
         s["counters"]["untrusted"]))
PY

check "class GNSS, inferred from the satellites used" json_check "$T/sources.json" \
  "$GPSD['class'] == 'GNSS' and not $GPSD['class_configured']"
check "stratum 0, refid GNSS, state ok" json_check "$T/sources.json" \
  "$GPSD['stratum'] == 0 and $GPSD['refid'] == 'GNSS' and $GPSD['state'] == 'ok'"
check "offset within +-1 s of the local clock" json_check "$T/sources.json" "abs($GPSD['offset']) < 1.0"
check "error bound is the serial-time (TOFF) bound, 0.5 s" json_check "$T/sources.json" \
  "abs($GPSD['error_bound'] - 0.5) < 1e-9 and $GPSD['delay'] == 0"
check "it takes part in the vote" json_check "$T/sources.json" \
  "$GPSD['vote_state'] not in ('no-sample', 'unreachable', 'stale', 'too-far', 'noselect')"
check "no bad input; the warm-up counted as untrusted" json_check "$T/sources.json" \
  "$GPSD['counters']['bad_input'] == 0 and $GPSD['counters']['untrusted'] >= 2"
check "a device filter naming another receiver sees no time" json_check "$T/sources.json" \
  "not $FILTERED['have_sample'] and $FILTERED['counters']['valid'] == 0 and $FILTERED['counters']['received'] > 0"
check "the NTP neighbours vote too (classes GAL and DCF)" json_check "$T/sources.json" \
  "sorted(s['class'] for s in d['sources'] if s['kind'] == 'ntp') == ['DCF', 'GAL']"

# ---- gpsd goes away and comes back -------------------------------------------

kill -TERM "$GPSFAKE_PID"
wait "$GPSFAKE_PID" 2>/dev/null
gone() { ! gpsd_listening "$P_GPSD"; }
check "gpsd stopped" wait_for 10 gone
lost() { sources && json_check "$T/sources.json" "$GPSD['state'] in ('lost', 'unreachable')"; }
check "the source notices gpsd is gone" wait_for 5 lost
valid_before=$(python3 -c "import json; d=json.load(open('$T/sources.json')); print($GPSD['counters']['valid'])")

start_gpsfake second 30
back() {
  sources && json_check "$T/sources.json" \
    "$GPSD['counters']['reconnect'] >= 1 and $GPSD['counters']['valid'] > $valid_before + 2 and $GPSD['state'] == 'ok'"
}
check "it reconnects to the new gpsd (backoff 1-2 s) and samples again" wait_for 25 back
check "offset still within +-1 s after the reconnect" json_check "$T/sources.json" "abs($GPSD['offset']) < 1.0"

kill -TERM "$VETTIMED_PID"
check "vettimed exits 0 on SIGTERM" wait "$VETTIMED_PID"
stored=$(sqlite3 "$T/history.db" "SELECT count(*) FROM samples s JOIN sources o ON o.id = s.source_id WHERE o.name = 'gpsd:127.0.0.1:$P_GPSD' AND s.stratum = 0")
echo "gpsd samples in the history: $stored"
check "the gpsd samples are in the history" test "${stored:-0}" -ge 5
kill -TERM "$GPSFAKE_PID" 2>/dev/null
wait "$GPSFAKE_PID" 2>/dev/null
mv "$T/vettimed.log" "$T/vettimed-gpsfake.log"

# ---- part 2: PPS, hostile lines and a degrading receiver -------------------
# gpsfake cannot play PPS or a receiver losing its sky, so a scripted gpsd
# (the same JSON, written here) plays a u-blox timing receiver: each second
# a PPS 50 us ahead of the local clock (precision -20, qErr 3000 ps), a TPV
# (3D, surveyed, leapseconds 18, jam 10, antenna OK) and a SKY with GPS 8 and
# Galileo 6 used; after DEGRADE_AT seconds only 3 GPS satellites, antenna
# OPEN, and no PPS. Before all that, one line of 20000 bytes and one broken
# line.
cat > "$T/fake_gpsd.py" <<'PY'
import json, socket, sys, time
port, degrade_at = int(sys.argv[1]), float(sys.argv[2])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
while True:  # the test's own "is it listening" probe connects and closes
    c, _ = srv.accept()
    c.settimeout(5)
    if c.recv(1024).startswith(b"?WATCH"):
        break
    c.close()
def send(*objs):
    c.sendall(b"".join(json.dumps(o, separators=(",", ":")).encode() + b"\n" for o in objs))
send({"class": "VERSION", "release": "3.22", "rev": "fake", "proto_major": 3, "proto_minor": 14},
     {"class": "DEVICES", "devices": [{"class": "DEVICE", "path": "/dev/ttyACM0", "driver": "u-blox"}]},
     {"class": "WATCH", "enable": True, "json": True, "pps": True})
c.sendall(b"x" * 20000 + b"\n" + b'{"class":"TPV","mode":\n')
def sats(gps, gal):
    return [{"PRN": i + 1, "gnssid": 0, "svid": i + 1, "used": True} for i in range(gps)] + \
           [{"PRN": 301 + i, "gnssid": 2, "svid": i + 1, "used": True} for i in range(gal)]
start = time.time()
while True:
    now = time.time()
    time.sleep(1.05 - now % 1)          # 50 ms after each second
    sec = int(time.time())
    bad = time.time() - start > degrade_at
    if not bad:
        send({"class": "PPS", "device": "/dev/ttyACM0", "real_sec": sec, "real_nsec": 0,
              "clock_sec": sec - 1, "clock_nsec": 999950000, "precision": -20, "qErr": 3000})
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(sec))
    send({"class": "TPV", "device": "/dev/ttyACM0", "status": 7, "mode": 3, "time": stamp,
          "leapseconds": 18, "ept": 0.005, "jam": 10, "ant": 2 if bad else 1},
         {"class": "SKY", "device": "/dev/ttyACM0", "satellites": sats(3, 0) if bad else sats(8, 6)})
PY
P_FAKE=$(free_port); P_HTTP2=$(free_port)
timeout 60 python3 "$T/fake_gpsd.py" "$P_FAKE" 9 > "$T/fake_gpsd.log" 2>&1 &
PIDS+=($!)
check "the scripted gpsd listens" wait_for 5 gpsd_listening "$P_FAKE"
printf 'gpsd 127.0.0.1:%s\ndatabase %s/history2.db\nhttp 127.0.0.1 port %s\nlog debug\n' \
  "$P_FAKE" "$T" "$P_HTTP2" > "$T/vettime2.conf"
check "vettimed starts against the scripted gpsd" start_vettimed "$T/vettime2.conf"
sources2() { "$VETTIME" -c "$T/vettime2.conf" sources --json > "$T/sources2.json"; }
FAKE="d['sources'][0]"
pps_samples() { sources2 && json_check "$T/sources2.json" "$FAKE['counters']['valid'] >= 3 and $FAKE['error_bound'] < 1e-5"; }
check "PPS samples once three fixes were seen" wait_for 10 pps_samples
"$VETTIME" -c "$T/vettime2.conf" sources
check "PPS: offset +50 us (real - clock)" json_check "$T/sources2.json" "abs($FAKE['offset'] - 50e-6) < 1e-9"
check "PPS: error bound 1 us (2^-20 s, at least 1 us) + qErr 3 ns" json_check "$T/sources2.json" \
  "abs($FAKE['error_bound'] - 1.003e-6) < 1e-12"
check "class GNSS from GPS 8 + Galileo 6" json_check "$T/sources2.json" "$FAKE['class'] == 'GNSS'"
check "the 20000-byte line counted as bad_length, the broken one as bad_input" json_check "$T/sources2.json" \
  "$FAKE['counters']['bad_length'] == 1 and $FAKE['counters']['bad_input'] == 1"
check "healthy: nothing degraded yet" json_check "$T/sources2.json" "$FAKE['counters']['degraded'] == 0"
check "it takes part in the vote" json_check "$T/sources2.json" "$FAKE['vote_state'] in ('best', 'combined')"

events2() { "$VETTIME" -c "$T/vettime2.conf" events --json > "$T/events2.json"; }
degraded() {
  sources2 && events2 && json_check "$T/events2.json" \
    "any(e['kind'] == 'degraded' and 'used GPS 3' in e['text'] and 'ant OPEN' in e['text'] for e in d['events'])"
}
check "satellites 14 -> 3 and antenna OPEN: a degraded event with the health" wait_for 10 degraded
pps_gone() {
  sources2 && json_check "$T/sources2.json" \
    "$FAKE['counters']['degraded'] >= 2 and abs($FAKE['error_bound'] - 1.0) < 1e-9"
}
check "PPS gone: degraded again, samples fall back to TPV (1 s bound)" wait_for 8 pps_gone
check "class follows the sky: GPS only now" json_check "$T/sources2.json" "$FAKE['class'] == 'GPS'"
events2
python3 -c "
import json; [print('event:', e['kind'], e['text']) for e in json.load(open('$T/events2.json'))['events'] if e['kind'] == 'degraded']"
kill -TERM "$VETTIMED_PID"
check "vettimed exits 0 on SIGTERM" wait "$VETTIMED_PID"

summary
