/* The history writer and reader over SQLite: see history.h.
 *
 * Open sequence, in this order on purpose: check the file (quick_check) and
 * its schema level before anything that writes (journal_mode=WAL writes the
 * header), so that a foreign, corrupt or newer file is refused untouched.
 *
 * Write path: samples go into a bounded ring of rows in memory; a flush
 * binds them one by one to a single prepared INSERT inside one BEGIN
 * IMMEDIATE ... COMMIT, so a round costs one transaction whatever its size,
 * and a failure rolls the whole batch back and leaves it in the ring. */
#include "monitor/history.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "monitor/migrations.h"
#include "monitor/rollup.h"

/* How long a statement waits for another connection's write lock (a
 * `vettime db` maintenance command, a backup) before failing. Short, because
 * the daemon's single loop waits with it, and a failed flush loses nothing:
 * it is retried at the next round. */
#define BUSY_TIMEOUT_MS 250
/* Page cache of the connection, in KiB: room for the hot pages of both
 * sample indexes of a large history (SQLite's default is 2 MiB). */
#define CACHE_KIB 2048
/* Rows deleted per transaction by history_prune(). */
#define PRUNE_BATCH 5000
/* Closed roll-up buckets waiting for a flush at most (a failing disk):
 * beyond it the oldest are dropped and counted. 50 sources close 100
 * buckets a minute, so this is more than a day of buckets. */
#define CLOSED_MAX 262144

/* A buffered sample, already in the columns of the samples table. */
struct row {
  int64_t source_id;
  int64_t rx_time_ns;
  double offset, delay, dispersion, root_delay, root_dispersion, error_bound;
  int32_t stratum, leap, poll;
  uint32_t refid;
};

struct history {
  sqlite3 *db;
  char *path;
  /* Prepared once at open and reused. */
  sqlite3_stmt *insert_sample, *upsert_source, *count_one, *count_all,
      *last_sample, *prune_batch;
  /* Ring of rows waiting for a flush: len rows from index head. head goes
   * back to 0 whenever the ring empties, so in normal running only the
   * first round's worth of the (lazily faulted) allocation is ever touched. */
  struct row *ring;
  size_t head, len;
  /* The last flush failed: a full ring drops rather than retrying at every
   * sample; the daemon's next history_flush() retries. */
  bool failing;
  struct history_stats stats;
  /* Votes, events and alarm transitions waiting for the next flush. */
  struct record *records;
  size_t n_records;
  sqlite3_stmt *insert_vote, *insert_event, *upsert_alarm, *prune_votes;
  struct history_hook hook;
  /* Roll-ups (schema/004): the open buckets, and the closed ones waiting
   * for the next flush; per table (enum bucket_table), the statements that
   * insert, read back (to merge a late piece) and replace a bucket, and
   * prune by time. */
  struct rollup_set *rollups;
  struct rollup_bucket *closed;
  size_t n_closed, cap_closed;
  /* Closed minute buckets held until their series' hour bucket closes
   * (see on_bucket_closed()). */
  struct rollup_bucket *held;
  size_t n_held, cap_held;
  sqlite3_stmt *bucket_insert[4], *bucket_select[4], *bucket_replace[4],
      *bucket_prune[4];
};

/* The four roll-up tables, in the order of bucket_table(). */
enum { T_SOURCE_MINUTE, T_SOURCE_HOUR, T_VETTED_MINUTE, T_VETTED_HOUR };
static const char *const bucket_tables[4] = {"source_minute", "source_hour",
                                             "vetted_minute", "vetted_hour"};

enum record_type { REC_VOTE, REC_EVENT, REC_ALARM };

struct record {
  enum record_type type;
  union {
    struct history_vote vote;
    struct history_event event;
    struct history_alarm alarm;
  } u;
};

static const char SQL_INSERT_SAMPLE[] =
    "INSERT INTO samples(source_id, rx_time_ns, offset, delay, dispersion,"
    " root_delay, root_dispersion, error_bound, stratum, leap, refid, poll)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
/* updated_ns moves only when kind or class really change. */
static const char SQL_UPSERT_SOURCE[] =
    "INSERT INTO sources(name, kind, class, first_seen_ns, updated_ns)"
    " VALUES (?1, ?2, ?3, ?4, ?4)"
    " ON CONFLICT(name) DO UPDATE SET kind = excluded.kind,"
    "  class = excluded.class,"
    "  updated_ns = CASE WHEN sources.kind IS excluded.kind"
    "   AND sources.class IS excluded.class THEN sources.updated_ns"
    "   ELSE excluded.updated_ns END"
    " RETURNING id";
static const char SQL_COUNT_ONE[] =
    "SELECT count(*) FROM samples WHERE source_id = ?1";
