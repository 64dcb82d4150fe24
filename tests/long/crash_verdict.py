#!/usr/bin/env python3
"""The verdict of tests/long/test_crash_cycles.sh over its directory D (the
history, the kill and start times, the snapshots taken after each kill, the
collector's file): prints the figures, then each problem; exit 1 if any.
Usage: crash_verdict.py D GAP_NORMAL WINDOW_SLACK"""
import glob, os, re, sqlite3, sys
d, gap_normal, slack = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
db = sqlite3.connect(d + "/history.db")
kills = [int(x) / 1e9 for x in open(d + "/kills").read().split()]
starts = [int(x) / 1e9 for x in open(d + "/starts").read().split()]
fails = []
def fail(m): fails.append(m)

# Committed rows noted after each kill are all still there.
snaps = sorted(glob.glob(d + "/snap/samples.*"), key=lambda p: int(p.rsplit(".", 1)[1]))
for p in snaps:
    i = p.rsplit(".", 1)[1]
    mx, n, h = map(int, open(p).read().split("|"))
    n2, h2 = db.execute("SELECT count(*), coalesce(sum(rx_time_ns % 1000003), 0) FROM samples WHERE id <= ?", (mx,)).fetchone()
    if (n2, h2) != (n, h):
        fail("kill %s: samples up to id %d were %d (hash %d), now %d (%d)" % (i, mx, n, h, n2, h2))
def text(v):
    return "" if v is None else str(v)
alarms_now = {r[0]: tuple(text(x) for x in r) for r in
              db.execute("SELECT id, kind, source_id, raised_ns, cleared_ns FROM alarms")}
alarms_now = {int(k): v for k, v in alarms_now.items()}
outbox_now = {r[0]: r for r in db.execute("SELECT id, event, coalesce(alarm_id, ''), state FROM alert_outbox")}
for p in glob.glob(d + "/snap/alarms.*"):
    for line in open(p).read().splitlines():
        aid, kind, src, raised, cleared = line.split("|")
        now = alarms_now.get(int(aid))
        if not now or now[1:4] != (kind, src, raised) or (cleared and now[4] != cleared):
            fail("%s: alarm %s was %s, now %s" % (os.path.basename(p), aid, line, now))
for p in glob.glob(d + "/snap/outbox.*"):
    for line in open(p).read().splitlines():
        oid, event, aid, state = line.split("|")
        now = outbox_now.get(int(oid))
        if not now or (now[1], str(now[2])) != (event, aid) or (state == "sent" and now[3] != "sent"):
            fail("%s: notification %s was %s, now %s" % (os.path.basename(p), oid, line, now))

# Samples contiguous per source.
windows = [(k, next((s for s in starts if s > k), None)) for k in kills]
worst_plain, worst_excess, worst_before, worst_after, spanning = 0.0, 0.0, 0.0, 0.0, 0
for sid, name in db.execute("SELECT id, name FROM sources"):
    ts = [r[0] / 1e9 for r in db.execute("SELECT rx_time_ns FROM samples WHERE source_id = ? ORDER BY rx_time_ns", (sid,))]
    if len(ts) < 10:
        fail("source %s: %d samples" % (name, len(ts))); continue
    for a, b in zip(ts, ts[1:]):
        gap = b - a
        inside = [(k, s) for k, s in windows if a < k < b]
        if not inside:
            worst_plain = max(worst_plain, gap)
            if gap > gap_normal:
                fail("source %s: a %.1f s gap at %.1f with no kill in it" % (name, gap, a - starts[0]))
            continue
        spanning += 1
        down = sum((s or b) - k for k, s in inside)
        excess = gap - down
        worst_excess = max(worst_excess, excess)
        worst_before = max(worst_before, inside[0][0] - a)
        if inside[-1][1]:
            worst_after = max(worst_after, b - inside[-1][1])
        if excess > slack:
            fail("source %s: a %.1f s gap over %d kill(s) down %.1f s: %.1f s more than the restart window"
                 % (name, gap, len(inside), down, excess))
    # before the first start and after the last sample: nothing to check

