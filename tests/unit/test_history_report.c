/* Unit tests for monitor/history_report.c: rows written through the real
 * history writer (monitor/history.h), read back by the report's queries
 * over a read-only connection: which sources a period shows (samples,
 * events, or an alarm open across it; not a source with nothing), the
 * sample count, the samples of all or some sources in time order with the
 * look-back, the votes (NaN figures when not vetted), the conditions held
 * when the period began, the period's events, and the alarms overlapping
 * it. */
#include "monitor/history_report.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "monitor/history.h"
#include "tests/unit/unit.h"

static char path[] = "/tmp/vt_test_history_report.XXXXXX";
static int64_t base; /* the period is [base, base + 10 s] */
static int64_t id_a, id_b, id_c;

#define SEC 1000000000LL

static void add_sample(struct history *h, int64_t id, int64_t t, double offset) {
  struct vt_sample s = {.offset = offset, .error_bound = 1e-4, .poll = 4, .stratum = 1};
  s.rx_time.tv_sec = (time_t)(t / SEC);
  s.rx_time.tv_nsec = (long)(t % SEC);
  CHECK_INT(history_add_sample(h, id, &s), 0);
}

static void add_event(struct history *h, int64_t t, const char *kind, bool ended, int64_t id,
                      const char *cls) {
  struct history_event e = {.time_ns = t, .ended = ended, .source_id = id, .value = 1};
  snprintf(e.kind, sizeof e.kind, "%s", kind);
  snprintf(e.ref_class, sizeof e.ref_class, "%s", cls);
  snprintf(e.text, sizeof e.text, "%s", kind);
  CHECK_INT(history_add_event(h, &e), 0);
}

static void add_alarm(struct history *h, uint64_t id, int64_t src, int64_t raised,
                      int64_t cleared, const char *sev) {
  struct history_alarm a = {.id = id, .source_id = src, .raised_ns = raised, .cleared_ns = cleared};
  snprintf(a.kind, sizeof a.kind, "falseticker");
  snprintf(a.severity, sizeof a.severity, "%s", sev);
  snprintf(a.text, sizeof a.text, "alarm %llu", (unsigned long long)id);
  CHECK_INT(history_add_alarm(h, &a), 0);
}

/* Sources get first_seen = now, so the rows are a little in the future. */
static void write_history(void) {
  char err[512];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  base = ((int64_t)now.tv_sec + 100) * SEC;
  struct history *h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  id_a = history_source_id(h, "a", "ntp", "GPS");
  id_b = history_source_id(h, "b", "ntp", "DCF");
  id_c = history_source_id(h, "c", "ntp", NULL);
  history_source_id(h, "d", "ntp", "GAL"); /* nothing at all: never shown */
  add_sample(h, id_a, base - 50 * SEC, -1.0); /* before the period */
  for (int i = 0; i < 10; i++) {
    add_sample(h, id_a, base + i * SEC, i * 1e-6);
    add_sample(h, id_b, base + i * SEC + SEC / 2, 0.5);
    struct history_vote v = {.time_ns = base + i * SEC + 7 * SEC / 10, .vetted = i != 3,
                             .offset = 1e-6, .error = 2e-6, .candidates = 2, .agreeing = 2,
                             .classes = 2, .agreeing_classes = 1};
    CHECK_INT(history_add_vote(h, &v), 0);
  }
  add_sample(h, id_a, base + 20 * SEC, 9.0); /* after the period */
  add_event(h, base - 50 * SEC, "falseticker", false, id_b, "DCF");
  add_event(h, base - 20 * SEC, "class-lost", false, 0, "DCF");
  add_event(h, base - 10 * SEC, "class-lost", true, 0, "DCF");
  add_event(h, base - 5 * SEC, "step", false, id_a, "GPS"); /* no condition kind */
  add_event(h, base + 5 * SEC, "falseticker", true, id_b, "DCF");
  add_event(h, base + 3 * SEC, "step", false, id_a, "GPS");
  add_alarm(h, 1, id_b, base - 200 * SEC, base - 150 * SEC, "critical"); /* before */
  add_alarm(h, 2, id_b, base - 50 * SEC, 0, "critical");                 /* open across */
  add_alarm(h, 3, id_a, base + 2 * SEC, base + 4 * SEC, "warning");      /* inside */
  add_alarm(h, 4, id_a, base + 100 * SEC, 0, "warning");                 /* after */
  add_alarm(h, 5, id_c, base - 300 * SEC, 0, "warning");                 /* c: open across */
  CHECK_INT(history_flush(h), 0);
  history_close(h);
}

static sqlite3 *open_ro(void) {
  sqlite3 *db = NULL;
  char err[256];
  CHECK_INT(history_open_existing(path, false, "votes", &db, err, sizeof err), 0);
  return db;
}

struct names {
  char list[8][300];
  int n;
};

static int on_source(void *ctx, const struct hr_source *s) {
  struct names *n = ctx;
  if (n->n < 8) snprintf(n->list[n->n++], sizeof n->list[0], "%s:%s", s->name, s->cls);
  return 0;
}

static void test_sources(void) {
  sqlite3 *db = open_ro();
  char err[256];
  struct names n = {0};
  CHECK_INT(hr_each_source(db, base, base + 10 * SEC, on_source, &n, err, sizeof err), 3);
  CHECK_STR(n.list[0], "a:GPS");
  CHECK_STR(n.list[1], "b:DCF");
  CHECK_STR(n.list[2], "c:"); /* only an alarm open across the period */
  sqlite3_close(db);
}

struct seen {
  int64_t last_t, ids[64];
  double offsets[64];
  int n;
  bool ordered;
};

