# System test: `make install` into a DESTDIR, as a packager runs it
# (PREFIX=/usr): the exact list of files and their modes, an edited
# configuration kept by a second install, the systemd unit through
# `systemd-analyze verify`, the man pages through `man --warnings`, the
# installed vettimed's -t on the installed example, the sd_notify protocol
# (READY, WATCHDOG at half WATCHDOG_USEC, RELOADING, STOPPING) against a
# listener on NOTIFY_SOCKET, `make uninstall`, and `make CFLAGS=...`
# keeping the build's own flags. Fast: no peers, no package build (that is
# tests/long/test_deb.sh, `make test-long`).
. "$(dirname "$0")/lib.sh"

ROOT=$T/root
MAKE=(make -s --no-print-directory -C "$TOP")

# ---- the file list ----
"${MAKE[@]}" install DESTDIR="$ROOT" PREFIX=/usr > "$T/install1.out" 2>&1
check "make install DESTDIR=… PREFIX=/usr succeeds" test $? -eq 0
cat "$T/install1.out"

# Every file with its mode; nothing else may appear (a file added to the
# install target is added here, deliberately).
cat > "$T/expected" <<'LIST'
644 etc/vettime/vettime.conf
644 usr/lib/systemd/system/vettimed.service
644 usr/lib/sysusers.d/vettime.conf
755 usr/bin/vettime
755 usr/sbin/vettimed
644 usr/share/doc/vettime/README.md
644 usr/share/doc/vettime/alerting.md
644 usr/share/doc/vettime/receivers-gpsd.md
644 usr/share/doc/vettime/receivers-serial.md
644 usr/share/doc/vettime/scenarios.md
644 usr/share/man/man1/vettime.1
644 usr/share/man/man5/vettime.conf.5
644 usr/share/man/man8/vettimed.8
644 usr/share/vettime/mibs/VETTIME-MIB.txt
644 usr/share/vettime/vettime.conf.example
LIST
(cd "$ROOT" && find . ! -type d -printf '%m %P\n') | LC_ALL=C sort > "$T/actual"
LC_ALL=C sort -o "$T/expected" "$T/expected"
if diff -u "$T/expected" "$T/actual" > "$T/list.diff"; then
  pass "installed files and modes are exactly the expected list"
else
  fail "installed files and modes are exactly the expected list"; cat "$T/list.diff"
fi
check "the example configuration is the one in /etc" \
  cmp "$ROOT/etc/vettime/vettime.conf" "$ROOT/usr/share/vettime/vettime.conf.example"

# ---- a second install keeps an edited configuration ----
echo "# edited by the operator" >> "$ROOT/etc/vettime/vettime.conf"
cp "$ROOT/etc/vettime/vettime.conf" "$T/edited.conf"
"${MAKE[@]}" install DESTDIR="$ROOT" PREFIX=/usr > "$T/install2.out" 2>&1
check "second make install succeeds" test $? -eq 0
check "second install keeps the edited /etc/vettime/vettime.conf" \
  cmp "$ROOT/etc/vettime/vettime.conf" "$T/edited.conf"
check "second install says it kept it" grep -q "^keeping .*/etc/vettime/vettime.conf" "$T/install2.out"

# ---- the systemd unit ----
UNIT=$ROOT/usr/lib/systemd/system/vettimed.service
if ! command -v systemd-analyze > /dev/null; then
  echo "systemd-analyze missing: trying scripts/install-deps.sh"
  bash "$TOP/scripts/install-deps.sh" || true
fi
if command -v systemd-analyze > /dev/null; then
  # verify checks that ExecStart's program exists on this machine and that
  # `man` finds the Documentation= pages: the staged copy has both under
  # $ROOT, so verify a copy whose ExecStart points there, with MANPATH on
  # the staged man pages. Only that path differs from the installed unit.
  mkdir -p "$T/unit"
  sed "s|^ExecStart=/usr/sbin/vettimed|ExecStart=$ROOT/usr/sbin/vettimed|" "$UNIT" > "$T/unit/vettimed.service"
  diff "$UNIT" "$T/unit/vettimed.service"
  MANPATH=$ROOT/usr/share/man systemd-analyze verify "$T/unit/vettimed.service" > "$T/verify.out" 2>&1
  rc=$?
  echo "systemd-analyze verify: exit $rc"; cat "$T/verify.out"
  check "systemd-analyze verify accepts the unit, with no message" test $rc -eq 0 -a ! -s "$T/verify.out"
  systemd-analyze security --offline=yes "$T/unit/vettimed.service" > "$T/security.out" 2>&1
  grep "Overall exposure" "$T/security.out"
  level=$(sed -n 's/.*Overall exposure level for vettimed.service: \([0-9.]*\).*/\1/p' "$T/security.out")
  check "systemd-analyze security: exposure ${level:-?} is at most 3.0 (\"OK\")" \
    python3 -c "import sys; sys.exit(0 if 0 <= float('${level:-99}') <= 3.0 else 1)"
else
  echo "SKIP: systemd-analyze is missing and could not be installed (Debian package systemd)"
fi
check "unit: ExecStart runs the installed daemon on /etc's configuration" \
  grep -qx "ExecStart=/usr/sbin/vettimed -c /etc/vettime/vettime.conf" "$UNIT"
for key in Type=notify WatchdogSec=30s User=vettime StateDirectory=vettime \
           ConfigurationDirectory=vettime ProtectSystem=strict NoNewPrivileges=yes \
           CapabilityBoundingSet=CAP_NET_BIND_SERVICE SupplementaryGroups=dialout \
           'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure; do
  check "unit: $key" grep -qxF "$key" "$UNIT"
