#!/usr/bin/env python3
"""Helper of tests/bench/bench_vs_chrony.sh (issue 8): vettime's vote side by
side with chronyd 4.3 polling the same `vettime simulate` servers.
Python 3 standard library only.

  watch DIR VETTIME CONF CHRONY_PORT
      Once a second (on the whole second) until SIGTERM, appends one JSON
      line to DIR/watch.jsonl:
        {"t": unix s, "v": {source name: vote_state}, "c": {...}}
      "v" comes from `VETTIME -c CONF sources --json` (vote_state is not in
      the history); "c" is one NTP client exchange with chronyd's own NTP
      server on 127.0.0.1:CHRONY_PORT: the time chronyd would serve.
  analyse DIR
      Reads everything the case left in DIR, writes DIR/result.json.
  table RESULT.json...
      Prints the markdown table of the cases.

Why chronyd's served time and not tracking.log's offset: with -x chronyd
does not touch the system clock, but it still steers. Its "null" clock
driver keeps the frequency and the offsets it would have slewed in a
register and applies them to every timestamp it reads ("cooked" time =
raw system clock + correction), so chronyd measures and serves a virtual
corrected clock. tracking.log column 7 ("offset", positive = clock fast of
UTC) is the residual of that corrected clock at each update, near 0 even
when chronyd follows a 2 ms lie; it is not chronyd's estimate of the system
clock's offset. chronyd's NTP server answers with its cooked time, so an
exchange with it (theta = ((T2-T1)+(T3-T4))/2, the lowest-delay of three)
measures chronyd's estimate of true time minus the local clock once a
second: the sign of vettime's offset (source time - local time). Truth is
0 (the simulator serves the local clock + its scripted offset), so |theta|
is chronyd's error. Its bound is the root distance it serves, root
delay/2 + root dispersion; a second counts as "truth outside the bound"
only when |theta| exceeds that bound plus half the exchange's delay (the
watcher's own uncertainty). Cross-check, at chronyd's updates only:
tracking.log column 11, "remaining offset correction" (positive = system
clock slow of UTC, so vettime's sign), is with the null driver exactly the
correction between cooked and system time; its worst |value| after the
fault is printed next to the served figure.
"""
import calendar
import json
import math
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.request

NTP_UNIX = 2208988800
COMBINED_VETTIME = {"combined", "best"}
COMBINED_CHRONY = {"*", "+"}


# ---- watch --------------------------------------------------------------

def ntp_exchange(port, timeout=0.3):
    """One mode-3 exchange with 127.0.0.1:port; None if no answer."""
    def from_ntp(v):
        return (v >> 32) - NTP_UNIX + (v & 0xffffffff) / 2**32
    nonce = struct.unpack("!Q", os.urandom(8))[0]
    pkt = struct.pack("!BBbb", 4 << 3 | 3, 0, 0, 0) + bytes(36) + struct.pack("!Q", nonce)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        t1 = time.time()
        s.sendto(pkt, ("127.0.0.1", port))
        r = s.recv(1024)
        t4 = time.time()
    except OSError:
        return None
    finally:
        s.close()
    if len(r) < 48:
        return None
    lvm, stratum, _poll, _prec, rdelay, rdisp = struct.unpack("!BBbbII", r[:12])
    org, rec, xmt = struct.unpack("!QQQ", r[24:48])
    if org != nonce:
        return None
    t2, t3 = from_ntp(rec), from_ntp(xmt)
    return {"offset": ((t2 - t1) + (t3 - t4)) / 2, "delay": (t4 - t1) - (t3 - t2),
            "li": lvm >> 6, "stratum": stratum,
            "rootdelay": rdelay / 65536.0, "rootdisp": rdisp / 65536.0}


def ntp_query(port, tries=3, max_delay=500e-6):
    """The lowest-delay of `tries` exchanges (a clock filter against the
    watcher's own scheduling noise); None if none answered or its delay is
    over max_delay (then the offset could be off by half of it)."""
    best = None
    for _ in range(tries):
        r = ntp_exchange(port)
        if r and (best is None or r["delay"] < best["delay"]):
            best = r
    return best if best and best["delay"] <= max_delay else None


def api_port(conf):
    """The port of the `http ADDRESS port N` line of vettimed's configuration."""
    for line in open(conf):
        w = line.split()
        if len(w) >= 4 and w[0] == "http" and w[2] == "port":
            return int(w[3])
    return None


