/* Unit tests for cli/check.c: the monitoring-plugins line and state for
 * every exit code, thresholds in range syntax (with '@' inversion, time
 * units, the offset judged by its magnitude), perfdata in the
 * label=value[UOM];warn;crit;min;max form, the documents read from the
 * API's JSON, and check_main's UNKNOWNs (daemon unreachable, bad range). */
#include "cli/check.h"

#include <math.h>
#include <string.h>

#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "monitor/history.h"
#include "unit.h"

static struct check_input vetted_input(void) {
  struct check_input in = {.valid = true, .vetted = true, .offset = 12e-6, .bound = 40e-6,
                           .agreeing = 5, .sources = 5, .agreeing_classes = 3, .classes = 3};
  return in;
}

static void limit(struct check_limits *l, enum check_metric m, bool crit, const char *text) {
  char err[200];
  enum range_unit u = m == CM_OFFSET || m == CM_BOUND ? RANGE_SECONDS : RANGE_PLAIN;
  CHECK_INT(range_parse(text, u, crit ? &l->crit[m] : &l->warn[m], err, sizeof err), 0);
  (crit ? l->has_crit : l->has_warn)[m] = true;
}

static void test_ok_line(void) {
  struct check_input in = vetted_input();
  struct check_limits l = {.not_vetted = CHECK_CRITICAL};
  limit(&l, CM_OFFSET, false, "100us");
  limit(&l, CM_OFFSET, true, "1ms");
  limit(&l, CM_SOURCES, true, "2:");
  char line[1024];
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_OK);
  CHECK_STR(line, "VETTIME OK - vetted, offset +12.000us bound 40.000us, 5/5 sources, "
                  "3/3 classes, 0 alarms | offset=0.000012s;0.0001;0.001;; bound=0.00004s;;;0; "
                  "sources=5;;2:;0;5 classes=3;;;0;3 alarms=0;;;0;");
}

static void test_warning_and_critical(void) {
  struct check_input in = vetted_input();
  struct check_limits l = {.not_vetted = CHECK_CRITICAL};
  limit(&l, CM_OFFSET, false, "100us");
  limit(&l, CM_OFFSET, true, "1ms");
  char line[1024];
  in.offset = -150e-6; /* the magnitude is judged */
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_WARNING);
  CHECK(strncmp(line, "VETTIME WARNING - offset -150.000us (--offset-warn 100us); vetted,", 66) == 0);
  in.offset = 2e-3;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_CRITICAL);
  CHECK(strncmp(line, "VETTIME CRITICAL - offset +2.000ms (--offset-crit 1ms); ", 56) == 0);
  /* several breaches: the worst state, every breach named */
  in.offset = 150e-6;
  limit(&l, CM_CLASSES, true, "3:");
  in.agreeing_classes = 2;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_CRITICAL);
  CHECK(strstr(line, "offset +150.000us (--offset-warn 100us), classes 2 (--classes-crit 3:);") != NULL);
  CHECK(strstr(line, " classes=2;;3:;0;3 ") != NULL);
}

/* '@': alert inside the range, e.g. a bound between 0 and 1 us is
 * suspiciously good (a source serving its own clock). */
static void test_inverted(void) {
  struct check_input in = vetted_input();
  struct check_limits l = {.not_vetted = CHECK_CRITICAL};
  limit(&l, CM_SOURCES, false, "@0:4");
  limit(&l, CM_SOURCES, true, "@0:2");
  char line[1024];
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_OK);
  in.agreeing = 4;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_WARNING);
  in.agreeing = 2;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_CRITICAL);
  CHECK(strstr(line, "sources 2 (--sources-crit @0:2)") != NULL);
  CHECK(strstr(line, " sources=2;@4;@2;0;5 ") != NULL);
}

static void test_alarms(void) {
  struct check_input in = vetted_input();
  in.alarms = 2;
  in.critical_alarms = 1;
  struct check_limits l = {.not_vetted = CHECK_CRITICAL};
  limit(&l, CM_ALARMS, false, "0");
  limit(&l, CM_ALARMS, true, "1");
  char line[1024];
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_CRITICAL);
  CHECK(strstr(line, ", 2 alarms (1 critical) |") != NULL);
  CHECK(strstr(line, " alarms=2;0;1;0;") != NULL);
  in.alarms = 1;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_WARNING);
}