static int on_sample(void *ctx, int64_t id, const struct hr_sample *s) {
  struct seen *x = ctx;
  if (s->time_ns < x->last_t) x->ordered = false;
  x->last_t = s->time_ns;
  if (x->n < 64) {
    x->ids[x->n] = id;
    x->offsets[x->n++] = s->offset;
  }
  return 0;
}

static void test_samples(void) {
  sqlite3 *db = open_ro();
  char err[256];
  CHECK_INT(hr_count_samples(db, base, base + 10 * SEC, err, sizeof err), 20);
  CHECK_INT(hr_count_samples(db, base - 100 * SEC, base + 100 * SEC, err, sizeof err), 22);
  struct seen all = {.ordered = true};
  CHECK_INT(hr_each_sample_of(db, NULL, 0, base - 60 * SEC, base + 10 * SEC, on_sample, &all, err,
                              sizeof err), 21);
  CHECK(all.ordered);
  CHECK_INT(all.ids[0], id_a);
  CHECK_NEAR(all.offsets[0], -1.0, 0); /* the look-back sample first */
  CHECK_INT(all.ids[2], id_b);
  struct seen only_b = {.ordered = true};
  int64_t ids[] = {id_b};
  CHECK_INT(hr_each_sample_of(db, ids, 1, base, base + 10 * SEC, on_sample, &only_b, err,
                              sizeof err), 10);
  for (int i = 0; i < only_b.n; i++) CHECK_INT(only_b.ids[i], id_b);
  int64_t both[] = {id_a, id_b};
  struct seen ab = {.ordered = true};
  CHECK_INT(hr_each_sample_of(db, both, 2, base, base + 10 * SEC, on_sample, &ab, err, sizeof err),
            20);
  sqlite3_close(db);
}

struct votes {
  int n, vetted;
  bool nan_when_not;
};

static int on_vote(void *ctx, const struct hr_vote *v) {
  struct votes *x = ctx;
  x->n++;
  x->vetted += v->vetted;
  if (!v->vetted && !(isnan(v->offset) && isnan(v->error))) x->nan_when_not = false;
  if (v->vetted && (v->offset != 1e-6 || v->error != 2e-6)) x->nan_when_not = false;
  return 0;
}

static void test_votes(void) {
  sqlite3 *db = open_ro();
  char err[256];
  struct votes v = {.nan_when_not = true};
  CHECK_INT(hr_each_vote(db, base, base + 10 * SEC, on_vote, &v, err, sizeof err), 10);
  CHECK_INT(v.vetted, 9);
  CHECK(v.nan_when_not);
  sqlite3_close(db);
}

struct events {
  char list[8][320];
  int n;
};

static int on_event(void *ctx, const struct hr_event *e) {
  struct events *x = ctx;
  if (x->n < 8)
    snprintf(x->list[x->n++], sizeof x->list[0], "%s%s %s %s", e->kind, e->ended ? " ended" : "",
             e->source[0] ? e->source : "system", e->cls);
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void test_events(void) {
  sqlite3 *db = open_ro();
  char err[256];
  static const char *const kinds[] = {"falseticker", "class-lost", "holdover", NULL};
  struct events before = {0};
  CHECK_INT(hr_each_last_event_before(db, base, kinds, on_event, &before, err, sizeof err), 2);
  qsort(before.list, (size_t)before.n, sizeof before.list[0], cmp_str);
  CHECK_STR(before.list[0], "class-lost ended system DCF"); /* the newest of the two */
  CHECK_STR(before.list[1], "falseticker b DCF");
  struct events in = {0};
  CHECK_INT(hr_each_event(db, base, base + 10 * SEC, on_event, &in, err, sizeof err), 2);
  CHECK_STR(in.list[0], "step a GPS"); /* in time order */
  CHECK_STR(in.list[1], "falseticker ended b DCF");
  sqlite3_close(db);
}

struct alarms {
  int64_t ids[8];
  int n;
  bool open_ok;
};

static int on_alarm(void *ctx, const struct hr_alarm *a) {
  struct alarms *x = ctx;
  if (x->n < 8) x->ids[x->n++] = a->id;
  if (a->id == 2 && (a->cleared_ns != 0 || strcmp(a->source, "b") || strcmp(a->severity, "critical")))
    x->open_ok = false;
  return 0;
}

static void test_alarms(void) {
  sqlite3 *db = open_ro();
  char err[256];
  struct alarms x = {.open_ok = true};
  CHECK_INT(hr_each_alarm(db, base, base + 10 * SEC, on_alarm, &x, err, sizeof err), 3);
  CHECK_INT(x.ids[0], 5); /* oldest raise first */
  CHECK_INT(x.ids[1], 2);
  CHECK_INT(x.ids[2], 3);
  CHECK(x.open_ok);
  sqlite3_close(db);
}

static void test_not_a_history(void) {
  char other[64], err[256];
  snprintf(other, sizeof other, "%s.x", path);
  FILE *f = fopen(other, "w");
  fputs("not sqlite at all, not at all, definitely not", f);
  fclose(f);
  sqlite3 *db = NULL;
  CHECK_INT(history_open_existing(other, false, "votes", &db, err, sizeof err), -1);
  CHECK(db == NULL);
  unlink(other);
}

int main(void) {
  unit_init();
  log_set_level(LOG_LVL_WARN);
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  close(fd);
  unlink(path);
  write_history();
  RUN(test_sources);
  RUN(test_samples);
  RUN(test_votes);
  RUN(test_events);
  RUN(test_alarms);
  RUN(test_not_a_history);
  char side[80];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  return unit_done();
}
