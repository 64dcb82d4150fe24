/* Unit tests of the history's read side (monitor/history_read.c, issue
 * 11) on a history written through the real writer: a series read from
 * raw rows, minute and hour roll-ups gives the same counts and extremes;
 * the newest, still open bucket is read from the raw rows; the vetted
 * series; unknown sources; events and alarms over a range with
 * truncation; a database without roll-ups is refused. */
#include "monitor/history_read.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "monitor/history.h"
#include "tests/unit/unit.h"

#define SEC 1000000000LL
#define H0 (1764460800LL * SEC) /* 2025-11-30T00:00:00Z */
/* Three hours of two sources at 16 s, and a vote each 4 s. */
#define SPAN_S (3 * 3600)

static char path[] = "/tmp/vt_test_history_read.XXXXXX";
static int64_t src_a, src_b;

static struct vt_sample sample_at(int64_t t_ns, double offset, double bound) {
  struct vt_sample s;
  memset(&s, 0, sizeof s);
  s.rx_time.tv_sec = (time_t)(t_ns / SEC);
  s.rx_time.tv_nsec = (long)(t_ns % SEC);
  s.offset = offset;
  s.error_bound = bound;
  s.stratum = 1;
  return s;
}

/* a's offset at sample i: a saw tooth of 0..9 us; b: 1 ms flat. */
static double offset_a(int i) { return (double)(i % 10) * 1e-6; }

static int build(void) {
  char err[512];
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  unlink(path);
  struct history *h = history_open(path, err, sizeof err);
  if (!h) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  src_a = history_source_id(h, "a.example", "ntp", "GPS");
  src_b = history_source_id(h, "b.example", "ntp", "GAL");
  for (int t = 0; t < SPAN_S; t++) {
    if (t % 16 == 3) {
      int i = t / 16;
      struct vt_sample s = sample_at(H0 + (int64_t)t * SEC, offset_a(i), 1e-4 + (i % 7) * 1e-6);
      history_add_sample(h, src_a, &s);
      s = sample_at(H0 + (int64_t)t * SEC + 500000000, 1e-3, 2e-4);
      history_add_sample(h, src_b, &s);
    }
    if (t % 4 == 0) {
      struct history_vote v = {.time_ns = H0 + (int64_t)t * SEC, .vetted = t < 7200,
                               .offset = 2e-6, .error = 5e-5, .agreeing = t < 7200 ? 2 : 1,
                               .agreeing_classes = t < 7200 ? 2 : 1};
      history_add_vote(h, &v);
    }
    if (t % 60 == 0) history_flush(h);
  }
  for (int i = 0; i < 5; i++) {
    struct history_event e = {.time_ns = H0 + i * 600 * SEC, .source_id = src_a,
                              .ref_class = "GPS", .value = i, .threshold = 1};
    snprintf(e.kind, sizeof e.kind, "step");
    snprintf(e.text, sizeof e.text, "event %d", i);
    history_add_event(h, &e);
  }
  struct history_alarm a1 = {.id = 1, .kind = "falseticker", .source_id = src_b,
                             .severity = "critical", .raised_ns = H0 + 100 * SEC,
                             .cleared_ns = H0 + 200 * SEC, .text = "b outside"};
  struct history_alarm a2 = {.id = 2, .kind = "quorum-lost", .severity = "critical",
                             .raised_ns = H0 + 7300 * SEC, .text = "no majority"};
  history_add_alarm(h, &a1);
  history_add_alarm(h, &a2);
  int rc = history_flush(h);
  history_close(h);
  return rc;
}

static struct history_reader *open_reader(void) {
  char err[512];
  struct history_reader *r = history_reader_open(path, err, sizeof err);
  if (!r) fprintf(stderr, "%s\n", err);
  return r;
}

static struct history_point pts[HISTORY_MAX_POINTS];

static long long total(const struct history_point *p, int n) {
  long long c = 0;
  for (int i = 0; i < n; i++) c += p[i].n;
  return c;
}

/* Raw, minute and hour reads of the whole span agree on the count and the
 * extremes; the open (last) hour comes from the raw rows. */
