/* Unit tests of the history writer/reader (monitor/history.c) on real SQLite
 * files in a temporary directory removed at the end: migrations and
 * reopening, batching and exact round trips, refusal of foreign, corrupt and
 * newer files without touching them, flush failure under a lock held by a
 * second connection, pruning, and the bounded buffer. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "monitor/history.h"
#include "monitor/migrations.h"
#include "monitor/rollup.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/vt_test_history.XXXXXX";
static int db_counter;

/* A fresh file name in the temporary directory. */
static const char *db_path(char *buf, size_t len) {
  snprintf(buf, len, "%s/h%d.db", tmpdir, ++db_counter);
  return buf;
}

static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (unlink(p) != 0) remove_tree(p);
  }
  closedir(d);
  rmdir(dir);
}

static struct vt_sample make_sample(int64_t rx_ns, double offset) {
  struct vt_sample s;
  memset(&s, 0, sizeof s);
  s.rx_time.tv_sec = (time_t)(rx_ns / 1000000000);
  s.rx_time.tv_nsec = (long)(rx_ns % 1000000000);
  s.offset = offset;
  s.delay = 0.000250;
  s.dispersion = 0.0000153;
  s.root_delay = 0.0;
  s.root_dispersion = 0.000061;
  s.error_bound = 0.000201;
  s.stratum = 1;
  s.leap = 0;
  s.refid = 0x47505300; /* "GPS" */
  s.poll = 6;
  return s;
}

/* Reads a whole small file; returns its length, or -1. */
static long read_file(const char *path, unsigned char *buf, size_t max) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t n = fread(buf, 1, max, f);
  fclose(f);
  return (long)n;
}

static int user_version(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int v = -1;
  if (sqlite3_open(path, &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static void test_open_migrate_reopen(void) {
  char path[512], err[512] = "";
  snprintf(path, sizeof path, "%s/sub/history.db", tmpdir); /* dir missing */
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) { fprintf(stderr, "%s\n", err); return; }
  int64_t a = history_source_id(h, "ntp1.example", "ntp", "GPS");
  int64_t b = history_source_id(h, "ntp2.example", "ntp", NULL);
  CHECK(a > 0 && b > 0 && a != b);
  CHECK_INT(history_source_id(h, "ntp1.example", "ntp", "GAL"), a);
  struct vt_sample s = make_sample(1700000000123456789LL, 0.001);
  CHECK_INT(history_add_sample(h, a, &s), 0);
  CHECK_INT(history_flush(h), 0);
  history_close(h);
  CHECK_INT(user_version(path), migrations_count);

  h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  CHECK_INT(user_version(path), migrations_count);
  CHECK_INT(history_source_id(h, "ntp1.example", "ntp", "GAL"), a);
  CHECK_INT(history_source_id(h, "ntp2.example", "ntp", NULL), b);
  CHECK_INT(history_count_samples(h, a), 1);
  CHECK_INT(history_count_samples(h, HISTORY_ALL_SOURCES), 1);
  history_close(h);
}

static void test_flush_round_trip(void) {
  char path[512], err[512] = "";
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t id = history_source_id(h, "gps0", "nmea", "GPS");
  int64_t base = 1767225600000000001LL; /* 2026-01-01T00:00:00.000000001 */
  for (int i = 0; i < 100; i++) {
    struct vt_sample s = make_sample(base + i * 1000000007LL, 1e-6 * i);
    CHECK_INT(history_add_sample(h, id, &s), 0);
  }
  struct vt_sample last = make_sample(base + 100 * 1000000007LL, 157680000.000123);
  last.refid = 0xDEADBEEF;
  last.leap = 3;
  last.stratum = 0;
  last.poll = -4;
  CHECK_INT(history_add_sample(h, id, &last), 0);

  struct history_stats st;
  history_get_stats(h, &st);
  CHECK_INT(st.buffered, 101);
  CHECK_INT(history_count_samples(h, id), 0); /* nothing before the flush */
  CHECK_INT(history_flush(h), 0);
  history_get_stats(h, &st);
  CHECK_INT(st.buffered, 0);
  CHECK_INT(st.written, 101);
  CHECK_INT(st.flushes, 1);
  CHECK_INT(history_count_samples(h, id), 101);

  struct vt_sample out;
  CHECK_INT(history_last_sample(h, "gps0", &out), 0);
  CHECK(out.offset == 157680000.000123); /* bit-exact, not near */
  CHECK(out.error_bound == last.error_bound);
  CHECK(out.root_dispersion == last.root_dispersion);
  CHECK_INT(out.rx_time.tv_sec, last.rx_time.tv_sec);
  CHECK_INT(out.rx_time.tv_nsec, last.rx_time.tv_nsec);
  CHECK_INT(out.refid, 0xDEADBEEFu);
  CHECK_INT(out.leap, 3);
  CHECK_INT(out.stratum, 0);
  CHECK_INT(out.poll, -4);
  CHECK_INT(out.source, -1);
  CHECK_INT(history_last_sample(h, "no-such-source", &out), 1);
  CHECK_INT(history_flush(h), 0); /* empty: a no-op */
  history_close(h);
}

/* Opens path, expects a refusal whose message contains want and the path,
 * and checks the file's bytes did not change. */
static void expect_refused_untouched(const char *path, const char *want) {
  static unsigned char before[1 << 16], after[1 << 16];
  long n1 = read_file(path, before, sizeof before);
  char err[1024] = "";
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h == NULL);
  history_close(h);
  CHECK(strstr(err, path) != NULL);
  CHECK(strstr(err, want) != NULL);
  if (!strstr(err, want)) fprintf(stderr, "message: %s\n", err);
  long n2 = read_file(path, after, sizeof after);
  CHECK(n1 > 0);
  CHECK_INT(n2, n1);
  CHECK(n1 == n2 && memcmp(before, after, (size_t)n1) == 0);
}

static void test_garbage_refused(void) {
  char path[512];
  static unsigned char junk[8192];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)random();
  FILE *f = fopen(db_path(path, sizeof path), "wb");
  CHECK(f != NULL);
  if (!f) return;
  fwrite(junk, 1, sizeof junk, f);
  fclose(f);
  expect_refused_untouched(path, "refusing");

  f = fopen(db_path(path, sizeof path), "wb"); /* shorter than a header */
  if (!f) return;
  fputs("hello, not a database\n", f);
  fclose(f);
  expect_refused_untouched(path, "refusing");
}

