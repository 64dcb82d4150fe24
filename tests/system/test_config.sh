# System test: the daemon refuses a bad configuration with FILE:LINE and a
# non-zero exit before starting anything, and reloads on SIGHUP.
. "$(dirname "$0")/lib.sh"

cat > "$T/bad.conf" <<CONF
database $T/history.db
server 127.0.0.1 port 70000
CONF
"$VETTIMED" -c "$T/bad.conf" > "$T/bad.out" 2>&1
check "bad port: exit status 1" test $? -eq 1
check "bad port: message names file and line" grep -qx "vettimed: $T/bad.conf:2: port: 70000 is out of range (1 to 65535)" "$T/bad.out"
check "bad config: no database was created" test ! -e "$T/history.db"

"$VETTIMED" -c "$T/missing.conf" > "$T/missing.out" 2>&1
check "missing file: exit status 1" test $? -eq 1
check "missing file: message" grep -q "missing.conf: cannot open: No such file or directory" "$T/missing.out"

printf 'keyfile %s/none.keys\n' "$T" > "$T/nokeys.conf"
"$VETTIMED" -t -c "$T/nokeys.conf" > "$T/nokeys.out" 2>&1
check "missing key file: exit status 1" test $? -eq 1
check "missing key file: message names it" grep -q "none.keys" "$T/nokeys.out"

printf 'database /proc/vettime/h.db\nhttp off\n' > "$T/baddb.conf"
"$VETTIMED" -c "$T/baddb.conf" > "$T/baddb.out" 2>&1
check "unusable database path: exit status 1" test $? -eq 1
check "unusable database path: message names it" grep -q "/proc/vettime" "$T/baddb.out"

# SIGHUP: a good file adds a source; a bad one is refused and the running
# configuration stays.
P_NTP=$(free_port); P_HTTP=$(free_port)
start_chronyd hup "$P_NTP" ""
check "chronyd answers" wait_for 10 ntp_answers "$P_NTP"
cat > "$T/vettime.conf" <<CONF
database $T/history.db
http 127.0.0.1 port $P_HTTP
CONF
check "vettimed starts with no sources" start_vettimed "$T/vettime.conf"
echo "server 127.0.0.1 port $P_NTP minpoll 0 maxpoll 0 iburst" >> "$T/vettime.conf"
kill -HUP "$VETTIMED_PID"
has_sample() {
  "$VETTIME" -u "http://127.0.0.1:$P_HTTP" sources --json > "$T/s.json" &&
    json_check "$T/s.json" "len(d['sources']) == 1 and d['sources'][0]['have_sample']"
}
check "after SIGHUP the new source is polled" wait_for 10 has_sample
echo "server" >> "$T/vettime.conf"
kill -HUP "$VETTIMED_PID"
check "a bad reload is refused and logged with the line" wait_for 5 grep -q "reload refused.*vettime.conf:4: server: missing HOST" "$T/vettimed.log"
check "the source is still polled after the refused reload" has_sample
check "vettimed still runs" kill -0 "$VETTIMED_PID"

summary
