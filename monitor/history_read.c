/* The history's read side: see history_read.h.
 *
 * One query shape serves every series read: the rows of the chosen level
 * (raw rows, or the stored buckets plus the raw rows after the newest
 * stored row, which belong to buckets still open or held in the writer's
 * memory) are mapped to the same columns (entries, entries with a value,
 * min, sum of value x count, max, worst bound, sum of bound x count, the
 * vetted series' agreement minima, or a packed hour of minute buckets) and
 * folded into points in C. Buckets are aligned to their width and steps
 * are multiples of it, so a bucket never straddles two points. */
#include "monitor/history_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "monitor/rollup.h"

/* The reader's page cache, KiB: a month of one source's minute buckets
 * (~43,000 rows) stays in memory between requests. */
#define READ_CACHE_KIB 16384
/* The schema level that has the roll-ups. */
#define ROLLUP_LEVEL 4

struct history_reader {
  sqlite3 *db;
  /* [series kind: source, vetted][resolution] */
  sqlite3_stmt *series[2][3];
  sqlite3_stmt *source_id, *events, *alarms;
  struct timespec deadline; /* of the running query (progress handler) */
  int budget_ms;            /* HISTORY_READ_BUDGET_MS unless a test says */
};

enum history_resolution history_resolution_for(int64_t step_ns) {
  if (step_ns < ROLLUP_MINUTE_NS) return HISTORY_RAW;
  if (step_ns < ROLLUP_HOUR_NS) return HISTORY_MINUTE;
  return HISTORY_HOUR;
}

int64_t history_resolution_width(enum history_resolution r) {
  return r == HISTORY_HOUR ? ROLLUP_HOUR_NS : r == HISTORY_MINUTE ? ROLLUP_MINUTE_NS : 1;
}

const char *history_resolution_name(enum history_resolution r) {
  return r == HISTORY_HOUR ? "hour" : r == HISTORY_MINUTE ? "minute" : "raw";
}

/* ---- the statements ------------------------------------------------------ */

/* The rows of a read, as point rows: k (the point), n, nv, min, value sum,
 * max, worst bound, bound sum, agreement minima, and a packed hour of
 * minute buckets (then only n, the hour, is set: fold_packed()). ?1 the
 * hour holding the origin, ?2 to, ?3 origin, ?4 step, ?5 the source, ?6 an
 * hour, ?7 the grace; %s: the lower time bound. */
#define RAW_SOURCE                                                                    \
  "SELECT (rx_time_ns - ?3) / ?4 AS k, 1 AS n, 1 AS nv, offset AS lo,"                \
  " offset AS vs, offset AS hi, error_bound AS bmax, error_bound AS bs,"              \
  " NULL AS amin, NULL AS cmin, NULL AS packed FROM samples WHERE source_id = ?5"     \
  " AND rx_time_ns >= %s AND rx_time_ns <= ?2"
#define RAW_VETTED                                                                    \
  "SELECT (time_ns - ?3) / ?4 AS k, 1 AS n, vetted AS nv,"                            \
  " CASE WHEN vetted THEN offset END AS lo, CASE WHEN vetted THEN offset END AS vs,"  \
  " CASE WHEN vetted THEN offset END AS hi, CASE WHEN vetted THEN error END AS bmax," \
  " CASE WHEN vetted THEN error END AS bs, agreeing AS amin,"                         \
  " agreeing_classes AS cmin, NULL AS packed FROM votes"                             \
  " WHERE time_ns >= %s AND time_ns <= ?2"
#define BUCKET_SOURCE                                                                 \
  "SELECT (start_ns - ?3) / ?4 AS k, n, n AS nv, offset_min AS lo,"                   \
  " offset_mean * n AS vs, offset_max AS hi, bound_max AS bmax,"                      \
  " bound_mean * n AS bs, NULL AS amin, NULL AS cmin, NULL AS packed FROM %s"        \
  " WHERE source_id = ?5 AND start_ns >= ?3 AND start_ns <= ?2"
