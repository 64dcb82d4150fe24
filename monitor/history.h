/* The history: every source vettimed has seen and every raw sample, kept in
 * SQLite (schema/NNN_*.sql, compiled in; see monitor/migrations.h).
 *
 * Writing is batched: history_add_sample() only buffers in memory, and the
 * daemon calls history_flush() once per poll round, which writes the whole
 * batch in one transaction, the rows of new or changed sources first. A
 * failed write (disk full, I/O error, database locked) never loses the
 * batch nor stops the daemon, and never makes the daemon's loop wait for
 * a lock: the samples, votes, events and sources stay buffered for the
 * next flush, up to a bounded number, beyond which the oldest are dropped
 * and counted. The condition is logged when it starts and when it ends.
 *
 * One handle is one SQLite connection; it is not thread-safe (the daemon
 * drives it from its single loop). Times are nanoseconds since the Unix
 * epoch. */
#ifndef VT_HISTORY_H
#define VT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/probe.h"

/* Samples held in memory at most, waiting for a flush. At 100 servers this
 * is more than a minute of rounds at the fastest poll; beyond it the oldest
 * sample is dropped (bounded memory beats unbounded growth). */
#define HISTORY_BUFFER_MAX 16384

/* history_count_samples() over every source. */
#define HISTORY_ALL_SOURCES 0

struct history;

/* Cumulative counters since history_open(); buffered is the current number
 * of samples waiting for a flush. */
struct history_stats {
  uint64_t written;  /* samples committed to the database */
  uint64_t buffered; /* samples in memory now */
  uint64_t flushes;  /* transactions committed by history_flush() */
  uint64_t errors;   /* failed flushes (each one logged, rate-limited) */
  uint64_t dropped;  /* rows lost: samples evicted from a full buffer, or
                        refused as not a measurement (NaN offset or error
                        bound, unknown source), votes, events and alarms
                        evicted, roll-up buckets a failing disk held too
                        many of */
  uint64_t records;  /* votes, events and alarms in memory now */
};

/* Opens (creating if missing) the history database at path, creating its
 * parent directory if missing (one level). Sets WAL, synchronous=NORMAL and
 * a short busy timeout, checks the file with PRAGMA quick_check, and applies
 * every compiled-in migration above the file's PRAGMA user_version, each in
 * its own transaction. Refuses, without writing to it, a file that is not an
 * SQLite database or is corrupt, and a database whose schema level is newer
 * than this binary knows. Returns NULL with a one-line message naming the
 * path in err on failure. */
struct history *history_open(const char *path, char *err, size_t errlen);

/* Flushes what is buffered (logging how many samples are lost if that
 * fails), then closes. NULL is allowed. */
void history_close(struct history *h);

/* Returns the id of the source called name, inserting it or updating its
 * kind and class (class_name may be NULL: unknown), in a transaction of its
 * own, now. Returns -1 on error (the database is locked, ...). For tools
 * and tests: the daemon uses history_source_ref(). */
int64_t history_source_id(struct history *h, const char *name,
                          const char *kind, const char *class_name);

/* The source called name as the daemon sees it now, without waiting for the
 * database: returns a reference (< 0) to pass wherever a source id is
 * asked for (history_add_sample(), the source_id fields of votes, events and
 * alarms). Its row in the sources table (inserted, or kind and class
 * updated) is written by the next flush that can write, in the same
 * transaction as the samples that name it: a locked database delays the row
 * and loses nothing. The same name gives the same reference for the life of
 * h; a changed kind or class is written again. Returns 0 when out of memory
 * (a sample of it is refused and counted). */
int64_t history_source_ref(struct history *h, const char *name, const char *kind,
                           const char *class_name);

/* Buffers one sample of source_id (an id from history_source_id(), or a
 * reference from history_source_ref()) in memory; no
 * SQL runs unless the buffer is full, in which case it flushes first; if
 * that fails the oldest buffered sample is dropped. s->source (the config
 * index) is not stored. Returns 0 when buffered without loss, 1 when buffered
 * but an older sample was dropped, -1 when s was refused (non-finite offset
 * or error bound; counted as dropped). */
int history_add_sample(struct history *h, int64_t source_id,
                       const struct vt_sample *s);

/* Writes the new or changed sources' rows, every buffered sample, vote,
 * event and alarm in one transaction. Returns 0 (also when nothing was
 * buffered), or -1 on failure, at once when another connection holds the
 * write lock (no busy wait): everything stays buffered for the next call,
 * the failure is counted, and logged when a condition starts, every 10
 * minutes while it lasts and when it ends. A row the database refuses by
 * constraint (unknown source id) is dropped and counted, so that one bad
 * row cannot block the others forever. */
int history_flush(struct history *h);

/* Deletes the raw samples received before older_than_ns, in short
 * transactions of a bounded number of rows so that the write lock is never
 * held for long. Returns the number of samples deleted, or -1 on error
 * (what was deleted before the error stays deleted). */
int history_prune(struct history *h, int64_t older_than_ns);

void history_get_stats(const struct history *h, struct history_stats *out);

/* ---- roll-ups (schema/004, monitor/rollup.h) ----
 * Every sample added and every vote feeds the per-minute and per-hour
 * buckets of its series (a source; the vetted offset); a bucket is written
 * when it closes, by the flush that writes the raw row that closes it, in
 * the same transaction. Open buckets are never written early: history_open
 * rebuilds them from the raw rows, so a restart mid-bucket (clean or a
 * crash) neither loses nor double-counts. history_prune() keeps the raw
 * rows of open buckets. */

