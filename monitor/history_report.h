/* The history read for reports (`vettime report`): the raw votes, samples,
 * events and alarms of a period, each handed row by row to a callback, so
 * that the caller chooses what to keep in memory. The connection comes
 * from history_open_existing() (read-only, no migration; the daemon may be
 * writing at the same time: WAL). All of the report's SQL is here; the
 * faces call these functions and never write SQL of their own.
 *
 * Every function returns the number of rows visited (a non-zero return of
 * the callback stops the walk early), or -1 with SQLite's message in err.
 * Times are nanoseconds since the Unix epoch; a period [from, to] includes
 * both ends. */
#ifndef VT_HISTORY_REPORT_H
#define VT_HISTORY_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

/* Opens the history at path read-only for a report (history_open_existing:
 * no migration, no integrity check, quick on a large file). Returns 0 with
 * *db; 1 when the file is an SQLite database without the votes table (not
 * a vettime history, or one older than schema 002); -1 with the reason in
 * err. */
int hr_open(const char *path, struct sqlite3 **db, char *err, size_t errlen);
void hr_close(struct sqlite3 *db);

/* A source worth reporting on in [from, to]: it has samples, events or
 * alarms there. class is "" when unknown. */
struct hr_source {
  int64_t id;
  char name[256];
  char kind[16];
  char cls[8];
  int64_t first_seen_ns;
};
typedef int (*hr_source_cb)(void *ctx, const struct hr_source *s);
int hr_each_source(struct sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_source_cb cb,
                   void *ctx, char *err, size_t errlen);

/* A vote row: one a round. offset and error are NaN when not vetted. */
struct hr_vote {
  int64_t time_ns;
  int vetted;
  double offset, error;
  int candidates, agreeing, classes, agreeing_classes;
  char why_not[160]; /* hr_last_vote only ("" when vetted) */
};
typedef int (*hr_vote_cb)(void *ctx, const struct hr_vote *v);
int hr_each_vote(struct sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_vote_cb cb, void *ctx,
                 char *err, size_t errlen);

/* The newest vote row: 0 with *v, 1 when there is none, -1 on error. For
 * `vettime check -d` (the state without the daemon's API) and `vettime
 * alert test --wait` (is a daemon running on this database?). */
int hr_last_vote(struct sqlite3 *db, struct hr_vote *v, char *err, size_t errlen);

/* The alarms open now (cleared_ns NULL), and how many of them are
 * critical. Returns 0 or -1. */
int hr_open_alarms(struct sqlite3 *db, int *open, int *critical, char *err, size_t errlen);

/* A sample, as a report needs it. */
struct hr_sample {
  int64_t time_ns;
  double offset, error_bound;
  int poll; /* log2 s */
};

/* The number of sample rows received in [from, to], of every source (the
 * time index alone: quick), or -1. For sizing the passes below. */
int64_t hr_count_samples(struct sqlite3 *db, int64_t from_ns, int64_t to_ns, char *err,
                         size_t errlen);

/* The samples of the sources ids[0..n) (n = 0: of every source) received
 * in [from, to], in time order: one pass over the period's rows by the
 * time index, whatever the number of sources, so that a caller short of
 * memory splits the sources into a few passes rather than one a source. */
typedef int (*hr_sample_cb)(void *ctx, int64_t source_id, const struct hr_sample *s);
int hr_each_sample_of(struct sqlite3 *db, const int64_t *ids, size_t n, int64_t from_ns,
                      int64_t to_ns, hr_sample_cb cb, void *ctx, char *err, size_t errlen);

/* An event, with its source's name ("" for the system) and class ("" if
 * none). */
struct hr_event {
  int64_t time_ns;
  char kind[24];
  int ended;
  int64_t source_id; /* 0: the system */
  char source[256];
  char cls[8];
  double value, threshold;
};
typedef int (*hr_event_cb)(void *ctx, const struct hr_event *e);
/* The events of [from, to], oldest first. */
int hr_each_event(struct sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_event_cb cb,
                  void *ctx, char *err, size_t errlen);
/* For each (kind, source, class) among the condition kinds named in kinds
 * (NULL-terminated), the last event before from_ns: whether a condition
 * already held when the period began. Any order. */
int hr_each_last_event_before(struct sqlite3 *db, int64_t from_ns, const char *const *kinds,
                              hr_event_cb cb, void *ctx, char *err, size_t errlen);

/* An alarm whose life overlaps [from, to]: raised before to, and cleared
 * after from or still open. cleared_ns is 0 while open. */
struct hr_alarm {
  int64_t id;
  char kind[24];
  char severity[12];
  char source[256]; /* "" for the system */
  char cls[8];
  int64_t raised_ns, cleared_ns;
  double value, threshold;
  char text[200];
  int repeats;
};
typedef int (*hr_alarm_cb)(void *ctx, const struct hr_alarm *a);
/* Oldest raise first. */
int hr_each_alarm(struct sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_alarm_cb cb,
                  void *ctx, char *err, size_t errlen);

#endif
