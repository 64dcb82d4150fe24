# Long test (`make test-long`, not `make test`): the Debian package end to
# end. Builds it with dpkg-buildpackage from a copy of the working tree,
# checks it with lintian (no error), installs it with apt, starts the
# service on the installed configuration pointed at `vettime simulate`
# servers and checks that it vets the time, then purges it and checks that
# the package's files, the vettime user and group and /var/lib/vettime are
# gone. Needs root (it installs and removes a package) and a few minutes.
#
# The daemon also serves NTP on loopback, and a client request gets the
# vetted time at stratum 2.
#
# Where systemd is PID 1 the service is started with systemctl; elsewhere
# (a container) vettimed is started directly as the vettime user, as the
# unit would (the unit is still checked with systemd-analyze verify).
. "$(dirname "$0")/../system/lib.sh"

PKG=vettime
INSTALLED_BY_US=0

# Prints a command, runs it, shows its output (the last lines of a long
# one) and returns its status: the test's output is the evidence.
run() {
  echo "\$ $*"
  "$@" > "$T/run.out" 2>&1
  local rc=$?
  if [[ $(wc -l < "$T/run.out") -gt 40 ]]; then echo "[... $(wc -l < "$T/run.out") lines, the last 25:]"; tail -n 25 "$T/run.out"
  else cat "$T/run.out"; fi
  echo "[exit $rc]"
  return $rc
}

# A failed run must not leave the package, its user or a daemon behind.
deb_cleanup() {
  [[ -n ${DAEMON_PID:-} ]] && kill "$DAEMON_PID" 2>/dev/null
  if [[ $INSTALLED_BY_US -eq 1 ]] && dpkg -s "$PKG" > /dev/null 2>&1; then
    echo "cleanup: purging $PKG"
    apt-get purge -y -q "$PKG" > /dev/null 2>&1 || dpkg --purge "$PKG"
  fi
  [[ -n ${SYSTEMD_DROPIN:-} ]] && rm -rf "$SYSTEMD_DROPIN"
  cleanup
}
trap deb_cleanup EXIT
trap 'deb_cleanup; exit 1' TERM INT

if [[ $(id -u) -ne 0 ]]; then
  fail "runs as root (it installs and purges a package)"; summary; exit 1
fi
if dpkg -s "$PKG" > /dev/null 2>&1 || getent passwd vettime > /dev/null; then
  fail "no $PKG package and no vettime user before the test (this test purges both; remove them first)"
  summary; exit 1
fi
pass "no $PKG package and no vettime user before the test"