#define BUCKET_VETTED                                                                 \
  "SELECT (start_ns - ?3) / ?4 AS k, rounds AS n, vetted AS nv, offset_min AS lo,"    \
  " offset_mean * vetted AS vs, offset_max AS hi, error_max AS bmax,"                 \
  " error_mean * vetted AS bs, agreeing_min AS amin, classes_min AS cmin,"           \
  " NULL AS packed FROM %s"                                                           \
  " WHERE start_ns >= ?3 AND start_ns <= ?2"
#define PACKED_SOURCE                                                                 \
  "SELECT NULL, hour_ns, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, minutes"        \
  " FROM source_minute WHERE source_id = ?5 AND hour_ns >= ?1 AND hour_ns <= ?2"
#define PACKED_VETTED                                                                 \
  "SELECT NULL, hour_ns, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, minutes"        \
  " FROM vetted_minute WHERE hour_ns >= ?1 AND hour_ns <= ?2"
/* Where the raw tail starts: after the newest stored row (an hour, ?6) at
 * or before `to`, and no earlier than an hour and the grace (?7) before
 * the newest raw row: every open hour started since (and the writer holds
 * a minute bucket until its hour closes), older rows are all stored, so a
 * source silent for weeks does not make the tail a scan of weeks. */
#define TAIL_SOURCE                                                                   \
  "max(?3, coalesce((SELECT max(%2$s) + ?6 FROM %1$s WHERE source_id = ?5"            \
  " AND %2$s <= ?2), ?3), min(?2, coalesce((SELECT max(rx_time_ns)"                   \
  " FROM samples), ?2)) - ?6 - ?7)"
#define TAIL_VETTED                                                                   \
  "max(?3, coalesce((SELECT max(%2$s) + ?6 FROM %1$s WHERE %2$s <= ?2), ?3),"         \
  " min(?2, coalesce((SELECT max(time_ns) FROM votes), ?2)) - ?6 - ?7)"

static void series_sql(char *sql, size_t len, bool vetted, enum history_resolution res) {
  char rows[2000], tail[400], raw[1000];
  if (res == HISTORY_RAW) {
    snprintf(rows, sizeof rows, vetted ? RAW_VETTED : RAW_SOURCE, "?3");
  } else {
    const char *table = vetted ? (res == HISTORY_HOUR ? "vetted_hour" : "vetted_minute")
                               : (res == HISTORY_HOUR ? "source_hour" : "source_minute");
    bool hours = res == HISTORY_HOUR;
    snprintf(tail, sizeof tail, vetted ? TAIL_VETTED : TAIL_SOURCE, table,
             hours ? "start_ns" : "hour_ns");
    snprintf(raw, sizeof raw, vetted ? RAW_VETTED : RAW_SOURCE, tail);
    char buckets[600];
    if (hours)
      snprintf(buckets, sizeof buckets, vetted ? BUCKET_VETTED : BUCKET_SOURCE, table);
    else
      snprintf(buckets, sizeof buckets, "%s", vetted ? PACKED_VETTED : PACKED_SOURCE);
    snprintf(rows, sizeof rows, "%s UNION ALL %s", buckets, raw);
  }
  /* Grouped into points in C (fold_row): SQL's GROUP BY on a computed key
   * sorts every row through a temporary b-tree first. */
  snprintf(sql, len, "%s", rows);
}

static const char SQL_SOURCE_ID[] = "SELECT id FROM sources WHERE name = ?1";
static const char SQL_EVENTS[] =
    "SELECT e.time_ns, e.kind, e.ended, coalesce(e.source_id, 0), coalesce(e.class, ''),"
    " e.value, e.threshold, e.text, coalesce(o.name, '') FROM events e"
    " LEFT JOIN sources o ON o.id = e.source_id"
    " WHERE e.time_ns >= ?1 AND e.time_ns <= ?2 ORDER BY e.time_ns, e.id LIMIT ?3";
static const char SQL_ALARMS[] =
    "SELECT a.id, a.kind, coalesce(a.source_id, 0), coalesce(a.class, ''), a.severity,"
    " a.raised_ns, coalesce(a.cleared_ns, 0), a.value, a.threshold, a.text, a.repeats,"
    " coalesce(o.name, '') FROM alarms a LEFT JOIN sources o ON o.id = a.source_id"
    " WHERE a.raised_ns <= ?2 AND (a.cleared_ns IS NULL OR a.cleared_ns >= ?1)"
    " ORDER BY a.raised_ns, a.id LIMIT ?3";

