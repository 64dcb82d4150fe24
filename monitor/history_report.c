/* Read-only queries of the history for reports: see history_report.h.
 *
 * Plans, on the schema of 001/002 (samples and votes indexed on time only,
 * no per-source index: it was refused for ingest speed): the samples are
 * read in one pass over the period by the time index, for as many sources
 * as the caller can hold at once; reading one source at a time would read
 * the period's rows once per source (measured on 30 days of 50 sources at
 * 16 s, 8.1 million rows: about 1.5 s a pass, so 75 s instead of 2 s).
 * The votes, events and alarms are read once. */
#include "monitor/history_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "monitor/history.h"

int hr_open(const char *path, sqlite3 **db, char *err, size_t errlen) {
  return history_open_existing(path, false, "votes", db, err, errlen);
}

void hr_close(sqlite3 *db) {
  sqlite3_close(db);
}

/* Prepares sql; on failure writes SQLite's message. */
static sqlite3_stmt *prepare(sqlite3 *db, const char *sql, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return NULL;
  }
  return st;
}

/* Steps st to the end; row() turns a row into a callback's return. */
static int walk(sqlite3 *db, sqlite3_stmt *st, int (*row)(sqlite3_stmt *, void *), void *arg,
                char *err, size_t errlen) {
  int rc, n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    n++;
    if (row(st, arg)) {
      rc = SQLITE_DONE;
      break;
    }
  }
  if (rc != SQLITE_DONE) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    n = -1;
  }
  sqlite3_finalize(st);
  return n;
}

/* Prepares sql, binds the period to ?1 and ?2 and walks the rows. */
static int walk_period(sqlite3 *db, const char *sql, int64_t from_ns, int64_t to_ns,
                       int (*row)(sqlite3_stmt *, void *), void *arg, char *err,
                       size_t errlen) {
  sqlite3_stmt *st = prepare(db, sql, err, errlen);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, from_ns);
  sqlite3_bind_int64(st, 2, to_ns);
  return walk(db, st, row, arg, err, errlen);
}

static void text_col(sqlite3_stmt *st, int col, char *dst, size_t cap) {
  const char *v = (const char *)sqlite3_column_text(st, col);
  snprintf(dst, cap, "%s", v ? v : "");
}

