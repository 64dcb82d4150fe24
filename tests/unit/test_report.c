/* Unit tests for cli/report.c and its formats: a period of synthetic
 * rows (two runs of the daemon with a stop between, rounds not vetted,
 * a source that falls silent, a falseticker, a condition held from before
 * the period, holdover at the end, alarms before, across and in the
 * period) against figures worked out by hand; the interval algebra; the
 * period options; and the text, JSON and HTML renderings. */
#include "cli/report.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "cli/report_format.h"
#include "unit.h"

#define S(x) ((int64_t)((x) * 1e9 + 0.5)) /* seconds to ns, exact for halves */

static void vote(struct report *r, double t, bool vetted, double off, double err) {
  struct hr_vote v = {.time_ns = S(t), .vetted = vetted, .offset = vetted ? off : NAN,
                      .error = vetted ? err : NAN};
  report_add_vote(r, &v);
}

static void sample(struct report *r, struct report_source *s, double t, double off, double bound) {
  struct hr_sample x = {.time_ns = S(t), .offset = off, .error_bound = bound, .poll = 0};
  report_add_sample(r, s, &x);
}

static void event(struct report *r, double t, const char *kind, bool ended, int64_t src,
                  const char *cls) {
  struct hr_event e = {.time_ns = S(t), .ended = ended, .source_id = src};
  snprintf(e.kind, sizeof e.kind, "%s", kind);
  snprintf(e.cls, sizeof e.cls, "%s", cls);
  report_add_event(r, &e);
}

static void alarm(struct report *r, int64_t id, const char *kind, const char *sev, double raised,
                  double cleared, const char *source) {
  struct hr_alarm a = {.id = id, .raised_ns = S(raised), .cleared_ns = cleared ? S(cleared) : 0};
  snprintf(a.kind, sizeof a.kind, "%s", kind);
  snprintf(a.severity, sizeof a.severity, "%s", sev);
  snprintf(a.source, sizeof a.source, "%s", source);
  snprintf(a.text, sizeof a.text, "%s %s", kind, source);
  report_add_alarm(r, &a);
}

static struct report_source *source(struct report *r, int64_t id, const char *name,
                                    const char *cls) {
  struct hr_source s = {.id = id, .first_seen_ns = S(500)};
  snprintf(s.name, sizeof s.name, "%s", name);
  snprintf(s.kind, sizeof s.kind, "ntp");
  snprintf(s.cls, sizeof s.cls, "%s", cls);
  return report_add_source(r, &s);
}

/* The period [1000, 1100] s:
 *   run 1: rounds at 1000.5 .. 1059.5 (60), not vetted 1010.5 .. 1019.5
 *   stop:  no round 1060 .. 1080
 *   run 2: rounds at 1080.5 .. 1099.5 (20)
 * observed = 60 + 19.5 (the last round stands until the end of the period)
 *   sources: a (GPS) every second in both runs, one sample before the period;
 *            b (GPS) every second until 1030.2, then silent;
 *            c (DCF) a falseticker since 900 (before the period), never ended. */