static void test_not_vetted(void) {
  struct check_input in = vetted_input();
  in.vetted = false;
  in.agreeing = 2;
  snprintf(in.why_not, sizeof in.why_not, "no majority: 2 of 5 sources agree");
  struct check_limits l = {.not_vetted = CHECK_CRITICAL};
  limit(&l, CM_OFFSET, true, "1ms");
  char line[1024];
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_CRITICAL);
  CHECK(strncmp(line, "VETTIME CRITICAL - not vetted: no majority: 2 of 5 sources agree, 2/5 "
                      "sources", 77) == 0);
  CHECK(strstr(line, "| offset=U;;0.001;; bound=U;;;0; ") != NULL);
  l.not_vetted = CHECK_WARNING;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_WARNING);
  l.not_vetted = CHECK_OK;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_OK);
  in.valid = false;
  CHECK_INT(check_evaluate(&in, &l, line, sizeof line), CHECK_UNKNOWN);
  CHECK(strncmp(line, "VETTIME UNKNOWN - no vote round yet", 35) == 0);
}

static const char STATUS[] = "{\"sources\": 5, \"reachable\": 5}";
static const char VOTE[] =
    "{\"valid\": true, \"vetted\": true, \"why_not\": null, \"offset\": -2.5e-05, "
    "\"error\": 4e-05, \"candidates\": 5, \"agreeing\": 4, \"classes\": 3, "
    "\"agreeing_classes\": 3}";
static const char ALARMS[] =
    "{\"alarms\": [{\"id\": 1, \"severity\": \"critical\", \"active\": true}, "
    "{\"id\": 2, \"severity\": \"warning\", \"active\": false}, "
    "{\"id\": 3, \"severity\": \"warning\", \"active\": true}]}";

static void test_from_json(void) {
  json_object *s = json_tokener_parse(STATUS), *v = json_tokener_parse(VOTE),
              *a = json_tokener_parse(ALARMS);
  struct check_input in;
  char err[200];
  CHECK_INT(check_input_from_json(s, v, a, &in, err, sizeof err), 0);
  CHECK(in.valid && in.vetted);
  CHECK_NEAR(in.offset, -25e-6, 0);
  CHECK_NEAR(in.bound, 40e-6, 0);
  CHECK_INT(in.agreeing, 4);
  CHECK_INT(in.sources, 5);
  CHECK_INT(in.agreeing_classes, 3);
  CHECK_INT(in.alarms, 2);
  CHECK_INT(in.critical_alarms, 1);
  json_object *bad = json_tokener_parse("{\"valid\": true}");
  CHECK_INT(check_input_from_json(s, bad, a, &in, err, sizeof err), -1);
  CHECK(strstr(err, "vote document") != NULL);
  CHECK_INT(check_input_from_json(s, v, bad, &in, err, sizeof err), -1);
  CHECK(strstr(err, "alarms") != NULL);
  CHECK_INT(check_input_from_json(NULL, v, a, &in, err, sizeof err), -1);
  json_object *before = json_tokener_parse("{\"valid\": false}");
  CHECK_INT(check_input_from_json(s, before, a, &in, err, sizeof err), 0);
  CHECK(!in.valid);
  json_object_put(before);
  json_object_put(bad);
  json_object_put(s);
  json_object_put(v);
  json_object_put(a);
}

/* check_main's fetch: canned documents, or a daemon that is down. */
static int fake_fetch(void *ctx, const char *name, json_object **doc, char *why, size_t len) {
  if (ctx) {
    snprintf(why, len, "cannot reach vettimed at http://127.0.0.1:1: Connection refused");
    return 2;
  }
  *doc = json_tokener_parse(strcmp(name, "status") == 0 ? STATUS
                            : strcmp(name, "vote") == 0 ? VOTE
                                                        : ALARMS);
  return 0;
}

static int run(int down, const char *a1, const char *a2, const char *a3) {
  char *argv[] = {(char *)"check", (char *)a1, (char *)a2, (char *)a3, NULL};
  int argc = 1 + (a1 != NULL) + (a2 != NULL) + (a3 != NULL);
  FILE *keep = stdout;
  stdout = fopen("/dev/null", "w"); /* the plugin's line is tested above */
  int rc = check_main(argc, argv, fake_fetch, down ? (void *)1 : NULL);
  fclose(stdout);
  stdout = keep;
  return rc;
}