/* A real history database with one damaged b-tree page. */
static void test_corrupt_refused(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t id = history_source_id(h, "s", "ntp", NULL);
  for (int i = 0; i < 2000; i++) {
    struct vt_sample s = make_sample(1700000000000000000LL + i, 0.5);
    history_add_sample(h, id, &s);
  }
  history_flush(h);
  history_close(h); /* checkpoints the WAL into the file */
  FILE *f = fopen(path, "r+b");
  CHECK(f != NULL);
  if (!f) return;
  static unsigned char bad[4096];
  memset(bad, 0xA5, sizeof bad);
  fseek(f, 4096 * 3, SEEK_SET); /* page 4: a b-tree page of the data */
  fwrite(bad, 1, sizeof bad, f);
  fclose(f);
  expect_refused_untouched(path, "corrupt");
}

static void test_newer_refused(void) {
  char path[512], want[256];
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(db_path(path, sizeof path), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version=99", NULL,
                     NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  snprintf(want, sizeof want,
           "schema level 99 is newer than this vettimed (knows %d)",
           migrations_count);
  expect_refused_untouched(path, want);
  CHECK_INT(user_version(path), 99);
}

/* Somebody else's SQLite file (level 0, a samples table of its own) is
 * refused before anything writes to it: still in rollback-journal mode
 * (header bytes 18-19 are 1, not 2 as WAL would make them), its table
 * unchanged. */
static void test_foreign_refused_untouched(void) {
  char path[512];
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(db_path(path, sizeof path), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "CREATE TABLE samples(who TEXT); INSERT INTO samples VALUES('mine')",
                     NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  expect_refused_untouched(path, "not a vettime history: it has 1 tables of its own");
  unsigned char hdr[32];
  CHECK(read_file(path, hdr, sizeof hdr) == 32);
  CHECK_INT(hdr[18], 1);
  CHECK_INT(hdr[19], 1);
  CHECK_INT(user_version(path), 0);
}

/* A directory of its own in the temporary one, with exactly mode. */
static const char *sub_dir(char *buf, size_t len, mode_t mode) {
  snprintf(buf, len, "%s/d%d", tmpdir, ++db_counter);
  if (mkdir(buf, 0700) != 0 || chmod(buf, mode) != 0) perror(buf);
  return buf;
}

/* history_open(path) as an unprivileged user: when the test runs as root
 * (whose writes ignore permission bits), in a child that becomes nobody.
 * Returns 1 when it opened, 0 when refused with the reason in err, -1
 * when the child could not run. */
static int open_unprivileged(const char *path, char *err, size_t errlen) {
  err[0] = '\0';
  if (geteuid() != 0) {
    struct history *h = history_open(path, err, errlen);
    history_close(h);
    return h != NULL;
  }
  int fds[2];
  if (pipe(fds) != 0) return -1;
  chmod(tmpdir, 0711);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    char e[1024] = "";
    struct history *h = history_open(path, e, sizeof e);
    if (write(fds[1], e, strlen(e)) < 0) _exit(3);
    _exit(h ? 1 : 0);
  }
  close(fds[1]);
  ssize_t n = pid > 0 ? read(fds[0], err, errlen - 1) : -1;
  err[n > 0 ? n : 0] = '\0';
  close(fds[0]);
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  chmod(tmpdir, 0700);
  return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? WEXITSTATUS(status) : -1;
}

/* A healthy history made by the test, with one sample, left closed. */
static void make_history(const char *path) {
  char err[512];
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t id = history_source_id(h, "s", "ntp", NULL);
  struct vt_sample s = make_sample(1700000000000000000LL, 0.1);
  history_add_sample(h, id, &s);
  CHECK_INT(history_flush(h), 0);
  history_close(h);
}

/* A history file that cannot be written is refused at open with the
 * reason, not accepted to fail at every write. */
static void test_read_only_refused(void) {
  char dir[512], path[600], err[1024];
  snprintf(path, sizeof path, "%s/h.db", sub_dir(dir, sizeof dir, 0777));
  make_history(path);
  CHECK(chmod(path, 0444) == 0);
  CHECK_INT(open_unprivileged(path, err, sizeof err), 0);
  CHECK(strstr(err, "cannot be written (Permission denied)") != NULL);
  CHECK(strstr(err, "restore a backup") == NULL);
  chmod(path, 0644);
}

/* Issue 13: a healthy history in a directory that cannot be written (a
 * read-only mount or directory) was refused as "not a usable SQLite
 * database ... restore a backup". The real reason now: SQLite must create
 * the -wal and -shm files there. Also for a history not created yet. */
static void test_unwritable_directory_refused(void) {
  char dir[512], path[600], err[1024];
  snprintf(path, sizeof path, "%s/h.db", sub_dir(dir, sizeof dir, 0777));
  make_history(path);
  CHECK(chmod(path, 0666) == 0); /* the file itself is writable */
  CHECK(chmod(dir, 0555) == 0);
  CHECK_INT(open_unprivileged(path, err, sizeof err), 0);
  CHECK(strstr(err, "is not writable (Permission denied): SQLite creates the database's -wal "
                    "and -shm files there") != NULL);
  CHECK(strstr(err, "restore a backup") == NULL);
  snprintf(path, sizeof path, "%s/new.db", dir);
  CHECK_INT(open_unprivileged(path, err, sizeof err), 0);
  CHECK(strstr(err, "is not writable") != NULL);
  CHECK(access(path, F_OK) != 0); /* nothing created */
  chmod(dir, 0755);
  /* writable again: the same history opens, its sample still there */
  snprintf(path, sizeof path, "%s/h.db", dir);
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  CHECK_INT(history_count_samples(h, HISTORY_ALL_SOURCES), 1);
  history_close(h);
}

/* A history another process holds locked before it is even read (a new
 * file in rollback mode under BEGIN EXCLUSIVE) is refused at open saying
 * so, not called unusable. */
static void test_locked_at_open(void) {
  char path[512], err[1024];
  sqlite3 *other = NULL;
  CHECK(sqlite3_open(db_path(path, sizeof path), &other) == SQLITE_OK);
  CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE; CREATE TABLE t(x)", NULL, NULL, NULL) ==
        SQLITE_OK);
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h == NULL);
  history_close(h);
  CHECK(strstr(err, "locked by another process") != NULL);
  CHECK(strstr(err, "restore a backup") == NULL);
  sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(other);
}

