/* Unit tests for web/api.c: the JSON documents built from hand-made report
 * structs (field names, nulls, precision of doubles, counters) and the
 * routing decisions. */
#include "web/api.h"

#include <string.h>

#include "unit.h"

static const char *plain(json_object *o) {
  return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static json_object *get(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v)) {
    fprintf(stderr, "missing key \"%s\"\n", key);
    return NULL;
  }
  return v;
}

/* The JSON text of one member, as a client would read it off the wire. */
static const char *member_text(json_object *o, const char *key) {
  static char buf[128];
  json_object *v = get(o, key);
  snprintf(buf, sizeof buf, "%s",
           v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null");
  return buf;
}

static bool has_key(json_object *o, const char *key) {
  return json_object_object_get_ex(o, key, NULL);
}

/* ---- status ----------------------------------------------------------- */

static struct status_report sample_status(void) {
  struct status_report s;
  memset(&s, 0, sizeof s);
  snprintf(s.version, sizeof s.version, "0.1.0");
  s.now.tv_sec = 1700000000;
  s.now.tv_nsec = 500000000;
  s.uptime = 3600.25;
  s.sources = 3;
  s.reachable = 2;
  s.with_sample = 1;
  snprintf(s.database, sizeof s.database, "/var/lib/vettime/history.db");
  s.samples_written = 12345678901ULL;
  s.history_errors = 2;
  s.history_buffered = 17;
  s.history_dropped = 3;
  s.clock_steps = 1;
  s.last_clock_step = -0.5;
  return s;
}

static void test_status_fields(void) {
  struct status_report s = sample_status();
  json_object *o = api_status_json(&s);
  CHECK(o != NULL);
  static const char *const keys[] = {
      "version", "now", "uptime", "sources", "reachable", "with_sample",
      "database", "samples_written", "history_errors", "history_buffered",
      "history_dropped", "clock_steps", "last_clock_step",
      "unauthenticated_sources", "unauthenticated"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    CHECK(has_key(o, keys[i]));
  CHECK_INT(json_object_object_length(o), sizeof keys / sizeof keys[0]);
  CHECK_STR(json_object_get_string(get(o, "version")), "0.1.0");
  CHECK_STR(member_text(o, "now"), "1700000000.5");
  CHECK_STR(member_text(o, "uptime"), "3600.25");
  CHECK_INT(json_object_get_int(get(o, "sources")), 3);
  CHECK_INT(json_object_get_int(get(o, "reachable")), 2);
  CHECK_INT(json_object_get_int(get(o, "with_sample")), 1);
  CHECK_STR(json_object_get_string(get(o, "database")),
            "/var/lib/vettime/history.db");
  CHECK_STR(member_text(o, "samples_written"), "12345678901");
  CHECK_INT(json_object_get_int(get(o, "history_errors")), 2);
  CHECK_INT(json_object_get_int(get(o, "history_buffered")), 17);
  CHECK_INT(json_object_get_int(get(o, "history_dropped")), 3);
  CHECK_INT(json_object_get_int(get(o, "clock_steps")), 1);
  CHECK_STR(member_text(o, "last_clock_step"), "-0.5");
  CHECK_INT(json_object_get_int(get(o, "unauthenticated_sources")), 0);
  CHECK_INT(json_object_array_length(get(o, "unauthenticated")), 0);
  json_object_put(o);
}

static void test_status_unauthenticated(void) {
  struct status_report s = sample_status();
  s.unauthenticated = 2;
  snprintf(s.unauthenticated_names, sizeof s.unauthenticated_names, "a.example\n127.0.0.1:123\n");
  json_object *o = api_status_json(&s);
  CHECK_INT(json_object_get_int(get(o, "unauthenticated_sources")), 2);
  json_object *names = get(o, "unauthenticated");
  CHECK_INT(json_object_array_length(names), 2);
  CHECK_STR(json_object_get_string(json_object_array_get_idx(names, 0)), "a.example");
  CHECK_STR(json_object_get_string(json_object_array_get_idx(names, 1)), "127.0.0.1:123");
  json_object_put(o);
}

static void test_status_reparses(void) {
  struct status_report s = sample_status();
  json_object *o = api_status_json(&s);
  json_object *back = json_tokener_parse(plain(o));
  CHECK(back != NULL);
  CHECK_NEAR(json_object_get_double(get(back, "now")), 1700000000.5, 0);
  json_object_put(back);
  json_object_put(o);
}

/* ---- doubles ---------------------------------------------------------- */

static void check_double_roundtrip(double v, const char *expected_text) {
  json_object *o = api_json_double(v);
  const char *text = plain(o);
  CHECK_STR(text, expected_text);
  json_object *back = json_tokener_parse(text);
  CHECK(back != NULL);
  CHECK(json_object_get_double(back) == v);
  json_object_put(back);
  json_object_put(o);
}

static void test_double_precision(void) {
  check_double_roundtrip(157680000.000123, "157680000.000123");
  check_double_roundtrip(1e-7, "1e-07");
  check_double_roundtrip(0.1, "0.1");
  check_double_roundtrip(-0.00025, "-0.00025");
  check_double_roundtrip(1.0003, "1.0003");
  check_double_roundtrip(0.0, "0");
  /* Needs all 17 digits. */
  check_double_roundtrip(0.30000000000000004, "0.30000000000000004");
}

static void test_double_not_finite_is_null(void) {
  CHECK(api_json_double(NAN) == NULL);
  CHECK(api_json_double(INFINITY) == NULL);
  CHECK(api_json_double(-INFINITY) == NULL);
}

/* ---- sources ---------------------------------------------------------- */

static struct source_report gps_source(void) {
  struct source_report r;
  memset(&r, 0, sizeof r);
  r.index = 0;
  snprintf(r.name, sizeof r.name, "127.0.0.1:11123");
  snprintf(r.kind, sizeof r.kind, "ntp");
  r.ref_class = CLASS_GPS;
  struct probe_report *p = &r.probe;
  snprintf(p->state, sizeof p->state, "ok");
  p->stratum = 1;
  p->refid = 0x47505300; /* "GPS\0" */
  p->inferred_class = CLASS_GPS;
  p->reach = 0377;
  p->poll = 6;
  p->have_sample = true;
  p->last.offset = 157680000.000123;
  p->last.error_bound = 1e-7;
  p->last.delay = 0.000250;
  p->last.dispersion = 0.0000152;
  p->last.root_delay = 0;
  p->last.root_dispersion = 0.001;
  p->last.leap = 0;
  p->filtered_offset = 157680000.0001;
  p->filtered_error = 0.002;
  p->jitter = 0.00001;
  p->last_rx.tv_sec = 1700000000;
  p->last_rx.tv_nsec = 250000000;
  p->counters[PC_SENT] = 10;
  p->counters[PC_RECEIVED] = 9;
  p->counters[PC_TIMEOUT] = 1;
  r.vote_flags = 0;
  r.voted = true;
  r.vote_state = SS_BEST;
  snprintf(r.vote_why, sizeof r.vote_why, "lowest error bound of 3 truechimers");
  return r;
}

static json_object *first_source(json_object *doc) {
  json_object *list = get(doc, "sources");
  CHECK(json_object_is_type(list, json_type_array));
  return json_object_array_get_idx(list, 0);
}

static void test_sources_fields(void) {
  struct source_report r = gps_source();
  json_object *doc = api_sources_json(&r, 1);
  CHECK_INT(json_object_object_length(doc), 1);
  CHECK_INT(json_object_array_length(get(doc, "sources")), 1);
  json_object *s = first_source(doc);
  static const char *const keys[] = {
      "index", "name", "address", "kind", "class", "class_configured", "noselect",
      "state", "stratum", "refid", "reach", "poll", "have_sample", "offset",
      "error_bound", "delay", "dispersion", "root_delay", "root_dispersion",
      "leap", "filtered_offset", "filtered_error", "jitter", "last_rx",
      "counters", "vote_state", "vote_why", "trust", "require", "prefer", "detail", "stats", "auth"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    CHECK(has_key(s, keys[i]));
  CHECK_INT(json_object_object_length(s), sizeof keys / sizeof keys[0]);
  CHECK(json_object_is_type(get(s, "detail"), json_type_null)); /* an NTP server has none */
  CHECK_INT(json_object_get_int(get(s, "index")), 0);
  CHECK_STR(json_object_get_string(get(s, "name")), "127.0.0.1:11123");
  CHECK_STR(json_object_get_string(get(s, "address")), "127.0.0.1:11123"); /* none set: the name */
  CHECK_STR(json_object_get_string(get(s, "kind")), "ntp");
  CHECK_STR(json_object_get_string(get(s, "class")), "GPS");
  CHECK_STR(member_text(s, "class_configured"), "false");
  CHECK_STR(member_text(s, "noselect"), "false");
  CHECK_STR(json_object_get_string(get(s, "state")), "ok");
  CHECK_STR(member_text(s, "stratum"), "1");
  CHECK_STR(json_object_get_string(get(s, "refid")), "GPS");
  CHECK_STR(member_text(s, "reach"), "255");
  CHECK_STR(member_text(s, "poll"), "6");
  CHECK_STR(member_text(s, "have_sample"), "true");
  CHECK(json_object_is_type(get(s, "stats"), json_type_null)); /* no round yet */
  json_object_put(doc);
}

/* `vettime sourcestats` reads the vote's statistics of each source: null
 * before the first round, then samples, offset, sd, jitter and freq_ppm,
 * with null for what is not measured yet. */
static void test_sources_stats(void) {
  struct source_report r = gps_source();
  r.have_stats = true;
  r.stats.samples = 8;
  r.stats.offset = -1.5e-6;
  r.stats.sd = 2e-7;
  r.stats.jitter = 3.25e-6;
  r.stats.freq_ppm = NAN;
  json_object *doc = api_sources_json(&r, 1);
  json_object *st = get(first_source(doc), "stats");
  CHECK(json_object_is_type(st, json_type_object));
  CHECK_INT(json_object_object_length(st), 5);
  CHECK_STR(member_text(st, "samples"), "8");
  CHECK_STR(member_text(st, "offset"), "-1.5e-06");
  CHECK_STR(member_text(st, "sd"), "2e-07");
  CHECK_STR(member_text(st, "jitter"), "3.25e-06");
  CHECK(json_object_is_type(get(st, "freq_ppm"), json_type_null));
  json_object_put(doc);
  r.stats.freq_ppm = 0.0125;
  doc = api_sources_json(&r, 1);
  CHECK_STR(member_text(get(first_source(doc), "stats"), "freq_ppm"), "0.0125");
  json_object_put(doc);
}

/* A `name LABEL`: the label is the name, the address beside it. */
static void test_sources_label(void) {
  struct source_report r = gps_source();
  snprintf(r.name, sizeof r.name, "gps-roof");
  snprintf(r.address, sizeof r.address, "127.0.0.1:11123");
  json_object *doc = api_sources_json(&r, 1);
  json_object *s = first_source(doc);
  CHECK_STR(json_object_get_string(get(s, "name")), "gps-roof");
  CHECK_STR(json_object_get_string(get(s, "address")), "127.0.0.1:11123");
  json_object_put(doc);
}

static void test_sources_sample_values(void) {
  struct source_report r = gps_source();
  json_object *doc = api_sources_json(&r, 1);
  json_object *s = first_source(doc);
  CHECK_STR(member_text(s, "offset"), "157680000.000123");
  CHECK_STR(member_text(s, "error_bound"), "1e-07");
  CHECK_STR(member_text(s, "delay"), "0.00025");
  CHECK_STR(member_text(s, "dispersion"), "1.52e-05");
  CHECK_STR(member_text(s, "root_delay"), "0");
  CHECK_STR(member_text(s, "root_dispersion"), "0.001");
  CHECK_STR(member_text(s, "leap"), "0");
  CHECK_STR(member_text(s, "filtered_offset"), "157680000.0001");
  CHECK_STR(member_text(s, "filtered_error"), "0.002");
  CHECK_STR(member_text(s, "jitter"), "1e-05");
  CHECK_STR(member_text(s, "last_rx"), "1700000000.25");
  json_object_put(doc);
}

static void test_sources_counters(void) {
  struct source_report r = gps_source();
  json_object *doc = api_sources_json(&r, 1);
  json_object *c = get(first_source(doc), "counters");
  CHECK(json_object_is_type(c, json_type_object));
  CHECK_INT(json_object_object_length(c), PC_COUNT);
  CHECK_INT(json_object_get_int64(get(c, probe_counter_name(PC_SENT))), 10);
  CHECK_INT(json_object_get_int64(get(c, probe_counter_name(PC_RECEIVED))), 9);
  CHECK_INT(json_object_get_int64(get(c, probe_counter_name(PC_TIMEOUT))), 1);
  CHECK_INT(json_object_get_int64(get(c, probe_counter_name(PC_KOD))), 0);
  /* The names scripts rely on. */
  CHECK(has_key(c, "sent"));
  CHECK(has_key(c, "received"));
  json_object_put(doc);
}

static void test_sources_without_sample(void) {
  struct source_report r = gps_source();
  r.probe.have_sample = false;
  r.probe.stratum = -1;
  r.probe.reach = 0;
  snprintf(r.probe.state, sizeof r.probe.state, "init");
  json_object *doc = api_sources_json(&r, 1);
  json_object *s = first_source(doc);
  static const char *const nulls[] = {
      "stratum", "refid", "offset", "error_bound", "delay", "dispersion",
      "root_delay", "root_dispersion", "leap", "filtered_offset",
      "filtered_error", "jitter", "last_rx"};
  for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
    CHECK(has_key(s, nulls[i]));
    CHECK(get(s, nulls[i]) == NULL);
  }
  CHECK_STR(member_text(s, "have_sample"), "false");
  CHECK_STR(member_text(s, "reach"), "0");
  CHECK_STR(json_object_get_string(get(s, "state")), "init");
  CHECK(strstr(plain(doc), "\"offset\":null") != NULL);
  json_object_put(doc);
}

static void test_sources_vote_fields(void) {
  struct source_report r = gps_source();
  r.vote_state = SS_FALSETICKER;
  snprintf(r.vote_why, sizeof r.vote_why, "offset +1.5 s outside [-0.0001, +0.00012] s");
  r.vote_flags = VOTE_F_TRUST | VOTE_F_PREFER;
  json_object *doc = api_sources_json(&r, 1);
  json_object *s = first_source(doc);
  CHECK_STR(json_object_get_string(get(s, "vote_state")), "falseticker");
  CHECK_STR(json_object_get_string(get(s, "vote_why")),
            "offset +1.5 s outside [-0.0001, +0.00012] s");
  CHECK_STR(member_text(s, "trust"), "true");
  CHECK_STR(member_text(s, "require"), "false");
  CHECK_STR(member_text(s, "prefer"), "true");
  json_object_put(doc);

  r.vote_flags = VOTE_F_REQUIRE | VOTE_F_NOSELECT;
  r.vote_state = SS_CLASS_OUTVOTED;
  doc = api_sources_json(&r, 1);
  s = first_source(doc);
  CHECK_STR(json_object_get_string(get(s, "vote_state")), "class-outvoted");
  CHECK_STR(member_text(s, "trust"), "false");
  CHECK_STR(member_text(s, "require"), "true");
  CHECK_STR(member_text(s, "prefer"), "false");
  json_object_put(doc);
}

static void test_sources_before_first_vote(void) {
  struct source_report r = gps_source();
  r.voted = false;
  r.vote_state = SS_NO_SAMPLE; /* whatever the struct holds: not a verdict yet */
  json_object *doc = api_sources_json(&r, 1);
  json_object *s = first_source(doc);
  CHECK(has_key(s, "vote_state"));
  CHECK(get(s, "vote_state") == NULL);
  CHECK(has_key(s, "vote_why"));
  CHECK(get(s, "vote_why") == NULL);
  CHECK_STR(member_text(s, "trust"), "false");
  CHECK(strstr(plain(doc), "\"vote_state\":null") != NULL);
  json_object_put(doc);
}

static void test_sources_unterminated_why(void) {
  struct source_report r = gps_source();
  memset(r.vote_why, 'x', sizeof r.vote_why); /* no NUL: must not read past */
  json_object *doc = api_sources_json(&r, 1);
  CHECK_INT(strlen(json_object_get_string(get(first_source(doc), "vote_why"))),
            sizeof r.vote_why);
  json_object_put(doc);
}

static void test_sources_configured_class(void) {
  struct source_report r = gps_source();
  r.ref_class = CLASS_GAL;
  r.class_configured = true;
  r.noselect = true;
  json_object *doc = api_sources_json(&r, 1);
  json_object *s = first_source(doc);
  CHECK_STR(json_object_get_string(get(s, "class")), "GAL");
  CHECK_STR(member_text(s, "class_configured"), "true");
  CHECK_STR(member_text(s, "noselect"), "true");
  json_object_put(doc);
}

static void test_sources_empty_and_many(void) {
  json_object *doc = api_sources_json(NULL, 0);
  CHECK_STR(plain(doc), "{\"sources\":[]}");
  json_object_put(doc);

  struct source_report r[3] = {gps_source(), gps_source(), gps_source()};
  for (int i = 0; i < 3; i++) r[i].index = i;
  doc = api_sources_json(r, 3);
  json_object *list = get(doc, "sources");
  CHECK_INT(json_object_array_length(list), 3);
  CHECK_INT(json_object_get_int(get(json_object_array_get_idx(list, 2), "index")), 2);
  json_object_put(doc);
}

/* ---- vote ------------------------------------------------------------- */

static const char *const vote_keys[] = {
    "valid", "time", "vetted", "why_not", "offset", "error", "low", "high",
    "candidates", "agreeing", "classes", "agreeing_classes",
    "agreeing_class_names", "best", "best_class", "stratum", "leap",
    "leap_disagree", "local_freq_ppm"};
#define VOTE_KEYS (sizeof vote_keys / sizeof vote_keys[0])

static struct vote_report vetted_vote(void) {
  struct vote_report v;
  memset(&v, 0, sizeof v);
  v.valid = true;
  v.time_ns = 1700000000250000000LL;
  struct vote_verdict *d = &v.verdict;
  d->vetted = true;
  d->offset = 12.345e-6;
  d->error = 0.00025;
  d->low = -0.0001;
  d->high = 0.00012;
  d->candidates = 4;
  d->agreeing = 3;
  d->classes = 3;
  d->agreeing_classes = 2;
  d->class_mask = 1u << CLASS_GPS | 1u << CLASS_GAL;
  d->best = 1;
  d->stratum = 2;
  d->ref_class = CLASS_GPS;
  d->leap = 0;
  snprintf(v.best_name, sizeof v.best_name, "127.0.0.1:12301");
  v.local_freq_ppm = -1.25;
  return v;
}

static void check_vote_keys(json_object *o) {
  for (size_t i = 0; i < VOTE_KEYS; i++) CHECK(has_key(o, vote_keys[i]));
  CHECK_INT(json_object_object_length(o), VOTE_KEYS);
}

static void test_vote_vetted(void) {
  struct vote_report v = vetted_vote();
  json_object *o = api_vote_json(&v);
  check_vote_keys(o);
  CHECK_STR(member_text(o, "valid"), "true");
  CHECK_STR(member_text(o, "time"), "1700000000.25");
  CHECK_STR(member_text(o, "vetted"), "true");
  CHECK_STR(member_text(o, "why_not"), "null");
  CHECK_STR(member_text(o, "offset"), "1.2345e-05");
  CHECK_STR(member_text(o, "error"), "0.00025");
  CHECK_STR(member_text(o, "low"), "-0.0001");
  CHECK_STR(member_text(o, "high"), "0.00012");
  CHECK_STR(member_text(o, "candidates"), "4");
  CHECK_STR(member_text(o, "agreeing"), "3");
  CHECK_STR(member_text(o, "classes"), "3");
  CHECK_STR(member_text(o, "agreeing_classes"), "2");
  CHECK_STR(member_text(o, "agreeing_class_names"), "[\"GPS\",\"GAL\"]");
  CHECK_STR(member_text(o, "best"), "\"127.0.0.1:12301\"");
  CHECK_STR(member_text(o, "best_class"), "\"GPS\"");
  CHECK_STR(member_text(o, "stratum"), "2");
  CHECK_STR(member_text(o, "leap"), "0");
  CHECK_STR(member_text(o, "leap_disagree"), "false");
  CHECK_STR(member_text(o, "local_freq_ppm"), "-1.25");
  json_object_put(o);
}

/* A majority was found but a policy check refused: the figures the verdict
 * holds are not published as if they were vetted. */
static void test_vote_not_vetted(void) {
  struct vote_report v = vetted_vote();
  v.verdict.vetted = false;
  snprintf(v.verdict.why_not, sizeof v.verdict.why_not,
           "no majority: 2 of 5 sources agree");
  v.verdict.best = -1;
  v.verdict.ref_class = CLASS_UNKNOWN;
  v.verdict.class_mask = 0;
  v.verdict.stratum = 16;
  v.verdict.leap = 3;
  v.verdict.leap_disagree = true;
  v.best_name[0] = '\0';
  v.local_freq_ppm = NAN;
  json_object *o = api_vote_json(&v);
  check_vote_keys(o);
  CHECK_STR(member_text(o, "vetted"), "false");
  CHECK_STR(json_object_get_string(get(o, "why_not")), "no majority: 2 of 5 sources agree");
  static const char *const nulls[] = {"offset", "error", "low", "high", "best",
                                      "best_class", "local_freq_ppm"};
  for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
    CHECK(get(o, nulls[i]) == NULL);
  CHECK_STR(member_text(o, "agreeing_class_names"), "[]");
  CHECK_STR(member_text(o, "candidates"), "4");
  CHECK_STR(member_text(o, "stratum"), "16");
  CHECK_STR(member_text(o, "leap"), "3");
  CHECK_STR(member_text(o, "leap_disagree"), "true");
  CHECK_STR(member_text(o, "time"), "1700000000.25");
  json_object_put(o);
}

static void test_vote_before_first_round(void) {
  struct vote_report v;
  memset(&v, 0, sizeof v);
  json_object *o = api_vote_json(&v);
  check_vote_keys(o);
  CHECK_STR(member_text(o, "valid"), "false");
  for (size_t i = 1; i < VOTE_KEYS; i++) CHECK(get(o, vote_keys[i]) == NULL);
  static const char head[] = "{\"valid\":false,\"time\":null,\"vetted\":null,";
  CHECK(strncmp(plain(o), head, strlen(head)) == 0);
  json_object_put(o);
}

/* ---- events ----------------------------------------------------------- */

static struct event_report step_event(void) {
  struct event_report r;
  memset(&r, 0, sizeof r);
  r.event.kind = EV_STEP;
  r.event.source = 2;
  r.event.ref_class = CLASS_DCF;
  r.event.time_ns = 1700000000500000000LL;
  r.event.value = 0.0012;
  r.event.threshold = 0.0001;
  snprintf(r.event.text, sizeof r.event.text, "offset stepped by +1.200 ms");
  snprintf(r.source_name, sizeof r.source_name, "127.0.0.1:12303");
  return r;
}

static void test_events_fields(void) {
  struct event_report r = step_event();
  json_object *doc = api_events_json(&r, 1);
  CHECK_INT(json_object_object_length(doc), 1);
  json_object *list = get(doc, "events");
  CHECK_INT(json_object_array_length(list), 1);
  json_object *e = json_object_array_get_idx(list, 0);
  static const char *const keys[] = {"time", "kind", "ended", "source", "class",
                                     "value", "threshold", "text"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECK(has_key(e, keys[i]));
  CHECK_INT(json_object_object_length(e), sizeof keys / sizeof keys[0]);
  CHECK_STR(plain(e), "{\"time\":1700000000.5,\"kind\":\"step\",\"ended\":false,"
                      "\"source\":\"127.0.0.1:12303\",\"class\":\"DCF\","
                      "\"value\":0.0012,\"threshold\":0.0001,"
                      "\"text\":\"offset stepped by +1.200 ms\"}");
  json_object_put(doc);
}

static void test_events_system_and_ended(void) {
  struct event_report r[2] = {step_event(), step_event()};
  r[1].event.kind = EV_QUORUM_LOST;
  r[1].event.source = SUBJECT_SYSTEM;
  r[1].event.ref_class = CLASS_UNKNOWN;
  r[1].event.ended = true;
  r[1].event.value = NAN;
  r[1].source_name[0] = '\0';
  json_object *doc = api_events_json(r, 2);
  json_object *list = get(doc, "events");
  CHECK_INT(json_object_array_length(list), 2);
  json_object *e = json_object_array_get_idx(list, 1);
  CHECK_STR(json_object_get_string(get(e, "kind")), "quorum-lost");
  CHECK_STR(member_text(e, "ended"), "true");
  CHECK(has_key(e, "source") && get(e, "source") == NULL);
  CHECK(has_key(e, "class") && get(e, "class") == NULL);
  CHECK(has_key(e, "value") && get(e, "value") == NULL);
  CHECK_STR(member_text(json_object_array_get_idx(list, 0), "kind"), "\"step\"");
  json_object_put(doc);

  doc = api_events_json(NULL, 0);
  CHECK_STR(plain(doc), "{\"events\":[]}");
  json_object_put(doc);
}

/* ---- alarms ----------------------------------------------------------- */

static struct alarm_report falseticker_alarm(void) {
  struct alarm_report r;
  memset(&r, 0, sizeof r);
  struct alarm *a = &r.alarm;
  a->id = 7;
  a->kind = EV_FALSETICKER;
  a->source = 3;
  a->ref_class = CLASS_DCF;
  a->severity = SEV_CRITICAL;
  a->active = true;
  a->raised_ns = 1700000000000000000LL;
  a->last_seen_ns = 1700000060000000000LL;
  a->value = 1.5;
  a->threshold = 0.00012;
  snprintf(a->text, sizeof a->text, "offset +1.500000 s outside the vetted interval");
  snprintf(r.source_name, sizeof r.source_name, "127.0.0.1:12303");
  snprintf(r.line, sizeof r.line, "alarm 7 raised: critical falseticker 127.0.0.1:12303 "
                                  "(DCF): offset +1.500000 s outside the vetted interval");
  return r;
}

static void test_alarms_active(void) {
  struct alarm_report r = falseticker_alarm();
  json_object *doc = api_alarms_json(&r, 1);
  CHECK_INT(json_object_object_length(doc), 1);
  json_object *a = json_object_array_get_idx(get(doc, "alarms"), 0);
  static const char *const keys[] = {"id", "kind", "severity", "active", "source",
                                     "class", "raised", "cleared", "value",
                                     "threshold", "text", "repeats", "line"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECK(has_key(a, keys[i]));
  CHECK_INT(json_object_object_length(a), sizeof keys / sizeof keys[0]);
  CHECK_STR(member_text(a, "id"), "7");
  CHECK_STR(json_object_get_string(get(a, "kind")), "falseticker");
  CHECK_STR(json_object_get_string(get(a, "severity")), "critical");
  CHECK_STR(member_text(a, "active"), "true");
  CHECK_STR(json_object_get_string(get(a, "source")), "127.0.0.1:12303");
  CHECK_STR(json_object_get_string(get(a, "class")), "DCF");
  CHECK_STR(member_text(a, "raised"), "1700000000");
  CHECK_STR(member_text(a, "cleared"), "null");
  CHECK_STR(member_text(a, "value"), "1.5");
  CHECK_STR(member_text(a, "threshold"), "0.00012");
  CHECK_STR(json_object_get_string(get(a, "text")),
            "offset +1.500000 s outside the vetted interval");
  CHECK_STR(member_text(a, "repeats"), "0");
  CHECK_STR(json_object_get_string(get(a, "line")), r.line);
  json_object_put(doc);
}

static void test_alarms_cleared_and_system(void) {
  struct alarm_report r = falseticker_alarm();
  r.alarm.id = 12345678901ULL;
  r.alarm.kind = EV_QUORUM_LOST;
  r.alarm.severity = SEV_WARNING;
  r.alarm.source = SUBJECT_SYSTEM;
  r.alarm.ref_class = CLASS_UNKNOWN;
  r.alarm.active = false;
  r.alarm.cleared_ns = 1700000063250000000LL;
  r.alarm.repeats = 4;
  r.source_name[0] = '\0';
  json_object *doc = api_alarms_json(&r, 1);
  json_object *a = json_object_array_get_idx(get(doc, "alarms"), 0);
  CHECK_STR(member_text(a, "id"), "12345678901");
  CHECK_STR(json_object_get_string(get(a, "severity")), "warning");
  CHECK_STR(json_object_get_string(get(a, "kind")), "quorum-lost");
  CHECK_STR(member_text(a, "active"), "false");
  CHECK_STR(member_text(a, "source"), "null");
  CHECK_STR(member_text(a, "class"), "null");
  CHECK_STR(member_text(a, "cleared"), "1700000063.25");
  CHECK_STR(member_text(a, "repeats"), "4");
  json_object_put(doc);

  doc = api_alarms_json(NULL, 0);
  CHECK_STR(plain(doc), "{\"alarms\":[]}");
  json_object_put(doc);
}

static void test_error_json(void) {
  json_object *o = api_error_json("no such \"path\"");
  CHECK_STR(plain(o), "{\"error\":\"no such \\\"path\\\"\"}");
  json_object_put(o);
}

/* ---- routing ---------------------------------------------------------- */

static void test_route_get(void) {
  enum api_endpoint e = API_NONE;
  CHECK_INT(api_route("GET", "/api/v1/status", &e), 200);
  CHECK_INT(e, API_STATUS);
  CHECK_INT(api_route("GET", "/api/v1/sources", &e), 200);
  CHECK_INT(e, API_SOURCES);
  CHECK_INT(api_route("HEAD", "/api/v1/sources", &e), 200);
  CHECK_INT(e, API_SOURCES);
  CHECK_INT(api_route("GET", "/api/v1/vote", &e), 200);
  CHECK_INT(e, API_VOTE);
  CHECK_INT(api_route("GET", "/api/v1/events", &e), 200);
  CHECK_INT(e, API_EVENTS);
  CHECK_INT(api_route("GET", "/api/v1/alarms", &e), 200);
  CHECK_INT(e, API_ALARMS);
  CHECK_INT(api_route("HEAD", "/api/v1/alarms", &e), 200);
  CHECK_INT(e, API_ALARMS);
}

static void test_route_new_paths_strict(void) {
  enum api_endpoint e = API_STATUS;
  CHECK_INT(api_route("GET", "/api/v1/events?since=0", &e), 200);
  CHECK_INT(e, API_EVENTS);
  CHECK_INT(api_route("POST", "/api/v1/vote", &e), 405);
  CHECK_INT(e, API_NONE);
  CHECK_INT(api_route("DELETE", "/api/v1/alarms", &e), 405);
  CHECK_INT(api_route("GET", "/api/v1/votes", &e), 404);
  CHECK_INT(api_route("GET", "/api/v1/event", &e), 404);
  CHECK_INT(api_route("GET", "/api/v1/alarms/7", &e), 404);
  CHECK_INT(api_route("GET", "/api/v1/Alarms", &e), 404);
}

static void test_route_query_ignored(void) {
  enum api_endpoint e = API_NONE;
  CHECK_INT(api_route("GET", "/api/v1/sources?x=1", &e), 200);
  CHECK_INT(e, API_SOURCES);
  CHECK_INT(api_route("GET", "/api/v1/status?", &e), 200);
  CHECK_INT(e, API_STATUS);
}

static void test_route_methods(void) {
  enum api_endpoint e = API_STATUS;
  CHECK_INT(api_route("POST", "/api/v1/status", &e), 405);
  CHECK_INT(e, API_NONE);
  CHECK_INT(api_route("DELETE", "/api/v1/sources", &e), 405);
  CHECK_INT(api_route("get", "/api/v1/sources", &e), 405);
  CHECK_INT(api_route("PUT", "/nowhere", &e), 404);
}

static void test_route_unknown(void) {
  enum api_endpoint e = API_STATUS;
  CHECK_INT(api_route("GET", "/", &e), 404);
  CHECK_INT(e, API_NONE);
  CHECK_INT(api_route("GET", "/api/v1/", &e), 404);
  CHECK_INT(api_route("GET", "/api/v1/status/", &e), 404);
  CHECK_INT(api_route("GET", "/api/v1/statusx", &e), 404);
  CHECK_INT(api_route("GET", "/api/v1/sta", &e), 404);
  CHECK_INT(api_route("GET", "/api/v2/status", &e), 404);
  CHECK_INT(api_route("GET", "", &e), 404);
  CHECK_INT(api_route(NULL, "/api/v1/status", &e), 400);
}


/* ---- history parameters and documents (issue 11) ---------------------- */

#define SEC 1000000000LL
#define NOW (1764460800LL * SEC + 123456789) /* 2025-11-30T00:00:00.123456789Z */

static int64_t time_of(const char *text) {
  int64_t t = -1;
  char why[200];
  if (api_parse_time(text, &t, why, sizeof why) != 0) return -1;
  return t;
}

static void test_parse_time_forms(void) {
  CHECK_INT(time_of("1764460800"), 1764460800LL * SEC);
  CHECK_INT(time_of("1764460800.5"), 1764460800LL * SEC + 500000000);
  CHECK_INT(time_of("1764460800.000000001"), 1764460800LL * SEC + 1);
  CHECK_INT(time_of("0"), 0);
  CHECK_INT(time_of("2025-11-30T00:00:00Z"), 1764460800LL * SEC);
  CHECK_INT(time_of("2025-11-30t00:00:00z"), 1764460800LL * SEC);
  CHECK_INT(time_of("2025-11-30 00:00:00Z"), 1764460800LL * SEC);
  CHECK_INT(time_of("2025-11-30T01:00:00+01:00"), 1764460800LL * SEC);
  CHECK_INT(time_of("2025-11-29T22:30:00-01:30"), 1764460800LL * SEC);
  /* a "+" left unencoded in a query string arrives as a space */
  CHECK_INT(time_of("2025-11-30T01:00:00 01:00"), 1764460800LL * SEC);
  CHECK_INT(time_of("2025-11-30T00:00:00.25Z"), 1764460800LL * SEC + 250000000);
  CHECK_INT(time_of("2016-12-31T23:59:60Z"), 1483228800LL * SEC); /* a leap second */
  CHECK_INT(time_of("2024-02-29T00:00:00Z"), 1709164800LL * SEC);
}

/* Every malformed time is refused with a reason that quotes it. */
static void test_parse_time_bad(void) {
  static const char *const bad[] = {
      "", "abc", "-5", "+5", "1764460800.", "1.2.3", "17644608001234", "1e9", " 1764460800",
      "1764460800 ", "0x10", "2025-11-30", "2025-11-30T00:00:00", "2025-13-01T00:00:00Z",
      "2025-02-29T00:00:00Z", "2025-11-31T00:00:00Z", "2025-11-30T24:00:00Z",
      "2025-11-30T00:60:00Z", "2025-11-30T00:00:61Z", "2025-11-30T00:00:00.Z",
      "2025-11-30T00:00:00+1:00", "2025-11-30T00:00:00+01", "2025-11-30T00:00:00Zjunk",
      "1969-12-31T23:59:59Z", "25-11-30T00:00:00Z", "2025/11/30T00:00:00Z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t t = 0;
    char why[200] = "";
    int rc = api_parse_time(bad[i], &t, why, sizeof why);
    if (rc != -1) fprintf(stderr, "accepted \"%s\"\n", bad[i]);
    CHECK_INT(rc, -1);
    CHECK(why[0] != '\0');
  }
  char why[200];
  int64_t t;
  api_parse_time("abc", &t, why, sizeof why);
  CHECK(strstr(why, "\"abc\"") != NULL && strstr(why, "RFC 3339") != NULL);
}

static int parse(const char *from, const char *to, const char *step,
                 struct api_history_request *q, char *why) {
  return api_parse_history(from, to, step, NOW, q, why, 256);
}

/* Defaults: to is now, from an hour before; the step picked gives at
 * most HISTORY_MAX_POINTS points, raw only over short ranges. */
static void test_history_defaults_and_auto_step(void) {
  struct api_history_request q;
  char why[256];
  CHECK_INT(parse(NULL, NULL, NULL, &q, why), 0);
  CHECK_INT(q.to_ns, NOW);
  CHECK_INT(q.from_ns, NOW - 3600 * SEC);
  CHECK_INT(q.step_ns, 2 * SEC);
  CHECK_INT(q.res, HISTORY_RAW);
  CHECK(q.points <= HISTORY_MAX_POINTS);
  static const struct {
    int64_t range_s, step_s;
    enum history_resolution res;
  } cases[] = {
      {600, 1, HISTORY_RAW},           {6 * 3600, 15, HISTORY_RAW},
      {7 * 3600, 60, HISTORY_MINUTE},  {86400, 60, HISTORY_MINUTE},
      {7 * 86400, 600, HISTORY_MINUTE}, {14 * 86400, 900, HISTORY_MINUTE},
      {30 * 86400, 1800, HISTORY_MINUTE}, {41 * 86400, 1800, HISTORY_MINUTE},
      {42 * 86400, 3600, HISTORY_HOUR},
      {90 * 86400, 7200, HISTORY_HOUR}, {5 * 366 * 86400, 86400, HISTORY_HOUR},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char from[32], to[32];
    snprintf(to, sizeof to, "%lld", 1764460800LL);
    snprintf(from, sizeof from, "%lld", 1764460800LL - cases[i].range_s);
    CHECK_INT(parse(from, to, NULL, &q, why), 0);
    CHECK_INT(q.step_ns, cases[i].step_s * SEC);
    CHECK_INT(q.res, cases[i].res);
    CHECK(q.points <= HISTORY_MAX_POINTS);
  }
}

/* A step that does not fit its resolution's buckets is rounded up; an
 * hour and more reads the hour roll-ups. */
static void test_history_step_rounded(void) {
  struct api_history_request q;
  char why[256];
  CHECK_INT(parse("1764374400", "1764460800", "90", &q, why), 0);
  CHECK_INT(q.step_ns, 120 * SEC);
  CHECK_INT(q.res, HISTORY_MINUTE);
  CHECK_INT(parse("1764374400", "1764460800", "3600", &q, why), 0);
  CHECK_INT(q.res, HISTORY_HOUR);
  CHECK_INT(q.points, 25);
  CHECK_INT(parse("1764374400", "1764460800", "5000", &q, why), 0);
  CHECK_INT(q.step_ns, 7200 * SEC);
  CHECK_INT(parse("1764460000", "1764460800", "1", &q, why), 0);
  CHECK_INT(q.res, HISTORY_RAW);
  CHECK_INT(q.points, 801);
  CHECK_INT(parse("1764460800", "1764460800", NULL, &q, why), 0); /* from = to: one point */
  CHECK_INT(q.points, 1);
}

/* Every bad parameter: refused, with the reason. */
static void test_history_bad_params(void) {
  static const struct {
    const char *from, *to, *step, *reason;
  } bad[] = {
      {"1764460800", "1764374400", NULL, "from is after to"},
      {"abc", NULL, NULL, "from: \"abc\" is neither"},
      {NULL, "12x", NULL, "to: \"12x\" is neither"},
      {"", NULL, NULL, "from: empty time"},
      {NULL, NULL, "0", "step: \"0\" is not a positive whole number"},
      {NULL, NULL, "-5", "step: \"-5\" is not a positive"},
      {NULL, NULL, "1.5", "step: \"1.5\" is not"},
      {NULL, NULL, "ten", "step: \"ten\" is not"},
      {NULL, NULL, "", "step: \"\" is not"},
      {NULL, NULL, "99999999999999999999", "step:"},
      {"1764374400", "1764460800", "30", "a step below 60 s reads raw samples"},
      {"1764460000", "1764460800", "0x1", "step:"},
      {"1764000000", "1764460800", "60", "too many points: 7681, at most 2000; use a step of at least 231 s"},
      {"0", "1764460800", NULL, "range too long"},
      {"2000-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "86400", "range too long"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct api_history_request q;
    char why[256] = "";
    int rc = parse(bad[i].from, bad[i].to, bad[i].step, &q, why);
    CHECK_INT(rc, -1);
    if (!strstr(why, bad[i].reason))
      fprintf(stderr, "case %zu: \"%s\" does not say \"%s\"\n", i, why, bad[i].reason);
    CHECK(strstr(why, bad[i].reason) != NULL);
  }
}

static void test_check_source(void) {
  char why[256] = "", longname[400];
  CHECK_INT(api_check_source("gps1.example:123", why, sizeof why), 0);
  CHECK_INT(api_check_source(NULL, why, sizeof why), -1);
  CHECK(strstr(why, "missing source=NAME") != NULL);
  CHECK_INT(api_check_source("", why, sizeof why), -1);
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CHECK_INT(api_check_source(longname, why, sizeof why), -1);
  CHECK(strstr(why, "too long") != NULL);
}

static void test_history_json(void) {
  struct api_history_request q = {.from_ns = NOW - 3600 * SEC, .to_ns = NOW, .step_ns = 60 * SEC,
                                  .res = HISTORY_MINUTE, .points = 61};
  struct history_point p[2] = {
      {.time_ns = 1764457200LL * SEC, .n = 4, .nv = 4, .offset_min = -1e-6, .offset_mean = 0.1,
       .offset_max = 3e-6, .bound_max = 2e-4, .bound_mean = 1e-4, .agreeing_min = -1,
       .classes_min = -1},
      {.time_ns = 1764457260LL * SEC, .n = 15, .nv = 0, .offset_min = NAN, .offset_mean = NAN,
       .offset_max = NAN, .bound_max = NAN, .bound_mean = NAN, .agreeing_min = 1,
       .classes_min = 1}};
  json_object *o = api_history_json("gps1", &q, p, 1);
  CHECK(o != NULL);
  CHECK_STR(member_text(o, "source"), "\"gps1\"");
  CHECK_STR(member_text(o, "step"), "60");
  CHECK_STR(member_text(o, "resolution"), "\"minute\"");
  CHECK_STR(member_text(o, "from"), "1764457200.1234567");
  json_object *cols = get(o, "points");
  CHECK_INT(json_object_array_length(get(cols, "time")), 1);
  CHECK_STR(json_object_to_json_string(get(cols, "time")), "[ 1764457200 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "count")), "[ 4 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "offset_min")), "[ -0.000001 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "offset_mean")), "[ 0.1 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "bound_max")), "[ 0.0002 ]");
  CHECK(!has_key(cols, "rounds"));
  CHECK(!has_key(cols, "agreeing_min"));
  json_object_put(o);
  /* the vetted series: rounds, vetted, the error, null without a vetted round */
  o = api_history_json(NULL, &q, p, 2);
  CHECK_STR(member_text(o, "source"), "\"vetted\"");
  cols = get(o, "points");
  CHECK_STR(json_object_to_json_string(get(cols, "rounds")), "[ 4, 15 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "vetted")), "[ 4, 0 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "offset_mean")), "[ 0.1, null ]");
  CHECK_STR(json_object_to_json_string(get(cols, "error_max")), "[ 0.0002, null ]");
  CHECK_STR(json_object_to_json_string(get(cols, "agreeing_min")), "[ -1, 1 ]");
  CHECK(!has_key(cols, "count"));
  json_object_put(o);
  /* figures are rounded to the nanosecond; a five-year offset keeps it */
  struct history_point big = {.time_ns = 1764457200LL * SEC + 1, .n = 1, .nv = 1,
                              .offset_min = 157680000.000000001, .offset_mean = -2.5e-10,
                              .offset_max = 1.23456789012e-3, .bound_max = 1e10,
                              .bound_mean = -0.0};
  o = api_history_json("x", &q, &big, 1);
  cols = get(o, "points");
  CHECK_STR(json_object_to_json_string(get(cols, "time")), "[ 1764457200.000000001 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "offset_min")), "[ 157680000 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "offset_mean")), "[ 0 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "offset_max")), "[ 0.001234568 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "bound_max")), "[ 10000000000 ]");
  CHECK_STR(json_object_to_json_string(get(cols, "bound_mean")), "[ 0 ]");
  json_object_put(o);
}