static void test_main(void) {
  CHECK_INT(run(0, NULL, NULL, NULL), CHECK_OK);
  CHECK_INT(run(0, "-w", "20us", NULL), CHECK_WARNING);
  CHECK_INT(run(0, "-c", "20us", NULL), CHECK_CRITICAL);
  CHECK_INT(run(0, "--sources-crit", "@4", NULL), CHECK_CRITICAL);
  CHECK_INT(run(0, "--alarms-warn", "1", NULL), CHECK_WARNING);
  CHECK_INT(run(1, NULL, NULL, NULL), CHECK_UNKNOWN);
  CHECK_INT(run(0, "-w", "10:5", NULL), CHECK_UNKNOWN);
  CHECK_INT(run(0, "--sources-crit", "3us", NULL), CHECK_UNKNOWN);
  CHECK_INT(run(0, "--not-vetted", "maybe", NULL), CHECK_UNKNOWN);
  CHECK_INT(run(0, "--frobnicate", NULL, NULL), CHECK_UNKNOWN);
  CHECK_INT(run(0, "-w", NULL, NULL), CHECK_UNKNOWN);
  CHECK_INT(run(0, "extra", NULL, NULL), CHECK_UNKNOWN);
}

/* -d: the history instead of the API. */
static char dbpath[] = "/tmp/vt_test_check.XXXXXX";

static void write_db(int64_t age_s, bool vetted, bool open_critical) {
  char err[256];
  unlink(dbpath);
  struct history *h = history_open(dbpath, err, sizeof err);
  CHECK(h != NULL);
  if (!h) return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t t = ((int64_t)now.tv_sec - age_s) * 1000000000LL;
  struct history_vote v = {.time_ns = t, .vetted = vetted, .offset = 30e-6, .error = 50e-6,
                           .candidates = 4, .agreeing = 3, .classes = 3, .agreeing_classes = 2};
  if (!vetted) snprintf(v.why_not, sizeof v.why_not, "no majority");
  CHECK_INT(history_add_vote(h, &v), 0);
  if (open_critical) {
    struct history_alarm a = {.id = 1, .raised_ns = t};
    snprintf(a.kind, sizeof a.kind, "quorum-lost");
    snprintf(a.severity, sizeof a.severity, "critical");
    snprintf(a.text, sizeof a.text, "x");
    CHECK_INT(history_add_alarm(h, &a), 0);
  }
  CHECK_INT(history_flush(h), 0);
  history_close(h);
}

static int run_db(const char *a1, const char *a2) {
  char *argv[] = {(char *)"check", (char *)"-d", dbpath, (char *)a1, (char *)a2, NULL};
  int argc = 3 + (a1 != NULL) + (a2 != NULL);
  FILE *keep = stdout;
  stdout = fopen("/dev/null", "w");
  int rc = check_main(argc, argv, fake_fetch, (void *)1); /* the API is never asked */
  fclose(stdout);
  stdout = keep;
  return rc;
}

static void test_from_history(void) {
  int fd = mkstemp(dbpath);
  CHECK(fd >= 0);
  close(fd);
  write_db(0, true, false);
  CHECK_INT(run_db(NULL, NULL), CHECK_OK);
  CHECK_INT(run_db("-w", "20us"), CHECK_WARNING);       /* |30 us| */
  CHECK_INT(run_db("--sources-crit", "@3"), CHECK_CRITICAL);
  CHECK_INT(run_db("--classes-warn", "3:"), CHECK_WARNING);
  write_db(0, true, true);
  CHECK_INT(run_db("--alarms-crit", "0"), CHECK_CRITICAL);
  write_db(0, false, false);
  CHECK_INT(run_db(NULL, NULL), CHECK_CRITICAL);
  CHECK_INT(run_db("--not-vetted", "ok"), CHECK_OK);
  write_db(100, true, false); /* the daemon stopped 100 s ago */
  CHECK_INT(run_db(NULL, NULL), CHECK_UNKNOWN);
  unlink(dbpath);
  CHECK_INT(run_db(NULL, NULL), CHECK_UNKNOWN); /* no file */
  char side[64];
  snprintf(side, sizeof side, "%s-wal", dbpath);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", dbpath);
  unlink(side);
}

int main(void) {
  unit_init();
  RUN(test_ok_line);
  RUN(test_warning_and_critical);
  RUN(test_inverted);
  RUN(test_alarms);
  RUN(test_not_vetted);
  RUN(test_from_json);
  RUN(test_main);
  log_set_level(LOG_LVL_WARN);
  RUN(test_from_history);
  return unit_done();
}
