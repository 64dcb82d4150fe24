# System test: "check means check" (issue 12). Every configuration mistake
# below is refused by `vettimed -t` and by a real start alike, with
# "vettimed: FILE:LINE: message" (FILE the file that holds the line, the
# key file's own line for an error inside it), exit status 78 (EX_CONFIG),
# and no database file created; `-t` on a good file creates nothing either.
# Then: include, confdir and `name LABEL` in a running daemon, -t beside a
# running daemon, and reloads on SIGHUP.
. "$(dirname "$0")/lib.sh"

# refused NAME MESSAGE [PATH]: $T/NAME.conf is refused by -t and by a start
# with exactly "vettimed: MESSAGE" on stderr and exit status 78, and PATH
# (default $T/NAME.db, the database the file names) does not exist after.
# A PATH outside $T is never removed: its check is skipped if it exists.
refused() {
  local name=$1 want=$2 how rc
  local db=${3:-$T/$name.db}
  for how in -t start; do
    if [[ $db == "$T"/* ]]; then rm -rf "$db"
    elif [[ -e $db ]]; then echo "  ($db exists on this machine: its check is skipped)"; db=; fi
    if [[ $how == -t ]]; then
      timeout 10 "$VETTIMED" -t -c "$T/$name.conf" > "$T/$name.$how.out" 2>&1
    else
      timeout 10 "$VETTIMED" -c "$T/$name.conf" > "$T/$name.$how.out" 2>&1
    fi
    rc=$?
    check "$name ($how): exit status 78" test $rc -eq 78
    if grep -qxF "vettimed: $want" "$T/$name.$how.out"; then pass "$name ($how): $want"
    else fail "$name ($how): $want"; echo "  got: $(cat "$T/$name.$how.out")"; fi
    [[ -z $db ]] || check "$name ($how): no database file $db" test ! -e "$db"
  done
}

# conf NAME LINES...: writes $T/NAME.conf, one argument a line.
conf() {
  local name=$1; shift
  printf '%s\n' "$@" > "$T/$name.conf"
}

DB() { echo "database $T/$1.db"; }
HTTP_OFF="http off"

# ---- usage ----
"$VETTIMED" -x > "$T/usage.out" 2>&1
check "an unknown option: exit status 64 (EX_USAGE)" test $? -eq 64
check "an unknown option: the usage is printed" grep -q "^usage: vettimed" "$T/usage.out"
"$VETTIMED" -t extra > /dev/null 2>&1
check "an extra argument: exit status 64" test $? -eq 64

# ---- parse errors ----
conf badport "$(DB badport)" "server 127.0.0.1 port 70000"
refused badport "$T/badport.conf:2: port: 70000 is out of range (1 to 65535)"

"$VETTIMED" -c "$T/missing.conf" > "$T/missing.out" 2>&1
check "missing file: exit status 78" test $? -eq 78
check "missing file: message" grep -qxF "vettimed: $T/missing.conf: cannot open: No such file or directory" "$T/missing.out"

conf httpname "$(DB httpname)" "server 127.0.0.1" "http localhost port 8123"
refused httpname "$T/httpname.conf:3: http: \"localhost\" is not an IPv4 or IPv6 address literal (a host name is not accepted: write 127.0.0.1 or ::1 for this machine only)"

conf maxpoll "$(DB maxpoll)" "server 127.0.0.1 maxpoll 4" "$HTTP_OFF"
refused maxpoll "$T/maxpoll.conf:2: server: minpoll 6 (the default) is above maxpoll 4"
conf minpoll "$(DB minpoll)" "server 127.0.0.1 minpoll 12" "$HTTP_OFF"
refused minpoll "$T/minpoll.conf:2: server: minpoll 12 is above maxpoll 10 (the default)"

conf badname "$(DB badname)" "server 127.0.0.1 name -roof" "$HTTP_OFF"
refused badname "$T/badname.conf:2: name: \"-roof\" is not a label (letters, digits and . _ - : @ +, starting with a letter or a digit)"
conf dupname "$(DB dupname)" "server 127.0.0.1 name roof" "server 127.0.0.2 name roof" "$HTTP_OFF"
refused dupname "$T/dupname.conf:3: server 127.0.0.2: name roof is already configured at line 2"
conf dupaddr "$(DB dupaddr)" "server 127.0.0.1 name a" "server 127.0.0.1 name b" "$HTTP_OFF"
refused dupaddr "$T/dupaddr.conf:3: server 127.0.0.1 is already configured at line 2"

# ---- policy ----
: > "$T/empty.conf"
refused empty "$T/empty.conf: no sources: the configuration names no server, gpsd, nmea, dcf77, shm or sock source, so there is nothing to watch" /var/lib/vettime/history.db
conf nosrc "$(DB nosrc)" "$HTTP_OFF" "# only comments"
refused nosrc "$T/nosrc.conf: no sources: the configuration names no server, gpsd, nmea, dcf77, shm or sock source, so there is nothing to watch"
conf minclasses "$(DB minclasses)" "server 127.0.0.1" "minclasses 5" "$HTTP_OFF"
refused minclasses "$T/minclasses.conf:3: minclasses 5 can never be met: the 1 source that can vote gives at most 1 class"
conf sameclass "$(DB sameclass)" "dcf77 /dev/tty mode raw50" "server 127.0.0.1 class DCF" "minclasses 2" "$HTTP_OFF"
refused sameclass "$T/sameclass.conf:4: minclasses 2 can never be met: the 2 sources that can vote give at most 1 class"
conf minsources "$(DB minsources)" "server 127.0.0.1" "server 127.0.0.2 noselect" "minsources 2" "$HTTP_OFF"
refused minsources "$T/minsources.conf:4: minsources 2 can never be met: 1 source can vote (noselect and class LOCL do not)"

# ---- the database ----
conf dbdeep "database $T/no/such/deep/folder/h.db" "server 127.0.0.1" "$HTTP_OFF"
refused dbdeep "$T/dbdeep.conf:1: database $T/no/such/deep/folder/h.db: the folder $T/no/such/deep/folder does not exist, nor $T/no/such/deep (vettimed creates the database and its own folder, not more)" "$T/no"
mkdir -p "$T/dbdir.db"
conf dbdir "database $T/dbdir.db" "server 127.0.0.1" "$HTTP_OFF"
refused dbdir "$T/dbdir.conf:1: database $T/dbdir.db: is a folder (name the file, e.g. $T/dbdir.db/history.db)" "$T/dbdir.db/history.db"
check "dbdir: the folder is still there, empty" test -d "$T/dbdir.db" -a -z "$(ls -A "$T/dbdir.db")"
conf dbproc "database /proc/vettime/h.db" "server 127.0.0.1" "$HTTP_OFF"
refused dbproc "$T/dbproc.conf:1: database /proc/vettime/h.db: cannot create its folder in /proc: No such file or directory" /proc/vettime
conf dbfile "database $T/dbdeep.conf/h.db" "server 127.0.0.1" "$HTTP_OFF"
refused dbfile "$T/dbfile.conf:1: database $T/dbdeep.conf/h.db: the folder $T/dbdeep.conf: Not a directory"
# One missing folder level is made by a start (history_open), so -t accepts
# it and creates neither the folder nor the file.
conf dbnew "database $T/newdir/h.db" "server 127.0.0.1" "$HTTP_OFF"
"$VETTIMED" -t -c "$T/dbnew.conf" > "$T/dbnew.out" 2>&1
check "dbnew: -t accepts a database whose own folder is still to be made" test $? -eq 0
check "dbnew: -t made neither the folder nor the file" test ! -e "$T/newdir"

# ---- ports ----
P_BUSY=$(free_port)
python3 -c "
import socket, time
t = socket.socket(); t.bind(('127.0.0.1', $P_BUSY)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', $P_BUSY))
open('$T/busy.ready', 'w').close(); time.sleep(120)" &
PIDS+=($!)
BUSY_PID=$!
wait_for 5 test -e "$T/busy.ready"
conf httpbusy "$(DB httpbusy)" "server 127.0.0.1" "http 127.0.0.1 port $P_BUSY"
refused httpbusy "$T/httpbusy.conf:3: http 127.0.0.1 port $P_BUSY: cannot listen: Address already in use (by python3, pid $BUSY_PID)"
conf servebusy "$(DB servebusy)" "server 127.0.0.1" "$HTTP_OFF" "serve 127.0.0.1 port $P_BUSY"
refused servebusy "$T/servebusy.conf:4: serve 127.0.0.1 port $P_BUSY: cannot bind: Address already in use"
conf servefar "$(DB servefar)" "server 127.0.0.1" "$HTTP_OFF" "serve 192.0.2.1 port $P_BUSY"
refused servefar "$T/servefar.conf:4: serve 192.0.2.1 port $P_BUSY: cannot bind: Cannot assign requested address"

# ---- devices ----
conf nodev "$(DB nodev)" "nmea /dev/ttyNOPE" "$HTTP_OFF"
refused nodev "$T/nodev.conf:2: nmea /dev/ttyNOPE: No such file or directory"
conf nodcf "$(DB nodcf)" "server 127.0.0.1" "dcf77 /dev/ttyNOPE2 mode raw50" "$HTTP_OFF"
refused nodcf "$T/nodcf.conf:3: dcf77 /dev/ttyNOPE2: No such file or directory"
conf nopps "$(DB nopps)" "nmea /dev/tty pps /dev/ppsNOPE" "$HTTP_OFF"
refused nopps "$T/nopps.conf:2: nmea pps /dev/ppsNOPE: No such file or directory"
conf notdev "$(DB notdev)" "nmea $T/notdev.conf" "$HTTP_OFF"
refused notdev "$T/notdev.conf:2: nmea $T/notdev.conf: not a device"
conf nosockdir "$(DB nosockdir)" "sock $T/nofolder/gnss.sock" "$HTTP_OFF"
refused nosockdir "$T/nosockdir.conf:2: sock $T/nofolder/gnss.sock: the folder $T/nofolder does not exist"
conf sockfile "$(DB sockfile)" "sock $T/sockfile.conf" "$HTTP_OFF"
refused sockfile "$T/sockfile.conf:2: sock $T/sockfile.conf: the path exists and is not a socket (a stale socket is replaced, anything else is left alone)"
check "sockfile: the file is left alone" grep -q "^sock" "$T/sockfile.conf"

# ---- the key file ----
printf '1 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n' > "$T/k.keys"
keyconf() { conf "$1" "$(DB "$1")" "server 127.0.0.1 key 1" "keyfile $T/$2" "$HTTP_OFF"; }
chmod 000 "$T/k.keys"; keyconf key000 k.keys
refused key000 "$T/key000.conf:3: keyfile $T/k.keys: mode 0000 lets nobody read it (chmod 640, group of the daemon's user)"
chmod 644 "$T/k.keys"; keyconf key644 k.keys
refused key644 "$T/key644.conf:3: keyfile $T/k.keys: mode 0644 lets others read it: the keys are secrets (chmod 640, group of the daemon's user)"
chmod 602 "$T/k.keys"; keyconf key602 k.keys
refused key602 "$T/key602.conf:3: keyfile $T/k.keys: mode 0602 lets others write it: the keys are secrets (chmod 640, group of the daemon's user)"
keyconf keymissing none.keys
refused keymissing "$T/keymissing.conf:3: keyfile $T/none.keys: No such file or directory"
printf '1 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n# a comment\n2 SHA1 HEX:zz\n' > "$T/bad.keys"
chmod 640 "$T/bad.keys"; keyconf keyline bad.keys
refused keyline "$T/bad.keys:3: key 2: bad hex digit 'z' in key (keyfile named at $T/keyline.conf:3)"
chmod 640 "$T/k.keys"
conf keyid "$(DB keyid)" "server 127.0.0.1 key 7" "keyfile $T/k.keys" "$HTTP_OFF"
refused keyid "$T/keyid.conf:2: server 127.0.0.1: key 7 is not in $T/k.keys"
# Unreadable for the user who runs it (mode 600, owned by root): checked as
# nobody, in a folder nobody may enter and a database folder it may write.
if id nobody > /dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  U=$T/asnobody; mkdir -p "$U/db"; chmod 755 "$T" "$U"; chmod 777 "$U/db"
  printf '1 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n' > "$U/root.keys"; chmod 600 "$U/root.keys"
  printf 'database %s/db/h.db\nserver 127.0.0.1 key 1\nkeyfile %s/root.keys\nhttp off\n' "$U" "$U" > "$U/c.conf"
  chmod 644 "$U/c.conf"
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$VETTIMED" -t -c "$U/c.conf" > "$T/unreadable.out" 2>&1
  check "key file unreadable for its user: exit status 78" test $? -eq 78
  check "key file unreadable for its user: the message" \
    grep -qxF "vettimed: $U/c.conf:3: keyfile $U/root.keys: Permission denied" "$T/unreadable.out"
  check "key file unreadable for its user: no database file" test ! -e "$U/db/h.db"
  chmod 700 "$T"
fi

# ---- the HTTP token and the user ----
printf 'a-token-of-twenty-chars\n' > "$T/token"; chmod 644 "$T/token"
conf token "$(DB token)" "server 127.0.0.1" "http 127.0.0.1 port $(free_port)" "httptoken $T/token"
refused token "$T/token.conf:4: httptoken $T/token: mode 0644 lets group or others read it; chmod 600 it"
conf nouser "$(DB nouser)" "server 127.0.0.1" "$HTTP_OFF" "user no-such-user-vt"
refused nouser "$T/nouser.conf:4: user no-such-user-vt: no such user"
if id nobody > /dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  # Started as root with `user nobody`: the database folder must be writable
  # by nobody once root is dropped.
  mkdir -p "$T/rootonly"; chmod 755 "$T/rootonly"
  conf userdir "database $T/rootonly/userdir.db" "server 127.0.0.1" "$HTTP_OFF" "user nobody"
  refused userdir "$T/userdir.conf:4: user nobody: the database folder $T/rootonly is not writable by the user (chown it to nobody)" "$T/rootonly/userdir.db"
fi

conf cafile "$(DB cafile)" "server 127.0.0.1" "$HTTP_OFF" \
  "alert mail smtp://127.0.0.1:25 from a@example.net to b@example.net cafile $T/no-ca.pem name relay"
refused cafile "$T/cafile.conf:4: alert mail relay: cafile $T/no-ca.pem: No such file or directory"

# ---- NTS trust ----
conf certset "$(DB certset)" "$HTTP_OFF" "server 127.0.0.1 nts certset 3"
refused certset "$T/certset.conf:3: server 127.0.0.1: certset 3 has no ntstrustedcerts line"
conf ntstrust "$(DB ntstrust)" "$HTTP_OFF" "ntstrustedcerts 3 $T/none.pem" "server 127.0.0.1 nts certset 3"
for how in -t start; do
  if [[ $how == -t ]]; then timeout 10 "$VETTIMED" -t -c "$T/ntstrust.conf" > "$T/ntstrust.out" 2>&1
  else timeout 10 "$VETTIMED" -c "$T/ntstrust.conf" > "$T/ntstrust.out" 2>&1; fi
  check "ntstrustedcerts missing ($how): exit status 78" test $? -eq 78
  check "ntstrustedcerts missing ($how): at its line, naming the file" \
    grep -q "^vettimed: $T/ntstrust.conf:3: cannot load ntstrustedcerts $T/none.pem: " "$T/ntstrust.out"
  check "ntstrustedcerts missing ($how): no database file" test ! -e "$T/ntstrust.db"
done

# ---- include and confdir ----
mkdir -p "$T/inc.d"
printf 'server 127.0.0.2 name two\nbogus directive\n' > "$T/inc.d/20-bad.conf"
printf 'server 127.0.0.1 name one\n' > "$T/inc.d/10-one.conf"
conf incbad "$(DB incbad)" "$HTTP_OFF" "confdir inc.d"
refused incbad "$T/inc.d/20-bad.conf:2: unknown directive \"bogus\" (included from $T/incbad.conf:3)"
conf incmissing "$(DB incmissing)" "$HTTP_OFF" "server 127.0.0.1" "include $T/nothere.conf"
refused incmissing "$T/incmissing.conf:4: include $T/nothere.conf: No such file or directory"
conf dirmissing "$(DB dirmissing)" "$HTTP_OFF" "server 127.0.0.1" "confdir nodir.d"
refused dirmissing "$T/dirmissing.conf:4: confdir $T/nodir.d: No such file or directory"
conf dirfile "$(DB dirfile)" "$HTTP_OFF" "server 127.0.0.1" "confdir $T/dirfile.conf"
refused dirfile "$T/dirfile.conf:4: confdir $T/dirfile.conf: not a folder"
# A loop: the main file includes loop.d/*.conf, one of which includes the main file.
mkdir -p "$T/loop.d"; printf 'include ../loop.conf\n' > "$T/loop.d/a.conf"
conf loop "$(DB loop)" "$HTTP_OFF" "server 127.0.0.1" "include loop.d/*.conf"
refused loop "$T/loop.d/a.conf:1: include $T/loop.d/../loop.conf: an include loop (the file is already being read) (included from $T/loop.conf:4)"
# Too deep: deep0 includes deep1 ... includes deep9.
for i in 0 1 2 3 4 5 6 7 8 9; do printf 'include deep%d.conf\n' $((i + 1)) > "$T/deep$i.conf"; done
: > "$T/deep10.conf"
conf deep "$(DB deep)" "$HTTP_OFF" "server 127.0.0.1" "include deep0.conf"
refused deep "$T/deep7.conf:1: include $T/deep8.conf: includes nested more than 8 deep (included from $T/deep6.conf:1)"
# A duplicate across files names the other file.
conf dupinc "$(DB dupinc)" "$HTTP_OFF" "server 127.0.0.1" "include inc.d/10-one.conf"
refused dupinc "$T/inc.d/10-one.conf:1: server 127.0.0.1 is already configured at $T/dupinc.conf:3 (included from $T/dupinc.conf:4)"

# ---- a good file: -t says so and creates nothing ----
rm -f "$T/inc.d/20-bad.conf"
printf 'server 127.0.0.3 name three\nminclasses 2\n' > "$T/inc.d/30-three.conf"
conf good "$(DB good)" "http 127.0.0.1 port $(free_port)" "confdir inc.d" "include nothing-matches-*.conf"
"$VETTIMED" -t -c "$T/good.conf" > "$T/good.out" 2>&1
check "good: -t exits 0" test $? -eq 0
check "good: -t counts the sources and the files" grep -qxF "$T/good.conf: configuration OK, 2 sources, 3 files read" "$T/good.out"
check "good: -t created no database file" test ! -e "$T/good.db"

# ---- a running daemon: labels, -t beside it, SIGHUP ----
P_NTP=$(free_port); P_SILENT=$(free_port); P_HTTP=$(free_port)
start_chronyd hup "$P_NTP" ""
check "chronyd answers" wait_for 10 ntp_answers "$P_NTP"
mkdir -p "$T/run.d"
printf 'server 127.0.0.1 port %s minpoll 0 maxpoll 0 name silent-one\n' "$P_SILENT" > "$T/run.d/10-silent.conf"
conf run "database $T/history.db" "http 127.0.0.1 port $P_HTTP" "confdir run.d"
check "vettimed starts with a source from its confdir" start_vettimed "$T/run.conf"
"$VETTIMED" -t -c "$T/run.conf" > "$T/beside.out" 2>&1
check "-t beside the running daemon: exit 0" test $? -eq 0
check "-t beside the running daemon: its port is the running vettimed's" \
  grep -qF "note: http 127.0.0.1 port $P_HTTP: held by the running vettimed (pid $VETTIMED_PID)" "$T/beside.out"
conf second "database $T/second.db" "http 127.0.0.1 port $P_HTTP" "confdir run.d"
timeout 10 "$VETTIMED" -c "$T/second.conf" > "$T/second.out" 2>&1
check "a second daemon on the same port: exit 78" test $? -eq 78
check "a second daemon on the same port: the message names the holder" \
  grep -qxF "vettimed: $T/second.conf:2: http 127.0.0.1 port $P_HTTP: cannot listen: Address already in use (by vettimed, pid $VETTIMED_PID)" "$T/second.out"
check "a second daemon on the same port: no database file" test ! -e "$T/second.db"

printf 'server 127.0.0.1 port %s minpoll 0 maxpoll 0 iburst name chrony-lab\n' "$P_NTP" > "$T/run.d/20-chrony.conf"
kill -HUP "$VETTIMED_PID"
labelled() {
  "$VETTIME" -u "http://127.0.0.1:$P_HTTP" sources --json > "$T/s.json" &&
    json_check "$T/s.json" "len(d['sources']) == 2 and any(s['name'] == 'chrony-lab' and s['address'] == '127.0.0.1:$P_NTP' and s['have_sample'] for s in d['sources'])"
}
check "after SIGHUP the labelled source from the confdir is polled, shown as chrony-lab" wait_for 10 labelled
check "the table shows the label" bash -c "'$VETTIME' -u http://127.0.0.1:$P_HTTP sources | grep -q chrony-lab"
check "the history's source row is the label" \
  wait_for 5 test "$(sqlite3 "$T/history.db" "SELECT count(*) FROM sources WHERE name = 'chrony-lab' AND kind = 'ntp'")" = 1
check "no history row under the address" \
  test "$(sqlite3 "$T/history.db" "SELECT count(*) FROM sources WHERE name LIKE '127.0.0.1:%'")" = 0
printf 'server\n' >> "$T/run.d/20-chrony.conf"
kill -HUP "$VETTIMED_PID"
check "a bad reload is refused and logged with the included file's line" \
  wait_for 5 grep -q "reload refused.*run.d/20-chrony.conf:2: server: missing HOST" "$T/vettimed.log"
check "the source is still polled after the refused reload" labelled
printf 'server 127.0.0.1 port %s minpoll 0 maxpoll 0 iburst name chrony-lab\nnmea /dev/ttyNOPE\n' "$P_NTP" > "$T/run.d/20-chrony.conf"
kill -HUP "$VETTIMED_PID"
check "a reload naming a missing device is refused at its line" \
  wait_for 5 grep -q "reload refused.*run.d/20-chrony.conf:2: nmea /dev/ttyNOPE: No such file or directory" "$T/vettimed.log"
check "the labelled source is still polled after it" labelled
rm -f "$T/run.d/"*.conf
kill -HUP "$VETTIMED_PID"
check "a reload to no sources is refused" wait_for 5 grep -q "reload refused.*run.conf: no sources" "$T/vettimed.log"
check "vettimed still runs" kill -0 "$VETTIMED_PID"

summary
