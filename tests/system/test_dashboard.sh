# System test: the NOC dashboard in a real browser. The daemon polls
# `vettime simulate tests/system/dashboard.scn` (four classes; at t=20 the
# DCF77 server steps by +250 ms) on loopback; Debian's chromium, driven by
# playwright-core (npm, pinned, installed into build/node by
# scripts/install-playwright.sh), loads the page before the fault and must
# see, without a reload: the sources by name with their classes, the
# classes agreeing, a chart with data, then dcf1 rejected by the vote
# (class-outvoted) with its critical falseticker alarm and the step marked
# on the chart; zoom and the range buttons (tests/system/dashboard.mjs). It prints the first load
# time and saves screenshots into tests/out/dashboard/. Before the browser,
# curl checks what the daemon serves: content types, ETag and 304,
# no-cache, no path outside the dashboard's files. About 40 s.
# run.sh timeout: 120
. "$(dirname "$0")/lib.sh"
PW=$TOP/build/node
OUT=$TOP/tests/out/dashboard
mkdir -p "$OUT"
rm -f "$OUT"/*.png

# ---- playwright-core, once per build tree ------------------------------
check "playwright-core is installed in build/node (scripts/install-playwright.sh)" \
  bash "$TOP/scripts/install-playwright.sh"
check "chromium is installed (scripts/install-deps.sh)" test -x /usr/bin/chromium

# ---- the simulator and the daemon ---------------------------------------
base=$(free_ports 4)
"$VETTIME" simulate "$TOP/tests/system/dashboard.scn" --port-base "$base" \
  --config "$T/servers.conf" --ready "$T/ready" > "$T/simulate.log" 2>&1 &
PIDS+=($!)
start_s=$(date +%s.%N)
wait_for 10 test -e "$T/ready"
http=$(free_port)
{ cat "$T/servers.conf"; printf 'database %s/history.db\nhttp 127.0.0.1 port %s\nalarmclear 10\n' "$T" "$http"; } > "$T/vettime.conf"
start_vettimed "$T/vettime.conf"
URL=http://127.0.0.1:$http/

# ---- what the daemon serves ---------------------------------------------
# hdr PATH [CURL-ARGS]: the status line and headers of a GET, lower-cased.
hdr() { local p=$1; shift; curl -s -o /dev/null -D - "$@" "$URL${p#/}" | tr -d '\r' | tr 'A-Z' 'a-z'; }
hdr / > "$T/index.h"
check "/ is the page: 200, text/html, no-cache, an ETag, a CSP" \
  bash -c "grep -q '^http/1.1 200' $T/index.h && grep -q '^content-type: text/html' $T/index.h &&
           grep -q '^cache-control: no-cache' $T/index.h && grep -q '^etag: \"' $T/index.h &&
           grep -q \"^content-security-policy: default-src 'self'\" $T/index.h"
etag=$(curl -s -o /dev/null -D - "$URL" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
check "If-None-Match with its ETag answers 304" \
  bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: $etag' '$URL') == 304 ]]"
check "app.js is text/javascript" bash -c "curl -s -o /dev/null -w '%{content_type}' '${URL}ui/app.js' | grep -q '^text/javascript'"
check "app.css is text/css" bash -c "curl -s -o /dev/null -w '%{content_type}' '${URL}ui/app.css' | grep -q '^text/css'"
check "the vendored uPlot is served (embedded)" \
  bash -c "curl -sf '${URL}ui/vendor/uPlot.iife.min.js' | cmp -s - '$TOP/web/ui/vendor/uPlot.iife.min.js'"
# (An escaped path is refused before routing, 400: web/http.c.)
check "a path out of the dashboard's files is refused" \
  bash -c "[[ \$(curl -s --path-as-is -o /dev/null -w '%{http_code}' '${URL}ui/../vettime.conf') == 404 &&
             \$(curl -s -o /dev/null -w '%{http_code}' '${URL}ui/%2e%2e/x') == 400 &&
             \$(curl -s -o /dev/null -w '%{http_code}' '${URL}ui/nothing.js') == 404 ]]"
check "POST / is 405" bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST '$URL') == 405 ]]"

# ---- the browser --------------------------------------------------------
# The sources as the API names them (ADDRESS:PORT), their classes, which
# one goes wrong and when (the simulator's t=20 in Unix seconds).
expect=$(python3 - "$T/ready" "$start_s" <<'PY'
import json, sys
cls = {"gps1": "GPS", "gal1": "GAL", "glo1": "GLO", "dcf1": "DCF"}
src, faulty = {}, None
for line in open(sys.argv[1]):
    name, addr, port = line.split()
    src["%s:%s" % (addr, port)] = cls[name]
    if name == "dcf1": faulty = "%s:%s" % (addr, port)
print(json.dumps({"sources": src, "faulty": faulty, "fault_at": float(sys.argv[2]) + 20}))
PY
)
expect=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["pw"]=sys.argv[2]; print(json.dumps(d))' "$expect" "$PW")
timeout 80 node "$TOP/tests/system/dashboard.mjs" "$URL" "$OUT" "$expect" > "$T/browser.log" 2>&1
echo "browser: exit $?"
while IFS= read -r line; do
  case $line in
    "ok   - "*) pass "${line#ok   - }" ;;
    "FAIL - "*) fail "${line#FAIL - }" ;;
    *) echo "$line" ;;
  esac
done < "$T/browser.log"
check "the browser ran its checks" grep -q '^ok   - ' "$T/browser.log"
check "a screenshot was saved (tests/out/dashboard/dashboard.png)" test -s "$OUT/dashboard.png"
summary