static const char SQL_COUNT_ALL[] = "SELECT count(*) FROM samples";
static const char SQL_LAST_SAMPLE[] =
    "SELECT rx_time_ns, offset, delay, dispersion, root_delay,"
    " root_dispersion, error_bound, stratum, leap, refid, poll FROM samples"
    " WHERE source_id = (SELECT id FROM sources WHERE name = ?1)"
    " ORDER BY rx_time_ns DESC, id DESC LIMIT 1";
static const char SQL_PRUNE_BATCH[] =
    "DELETE FROM samples WHERE id IN"
    " (SELECT id FROM samples WHERE rx_time_ns < ?1 LIMIT ?2)";

static const char SQL_INSERT_VOTE[] =
    "INSERT INTO votes(time_ns, vetted, offset, error, low, high, candidates,"
    " agreeing, classes, agreeing_classes, best_source_id, stratum, leap,"
    " why_not) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
    " ?13, ?14)";
static const char SQL_INSERT_EVENT[] =
    "INSERT INTO events(time_ns, kind, ended, source_id, class, value,"
    " threshold, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_UPSERT_ALARM[] =
    "INSERT INTO alarms(id, kind, source_id, class, severity, raised_ns,"
    " cleared_ns, value, threshold, text, repeats)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT(id) DO UPDATE SET cleared_ns = excluded.cleared_ns,"
    "  repeats = excluded.repeats";
static const char SQL_PRUNE_VOTES[] =
    "DELETE FROM votes WHERE id IN"
    " (SELECT id FROM votes WHERE time_ns < ?1 LIMIT ?2)";

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The schema level this binary knows: the last compiled-in migration. */
static int known_level(void) {
  return migrations_count > 0 ? migrations[migrations_count - 1].level : 0;
}

/* Rolls back a transaction left open by a failed statement, if any (some
 * errors, such as SQLITE_FULL, already rolled it back). */
static void rollback_if_open(sqlite3 *db) {
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- open ---------------------------------------------------------------- */

/* Creates the directory holding path if it is missing (one level only: the
 * packaging creates /var/lib, the daemon its own directory in it). */
static int make_parent_dir(const char *path, char *err, size_t errlen) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return 0;
  char dir[PATH_MAX];
  size_t n = (size_t)(slash - path);
  if (n >= sizeof dir) {
    set_err(err, errlen, "%s: path too long", path);
    return -1;
  }
  memcpy(dir, path, n);
  dir[n] = '\0';
  if (mkdir(dir, 0755) == 0 || errno == EEXIST) return 0;
  set_err(err, errlen, "%s: cannot create directory %s: %s", path, dir,
          strerror(errno));
  return -1;
}

static int open_db(struct history *h, char *err, size_t errlen) {
  int rc = sqlite3_open_v2(h->path, &h->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    set_err(err, errlen, "%s: cannot open: %s", h->path,
            h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc));
    return -1;
  }
  sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
  return 0;
}

/* PRAGMA quick_check: refuses a file that is not SQLite at all (the first
 * read fails with SQLITE_NOTADB) or whose b-trees are damaged. Never "fixes"
 * anything: the operator decides what to do with the file. */
static int check_integrity(struct history *h, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(h->db, "PRAGMA quick_check(1)", -1, &st, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const char *res = (const char *)sqlite3_column_text(st, 0);
    bool ok = res && strcmp(res, "ok") == 0;
    if (!ok)
      set_err(err, errlen,
              "%s: the database is corrupt (quick_check: %s); refusing to use "
              "it: move it aside or restore a backup",
              h->path, res ? res : "?");
    sqlite3_finalize(st);
    return ok ? 0 : -1;
  }
  set_err(err, errlen,
          "%s: not a usable SQLite database (%s); refusing to touch it: move "
          "it aside or restore a backup",
          h->path, sqlite3_errmsg(h->db));
  sqlite3_finalize(st);
  return -1;
}

static int read_user_version(sqlite3 *db, int *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *out = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : -1;
}

/* Reads the schema level; refuses a database from a newer vettimed, whose
 * tables this binary would misread or damage. */
static int check_level(struct history *h, int *level, char *err, size_t errlen) {
  if (read_user_version(h->db, level) != 0) {
    set_err(err, errlen, "%s: cannot read the schema level: %s", h->path,
            sqlite3_errmsg(h->db));
    return -1;
  }
  if (*level > known_level()) {
    set_err(err, errlen,
            "%s: schema level %d is newer than this vettimed (knows %d)",
            h->path, *level, known_level());
    return -1;
  }
  return 0;
}

static int exec_or_err(struct history *h, const char *sql, char *err,
                       size_t errlen) {
  if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
  set_err(err, errlen, "%s: %s: %s", h->path, sql, sqlite3_errmsg(h->db));
  return -1;
}

/* WAL lets `vettime report` read while the daemon writes; with WAL,
 * synchronous=NORMAL is still crash-safe for the database (a power cut may
 * lose the last commits, never corrupt) and spares an fsync per round. */