static void test_series_levels_agree(void) {
  struct history_reader *r = open_reader();
  CHECK(r != NULL);
  if (!r) return;
  int64_t to = H0 + SPAN_S * SEC;
  int n_raw = history_read_series(r, src_a, H0, to, 30 * SEC, HISTORY_RAW, pts, HISTORY_MAX_POINTS);
  CHECK_INT(n_raw, SPAN_S / 30); /* one sample per 16 s: every 30 s holds one or two */
  long long samples = SPAN_S / 16 + (SPAN_S % 16 > 3);
  CHECK_INT(total(pts, n_raw), samples);
  int n_min = history_read_series(r, src_a, H0, to, 600 * SEC, HISTORY_MINUTE, pts, HISTORY_MAX_POINTS);
  CHECK_INT(n_min, SPAN_S / 600);
  CHECK_INT(total(pts, n_min), samples);
  CHECK(pts[0].offset_min == 0.0);
  CHECK(pts[0].offset_max == 9e-6);
  CHECK_INT(pts[0].time_ns, H0);
  CHECK_INT(pts[1].time_ns, H0 + 600 * SEC);
  int n_hour = history_read_series(r, src_a, H0, to, 3600 * SEC, HISTORY_HOUR, pts, HISTORY_MAX_POINTS);
  CHECK_INT(n_hour, 3);
  CHECK_INT(total(pts, n_hour), samples);
  /* the third hour is still an open bucket in the writer: read raw */
  CHECK_INT(pts[2].n, 225);
  CHECK_NEAR(pts[2].bound_max, 1e-4 + 6e-6, 1e-15);
  CHECK_NEAR(pts[2].offset_mean, 1000e-6 / 225, 1e-15); /* i = 450..674: 22 saw teeth and 0..4 */
  CHECK_INT(pts[2].agreeing_min, -1);
  history_reader_close(r);
}

/* Points start at multiples of the step: the first covers from. */
static void test_series_alignment_and_max(void) {
  struct history_reader *r = open_reader();
  CHECK(r != NULL);
  if (!r) return;
  int n = history_read_series(r, src_b, H0 + 1000 * SEC, H0 + 1500 * SEC, 300 * SEC,
                              HISTORY_MINUTE, pts, HISTORY_MAX_POINTS);
  CHECK_INT(n, 3); /* 900, 1200 and 1500 s: the point that holds `to` too */
  CHECK_INT(pts[0].time_ns, H0 + 900 * SEC);
  CHECK_INT(pts[2].time_ns, H0 + 1500 * SEC);
  CHECK(pts[0].offset_min == 1e-3 && pts[0].offset_max == 1e-3);
  /* at most max points */
  CHECK_INT(history_read_series(r, src_b, H0, H0 + SPAN_S * SEC, 60 * SEC, HISTORY_MINUTE, pts, 7), 7);
  /* a step that is no multiple of its resolution's width is refused */
  CHECK_INT(history_read_series(r, src_b, H0, H0 + 60 * SEC, 90 * SEC, HISTORY_MINUTE, pts, 10), -1);
  CHECK_INT(history_read_series(r, src_b, H0 + 10, H0, 60 * SEC, HISTORY_MINUTE, pts, 10), -1);
  history_reader_close(r);
}

/* The vetted series: rounds and vetted rounds; no offset where none was
 * vetted; the agreement minima. */
static void test_vetted_series(void) {
  struct history_reader *r = open_reader();
  CHECK(r != NULL);
  if (!r) return;
  int n = history_read_series(r, HISTORY_VETTED, H0, H0 + SPAN_S * SEC, 3600 * SEC, HISTORY_HOUR,
                              pts, HISTORY_MAX_POINTS);
  CHECK_INT(n, 3);
  CHECK_INT(pts[0].n, 900);
  CHECK_INT(pts[0].nv, 900);
  CHECK(pts[0].offset_mean == 2e-6);
  CHECK(pts[0].bound_max == 5e-5);
  CHECK_INT(pts[0].agreeing_min, 2);
  CHECK_INT(pts[2].nv, 0);
  CHECK(isnan(pts[2].offset_mean));
  CHECK_INT(pts[2].agreeing_min, 1);
  n = history_read_series(r, HISTORY_VETTED, H0, H0 + 59 * SEC, 10 * SEC, HISTORY_RAW, pts, 100);
  CHECK_INT(n, 6);
  CHECK_INT(pts[0].n, 3); /* rounds at 0, 4, 8 s */
  history_reader_close(r);
}

