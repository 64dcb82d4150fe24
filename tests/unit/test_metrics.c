/* Unit tests for web/metrics.c (the Prometheus text format 0.0.4) and
 * web/access.c (who may change state): escaping of label values and HELP
 * texts, NaN and infinities, no sample outside its family, a family once,
 * counters named _total, values left out when they do not exist, the
 * state sets; bearer tokens, routes and ids. */
#include "web/access.h"
#include "web/metrics.h"

#include <math.h>
#include <string.h>

#include "unit.h"

static void reset(struct metrics_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- the writer ---- */

static void test_value_format(void) {
  char buf[32];
  CHECK_STR(metrics_format_value(NAN, buf), "NaN");
  CHECK_STR(metrics_format_value(INFINITY, buf), "+Inf");
  CHECK_STR(metrics_format_value(-INFINITY, buf), "-Inf");
  CHECK_STR(metrics_format_value(0, buf), "0");
  CHECK_STR(metrics_format_value(255, buf), "255");
  CHECK_STR(metrics_format_value(0.1, buf), "0.1");
  CHECK_STR(metrics_format_value(-2.5e-06, buf), "-2.5e-06");
  CHECK(strtod(metrics_format_value(157680000.000123, buf), NULL) == 157680000.000123);
  CHECK(strtod(metrics_format_value(1.0 / 3.0, buf), NULL) == 1.0 / 3.0);
}

static void test_label_escaping(void) {
  struct metrics_buf b;
  memset(&b, 0, sizeof b);
  metrics_escape_label(&b, "a\\b\"c\nd");
  CHECK_STR(b.p, "a\\\\b\\\"c\\nd");
  reset(&b);
  metrics_escape_label(&b, "caf\xc3\xa9 \xe2\x82\xac"); /* valid UTF-8 stays */
  CHECK_STR(b.p, "caf\xc3\xa9 \xe2\x82\xac");
  reset(&b);
  metrics_escape_label(&b, "x\xff" "y\xc0\xaf" "z\xed\xa0\x80"); /* invalid, overlong, surrogate */
  CHECK_STR(b.p, "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  reset(&b);
}

static void test_family_and_sample(void) {
  struct metrics_buf b;
  memset(&b, 0, sizeof b);
  metrics_family(&b, "vettime_x_seconds", "gauge", "Help with \\ and\nnewline \"quoted\".");
  metrics_sample(&b, "vettime_x_seconds", (const char *const[]){"source", "a\"b", NULL}, 1.5);
  metrics_sample(&b, "vettime_x_seconds", NULL, NAN);
  CHECK(!b.bad && !b.oom);
  CHECK_STR(b.p, "# HELP vettime_x_seconds Help with \\\\ and\\nnewline \"quoted\".\n"
                 "# TYPE vettime_x_seconds gauge\n"
                 "vettime_x_seconds{source=\"a\\\"b\"} 1.5\n"
                 "vettime_x_seconds NaN\n");
  reset(&b);
}

static void test_sample_before_type_refused(void) {
  struct metrics_buf b;
  memset(&b, 0, sizeof b);
  metrics_sample(&b, "vettime_orphan", NULL, 1);
  CHECK(b.bad);
  reset(&b);
  metrics_family(&b, "vettime_a", "gauge", "a");
  metrics_family(&b, "vettime_b", "gauge", "b");
  metrics_sample(&b, "vettime_a", NULL, 1); /* after another family began */
  CHECK(b.bad);
  reset(&b);
}

static void test_family_rules(void) {
  struct metrics_buf b;
  memset(&b, 0, sizeof b);
  metrics_family(&b, "vettime_events", "counter", "no _total");
  CHECK(b.bad);
  reset(&b);
  metrics_family(&b, "vettime_x_total", "gauge", "a gauge named _total");
  CHECK(b.bad);
  reset(&b);
  metrics_family(&b, "vettime_x", "histogram", "not a type we write");
  CHECK(b.bad);
  reset(&b);
  metrics_family(&b, "9vettime", "gauge", "bad name");
  CHECK(b.bad);
  reset(&b);
  metrics_family(&b, "vettime_twice", "gauge", "once");
  metrics_family(&b, "vettime_twice", "gauge", "twice");
  CHECK(b.bad);
  reset(&b);
  metrics_family(&b, "vettime_l", "gauge", "bad label name");
  metrics_sample(&b, "vettime_l", (const char *const[]){"__reserved", "v", NULL}, 1);
  CHECK(b.bad);
  reset(&b);
}

static void test_names(void) {
  CHECK(metrics_valid_name("vettime_a:b_c9"));
  CHECK(!metrics_valid_name(""));
  CHECK(!metrics_valid_name("a-b"));
  CHECK(metrics_valid_label_name("source"));
  CHECK(!metrics_valid_label_name("a:b"));
  CHECK(!metrics_valid_label_name("__name__"));
  CHECK(!metrics_valid_label_name("1x"));
}

/* ---- the document ---- */

static struct source_report src(const char *name, enum ref_class c, bool sample) {
  struct source_report r;
  memset(&r, 0, sizeof r);
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.kind, sizeof r.kind, "ntp");
  r.ref_class = c;
  snprintf(r.probe.state, sizeof r.probe.state, "%s", sample ? "ok" : "init");
  r.probe.stratum = sample ? 1 : -1;
  r.probe.refid = 0x47505300; /* "GPS" */
  r.probe.reach = sample ? 0xff : 0;
  r.probe.poll = 4;
  r.probe.have_sample = sample;
  r.probe.last.offset = 1.25e-4;
  r.probe.last.error_bound = 2e-5;
  r.probe.counters[PC_SENT] = 7;
  r.voted = true;
  r.vote_state = sample ? SS_BEST : SS_NO_SAMPLE;
  return r;
}

/* Every non-comment line is "name{...} value" of the family of the last
 * TYPE line; returns the number of samples, -1 on a stray one. */
static int check_grouping(const char *text) {
  char family[128] = "";
  int samples = 0;
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    if (!end) return -1; /* the document ends with a newline */
    size_t len = (size_t)(end - line);
    if (len > 7 && strncmp(line, "# TYPE ", 7) == 0) {
      size_t n = strcspn(line + 7, " ");
      snprintf(family, sizeof family, "%.*s", (int)n, line + 7);
    } else if (line[0] != '#') {
      size_t n = strcspn(line, "{ ");
      if (strlen(family) != n || strncmp(line, family, n) != 0) return -1;
      samples++;
    }
    line = end + 1;
  }
  return samples;
}