static int configure(struct history *h, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(h->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    set_err(err, errlen, "%s: cannot set WAL mode: %s", h->path,
            sqlite3_errmsg(h->db));
    sqlite3_finalize(st);
    return -1;
  }
  const char *mode = (const char *)sqlite3_column_text(st, 0);
  if (!mode || strcmp(mode, "wal") != 0)
    LOG_WARN("history: %s: journal mode is %s, not wal (readers will block "
             "the writer)", h->path, mode ? mode : "?");
  sqlite3_finalize(st);
  char cache[64];
  snprintf(cache, sizeof cache, "PRAGMA cache_size=-%d", CACHE_KIB);
  if (exec_or_err(h, "PRAGMA synchronous=NORMAL", err, errlen) != 0 ||
      exec_or_err(h, "PRAGMA foreign_keys=ON", err, errlen) != 0 ||
      exec_or_err(h, cache, err, errlen) != 0)
    return -1;
  return 0;
}

/* Applies one migration in its own transaction, with the level it sets.
 * The level is read again under the write lock: another process may have
 * applied it since we looked. */
static int apply_migration(struct history *h, const struct migration *m,
                           char *err, size_t errlen) {
  char set_level[64];
  int level = 0;
  snprintf(set_level, sizeof set_level, "PRAGMA user_version=%d", m->level);
  if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
      read_user_version(h->db, &level) != 0)
    goto fail;
  if (level < m->level &&
      (sqlite3_exec(h->db, m->sql, NULL, NULL, NULL) != SQLITE_OK ||
       sqlite3_exec(h->db, set_level, NULL, NULL, NULL) != SQLITE_OK))
    goto fail;
  if (sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto fail;
  if (level < m->level)
    LOG_INFO("history: %s: applied migration %s", h->path, m->name);
  return 0;
fail:
  set_err(err, errlen, "%s: migration %s failed: %s", h->path, m->name,
          sqlite3_errmsg(h->db));
  rollback_if_open(h->db);
  return -1;
}

/* Forward only: every migration above the current level, in order. */
static int migrate(struct history *h, int level, char *err, size_t errlen) {
  for (int i = 0; i < migrations_count; i++) {
    /* The build numbers them from the file names: a gap is our bug. */
    assert(migrations[i].level == i + 1);
    if (migrations[i].level <= level) continue;
    if (apply_migration(h, &migrations[i], err, errlen) != 0) return -1;
  }
  return 0;
}

static int prepare_all(struct history *h, char *err, size_t errlen) {
  struct {
    sqlite3_stmt **st;
    const char *sql;
  } const stmts[] = {
      {&h->insert_sample, SQL_INSERT_SAMPLE}, {&h->upsert_source, SQL_UPSERT_SOURCE},
      {&h->count_one, SQL_COUNT_ONE},         {&h->count_all, SQL_COUNT_ALL},
      {&h->last_sample, SQL_LAST_SAMPLE},     {&h->prune_batch, SQL_PRUNE_BATCH},
      {&h->insert_vote, SQL_INSERT_VOTE},     {&h->insert_event, SQL_INSERT_EVENT},
      {&h->upsert_alarm, SQL_UPSERT_ALARM},   {&h->prune_votes, SQL_PRUNE_VOTES},
  };
  for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
    if (sqlite3_prepare_v3(h->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                           stmts[i].st, NULL) != SQLITE_OK) {
      set_err(err, errlen, "%s: cannot prepare a statement: %s", h->path,
              sqlite3_errmsg(h->db));
      return -1;
    }
  }
  return 0;
}

/* Frees everything; the database is closed without any further write. */
static void history_free(struct history *h) {
  sqlite3_stmt *stmts[] = {h->insert_sample, h->upsert_source, h->count_one,
                           h->count_all,     h->last_sample,   h->prune_batch,
                           h->insert_vote,   h->insert_event,  h->upsert_alarm,
                           h->prune_votes};
  for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
    sqlite3_finalize(stmts[i]);
  for (int t = 0; t < 4; t++) {
    sqlite3_finalize(h->bucket_insert[t]);
    sqlite3_finalize(h->bucket_select[t]);
    sqlite3_finalize(h->bucket_replace[t]);
    sqlite3_finalize(h->bucket_prune[t]);
  }
  if (h->db) sqlite3_close(h->db);
  rollup_set_free(h->rollups);
  free(h->closed);
  free(h->held);
  free(h->ring);
  free(h->records);
  free(h->path);
  free(h);
}

static int prepare_rollups(struct history *h, char *err, size_t errlen);
static int rebuild_open_buckets(struct history *h, char *err, size_t errlen);
static void on_bucket_closed(void *ctx, const struct rollup_bucket *b);