/* ---- open and close ------------------------------------------------------- */

/* The progress handler: a query past its deadline is interrupted, so a
 * cold cache or a pathological range cannot hold the daemon's loop. */
static int over_budget(void *arg) {
  const struct history_reader *r = arg;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > r->deadline.tv_sec ||
         (now.tv_sec == r->deadline.tv_sec && now.tv_nsec > r->deadline.tv_nsec);
}

static void start_budget(struct history_reader *r) {
  clock_gettime(CLOCK_MONOTONIC, &r->deadline);
  r->deadline.tv_nsec += (long)r->budget_ms * 1000000L;
  r->deadline.tv_sec += r->deadline.tv_nsec / 1000000000L;
  r->deadline.tv_nsec %= 1000000000L;
}

static int prepare(struct history_reader *r, const char *sql, sqlite3_stmt **st) {
  return sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK
             ? 0 : -1;
}

static int schema_level(sqlite3 *db) {
  sqlite3_stmt *st;
  int level = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    level = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return level;
}

struct history_reader *history_reader_open(const char *path, char *err, size_t errlen) {
  struct history_reader *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
  }
  if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s: cannot open for reading: %s", path,
             r->db ? sqlite3_errmsg(r->db) : "out of memory");
    history_reader_close(r);
    return NULL;
  }
  sqlite3_busy_timeout(r->db, 50);
  r->budget_ms = HISTORY_READ_BUDGET_MS;
  char cache[64];
  snprintf(cache, sizeof cache, "PRAGMA cache_size=-%d", READ_CACHE_KIB);
  sqlite3_exec(r->db, cache, NULL, NULL, NULL);
  int level = schema_level(r->db);
  if (level < ROLLUP_LEVEL) {
    snprintf(err, errlen, "%s: schema level %d has no roll-ups (%d needed)", path, level,
             ROLLUP_LEVEL);
    history_reader_close(r);
    return NULL;
  }
  char sql[4096];
  for (int v = 0; v < 2; v++)
    for (int res = 0; res < 3; res++) {
      series_sql(sql, sizeof sql, v, (enum history_resolution)res);
      if (prepare(r, sql, &r->series[v][res]) != 0) goto fail;
    }
  if (prepare(r, SQL_SOURCE_ID, &r->source_id) || prepare(r, SQL_EVENTS, &r->events) ||
      prepare(r, SQL_ALARMS, &r->alarms))
    goto fail;
  sqlite3_progress_handler(r->db, 1000, over_budget, r);
  return r;
fail:
  snprintf(err, errlen, "%s: cannot prepare a history query: %s", path, sqlite3_errmsg(r->db));
  history_reader_close(r);
  return NULL;
}

void history_reader_set_budget(struct history_reader *r, int ms) {
  if (r) r->budget_ms = ms < 0 ? 0 : ms;
}

void history_reader_close(struct history_reader *r) {
  if (!r) return;
  for (int v = 0; v < 2; v++)
    for (int res = 0; res < 3; res++) sqlite3_finalize(r->series[v][res]);
  sqlite3_finalize(r->source_id);
  sqlite3_finalize(r->events);
  sqlite3_finalize(r->alarms);
  sqlite3_close(r->db);
  free(r);
}

/* ---- reads ---------------------------------------------------------------- */

/* The end of a read: the statement is reset for the next one, and the
 * step's last code is turned into the answer. */
static int finish(struct history_reader *r, sqlite3_stmt *st, int rc, int n) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  (void)r;
  if (rc == SQLITE_INTERRUPT) return HISTORY_READ_SLOW;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? n : -1;
}

int64_t history_reader_source(struct history_reader *r, const char *name) {
  if (!r || !name) return -1;
  start_budget(r);
  sqlite3_stmt *st = r->source_id;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : -1;
}

static double column_or_nan(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int64_t floor_to(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step < 0) q--;
  return q * step;
}

/* One point as it is being folded: sums, from which the means come. */
struct fold {
  uint32_t n, nv;
  double lo, hi, bmax, vsum, bsum;
  int amin, cmin;
};