static void test_render_document(void) {
  struct status_report st;
  memset(&st, 0, sizeof st);
  snprintf(st.version, sizeof st.version, "0.1.0");
  st.sources = 2;
  st.samples_written = 42;
  st.history_buffered = 7;
  st.history_dropped = 2;
  struct source_report s[2] = {src("gps \"one\"", CLASS_GPS, true), src("dcf", CLASS_DCF, false)};
  struct vote_report v;
  memset(&v, 0, sizeof v);
  v.valid = true;
  v.time_ns = 1700000000500000000LL;
  v.verdict.vetted = true;
  v.verdict.offset = 1e-5;
  v.verdict.error = 3e-5;
  v.verdict.class_mask = 1u << CLASS_GPS;
  v.verdict.class_offset[CLASS_GPS] = 1.1e-5;
  v.local_freq_ppm = NAN;
  struct alarm_report a[2];
  memset(a, 0, sizeof a);
  a[0].alarm.active = true, a[0].alarm.kind = EV_FALSETICKER, a[0].alarm.severity = SEV_CRITICAL;
  a[1].alarm.active = false, a[1].alarm.kind = EV_STEP, a[1].alarm.severity = SEV_WARNING;
  struct clock_snapshot c;
  memset(&c, 0, sizeof c);
  c.state = CLOCK_HOLDOVER;
  c.error = 1e-4;
  c.stratum = 2;
  struct outbox_report ob = {true, 3, 1};
  struct metrics_http h = {{5, 1}, 6, 1};
  struct serve_report sv;
  memset(&sv, 0, sizeof sv);
  sv.enabled = true, sv.sockets = 2;
  sv.counters[SC_RECEIVED] = 10, sv.counters[SC_ANSWERED] = 6, sv.counters[SC_AUTH_OK] = 2;
  sv.counters[SC_DROP_CONTROL] = 3, sv.counters[SC_DROP_RATE] = 1;
  struct metrics_input in = {&st, s, 2, &v, a, 2, &c, &ob, &h, &sv};
  size_t len = 0;
  char *t = metrics_render(&in, &len);
  CHECK(t != NULL);
  if (!t) return;
  /* the NTP server: every request once by result, signed apart */
  CHECK(strstr(t, "vettime_server_sockets 2\n"));
  CHECK(strstr(t, "vettime_server_received_total 10\n"));
  CHECK(strstr(t, "vettime_server_requests_total{result=\"answered\"} 6\n"));
  CHECK(strstr(t, "vettime_server_requests_total{result=\"control\"} 3\n"));
  CHECK(strstr(t, "vettime_server_requests_total{result=\"rate\"} 1\n"));
  CHECK(strstr(t, "vettime_server_requests_total{result=\"crypto_nak\"} 0\n"));
  CHECK(!strstr(t, "vettime_server_requests_total{result=\"auth_ok\"}"));
  CHECK(strstr(t, "vettime_server_signed_total 2\n"));
  CHECK_INT(len, strlen(t));
  CHECK(check_grouping(t) > 50);
  CHECK(strstr(t, "vettime_source_info{source=\"gps \\\"one\\\"\",kind=\"ntp\",class=\"GPS\",refid=\"GPS\"} 1\n"));
  CHECK(strstr(t, "vettime_source_offset_seconds{source=\"gps \\\"one\\\"\"} 0.000125\n"));
  /* a source without a sample has no offset, and no stratum before a response */
  CHECK(!strstr(t, "vettime_source_offset_seconds{source=\"dcf\"}"));
  CHECK(!strstr(t, "vettime_source_stratum{source=\"dcf\"}"));
  CHECK(strstr(t, "vettime_source_reach{source=\"dcf\"} 0\n"));
  CHECK(strstr(t, "vettime_source_poll_interval_seconds{source=\"dcf\"} 16\n"));
  CHECK(strstr(t, "vettime_source_vote_state{source=\"gps \\\"one\\\"\",state=\"best\"} 1\n"));
  CHECK(strstr(t, "vettime_source_vote_state{source=\"gps \\\"one\\\"\",state=\"falseticker\"} 0\n"));
  CHECK(strstr(t, "vettime_source_probe_events_total{source=\"dcf\",event=\"sent\"} 7\n"));
  CHECK(strstr(t, "vettime_class_agreeing{class=\"GPS\"} 1\n"));
  CHECK(strstr(t, "vettime_class_agreeing{class=\"DCF\"} 0\n"));
  CHECK(strstr(t, "vettime_class_offset_seconds{class=\"GPS\"} 1.1e-05\n"));
  CHECK(!strstr(t, "vettime_class_offset_seconds{class=\"DCF\"}"));
  CHECK(strstr(t, "vettime_vetted 1\n"));
  CHECK(strstr(t, "vettime_vetted_offset_seconds 1e-05\n"));
  CHECK(strstr(t, "vettime_vote_timestamp_seconds 1700000000.5\n"));
  CHECK(!strstr(t, "\nvettime_local_clock_frequency_error_ratio "));  /* unknown: left out */
  CHECK(strstr(t, "vettime_alarms_open{kind=\"falseticker\",severity=\"critical\"} 1\n"));
  CHECK(strstr(t, "vettime_alarms_open{kind=\"step\",severity=\"warning\"} 0\n")); /* cleared */
  CHECK(strstr(t, "vettime_alert_outbox_pending 3\n"));
  CHECK(strstr(t, "vettime_clock_state{state=\"holdover\"} 1\n"));
  CHECK(strstr(t, "vettime_clock_state{state=\"serving\"} 0\n"));
  CHECK(strstr(t, "vettime_history_samples_written_total 42\n"));
  CHECK(strstr(t, "vettime_history_buffered_samples 7\n"));
  CHECK(strstr(t, "vettime_history_dropped_total 2\n"));
  CHECK(strstr(t, "vettime_http_responses_total{code=\"400\"} 1\n"));
  CHECK(!strstr(t, "NaN"));
  free(t);
}

