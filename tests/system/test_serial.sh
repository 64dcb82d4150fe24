# System test: serial receivers on pseudo-terminals. tests/system/ptyplay.py
# plays, for the present time and at the real cadence, a Galileo NMEA
# receiver ($GARMC/$GAGGA/$GAZDA once a second, correct checksums) on
# $T/gnss0 and a Meinberg DCF77 receiver (the standard time string once a
# second) on $T/dcf0. vettimed reads both (`nmea $T/gnss0`, `dcf77 $T/dcf0
# mode meinberg`) next to two simulated NTP servers, so a vote runs.
# Asserts, with `vettime sources --json`: both receivers appear with class
# GAL and DCF, have samples whose offsets are within their error bounds,
# and take part in the vote (vote_state not no-sample); garbage written to
# both ptys is counted (bad_checksum, bad_input) and the daemon survives.
# Then both receivers' time jumps (ptyplay --jump: Meinberg +1 h, NMEA -1
# day, still on the real second): each goes untrusted with the jump in its
# detail and `jumps` 1, and is trusted again with the new time after the
# configured `settle 1` minute of consistent seconds (real time: the
# oscillator is not faked), so the daemon part takes about two minutes.
# Then `vettime decode` over the golden NMEA logs in tests/data/nmea/ and
# over DCF77 minutes and pulses generated for the present time.
#
# Raw 50-baud DCF77 pulses are not played to the daemon here: a minute
# confirmed by the next takes two to three minutes of real time, past this
# test's time; the pulse path is covered by tests/unit/test_dcf77.c and by
# `vettime decode dcf77` below (ptyplay.py --dcf-raw plays it by hand).
. "$(dirname "$0")/lib.sh"
PLAY=$TOP/tests/system/ptyplay.py
DATA=$TOP/tests/data/nmea
VETTIMED=${VETTIMED_UNDER_TEST:-$VETTIMED} # another build of the daemon, if given

# ---- the daemon against the ptys ----

# probes/probe.c reaches the receiver drivers through weak references,
# which do not pull their objects out of build/libvettime.a: the link of
# vettimed must name them (see the Makefile).
has_drivers() { nm "$VETTIMED" | grep -qE ' [DR] nmea_ops$' && nm "$VETTIMED" | grep -qE ' [DR] dcf77_ops$'; }

daemon_tests() {

timeout 180 python3 "$PLAY" --nmea "$T/gnss0" --talker GA --meinberg "$T/dcf0" \
  --duration 150 --ready "$T/ready" --inject "$T/inject" --jump "$T/jump" > "$T/ptyplay.log" 2>&1 &
PIDS+=($!)
check "ptyplay links the ptys" wait_for 10 test -e "$T/ready"

cat > "$T/sim.scn" <<SCN
name serial
duration 150
seed 7
poll 0 1
server gps1 refid GPS jitter 20us
server glo1 refid GLO jitter 20us
SCN
BASE=$(free_port)
"$VETTIME" simulate "$T/sim.scn" --port-base "$BASE" --config "$T/servers.conf" --ready "$T/sim.ready" \
  > "$T/simulate.log" 2>&1 &
PIDS+=($!)
check "simulator ready" wait_for 10 test -e "$T/sim.ready"

P_HTTP=$(free_port)
{
  cat "$T/servers.conf"
  cat <<CONF
nmea $T/gnss0 baud 9600 settle 1
dcf77 $T/dcf0 mode meinberg settle 1
database $T/history.db
http 127.0.0.1 port $P_HTTP
log debug
CONF
} > "$T/vettime.conf"

check "vettimed starts and its API answers" start_vettimed "$T/vettime.conf"

sources() { "$VETTIME" -c "$T/vettime.conf" sources --json > "$T/sources.json"; }
# The receivers by kind (the simulator's servers come first).
R="[s for s in d['sources'] if s['kind'] == 'nmea'][0]"
D="[s for s in d['sources'] if s['kind'] == 'dcf77'][0]"
both_voting() {
  sources && json_check "$T/sources.json" \
    "($R['counters']['valid'] >= 3 and $D['counters']['valid'] >= 3 and
      $R['vote_state'] not in (None, 'no-sample') and $D['vote_state'] not in (None, 'no-sample'))"
}
check "both receivers have 3 samples and vote within 30 s" wait_for 30 both_voting
sources
"$VETTIME" -c "$T/vettime.conf" sources | tee "$T/sources.txt"

check "nmea source: class GAL (talker GA), stratum 0, refid GAL" json_check "$T/sources.json" \
  "$R['class'] == 'GAL' and not $R['class_configured'] and $R['stratum'] == 0 and $R['refid'] == 'GAL'"
check "dcf77 source: class DCF, stratum 0, refid DCF" json_check "$T/sources.json" \
  "$D['class'] == 'DCF' and $D['stratum'] == 0 and $D['refid'] == 'DCF'"
check "nmea: serial-only bound 100 ms, offset within it" json_check "$T/sources.json" \
  "0.1 <= $R['error_bound'] < 0.15 and abs($R['offset']) < $R['error_bound']"
