-- 003_alert_outbox: the durable outbox of alert notifications.
--
-- One row per alarm transition (raise, clear, repeat) and channel, inserted
-- in the same transaction as the alarm row it belongs to, so an alarm that
-- reached the history always reaches its channels, even if vettimed is
-- killed right after. Heartbeat and test notifications are rows too; `vettime
-- alert test` inserts test rows itself and the daemon's sender picks them up.
--
-- state: pending (to send, or to retry at next_ns), sent, dead (failed for
-- good: a permanent refusal such as SMTP 5xx, or still failing after the
-- expiry time). Only pending rows make up the outbox proper; sent and dead
-- rows are the delivery log and are pruned with the samples (retention).
--
-- id is AUTOINCREMENT: never reused, even after pruning, because it is the
-- notification's sequence number on the wire (the SNMP vtNotifSequence
-- varbind, the syslog seq parameter, part of the Message-ID): a resend after
-- a crash carries the same number, and a new notification never does.

CREATE TABLE alert_outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  channel     TEXT NOT NULL,              -- the channel's name (alert ... name N)
  event       TEXT NOT NULL,              -- raise, clear, repeat, heartbeat, test
  alarm_id    INTEGER,                    -- the alarm's id; NULL for heartbeat, test
  kind        TEXT NOT NULL DEFAULT '',   -- alarm kind (falseticker, ...); '' for heartbeat, test
  severity    TEXT NOT NULL,              -- info, warning, critical
  source      TEXT NOT NULL DEFAULT '',   -- source name as configured; '' for the system
  class       TEXT NOT NULL DEFAULT '',
  value       REAL,                       -- the figure that raised the alarm
  threshold   REAL,                       -- the limit it crossed
  text        TEXT NOT NULL,              -- the alarm line, as logged
  evidence    TEXT NOT NULL DEFAULT '',   -- the vote and the sources at the time
  site        TEXT NOT NULL,              -- where (alertsite, or the host name)
  event_ns    INTEGER NOT NULL,           -- when the transition happened
  created_ns  INTEGER NOT NULL,           -- when the row was written
  msgid       TEXT UNIQUE,                -- the idempotency key: the mail's Message-ID
  state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
  attempts    INTEGER NOT NULL DEFAULT 0, -- deliveries tried
  next_ns     INTEGER NOT NULL,           -- pending: not before this time
  done_ns     INTEGER,                    -- sent or dead: when
  last_error  TEXT                        -- the last failure, for people
);
CREATE INDEX alert_outbox_state ON alert_outbox(state, channel, id);
