#!/usr/bin/env bash
# System test: the documents match the files (issue 12, item 5). The
# checks themselves are in docs_check.py (scenarios table, fault times,
# the demo's announced times, every directive and command documented);
# this script counts them and adds the demo's own files: its scenario
# parses and its configuration passes `vettimed -t`. Fast: no daemon.
. "$(dirname "$0")/lib.sh"

python3 "$TOP/tests/system/docs_check.py" > "$T/docs.out" 2>&1
cat "$T/docs.out"
PASSED=$((PASSED + $(grep -c '^ok   - ' "$T/docs.out")))
FAILED=$((FAILED + $(grep -c '^FAIL - ' "$T/docs.out")))
grep -qE '^(ok   |FAIL )- ' "$T/docs.out" || fail "docs_check.py printed no result"

"$VETTIME" simulate "$TOP/demo/demo.scn" --check > "$T/demo.check" 2>&1
check "the demo scenario parses (vettime simulate --check)" test $? -eq 0
check "the demo scenario has the three servers demo/vettime.conf polls" \
  test "$(grep -cE '127\.0\.0\.1:1112[345]' "$T/demo.check")" -eq 3

# The demo's own HTTP and NTP ports may be taken by a running demo: free
# ones instead, so that -t (which binds them) checks the rest.
sed -e "s|@RUN@|$T/demo-run|g" -e "s|^http 127.0.0.1 port 8123|http 127.0.0.1 port $(free_port)|" \
  -e "s|^serve 127.0.0.1 port 11223|serve 127.0.0.1 port $(free_port)|" "$TOP/demo/vettime.conf" > "$T/demo.conf"
check "the demo configuration has the HTTP and serve lines this test expects" \
  test "$(grep -cE '^(http|serve) 127\.0\.0\.1 port (8123|11223)$' "$TOP/demo/vettime.conf")" -eq 2 -a \
       "$(grep -cE '^(http|serve) 127\.0\.0\.1 port (8123|11223)$' "$T/demo.conf")" -eq 0
"$VETTIMED" -t -c "$T/demo.conf" > "$T/demo.t" 2>&1
rc=$?
cat "$T/demo.t"
check "demo/vettime.conf passes vettimed -t" test $rc -eq 0
check "vettimed -t on the demo configuration creates no database" test ! -e "$T/demo-run/history.db"

summary