check "dcf77 meinberg: bound 2 ms (+ jitter), offset within it" json_check "$T/sources.json" \
  "0.002 <= $D['error_bound'] < 0.01 and abs($D['offset']) < $D['error_bound']"
check "both receivers in state ok, reachable" json_check "$T/sources.json" \
  "$R['state'] == 'ok' and $D['state'] == 'ok' and $R['reach'] > 0 and $D['reach'] > 0"
check "the vote is vetted, over 4 classes" bash -c \
  "'$VETTIME' -c '$T/vettime.conf' vote --json > '$T/vote.json' && python3 -c \"
import json,sys; d=json.load(open('$T/vote.json')); print(d.get('vetted'), d.get('agreeing_class_names'))
sys.exit(0 if d.get('vetted') and set(['GAL','DCF']) <= set(d.get('agreeing_class_names') or []) else 1)\""
check "no input rejected while the players play clean" json_check "$T/sources.json" \
  "$R['counters']['bad_checksum'] == 0 and $R['counters']['bad_input'] == 0 and $D['counters']['bad_input'] == 0"

# ---- garbage on the lines ----

touch "$T/inject"
check "ptyplay wrote the garbage" wait_for 5 bash -c "! test -e '$T/inject'"
sleep 3
sources
check "nmea: wrong and lower-case checksums counted" json_check "$T/sources.json" \
  "$R['counters']['bad_checksum'] >= 2"
check "nmea: binary bytes counted as bad input" json_check "$T/sources.json" "$R['counters']['bad_input'] >= 1"
check "dcf77: garbage and a truncated string counted as bad input" json_check "$T/sources.json" \
  "$D['counters']['bad_input'] >= 2"
check "vettimed survived the garbage" kill -0 "$VETTIMED_PID"
valid_before=$(python3 -c "import json; d=json.load(open('$T/sources.json')); print($R['counters']['valid'], $D['counters']['valid'])")
sleep 3
sources
check "both receivers still deliver samples after the garbage" json_check "$T/sources.json" \
  "$R['counters']['valid'] > ${valid_before% *} and $D['counters']['valid'] > ${valid_before#* } and $R['state'] == 'ok'"
check "the daemon logged the drops (rate-limited)" grep -qE "nmea .*(dropped a sentence|skipped input)" "$T/vettimed.log"

# ---- the receivers' own time jumps ----

check "no jump counted while the receivers run on" json_check "$T/sources.json" \
  "$R['counters']['jumps'] == 0 and $D['counters']['jumps'] == 0"
touch "$T/jump"
check "ptyplay jumped the receivers' time" wait_for 5 bash -c "! test -e '$T/jump'"
jumped() {
  sources && json_check "$T/sources.json" \
    "($D['state'] == 'untrusted' and $D['counters']['jumps'] == 1 and
      'time jumped +3600 s against its previous time; 0 of 1 consistent minute' in $D['detail'] and
      $R['state'] == 'untrusted' and $R['counters']['jumps'] == 1 and
      'time jumped -86400 s against its previous time' in $R['detail'])"
}
check "both go untrusted with the jump in their detail, jumps 1" wait_for 15 jumped
cp "$T/sources.json" "$T/sources-jumped.json"
valid_jumped=$(python3 -c "import json; d=json.load(open('$T/sources.json')); print($R['counters']['valid'], $D['counters']['valid'])")
sleep 2; "$VETTIME" -c "$T/vettime.conf" events --json > "$T/events.json"
check "each jump is a step event on its receiver, with the size of the jump" json_check "$T/events.json" \
  "(any(e['kind'] == 'step' and e['source'] == '$T/dcf0' and abs(e['value'] - 3600) < 0.5 for e in d['events']) and
    any(e['kind'] == 'step' and e['source'] == '$T/gnss0' and abs(e['value'] + 86400) < 0.5 for e in d['events']))"
check "the jumps were logged as warnings" bash -c \
  "grep -q 'dcf77 $T/dcf0: time jumped +3600 s' '$T/vettimed.log' && grep -q 'nmea $T/gnss0: time jumped -86400 s' '$T/vettimed.log'"
sleep 40
sources
check "40 s after the jump: still untrusted, no sample of the new time" json_check "$T/sources.json" \
  "($D['state'] == 'untrusted' and $R['state'] == 'untrusted' and
    $R['counters']['valid'] == ${valid_jumped% *} and $D['counters']['valid'] == ${valid_jumped#* })"
trusted_again() {
  sources && json_check "$T/sources.json" \
    "($D['state'] == 'ok' and $R['state'] == 'ok' and $D['counters']['jumps'] == 1 and
      $R['counters']['jumps'] == 1 and abs($D['offset'] - 3600) < 0.01 and abs($R['offset'] + 86400) < 0.2)"
}
check "after 1 consistent minute both are trusted again with the new time" wait_for 40 trusted_again
check "trust returned after at least a minute (the log)" grep -q "time consistent for 1 minute since its jump; trusted again" "$T/vettimed.log"