/* Issue 13: under umask 022 the history and its -wal and -shm files were
 * 0644; vettimed creates them 0640 whatever the umask. */
static void test_file_mode(void) {
  char path[512], err[512], side[600];
  mode_t old = umask(022);
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  int64_t id = history_source_id(h, "s", "ntp", NULL);
  struct vt_sample s = make_sample(1700000000000000000LL, 0.1);
  history_add_sample(h, id, &s);
  CHECK_INT(history_flush(h), 0);
  const char *suffix[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    struct stat st;
    snprintf(side, sizeof side, "%s%s", path, suffix[i]);
    CHECK(stat(side, &st) == 0);
    if ((st.st_mode & 0777) != 0640) fprintf(stderr, "%s: %o\n", side, st.st_mode & 0777);
    CHECK_INT(st.st_mode & 0777, 0640);
  }
  history_close(h);
  umask(old);
}

/* A second connection holds the write lock: the flush must fail, keep the
 * batch, and write it exactly once when the lock is gone. */
static void test_flush_failure_keeps_samples(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t id = history_source_id(h, "locked", "ntp", NULL);
  for (int i = 0; i < 500; i++) {
    struct vt_sample s = make_sample(1700000000000000000LL + i * 1000LL, i);
    history_add_sample(h, id, &s);
  }
  sqlite3 *other = NULL;
  CHECK(sqlite3_open(path, &other) == SQLITE_OK);
  CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);

  CHECK_INT(history_flush(h), -1);
  struct history_stats st;
  history_get_stats(h, &st);
  CHECK_INT(st.errors, 1);
  CHECK_INT(st.buffered, 500);
  CHECK_INT(st.written, 0);

  CHECK(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(other);
  CHECK_INT(history_flush(h), 0);
  history_get_stats(h, &st);
  CHECK_INT(st.errors, 1);
  CHECK_INT(st.buffered, 0);
  CHECK_INT(st.written, 500);
  CHECK_INT(history_count_samples(h, id), 500);

  /* none duplicated: 500 distinct receive times */
  sqlite3_stmt *q = NULL;
  CHECK(sqlite3_open(path, &other) == SQLITE_OK);
  CHECK(sqlite3_prepare_v2(other, "SELECT count(DISTINCT rx_time_ns) FROM samples",
                           -1, &q, NULL) == SQLITE_OK);
  CHECK(sqlite3_step(q) == SQLITE_ROW);
  CHECK_INT(sqlite3_column_int(q, 0), 500);
  sqlite3_finalize(q);
  sqlite3_close(other);
  history_close(h);
}