static void test_sources_by_name(void) {
  struct history_reader *r = open_reader();
  CHECK(r != NULL);
  if (!r) return;
  CHECK_INT(history_reader_source(r, "a.example"), src_a);
  CHECK_INT(history_reader_source(r, "nope.example"), 0);
  CHECK_INT(history_read_series(r, 999, H0, H0 + 3600 * SEC, 60 * SEC, HISTORY_MINUTE, pts, 10), 0);
  history_reader_close(r);
}

static int n_seen;
static char last_text[200], last_name[300];
static void on_event(void *ctx, const struct history_event *e, const char *name) {
  (void)ctx;
  n_seen++;
  snprintf(last_text, sizeof last_text, "%s", e->text);
  snprintf(last_name, sizeof last_name, "%s", name);
}
static void on_alarm(void *ctx, const struct history_alarm *a, const char *name) {
  (void)ctx;
  n_seen++;
  snprintf(last_text, sizeof last_text, "%s", a->text);
  snprintf(last_name, sizeof last_name, "%s", name);
}

static void test_events_and_alarms_range(void) {
  struct history_reader *r = open_reader();
  CHECK(r != NULL);
  if (!r) return;
  bool more = true;
  n_seen = 0;
  CHECK_INT(history_read_events(r, H0 + 600 * SEC, H0 + 1800 * SEC, 10, &more, on_event, NULL), 3);
  CHECK(!more);
  CHECK_STR(last_text, "event 3");
  CHECK_STR(last_name, "a.example");
  CHECK_INT(history_read_events(r, H0, H0 + SPAN_S * SEC, 2, &more, on_event, NULL), 2);
  CHECK(more);
  /* alarms alive in the range: the cleared one only if it overlaps */
  n_seen = 0;
  CHECK_INT(history_read_alarms(r, H0 + 150 * SEC, H0 + 160 * SEC, 10, &more, on_alarm, NULL), 1);
  CHECK_STR(last_name, "b.example");
  CHECK_INT(history_read_alarms(r, H0 + 300 * SEC, H0 + 400 * SEC, 10, &more, on_alarm, NULL), 0);
  CHECK_INT(history_read_alarms(r, H0 + 300 * SEC, H0 + 9000 * SEC, 10, &more, on_alarm, NULL), 1);
  CHECK_STR(last_text, "no majority");
  CHECK_STR(last_name, "");
  history_reader_close(r);
}

/* A query past its time budget is interrupted and says so; the next one,
 * within its budget, runs (the statement was reset). */
static void test_budget(void) {
  struct history_reader *r = open_reader();
  CHECK(r != NULL);
  if (!r) return;
  history_reader_set_budget(r, 0);
  CHECK_INT(history_read_series(r, HISTORY_VETTED, H0, H0 + SPAN_S * SEC, 60 * SEC,
                                HISTORY_MINUTE, pts, HISTORY_MAX_POINTS), HISTORY_READ_SLOW);
  history_reader_set_budget(r, HISTORY_READ_BUDGET_MS);
  CHECK_INT(history_read_series(r, HISTORY_VETTED, H0, H0 + SPAN_S * SEC, 3600 * SEC,
                                HISTORY_HOUR, pts, HISTORY_MAX_POINTS), 3);
  history_reader_close(r);
}

/* A file without the roll-up tables (an older schema, or no database) is
 * refused with the reason. */
static void test_refuses_old_schema(void) {
  char old[64] = "/tmp/vt_test_history_old.XXXXXX", err[256] = "";
  int fd = mkstemp(old);
  close(fd);
  sqlite3 *db;
  sqlite3_open(old, &db);
  sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version=3;", NULL, NULL, NULL);
  sqlite3_close(db);
  CHECK(history_reader_open(old, err, sizeof err) == NULL);
  CHECK(strstr(err, "no roll-ups") != NULL);
  unlink(old);
  CHECK(history_reader_open("/nonexistent/dir/h.db", err, sizeof err) == NULL);
}

int main(void) {
  unit_init();
  if (build() != 0) {
    fprintf(stderr, "cannot build the test history\n");
    return 1;
  }
  RUN(test_series_levels_agree);
  RUN(test_series_alignment_and_max);
  RUN(test_vetted_series);
  RUN(test_sources_by_name);
  RUN(test_events_and_alarms_range);
  RUN(test_budget);
  RUN(test_refuses_old_schema);
  char side[600];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  return unit_done();
}