/* One row's contribution (a raw row, an hour bucket or a minute bucket). */
struct part {
  uint32_t n, nv;
  double lo, vsum, hi, bmax, bsum;
  bool agree;
  int amin, cmin;
};

static void fold_add(struct fold *f, const struct part *p) {
  bool first = f->n == 0, first_v = f->nv == 0;
  f->n += p->n;
  if (p->agree) {
    if (first || p->amin < f->amin) f->amin = p->amin;
    if (first || p->cmin < f->cmin) f->cmin = p->cmin;
  }
  if (p->nv == 0) return;
  if (first_v || p->lo < f->lo) f->lo = p->lo;
  if (first_v || p->hi > f->hi) f->hi = p->hi;
  if (first_v || p->bmax > f->bmax) f->bmax = p->bmax;
  f->vsum += p->vsum;
  f->bsum += p->bsum;
  f->nv += p->nv;
}

static void fold_row(struct fold *f, sqlite3_stmt *st) {
  struct part p = {.n = (uint32_t)sqlite3_column_int64(st, 1),
                   .nv = (uint32_t)sqlite3_column_int64(st, 2),
                   .agree = sqlite3_column_type(st, 8) != SQLITE_NULL};
  if (p.agree) {
    p.amin = sqlite3_column_int(st, 8);
    p.cmin = sqlite3_column_int(st, 9);
  }
  if (sqlite3_column_type(st, 3) == SQLITE_NULL) p.nv = 0;
  if (p.nv) {
    p.lo = sqlite3_column_double(st, 3);
    p.vsum = sqlite3_column_double(st, 4);
    p.hi = sqlite3_column_double(st, 5);
    p.bmax = sqlite3_column_double(st, 6);
    p.bsum = sqlite3_column_double(st, 7);
  }
  fold_add(f, &p);
}

/* A packed hour of minute buckets: each minute into its point. */
static void fold_packed(struct fold *f, int64_t slots, sqlite3_stmt *st, bool vetted,
                        int64_t origin, int64_t step, int64_t to) {
  struct rollup_bucket m[60];
  int64_t hour = sqlite3_column_int64(st, 1);
  int n = rollup_unpack(sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10), 1,
                        hour, m);
  for (int i = 0; i < n; i++) {
    if (m[i].start_ns < origin || m[i].start_ns > to) continue;
    int64_t k = (m[i].start_ns - origin) / step;
    if (k >= slots) continue;
    struct part p = {.n = m[i].n, .nv = m[i].nv, .lo = m[i].vmin, .vsum = m[i].vmean * m[i].nv,
                     .hi = m[i].vmax, .bmax = m[i].bmax, .bsum = m[i].bmean * m[i].nv,
                     .agree = vetted, .amin = m[i].agree_min, .cmin = m[i].classes_min};
    fold_add(&f[k], &p);
  }
}

static void fold_point(const struct fold *f, int64_t time_ns, bool vetted,
                       struct history_point *p) {
  bool v = f->nv > 0;
  p->time_ns = time_ns;
  p->n = f->n;
  p->nv = f->nv;
  p->offset_min = v ? f->lo : NAN;
  p->offset_max = v ? f->hi : NAN;
  p->offset_mean = v ? f->vsum / f->nv : NAN;
  p->bound_max = v ? f->bmax : NAN;
  p->bound_mean = v ? f->bsum / f->nv : NAN;
  p->agreeing_min = vetted ? (f->n ? f->amin : 0) : -1;
  p->classes_min = vetted ? (f->n ? f->cmin : 0) : -1;
}

