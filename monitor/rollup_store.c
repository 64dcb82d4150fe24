/* The roll-ups' storage: see rollup_store.h. */
#include "monitor/rollup_store.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "monitor/rollup.h"

/* Closed roll-up buckets waiting for a flush at most (a failing disk):
 * beyond it the oldest are dropped and counted. 50 sources close 100
 * buckets a minute, so this is more than a day of buckets. */
#define CLOSED_MAX 262144

struct rollup_store {
  sqlite3 *db;
  const char *path;
  /* the open buckets, and the closed ones waiting for the next flush */
  struct rollup_set *rollups;
  struct rollup_bucket *closed;
  size_t n_closed, cap_closed;
  /* Closed minute buckets held until their series' hour bucket closes
   * (see on_bucket_closed()). */
  struct rollup_bucket *held;
  size_t n_held, cap_held;
  /* per table (bucket_tables), the statements that insert, read back (to
   * merge a late piece) and replace a bucket, and prune by time */
  sqlite3_stmt *bucket_insert[4], *bucket_select[4], *bucket_replace[4], *bucket_prune[4];
  uint64_t dropped, errors;
};

/* The four roll-up tables, in the order of bucket_table(). */
static const char *const bucket_tables[4] = {"source_minute", "source_hour",
                                             "vetted_minute", "vetted_hour"};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int64_t query_int64(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}


static int bucket_table(const struct rollup_bucket *b) {
  return (b->series == 0 ? 2 : 0) + (b->level == ROLLUP_HOUR ? 1 : 0);
}

/* The columns of a table, in the order bind_bucket() binds them. */
static const char *bucket_columns(int t) {
  return t < 2 ? "source_id, start_ns, n, offset_min, offset_mean, offset_max,"
                 " bound_max, bound_mean"
               : "start_ns, rounds, vetted, offset_min, offset_mean, offset_max,"
                 " error_max, error_mean, agreeing_min, classes_min";
}

static int prepare_one(struct rollup_store *h, const char *sql, sqlite3_stmt **st,
                       char *err, size_t errlen) {
  if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
    return 0;
  set_err(err, errlen, "%s: cannot prepare a statement: %s", h->path, sqlite3_errmsg(h->db));
  return -1;
}

static int prepare_rollups(struct rollup_store *h, char *err, size_t errlen) {
  char sql[4][512];
  for (int t = 0; t < 4; t++) {
    const char *name = bucket_tables[t], *cols = bucket_columns(t);
    const char *args = t < 2 ? "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8"
                             : "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10";
    const char *key = t < 2 ? "source_id = ?1 AND start_ns = ?2" : "start_ns = ?1";
    if (!(t & 1)) { /* minutes, packed per hour */
      const char *k = t < 2 ? "source_id, hour_ns" : "hour_ns";
      const char *a = t < 2 ? "?1, ?2, ?3" : "?2, ?3";
      const char *w = t < 2 ? "source_id = ?1 AND hour_ns = ?2" : "hour_ns = ?2";
      snprintf(sql[0], sizeof sql[0], "INSERT INTO %s(%s, minutes) VALUES (%s)", name, k, a);
      snprintf(sql[1], sizeof sql[1], "INSERT OR REPLACE INTO %s(%s, minutes) VALUES (%s)", name,
               k, a);
      snprintf(sql[2], sizeof sql[2], "SELECT minutes FROM %s WHERE %s", name, w);
      if (t < 2)
        snprintf(sql[3], sizeof sql[3], "DELETE FROM %s WHERE source_id IN"
                 " (SELECT id FROM sources) AND hour_ns < ?1", name);
      else
        snprintf(sql[3], sizeof sql[3], "DELETE FROM %s WHERE hour_ns < ?1", name);
      if (prepare_one(h, sql[0], &h->bucket_insert[t], err, errlen) ||
          prepare_one(h, sql[1], &h->bucket_replace[t], err, errlen) ||
          prepare_one(h, sql[2], &h->bucket_select[t], err, errlen) ||
          prepare_one(h, sql[3], &h->bucket_prune[t], err, errlen))
        return -1;
      continue;
    }
    snprintf(sql[0], sizeof sql[0], "INSERT INTO %s(%s) VALUES (%s)", name, cols, args);
    snprintf(sql[1], sizeof sql[1], "INSERT OR REPLACE INTO %s(%s) VALUES (%s)", name, cols,
             args);
    snprintf(sql[2], sizeof sql[2], "SELECT %s FROM %s WHERE %s", cols, name, key);
    /* Per source, one key range each (the tables have no time index). */
    if (t < 2)
      snprintf(sql[3], sizeof sql[3], "DELETE FROM %s WHERE source_id IN"
               " (SELECT id FROM sources) AND start_ns < ?1", name);
    else
      snprintf(sql[3], sizeof sql[3], "DELETE FROM %s WHERE start_ns < ?1", name);
    if (prepare_one(h, sql[0], &h->bucket_insert[t], err, errlen) ||
        prepare_one(h, sql[1], &h->bucket_replace[t], err, errlen) ||
        prepare_one(h, sql[2], &h->bucket_select[t], err, errlen) ||
        prepare_one(h, sql[3], &h->bucket_prune[t], err, errlen))
      return -1;
  }
  return 0;
}