static void test_prune(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t a = history_source_id(h, "a", "ntp", NULL);
  int64_t b = history_source_id(h, "b", "ntp", NULL);
  int64_t t0 = 1700000000000000000LL;
  /* 12000 samples (more than two prune batches), one per ms, two sources */
  for (int i = 0; i < 12000; i++) {
    struct vt_sample s = make_sample(t0 + i * 1000000LL, 0.0);
    history_add_sample(h, i % 2 ? b : a, &s);
  }
  /* A vote three hours later closes the samples' roll-up buckets: the raw
   * rows of an open bucket are never pruned (a restart rebuilds it). */
  struct history_vote later = {.time_ns = t0 + 3 * 3600000000000LL, .vetted = true};
  history_add_vote(h, &later);
  CHECK_INT(history_flush(h), 0);
  int64_t cutoff = t0 + 11000 * 1000000LL;
  CHECK_INT(history_prune(h, cutoff), 11000);
  CHECK_INT(history_count_samples(h, HISTORY_ALL_SOURCES), 1000);
  CHECK_INT(history_count_samples(h, a), 500);
  struct vt_sample out;
  CHECK_INT(history_last_sample(h, "b", &out), 0);
  CHECK_INT((int64_t)out.rx_time.tv_sec * 1000000000 + out.rx_time.tv_nsec,
            t0 + 11999 * 1000000LL);
  CHECK_INT(history_prune(h, cutoff), 0); /* idempotent */
  CHECK_INT(history_prune(h, t0), 0);     /* nothing older */
  history_close(h);
}

/* With the database locked, a full buffer drops its oldest sample, counts
 * it, and keeps the newest ones. */
static void test_bounded_buffer(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t id = history_source_id(h, "full", "ntp", NULL);
  sqlite3 *other = NULL;
  CHECK(sqlite3_open(path, &other) == SQLITE_OK);
  CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
  int64_t t0 = 1700000000000000000LL;
  int total = HISTORY_BUFFER_MAX + 3, lost = 0;
  for (int i = 0; i < total; i++) {
    struct vt_sample s = make_sample(t0 + i, (double)i);
    lost += history_add_sample(h, id, &s);
  }
  struct history_stats st;
  history_get_stats(h, &st);
  CHECK_INT(lost, 3);
  CHECK_INT(st.dropped, 3);
  CHECK_INT(st.buffered, HISTORY_BUFFER_MAX);
  CHECK_INT(st.errors, 1); /* one attempt, not one per sample */

  sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(history_count_samples(h, id), HISTORY_BUFFER_MAX);
  /* the oldest three are gone: the earliest kept is sample 3 */
  sqlite3_stmt *q = NULL;
  CHECK(sqlite3_prepare_v2(other, "SELECT min(rx_time_ns), max(rx_time_ns) FROM samples",
                           -1, &q, NULL) == SQLITE_OK);
  CHECK(sqlite3_step(q) == SQLITE_ROW);
  CHECK_INT(sqlite3_column_int64(q, 0), t0 + 3);
  CHECK_INT(sqlite3_column_int64(q, 1), t0 + total - 1);
  sqlite3_finalize(q);
  sqlite3_close(other);

  /* a sample that is not a measurement is refused and counted */
  struct vt_sample nan_s = make_sample(t0, NAN);
  CHECK_INT(history_add_sample(h, id, &nan_s), -1);
  history_get_stats(h, &st);
  CHECK_INT(st.dropped, 4);
  CHECK_INT(st.buffered, 0);
  history_close(h);
}

/* A row the database refuses (unknown source id) is dropped alone. */
static void test_bad_row_does_not_block(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t id = history_source_id(h, "good", "ntp", NULL);
  struct vt_sample s = make_sample(1700000000000000000LL, 0.1);
  history_add_sample(h, id, &s);
  history_add_sample(h, 4242, &s);
  history_add_sample(h, id, &s);
  CHECK_INT(history_flush(h), 0);
  struct history_stats st;
  history_get_stats(h, &st);
  CHECK_INT(st.written, 2);
  CHECK_INT(st.dropped, 1);
  CHECK_INT(history_count_samples(h, HISTORY_ALL_SOURCES), 2);
  history_close(h);
}