# Alarms: unique ids (the primary key), each with its notifications.
n_alarms = len(alarms_now)
ids = [r[0] for r in db.execute("SELECT id FROM alarms")]
if len(ids) != len(set(ids)):
    fail("duplicate alarm ids")
for aid, kind, src, raised, cleared in alarms_now.values():
    aid = int(aid)
    if not db.execute("SELECT 1 FROM alert_outbox WHERE alarm_id = ? AND event = 'raise'", (aid,)).fetchone():
        fail("alarm %d has no raise notification" % aid)
    if cleared != "" and not db.execute("SELECT 1 FROM alert_outbox WHERE alarm_id = ? AND event = 'clear'", (aid,)).fetchone():
        fail("alarm %d is cleared without its clear notification" % aid)
# Alarm ids in the daemon's log (appended by every run): an id is never
# raised for two different alarms (a raise logged, the process killed
# before its round was committed, and the id taken again by the next run).
log_raised = {}
for m in re.finditer(r"alarm (\d+) raised: \w+ (\S+) (\S+)", open(d + "/vettimed.log", errors="replace").read()):
    log_raised.setdefault(int(m.group(1)), set()).add((m.group(2), m.group(3)))
for aid, what in sorted(log_raised.items()):
    if len(what) > 1:
        fail("alarm id %d was raised for %s" % (aid, sorted(what)))
log_only = sorted(set(log_raised) - set(alarms_now))
cleared_n = sum(1 for r in alarms_now.values() if r[4] != "")

# Notifications: sent and received, or pending; received ones are known.
received = {}
dups = 0
for line in open(d + "/received.txt", errors="replace"):
    m = re.search(r'seq="(\d+)" event="(\w+)"(?: alarm="(\d+)")?', line)
    if not m:
        continue
    seq, key = int(m.group(1)), (m.group(2), m.group(3) or "")
    if seq in received:
        dups += 1
        if received[seq] != key:
            fail("seq %d received as %s and as %s" % (seq, received[seq], key))
    received[seq] = key
states = {}
for oid, event, aid, state in outbox_now.values():
    states[state] = states.get(state, 0) + 1
    if state == "sent" and oid not in received:
        fail("notification %d (%s alarm %s) is sent but never arrived" % (oid, event, aid))
    if state == "dead":
        fail("notification %d is dead" % oid)
    if oid in received and received[oid] != (event, str(aid)):
        fail("notification %d is %s alarm %s, received as %s" % (oid, event, aid, received[oid]))
for seq in received:
    if seq not in outbox_now:
        fail("seq %d was received but is not in the outbox" % seq)
n_samples = db.execute("SELECT count(*) FROM samples").fetchone()[0]
wins = [s - k for k, s in windows if s]
print("kills %d; restart window (kill to next start) max %.2f s; samples %d in %d sources; "
      "gaps over a kill %d, longest gap without one %.2f s; a kill's gap beyond its window: max %.2f s "
      "(last sample to kill max %.2f s, start to first sample max %.2f s); alarms %d (%d cleared); "
      "notifications %d (%s), received %d distinct, %d duplicates (same seq, same notification); "
      "alarm ids raised in the log %d, of them not in the history (killed before the round's commit) %d"
      % (len(kills), max(wins) if wins else 0, n_samples, db.execute("SELECT count(*) FROM sources").fetchone()[0],
         spanning, worst_plain, worst_excess, worst_before, worst_after, n_alarms, cleared_n,
         len(outbox_now), ", ".join("%d %s" % (v, k) for k, v in sorted(states.items())), len(received), dups,
         len(log_raised), len(log_only)))
for m in fails[:40]:
    print("FAIL:", m)
print("problems:", len(fails))
sys.exit(1 if fails else 0)