static void bind_real_or_null(sqlite3_stmt *st, int i, bool have, double v) {
  if (have) sqlite3_bind_double(st, i, v);
  else sqlite3_bind_null(st, i);
}

static void bind_bucket(sqlite3_stmt *st, int t, const struct rollup_bucket *b) {
  int i = 1;
  if (t < 2) sqlite3_bind_int64(st, i++, b->series);
  sqlite3_bind_int64(st, i++, b->start_ns);
  sqlite3_bind_int64(st, i++, b->n);
  if (t >= 2) sqlite3_bind_int64(st, i++, b->nv);
  bool v = b->nv > 0;
  bind_real_or_null(st, i++, v, b->vmin);
  bind_real_or_null(st, i++, v, b->vmean);
  bind_real_or_null(st, i++, v, b->vmax);
  bind_real_or_null(st, i++, v, b->bmax);
  bind_real_or_null(st, i++, v, b->bmean);
  if (t >= 2) {
    sqlite3_bind_int(st, i++, b->n ? b->agree_min : 0);
    sqlite3_bind_int(st, i++, b->n ? b->classes_min : 0);
  }
}

/* A stored bucket back into the struct (columns of bucket_columns()). */
static void column_bucket(sqlite3_stmt *st, int t, struct rollup_bucket *b) {
  int i = 0;
  rollup_bucket_init(b, t < 2 ? sqlite3_column_int64(st, i++) : 0,
                     (t & 1) ? ROLLUP_HOUR : ROLLUP_MINUTE, 0);
  b->start_ns = sqlite3_column_int64(st, i++);
  b->n = (uint32_t)sqlite3_column_int64(st, i++);
  b->nv = t < 2 ? b->n : (uint32_t)sqlite3_column_int64(st, i++);
  b->vmin = sqlite3_column_double(st, i++);
  b->vmean = sqlite3_column_double(st, i++);
  b->vmax = sqlite3_column_double(st, i++);
  b->bmax = sqlite3_column_double(st, i++);
  b->bmean = sqlite3_column_double(st, i++);
  if (t >= 2) {
    b->agree_min = sqlite3_column_int(st, i++);
    b->classes_min = sqlite3_column_int(st, i++);
  }
}

