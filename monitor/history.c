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
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "monitor/migrations.h"
#include "monitor/rollup_store.h"

/* How long a statement waits for another connection's write lock (a
 * `vettime db` maintenance command, a backup) before failing: while the
 * history opens (the migrations), and at close (the last flush). Once open,
 * the daemon's loop never waits for a lock (issue 13: 250 ms per source
 * and per round stretched the rounds to 1.75 s): a flush that finds the
 * database locked fails at once and loses nothing, everything stays in
 * memory for the next round. */
#define BUSY_TIMEOUT_MS 250
#define LOOP_BUSY_TIMEOUT_MS 0
#define CLOSE_BUSY_TIMEOUT_MS 5000
/* While the history cannot be written, the condition is logged when it
 * starts, again every this many seconds, and when it ends (with counts). */
#define FAILING_REMIND_S 600.0
/* Page cache of the connection, in KiB: room for the hot pages of both
 * sample indexes of a large history (SQLite's default is 2 MiB). */
#define CACHE_KIB 2048
/* The mode of a history file vettimed creates, whatever the umask: SQLite
 * gives its -wal and -shm files the database's own mode. */
#define HISTORY_FILE_MODE 0640
/* Rows deleted per transaction by history_prune(). */
#define PRUNE_BATCH 5000

/* A buffered sample, already in the columns of the samples table; its
 * source as given to history_add_sample() (an id, or a reference resolved
 * by the flush). rolled: already added to its roll-up series (which needs
 * the source's id). */
struct row {
  int64_t source_ref;
  bool rolled;
  int64_t rx_time_ns;
  double offset, delay, dispersion, root_delay, root_dispersion, error_bound;
  int32_t stratum, leap, poll;
  uint32_t refid;
};

/* A source as the daemon knows it (history_source_ref()): its row in the
 * sources table is written by a flush, in the flush's transaction. */
struct hsource {
  char *name;
  char kind[16], cls[8];       /* cls "" when unknown */
  int64_t id;                  /* committed row id, 0 before the first */
  int64_t pending_id;          /* id written by the flush in progress */
  bool dirty;                  /* the row is not written as it is now */
};

/* A condition of failing flushes, for the log: one line when it starts
 * (or its cause changes), a reminder every FAILING_REMIND_S, one with the
 * counts when it ends. */
struct failing {
  int code;                    /* SQLite's primary result code */
  double since, reminded;      /* CLOCK_MONOTONIC s */
  uint64_t attempts;           /* failed flushes in this condition */
  uint64_t dropped_before;     /* stats.dropped when it started */
};

struct history {
  sqlite3 *db;
  char *path;
  struct hsource *srcs;
  size_t n_srcs, cap_srcs;
  bool dirty_srcs;
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
  struct failing fail;
  struct history_stats stats;
  /* Votes, events and alarm transitions waiting for the next flush. */
  struct record *records;
  size_t n_records;
  sqlite3_stmt *insert_vote, *insert_event, *upsert_alarm, *prune_votes;
  struct history_hook hook;
  int level; /* the schema level found at open */
  /* The roll-ups (schema/004), written by every flush. */
  struct rollup_store *rollups;
};


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

/* The directory holding path, "." when it has none. */
static void parent_of(const char *path, char *dir, size_t len) {
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, len, ".");
  else if (slash == path) snprintf(dir, len, "/");
  else snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* Before SQLite sees the file: it must be readable and writable, and so
 * must its directory, where SQLite creates the -wal and -shm files (and a
 * rollback journal). SQLite itself would open such a file read-only, or
 * fail at the first read with "unable to open database file", which said
 * nothing of the cause (issue 13: a healthy history on a read-only
 * directory was called "not a usable SQLite database"). */
static int check_writable(const char *path, char *err, size_t errlen) {
  char dir[PATH_MAX];
  parent_of(path, dir, sizeof dir);
  if (eaccess(dir, W_OK | X_OK) != 0) {
    set_err(err, errlen,
            "%s: its directory %s is not writable (%s): SQLite creates the database's -wal "
            "and -shm files there; make it writable for the user vettimed runs as",
            path, dir, strerror(errno));
    return -1;
  }
  if (eaccess(path, F_OK) == 0 && eaccess(path, R_OK | W_OK) != 0) {
    set_err(err, errlen, "%s: cannot be written (%s); vettimed needs to write its history",
            path, strerror(errno));
    return -1;
  }
  return 0;
}

