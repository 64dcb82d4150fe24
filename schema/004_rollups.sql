-- 004_rollups: per-minute and per-hour roll-ups of every source's samples
-- and of the vetted offset (the votes), so that a month of one source reads
-- a few thousand rows instead of scanning every source's raw samples
-- (issue 11). Written by monitor/history.c as buckets close, in the same
-- transaction as the round's raw rows; pruned with their own retention
-- (`rollupretention`); see docs/design.md, "History".
--
-- A bucket covers [start, start + 60 s) or [start, start + 3600 s), start a
-- multiple of the width since the epoch. Each row aggregates
-- every raw row of that range: the open bucket lives in memory and is
-- rebuilt from the raw rows at start, so a restart mid-bucket neither loses
-- nor counts twice; a closed minute bucket waits in memory for its hour.
-- A sample older than its series' open bucket (the local clock stepped
-- back) is merged into the stored row.
--
-- The key (series, start) makes a per-source range read one index range;
-- the hour tables are WITHOUT ROWID (the row lives in the key's b-tree, no
-- second lookup). No time index: pruning deletes one key range per source
-- (a second index would cost every bucket write another b-tree insert).

-- Minute buckets are packed per source and hour: one row holds the hour's
-- minutes (monitor/rollup.h, rollup_pack: 60-byte little-endian records,
-- one per minute with samples), written once, when the hour closes. A
-- row per minute would cost a b-tree insert per sample at a 64 s poll and
-- halve the ingest rate; a row per hour costs one per 60 minutes.
-- A rowid table with a unique key rather than WITHOUT ROWID: a row of up to
-- 3.6 KB stays on one table page, where an index b-tree would keep only
-- ~1 KB of it and spill the rest to an overflow page.
CREATE TABLE source_minute (
  id          INTEGER PRIMARY KEY,
  source_id   INTEGER NOT NULL,  -- sources(id); no REFERENCES: pruning order
  hour_ns     INTEGER NOT NULL,  -- the hour the minutes belong to
  minutes     BLOB NOT NULL,     -- per minute: n, offset min/mean/max, bound max/mean
  UNIQUE (source_id, hour_ns)
);

CREATE TABLE source_hour (
  source_id   INTEGER NOT NULL,
  start_ns    INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  offset_min  REAL NOT NULL,
  offset_mean REAL NOT NULL,
  offset_max  REAL NOT NULL,
  bound_max   REAL NOT NULL,
  bound_mean  REAL NOT NULL,
  PRIMARY KEY (source_id, start_ns)
) WITHOUT ROWID;

-- The vetted series: one entry per vote round (the minutes packed like the
-- sources', records with the same fields). The offset figures cover
-- the vetted rounds only and are NULL when none was vetted; agreeing_min
-- and classes_min are the fewest agreeing sources and classes of any round
-- in the bucket (the state mix: how close the vote came to being lost).
CREATE TABLE vetted_minute (
  hour_ns      INTEGER PRIMARY KEY,
  minutes      BLOB NOT NULL       -- per minute: rounds, vetted, offset, error, minima
);

CREATE TABLE vetted_hour (
  start_ns     INTEGER PRIMARY KEY,
  rounds       INTEGER NOT NULL,
  vetted       INTEGER NOT NULL,
  offset_min   REAL,
  offset_mean  REAL,
  offset_max   REAL,
  error_max    REAL,
  error_mean   REAL,
  agreeing_min INTEGER NOT NULL,
  classes_min  INTEGER NOT NULL
);

-- The raw samples' time index also carries the source: a per-source read
-- of a short range (the raw resolution, up to 6 h) then checks the source
-- in the index and fetches only that source's rows, instead of every
-- source's. Still in time order, so writing it costs what the old one did
-- (a (source_id, time) index would cost a page per source per round:
-- schema/001). Rebuilt once, at the upgrade.
DROP INDEX samples_time;
CREATE INDEX samples_time ON samples(rx_time_ns, source_id);

-- Alarms over a range (GET /api/v1/alarms?from&to): those raised before
-- the range's end.
CREATE INDEX alarms_raised ON alarms(raised_ns);