int history_read_series(struct history_reader *r, int64_t series, int64_t from_ns,
                        int64_t to_ns, int64_t step_ns, enum history_resolution res,
                        struct history_point *out, int max) {
  if (!r || series < 0 || step_ns <= 0 || to_ns < from_ns || max < 0 ||
      (int)res < 0 || res > HISTORY_HOUR || step_ns % history_resolution_width(res))
    return -1;
  bool vetted = series == HISTORY_VETTED;
  sqlite3_stmt *st = r->series[vetted][res];
  int64_t origin = floor_to(from_ns, step_ns);
  int64_t slots = (to_ns - origin) / step_ns + 1;
  if (slots > HISTORY_MAX_POINTS * 4) return -1; /* the caller checked the points */
  struct fold *f = calloc((size_t)slots, sizeof *f);
  if (!f) return -1;
  start_budget(r);
  sqlite3_bind_int64(st, 1, floor_to(origin, ROLLUP_HOUR_NS));
  sqlite3_bind_int64(st, 2, to_ns);
  sqlite3_bind_int64(st, 3, origin);
  sqlite3_bind_int64(st, 4, step_ns);
  if (!vetted) sqlite3_bind_int64(st, 5, series);
  if (res != HISTORY_RAW) {
    sqlite3_bind_int64(st, 6, ROLLUP_HOUR_NS);
    sqlite3_bind_int64(st, 7, ROLLUP_GRACE_NS);
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
      fold_packed(f, slots, st, vetted, origin, step_ns, to_ns);
      continue;
    }
    int64_t k = sqlite3_column_int64(st, 0);
    if (k >= 0 && k < slots) fold_row(&f[k], st);
  }
  int n = 0;
  for (int64_t k = 0; k < slots && n < max; k++)
    if (f[k].n) fold_point(&f[k], origin + k * step_ns, vetted, &out[n++]);
  free(f);
  return finish(r, st, rc, n);
}

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap) {
  const char *v = (const char *)sqlite3_column_text(st, col);
  snprintf(dst, cap, "%s", v ? v : "");
}

/* Both lists ask for one row more than max: its presence is *more. */
static void bind_range(sqlite3_stmt *st, int64_t from_ns, int64_t to_ns, int max) {
  sqlite3_bind_int64(st, 1, from_ns);
  sqlite3_bind_int64(st, 2, to_ns);
  sqlite3_bind_int(st, 3, max + 1);
}

int history_read_events(struct history_reader *r, int64_t from_ns, int64_t to_ns, int max,
                        bool *more, history_read_event_cb cb, void *ctx) {
  if (!r || max < 0 || !cb) return -1;
  sqlite3_stmt *st = r->events;
  start_budget(r);
  bind_range(st, from_ns, to_ns, max);
  int rc, n = 0;
  *more = false;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == max) {
      *more = true;
      break;
    }
    struct history_event e = {.time_ns = sqlite3_column_int64(st, 0),
                              .ended = sqlite3_column_int(st, 2) != 0,
                              .source_id = sqlite3_column_int64(st, 3),
                              .value = column_or_nan(st, 5),
                              .threshold = column_or_nan(st, 6)};
    copy_text(st, 1, e.kind, sizeof e.kind);
    copy_text(st, 4, e.ref_class, sizeof e.ref_class);
    copy_text(st, 7, e.text, sizeof e.text);
    cb(ctx, &e, (const char *)sqlite3_column_text(st, 8));
    n++;
  }
  return finish(r, st, rc, n);
}

int history_read_alarms(struct history_reader *r, int64_t from_ns, int64_t to_ns, int max,
                        bool *more, history_alarm_cb cb, void *ctx) {
  if (!r || max < 0 || !cb) return -1;
  sqlite3_stmt *st = r->alarms;
  start_budget(r);
  bind_range(st, from_ns, to_ns, max);
  int rc, n = 0;
  *more = false;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == max) {
      *more = true;
      break;
    }
    struct history_alarm a = {.id = (uint64_t)sqlite3_column_int64(st, 0),
                              .source_id = sqlite3_column_int64(st, 2),
                              .raised_ns = sqlite3_column_int64(st, 5),
                              .cleared_ns = sqlite3_column_int64(st, 6),
                              .value = column_or_nan(st, 7),
                              .threshold = column_or_nan(st, 8),
                              .repeats = (unsigned)sqlite3_column_int(st, 10)};
    copy_text(st, 1, a.kind, sizeof a.kind);
    copy_text(st, 3, a.ref_class, sizeof a.ref_class);
    copy_text(st, 4, a.severity, sizeof a.severity);
    copy_text(st, 9, a.text, sizeof a.text);
    cb(ctx, &a, (const char *)sqlite3_column_text(st, 11));
    n++;
  }
  return finish(r, st, rc, n);
}