done

# ---- man pages ----
for page in "$ROOT"/usr/share/man/man*/*; do
  out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 > /dev/null)
  if [[ -z $out ]]; then pass "man --warnings -l ${page#"$ROOT"/}: no warning"
  else fail "man --warnings -l ${page#"$ROOT"/}: no warning"; echo "$out"; fi
done
# Every installed file a man page names under /usr is installed.
missing=""
for f in $(grep -ho '/usr/share/[A-Za-z0-9/._-]*[A-Za-z0-9]' "$ROOT"/usr/share/man/man*/* | sort -u); do
  [[ -e $ROOT$f ]] || missing+=" $f"
done
check "files named by the man pages are installed${missing:+ (missing:$missing)}" test -z "$missing"

# ---- the installed daemon checks the installed configuration ----
# -t checks what a start needs on this machine too: the example's database
# folder (/var/lib/vettime, made by the package) and HTTP port (8123, maybe
# another test's daemon) are pointed into $T, the rest is as installed.
sed -e "s|^database .*|database $T/example-history.db|" \
    -e "s|^http .*|http 127.0.0.1 port $(free_port)|" \
  "$ROOT/usr/share/vettime/vettime.conf.example" > "$T/example.conf"
"$ROOT/usr/sbin/vettimed" -t -c "$T/example.conf" > "$T/check.out" 2>&1
rc=$?
cat "$T/check.out"
check "installed vettimed -t accepts the installed example configuration" test $rc -eq 0
check "installed vettimed -V" "$ROOT/usr/sbin/vettimed" -V
check "installed vettime -h" "$ROOT/usr/bin/vettime" -h

# ---- sd_notify: what systemd would receive ----
# A Unix datagram listener on NOTIFY_SOCKET records each message with its
# arrival time; the daemon runs with a 1 s watchdog (WATCHDOG_PID is its
# own pid, as systemd sets it: bash's exec keeps the pid).
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as log:
    while True:
        msg = s.recv(4096).decode()
        log.write("%.3f %s\n" % (time.monotonic(), msg.replace("\n", " | ")))
PY
PIDS+=($!)
wait_for 5 test -S "$T/notify.sock"
P_HTTP=$(free_port); P_NTP=$(free_port)
cat > "$T/notify.conf" <<CONF
server 127.0.0.1 port $P_NTP
database $T/history.db
http 127.0.0.1 port $P_HTTP
CONF
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 \
  bash -c 'export WATCHDOG_PID=$$; exec "$0" -c "$1"' "$ROOT/usr/sbin/vettimed" "$T/notify.conf" \
  > "$T/notify-vettimed.log" 2>&1 &
NPID=$!
PIDS+=($NPID)
check "READY=1 once started" wait_for 10 grep -q "READY=1 | STATUS=running: 1 sources" "$T/notify.log"
check "the API answers when READY=1 has been sent" "$ROOT/usr/bin/vettime" -u "http://127.0.0.1:$P_HTTP" status
sleep 2.2
n=$(grep -c "WATCHDOG=1" "$T/notify.log")
check "WATCHDOG=1 every 0.5 s for a 1 s watchdog ($n in ~2.2 s; 4 or 5 expected, 3 on a busy machine)" test "$n" -ge 3 -a "$n" -le 7
kill -HUP "$NPID"
check "SIGHUP: RELOADING=1, then READY=1" \
  wait_for 5 python3 -c "
import sys; l = [x.split(' ', 1)[1] for x in open('$T/notify.log')]
r = [i for i, x in enumerate(l) if x.startswith('RELOADING=1')]
sys.exit(0 if r and any(x.startswith('READY=1') for x in l[r[0]:]) else 1)"
kill -TERM "$NPID"
wait "$NPID"
rc=$?
check "SIGTERM: STOPPING=1 and exit status 0 ($rc)" grep -q "STOPPING=1" "$T/notify.log"
test $rc -eq 0 || fail "exit status after SIGTERM: $rc"
grep -v WATCHDOG "$T/notify.log"
# Without NOTIFY_SOCKET (a shell, the other tests) nothing is sent and
# nothing fails: -t above, and every other system test, run that way.

# ---- uninstall ----
"${MAKE[@]}" uninstall DESTDIR="$ROOT" PREFIX=/usr > "$T/uninstall.out" 2>&1
check "make uninstall succeeds" test $? -eq 0
left=$(cd "$ROOT" && find . ! -type d -printf '%P ')
check "uninstall leaves only the operator's configuration (left: $left)" test "$left" = "etc/vettime/vettime.conf "

# ---- the builder's CFLAGS ----
# `make CFLAGS=...` replaces the optimisation flags only: -I., _GNU_SOURCE,
# -std and the warnings stay, so a file that needs them still compiles.
"${MAKE[@]}" BUILD="$T/b" CFLAGS='-O2 -g' "$T/b/monitor/vettimed.o" "$T/b/lib/sdnotify.o" > "$T/cflags.out" 2>&1
rc=$?
cat "$T/cflags.out"
check "make CFLAGS='-O2 -g' compiles (the build's own flags kept)" test $rc -eq 0 -a -s "$T/b/monitor/vettimed.o"
"${MAKE[@]}" -n -B BUILD="$T/b" CFLAGS='-O0' CPPFLAGS='-DVT_EXTRA=1' "$T/b/lib/log.o" > "$T/cflags-n.out" 2>&1
check "make CPPFLAGS=… CFLAGS=… adds to the build's flags" \
  grep -q -- "-I\. -D_GNU_SOURCE .*-DVT_EXTRA=1 -std=c11 -Wall .*-O0" "$T/cflags-n.out"

summary