def vote_states(api):
    """Each source's vote_state, straight from vettimed's API (cheap enough
    to ask ten times a second, so a state change is seen within 0.1 s)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/sources" % api, timeout=1) as r:
            return {s["name"]: s.get("vote_state") for s in json.load(r)["sources"]}
    except (OSError, ValueError, KeyError):
        return None


def watch(d, vettime, conf, port):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(os.path.join(d, "watch.jsonl"), "a") as f:
        api, tick = api_port(conf), 0
        while not stop:
            time.sleep(0.1 - time.time() % 0.1)
            t = time.time()
            line = {"t": t, "v": vote_states(api)}
            if tick % 10 == 0:  # chronyd's served time once a second
                line["c"] = ntp_query(port)
            tick += 1
            f.write(json.dumps(line) + "\n")
            f.flush()


# ---- reading a case -------------------------------------------------------

def read_case(d):
    case = json.load(open(os.path.join(d, "case.json")))
    servers = {}  # name -> (address, port)
    for line in open(os.path.join(d, "ready")):
        name, addr, port = line.split()
        servers[name] = (addr, int(port))
    # Scenario time 0 is a few microseconds before the ready file is
    # written: its modification time, noted in t0 as soon as it appeared.
    t0 = float(open(os.path.join(d, "t0")).read())
    faults = []  # (scenario t, server name, text)
    for line in open(os.path.join(d, "sim.out")):
        m = re.match(r"t=([0-9.]+) (\S+) (.*)$", line.strip())
        if m:
            faults.append((float(m.group(1)), m.group(2), m.group(3)))
    return case, servers, t0, faults


def read_watch(d, end):
    ticks = []
    for line in open(os.path.join(d, "watch.jsonl")):
        try:
            w = json.loads(line)
        except ValueError:
            continue  # a line cut by SIGTERM
        if w["t"] <= end:
            ticks.append(w)
    return ticks


def chrony_log(d, name):
    """Rows of chronyd's log file `name` as (unix s, [fields after the time])."""
    rows, path = [], os.path.join(d, "chrony", name)
    if not os.path.exists(path):
        return rows
    for line in open(path):
        f = line.split()
        if len(f) < 3 or not re.match(r"\d{4}-\d\d-\d\d$", f[0]):
            continue  # banners (=====, column names)
        t = calendar.timegm(time.strptime(f[0] + " " + f[1], "%Y-%m-%d %H:%M:%S"))
        rows.append((t, f[2:]))
    return rows


# ---- metrics ----------------------------------------------------------------

def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def exclusion(timeline, fault_t, combined):
    """timeline: [(t, state)] of one source in time order. Returns
    (first, for_good, state): seconds after the fault of the first state
    at or after it that is not a combined one (its state), and of the first
    such state after which the source was never combined again; None where
    that never happened. A source already out when the fault came counts
    from 0 s."""
    after = [(float(t) - fault_t, st) for t, st in timeline if t >= fault_t]
    first = next(((dt, st) for dt, st in after if st not in combined), (None, None))
    good = None
    for dt, st in after:
        if st in combined:
            good = None
        elif good is None:
            good = dt
    clip = lambda x: None if x is None else max(0.0, x)
    return clip(first[0]), clip(good), first[1]


def transitions_out(timeline, combined):
    """How often a source left the combined states, from its first combined
    one, by the state it went to: {state: count}."""
    out, prev = {}, None
    for _, st in timeline:
        if prev in combined and st not in combined:
            out[str(st)] = out.get(str(st), 0) + 1
        if st in combined or prev is not None:
            prev = st
    return out


def liars_excluded(timelines, liars, fault_t, combined):
    """For the liars together: seconds until every liar had been left out
    at least once after the fault, and until every one was out for good,
    each with the liar that took longest ((None, liar) if one never was),
    and the state that liar first went to."""
    res = {}
    for key, i in (("first", 0), ("for_good", 1)):
        worst = (-1.0, None)
        for name in liars:
            dt = exclusion(timelines.get(name, []), fault_t, combined)[i]
            if dt is None:
                worst = (None, name)
                break
            if dt > worst[0]:
                worst = (dt, name)
        res[key] = worst
    res["state"] = exclusion(timelines.get(res["first"][1], []), fault_t, combined)[2]
    return res


def add_counts(dicts):
    out = {}
    for d in dicts:
        for k, n in d.items():
            out[k] = out.get(k, 0) + n
    return out