static void build(struct report *r) {
  report_init(r, S(1000), S(1100), S(1200));
  for (int i = 0; i < 60; i++) {
    double t = 1000.5 + i;
    bool vetted = !(t >= 1010 && t < 1020);
    vote(r, t, vetted, (i % 5) * 1e-6, 10e-6 + i * 1e-7);
  }
  for (int i = 0; i < 20; i++) vote(r, 1080.5 + i, true, 2e-6, 20e-6);
  report_votes_done(r);

  source(r, 1, "a", "GPS");
  source(r, 2, "b", "GPS");
  source(r, 3, "c", "DCF");
  struct report_source *a = &r->sources[0], *b = &r->sources[1], *c = &r->sources[2];

  /* conditions held when the period began (hr_each_last_event_before) */
  event(r, 900, "falseticker", false, 3, "DCF");
  event(r, 950, "holdover", true, 0, "");
  /* the period's events */
  event(r, 1020.5, "falseticker", false, 2, "GPS");
  event(r, 1025.5, "falseticker", true, 2, "GPS");
  event(r, 1040.5, "step", false, 1, "GPS");
  event(r, 1041.5, "step", true, 1, "GPS");
  event(r, 1085.5, "holdover", false, 0, "");

  sample(r, a, 995.2, 1.0, 1e-3); /* before the period: freshness only */
  int k = 0;
  for (int i = 0; i < 60; i++, k++) sample(r, a, 1000.2 + i, (k % 7) * 1e-6, 30e-6);
  for (int i = 0; i < 20; i++, k++) sample(r, a, 1080.2 + i, (k % 7) * 1e-6, 30e-6);
  report_source_done(r, a);

  for (int i = 0; i <= 30; i++) sample(r, b, 1000.2 + i, -5e-6, 40e-6);
  report_source_done(r, b);

  for (int i = 0; i < 60; i++) sample(r, c, 1000.2 + i, 0.5, 1e-3);
  report_source_done(r, c);

  alarm(r, 1, "unreachable", "info", 800, 900, "b");         /* before: left out */
  alarm(r, 2, "unreachable", "warning", 950, 1030, "b");     /* cleared in the period */
  alarm(r, 3, "falseticker", "critical", 1020.5, 0, "c");    /* raised, still open */
  alarm(r, 4, "step", "warning", 1040.5, 1045.5, "a");       /* raised and cleared */
  alarm(r, 5, "quorum-lost", "critical", 1200, 0, "");       /* after: left out */
  report_finish(r);
}

static const struct report_source *find(const struct report *r, const char *name) {
  for (size_t i = 0; i < r->n_sources; i++)
    if (strcmp(r->sources[i].src.name, name) == 0) return &r->sources[i];
  return NULL;
}

static void test_time(void) {
  struct report r;
  build(&r);
  CHECK(!r.oom);
  CHECK_INT(r.rounds, 80);
  CHECK_INT(r.vetted_rounds, 70);
  CHECK_INT(r.n_runs, 2);
  CHECK_INT(r.observed_ns, S(79.5));
  CHECK_INT(r.not_vetted_ns, S(10));
  CHECK_INT(r.holdover.total_ns, S(14.5)); /* 1085.5 .. 1100 */
  CHECK_INT(r.refusing.total_ns, 0);
  CHECK_INT(report_observed_between(&r, S(1050), S(1090)), S(10.5 + 9.5));
  /* vetted offsets: 50 rounds of (i % 5) us in run 1 (i = 0..59, minus
   * i = 10..19) and 20 of 2 us: the median is 2 us */
  CHECK_NEAR(r.vetted_offset.median, 2e-6, 1e-15);
  CHECK_NEAR(r.vetted_offset.max_abs, 4e-6, 1e-15);
  CHECK_NEAR(r.vetted_bound.max, 20e-6, 1e-15);
  report_free(&r);
}

static void test_sources(void) {
  struct report r;
  build(&r);
  const struct report_source *a = find(&r, "a"), *b = find(&r, "b"), *c = find(&r, "c");
  CHECK(a && b && c);
  if (!a || !b || !c) return;
  CHECK_INT(a->samples, 80);
  CHECK_INT(a->rounds, 80);
  CHECK_INT(a->fresh_rounds, 80);
  CHECK_NEAR(a->availability, 1.0, 0);
  /* k % 7 us over k = 0..79: 12 of 0..2 each... the sorted 40th and 41st
   * are both 3 us */
  CHECK_NEAR(a->offset.median, 3e-6, 1e-15);
  CHECK_NEAR(a->offset.max_abs, 6e-6, 1e-15);
  CHECK_NEAR(a->offset.p99_abs, 6e-6, 1e-15);
  CHECK_NEAR(a->bound.median, 30e-6, 0);
  CHECK_INT(a->steps, 1);
  CHECK_INT(a->falseticker.total_ns, 0);
  /* b: fresh while its last sample is at most 3 s old: 1000.5 .. 1032.5 */
  CHECK_INT(b->samples, 31);
  CHECK_INT(b->fresh_rounds, 33);
  CHECK_NEAR(b->availability, 33.0 / 80, 1e-12);
  CHECK_NEAR(b->offset.median, -5e-6, 0);
  CHECK_INT(b->falseticker.total_ns, S(5));
  CHECK_NEAR(b->drift_ppm, 0, 1e-9);
  /* c: a falseticker from before the period until its run stopped */
  CHECK_INT(c->falseticker.total_ns, S(60));
  CHECK_INT(c->fresh_rounds, 60); /* run 1; in run 2 its last sample is 21 s old */
  report_free(&r);
}

