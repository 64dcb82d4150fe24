-- 002_votes_events_alarms: what the vote decided each round, what the
-- detectors saw, and the alarms they raised and cleared.
--
-- votes are pruned with the samples (retention); events and alarms are the
-- evidence an operator looks for months later, and are kept.

CREATE TABLE votes (
  id               INTEGER PRIMARY KEY,
  time_ns          INTEGER NOT NULL,    -- the round's CLOCK_REALTIME
  vetted           INTEGER NOT NULL,    -- 1 if the vote vetted the time
  offset           REAL,                -- vetted offset of the local clock, s
  error            REAL,                -- its error bound, s
  low              REAL,                -- the intersection, s
  high             REAL,
  candidates       INTEGER NOT NULL,    -- sources past the sanity filter
  agreeing         INTEGER NOT NULL,    -- truechimers
  classes          INTEGER NOT NULL,    -- classes with candidates
  agreeing_classes INTEGER NOT NULL,
  best_source_id   INTEGER REFERENCES sources(id),
  stratum          INTEGER,             -- what the NTP server would serve
  leap             INTEGER,
  why_not          TEXT                 -- NULL when vetted
);
CREATE INDEX votes_time ON votes(time_ns);

CREATE TABLE events (
  id        INTEGER PRIMARY KEY,
  time_ns   INTEGER NOT NULL,
  kind      TEXT NOT NULL,              -- step, drift, falseticker, ...
  ended     INTEGER NOT NULL DEFAULT 0, -- 1: the condition stopped holding
  source_id INTEGER REFERENCES sources(id), -- NULL: the system / local clock
  class     TEXT,
  value     REAL,                       -- the figure that triggered it
  threshold REAL,                       -- the limit it crossed
  text      TEXT NOT NULL               -- the evidence, for people
);
CREATE INDEX events_time ON events(time_ns);

-- One row per alarm, written when it is raised and updated when it clears;
-- id is the alarm's stable id, the same in every channel.
CREATE TABLE alarms (
  id         INTEGER PRIMARY KEY,
  kind       TEXT NOT NULL,
  source_id  INTEGER REFERENCES sources(id),
  class      TEXT,
  severity   TEXT NOT NULL,             -- info, warning, critical
  raised_ns  INTEGER NOT NULL,
  cleared_ns INTEGER,                   -- NULL while raised
  value      REAL,
  threshold  REAL,
  text       TEXT NOT NULL,
  repeats    INTEGER NOT NULL DEFAULT 0 -- the condition came back while raised
);
CREATE INDEX alarms_open ON alarms(cleared_ns);