# ---- build ----
VERSION=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
SRC=$T/build/$PKG-$VERSION
mkdir -p "$SRC"
# The working tree as git sees it (committed or not, minus ignored files),
# so the test checks what is about to be committed; dpkg-buildpackage
# writes its results next to the tree, in $T/build.
(cd "$TOP" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$SRC"
(cd "$SRC" && run dpkg-buildpackage -us -uc -b)
check "dpkg-buildpackage -us -uc -b builds the package" test -s "$T/build/${PKG}_${VERSION}_${ARCH}.deb"
DEB=$T/build/${PKG}_${VERSION}_${ARCH}.deb
grep -E "^unit tests:|FAIL" "$T/run.out"
run dpkg-deb --info "$DEB"
run dpkg-deb --contents "$DEB"

# ---- lintian ----
echo "\$ lintian --display-info --pedantic --show-overrides ${PKG}_${VERSION}_${ARCH}.changes"
lintian --display-info --pedantic --show-overrides "$T/build/${PKG}_${VERSION}_${ARCH}.changes" > "$T/lintian.out" 2>&1
cat "$T/lintian.out"
errors=$(grep -c '^E: ' "$T/lintian.out")
warnings=$(grep -c '^W: ' "$T/lintian.out")
echo "lintian: $errors errors, $warnings warnings, $(grep -c '^[IP]: ' "$T/lintian.out") info and pedantic tags, $(grep -c '^O: ' "$T/lintian.out") overridden"
check "lintian: no error" test "$errors" -eq 0
check "lintian: no warning" test "$warnings" -eq 0

# ---- install ----
INSTALLED_BY_US=1
DEBIAN_FRONTEND=noninteractive run apt-get install -y -q "$DEB"
check "apt-get install ./${DEB##*/}" dpkg -s "$PKG"
run id vettime
check "the postinst created the system user vettime" getent passwd vettime
check "... whose home is /var/lib/vettime and shell nologin" \
  test "$(getent passwd vettime | cut -d: -f6,7)" = "/var/lib/vettime:/usr/sbin/nologin"
check "... in group dialout" bash -c "id -nG vettime | tr ' ' '\n' | grep -qx dialout"
run stat -c '%U:%G %a %n' /var/lib/vettime
check "/var/lib/vettime belongs to vettime, mode 750" test "$(stat -c '%U:%G %a' /var/lib/vettime)" = "vettime:vettime 750"
run dpkg-query -W -f='${Conffiles}\n' "$PKG"
check "/etc/vettime/vettime.conf is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' $PKG | grep -q ' /etc/vettime/vettime.conf '"
run systemd-analyze verify /lib/systemd/system/vettimed.service
check "systemd-analyze verify on the installed unit" test "$(wc -c < "$T/run.out")" -eq 0
check "vettimed -t as user vettime accepts the installed configuration" \
  run setpriv --reuid=vettime --regid=vettime --init-groups /usr/sbin/vettimed -t -c /etc/vettime/vettime.conf

# ---- start it on the installed configuration, pointed at a simulator ----
# The installed file with its `server` lines replaced by the simulator's
# and the API on a free port: the rest (database in /var/lib/vettime,
# vote, log) as installed.
BASE=$(free_ports 5)
P_HTTP=$(free_port)
P_NTP=$(free_port)
run /usr/bin/vettime simulate "$TOP/tests/scenarios/clean-five.scn" --check
/usr/bin/vettime simulate "$TOP/tests/scenarios/clean-five.scn" --port-base "$BASE" \
  --config "$T/servers.conf" --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
check "vettime simulate: five servers ready" wait_for 10 test -s "$T/ready"
CONF_DIR=$T/conf     # readable by the vettime user: $T itself is 700
mkdir -p "$CONF_DIR"
chmod 711 "$T"
chmod 755 "$CONF_DIR"
{ grep -v -e '^server ' -e '^http ' /etc/vettime/vettime.conf
  echo "http 127.0.0.1 port $P_HTTP"
  echo "serve 127.0.0.1 port $P_NTP"
  cat "$T/servers.conf"; } > "$CONF_DIR/vettime.conf"
chmod 644 "$CONF_DIR/vettime.conf"
run diff /etc/vettime/vettime.conf "$CONF_DIR/vettime.conf"
CLI=(/usr/bin/vettime -c "$CONF_DIR/vettime.conf")

PID1=$(ps -p 1 -o comm=)
echo "PID 1 is $PID1"
if [[ $PID1 == systemd ]]; then
  # The real service, with a runtime drop-in for the test configuration
  # (/run: gone at the next boot, removed at the end).
  SYSTEMD_DROPIN=/run/systemd/system/vettimed.service.d
  mkdir -p "$SYSTEMD_DROPIN"
  printf '[Service]\nExecStart=\nExecStart=/usr/sbin/vettimed -c %s\n' "$CONF_DIR/vettime.conf" > "$SYSTEMD_DROPIN/test.conf"
  run systemctl daemon-reload
  run systemctl restart vettimed
  check "systemctl: vettimed.service is active (READY=1 came)" systemctl is-active --quiet vettimed
else
  echo "systemd is not PID 1 (a container?): vettimed runs as user vettime directly, as the unit would"
  echo "\$ setpriv --reuid=vettime --regid=vettime --init-groups /usr/sbin/vettimed -c $CONF_DIR/vettime.conf &"
  setpriv --reuid=vettime --regid=vettime --init-groups /usr/sbin/vettimed -c "$CONF_DIR/vettime.conf" \
    > "$T/vettimed.log" 2>&1 &
  DAEMON_PID=$!
  check "vettimed answers on its API" wait_for 10 "${CLI[@]}" status
  run ps -o user,group,supgrp,pid,args -p "$DAEMON_PID"
  check "vettimed runs as vettime" test "$(ps -o user= -p "$DAEMON_PID")" = vettime
fi
vetted() { "${CLI[@]}" vote --json > "$T/vote.json" 2>/dev/null && json_check "$T/vote.json" 'd["vetted"] is True'; }
check "the installed vettimed vets the time from the simulated servers" wait_for 60 vetted
run "${CLI[@]}" sources
run "${CLI[@]}" vote
check "five sources reachable, history /var/lib/vettime/history.db" json_check <("${CLI[@]}" status --json) 'd["reachable"] == 5 and d["database"] == "/var/lib/vettime/history.db"'
# An NTP client request to the installed daemon's server: a mode 4
# answer, synchronised (LI 0..2), stratum 2 (the simulated servers are 1).
ntp_stratum() {
  python3 - "$P_NTP" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(b"\x23" + 47 * b"\0", ("127.0.0.1", int(sys.argv[1])))
d = s.recv(512)
print("answer: LI %d, version %d, mode %d, stratum %d, refid %r" % (d[0] >> 6, (d[0] >> 3) & 7, d[0] & 7, d[1], d[12:16]))
sys.exit(0 if d[0] & 7 == 4 and d[0] >> 6 != 3 and d[1] == 2 else 1)
PY
}
check "its NTP server answers a client with the vetted time, stratum 2" wait_for 10 ntp_stratum
ntp_stratum
run ls -l /var/lib/vettime
check "the history is in /var/lib/vettime and belongs to vettime" \
  test "$(stat -c %U /var/lib/vettime/history.db 2>/dev/null)" = vettime
if [[ $PID1 == systemd ]]; then
  run systemctl stop vettimed
  rm -rf "$SYSTEMD_DROPIN"; SYSTEMD_DROPIN=
  systemctl daemon-reload
else
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID"
  rc=$?
  DAEMON_PID=
  check "SIGTERM stops it, exit status 0 ($rc)" test $rc -eq 0
  echo "---- vettimed's log (the last 15 lines)"; tail -n 15 "$T/vettimed.log"; echo "----"
fi

# ---- purge ----
DEBIAN_FRONTEND=noninteractive run apt-get purge -y -q "$PKG"
check "apt-get purge $PKG" test "$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null)" != "install ok installed"
check "the package is gone from dpkg's database" bash -c "! dpkg -s $PKG > /dev/null 2>&1"
check "the user vettime is gone" bash -c "! getent passwd vettime"
check "the group vettime is gone" bash -c "! getent group vettime"
check "dialout no longer lists vettime" bash -c "! getent group dialout | cut -d: -f4 | tr , '\n' | grep -qx vettime"
for f in /var/lib/vettime /etc/vettime /usr/sbin/vettimed /usr/bin/vettime \
         /lib/systemd/system/vettimed.service /usr/lib/sysusers.d/vettime.conf \
         /usr/share/vettime /usr/share/doc/vettime /usr/share/man/man8/vettimed.8.gz \
         /etc/systemd/system/multi-user.target.wants/vettimed.service; do
  check "gone: $f" test ! -e "$f"
done
INSTALLED_BY_US=0

summary