static void test_classes(void) {
  struct report r;
  build(&r);
  CHECK_INT(r.n_classes, 2);
  CHECK_STR(r.classes[0].name, "DCF");
  CHECK_STR(r.classes[1].name, "GPS");
  CHECK_INT(r.classes[0].sources, 1);
  CHECK_INT(r.classes[1].sources, 2);
  /* DCF: its only source a falseticker for 60 s of 79.5 */
  CHECK_INT(r.classes[0].disagree_ns, S(60));
  CHECK_NEAR(r.classes[0].availability, 1 - 60 / 79.5, 1e-12);
  /* GPS: b was a falseticker, but a never: the class agreed */
  CHECK_INT(r.classes[1].disagree_ns, 0);
  CHECK_NEAR(r.classes[1].availability, 1, 0);
  report_free(&r);
  /* in sources mode the class figures are not derivable */
  build(&r);
  report_free(&r);
  struct report s;
  report_init(&s, S(0), S(10), S(10));
  s.sources_mode = true;
  vote(&s, 1, true, 0, 1e-6);
  report_votes_done(&s);
  source(&s, 1, "x", "GPS");
  report_source_done(&s, &s.sources[0]);
  report_finish(&s);
  CHECK(isnan(s.classes[0].availability));
  report_free(&s);
}

static void test_class_lost(void) {
  struct report r;
  report_init(&r, S(0), S(100), S(100));
  for (int i = 0; i < 100; i++) vote(&r, i + 0.5, true, 0, 1e-6);
  report_votes_done(&r);
  source(&r, 1, "g1", "GAL");
  report_source_done(&r, &r.sources[0]);
  source(&r, 2, "g2", "GAL");
  report_source_done(&r, &r.sources[1]);
  event(&r, 10.5, "class-lost", false, 0, "GAL");
  event(&r, 20.5, "class-lost", true, 0, "GAL");
  event(&r, 15.5, "falseticker", false, 1, "GAL"); /* one of two: no effect */
  event(&r, 30.5, "falseticker", true, 1, "GAL");
  event(&r, 40.5, "falseticker", false, 1, "GAL"); /* both: 45.5 .. 50.5 */
  event(&r, 45.5, "falseticker", false, 2, "GAL");
  event(&r, 50.5, "falseticker", true, 1, "GAL");
  event(&r, 52.5, "falseticker", true, 2, "GAL");
  report_finish(&r);
  CHECK_INT(r.classes[0].lost.total_ns, S(10));
  CHECK_INT(r.classes[0].disagree_ns, S(15));
  CHECK_NEAR(r.classes[0].availability, 1 - 15 / 99.5, 1e-12); /* the last round stands 0.5 s */
  report_free(&r);
}