struct history *history_open(const char *path, char *err, size_t errlen) {
  struct history *h = calloc(1, sizeof *h);
  if (!h || !(h->path = strdup(path)) ||
      !(h->ring = malloc(HISTORY_BUFFER_MAX * sizeof *h->ring)) ||
      !(h->records = malloc(HISTORY_RECORDS_MAX * sizeof *h->records)) ||
      !(h->rollups = rollup_set_new(on_bucket_closed, h))) {
    set_err(err, errlen, "%s: out of memory", path);
    if (h) history_free(h);
    return NULL;
  }
  int level = 0;
  if (make_parent_dir(path, err, errlen) != 0 || open_db(h, err, errlen) != 0 ||
      check_integrity(h, err, errlen) != 0 ||
      check_level(h, &level, err, errlen) != 0 ||
      configure(h, err, errlen) != 0 || migrate(h, level, err, errlen) != 0 ||
      prepare_all(h, err, errlen) != 0 || prepare_rollups(h, err, errlen) != 0 ||
      rebuild_open_buckets(h, err, errlen) != 0) {
    history_free(h);
    return NULL;
  }
  return h;
}

void history_close(struct history *h) {
  if (!h) return;
  /* Open roll-up buckets are not written: the next start rebuilds them
   * from the raw rows (docs/design.md, "History"). */
  if ((h->len || h->n_records || h->n_closed) && history_flush(h) != 0)
    LOG_ERROR("history: %s: %zu samples could not be written and are lost",
              h->path, h->len);
  /* Keeps the planner's statistics fresh; cheap when nothing changed. */
  sqlite3_exec(h->db, "PRAGMA optimize", NULL, NULL, NULL);
  history_free(h);
}

/* ---- sources ------------------------------------------------------------- */

int64_t history_source_id(struct history *h, const char *name,
                          const char *kind, const char *class_name) {
  if (!h || !name || !kind) return -1;
  sqlite3_stmt *st = h->upsert_source;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
  if (class_name)
    sqlite3_bind_text(st, 3, class_name, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, 3);
  sqlite3_bind_int64(st, 4, realtime_ns());
  int64_t id = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    id = sqlite3_column_int64(st, 0);
  else
    LOG_ERROR("history: %s: cannot record source %s: %s", h->path, name,
              sqlite3_errmsg(h->db));
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return id;
}

/* ---- write path ---------------------------------------------------------- */

static void sample_to_row(int64_t source_id, const struct vt_sample *s,
                          struct row *r) {
  r->source_id = source_id;
  r->rx_time_ns = (int64_t)s->rx_time.tv_sec * 1000000000 + s->rx_time.tv_nsec;
  r->offset = s->offset;
  r->delay = s->delay;
  r->dispersion = s->dispersion;
  r->root_delay = s->root_delay;
  r->root_dispersion = s->root_dispersion;
  r->error_bound = s->error_bound;
  r->stratum = s->stratum;
  r->leap = s->leap;
  r->poll = s->poll;
  r->refid = s->refid;
}

static struct row *ring_at(struct history *h, size_t i) {
  return &h->ring[(h->head + i) % HISTORY_BUFFER_MAX];
}

static void drop_oldest(struct history *h) {
  h->head = (h->head + 1) % HISTORY_BUFFER_MAX;
  h->len--;
  h->stats.dropped++;
  LOG_RATELIMITED(LOG_LVL_ERROR,
                  "history: %s: buffer full (%d samples) and the database "
                  "cannot be written: dropping the oldest samples "
                  "(%llu dropped so far)",
                  h->path, HISTORY_BUFFER_MAX,
                  (unsigned long long)h->stats.dropped);
}

int history_add_sample(struct history *h, int64_t source_id,
                       const struct vt_sample *s) {
  if (!h || !s) return -1;
  if (!isfinite(s->offset) || !isfinite(s->error_bound)) {
    h->stats.dropped++;
    LOG_RATELIMITED(LOG_LVL_WARN,
                    "history: refusing a sample without a finite offset and "
                    "error bound (source id %lld)", (long long)source_id);
    return -1;
  }
  int lost = 0;
  if (h->len == HISTORY_BUFFER_MAX) {
    if (!h->failing) history_flush(h);
    if (h->len == HISTORY_BUFFER_MAX) {
      drop_oldest(h);
      lost = 1;
    }
  }
  sample_to_row(source_id, s, ring_at(h, h->len));
  h->len++;
  struct rollup_entry e = {.time_ns = ring_at(h, h->len - 1)->rx_time_ns, .has_value = true,
                           .value = s->offset, .bound = s->error_bound};
  if (rollup_add(h->rollups, source_id, &e) != 0)
    LOG_RATELIMITED(LOG_LVL_WARN, "history: no roll-up for source id %lld",
                    (long long)source_id);
  return lost;
}