def exclusion_figures(timelines, liars, fault_t, combined, polls):
    """The liars' exclusion figures of one daemon; polls(liar, dt) counts
    that liar's measurements from the fault to dt after it (None: to the
    end of the run)."""
    x = liars_excluded(timelines, liars, fault_t, combined)
    out = {"first_state": x["state"]}
    for key in ("first", "for_good"):
        dt, who = x[key]
        out[key + "_s"], out[key + "_source"], out[key + "_polls"] = dt, who, polls(who, dt)
    return out


def vettime_metrics(d, servers, liars, fault_t, win, end, ticks):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(d, "history.db"), uri=True)
    names = {n: "%s:%d" % a for n, a in servers.items()}
    ids = dict(db.execute("SELECT name, id FROM sources"))
    timelines = {n: [(w["t"], (w["v"] or {}).get(src)) for w in ticks if w["v"] is not None]
                 for n, src in names.items()}
    out = {}
    if liars:
        def polls(who, dt):
            upto = end if dt is None else fault_t + dt
            return db.execute("SELECT count(*) FROM samples WHERE source_id = ? AND "
                              "rx_time_ns > ? AND rx_time_ns <= ?",
                              (ids.get(names[who]), int(fault_t * 1e9), int(upto * 1e9))).fetchone()[0]
        out.update(exclusion_figures(timelines, liars, fault_t, COMBINED_VETTIME, polls))
    rows = db.execute("SELECT time_ns, vetted, offset, error FROM votes WHERE time_ns >= ? AND "
                      "time_ns <= ? ORDER BY time_ns", (int(win * 1e9), int(end * 1e9))).fetchall()
    vetted = [(o, e) for _, v, o, e in rows if v and o is not None and e is not None]
    offsets = [o for o, _ in vetted]
    out["rounds"], out["rounds_vetted"] = len(rows), len(vetted)
    out["worst_abs_offset"] = max((abs(o) for o in offsets), default=None)
    out["truth_outside"] = sum(1 for o, e in vetted if abs(o) > e)
    out["p5"], out["p95"] = percentile(offsets, 0.05), percentile(offsets, 0.95)
    out["spurious"] = add_counts(transitions_out(timelines[n], COMBINED_VETTIME)
                                 for n in servers if n not in liars)
    out["events"] = db.execute("SELECT count(*) FROM events").fetchone()[0]
    out["event_kinds"] = dict(db.execute("SELECT kind, count(*) FROM events GROUP BY kind"))
    first = db.execute("SELECT min(time_ns) FROM votes WHERE vetted = 1").fetchone()[0]
    out["first_vetted"] = first / 1e9 if first else None
    return out


def chrony_metrics(d, servers, liars, fault_t, win, end, ticks):
    addr = {n: a[0] for n, a in servers.items()}
    sel = [r for r in chrony_log(d, "selection.log") if r[0] <= end]
    timelines = {n: [(t, f[1]) for t, f in sel if f[0] == a] for n, a in addr.items()}
    out = {}
    if liars:
        # chronyd's logs have whole seconds: a line stamped in the fault's
        # second counts as after it (0 s).
        meas = chrony_log(d, "measurements.log")
        fault_s = math.floor(fault_t)

        def polls(who, dt):
            upto = end if dt is None else fault_s + dt
            return sum(1 for t, f in meas if f[0] == addr[who] and fault_s <= t <= upto)
        out.update(exclusion_figures(timelines, liars, fault_s, COMBINED_CHRONY, polls))
    served = [(w["t"], w["c"]) for w in ticks if "c" in w and win <= w["t"] <= end]
    synced = [c for _, c in served if c and c["li"] != 3 and 0 < c["stratum"] < 16]
    out["rounds"], out["rounds_vetted"] = len(served), len(synced)
    offsets = [c["offset"] for c in synced]
    out["worst_abs_offset"] = max((abs(o) for o in offsets), default=None)
    out["truth_outside"] = sum(1 for c in synced if abs(c["offset"]) >
                               c["rootdelay"] / 2 + c["rootdisp"] + c["delay"] / 2)
    out["p5"], out["p95"] = percentile(offsets, 0.05), percentile(offsets, 0.95)
    out["spurious"] = add_counts(transitions_out(timelines[n], COMBINED_CHRONY)
                                 for n in servers if n not in liars)
    out["states_seen"] = sorted({f[1] for _, f in sel})
    out["served_unmeasured"] = sum(1 for _, c in served if c is None)
    # tracking.log, synchronised updates only: column 7 is the residual
    # offset of chronyd's corrected clock (positive = fast), column 11 the
    # correction it applies to the system clock (positive = system clock
    # slow: vettime's sign). Column 11 cross-checks the served offsets.
    trk = [f for t, f in chrony_log(d, "tracking.log") if win <= t <= end and f[5] != "?"]
    out["tracking_worst_abs_col7"] = max((abs(float(f[4])) for f in trk), default=None)
    out["tracking_worst_abs_col11"] = max((abs(float(f[8])) for f in trk), default=None)
    firsts = [t for t, c in ((w["t"], w["c"]) for w in ticks if "c" in w)
              if c and c["li"] != 3 and 0 < c["stratum"] < 16]
    out["first_vetted"] = firsts[0] if firsts else None
    return out