static void test_alarms_and_exit(void) {
  struct report r;
  build(&r);
  CHECK_INT(r.n_alarms, 3);
  CHECK_INT(r.alarms_raised, 2);
  CHECK_INT(r.alarms_cleared, 2);
  CHECK_INT(r.alarms_open, 1);
  CHECK_INT(r.by_severity[2], 1);
  CHECK_INT(r.by_severity[1], 2);
  CHECK(r.critical);
  CHECK_INT(report_exit_status(&r), 2);
  CHECK_INT(r.alarms[0].a.id, 2);
  CHECK(!r.alarms[0].raised_in_period && r.alarms[0].cleared_in_period);
  report_free(&r);
  /* a quiet period */
  report_init(&r, S(0), S(10), S(10));
  vote(&r, 1, true, 0, 1e-6);
  report_votes_done(&r);
  alarm(&r, 1, "step", "warning", 2, 3, "a");
  report_finish(&r);
  CHECK(!r.critical);
  CHECK_INT(report_exit_status(&r), 0);
  report_free(&r);
}

/* A restart: a condition left open by the first run ends with it. */
static void test_restart_ends_conditions(void) {
  struct report r;
  report_init(&r, S(0), S(100), S(100));
  for (int i = 0; i < 30; i++) vote(&r, i + 0.5, true, 0, 1e-6);
  for (int i = 60; i < 100; i++) vote(&r, i + 0.5, true, 0, 1e-6);
  report_votes_done(&r);
  source(&r, 1, "x", "GPS");
  report_source_done(&r, &r.sources[0]);
  event(&r, 20.5, "falseticker", false, 1, "GPS"); /* run 1 ends at 30.5 */
  event(&r, 70.5, "falseticker", false, 1, "GPS"); /* raised again in run 2 */
  event(&r, 80.5, "falseticker", true, 1, "GPS");
  report_finish(&r);
  CHECK_INT(r.sources[0].falseticker.total_ns, S(10 + 10));
  report_free(&r);
}

/* Drift: 1 ppm, with a 0.5 s step in the middle that is no drift. */
static void test_drift_across_a_step(void) {
  struct report r;
  report_init(&r, S(0), S(200), S(200));
  for (int i = 0; i < 200; i++) vote(&r, i + 0.5, true, 0, 1e-6);
  report_votes_done(&r);
  source(&r, 1, "x", "GPS");
  source(&r, 2, "y", "GAL");
  event(&r, 100.5, "step", false, 1, "GPS"); /* the round after the jumped sample */
  for (int i = 0; i < 200; i++) {
    double t = i + 0.2;
    sample(&r, &r.sources[0], t, 1e-6 * t + (t > 100 ? 0.5 : 0), 1e-5);
    sample(&r, &r.sources[1], t, 1e-6 * t + (t > 100 ? 0.5 : 0), 1e-5); /* no step event */
  }
  report_source_done(&r, &r.sources[0]);
  report_source_done(&r, &r.sources[1]);
  report_finish(&r);
  CHECK_INT(r.sources[0].steps, 1);
  CHECK_NEAR(r.sources[0].drift_ppm, 1.0, 1e-6);
  CHECK(r.sources[1].drift_ppm > 1000); /* without the event the step looks like drift */
  report_free(&r);
}

static void test_no_votes(void) {
  struct report r;
  report_init(&r, S(0), S(100), S(100));
  report_votes_done(&r);
  source(&r, 1, "x", "GPS");
  report_source_done(&r, &r.sources[0]);
  report_finish(&r);
  CHECK_INT(r.observed_ns, 0);
  CHECK(isnan(r.sources[0].availability));
  CHECK(isnan(r.vetted_offset.median));
  report_free(&r);
}