/* A new history is created here, HISTORY_FILE_MODE whatever the umask
 * (issue 13: 0644 under umask 022); an existing one keeps its mode
 * (warn_mode()). */
static int create_file(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) == 0) return 0;
  int fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, HISTORY_FILE_MODE);
  if (fd < 0 && errno == EEXIST) return 0; /* created meanwhile: SQLite checks it */
  if (fd < 0 || fchmod(fd, HISTORY_FILE_MODE) != 0) {
    set_err(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

/* Once the file is known to be a history: an operator's mode is kept, with
 * a warning when the group may write it or others read it. */
static void warn_mode(const struct history *h) {
  struct stat st;
  if (stat(h->path, &st) == 0 && (st.st_mode & 0027))
    LOG_WARN("history: %s: mode %04o lets the group write it or others read it "
             "(vettimed creates it %04o: chmod %o %s)", h->path,
             (unsigned)(st.st_mode & 07777), HISTORY_FILE_MODE, HISTORY_FILE_MODE, h->path);
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
  /* SQLite opens a file it may not write read-only, silently: every write
   * would fail later. Say so now, with the real reason (issue 13). */
  if (sqlite3_db_readonly(h->db, "main") == 1) {
    set_err(err, errlen, "%s: cannot be written (%s); vettimed needs to write its history",
            h->path, access(h->path, W_OK) == 0 ? "read-only file system" :
                     errno ? strerror(errno) : "permission denied");
    return -1;
  }
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
  int code = sqlite3_errcode(h->db) & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    set_err(err, errlen,
            "%s: locked by another process (%s), so it cannot even be checked; start "
            "again once the lock is released", h->path, sqlite3_errmsg(h->db));
  else if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY || code == SQLITE_PERM ||
           code == SQLITE_IOERR)
    set_err(err, errlen,
            "%s: cannot be read (%s): check the file system and the permissions of the "
            "file, its -wal and -shm files and its directory", h->path,
            sqlite3_errmsg(h->db));
  else
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
  /* Level 0 is a new, empty file, or somebody else's: a file with tables
   * of its own is not ours to migrate (issue 13: such a file used to be
   * switched to WAL, its header rewritten, before being refused). */
  if (*level == 0) {
    sqlite3_stmt *st = NULL;
    int tables = -1;
    if (sqlite3_prepare_v2(h->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      tables = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (tables != 0) {
      set_err(err, errlen,
              "%s: not a vettime history: it has %d tables of its own and no "
              "schema level; refusing to touch it", h->path, tables);
      return -1;
    }
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
  rollup_store_free(h->rollups);
  if (h->db) sqlite3_close(h->db);
  for (size_t i = 0; i < h->n_srcs; i++) free(h->srcs[i].name);
  free(h->srcs);
  free(h->ring);
  free(h->records);
  free(h->path);
  free(h);
}

/* Up to the point where the file is known to be a history this binary may
 * use: nothing has written to an existing file yet. */
static int open_checked(struct history *h, char *err, size_t errlen) {
  if (make_parent_dir(h->path, err, errlen) != 0 || check_writable(h->path, err, errlen) != 0 ||
      create_file(h->path, err, errlen) != 0 || open_db(h, err, errlen) != 0 ||
      check_integrity(h, err, errlen) != 0 || check_level(h, &h->level, err, errlen) != 0)
    return -1;
  warn_mode(h);
  return 0;
}

/* WAL, the migrations, the statements and the roll-ups. */
static int open_ready(struct history *h, char *err, size_t errlen) {
  if (configure(h, err, errlen) != 0 || migrate(h, h->level, err, errlen) != 0 ||
      prepare_all(h, err, errlen) != 0)
    return -1;
  h->rollups = rollup_store_open(h->db, h->path, err, errlen);
  return h->rollups ? 0 : -1;
}

struct history *history_open(const char *path, char *err, size_t errlen) {
  struct history *h = calloc(1, sizeof *h);
  if (!h || !(h->path = strdup(path)) ||
      !(h->ring = malloc(HISTORY_BUFFER_MAX * sizeof *h->ring)) ||
      !(h->records = malloc(HISTORY_RECORDS_MAX * sizeof *h->records))) {
    set_err(err, errlen, "%s: out of memory", path);
    if (h) history_free(h);
    return NULL;
  }
  if (open_checked(h, err, errlen) != 0 || open_ready(h, err, errlen) != 0) {
    history_free(h);
    return NULL;
  }
  sqlite3_busy_timeout(h->db, LOOP_BUSY_TIMEOUT_MS);
  return h;
}

void history_close(struct history *h) {
  if (!h) return;
  /* Open roll-up buckets are not written: the next start rebuilds them
   * from the raw rows (docs/design.md, "History"). */
  sqlite3_busy_timeout(h->db, CLOSE_BUSY_TIMEOUT_MS);
  if ((h->len || h->n_records || h->dirty_srcs || rollup_store_due(h->rollups)) &&
      history_flush(h) != 0)
    LOG_ERROR("history: %s: %zu samples and %zu votes, events and alarms could not be "
              "written and are lost", h->path, h->len, h->n_records);
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

/* The index of the source called name, appending it (dirty) if new; -1
 * when out of memory. */
static long find_or_add_source(struct history *h, const char *name) {
  for (size_t i = 0; i < h->n_srcs; i++)
    if (strcmp(h->srcs[i].name, name) == 0) return (long)i;
  if (h->n_srcs == h->cap_srcs) {
    size_t cap = h->cap_srcs ? 2 * h->cap_srcs : 16;
    struct hsource *n = realloc(h->srcs, cap * sizeof *n);
    if (!n) return -1;
    h->srcs = n;
    h->cap_srcs = cap;
  }
  struct hsource *src = &h->srcs[h->n_srcs];
  memset(src, 0, sizeof *src);
  if (!(src->name = strdup(name))) return -1;
  src->dirty = true;
  return (long)h->n_srcs++;
}

int64_t history_source_ref(struct history *h, const char *name, const char *kind,
                           const char *class_name) {
  if (!h || !name || !kind) return 0;
  long i = find_or_add_source(h, name);
  if (i < 0) {
    LOG_RATELIMITED(LOG_LVL_ERROR, "history: out of memory for source %s", name);
    return 0;
  }
  struct hsource *src = &h->srcs[i];
  const char *cls = class_name ? class_name : "";
  if (strcmp(src->kind, kind) != 0 || strcmp(src->cls, cls) != 0) {
    snprintf(src->kind, sizeof src->kind, "%s", kind);
    snprintf(src->cls, sizeof src->cls, "%s", cls);
    src->dirty = true;
  }
  h->dirty_srcs |= src->dirty;
  return -(int64_t)i - 1;
}

/* The source's row id for a statement of the flush in progress (with
 * pending: the id that flush has just written) or for the roll-ups (the
 * committed one); 0 when unknown. An id (ref > 0) stands for itself. */
static int64_t resolve_ref(const struct history *h, int64_t ref, bool pending) {
  if (ref > 0) return ref;
  if (ref == 0 || (uint64_t)-ref > h->n_srcs) return 0;
  const struct hsource *src = &h->srcs[-ref - 1];
  return pending && src->pending_id ? src->pending_id : src->id;
}

/* Inside the flush's transaction: the rows of the sources that are new or
 * changed, before the samples that name them. */
static int write_sources(struct history *h) {
  if (!h->dirty_srcs) return SQLITE_OK;
  sqlite3_stmt *st = h->upsert_source;
  for (size_t i = 0; i < h->n_srcs; i++) {
    struct hsource *src = &h->srcs[i];
    if (!src->dirty) continue;
    sqlite3_bind_text(st, 1, src->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, src->kind, -1, SQLITE_STATIC);
    if (src->cls[0]) sqlite3_bind_text(st, 3, src->cls, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, realtime_ns());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) src->pending_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
  }
  return SQLITE_OK;
}

/* After the flush: committed, the written ids become the sources' ids;
 * rolled back, they are forgotten (the next flush writes the rows again). */
static void sources_done(struct history *h, bool committed) {
  if (!h->dirty_srcs) return;
  for (size_t i = 0; i < h->n_srcs; i++) {
    struct hsource *src = &h->srcs[i];
    if (committed && src->pending_id) {
      src->id = src->pending_id;
      src->dirty = false;
    }
    src->pending_id = 0;
  }
  h->dirty_srcs = !committed;
}

/* ---- write path ---------------------------------------------------------- */

static void sample_to_row(int64_t source_ref, const struct vt_sample *s,
                          struct row *r) {
  r->source_ref = source_ref;
  r->rolled = false;
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

/* A full buffer while the database cannot be written: the oldest sample
 * goes, counted. Logged at the first loss of a failing condition; the
 * reminders and the end of the condition give the count. */
static void drop_oldest(struct history *h) {
  h->head = (h->head + 1) % HISTORY_BUFFER_MAX;
  h->len--;
  if (!h->failing || h->stats.dropped == h->fail.dropped_before)
    LOG_ERROR("history: %s: buffer full (%d samples) and the database cannot be written: "
              "dropping the oldest samples from now on, counted (history_dropped)",
              h->path, HISTORY_BUFFER_MAX);
  h->stats.dropped++;
}

/* Adds a row to its source's roll-up series once the source's id is
 * committed: at once for a known source, else after the flush that writes
 * its row (rows of one source stay in order either way). */
static void roll_up(struct history *h, struct row *r) {
  int64_t id = resolve_ref(h, r->source_ref, false);
  if (r->rolled || id <= 0) return;
  rollup_store_add_sample(h->rollups, id, r->rx_time_ns, r->offset, r->error_bound);
  r->rolled = true;
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
  struct row *r = ring_at(h, h->len);
  sample_to_row(source_id, s, r);
  h->len++;
  roll_up(h, r);
  return lost;
}

static void bind_row(const struct history *h, sqlite3_stmt *st, const struct row *r) {
  int64_t id = resolve_ref(h, r->source_ref, true);
  if (id > 0) sqlite3_bind_int64(st, 1, id);
  else sqlite3_bind_null(st, 1);
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
    bind_row(h, st, ring_at(h, i));
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

static void bind_vote(sqlite3_stmt *st, const struct history_vote *v, int64_t best_id) {
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
  bind_id_or_null(st, 11, best_id);
  sqlite3_bind_int(st, 12, v->stratum);
  sqlite3_bind_int(st, 13, v->leap);
  bind_text_or_null(st, 14, v->why_not);
}

static void bind_event(sqlite3_stmt *st, const struct history_event *e, int64_t source_id) {
  sqlite3_bind_int64(st, 1, e->time_ns);
  sqlite3_bind_text(st, 2, e->kind, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, e->ended);
  bind_id_or_null(st, 4, source_id);
  bind_text_or_null(st, 5, e->ref_class);
  sqlite3_bind_double(st, 6, e->value);
  sqlite3_bind_double(st, 7, e->threshold);
  sqlite3_bind_text(st, 8, e->text, -1, SQLITE_STATIC);
}

static void bind_alarm(sqlite3_stmt *st, const struct history_alarm *a, int64_t source_id) {
  sqlite3_bind_int64(st, 1, (int64_t)a->id);
  sqlite3_bind_text(st, 2, a->kind, -1, SQLITE_STATIC);
  bind_id_or_null(st, 3, source_id);
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

/* The record's statement, bound, with its source's id resolved. */
static sqlite3_stmt *bind_record(struct history *h, const struct record *r) {
  switch (r->type) {
  case REC_VOTE:
    bind_vote(h->insert_vote, &r->u.vote, resolve_ref(h, r->u.vote.best_source_id, true));
    return h->insert_vote;
  case REC_EVENT:
    bind_event(h->insert_event, &r->u.event, resolve_ref(h, r->u.event.source_id, true));
    return h->insert_event;
  default:
    bind_alarm(h->upsert_alarm, &r->u.alarm, resolve_ref(h, r->u.alarm.source_id, true));
    return h->upsert_alarm;
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
  rollup_store_add_vote(h->rollups, v->time_ns, v->vetted, v->offset, v->error, v->agreeing,
                        v->agreeing_classes);
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

/* ---- roll-ups (monitor/rollup_store.c) ---- */

int history_prune_rollups(struct history *h, int64_t minute_older_than_ns,
                          int64_t hour_older_than_ns) {
  return h ? rollup_store_prune(h->rollups, minute_older_than_ns, hour_older_than_ns) : -1;
}

int history_open_buckets(const struct history *h) {
  return h && h->rollups ? rollup_store_open_count(h->rollups) : -1;
}

int history_stored_bucket(struct history *h, int64_t series, int level, int64_t start_ns,
                          struct rollup_bucket *out) {
  return h ? rollup_store_stored_bucket(h->rollups, series, level, start_ns, out) : -1;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* What the log says of a failing history: why, and what waits. */
static const char *failing_why(int code) {
  switch (code) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return "the database is locked by another connection";
  case SQLITE_FULL: return "the disk is full";
  case SQLITE_READONLY: return "the database has become read-only";
  default: return "the database cannot be written";
  }
}

/* One line when a condition starts (or its cause changes), a reminder
 * every FAILING_REMIND_S while it lasts; failing_ended() the last one. */
static void failing_log(struct history *h, int code, const char *msg) {
  double now = mono_s();
  bool start = !h->failing || code != h->fail.code;
  if (!h->failing)
    h->fail = (struct failing){.since = now, .dropped_before = h->stats.dropped};
  h->fail.attempts++;
  if (start) {
    h->fail.code = code;
    h->fail.reminded = now;
    LOG_ERROR("history: %s: %s (%s); %zu samples and %zu votes, events and alarms wait "
              "in memory (room for %d samples) and are written as soon as it can be",
              h->path, failing_why(code), msg, h->len, h->n_records, HISTORY_BUFFER_MAX);
  } else if (now - h->fail.reminded >= FAILING_REMIND_S) {
    h->fail.reminded = now;
    LOG_ERROR("history: %s: still not written after %.0f s (%s): %zu samples and %zu votes, "
              "events and alarms wait, %llu lost so far", h->path, now - h->fail.since,
              failing_why(code), h->len, h->n_records,
              (unsigned long long)(h->stats.dropped - h->fail.dropped_before));
  }
}

/* The flush that ends a failing condition, with what it wrote late. */
static void failing_ended(struct history *h, size_t rows, size_t records) {
  uint64_t lost = h->stats.dropped - h->fail.dropped_before;
  LOG_WARN("history: %s: writing again after %.1f s (%llu attempts failed: %s): %zu samples "
           "and %zu votes, events and alarms written late, %llu lost", h->path,
           mono_s() - h->fail.since, (unsigned long long)h->fail.attempts,
           failing_why(h->fail.code), rows, records, (unsigned long long)lost);
  h->failing = false;
}

/* The batch stays in the ring; the next flush writes it again in full
 * (the transaction was rolled back, so nothing is written twice). */
static int flush_failed(struct history *h) {
  char msg[256];
  int code = sqlite3_errcode(h->db) & 0xff;
  snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(h->db));
  rollback_if_open(h->db);
  sources_done(h, false);
  h->stats.errors++;
  failing_log(h, code, msg);
  h->failing = true;
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
  bool buckets = rollup_store_due(h->rollups);
  if (h->len == 0 && h->n_records == 0 && !buckets && !h->dirty_srcs && !h->hook.write)
    return 0;
  size_t skipped_rows = 0, skipped_records = 0;
  rollback_if_open(h->db); /* a transaction left over by a failed ROLLBACK */
  if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
      write_sources(h) != SQLITE_OK ||
      insert_rows(h, &skipped_rows) != SQLITE_OK ||
      insert_records(h, &skipped_records) != SQLITE_OK ||
      rollup_store_write(h->rollups) != SQLITE_OK ||
      (h->hook.write && h->hook.write(h->hook.ctx, h->db) != 0) ||
      sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    return flush_failed(h);
  sources_done(h, true);
  rollup_store_committed(h->rollups);
  /* the rows of sources whose first row this flush wrote */
  for (size_t i = 0; i < h->len; i++) roll_up(h, ring_at(h, i));
  if (h->hook.committed) h->hook.committed(h->hook.ctx);
  h->stats.written += h->len - skipped_rows;
  h->stats.dropped += skipped_rows + skipped_records;
  h->stats.flushes++;
  if (h->failing) failing_ended(h, h->len - skipped_rows, h->n_records - skipped_records);
  h->n_records = 0;
  h->len = 0;
  h->head = 0;
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
  int64_t open = rollup_store_keep_from(h->rollups);
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
  out->dropped += rollup_store_dropped(h->rollups);
  out->errors += rollup_store_errors(h->rollups);
  out->buffered = h->len;
  out->records = h->n_records;
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