/* Deletes the minute buckets that start before minute_older_than_ns and
 * the hour buckets before hour_older_than_ns (sources and vetted). Returns
 * the number of rows deleted, or -1. */
int history_prune_rollups(struct history *h, int64_t minute_older_than_ns,
                          int64_t hour_older_than_ns);

/* Buckets open in memory (for tests), or -1. */
int history_open_buckets(const struct history *h);

/* For tests: the stored bucket of series (a source id, 0: vetted) at level
 * (enum rollup_level: 0 minute, 1 hour) that starts at start_ns, into
 * out. Returns 1 when stored, 0 when not, -1 on error. */
struct rollup_bucket;
int history_stored_bucket(struct history *h, int64_t series, int level, int64_t start_ns,
                          struct rollup_bucket *out);

/* ---- votes, events and alarms (schema/002) ----
 * Buffered like samples and written by history_flush() in the same
 * transaction as the samples of their round. At most HISTORY_RECORDS_MAX
 * wait; when full, the oldest vote is dropped first, so that events and
 * alarms survive an outage of the disk longer than the votes do. Text
 * fields are copied; strings longer than their field are cut. */
#define HISTORY_RECORDS_MAX 4096

struct history_vote {
  int64_t time_ns;
  bool vetted;
  double offset, error, low, high;
  int candidates, agreeing, classes, agreeing_classes;
  int64_t best_source_id;  /* an id or a history_source_ref(); 0: none */
  int stratum, leap;
  char why_not[160];       /* "" when vetted */
};

struct history_event {
  int64_t time_ns;
  char kind[24];
  bool ended;
  int64_t source_id;       /* an id or a history_source_ref(); 0: the system */
  char ref_class[8];       /* "" if none */
  double value, threshold;
  char text[200];
};

struct history_alarm {
  uint64_t id;             /* the alarm's stable id: inserted, or updated */
  char kind[24];
  int64_t source_id;       /* an id or a history_source_ref() (read back:
                              the id); 0: the system */
  char ref_class[8];
  char severity[12];
  int64_t raised_ns, cleared_ns; /* cleared_ns 0 while raised */
  double value, threshold;
  char text[200];
  unsigned repeats;
};

int history_add_vote(struct history *h, const struct history_vote *v);
int history_add_event(struct history *h, const struct history_event *e);
int history_add_alarm(struct history *h, const struct history_alarm *a);

/* The highest alarm id in the database (0 if none): a restarted daemon
 * numbers its alarms from the next one, so ids never repeat. */
int64_t history_max_alarm_id(struct history *h);

/* Calls cb for every alarm still open (cleared_ns NULL), oldest first, with
 * its source's name ("" for the system). Returns the count, or -1. */
typedef void (*history_alarm_cb)(void *ctx, const struct history_alarm *a,
                                 const char *source_name);
int history_each_open_alarm(struct history *h, history_alarm_cb cb, void *ctx);

/* Number of rows of a table ("votes", "events", "alarms"), or -1. For tests
 * and status. */
int history_count_rows(struct history *h, const char *table);

/* Read side, for reports and tests. Only flushed samples are visible. */

/* Number of samples of source_id (HISTORY_ALL_SOURCES: of all), or -1. */
int history_count_samples(struct history *h, int64_t source_id);

/* The most recent sample (by rx time) of the source called source_name.
 * out->source is set to -1: the history knows sources by name, not by their
 * index in the configuration. Returns 0 if found, 1 if none, -1 on error. */
int history_last_sample(struct history *h, const char *source_name,
                        struct vt_sample *out);

/* ---- modules with tables of their own (the alert outbox) ---- */
struct sqlite3;
/* The connection, for a module that keeps its own tables in the history
 * (created by its own migration in schema/). Prepared statements only. */
struct sqlite3 *history_db(struct history *h);

/* Hooks into every history_flush(): write() runs inside the transaction,
 * after the round's rows and before COMMIT (a non-zero return rolls the whole
 * flush back, and everything stays buffered); committed() runs after a
 * successful COMMIT. So a module's rows are written in the same transaction
 * as the alarm transitions they belong to, and it learns when they are
 * durable. One hook; NULL functions are allowed. */
struct history_hook {
  int (*write)(void *ctx, struct sqlite3 *db);
  void (*committed)(void *ctx);
  void *ctx;
};
void history_set_hook(struct history *h, const struct history_hook *hook);

/* For a command-line tool beside the daemon (`vettime alert`): opens the
 * existing database at path as it is, read-only or read-write (write), with
 * a 2 s busy timeout, and checks that it holds table. No migration and no
 * integrity check, so it stays quick on a large history. Returns 0 with *db
 * open (sqlite3_close it); 1 when the database opened but has no such table
 * yet; -1 with SQLite's message in err. *db is NULL unless 0 is returned. */
int history_open_existing(const char *path, bool write, const char *table,
                          struct sqlite3 **db, char *err, size_t errlen);

/* Calls cb for every sample received in [from_ns, to_ns], in time order,
 * with its source's name and class (class NULL if unknown); a non-zero
 * return from cb stops the walk. Returns the number of samples visited, or
 * -1 on error. */
typedef int (*history_sample_cb)(void *ctx, const char *source_name,
                                 const char *class_name, const struct vt_sample *s);
int history_each_sample(struct history *h, int64_t from_ns, int64_t to_ns,
                        history_sample_cb cb, void *ctx);

#endif