static void test_intervals(void) {
  struct report_iv xa[] = {{0, 10}, {20, 30}, {40, 50}}, ya[] = {{5, 25}, {45, 60}};
  struct report_ivs x = {xa, 3, 3}, y = {ya, 2, 2}, o = {0};
  CHECK_INT(report_ivs_intersect(&x, &y, &o), 0);
  CHECK_INT(o.n, 3);
  CHECK_INT(o.v[0].a, 5);
  CHECK_INT(o.v[0].b, 10);
  CHECK_INT(o.v[1].a, 20);
  CHECK_INT(o.v[1].b, 25);
  CHECK_INT(o.v[2].a, 45);
  CHECK_INT(report_ivs_total(&o), 5 + 5 + 5);
  CHECK_INT(report_ivs_union(&x, &y, &o), 0);
  CHECK_INT(o.n, 2); /* [0, 30) and [40, 60) */
  CHECK_INT(o.v[0].b, 30);
  CHECK_INT(o.v[1].a, 40);
  CHECK_INT(o.v[1].b, 60);
  struct report_ivs e = {0};
  CHECK_INT(report_ivs_intersect(&x, &e, &o), 0);
  CHECK_INT(o.n, 0);
  report_ivs_free(&o);
}

static void test_period(void) {
  int64_t f, t, now = S(1764480000); /* 2025-11-30T05:20:00Z */
  char err[200];
  CHECK_INT(report_parse_period(NULL, NULL, NULL, now, &f, &t, err, sizeof err), 0);
  CHECK_INT(t - f, S(86400));
  CHECK_INT(report_parse_period("90m", NULL, NULL, now, &f, &t, err, sizeof err), 0);
  CHECK_INT(t, now);
  CHECK_INT(t - f, S(5400));
  CHECK_INT(report_parse_period("2w", NULL, NULL, now, &f, &t, err, sizeof err), 0);
  CHECK_INT(t - f, S(14 * 86400));
  CHECK_INT(report_parse_period(NULL, "2025-11-29T00:00:00Z", "2025-11-30T00:00:00Z", now, &f,
                                &t, err, sizeof err), 0);
  CHECK_INT(f, S(1764374400));
  CHECK_INT(t - f, S(86400));
  CHECK_INT(report_parse_period(NULL, "-2h", NULL, now, &f, &t, err, sizeof err), 0);
  CHECK_INT(t - f, S(7200));
  static const struct {
    const char *since, *from, *to, *why;
  } bad[] = {
      {"24x", NULL, NULL, "bad --since \"24x\""},
      {"0h", NULL, NULL, "bad --since"},
      {"-1h", NULL, NULL, "bad --since"},
      {"h", NULL, NULL, "bad --since"},
      {"200y", NULL, NULL, "bad --since"},
      {"24h", "-1h", NULL, "not both"},
      {NULL, NULL, "now", "--to needs --from"},
      {NULL, "yesterday", NULL, "bad --from \"yesterday\""},
      {NULL, "-1h", "tomorrow", "bad --to"},
      {NULL, "-1h", "-2h", "the period is empty"},
      {NULL, "now", NULL, "the period is empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    CHECK_INT(report_parse_period(bad[i].since, bad[i].from, bad[i].to, now, &f, &t, err,
                                  sizeof err), -1);
    if (!strstr(err, bad[i].why)) fprintf(stderr, "case %zu: \"%s\"\n", i, err);
    CHECK(strstr(err, bad[i].why) != NULL);
  }
}

static char *render_text(const struct report *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  report_print_text(r, "/var/lib/vettime/history.db", out);
  fclose(out);
  return buf;
}

