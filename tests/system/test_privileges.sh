# System test (issue 13, items 5 and 7): what vettimed keeps of root, the
# modes of its files, and a history it cannot write. Run as root (the test
# machine's case); skipped otherwise.
#  1. Started as root with `user nobody` under umask 022, serving NTP from
#     two threads: once running, every thread runs as nobody with empty
#     effective, permitted and ambient capability sets; history.db, -wal
#     and -shm are 0640 and nobody's, it has nobody's groups (initgroups),
#     and it writes its samples.
#  2. Started as nobody with CAP_NET_BIND_SERVICE in its ambient set (as
#     the systemd unit starts it), serving on a port below 1024: it binds,
#     answers, and then holds no capability in any thread.
#  3. As root without `user`: a warning that every capability is kept.
#  4. As nobody, on a healthy history whose directory nobody may write: it
#     refuses to start, saying the directory is not writable (before: "not
#     a usable SQLite database ... restore a backup"), a configuration
#     error (78) found by the checks before a start (issue 12).
. "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "skipped: needs root (to become nobody)"
  summary
  exit 0
fi
chmod 711 "$T" # nobody reaches its directory below

HTTP=$(free_port); BASE=$(free_ports 5); SERVE=$(free_port)
"$VETTIME" simulate "$TOP/tests/scenarios/clean-five.scn" --port-base "$BASE" \
  --config "$T/servers.conf" --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
check "simulator ready" wait_for 10 test -e "$T/ready"
mkdir -m 755 "$T/db"
chown nobody "$T/db"
DB=$T/db/history.db
conf() { # conf FILE EXTRA: the servers, the history, the API, EXTRA
  { cat "$T/servers.conf"; printf 'database %s\nhttp 127.0.0.1 port %s\n%s\n' "$DB" "$HTTP" "$2"; } > "$1"
}

# threads_caps PID: one line per thread: "Uid CapEff CapPrm CapAmb".
threads_caps() {
  local f
  for f in /proc/"$1"/task/*/status; do
    awk '/^Uid:/ {u=$3} /^CapEff:/ {e=$2} /^CapPrm:/ {p=$2} /^CapAmb:/ {a=$2}
         END {print u, e, p, a}' "$f"
  done
}
# no_caps PID UID: every thread runs as UID with no capability.
no_caps() {
  threads_caps "$1" > "$T/caps.txt"
  cat "$T/caps.txt"
  [[ $(wc -l < "$T/caps.txt") -ge 1 ]] &&
    ! grep -qv "^$2 0000000000000000 0000000000000000 0000000000000000$" "$T/caps.txt"
}

# 1. root, `user nobody`, umask 022
conf "$T/user.conf" "user nobody
serve 127.0.0.1 port $SERVE threads 2"
(umask 022; exec "$VETTIMED" -c "$T/user.conf" > "$T/user.log" 2>&1) &
VETTIMED_PID=$!
PIDS+=($VETTIMED_PID)
check "started as root with user nobody" wait_for 10 "$VETTIME" -c "$T/user.conf" status
check "it serves NTP" wait_for 5 ntp_answers "$SERVE"
echo "threads: $(ls /proc/$VETTIMED_PID/task | wc -l)"
check "every thread runs as nobody without any capability" no_caps "$VETTIMED_PID" 65534
groups=$(awk '/^Groups:/ {$1 = ""; print}' /proc/"$VETTIMED_PID"/status | xargs)
echo "groups: '$groups', nobody's: '$(id -G nobody)'"
check "with nobody's own groups (a reload re-opens serial devices by group)" \
  test "$groups" = "$(id -G nobody)"
check "the history and its -wal and -shm are 0640 and nobody's, under umask 022" bash -c "
  for f in '$DB' '$DB-wal' '$DB-shm'; do
    stat -c '%n %a %U' \"\$f\"; [[ \$(stat -c '%a %U' \"\$f\") == '640 nobody' ]] || exit 1
  done"
sleep 3
"$VETTIME" -c "$T/user.conf" status --json > "$T/status.json"
check "it writes its samples as nobody" json_check "$T/status.json" \
  "d['samples_written'] > 0 and d['history_errors'] == 0 and d['history_dropped'] == 0"
kill -TERM "$VETTIMED_PID"; wait "$VETTIMED_PID" 2>/dev/null

# 2. nobody with an ambient CAP_NET_BIND_SERVICE, as systemd gives it
LOW=
for p in $(shuf -i 600-1000 -n 40); do
  if python3 -c "
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
try: s.bind(('127.0.0.1',$p))
except OSError: sys.exit(1)" 2>/dev/null; then LOW=$p; break; fi
done
conf "$T/ambient.conf" "serve 127.0.0.1 port $LOW threads 2"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+net_bind_service \
  --ambient-caps=+net_bind_service "$VETTIMED" -c "$T/ambient.conf" > "$T/ambient.log" 2>&1 &
VETTIMED_PID=$!
PIDS+=($VETTIMED_PID)
check "started as nobody with CAP_NET_BIND_SERVICE" wait_for 10 "$VETTIME" -c "$T/ambient.conf" status
check "it serves NTP on port $LOW" wait_for 5 ntp_answers "$LOW"
check "then no thread keeps the capability" no_caps "$VETTIMED_PID" 65534
kill -TERM "$VETTIMED_PID"; wait "$VETTIMED_PID" 2>/dev/null

# 3. root without `user`
conf "$T/root.conf" ""
start_vettimed "$T/root.conf"
check "root without user is warned about" grep -q "running as root with every capability" "$T/vettimed.log"
kill -TERM "$VETTIMED_PID"; wait "$VETTIMED_PID" 2>/dev/null

# 4. a healthy history in a directory nobody may not write
chmod 555 "$T/db"
chmod 666 "$DB"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$VETTIMED" -c "$T/ambient.conf" \
  > "$T/readonly.log" 2>&1
rc=$?
cat "$T/readonly.log"
check "it refuses to start on a directory it cannot write (78: a configuration error)" test "$rc" -eq 78
check "saying why" grep -q "its directory $T/db is not writable (Permission denied)" "$T/readonly.log"
check "and not calling the history unusable" bash -c "! grep -q 'restore a backup' '$T/readonly.log'"
chmod 755 "$T/db"
summary