def analyse(d):
    case, servers, t0, faults = read_case(d)
    end = t0 + case["duration"]
    ticks = read_watch(d, end - 1)
    liars = sorted({name for _, name, _ in faults})
    res = {"case": case["name"], "duration": case["duration"], "short": case["short"],
           "faults": [f"t={t:g} {n} {x}" for t, n, x in faults], "liars": liars}
    fault_t = t0 + min(t for t, _, _ in faults) if faults else None
    v = vettime_metrics(d, servers, liars, fault_t, fault_t or t0, end, ticks)
    c = chrony_metrics(d, servers, liars, fault_t, fault_t or t0, end, ticks)
    if fault_t is None:  # no fault: judge both from when both were first vetted
        win = max(x for x in (v["first_vetted"], c["first_vetted"], t0) if x is not None)
        v = vettime_metrics(d, servers, liars, None, win, end, ticks)
        c = chrony_metrics(d, servers, liars, None, win, end, ticks)
        res["window_start_s"] = win - t0
    else:
        res["window_start_s"] = fault_t - t0
    res["vettime"], res["chronyd"] = v, c
    with open(os.path.join(d, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    return res


# ---- the table ----------------------------------------------------------------

def us(x):
    return "n/a" if x is None else "%.0f µs" % (x * 1e6)


def excl(m, liars, key):
    if not liars:
        return "no fault"
    dt, polls = m[key + "_s"], m[key + "_polls"]
    if dt is None:
        return "never (%d polls)" % polls
    state = " %s" % m["first_state"] if key == "first" else ""
    return "%.0f s (%d poll%s%s)" % (dt, polls, "" if polls == 1 else "s", state)


def spurious(m):
    n = sum(m["spurious"].values())
    if not n:
        return "0"
    return "%d (%s)" % (n, ", ".join("%s %d" % kv for kv in sorted(m["spurious"].items())))


def outside(m):
    return "%d / %d" % (m["truth_outside"], m["rounds_vetted"])


def table(paths):
    rows = [json.load(open(p)) for p in paths]
    print("| case | fault | liar first out: vettime | chronyd | liar out for good: vettime "
          "| chronyd | worst \\|offset − truth\\|: vettime | chronyd | truth outside bound: "
          "vettime | chronyd | spurious exclusions: vettime | chronyd | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        v, c = r["vettime"], r["chronyd"]
        notes = ["%g s%s" % (r["duration"], " (BENCH_SHORT)" if r["short"] else ""),
                 "vetted %d/%d rounds, chronyd synced %d/%d s" % (
                     v["rounds_vetted"], v["rounds"], c["rounds_vetted"], c["rounds"])]
        if not r["liars"]:
            notes.append("5–95 %%: vettime %s..%s, chronyd %s..%s" % (
                us(v["p5"]), us(v["p95"]), us(c["p5"]), us(c["p95"])))
        notes.append("vettime events %d" % v["events"])
        fault = "; ".join(r["faults"]) or "none"
        if c["served_unmeasured"]:
            notes.append("chronyd unmeasured %d s" % c["served_unmeasured"])
        print("| %s | %s | %s | %s | %s | %s | %s | %s (tracking %s) | %s | %s | %s | %s | %s |" % (
            r["case"], fault, excl(v, r["liars"], "first"), excl(c, r["liars"], "first"),
            excl(v, r["liars"], "for_good"), excl(c, r["liars"], "for_good"),
            us(v["worst_abs_offset"]), us(c["worst_abs_offset"]),
            us(c["tracking_worst_abs_col11"]), outside(v), outside(c),
            spurious(v), spurious(c), "; ".join(notes)))


def main(argv):
    if len(argv) == 6 and argv[1] == "watch":
        watch(argv[2], argv[3], argv[4], int(argv[5]))
    elif len(argv) == 3 and argv[1] == "analyse":
        analyse(argv[2])
    elif len(argv) >= 3 and argv[1] == "table":
        table(argv[2:])
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