static void test_route_history(void) {
  enum api_endpoint e = API_NONE;
  CHECK_INT(api_route("GET", "/api/v1/history?source=a&step=60", &e), 200);
  CHECK_INT(e, API_HISTORY);
  CHECK_INT(api_route("GET", "/api/v1/history/vetted?from=0", &e), 200);
  CHECK_INT(e, API_HISTORY_VETTED);
  CHECK_INT(api_route("HEAD", "/api/v1/history/vetted", &e), 200);
  CHECK_INT(api_route("POST", "/api/v1/history", &e), 405);
  CHECK_INT(api_route("GET", "/api/v1/history/", &e), 404);
  CHECK_INT(api_route("GET", "/api/v1/history/gps1", &e), 404);
}

/* History rows become the same documents as the live lists, plus the
 * range; a kind this binary does not know is left out. */
static void test_lists_from_history(void) {
  struct history_event he = {.time_ns = 1764460800LL * SEC, .kind = "step", .ended = false,
                             .ref_class = "GPS", .value = 1e-3, .threshold = 2e-4,
                             .text = "offset jumped"};
  struct event_report er;
  CHECK_INT(api_event_from_history(&he, "gps1", &er), 0);
  json_object *o = api_with_range(api_events_json(&er, 1), 0, 1764460800LL * SEC, true);
  json_object *e0 = json_object_array_get_idx(get(o, "events"), 0);
  CHECK_STR(member_text(e0, "kind"), "\"step\"");
  CHECK_STR(member_text(e0, "source"), "\"gps1\"");
  CHECK_STR(member_text(e0, "class"), "\"GPS\"");
  CHECK_STR(member_text(e0, "time"), "1764460800");
  CHECK_STR(member_text(o, "truncated"), "true");
  CHECK_STR(member_text(o, "to"), "1764460800");
  json_object_put(o);
  snprintf(he.kind, sizeof he.kind, "from-the-future");
  CHECK_INT(api_event_from_history(&he, "gps1", &er), -1);

  struct history_alarm ha = {.id = 9, .kind = "falseticker", .ref_class = "DCF",
                             .severity = "warning", .raised_ns = 1764460800LL * SEC,
                             .cleared_ns = 1764460860LL * SEC, .text = "outside"};
  struct alarm_report ar;
  CHECK_INT(api_alarm_from_history(&ha, "", &ar), 0);
  o = api_alarms_json(&ar, 1);
  json_object *a0 = json_object_array_get_idx(get(o, "alarms"), 0);
  CHECK_STR(member_text(a0, "id"), "9");
  CHECK_STR(member_text(a0, "severity"), "\"warning\""); /* as stored, not the default */
  CHECK_STR(member_text(a0, "active"), "false");
  CHECK_STR(member_text(a0, "cleared"), "1764460860");
  CHECK_STR(member_text(a0, "source"), "null");
  CHECK(strstr(member_text(a0, "line"), "alarm 9 cleared") != NULL);
  json_object_put(o);
}

