#!/usr/bin/env python3
"""Prefills a vettime history for bench_dashboard.sh: DAYS of samples every
16 s for each source already in the file's `sources` table, and one vote a
second, ending a minute ago, written straight into the tables (this is a
benchmark's fixture, not the daemon's write path: no roll-ups).

    prefill_history.py DATABASE DAYS
"""
import random
import sqlite3
import sys
import time

db_path, days = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(db_path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
ids = [r[0] for r in db.execute("SELECT id FROM sources ORDER BY id")]
if not ids:
    sys.exit("prefill: no sources in " + db_path)
end = int(time.time()) - 60
start = end - days * 86400
rnd = random.Random(7)
SEC = 10**9
chunk = 86400  # a day per transaction


def samples(t0, t1):
    for t in range(t0 - t0 % 16, t1, 16):
        for k, sid in enumerate(ids):
            off = rnd.gauss(0, 20e-6)
            yield (sid, (t + k * 16 // len(ids)) * SEC, off, 1e-4, 2e-5, 1e-5, 2e-5,
                   6e-5, 1, 0, 0x47505300, 4)


def votes(t0, t1):
    for t in range(t0, t1):
        yield (t * SEC, 1, rnd.gauss(0, 5e-6), 4e-5, -4e-5, 4e-5, len(ids), len(ids), 5, 5,
               ids[0], 2, 0)


n_s = n_v = 0
for t0 in range(start, end, chunk):
    t1 = min(end, t0 + chunk)
    with db:
        c = db.executemany(
            "INSERT INTO samples(source_id, rx_time_ns, offset, delay, dispersion, root_delay,"
            " root_dispersion, error_bound, stratum, leap, refid, poll)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", samples(t0, t1))
        n_s += c.rowcount
        c = db.executemany(
            "INSERT INTO votes(time_ns, vetted, offset, error, low, high, candidates, agreeing,"
            " classes, agreeing_classes, best_source_id, stratum, leap)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", votes(t0, t1))
        n_v += c.rowcount
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
print(f"prefill: {n_s} samples of {len(ids)} sources, {n_v} votes, {days} days")
