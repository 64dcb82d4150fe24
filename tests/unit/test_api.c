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
      "database", "samples_written", "history_errors", "clock_steps",
      "last_clock_step"};
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
  CHECK_INT(json_object_get_int(get(o, "clock_steps")), 1);
  CHECK_STR(member_text(o, "last_clock_step"), "-0.5");
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
      "index", "name", "kind", "class", "class_configured", "noselect",
      "state", "stratum", "refid", "reach", "poll", "have_sample", "offset",
      "error_bound", "delay", "dispersion", "root_delay", "root_dispersion",
      "leap", "filtered_offset", "filtered_error", "jitter", "last_rx",
      "counters"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    CHECK(has_key(s, keys[i]));
  CHECK_INT(json_object_object_length(s), sizeof keys / sizeof keys[0]);
  CHECK_INT(json_object_get_int(get(s, "index")), 0);
  CHECK_STR(json_object_get_string(get(s, "name")), "127.0.0.1:11123");
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

int main(void) {
  unit_init();
  RUN(test_status_fields);
  RUN(test_status_reparses);
  RUN(test_double_precision);
  RUN(test_double_not_finite_is_null);
  RUN(test_sources_fields);
  RUN(test_sources_sample_values);
  RUN(test_sources_counters);
  RUN(test_sources_without_sample);
  RUN(test_sources_configured_class);
  RUN(test_sources_empty_and_many);
  RUN(test_error_json);
  RUN(test_route_get);
  RUN(test_route_query_ignored);
  RUN(test_route_methods);
  RUN(test_route_unknown);
  return unit_done();
}