kill -TERM "$VETTIMED_PID"
check "vettimed exits 0 on SIGTERM" wait "$VETTIMED_PID"
check "history holds receiver samples" test "$(sqlite3 "$T/history.db" \
  "SELECT count(*) FROM samples s JOIN sources o ON o.id = s.source_id WHERE o.name = '$T/dcf0'")" -ge 3
}

if has_drivers; then
  daemon_tests
else
  fail "vettimed is linked without the nmea and dcf77 drivers (weak references in probes/probe.c do not pull archive members): link build/probes/*.o into vettimed"
fi

# ---- vettime decode ----

dec() { "$VETTIME" decode "$@"; }
dec nmea "$DATA/furuno_gl_ga.log" --json > "$T/furuno.json"
check "decode nmea furuno: 14 trusted times, class GNSS, GLO and GAL used" json_check "$T/furuno.json" \
  "(d['summary']['trusted'] == 14 and d['summary']['class'] == 'GNSS' and
    d['summary']['max_used'] == {'GLO': 6, 'GAL': 5} and d['summary']['max_in_view']['GAL'] == 7 and
    d['times'][-1]['time'] == '2022-07-31T12:02:28.000Z')"
dec nmea "$DATA/ublox-neo-m9n-nmea.log" --json > "$T/ublox.json"
check "decode nmea u-blox: 59 trusted, GPS GLO GAL BDS used" json_check "$T/ublox.json" \
  "d['summary']['trusted'] == 59 and d['summary']['max_used'] == {'GPS': 8, 'GLO': 7, 'GAL': 5, 'BDS': 5}"
dec nmea "$DATA/april6_2019.log" --json > "$T/april.json"
check "decode nmea april6_2019 (rollover): no trusted time, year -1 rejected" json_check "$T/april.json" \
  "(d['summary']['trusted'] == 0 and any('2208-1' in r['why'] for r in d['rejected']) and
    all('1999' in t['why'] for t in d['times']))"
dec nmea "$DATA/gp-320fw-2019-04-07-coldboot.log" --json > "$T/gp320.json"
check "decode nmea gp-320fw cold boot: no trusted time, bad checksums listed" json_check "$T/gp320.json" \
  "d['summary']['trusted'] == 0 and d['summary']['times'] > 10 and d['summary']['bad_checksum'] > 10"
check "decode nmea text: one line per time, a summary" bash -c \
  "'$VETTIME' decode nmea '$DATA/furuno_gl_ga.log' | grep -c 'GNSS trusted' | grep -qx 14"

# DCF77 minutes for the next ten minutes, from the same encoder as the player.
python3 - "$PLAY" "$T" <<'PY'
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("ptyplay", sys.argv[1]); p = importlib.util.module_from_spec(spec)
spec.loader.exec_module(p)
t0 = int(time.time()) // 60 * 60
with open(sys.argv[2] + "/minutes.txt", "w") as f:
    f.write("# ten minutes, bit 0 first\n")
    for m in range(10):
        bits = p.dcf_bits(t0 + 60 * (m + 1))
        if m == 5:
            bits[30] ^= 1          # a parity error (P2)
        f.write("".join(map(str, bits)) + "\n")
with open(sys.argv[2] + "/pulses.txt", "w") as f:
    for m in range(4):
        bits = p.dcf_bits(t0 + 60 * (m + 1))
        for s in range(59):
            f.write("%.3f %d\n" % (t0 + 60 * m + s + 0.002 * (s % 3), 200 if bits[s] else 100))
    f.write("%.3f 100\n" % (t0 + 240))
PY
dec dcf77 "$T/minutes.txt" --json > "$T/minutes.json"
check "decode dcf77 minutes: 8 trusted, the parity error rejected" json_check "$T/minutes.json" \
  "(d['summary']['trusted'] == 8 and len(d['rejected']) == 1 and d['rejected'][0]['status'] == 'parity'
    and d['rejected'][0]['line'] == 7 and d['times'][0]['trusted'] is False)"
dec dcf77 "$T/pulses.txt" --json > "$T/pulses.json"
check "decode dcf77 pulses: the cutoff learned, minutes decoded" json_check "$T/pulses.json" \
  "d['summary']['trusted'] >= 1 and 120 < d['summary']['cutoff_ms'] < 180"
printf '\002D:15.03.24;T:5;U:13.00.00;    \003\002D:15.03.24;T:5;U:13.00.01;    \003\002D:15.03.24;T:4;U:13.00.02;    \003' \
  > "$T/meinberg.bin"
dec meinberg "$T/meinberg.bin" --json > "$T/meinberg.json"
check "decode meinberg: confirmed second trusted, wrong weekday rejected" json_check "$T/meinberg.json" \
  "d['summary']['trusted'] == 1 and d['times'][1]['utc'] == 1710504001 and d['rejected'][0]['status'] == 'bad date'"
check "decode: unknown kind is a usage error (64)" bash -c "'$VETTIME' decode nosuch x; test \$? -eq 64"
check "decode: missing file is 66" bash -c "'$VETTIME' decode nmea '$T/nosuch' 2>/dev/null; test \$? -eq 66"

summary