static void test_text(void) {
  struct report r;
  build(&r);
  char *t = render_text(&r);
  CHECK(strstr(t, "vettime report 1970-01-01T00:16:40Z to 1970-01-01T00:18:20Z (1m 40s)\n") == t);
  CHECK(strstr(t, "\nCRITICAL: 1 critical alarm in the period\n") != NULL);
  CHECK(strstr(t, "  observed       1m 20s (80 rounds)\n") != NULL);
  CHECK(strstr(t, "  not vetted     10s\n") != NULL);
  CHECK(strstr(t, "  holdover       15s\n") != NULL); /* 14.5 s, rounded */
  CHECK(strstr(t, "  vetted offset  median +2.000us, p99 |offset| 4.000us, max |offset| 4.000us\n") != NULL);
  /* aligned columns: the header and rows of a table share their widths */
  CHECK(strstr(t, "  Name  Class     Avail  Samples      Median   p99|off|   Max|off|     Bound  Steps      Drift  Falseticker\n") != NULL);
  CHECK(strstr(t, "  a     GPS    100.00 %       80    +3.000us    6.000us    6.000us  30.000us      1  -0.002ppm           0s\n") != NULL);
  CHECK(strstr(t, "  b     GPS     41.25 %       31    -5.000us") != NULL);
  CHECK(strstr(t, "  DCF          1   24.53 %      1m 00s\n") != NULL);
  CHECK(strstr(t, "Alarms: 3 in the period (raised 2, cleared 2, open at the end 1; critical 1, warning 2, info 0)\n") != NULL);
  CHECK(strstr(t, "   3  critical  falseticker  c       1970-01-01T00:17:00Z  open") != NULL);
  /* newest raised first: 4, 3, 2 */
  const char *a4 = strstr(t, "\n   4  "), *a3 = strstr(t, "\n   3  "), *a2 = strstr(t, "\n   2  ");
  CHECK(a4 && a3 && a2 && a4 < a3 && a3 < a2);
  /* no line ends in a blank (mail clients show them as noise) */
  CHECK(strstr(t, " \n") == NULL);
  if (getenv("SHOW")) fputs(t, stderr);
  free(t);
  report_free(&r);
}

static void test_json(void) {
  struct report r;
  build(&r);
  json_object *doc = report_json(&r, "/x.db");
  const char *text = json_object_to_json_string(doc);
  json_object *back = json_tokener_parse(text); /* it parses */
  CHECK(back != NULL);
  json_object *v, *o;
  CHECK(json_object_object_get_ex(back, "report_version", &v) && json_object_get_int(v) == 1);
  CHECK(json_object_object_get_ex(back, "exit_status", &v) && json_object_get_int(v) == 2);
  CHECK(json_object_object_get_ex(back, "status", &v) &&
        strcmp(json_object_get_string(v), "critical") == 0);
  CHECK(json_object_object_get_ex(back, "time", &o));
  CHECK(json_object_object_get_ex(o, "observed", &v) && json_object_get_double(v) == 79.5);
  CHECK(json_object_object_get_ex(o, "not_vetted", &v) && json_object_get_double(v) == 10);
  CHECK(json_object_object_get_ex(back, "sources", &o) && json_object_array_length(o) == 3);
  json_object *b = json_object_array_get_idx(o, 1);
  CHECK(json_object_object_get_ex(b, "name", &v) && strcmp(json_object_get_string(v), "b") == 0);
  CHECK(json_object_object_get_ex(b, "availability", &v) &&
        fabs(json_object_get_double(v) - 33.0 / 80) < 1e-12);
  CHECK(json_object_object_get_ex(b, "offset_median", &v) && json_object_get_double(v) == -5e-6);
  CHECK(json_object_object_get_ex(b, "falseticker", &v) && json_object_get_double(v) == 5);
  CHECK(json_object_object_get_ex(back, "alarms", &o));
  CHECK(json_object_object_get_ex(o, "count", &v) && json_object_get_int(v) == 3);
  CHECK(json_object_object_get_ex(o, "list", &v) && json_object_array_length(v) == 3);
  CHECK(json_object_object_get_ex(back, "classes_note", &v) && v == NULL);
  json_object_put(back);
  json_object_put(doc);
  report_free(&r);
}

