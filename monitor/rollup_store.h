/* The roll-ups' storage (issue 11, schema/004): the history's per-minute
 * and per-hour buckets of every source and of the vetted offset, kept in
 * memory while open (monitor/rollup.h does the arithmetic) and written by
 * the history's flush, in its transaction. Used by monitor/history.c
 * only; the API reads the tables through monitor/history_read.h.
 *
 * What it promises (docs/design.md, "Roll-ups"): a bucket is written when
 * it closes, a minute bucket with its hour (the minutes packed in one row
 * per source and hour); open and held buckets are never written early,
 * and rollup_store_open() rebuilds them from the raw rows, so a restart
 * mid-bucket, clean or a crash, neither loses nor double-counts. */
#ifndef VT_ROLLUP_STORE_H
#define VT_ROLLUP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct rollup_bucket;
struct rollup_store;

/* Prepares the statements on db (the history's connection, schema level 4
 * or more) and rebuilds the open buckets from the raw rows. path is for
 * messages. Returns NULL with a one-line reason in err. */
struct rollup_store *rollup_store_open(struct sqlite3 *db, const char *path, char *err,
                                       size_t errlen);
/* Frees the memory; open and held buckets are not written (the next open
 * rebuilds them). NULL is allowed. */
void rollup_store_free(struct rollup_store *rs);

/* One sample of a source (series = its id > 0), or one vote round. */
void rollup_store_add_sample(struct rollup_store *rs, int64_t source_id, int64_t time_ns,
                             double offset, double error_bound);
void rollup_store_add_vote(struct rollup_store *rs, int64_t time_ns, bool vetted, double offset,
                           double error, int agreeing, int agreeing_classes);

/* Closes the buckets of silent series; true when buckets wait to be
 * written. Called at the start of every flush. */
bool rollup_store_due(struct rollup_store *rs);
/* Writes the closed buckets inside the caller's open transaction.
 * Returns SQLITE_OK or the SQLite error (the caller rolls back; the
 * buckets stay for the next flush). */
int rollup_store_write(struct rollup_store *rs);
/* The transaction committed: the written buckets are forgotten. */
void rollup_store_committed(struct rollup_store *rs);

/* Raw rows at or after this time belong to a bucket still open or held
 * and must not be pruned (INT64_MAX when none). */
int64_t rollup_store_keep_from(const struct rollup_store *rs);

/* Deletes minute buckets before minute_cut (a whole hour's row once its
 * hour is past it) and hour buckets before hour_cut. Returns the rows
 * deleted, or -1. */
int rollup_store_prune(struct rollup_store *rs, int64_t minute_cut, int64_t hour_cut);

/* Counters: buckets dropped (a failing disk held too many), failed
 * prunes. */
uint64_t rollup_store_dropped(const struct rollup_store *rs);
uint64_t rollup_store_errors(const struct rollup_store *rs);

/* For tests: buckets open in memory; a stored bucket (level 0 minute,
 * 1 hour) into out: 1 stored, 0 not, -1 error. */
int rollup_store_open_count(const struct rollup_store *rs);
int rollup_store_stored_bucket(struct rollup_store *rs, int64_t series, int level,
                               int64_t start_ns, struct rollup_bucket *out);

#endif
