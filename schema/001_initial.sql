-- 001_initial: the sources vettimed has seen, and their raw samples.
--
-- Migrations are forward only. A released file is never edited: a change to
-- the schema is a new file with the next number. vettimed applies, at open,
-- every file whose number is above PRAGMA user_version, each in its own
-- transaction, and refuses a database written by a newer binary.
-- Later levels add the votes, events, alarms and the alert outbox (002, 003,
-- ...); they are deliberately not created here.
--
-- Units: times are INTEGER nanoseconds since the Unix epoch (exact, and they
-- sort); seconds values are REAL (an IEEE double, stored and read back
-- bit-exact).

CREATE TABLE sources (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,  -- as configured: host[:port], device
  kind          TEXT NOT NULL,         -- ntp, gpsd, nmea, dcf77, shm, sock
  class         TEXT,                  -- GPS, GAL, DCF, ...; NULL if unknown
  first_seen_ns INTEGER NOT NULL,
  updated_ns    INTEGER NOT NULL       -- last change of kind or class
);

-- The table that grows: one row per source per poll, kept for the retention
-- period. Keep the row small: no text, no redundant columns. offset and
-- error_bound are NOT NULL because a sample without them is not a
-- measurement (SQLite stores a NaN as NULL, so this also refuses NaNs).
CREATE TABLE samples (
  id              INTEGER PRIMARY KEY,
  source_id       INTEGER NOT NULL REFERENCES sources(id),
  rx_time_ns      INTEGER NOT NULL,  -- local CLOCK_REALTIME of the measurement
  offset          REAL NOT NULL,     -- source time minus local time, s
  delay           REAL,              -- round trip, s (0 for receivers)
  dispersion      REAL,              -- the measurement's own, s
  root_delay      REAL,              -- as the source reports it, s
  root_dispersion REAL,              -- as the source reports it, s
  error_bound     REAL NOT NULL,     -- root distance: |true - offset| <= this
  stratum         INTEGER,
  leap            INTEGER,           -- leap indicator 0..3
  refid           INTEGER,           -- the 32-bit refid, unsigned
  poll            INTEGER            -- log2 s
);

-- One index only, on time: pruning, replay and reports all read by time
-- range. A (source_id, time) index was measured to cut batched ingest at 100
-- sources per round from ~250k to ~40k samples/s (every round touches one
-- index page per source), so per-source reads scan the time range instead.
CREATE INDEX samples_time ON samples(rx_time_ns);