static void test_html(void) {
  struct report r;
  build(&r);
  snprintf(r.sources[0].src.name, sizeof r.sources[0].src.name, "<a&b>");
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  report_print_html(&r, "/x.db", out);
  fclose(out);
  CHECK(strncmp(buf, "<!DOCTYPE html>", 15) == 0);
  CHECK(strstr(buf, "</html>\n") != NULL);
  int svgs = 0;
  for (const char *p = buf; (p = strstr(p, "<svg ")); p++) svgs++;
  CHECK_INT(svgs, 4); /* the vetted offset and one a source */
  CHECK(strstr(buf, "<polygon") != NULL && strstr(buf, "<polyline") != NULL);
  /* self-contained: nothing fetched from anywhere */
  CHECK(strstr(buf, "http:") == NULL && strstr(buf, "https:") == NULL);
  CHECK(strstr(buf, "src=") == NULL && strstr(buf, "href=") == NULL);
  CHECK(strstr(buf, "<script") == NULL && strstr(buf, "@import") == NULL);
  CHECK(strstr(buf, "&lt;a&amp;b&gt;") != NULL && strstr(buf, "<a&b>") == NULL);
  CHECK(strstr(buf, "width=\"600\"") != NULL);
  free(buf);
  report_free(&r);
}

/* The first rounds after a start have a bound of milliseconds: the chart
 * cuts those few columns rather than squash a day into a line. */
static void test_html_clips_a_start(void) {
  struct report r;
  report_init(&r, S(0), S(2000), S(2000));
  for (int i = 0; i < 2000; i++) vote(&r, i + 0.5, true, 1e-6, i < 5 ? 3e-3 : 20e-6);
  report_votes_done(&r);
  report_finish(&r);
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  report_print_html(&r, "/x.db", out);
  fclose(out);
  CHECK(strstr(buf, "a few columns beyond this range are cut") != NULL);
  CHECK(strstr(buf, "clip-path=\"url(#plot0)\"") != NULL);
  CHECK(strstr(buf, ">+3.000ms<") == NULL);   /* not scaled to the spike */
  /* 1 us +- 20 us, and 5 % of room: labels at +23, +1 and -21 us */
  CHECK(strstr(buf, ">+23.000us<") && strstr(buf, ">+1.000us<") && strstr(buf, ">-21.000us<"));
  free(buf);
  report_free(&r);
}

/* A flapping source: the mail lists the critical alarms and the newest,
 * at most REPORT_ALARMS_SHOWN, newest first; JSON all. */
static void test_many_alarms(void) {
  struct report r;
  report_init(&r, S(0), S(10000), S(10000));
  vote(&r, 1, true, 0, 1e-6);
  report_votes_done(&r);
  for (int i = 0; i < 500; i++)
    alarm(&r, i + 1, "step", i == 7 ? "critical" : "warning", 10 + i, 11 + i, "x");
  report_finish(&r);
  size_t idx[REPORT_ALARMS_SHOWN];
  CHECK_INT(report_alarms_shown(&r, idx), REPORT_ALARMS_SHOWN);
  CHECK_INT(r.alarms[idx[0]].a.id, 500); /* the newest first */
  CHECK_INT(r.alarms[idx[REPORT_ALARMS_SHOWN - 2]].a.id, 500 - (REPORT_ALARMS_SHOWN - 1) + 1);
  CHECK_INT(r.alarms[idx[REPORT_ALARMS_SHOWN - 1]].a.id, 8); /* the critical one, the oldest */
  char *t = render_text(&r);
  CHECK(strstr(t, "  (400 more not shown: the critical ones and the newest are; --json lists all)\n") != NULL);
  free(t);
  json_object *doc = report_json(&r, "/x.db"), *al, *list;
  CHECK(json_object_object_get_ex(doc, "alarms", &al) && json_object_object_get_ex(al, "list", &list) &&
        json_object_array_length(list) == 500);
  json_object_put(doc);
  report_free(&r);
}

int main(void) {
  unit_init();
  RUN(test_time);
  RUN(test_sources);
  RUN(test_classes);
  RUN(test_class_lost);
  RUN(test_alarms_and_exit);
  RUN(test_restart_ends_conditions);
  RUN(test_drift_across_a_step);
  RUN(test_no_votes);
  RUN(test_intervals);
  RUN(test_period);
  RUN(test_text);
  RUN(test_json);
  RUN(test_html);
  RUN(test_html_clips_a_start);
  RUN(test_many_alarms);
  return unit_done();
}