int main(void) {
  unit_init();
  RUN(test_status_fields);
  RUN(test_status_reparses);
  RUN(test_status_unauthenticated);
  RUN(test_double_precision);
  RUN(test_double_not_finite_is_null);
  RUN(test_sources_fields);
  RUN(test_sources_stats);
  RUN(test_sources_sample_values);
  RUN(test_sources_label);
  RUN(test_sources_counters);
  RUN(test_sources_without_sample);
  RUN(test_sources_vote_fields);
  RUN(test_sources_before_first_vote);
  RUN(test_sources_unterminated_why);
  RUN(test_sources_configured_class);
  RUN(test_sources_empty_and_many);
  RUN(test_vote_vetted);
  RUN(test_vote_not_vetted);
  RUN(test_vote_before_first_round);
  RUN(test_events_fields);
  RUN(test_events_system_and_ended);
  RUN(test_alarms_active);
  RUN(test_alarms_cleared_and_system);
  RUN(test_error_json);
  RUN(test_route_get);
  RUN(test_route_new_paths_strict);
  RUN(test_route_query_ignored);
  RUN(test_route_methods);
  RUN(test_route_unknown);
  RUN(test_parse_time_forms);
  RUN(test_parse_time_bad);
  RUN(test_history_defaults_and_auto_step);
  RUN(test_history_step_rounded);
  RUN(test_history_bad_params);
  RUN(test_check_source);
  RUN(test_history_json);
  RUN(test_route_history);
  RUN(test_lists_from_history);
  return unit_done();
}