static void test_render_not_vetted_and_empty(void) {
  struct vote_report v;
  memset(&v, 0, sizeof v);
  v.valid = true;
  v.verdict.vetted = false;
  v.verdict.offset = 0.5; /* a majority's figure, but not vetted */
  v.local_freq_ppm = 2.0;
  struct metrics_input in;
  memset(&in, 0, sizeof in);
  in.vote = &v;
  size_t len;
  char *t = metrics_render(&in, &len);
  CHECK(t != NULL);
  if (!t) return;
  CHECK(check_grouping(t) > 0);
  CHECK(strstr(t, "vettime_vetted 0\n"));
  CHECK(strstr(t, "# TYPE vettime_vetted_offset_seconds gauge\n"));
  CHECK(!strstr(t, "vettime_vetted_offset_seconds 0.5"));
  CHECK(strstr(t, "vettime_local_clock_frequency_error_ratio 2e-06\n"));
  free(t);
  v.valid = false; /* before the first round: no vote families at all */
  t = metrics_render(&in, &len);
  CHECK(t && !strstr(t, "vettime_vetted"));
  free(t);
}

/* ---- access ---- */

static void test_access_route(void) {
  enum web_action a;
  CHECK_INT(access_route("POST", "/api/v1/alert/test", &a), 200);
  CHECK_INT(a, WA_ALERT_TEST);
  CHECK_INT(access_route("POST", "/api/v1/alert/retry?id=3", &a), 200);
  CHECK_INT(a, WA_ALERT_RETRY);
  CHECK_INT(access_route("GET", "/api/v1/alert/test", &a), 405);
  CHECK_INT(a, WA_NONE);
  CHECK_INT(access_route("post", "/api/v1/alert/test", &a), 405); /* methods are case-sensitive */
  CHECK_INT(access_route("POST", "/api/v1/alert/testx", &a), 0);
  CHECK_INT(access_route("POST", "/api/v1/status", &a), 0);
  CHECK_INT(access_route(NULL, "/api/v1/alert/test", &a), 0);
}