/* One integer from SQL on a connection of the test's own, or -1. */
static int64_t sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_open(path, &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Issue 13: sources named by history_source_ref() while another connection
 * holds the write lock (as at a start under a backup, and a class change
 * while running). No SQL waits for the lock (each flush fails at once), no
 * sample, vote or event is lost, and once the lock is gone one flush writes
 * the sources' rows, then everything that names them, with their ids, and
 * the new sources' samples reach their roll-ups. */
static void test_source_ref_under_lock(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  sqlite3 *other = NULL;
  CHECK(sqlite3_open(path, &other) == SQLITE_OK);
  CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
  int64_t a = history_source_ref(h, "new-a", "ntp", "GAL");
  int64_t b = history_source_ref(h, "new-b", "ntp", NULL);
  CHECK(a < 0 && b < 0 && a != b);
  CHECK_INT(history_source_ref(h, "new-a", "ntp", "GAL"), a);
  int64_t t0 = 1700000000000000000LL;
  double slowest = 0;
  for (int i = 0; i < 30; i++) {
    struct vt_sample s = make_sample(t0 + i * 1000000000LL, 0.001 * i);
    CHECK_INT(history_add_sample(h, a, &s), 0);
    CHECK_INT(history_add_sample(h, b, &s), 0);
    if (i == 15) CHECK_INT(history_source_ref(h, "new-a", "ntp", "GPS"), a); /* refid changed */
    struct history_vote v = {.time_ns = t0 + i * 1000000000LL, .vetted = true,
                             .best_source_id = a};
    history_add_vote(h, &v);
    double t = mono_now();
    CHECK_INT(history_flush(h), -1);
    if (mono_now() - t > slowest) slowest = mono_now() - t;
  }
  struct history_event e = {.time_ns = t0, .kind = "step", .source_id = b, .text = "x"};
  history_add_event(h, &e);
  CHECK(slowest < 0.05); /* no busy wait on the loop */
  struct history_stats st;
  history_get_stats(h, &st);
  CHECK_INT(st.errors, 30);
  CHECK_INT(st.buffered, 60);
  CHECK_INT(st.records, 31);
  CHECK_INT(st.dropped, 0);
  CHECK_INT(st.written, 0);
  CHECK_INT(history_open_buckets(h), 2); /* the vetted series (minute, hour) only */

  CHECK(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(other);
  CHECK_INT(history_flush(h), 0);
  history_get_stats(h, &st);
  CHECK_INT(st.written, 60);
  CHECK_INT(st.buffered, 0);
  CHECK_INT(st.records, 0);
  CHECK_INT(st.dropped, 0);
  CHECK_INT(history_open_buckets(h), 6); /* and both sources, rolled up after the commit */
  CHECK_INT(sql_int(path, "SELECT count(*) FROM samples s JOIN sources o ON o.id = s.source_id"
                          " WHERE o.name = 'new-a'"), 30);
  CHECK_INT(sql_int(path, "SELECT count(*) FROM samples s JOIN sources o ON o.id = s.source_id"
                          " WHERE o.name = 'new-b'"), 30);
  CHECK_INT(sql_int(path, "SELECT count(*) FROM sources WHERE name = 'new-a' AND class = 'GPS'"), 1);
  CHECK_INT(sql_int(path, "SELECT count(*) FROM votes v JOIN sources o ON o.id = v.best_source_id"
                          " WHERE o.name = 'new-a'"), 30);
  CHECK_INT(sql_int(path, "SELECT count(*) FROM events e JOIN sources o ON o.id = e.source_id"
                          " WHERE o.name = 'new-b'"), 1);
  /* a class change once known: one more upsert, the same row */
  CHECK_INT(history_source_ref(h, "new-b", "ntp", "DCF"), b);
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(sql_int(path, "SELECT count(*) FROM sources"), 2);
  CHECK_INT(sql_int(path, "SELECT class = 'DCF' FROM sources WHERE name = 'new-b'"), 1);
  /* a reference the history never gave out is refused and counted */
  struct vt_sample s = make_sample(t0 + 99 * 1000000000LL, 0);
  history_add_sample(h, -1000, &s);
  CHECK_INT(history_flush(h), 0);
  history_get_stats(h, &st);
  CHECK_INT(st.dropped, 1);
  history_close(h);
}

/* Votes, events and alarms go in with the samples' transaction; an alarm
 * row is inserted when raised and updated in place when cleared; votes are
 * pruned with the samples, events and alarms kept. */
static void test_votes_events_alarms(void) {
  char path[256], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t src = history_source_id(h, "gps1", "ntp", "GPS");
  struct history_vote v = {.time_ns = 1000, .vetted = true, .offset = 1e-4, .error = 2e-4,
                           .low = -1e-4, .high = 3e-4, .candidates = 3, .agreeing = 2,
                           .classes = 3, .agreeing_classes = 2, .best_source_id = src,
                           .stratum = 2, .leap = 0};
  struct history_event e = {.time_ns = 2000, .kind = "falseticker", .source_id = src,
                            .ref_class = "GPS", .value = 1.5, .threshold = 0.001,
                            .text = "offset +1.5 s outside"};
  struct history_alarm a = {.id = 7, .kind = "falseticker", .source_id = src,
                            .ref_class = "GPS", .severity = "critical", .raised_ns = 2000,
                            .value = 1.5, .threshold = 0.001, .text = "offset +1.5 s outside"};
  CHECK_INT(history_add_vote(h, &v), 0);
  CHECK_INT(history_add_event(h, &e), 0);
  CHECK_INT(history_add_alarm(h, &a), 0);
  CHECK_INT(history_count_rows(h, "votes"), 0); /* nothing before the flush */
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(history_count_rows(h, "votes"), 1);
  CHECK_INT(history_count_rows(h, "events"), 1);
  CHECK_INT(history_count_rows(h, "alarms"), 1);
  CHECK_INT(history_max_alarm_id(h), 7);
  a.cleared_ns = 9000;
  a.repeats = 3;
  history_add_alarm(h, &a);
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(history_count_rows(h, "alarms"), 1); /* updated, not duplicated */
  CHECK_INT(history_count_rows(h, "nosuchtable"), -1);
  /* A vote two hours on closes the first vote's roll-up buckets, so its
   * raw row may go. */
  struct history_vote later = v;
  later.time_ns = 7200000000000LL;
  history_add_vote(h, &later);
  CHECK_INT(history_flush(h), 0);
  CHECK(history_prune(h, 5000) >= 0);
  CHECK_INT(history_count_rows(h, "votes"), 1);
  CHECK_INT(history_count_rows(h, "events"), 1);
  history_close(h);
  sqlite3 *db;
  CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(db, "SELECT cleared_ns, repeats, severity FROM alarms WHERE id = 7", -1, &st, NULL);
  CHECK_INT(sqlite3_step(st), SQLITE_ROW);
  CHECK_INT(sqlite3_column_int64(st, 0), 9000);
  CHECK_INT(sqlite3_column_int(st, 1), 3);
  CHECK_STR((const char *)sqlite3_column_text(st, 2), "critical");
  sqlite3_finalize(st);
  sqlite3_close(db);
}


/* ---- roll-ups (schema/004) ---- */

#define SEC 1000000000LL
#define H0 (1764460800LL * SEC) /* a whole hour */

struct bucket_row {
  bool found;
  long long n;
  double lo, mean, hi, bmax;
};

/* The stored bucket of source_id (0: the vetted series) at level "minute"
 * or "hour" (the minutes are packed per hour: history_stored_bucket()). */
static struct bucket_row bucket_of(struct history *h, int64_t source_id, const char *level,
                                   int64_t start) {
  struct bucket_row r = {0};
  struct rollup_bucket b;
  if (history_stored_bucket(h, source_id, strcmp(level, "hour") == 0 ? ROLLUP_HOUR : ROLLUP_MINUTE,
                            start, &b) == 1) {
    r.found = true;
    r.n = b.n;
    r.lo = b.vmin;
    r.mean = b.vmean;
    r.hi = b.vmax;
    r.bmax = b.bmax;
  }
  return r;
}

static long long count_of(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  long long n = -1;
  if (sqlite3_open(path, &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* Samples i = 0..n-1 at H0 + first + i*every seconds, offset i us. */
static void add_run(struct history *h, int64_t src, int first, int every, int from, int n) {
  for (int i = from; i < from + n; i++) {
    struct vt_sample s = make_sample(H0 + (first + (int64_t)i * every) * SEC, (double)i * 1e-6);
    s.error_bound = 1e-4 + (double)i * 1e-6;
    history_add_sample(h, src, &s);
  }
}

/* A bucket is written by the flush of the sample that closes it, not
 * before, a minute bucket with its hour; the figures are those of its
 * samples. */
static void test_rollup_written_on_close(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t a = history_source_id(h, "a", "ntp", "GPS");
  add_run(h, a, 2, 16, 0, 4); /* 2, 18, 34, 50 s: minute 0 */
  CHECK_INT(history_flush(h), 0);
  CHECK(!bucket_of(h, a, "minute", H0).found);
  CHECK_INT(history_open_buckets(h), 2);
  add_run(h, a, 2, 16, 4, 1); /* 66 s: closes minute 0, held with its hour */
  CHECK_INT(history_flush(h), 0);
  CHECK(!bucket_of(h, a, "minute", H0).found);
  add_run(h, a, 3602, 1, 0, 1); /* the next hour: hour 0 and its minutes */
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(bucket_of(h, a, "hour", H0).n, 5);
  struct bucket_row r = bucket_of(h, a, "minute", H0);
  CHECK(r.found);
  CHECK_INT(r.n, 4);
  CHECK(r.lo == 0.0);
  CHECK(r.hi == 3e-6);
  CHECK_NEAR(r.mean, 1.5e-6, 1e-18);
  CHECK_NEAR(r.bmax, 1.03e-4, 1e-15);
  CHECK_INT(bucket_of(h, a, "minute", H0 + 60 * SEC).n, 1);
  CHECK(!bucket_of(h, a, "minute", H0 + 3600 * SEC).found); /* open */
  history_close(h);
}

/* Restart mid-bucket, clean (close and reopen) and as after a crash (the
 * first handle abandoned with its open buckets, as a killed daemon's):
 * the bucket holds every sample once. */
static void restart_mid_bucket(bool crash) {
  char path[512], err[512];
  db_path(path, sizeof path);
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t a = history_source_id(h, "a", "ntp", "GPS");
  int64_t b = history_source_id(h, "b", "ntp", "GAL");
  add_run(h, a, 1, 8, 0, 4);  /* 1, 9, 17, 25 s */
  add_run(h, b, 3, 30, 0, 1); /* 3 s */
  struct history_vote v = {.time_ns = H0 + 20 * SEC, .vetted = true, .offset = 1e-6,
                           .error = 2e-5, .agreeing = 2, .agreeing_classes = 2};
  history_add_vote(h, &v);
  CHECK_INT(history_flush(h), 0);
  struct history *dead = NULL;
  if (crash) dead = h; /* never closed before the restart */
  else history_close(h);
  h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) {
    history_close(dead);
    return;
  }
  CHECK_INT(history_open_buckets(h), 6); /* a, b, vetted: minute and hour */
  add_run(h, a, 1, 8, 4, 4);               /* 33, 41, 49, 57 s */
  v.time_ns = H0 + 40 * SEC;
  v.offset = 3e-6;
  history_add_vote(h, &v);
  CHECK_INT(history_flush(h), 0);
  add_run(h, a, 1, 8, 8, 1);               /* 65 s: closes minute 0 of a */
  add_run(h, b, 3, 30, 2, 1);              /* 63 s: closes minute 0 of b */
  v.time_ns = H0 + 7300 * SEC;             /* two hours on: everything closes */
  history_add_vote(h, &v);
  CHECK_INT(history_flush(h), 0);
  struct bucket_row r = bucket_of(h, a, "minute", H0);
  CHECK_INT(r.n, 8);
  CHECK(r.lo == 0.0);
  CHECK(r.hi == 7e-6);
  CHECK_NEAR(r.mean, 3.5e-6, 1e-18);
  CHECK_INT(bucket_of(h, b, "minute", H0).n, 1);
  CHECK_INT(bucket_of(h, a, "hour", H0).n, 9);
  CHECK_INT(bucket_of(h, b, "hour", H0).n, 2);
  struct bucket_row vm = bucket_of(h, 0, "minute", H0);
  CHECK_INT(vm.n, 2);
  CHECK_NEAR(vm.mean, 2e-6, 1e-18);
  /* no bucket twice, none invented */
  /* minutes 0 and 1 of a and b, packed in one row per source and hour */
  CHECK_INT(count_of(path, "SELECT count(*) FROM source_minute"), 2);
  CHECK_INT(count_of(path, "SELECT sum(length(minutes)) / 60 FROM source_minute"), 4);
  CHECK_INT(bucket_of(h, a, "minute", H0 + 60 * SEC).n + bucket_of(h, b, "minute", H0 + 60 * SEC).n, 2);
  CHECK_INT(count_of(path, "SELECT sum(n) FROM source_hour"), 11);
  CHECK_INT(count_of(path, "SELECT sum(rounds) FROM vetted_hour"), 2);
  history_close(h);
  history_close(dead);
}

static void test_rollup_restart_clean(void) { restart_mid_bucket(false); }

/* Two restarts in one hour: the minute bucket that the first rebuild
 * closes is held with its hour, not written alone (the second rebuild
 * would then take the hour's minutes for stored and lose the rest). */
static void test_rollup_restart_twice(void) {
  char path[512], err[512];
  db_path(path, sizeof path);
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t a = history_source_id(h, "a", "ntp", NULL);
  add_run(h, a, 10, 20, 0, 4); /* 10, 30, 50 s; 70 s */
  CHECK_INT(history_flush(h), 0);
  history_close(h);
  for (int run = 0; run < 2; run++) {
    h = history_open(path, err, sizeof err);
    CHECK(h != NULL);
    if (!h) return;
    add_run(h, a, 10, 20, 4 + run, 1); /* 90 s, then 110 s */
    CHECK_INT(history_flush(h), 0);
    CHECK_INT(count_of(path, "SELECT count(*) FROM source_minute"), 0);
    history_close(h);
  }
  h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  add_run(h, a, 3700, 1, 0, 1); /* the next hour */
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(bucket_of(h, a, "minute", H0).n, 3);
  CHECK_INT(bucket_of(h, a, "minute", H0 + 60 * SEC).n, 3);
  CHECK_INT(bucket_of(h, a, "hour", H0).n, 6);
  history_close(h);
}
static void test_rollup_restart_crash(void) { restart_mid_bucket(true); }

/* A history from before the roll-ups (schema/003, upgraded: the tables
 * empty, the raw rows there) is rolled up once at open, through the same
 * path: the closed hours and their minutes stored, the last hour open. */
static void test_rollup_backfill(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t a = history_source_id(h, "a", "ntp", NULL);
  int64_t b = history_source_id(h, "b", "ntp", NULL);
  for (int i = 0; i < 3 * 3600 / 16; i++) { /* three hours at 16 s, interleaved */
    add_run(h, a, 16 * i + 1, 1, i % 7, 1);
    add_run(h, b, 16 * i + 9, 1, i % 5, 1);
  }
  struct history_vote v = {.time_ns = H0 + 100 * SEC, .vetted = true, .offset = 1e-6,
                           .error = 2e-5, .agreeing = 2, .agreeing_classes = 1};
  history_add_vote(h, &v);
  CHECK_INT(history_flush(h), 0);
  history_close(h);
  sqlite3 *db;
  CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT(sqlite3_exec(db, "DELETE FROM source_minute; DELETE FROM source_hour;"
                         " DELETE FROM vetted_minute; DELETE FROM vetted_hour;", NULL, NULL, NULL),
            SQLITE_OK);
  sqlite3_close(db);
  h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  CHECK_INT(bucket_of(h, a, "hour", H0).n, 225);
  CHECK_INT(bucket_of(h, b, "hour", H0 + 3600 * SEC).n, 225);
  CHECK(!bucket_of(h, a, "hour", H0 + 7200 * SEC).found); /* the last hour stays open */
  CHECK_INT(bucket_of(h, a, "minute", H0 + 60 * SEC).n, 4); /* 69, 86, 103, 113 s */
  struct bucket_row m = bucket_of(h, b, "minute", H0 + 3600 * SEC);
  CHECK_INT(m.n, 3); /* 3609, 3626, 3643 s (3660 is the next minute) */
  CHECK_INT(count_of(path, "SELECT sum(length(minutes)) / 60 FROM source_minute"), 2 * 120);
  CHECK_INT(bucket_of(h, 0, "hour", H0).n, 1); /* the vote: its hour closed by idleness */
  /* and the open hour is complete once it closes */
  add_run(h, a, 4 * 3600, 1, 0, 1);
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(bucket_of(h, a, "hour", H0 + 7200 * SEC).n, 225);
  history_close(h);
}

/* A sample older than the open bucket (the clock stepped back) is merged
 * into the stored bucket: one row, every sample counted. */
static void test_rollup_late_sample_merged(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t a = history_source_id(h, "a", "ntp", NULL);
  add_run(h, a, 10, 20, 0, 3); /* 10, 30, 50 s */
  add_run(h, a, 10, 20, 3, 1); /* 70 s: closes minute 0 */
  CHECK_INT(history_flush(h), 0);
  struct vt_sample late = make_sample(H0 + 55 * SEC, 9e-6);
  late.error_bound = 5e-4;
  history_add_sample(h, a, &late); /* a piece of minute 0, whose hour is open */
  add_run(h, a, 3610, 1, 0, 1);    /* the next hour writes hour 0 */
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(bucket_of(h, a, "hour", H0).n, 5);
  late.offset = 8e-6;
  history_add_sample(h, a, &late); /* a piece of a minute already written */
  CHECK_INT(history_flush(h), 0);
  struct bucket_row r = bucket_of(h, a, "minute", H0);
  CHECK_INT(r.n, 5);
  CHECK(r.hi == 9e-6);
  CHECK_NEAR(r.mean, (0 + 1e-6 + 2e-6 + 9e-6 + 8e-6) / 5, 1e-18);
  CHECK(r.bmax == 5e-4);
  CHECK_INT(count_of(path, "SELECT count(*) FROM source_minute WHERE hour_ns = 1764460800000000000"), 1);
  CHECK_INT(count_of(path, "SELECT length(minutes) / 60 FROM source_minute WHERE hour_ns = 1764460800000000000"), 2);
  CHECK_INT(bucket_of(h, a, "hour", H0).n, 6); /* the hour took both late pieces */
  history_close(h);
}

/* Roll-ups are pruned by their own retention, minutes and hours apart;
 * raw rows of a bucket still open are kept whatever the cut-off. */
static void test_rollup_prune(void) {
  char path[512], err[512];
  struct history *h = history_open(db_path(path, sizeof path), err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  int64_t a = history_source_id(h, "a", "ntp", NULL);
  for (int hour = 0; hour < 4; hour++) add_run(h, a, hour * 3600 + 5, 30, 0, 2);
  CHECK_INT(history_flush(h), 0);
  /* minutes of hours 0..2 closed (a row per hour), and hours 0..2; hour 3 open */
  CHECK_INT(count_of(path, "SELECT count(*) FROM source_minute"), 3);
  CHECK_INT(count_of(path, "SELECT count(*) FROM source_hour"), 3);
  /* minutes before 02:00 go with their whole hour only: hour 0's row */
  CHECK_INT(history_prune_rollups(h, H0 + 7200 * SEC, H0 + 3600 * SEC), 2);
  CHECK_INT(count_of(path, "SELECT min(hour_ns) FROM source_minute"), H0 + 3600 * SEC);
  CHECK_INT(count_of(path, "SELECT min(start_ns) FROM source_hour"), H0 + 3600 * SEC);
  /* raw: a cut-off past everything keeps the open bucket's two samples */
  CHECK_INT(history_prune(h, H0 + 5 * 3600 * SEC), 6);
  CHECK_INT(history_count_samples(h, a), 2);
  history_close(h);
}

int main(void) {
  unit_init();
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_open_migrate_reopen);
  RUN(test_flush_round_trip);
  RUN(test_garbage_refused);
  RUN(test_corrupt_refused);
  RUN(test_newer_refused);
  RUN(test_foreign_refused_untouched);
  RUN(test_read_only_refused);
  RUN(test_unwritable_directory_refused);
  RUN(test_locked_at_open);
  RUN(test_file_mode);
  RUN(test_flush_failure_keeps_samples);
  RUN(test_prune);
  RUN(test_bounded_buffer);
  RUN(test_bad_row_does_not_block);
  RUN(test_source_ref_under_lock);
  RUN(test_votes_events_alarms);
  RUN(test_rollup_written_on_close);
  RUN(test_rollup_restart_clean);
  RUN(test_rollup_restart_crash);
  RUN(test_rollup_restart_twice);
  RUN(test_rollup_backfill);
  RUN(test_rollup_late_sample_merged);
  RUN(test_rollup_prune);
  remove_tree(tmpdir);
  return unit_done();
}