static void bind_row(sqlite3_stmt *st, const struct row *r) {
  sqlite3_bind_int64(st, 1, r->source_id);
  sqlite3_bind_int64(st, 2, r->rx_time_ns);
  sqlite3_bind_double(st, 3, r->offset);
  sqlite3_bind_double(st, 4, r->delay);
  sqlite3_bind_double(st, 5, r->dispersion);
  sqlite3_bind_double(st, 6, r->root_delay);
  sqlite3_bind_double(st, 7, r->root_dispersion);
  sqlite3_bind_double(st, 8, r->error_bound);
  sqlite3_bind_int(st, 9, r->stratum);
  sqlite3_bind_int(st, 10, r->leap);
  sqlite3_bind_int64(st, 11, r->refid);
  sqlite3_bind_int(st, 12, r->poll);
}

/* Inserts every buffered row inside the open transaction. A row refused by
 * a constraint (unknown source id, NULL offset) is skipped and counted in
 * *skipped: SQLite undoes only that statement, the transaction goes on.
 * Any other error stops the batch and is returned. */
static int insert_rows(struct history *h, size_t *skipped) {
  sqlite3_stmt *st = h->insert_sample;
  for (size_t i = 0; i < h->len; i++) {
    bind_row(st, ring_at(h, i));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) continue;
    if (rc != SQLITE_CONSTRAINT) return rc;
    (*skipped)++;
    LOG_RATELIMITED(LOG_LVL_WARN, "history: %s: sample refused: %s", h->path,
                    sqlite3_errmsg(h->db));
  }
  return SQLITE_OK;
}

/* ---- votes, events, alarms ---- */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text) {
  if (text[0]) sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t id) {
  if (id > 0) sqlite3_bind_int64(st, i, id);
  else sqlite3_bind_null(st, i);
}

static void bind_vote(sqlite3_stmt *st, const struct history_vote *v) {
  sqlite3_bind_int64(st, 1, v->time_ns);
  sqlite3_bind_int(st, 2, v->vetted);
  sqlite3_bind_double(st, 3, v->offset);
  sqlite3_bind_double(st, 4, v->error);
  sqlite3_bind_double(st, 5, v->low);
  sqlite3_bind_double(st, 6, v->high);
  sqlite3_bind_int(st, 7, v->candidates);
  sqlite3_bind_int(st, 8, v->agreeing);
  sqlite3_bind_int(st, 9, v->classes);
  sqlite3_bind_int(st, 10, v->agreeing_classes);
  bind_id_or_null(st, 11, v->best_source_id);
  sqlite3_bind_int(st, 12, v->stratum);
  sqlite3_bind_int(st, 13, v->leap);
  bind_text_or_null(st, 14, v->why_not);
}

static void bind_event(sqlite3_stmt *st, const struct history_event *e) {
  sqlite3_bind_int64(st, 1, e->time_ns);
  sqlite3_bind_text(st, 2, e->kind, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, e->ended);
  bind_id_or_null(st, 4, e->source_id);
  bind_text_or_null(st, 5, e->ref_class);
  sqlite3_bind_double(st, 6, e->value);
  sqlite3_bind_double(st, 7, e->threshold);
  sqlite3_bind_text(st, 8, e->text, -1, SQLITE_STATIC);
}

static void bind_alarm(sqlite3_stmt *st, const struct history_alarm *a) {
  sqlite3_bind_int64(st, 1, (int64_t)a->id);
  sqlite3_bind_text(st, 2, a->kind, -1, SQLITE_STATIC);
  bind_id_or_null(st, 3, a->source_id);
  bind_text_or_null(st, 4, a->ref_class);
  sqlite3_bind_text(st, 5, a->severity, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, a->raised_ns);
  if (a->cleared_ns) sqlite3_bind_int64(st, 7, a->cleared_ns);
  else sqlite3_bind_null(st, 7);
  sqlite3_bind_double(st, 8, a->value);
  sqlite3_bind_double(st, 9, a->threshold);
  sqlite3_bind_text(st, 10, a->text, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 11, (int)a->repeats);
}

static sqlite3_stmt *bind_record(struct history *h, const struct record *r) {
  switch (r->type) {
  case REC_VOTE: bind_vote(h->insert_vote, &r->u.vote); return h->insert_vote;
  case REC_EVENT: bind_event(h->insert_event, &r->u.event); return h->insert_event;
  default: bind_alarm(h->upsert_alarm, &r->u.alarm); return h->upsert_alarm;
  }
}

/* Like insert_rows(), for the votes, events and alarms. */
static int insert_records(struct history *h, size_t *skipped) {
  for (size_t i = 0; i < h->n_records; i++) {
    sqlite3_stmt *st = bind_record(h, &h->records[i]);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE) continue;
    if (rc != SQLITE_CONSTRAINT) return rc;
    (*skipped)++;
    LOG_RATELIMITED(LOG_LVL_WARN, "history: %s: record refused: %s", h->path,
                    sqlite3_errmsg(h->db));
  }
  return SQLITE_OK;
}