static void test_access_authorize(void) {
  const char *why;
  const char *tok = "0123456789abcdef0123";
  CHECK_INT(access_authorize(NULL, "Bearer x", &why), 403);
  CHECK_INT(access_authorize("", NULL, &why), 403);
  CHECK(strstr(why, "httptoken"));
  CHECK_INT(access_authorize(tok, NULL, &why), 401);
  CHECK_INT(access_authorize(tok, "Basic 0123456789abcdef0123", &why), 401);
  CHECK_INT(access_authorize(tok, "Bearer", &why), 401);
  CHECK_INT(access_authorize(tok, "Bearer 0123456789abcdef012", &why), 401);   /* prefix */
  CHECK_INT(access_authorize(tok, "Bearer 0123456789abcdef01234", &why), 401); /* longer */
  CHECK_INT(access_authorize(tok, "Bearer 0123456789abcdef0124", &why), 401);
  CHECK_INT(access_authorize(tok, "Bearer 0123456789abcdef0123", &why), 200);
  CHECK_INT(access_authorize(tok, "bearer  0123456789abcdef0123", &why), 200);
}

static void test_access_ids(void) {
  long long id = -1;
  CHECK_INT(access_parse_id(NULL, &id), 0);
  CHECK_INT(id, 0);
  CHECK_INT(access_parse_id("all", &id), 0);
  CHECK_INT(id, 0);
  CHECK_INT(access_parse_id("17", &id), 0);
  CHECK_INT(id, 17);
  CHECK_INT(access_parse_id("0", &id), -1);
  CHECK_INT(access_parse_id("-3", &id), -1);
  CHECK_INT(access_parse_id("12x", &id), -1);
  CHECK_INT(access_parse_id("", &id), -1);
  CHECK_INT(access_parse_id("99999999999999999999", &id), -1);
}

int main(void) {
  unit_init();
  RUN(test_value_format);
  RUN(test_label_escaping);
  RUN(test_family_and_sample);
  RUN(test_sample_before_type_refused);
  RUN(test_family_rules);
  RUN(test_names);
  RUN(test_render_document);
  RUN(test_render_not_vetted_and_empty);
  RUN(test_access_route);
  RUN(test_access_authorize);
  RUN(test_access_ids);
  return unit_done();
}