static int step_reset(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

/* A bucket is inserted; only when its row exists already (a late sample,
 * the local clock stepped back) is the row read back, merged by
 * rollup_merge() (the one place of that arithmetic) and replaced. */
static int write_bucket(struct rollup_store *h, const struct rollup_bucket *b) {
  int t = bucket_table(b);
  bind_bucket(h->bucket_insert[t], t, b);
  int rc = step_reset(h->bucket_insert[t]);
  if (rc != SQLITE_CONSTRAINT) return rc == SQLITE_DONE ? SQLITE_OK : rc;
  sqlite3_stmt *sel = h->bucket_select[t];
  int i = 1;
  if (t < 2) sqlite3_bind_int64(sel, i++, b->series);
  sqlite3_bind_int64(sel, i, b->start_ns);
  struct rollup_bucket stored;
  rc = sqlite3_step(sel);
  if (rc == SQLITE_ROW) column_bucket(sel, t, &stored);
  sqlite3_reset(sel);
  sqlite3_clear_bindings(sel);
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_CONSTRAINT : rc;
  rollup_merge(&stored, b);
  bind_bucket(h->bucket_replace[t], t, &stored);
  rc = step_reset(h->bucket_replace[t]);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The minute buckets of one series and hour (pieces of one minute merged)
 * as one packed row: inserted, or, when the row exists (a late piece),
 * read back, merged minute by minute and replaced. */
static int write_minutes(struct rollup_store *h, const struct rollup_bucket *b, size_t n) {
  int t = b->series == 0 ? 2 : 0;
  int64_t hour = rollup_bucket_start(b->start_ns, ROLLUP_HOUR);
  struct rollup_bucket slot[60], stored[60];
  bool used[60] = {false};
  unsigned char blob[ROLLUP_PACKED_MAX];
  for (size_t i = 0; i < n; i++) {
    int m = (int)((b[i].start_ns - hour) / ROLLUP_MINUTE_NS);
    if (used[m]) rollup_merge(&slot[m], &b[i]);
    else slot[m] = b[i], used[m] = true;
  }
  struct rollup_bucket list[60];
  int k = 0;
  for (int m = 0; m < 60; m++)
    if (used[m]) list[k++] = slot[m];
  for (int attempt = 0; attempt < 2; attempt++) {
    sqlite3_stmt *st = attempt ? h->bucket_replace[t] : h->bucket_insert[t];
    size_t len = rollup_pack(list, k, hour, blob);
    sqlite3_bind_int64(st, 1, b->series);
    sqlite3_bind_int64(st, 2, hour);
    sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
    int rc = step_reset(st);
    if (rc == SQLITE_DONE) return SQLITE_OK;
    if (rc != SQLITE_CONSTRAINT || attempt) return rc;
    /* the hour's row exists: merge into what it holds */
    sqlite3_stmt *sel = h->bucket_select[t];
    sqlite3_bind_int64(sel, 1, b->series);
    sqlite3_bind_int64(sel, 2, hour);
    int n_stored = -1;
    if ((rc = sqlite3_step(sel)) == SQLITE_ROW)
      n_stored = rollup_unpack(sqlite3_column_blob(sel, 0),
                               (size_t)sqlite3_column_bytes(sel, 0), b->series, hour, stored);
    sqlite3_reset(sel);
    sqlite3_clear_bindings(sel);
    if (n_stored < 0) return rc == SQLITE_ROW ? SQLITE_CORRUPT : rc;
    for (int i = 0; i < n_stored; i++) {
      int m = (int)((stored[i].start_ns - hour) / ROLLUP_MINUTE_NS);
      if (used[m]) rollup_merge(&slot[m], &stored[i]);
      else slot[m] = stored[i], used[m] = true;
    }
    k = 0;
    for (int m = 0; m < 60; m++)
      if (used[m]) list[k++] = slot[m];
  }
  return SQLITE_ERROR;
}

/* Hour buckets one by one; minute buckets in runs of one series and hour
 * (release_held() puts an hour's minutes side by side). */
static int by_series_and_start(const void *a, const void *b) {
  const struct rollup_bucket *x = a, *y = b;
  if (x->level != y->level) return x->level < y->level ? -1 : 1;
  if (x->series != y->series) return x->series < y->series ? -1 : 1;
  return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static int write_closed(struct rollup_store *h) {
  /* Sorted, so that the minutes of one hour are written as one row even
   * when they closed interleaved with other series' (a rebuild). */
  if (h->n_closed > 1) /* closed is NULL until the first bucket closes */
    qsort(h->closed, h->n_closed, sizeof *h->closed, by_series_and_start);
  for (size_t i = 0; i < h->n_closed;) {
    const struct rollup_bucket *b = &h->closed[i];
    size_t n = 1;
    int rc;
    if (b->level == ROLLUP_HOUR) {
      rc = write_bucket(h, b);
    } else {
      int64_t hour = rollup_bucket_start(b->start_ns, ROLLUP_HOUR);
      while (i + n < h->n_closed && h->closed[i + n].level == ROLLUP_MINUTE &&
             h->closed[i + n].series == b->series &&
             rollup_bucket_start(h->closed[i + n].start_ns, ROLLUP_HOUR) == hour)
        n++;
      rc = write_minutes(h, b, n);
    }
    if (rc != SQLITE_OK) return rc;
    i += n;
  }
  return SQLITE_OK;
}

/* For tests: the stored bucket of series at level starting at start_ns. */
int rollup_store_stored_bucket(struct rollup_store *h, int64_t series, int level, int64_t start_ns,
                          struct rollup_bucket *out) {
  if (!h) return -1;
  bool minute = level == ROLLUP_MINUTE;
  int t = (series == 0 ? 2 : 0) + (minute ? 0 : 1);
  int64_t key = minute ? rollup_bucket_start(start_ns, ROLLUP_HOUR) : start_ns;
  sqlite3_stmt *sel = h->bucket_select[t];
  int i = 1;
  if (t < 2 || minute) sqlite3_bind_int64(sel, i, series);
  sqlite3_bind_int64(sel, minute ? 2 : (t < 2 ? 2 : 1), key);
  int rc = sqlite3_step(sel), found = 0;
  if (rc == SQLITE_ROW && minute) {
    struct rollup_bucket all[60];
    int n = rollup_unpack(sqlite3_column_blob(sel, 0), (size_t)sqlite3_column_bytes(sel, 0),
                          series, key, all);
    for (int j = 0; j < n; j++)
      if (all[j].start_ns == start_ns) *out = all[j], found = 1;
  } else if (rc == SQLITE_ROW) {
    column_bucket(sel, t, out);
    found = 1;
  }
  sqlite3_reset(sel);
  sqlite3_clear_bindings(sel);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

/* Appends b to a growing list; false (b dropped and counted) past
 * CLOSED_MAX or out of memory. */
static bool push_bucket(struct rollup_store *h, struct rollup_bucket **list, size_t *n, size_t *cap,
                        const struct rollup_bucket *b) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 256;
    struct rollup_bucket *p = c <= CLOSED_MAX ? realloc(*list, c * sizeof *p) : NULL;
    if (!p) {
      h->dropped++;
      LOG_RATELIMITED(LOG_LVL_ERROR, "history: %s: %zu roll-up buckets wait for a "
                      "failing disk; dropping one", h->path, *n);
      return false;
    }
    *list = p;
    *cap = c;
  }
  (*list)[(*n)++] = *b;
  return true;
}

/* The held minute buckets of series that start before end join the next
 * flush. */
static void release_held(struct rollup_store *h, int64_t series, int64_t end) {
  size_t keep = 0;
  for (size_t i = 0; i < h->n_held; i++) {
    const struct rollup_bucket *m = &h->held[i];
    if (m->series == series && m->start_ns < end)
      push_bucket(h, &h->closed, &h->n_closed, &h->cap_closed, m);
    else
      h->held[keep++] = *m;
  }
  h->n_held = keep;
}

/* rollup_emit_fn. A closed hour bucket joins the next flush, and with it
 * the minute buckets of its hour. A closed minute bucket whose hour is
 * still open is held until then: the minute buckets of a source are then
 * written sixty at a time, into one or two pages of the (source, start)
 * b-tree, rather than one page per source per minute (at 50 sources, most
 * of a flush's pages: docs/design.md, "Roll-ups"). The restart rebuilds
 * held buckets like open ones: they all lie in an open hour. */
static void on_bucket_closed(void *ctx, const struct rollup_bucket *b) {
  struct rollup_store *h = ctx;
  if (b->level == ROLLUP_HOUR) {
    push_bucket(h, &h->closed, &h->n_closed, &h->cap_closed, b);
    release_held(h, b->series, b->start_ns + ROLLUP_HOUR_NS);
    return;
  }
  int64_t hour = rollup_open_start(h->rollups, b->series, ROLLUP_HOUR);
  if (hour == rollup_bucket_start(b->start_ns, ROLLUP_HOUR))
    push_bucket(h, &h->held, &h->n_held, &h->cap_held, b);
  else /* its hour is written already (a late piece): now */
    push_bucket(h, &h->closed, &h->n_closed, &h->cap_closed, b);
}

/* The restart (docs/design.md, "History"): open buckets are never written
 * early, and a flush writes raw rows and the buckets they close in one
 * transaction; so after any stop, clean or not, every raw row is in a
 * stored bucket or belonged to one that was open or held. Open hour
 * buckets started after the newest row minus an hour and the grace (else
 * they would have closed), and held minute buckets lie in open hours: the
 * raw rows since then whose bucket is not stored are added again, level
 * by level. */
/* One statement per level and series kind; the table name is ours. */
/* The stored row of either level is keyed by the hour (the minute rows
 * hold a whole hour): ?2 is an hour. */
static void rebuild_sql(char *sql, size_t len, bool votes, const char *table, const char *key) {
  if (votes)
    snprintf(sql, len,
             "SELECT 0, v.time_ns, v.offset, v.error, v.vetted, v.agreeing,"
             " v.agreeing_classes FROM votes v WHERE v.time_ns >= ?1 AND NOT EXISTS"
             " (SELECT 1 FROM %s r"
             " WHERE r.%s = v.time_ns - ((v.time_ns %% ?2) + ?2) %% ?2)"
             " ORDER BY v.time_ns, v.id", table, key);
  else
    snprintf(sql, len,
             "SELECT s.source_id, s.rx_time_ns, s.offset, s.error_bound FROM samples s"
             " WHERE s.rx_time_ns >= ?1 AND NOT EXISTS (SELECT 1 FROM %s r"
             " WHERE r.source_id = s.source_id"
             " AND r.%s = s.rx_time_ns - ((s.rx_time_ns %% ?2) + ?2) %% ?2)"
             " ORDER BY s.rx_time_ns, s.id", table, key);
}

static int rebuild_level(struct rollup_store *h, bool votes, const char *table,
                         enum rollup_level lv, int64_t since) {
  char sql[600];
  rebuild_sql(sql, sizeof sql, votes, table, lv == ROLLUP_MINUTE ? "hour_ns" : "start_ns");
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  sqlite3_bind_int64(st, 1, since);
  sqlite3_bind_int64(st, 2, ROLLUP_HOUR_NS);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct rollup_entry e = {.time_ns = sqlite3_column_int64(st, 1),
                             .has_value = !votes || sqlite3_column_int(st, 4),
                             .value = sqlite3_column_double(st, 2),
                             .bound = sqlite3_column_double(st, 3)};
    if (votes) {
      e.agree = sqlite3_column_int(st, 5);
      e.classes = sqlite3_column_int(st, 6);
    }
    rollup_add_level(h->rollups, sqlite3_column_int64(st, 0), lv, &e);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

/* Writes what the backfill closed, in a transaction of its own. */
static int backfill_write(struct rollup_store *h) {
  if (h->n_closed == 0) return 0;
  if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return -1;
  if (write_closed(h) != SQLITE_OK || sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  h->n_closed = 0;
  return 0;
}

/* Every raw row through the live path (both levels at once, minutes held
 * with their hour), writing the closed buckets every BACKFILL_CHUNK. */
#define BACKFILL_CHUNK 50000
static int backfill_rows(struct rollup_store *h, bool votes) {
  const char *sql = votes ? "SELECT 0, time_ns, offset, error, vetted, agreeing, agreeing_classes"
                            " FROM votes ORDER BY time_ns, id"
                          : "SELECT source_id, rx_time_ns, offset, error_bound FROM samples"
                            " ORDER BY rx_time_ns, id";
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct rollup_entry e = {.time_ns = sqlite3_column_int64(st, 1),
                             .has_value = !votes || sqlite3_column_int(st, 4),
                             .value = sqlite3_column_double(st, 2),
                             .bound = sqlite3_column_double(st, 3)};
    if (votes) {
      e.agree = sqlite3_column_int(st, 5);
      e.classes = sqlite3_column_int(st, 6);
    }
    rollup_add(h->rollups, sqlite3_column_int64(st, 0), &e);
    if (h->n_closed >= BACKFILL_CHUNK && backfill_write(h) != 0) break;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

/* A history without any roll-up yet (one written before schema/004, or
 * younger than an hour): every raw row is rolled up, once. Open and held
 * buckets stay in memory as after a rebuild; the idle ones are closed
 * first, so that every open hour is recent (what the next rebuild
 * assumes). */
static int backfill(struct rollup_store *h, char *err, size_t errlen) {
  int64_t rows = query_int64(h->db, "SELECT (SELECT count(*) FROM samples)"
                                    " + (SELECT count(*) FROM votes)");
  if (rows > 100000)
    LOG_INFO("history: %s: rolling up %lld stored samples and votes (once)", h->path,
             (long long)rows);
  if (backfill_rows(h, false) != 0 || backfill_rows(h, true) != 0) goto fail;
  rollup_close_idle(h->rollups);
  if (backfill_write(h) != 0) goto fail;
  return 0;
fail:
  set_err(err, errlen, "%s: cannot roll up the stored rows: %s", h->path, sqlite3_errmsg(h->db));
  return -1;
}

static int rebuild_open_buckets(struct rollup_store *h, char *err, size_t errlen) {
  if (query_int64(h->db, "SELECT EXISTS (SELECT 1 FROM source_hour)"
                         " OR EXISTS (SELECT 1 FROM vetted_hour)") == 0)
    return backfill(h, err, errlen);
  int64_t hw = query_int64(h->db, "SELECT max(coalesce((SELECT max(rx_time_ns) FROM samples),"
                              " -9223372036854775807), coalesce((SELECT max(time_ns)"
                              " FROM votes), -9223372036854775807))");
  if (hw <= INT64_MIN + 1 + ROLLUP_HOUR_NS + ROLLUP_GRACE_NS) return 0; /* empty */
  /* Both levels from the oldest hour that may be open: minute buckets
   * are held until their hour closes. */
  int64_t since = rollup_bucket_start(hw - ROLLUP_HOUR_NS - ROLLUP_GRACE_NS, ROLLUP_HOUR);
  /* Hours first: a minute bucket that closes during the rebuild must find
   * its hour open, to be held with it rather than written alone (a later
   * restart would take the hour's row for complete). */
  for (int lv = ROLLUP_LEVELS - 1; lv >= 0; lv--) {
    if (rebuild_level(h, false, bucket_tables[lv], lv, since) != 0 ||
        rebuild_level(h, true, bucket_tables[2 + lv], lv, since) != 0) {
      set_err(err, errlen, "%s: cannot rebuild the open roll-up buckets: %s", h->path,
              sqlite3_errmsg(h->db));
      return -1;
    }
  }
  return 0;
}

int rollup_store_prune(struct rollup_store *h, int64_t minute_older_than_ns,
                          int64_t hour_older_than_ns) {
  if (!h) return -1;
  long long total = 0;
  for (int t = 0; t < 4; t++) {
    sqlite3_stmt *st = h->bucket_prune[t];
    /* a minute row holds an hour: it goes once its whole hour is past */
    sqlite3_bind_int64(st, 1, (t & 1) ? hour_older_than_ns : minute_older_than_ns - ROLLUP_HOUR_NS);
    if (step_reset(st) != SQLITE_DONE) {
      h->errors++;
      LOG_RATELIMITED(LOG_LVL_ERROR, "history: %s: pruning %s failed: %s", h->path,
                      bucket_tables[t], sqlite3_errmsg(h->db));
      return -1;
    }
    total += sqlite3_changes(h->db);
  }
  return total > INT_MAX ? INT_MAX : (int)total;
}



/* ---- the interface ---- */

struct rollup_store *rollup_store_open(sqlite3 *db, const char *path, char *err, size_t errlen) {
  struct rollup_store *h = calloc(1, sizeof *h);
  if (!h || !(h->rollups = rollup_set_new(on_bucket_closed, h))) {
    set_err(err, errlen, "%s: out of memory", path);
    free(h);
    return NULL;
  }
  h->db = db;
  h->path = path;
  if (prepare_rollups(h, err, errlen) != 0 || rebuild_open_buckets(h, err, errlen) != 0) {
    rollup_store_free(h);
    return NULL;
  }
  return h;
}

void rollup_store_free(struct rollup_store *h) {
  if (!h) return;
  for (int t = 0; t < 4; t++) {
    sqlite3_finalize(h->bucket_insert[t]);
    sqlite3_finalize(h->bucket_select[t]);
    sqlite3_finalize(h->bucket_replace[t]);
    sqlite3_finalize(h->bucket_prune[t]);
  }
  rollup_set_free(h->rollups);
  free(h->closed);
  free(h->held);
  free(h);
}

void rollup_store_add_sample(struct rollup_store *h, int64_t source_id, int64_t time_ns,
                             double offset, double error_bound) {
  struct rollup_entry e = {.time_ns = time_ns, .has_value = true, .value = offset,
                           .bound = error_bound};
  if (rollup_add(h->rollups, source_id, &e) != 0)
    LOG_RATELIMITED(LOG_LVL_WARN, "history: no roll-up for source id %lld",
                    (long long)source_id);
}

/* The vetted series: every round counts, a vetted one with its figures. */
void rollup_store_add_vote(struct rollup_store *h, int64_t time_ns, bool vetted, double offset,
                           double error, int agreeing, int agreeing_classes) {
  struct rollup_entry e = {.time_ns = time_ns,
                           .has_value = vetted && isfinite(offset) && isfinite(error),
                           .value = offset, .bound = error, .agree = agreeing,
                           .classes = agreeing_classes};
  rollup_add(h->rollups, 0, &e);
}

bool rollup_store_due(struct rollup_store *h) {
  rollup_close_idle(h->rollups);
  return h->n_closed > 0;
}

int rollup_store_write(struct rollup_store *h) { return write_closed(h); }

void rollup_store_committed(struct rollup_store *h) { h->n_closed = 0; }

int64_t rollup_store_keep_from(const struct rollup_store *h) {
  return rollup_oldest_open(h->rollups);
}

uint64_t rollup_store_dropped(const struct rollup_store *h) { return h->dropped; }
uint64_t rollup_store_errors(const struct rollup_store *h) { return h->errors; }

int rollup_store_open_count(const struct rollup_store *h) {
  return rollup_open_count(h->rollups);
}