/* Makes room for one record: the oldest vote goes first; only when there
 * is none left does an event or alarm go, and that is logged as critical. */
static void make_room(struct history *h) {
  size_t victim = 0;
  while (victim < h->n_records && h->records[victim].type != REC_VOTE) victim++;
  if (victim == h->n_records) {
    victim = 0;
    LOG_RATELIMITED(LOG_LVL_ERROR, "history: %s: %d events and alarms wait for a "
                    "failing disk; dropping the oldest", h->path, HISTORY_RECORDS_MAX);
  }
  memmove(&h->records[victim], &h->records[victim + 1],
          (h->n_records - victim - 1) * sizeof *h->records);
  h->n_records--;
  h->stats.dropped++;
}

static struct record *new_record(struct history *h, enum record_type type) {
  if (h->n_records == HISTORY_RECORDS_MAX) make_room(h);
  struct record *r = &h->records[h->n_records++];
  r->type = type;
  return r;
}

int history_add_vote(struct history *h, const struct history_vote *v) {
  if (!h) return -1;
  new_record(h, REC_VOTE)->u.vote = *v;
  /* The vetted series: every round counts, a vetted one with its figures. */
  struct rollup_entry e = {.time_ns = v->time_ns, .has_value = v->vetted && isfinite(v->offset)
                           && isfinite(v->error), .value = v->offset, .bound = v->error,
                           .agree = v->agreeing, .classes = v->agreeing_classes};
  rollup_add(h->rollups, 0, &e);
  return 0;
}

int history_add_event(struct history *h, const struct history_event *e) {
  if (!h) return -1;
  new_record(h, REC_EVENT)->u.event = *e;
  return 0;
}

int history_add_alarm(struct history *h, const struct history_alarm *a) {
  if (!h) return -1;
  new_record(h, REC_ALARM)->u.alarm = *a;
  return 0;
}

static int64_t query_int64(struct history *h, const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  return v;
}

int64_t history_max_alarm_id(struct history *h) {
  return h ? query_int64(h, "SELECT coalesce(max(id), 0) FROM alarms") : -1;
}

int history_count_rows(struct history *h, const char *table) {
  static const char *const allowed[] = {"samples", "sources", "votes", "events", "alarms"};
  char sql[64];
  for (size_t i = 0; h && i < sizeof allowed / sizeof allowed[0]; i++) {
    if (strcmp(table, allowed[i]) != 0) continue;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", allowed[i]);
    return (int)query_int64(h, sql);
  }
  return -1;
}

/* ---- roll-ups (schema/004; monitor/rollup.h does the arithmetic) ---- */

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

static int prepare_one(struct history *h, const char *sql, sqlite3_stmt **st,
                       char *err, size_t errlen) {
  if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
    return 0;
  set_err(err, errlen, "%s: cannot prepare a statement: %s", h->path, sqlite3_errmsg(h->db));
  return -1;
}