static double real_or_nan(sqlite3_stmt *st, int col) {
  return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

/* ---- sources ---- */

struct source_walk {
  hr_source_cb cb;
  void *ctx;
};

static int source_row(sqlite3_stmt *st, void *arg) {
  struct source_walk *w = arg;
  struct hr_source s = {.id = sqlite3_column_int64(st, 0),
                        .first_seen_ns = sqlite3_column_int64(st, 4)};
  text_col(st, 1, s.name, sizeof s.name);
  text_col(st, 2, s.kind, sizeof s.kind);
  text_col(st, 3, s.cls, sizeof s.cls);
  return w->cb(w->ctx, &s);
}

int hr_each_source(sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_source_cb cb, void *ctx,
                   char *err, size_t errlen) {
  /* A source with nothing in the period but an alarm open across it (an
   * unreachable server) must show: it is the one the reader looks for. */
  static const char sql[] =
      "SELECT id, name, kind, coalesce(class, ''), first_seen_ns FROM sources WHERE id IN ("
      " SELECT DISTINCT source_id FROM samples WHERE rx_time_ns BETWEEN ?1 AND ?2"
      " UNION SELECT source_id FROM events WHERE time_ns BETWEEN ?1 AND ?2"
      " UNION SELECT source_id FROM alarms WHERE raised_ns <= ?2"
      "  AND (cleared_ns IS NULL OR cleared_ns >= ?1)) ORDER BY name";
  struct source_walk w = {cb, ctx};
  return walk_period(db, sql, from_ns, to_ns, source_row, &w, err, errlen);
}

/* ---- votes ---- */

struct vote_walk {
  hr_vote_cb cb;
  void *ctx;
};

static int vote_row(sqlite3_stmt *st, void *arg) {
  struct vote_walk *w = arg;
  struct hr_vote v = {.time_ns = sqlite3_column_int64(st, 0),
                      .vetted = sqlite3_column_int(st, 1),
                      .offset = real_or_nan(st, 2),
                      .error = real_or_nan(st, 3),
                      .candidates = sqlite3_column_int(st, 4),
                      .agreeing = sqlite3_column_int(st, 5),
                      .classes = sqlite3_column_int(st, 6),
                      .agreeing_classes = sqlite3_column_int(st, 7)};
  if (!v.vetted) v.offset = v.error = NAN;
  return w->cb(w->ctx, &v);
}

int hr_each_vote(sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_vote_cb cb, void *ctx,
                 char *err, size_t errlen) {
  static const char sql[] =
      "SELECT time_ns, vetted, offset, error, candidates, agreeing, classes,"
      " agreeing_classes FROM votes WHERE time_ns BETWEEN ?1 AND ?2 ORDER BY time_ns, id";
  struct vote_walk w = {cb, ctx};
  return walk_period(db, sql, from_ns, to_ns, vote_row, &w, err, errlen);
}

int hr_last_vote(sqlite3 *db, struct hr_vote *v, char *err, size_t errlen) {
  static const char sql[] =
      "SELECT time_ns, vetted, offset, error, candidates, agreeing, classes,"
      " agreeing_classes, coalesce(why_not, '') FROM votes ORDER BY time_ns DESC, id DESC LIMIT 1";
  sqlite3_stmt *st = prepare(db, sql, err, errlen);
  if (!st) return -1;
  int rc = sqlite3_step(st), out = -1;
  if (rc == SQLITE_ROW) {
    *v = (struct hr_vote){.time_ns = sqlite3_column_int64(st, 0),
                          .vetted = sqlite3_column_int(st, 1),
                          .offset = real_or_nan(st, 2),
                          .error = real_or_nan(st, 3),
                          .candidates = sqlite3_column_int(st, 4),
                          .agreeing = sqlite3_column_int(st, 5),
                          .classes = sqlite3_column_int(st, 6),
                          .agreeing_classes = sqlite3_column_int(st, 7)};
    if (!v->vetted) v->offset = v->error = NAN;
    text_col(st, 8, v->why_not, sizeof v->why_not);
    out = 0;
  } else if (rc == SQLITE_DONE) {
    out = 1;
  } else {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return out;
}

int hr_open_alarms(sqlite3 *db, int *open, int *critical, char *err, size_t errlen) {
  sqlite3_stmt *st = prepare(db,
                             "SELECT count(*), coalesce(sum(severity = 'critical'), 0) FROM alarms"
                             " WHERE cleared_ns IS NULL", err, errlen);
  if (!st) return -1;
  int out = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *open = sqlite3_column_int(st, 0);
    *critical = sqlite3_column_int(st, 1);
    out = 0;
  } else {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return out;
}

/* ---- samples ---- */

int64_t hr_count_samples(sqlite3 *db, int64_t from_ns, int64_t to_ns, char *err,
                         size_t errlen) {
  sqlite3_stmt *st = prepare(db, "SELECT count(*) FROM samples WHERE rx_time_ns BETWEEN ?1 AND ?2",
                             err, errlen);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, from_ns);
  sqlite3_bind_int64(st, 2, to_ns);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  else snprintf(err, errlen, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return n;
}

struct sample_walk {
  hr_sample_cb cb;
  void *ctx;
};

static int sample_row(sqlite3_stmt *st, void *arg) {
  struct sample_walk *w = arg;
  struct hr_sample s = {.time_ns = sqlite3_column_int64(st, 0),
                        .offset = sqlite3_column_double(st, 1),
                        .error_bound = sqlite3_column_double(st, 2),
                        .poll = sqlite3_column_int(st, 3)};
  return w->cb(w->ctx, sqlite3_column_int64(st, 4), &s);
}

int hr_each_sample_of(sqlite3 *db, const int64_t *ids, size_t n, int64_t from_ns, int64_t to_ns,
                      hr_sample_cb cb, void *ctx, char *err, size_t errlen) {
  /* "source_id IN (?3, ?4, ...)": as many parameters as sources, within
   * SQLite's limit (32766 since 3.32); more is refused. */
  if (n > 30000) {
    snprintf(err, errlen, "too many sources in one pass (%zu)", n);
    return -1;
  }
  size_t cap = 256 + n * 8;
  char *sql = malloc(cap);
  if (!sql) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  size_t len = (size_t)snprintf(sql, cap,
                                "SELECT rx_time_ns, offset, error_bound, coalesce(poll, 0), source_id"
                                " FROM samples WHERE rx_time_ns BETWEEN ?1 AND ?2");
  if (n) {
    len += (size_t)snprintf(sql + len, cap - len, " AND source_id IN (");
    for (size_t i = 0; i < n; i++)
      len += (size_t)snprintf(sql + len, cap - len, "%s?%zu", i ? "," : "", i + 3);
    len += (size_t)snprintf(sql + len, cap - len, ")");
  }
  snprintf(sql + len, cap - len, " ORDER BY rx_time_ns, id");
  sqlite3_stmt *st = prepare(db, sql, err, errlen);
  free(sql);
  if (!st) return -1;
  sqlite3_bind_int64(st, 1, from_ns);
  sqlite3_bind_int64(st, 2, to_ns);
  for (size_t i = 0; i < n; i++) sqlite3_bind_int64(st, (int)i + 3, ids[i]);
  struct sample_walk w = {cb, ctx};
  return walk(db, st, sample_row, &w, err, errlen);
}

/* ---- events ---- */

struct event_walk {
  hr_event_cb cb;
  void *ctx;
};

/* Columns: time, kind, ended, source id, source name, class, value, threshold. */
#define EVENT_COLUMNS                                                                   \
  "e.time_ns, e.kind, e.ended, coalesce(e.source_id, 0), coalesce(o.name, ''),"        \
  " coalesce(e.class, ''), e.value, e.threshold"

static int event_row(sqlite3_stmt *st, void *arg) {
  struct event_walk *w = arg;
  struct hr_event e = {.time_ns = sqlite3_column_int64(st, 0),
                       .ended = sqlite3_column_int(st, 2),
                       .source_id = sqlite3_column_int64(st, 3),
                       .value = real_or_nan(st, 6),
                       .threshold = real_or_nan(st, 7)};
  text_col(st, 1, e.kind, sizeof e.kind);
  text_col(st, 4, e.source, sizeof e.source);
  text_col(st, 5, e.cls, sizeof e.cls);
  return w->cb(w->ctx, &e);
}

int hr_each_event(sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_event_cb cb, void *ctx,
                  char *err, size_t errlen) {
  static const char sql[] =
      "SELECT " EVENT_COLUMNS " FROM events e LEFT JOIN sources o ON o.id = e.source_id"
      " WHERE e.time_ns BETWEEN ?1 AND ?2 ORDER BY e.time_ns, e.id";
  struct event_walk w = {cb, ctx};
  return walk_period(db, sql, from_ns, to_ns, event_row, &w, err, errlen);
}

int hr_each_last_event_before(sqlite3 *db, int64_t from_ns, const char *const *kinds,
                              hr_event_cb cb, void *ctx, char *err, size_t errlen) {
  /* The newest row of each group: the daemon appends events in time
   * order (one transaction a round), so the largest id is the newest. One
   * grouped pass over the kind's rows, not a subquery per row. */
  static const char sql[] =
      "SELECT " EVENT_COLUMNS " FROM events e LEFT JOIN sources o ON o.id = e.source_id"
      " WHERE e.id IN (SELECT max(f.id) FROM events f WHERE f.kind = ?2 AND f.time_ns < ?1"
      "  GROUP BY f.source_id, f.class)";
  int total = 0;
  for (; kinds && *kinds; kinds++) {
    sqlite3_stmt *st = prepare(db, sql, err, errlen);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, from_ns);
    sqlite3_bind_text(st, 2, *kinds, -1, SQLITE_STATIC);
    struct event_walk w = {cb, ctx};
    int n = walk(db, st, event_row, &w, err, errlen);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

/* ---- alarms ---- */

struct alarm_walk {
  hr_alarm_cb cb;
  void *ctx;
};

static int alarm_row(sqlite3_stmt *st, void *arg) {
  struct alarm_walk *w = arg;
  struct hr_alarm a = {.id = sqlite3_column_int64(st, 0),
                       .raised_ns = sqlite3_column_int64(st, 5),
                       .cleared_ns = sqlite3_column_int64(st, 6),
                       .value = real_or_nan(st, 7),
                       .threshold = real_or_nan(st, 8),
                       .repeats = sqlite3_column_int(st, 10)};
  text_col(st, 1, a.kind, sizeof a.kind);
  text_col(st, 2, a.severity, sizeof a.severity);
  text_col(st, 3, a.source, sizeof a.source);
  text_col(st, 4, a.cls, sizeof a.cls);
  text_col(st, 9, a.text, sizeof a.text);
  return w->cb(w->ctx, &a);
}

int hr_each_alarm(sqlite3 *db, int64_t from_ns, int64_t to_ns, hr_alarm_cb cb, void *ctx,
                  char *err, size_t errlen) {
  static const char sql[] =
      "SELECT a.id, a.kind, a.severity, coalesce(o.name, ''), coalesce(a.class, ''),"
      " a.raised_ns, coalesce(a.cleared_ns, 0), a.value, a.threshold, a.text, a.repeats"
      " FROM alarms a LEFT JOIN sources o ON o.id = a.source_id"
      " WHERE a.raised_ns <= ?2 AND (a.cleared_ns IS NULL OR a.cleared_ns >= ?1)"
      " ORDER BY a.raised_ns, a.id";
  struct alarm_walk w = {cb, ctx};
  return walk_period(db, sql, from_ns, to_ns, alarm_row, &w, err, errlen);
}