static int prepare_rollups(struct history *h, char *err, size_t errlen) {
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
static int write_bucket(struct history *h, const struct rollup_bucket *b) {
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
static int write_minutes(struct history *h, const struct rollup_bucket *b, size_t n) {
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
static int write_closed(struct history *h) {
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
int history_stored_bucket(struct history *h, int64_t series, int level, int64_t start_ns,
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
static bool push_bucket(struct history *h, struct rollup_bucket **list, size_t *n, size_t *cap,
                        const struct rollup_bucket *b) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 256;
    struct rollup_bucket *p = c <= CLOSED_MAX ? realloc(*list, c * sizeof *p) : NULL;
    if (!p) {
      h->stats.dropped++;
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
static void release_held(struct history *h, int64_t series, int64_t end) {
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
  struct history *h = ctx;
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

static int rebuild_level(struct history *h, bool votes, const char *table,
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

static int rebuild_open_buckets(struct history *h, char *err, size_t errlen) {
  int64_t hw = query_int64(h, "SELECT max(coalesce((SELECT max(rx_time_ns) FROM samples),"
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

int history_prune_rollups(struct history *h, int64_t minute_older_than_ns,
                          int64_t hour_older_than_ns) {
  if (!h) return -1;
  long long total = 0;
  for (int t = 0; t < 4; t++) {
    sqlite3_stmt *st = h->bucket_prune[t];
    /* a minute row holds an hour: it goes once its whole hour is past */
    sqlite3_bind_int64(st, 1, (t & 1) ? hour_older_than_ns : minute_older_than_ns - ROLLUP_HOUR_NS);
    if (step_reset(st) != SQLITE_DONE) {
      h->stats.errors++;
      LOG_RATELIMITED(LOG_LVL_ERROR, "history: %s: pruning %s failed: %s", h->path,
                      bucket_tables[t], sqlite3_errmsg(h->db));
      return -1;
    }
    total += sqlite3_changes(h->db);
  }
  return total > INT_MAX ? INT_MAX : (int)total;
}

int history_open_buckets(const struct history *h) {
  return h && h->rollups ? rollup_open_count(h->rollups) : -1;
}

/* The batch stays in the ring; the next flush writes it again in full
 * (the transaction was rolled back, so nothing is written twice). */
static int flush_failed(struct history *h) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(h->db));
  rollback_if_open(h->db);
  h->stats.errors++;
  h->failing = true;
  LOG_RATELIMITED(LOG_LVL_ERROR,
                  "history: %s: writing %zu samples failed (%s); they are "
                  "kept for the next attempt",
                  h->path, h->len, msg);
  return -1;
}

sqlite3 *history_db(struct history *h) { return h ? h->db : NULL; }

int history_open_existing(const char *path, bool write, const char *table,
                          sqlite3 **db, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (sqlite3_open_v2(path, db, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
                      NULL) != SQLITE_OK)
    snprintf(err, errlen, "%s", *db ? sqlite3_errmsg(*db) : "cannot open");
  else if (sqlite3_busy_timeout(*db, 2000) != SQLITE_OK ||
           sqlite3_prepare_v2(*db, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1, &st,
                              NULL) != SQLITE_OK ||
           sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) != SQLITE_OK)
    snprintf(err, errlen, "%s", sqlite3_errmsg(*db));
  else
    rc = sqlite3_step(st) == SQLITE_ROW ? 0 : 1;
  sqlite3_finalize(st);
  if (rc != 0) {
    sqlite3_close(*db);
    *db = NULL;
  }
  return rc;
}

void history_set_hook(struct history *h, const struct history_hook *hook) {
  if (!h) return;
  if (hook) h->hook = *hook;
  else memset(&h->hook, 0, sizeof h->hook);
}

/* A flush runs when there is anything to write: samples, records, or a
 * hook (whose module may have rows of its own waiting). */
int history_flush(struct history *h) {
  if (!h) return -1;
  rollup_close_idle(h->rollups);
  if (h->len == 0 && h->n_records == 0 && h->n_closed == 0 && !h->hook.write) return 0;
  size_t skipped = 0;
  rollback_if_open(h->db); /* a transaction left over by a failed ROLLBACK */
  if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
      insert_rows(h, &skipped) != SQLITE_OK ||
      insert_records(h, &skipped) != SQLITE_OK ||
      write_closed(h) != SQLITE_OK ||
      (h->hook.write && h->hook.write(h->hook.ctx, h->db) != 0) ||
      sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    return flush_failed(h);
  h->n_records = 0;
  h->n_closed = 0;
  if (h->hook.committed) h->hook.committed(h->hook.ctx);
  h->stats.written += h->len - skipped;
  h->stats.dropped += skipped;
  h->stats.flushes++;
  h->len = 0;
  h->head = 0;
  h->failing = false;
  return 0;
}

/* Votes age out with the samples; events and alarms are kept. */
static void prune_votes(struct history *h, int64_t older_than_ns) {
  sqlite3_stmt *st = h->prune_votes;
  int rc;
  do {
    sqlite3_bind_int64(st, 1, older_than_ns);
    sqlite3_bind_int(st, 2, PRUNE_BATCH);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
  } while (rc == SQLITE_DONE && sqlite3_changes(h->db) == PRUNE_BATCH);
  if (rc != SQLITE_DONE) {
    h->stats.errors++;
    LOG_RATELIMITED(LOG_LVL_ERROR, "history: %s: pruning votes failed: %s",
                    h->path, sqlite3_errmsg(h->db));
  }
}

/* Each batch is its own autocommit transaction: between two, another
 * connection (or the daemon's next flush) can take the write lock. */
int history_prune(struct history *h, int64_t older_than_ns) {
  if (!h) return -1;
  /* The raw rows of an open bucket stay: a restart rebuilds it from them. */
  int64_t open = rollup_oldest_open(h->rollups);
  if (open < older_than_ns) older_than_ns = open;
  sqlite3_stmt *st = h->prune_batch;
  long long total = 0;
  int n;
  do {
    sqlite3_bind_int64(st, 1, older_than_ns);
    sqlite3_bind_int(st, 2, PRUNE_BATCH);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
      h->stats.errors++;
      LOG_RATELIMITED(LOG_LVL_ERROR, "history: %s: pruning failed: %s",
                      h->path, sqlite3_errmsg(h->db));
      return -1;
    }
    n = sqlite3_changes(h->db);
    total += n;
  } while (n == PRUNE_BATCH);
  prune_votes(h, older_than_ns);
  return total > INT_MAX ? INT_MAX : (int)total;
}

void history_get_stats(const struct history *h, struct history_stats *out) {
  *out = h->stats;
  out->buffered = h->len;
}

/* ---- read side ----------------------------------------------------------- */

int history_count_samples(struct history *h, int64_t source_id) {
  if (!h || source_id < 0) return -1;
  sqlite3_stmt *st = source_id == HISTORY_ALL_SOURCES ? h->count_all
                                                      : h->count_one;
  if (st == h->count_one) sqlite3_bind_int64(st, 1, source_id);
  int n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    sqlite3_int64 c = sqlite3_column_int64(st, 0);
    n = c > INT_MAX ? INT_MAX : (int)c;
  }
  sqlite3_reset(st);
  return n;
}

static void row_to_sample(sqlite3_stmt *st, struct vt_sample *out) {
  int64_t ns = sqlite3_column_int64(st, 0);
  int64_t sec = ns / 1000000000, rem = ns % 1000000000;
  if (rem < 0) { /* floor, for times before 1970 */
    sec--;
    rem += 1000000000;
  }
  memset(out, 0, sizeof *out);
  out->source = -1;
  out->rx_time.tv_sec = (time_t)sec;
  out->rx_time.tv_nsec = (long)rem;
  out->offset = sqlite3_column_double(st, 1);
  out->delay = sqlite3_column_double(st, 2);
  out->dispersion = sqlite3_column_double(st, 3);
  out->root_delay = sqlite3_column_double(st, 4);
  out->root_dispersion = sqlite3_column_double(st, 5);
  out->error_bound = sqlite3_column_double(st, 6);
  out->stratum = sqlite3_column_int(st, 7);
  out->leap = sqlite3_column_int(st, 8);
  out->refid = (uint32_t)sqlite3_column_int64(st, 9);
  out->poll = sqlite3_column_int(st, 10);
}

int history_last_sample(struct history *h, const char *source_name,
                        struct vt_sample *out) {
  if (!h || !source_name || !out) return -1;
  sqlite3_stmt *st = h->last_sample;
  sqlite3_bind_text(st, 1, source_name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) row_to_sample(st, out);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* Samples in time order with their source's name and class, for replay.
 * The columns are those of SQL_LAST_SAMPLE, then name and class. */
int history_each_sample(struct history *h, int64_t from_ns, int64_t to_ns,
                        history_sample_cb cb, void *ctx) {
  static const char sql[] =
      "SELECT s.rx_time_ns, s.offset, s.delay, s.dispersion, s.root_delay,"
      " s.root_dispersion, s.error_bound, s.stratum, s.leap, s.refid, s.poll,"
      " o.name, o.class FROM samples s JOIN sources o ON o.id = s.source_id"
      " WHERE s.rx_time_ns BETWEEN ?1 AND ?2 ORDER BY s.rx_time_ns, s.id";
  sqlite3_stmt *st;
  if (!h || sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  sqlite3_bind_int64(st, 1, from_ns);
  sqlite3_bind_int64(st, 2, to_ns);
  int rc, n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct vt_sample s;
    row_to_sample(st, &s);
    const char *name = (const char *)sqlite3_column_text(st, 11);
    const char *cls = (const char *)sqlite3_column_text(st, 12);
    n++;
    if (cb(ctx, name ? name : "", cls, &s)) break;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

static void copy_column(sqlite3_stmt *st, int col, char *dst, size_t cap) {
  const char *v = (const char *)sqlite3_column_text(st, col);
  snprintf(dst, cap, "%s", v ? v : "");
}

int history_each_open_alarm(struct history *h, history_alarm_cb cb, void *ctx) {
  static const char sql[] =
      "SELECT a.id, a.kind, a.class, a.severity, a.raised_ns, a.value, a.threshold,"
      " a.text, a.repeats, coalesce(o.name, ''), coalesce(a.source_id, 0)"
      " FROM alarms a LEFT JOIN sources o ON o.id = a.source_id"
      " WHERE a.cleared_ns IS NULL ORDER BY a.id";
  sqlite3_stmt *st;
  if (!h || sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  int rc, n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    struct history_alarm a = {.id = (uint64_t)sqlite3_column_int64(st, 0),
                              .raised_ns = sqlite3_column_int64(st, 4),
                              .value = sqlite3_column_double(st, 5),
                              .threshold = sqlite3_column_double(st, 6),
                              .repeats = (unsigned)sqlite3_column_int(st, 8),
                              .source_id = sqlite3_column_int64(st, 10)};
    copy_column(st, 1, a.kind, sizeof a.kind);
    copy_column(st, 2, a.ref_class, sizeof a.ref_class);
    copy_column(st, 3, a.severity, sizeof a.severity);
    copy_column(st, 7, a.text, sizeof a.text);
    cb(ctx, &a, (const char *)sqlite3_column_text(st, 9));
    n++;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? n : -1;
}
