/* The JSON API, version 1: report structs -> json-c documents, and the
 * routing decision for a request. See api.h for the document shapes. */
#include "web/api.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/civil.h"
#include "lib/timeutil.h"
#include "monitor/alarms.h"
#include "monitor/events.h"
#include "monitor/vote.h"
#include "probes/refclass.h"

/* ---- numbers ---------------------------------------------------------- */

/* json-c 0.16 prints doubles with "%.17g", which is exact but turns 0.1 into
 * 0.10000000000000001. We keep the shortest of %.15g/%.16g/%.17g that reads
 * back as the same double and hand json-c that text to print verbatim. */
json_object *api_json_double(double v) {
  if (!isfinite(v)) return NULL;
  char buf[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  return json_object_new_double_s(v, buf);
}

/* Nanoseconds since the epoch as seconds, without losing the fraction to
 * the large integer part first. */
static double ns_seconds(int64_t ns) {
  return (double)(ns / 1000000000) + (double)(ns % 1000000000) * 1e-9;
}

static void add(json_object *obj, const char *key, json_object *val) {
  json_object_object_add(obj, key, val);
}

/* A string from a fixed-size field of a report struct, never read past the
 * field even if another module forgot its terminator. */
static json_object *text_json(const char *buf, size_t size) {
  return json_object_new_string_len(buf, (int)strnlen(buf, size));
}

/* The same, or null for "" (the reports' way of saying "the system"). */
static json_object *name_or_null(const char *buf, size_t size) {
  return buf[0] ? text_json(buf, size) : NULL;
}

/* A class name, or null for CLASS_UNKNOWN ("no class concerned"). */
static json_object *class_or_null(enum ref_class c) {
  return c == CLASS_UNKNOWN ? NULL : json_object_new_string(ref_class_name(c));
}

/* {key: [item(0), ..., item(n-1)]}, items of `size` bytes from `items`.
 * NULL when out of memory. */
static json_object *list_doc(const char *key, const void *items, size_t size,
                             int n, json_object *(*item)(const void *)) {
  json_object *doc = json_object_new_object();
  json_object *list = json_object_new_array_ext(n > 0 ? n : 0);
  if (!doc || !list) {
    json_object_put(doc);
    json_object_put(list);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    json_object_array_add(list, item((const char *)items + (size_t)i * size));
  add(doc, key, list);
  return doc;
}

/* ---- status ----------------------------------------------------------- */

json_object *api_status_json(const struct status_report *s) {
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  add(o, "version", json_object_new_string(s->version));
  add(o, "now", api_json_double(timespec_seconds(s->now)));
  add(o, "uptime", api_json_double(s->uptime));
  add(o, "sources", json_object_new_int(s->sources));
  add(o, "reachable", json_object_new_int(s->reachable));
  add(o, "with_sample", json_object_new_int(s->with_sample));
  add(o, "database", json_object_new_string(s->database));
  add(o, "samples_written", json_object_new_uint64(s->samples_written));
  add(o, "history_errors", json_object_new_uint64(s->history_errors));
  add(o, "history_buffered", json_object_new_uint64(s->history_buffered));
  add(o, "history_dropped", json_object_new_uint64(s->history_dropped));
  add(o, "clock_steps", json_object_new_int(s->clock_steps));
  add(o, "last_clock_step", api_json_double(s->last_clock_step));
  /* NTP sources that are neither NTS nor keyed: anyone on the path can
   * forge their time (`vettime status` warns). */
  add(o, "unauthenticated_sources", json_object_new_int(s->unauthenticated));
  json_object *names = json_object_new_array();
  char buf[sizeof s->unauthenticated_names];
  snprintf(buf, sizeof buf, "%s", s->unauthenticated_names);
  char *save = NULL;
  for (char *n = strtok_r(buf, "\n", &save); n && names; n = strtok_r(NULL, "\n", &save))
    json_object_array_add(names, json_object_new_string(n));
  add(o, "unauthenticated", names);
  return o;
}

json_object *api_serve_json(const struct serve_report *s) {
  json_object *o = json_object_new_object();
  json_object *c = json_object_new_object();
  if (!o || !c) {
    json_object_put(o);
    json_object_put(c);
    return NULL;
  }
  add(o, "enabled", json_object_new_boolean(s->enabled));
  add(o, "sockets", json_object_new_int(s->sockets));
  add(o, "state", json_object_new_string(clock_state_name(s->state)));
  add(o, "holdover_since", s->holdover_since > 0 ? api_json_double(s->holdover_since) : NULL);
  add(o, "stratum", json_object_new_int(s->stratum));
  add(o, "error", api_json_double(s->error)); /* null when refusing (infinite) */
  add(o, "answered", json_object_new_uint64(s->counters[SC_ANSWERED]));
  add(o, "dropped", json_object_new_uint64(s->dropped));
  for (int i = 0; i < SC_COUNT; i++)
    add(c, serve_counter_name((enum serve_counter)i), json_object_new_uint64(s->counters[i]));
  add(o, "counters", c);
  return o;
}

/* ---- sources ---------------------------------------------------------- */

static json_object *counters_json(const uint64_t counters[PC_COUNT]) {
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  for (int c = 0; c < PC_COUNT; c++)
    add(o, probe_counter_name((enum probe_counter)c),
        json_object_new_uint64(counters[c]));
  return o;
}

/* The fields that come from the last valid sample: all null before one. */
static void add_sample_fields(json_object *o, const struct probe_report *p) {
  bool h = p->have_sample;
  const struct vt_sample *s = &p->last;
  add(o, "offset", h ? api_json_double(s->offset) : NULL);
  add(o, "error_bound", h ? api_json_double(s->error_bound) : NULL);
  add(o, "delay", h ? api_json_double(s->delay) : NULL);
  add(o, "dispersion", h ? api_json_double(s->dispersion) : NULL);
  add(o, "root_delay", h ? api_json_double(s->root_delay) : NULL);
  add(o, "root_dispersion", h ? api_json_double(s->root_dispersion) : NULL);
  add(o, "leap", h ? json_object_new_int(s->leap) : NULL);
  add(o, "filtered_offset", h ? api_json_double(p->filtered_offset) : NULL);
  add(o, "filtered_error", h ? api_json_double(p->filtered_error) : NULL);
  add(o, "jitter", h ? api_json_double(p->jitter) : NULL);
  add(o, "last_rx", h ? api_json_double(timespec_seconds(p->last_rx)) : NULL);
}

/* The last vote round's view of the source, and its configured flags. */
static void add_vote_fields(json_object *o, const struct source_report *r) {
  bool v = r->voted;
  add(o, "vote_state",
      v ? json_object_new_string(source_state_name(r->vote_state)) : NULL);
  add(o, "vote_why", v ? text_json(r->vote_why, sizeof r->vote_why) : NULL);
  add(o, "trust", json_object_new_boolean(r->vote_flags & VOTE_F_TRUST));
  add(o, "require", json_object_new_boolean(r->vote_flags & VOTE_F_REQUIRE));
  add(o, "prefer", json_object_new_boolean(r->vote_flags & VOTE_F_PREFER));
  /* A receiver's health ("3D fix, used GPS 8 GAL 6, PPS"); null if none. */
  add(o, "detail", r->probe.detail[0] ? text_json(r->probe.detail, sizeof r->probe.detail) : NULL);
  /* How its answers are authenticated: "nts", "key N", "none"; null for a
   * receiver. */
  add(o, "auth", r->auth[0] ? text_json(r->auth, sizeof r->auth) : NULL);
}

/* The vote's sample statistics of the source (`vettime sourcestats`):
 * null before the first round. */
static json_object *stats_json(const struct source_report *r) {
  if (!r->have_stats) return NULL;
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  add(o, "samples", json_object_new_int(r->stats.samples));
  add(o, "offset", api_json_double(r->stats.offset));
  add(o, "sd", api_json_double(r->stats.sd));
  add(o, "jitter", api_json_double(r->stats.jitter));
  add(o, "freq_ppm", api_json_double(r->stats.freq_ppm));
  return o;
}

static json_object *source_json(const void *item) {
  const struct source_report *r = item;
  const struct probe_report *p = &r->probe;
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  char refid[16];
  bool responded = p->stratum >= 0;
  add(o, "index", json_object_new_int(r->index));
  add(o, "name", json_object_new_string(r->name));
  /* Where the source is, when a `name LABEL` stands in for it. */
  add(o, "address", json_object_new_string(r->address[0] ? r->address : r->name));
  add(o, "kind", json_object_new_string(r->kind));
  add(o, "class", json_object_new_string(ref_class_name(r->ref_class)));
  add(o, "class_configured", json_object_new_boolean(r->class_configured));
  add(o, "noselect", json_object_new_boolean(r->noselect));
  add(o, "state", json_object_new_string(p->state));
  add(o, "stratum", responded ? json_object_new_int(p->stratum) : NULL);
  add(o, "refid", responded ? json_object_new_string(
                                  refid_format(p->stratum, p->refid, refid))
                            : NULL);
  add(o, "reach", json_object_new_int((int)(p->reach & 0xff)));
  add(o, "poll", json_object_new_int(p->poll));
  add(o, "have_sample", json_object_new_boolean(p->have_sample));
  add_sample_fields(o, p);
  add(o, "counters", counters_json(p->counters));
  add_vote_fields(o, r);
  add(o, "stats", stats_json(r));
  return o;
}

json_object *api_sources_json(const struct source_report *src, int n) {
  return list_doc("sources", src, sizeof *src, n, source_json);
}

/* ---- vote ------------------------------------------------------------- */

/* Every member after "valid", in document order: all null before the first
 * round, so that a client sees the same keys either way. */
static const char *const vote_keys[] = {
    "time", "vetted", "why_not", "offset", "error", "low", "high",
    "candidates", "agreeing", "classes", "agreeing_classes",
    "agreeing_class_names", "best", "best_class", "stratum", "leap",
    "leap_disagree", "local_freq_ppm"};

static json_object *class_names_json(unsigned mask) {
  json_object *a = json_object_new_array();
  if (!a) return NULL;
  for (int c = 0; c < CLASS_COUNT; c++)
    if (mask & (1u << c))
      json_object_array_add(a, json_object_new_string(ref_class_name((enum ref_class)c)));
  return a;
}

/* The figures exist only when the time is vetted. */
static void add_vote_figures(json_object *o, const struct vote_verdict *v) {
  add(o, "vetted", json_object_new_boolean(v->vetted));
  add(o, "why_not", v->vetted ? NULL : text_json(v->why_not, sizeof v->why_not));
  add(o, "offset", v->vetted ? api_json_double(v->offset) : NULL);
  add(o, "error", v->vetted ? api_json_double(v->error) : NULL);
  add(o, "low", v->vetted ? api_json_double(v->low) : NULL);
  add(o, "high", v->vetted ? api_json_double(v->high) : NULL);
}

static void add_vote_counts(json_object *o, const struct vote_verdict *v) {
  add(o, "candidates", json_object_new_int(v->candidates));
  add(o, "agreeing", json_object_new_int(v->agreeing));
  add(o, "classes", json_object_new_int(v->classes));
  add(o, "agreeing_classes", json_object_new_int(v->agreeing_classes));
  add(o, "agreeing_class_names", class_names_json(v->class_mask));
}

static void add_vote_best(json_object *o, const struct vote_report *r) {
  const struct vote_verdict *v = &r->verdict;
  bool best = v->best >= 0;
  add(o, "best", best ? name_or_null(r->best_name, sizeof r->best_name) : NULL);
  add(o, "best_class",
      best ? json_object_new_string(ref_class_name(v->ref_class)) : NULL);
  add(o, "stratum", json_object_new_int(v->stratum));
  add(o, "leap", json_object_new_int(v->leap));
  add(o, "leap_disagree", json_object_new_boolean(v->leap_disagree));
  add(o, "local_freq_ppm", api_json_double(r->local_freq_ppm));
}

json_object *api_vote_json(const struct vote_report *r) {
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  add(o, "valid", json_object_new_boolean(r->valid));
  if (!r->valid) {
    for (size_t i = 0; i < sizeof vote_keys / sizeof vote_keys[0]; i++)
      add(o, vote_keys[i], NULL);
    return o;
  }
  add(o, "time", api_json_double(ns_seconds(r->time_ns)));
  add_vote_figures(o, &r->verdict);
  add_vote_counts(o, &r->verdict);
  add_vote_best(o, r);
  return o;
}

/* ---- events ----------------------------------------------------------- */

static json_object *event_json(const void *item) {
  const struct event_report *r = item;
  const struct vt_event *e = &r->event;
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  add(o, "time", api_json_double(ns_seconds(e->time_ns)));
  add(o, "kind", json_object_new_string(event_kind_name(e->kind)));
  add(o, "ended", json_object_new_boolean(e->ended));
  add(o, "source", name_or_null(r->source_name, sizeof r->source_name));
  add(o, "class", class_or_null(e->ref_class));
  add(o, "value", api_json_double(e->value));
  add(o, "threshold", api_json_double(e->threshold));
  add(o, "text", text_json(e->text, sizeof e->text));
  return o;
}

json_object *api_events_json(const struct event_report *e, int n) {
  return list_doc("events", e, sizeof *e, n, event_json);
}

/* ---- alarms ----------------------------------------------------------- */

static void add_alarm_evidence(json_object *o, const struct alarm_report *r) {
  const struct alarm *a = &r->alarm;
  add(o, "value", api_json_double(a->value));
  add(o, "threshold", api_json_double(a->threshold));
  add(o, "text", text_json(a->text, sizeof a->text));
  add(o, "repeats", json_object_new_int64(a->repeats));
  add(o, "line", text_json(r->line, sizeof r->line));
}

static json_object *alarm_json(const void *item) {
  const struct alarm_report *r = item;
  const struct alarm *a = &r->alarm;
  json_object *o = json_object_new_object();
  if (!o) return NULL;
  add(o, "id", json_object_new_uint64(a->id));
  add(o, "kind", json_object_new_string(event_kind_name(a->kind)));
  add(o, "severity", json_object_new_string(alarm_severity_name(a->severity)));
  add(o, "active", json_object_new_boolean(a->active));
  add(o, "source", name_or_null(r->source_name, sizeof r->source_name));
  add(o, "class", class_or_null(a->ref_class));
  add(o, "raised", api_json_double(ns_seconds(a->raised_ns)));
  add(o, "cleared", a->active ? NULL : api_json_double(ns_seconds(a->cleared_ns)));
  add_alarm_evidence(o, r);
  return o;
}

json_object *api_alarms_json(const struct alarm_report *a, int n) {
  return list_doc("alarms", a, sizeof *a, n, alarm_json);
}

json_object *api_error_json(const char *message) {
  json_object *o = json_object_new_object();
  if (o) add(o, "error", json_object_new_string(message));
  return o;
}

/* ---- routing ---------------------------------------------------------- */

static const struct {
  const char *path;
  enum api_endpoint endpoint;
} routes[] = {
    {API_VERSION_PREFIX "status", API_STATUS},
    {API_VERSION_PREFIX "sources", API_SOURCES},
    {API_VERSION_PREFIX "vote", API_VOTE},
    {API_VERSION_PREFIX "events", API_EVENTS},
    {API_VERSION_PREFIX "alarms", API_ALARMS},
    {API_VERSION_PREFIX "history", API_HISTORY},
    {API_VERSION_PREFIX "history/vetted", API_HISTORY_VETTED},
};

/* Compares the path part of url (up to '?') with path. */
static bool path_is(const char *url, const char *path) {
  size_t len = strcspn(url, "?");
  return strlen(path) == len && memcmp(url, path, len) == 0;
}

int api_route(const char *method, const char *url, enum api_endpoint *out) {
  *out = API_NONE;
  if (!method || !url) return 400;
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    if (!path_is(url, routes[i].path)) continue;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return 405;
    *out = routes[i].endpoint;
    return 200;
  }
  return 404;
}

/* ---- history parameters (issue 11) ------------------------------------ */

static int why_fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int why_fail(char *why, size_t whylen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
  return -1;
}

/* n digits exactly at *p, as a number; advances *p. -1 if not digits. */
static int digits(const char **p, int n) {
  int v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (!isdigit((unsigned char)**p)) return -1;
    v = v * 10 + (**p - '0');
  }
  return v;
}

/* Unix seconds: digits, optionally a fraction of up to 9 digits. */
static int parse_unix(const char *t, int64_t *out) {
  const char *p = t;
  int64_t sec = 0, frac = 0;
  int nd = 0;
  for (; isdigit((unsigned char)*p); p++, nd++) {
    if (nd == 10) return -1; /* past year 2286: int64 ns would overflow */
    sec = sec * 10 + (*p - '0');
  }
  if (nd == 0) return -1;
  if (*p == '.') {
    int nf = 0;
    for (p++; isdigit((unsigned char)*p); p++, nf++) {
      if (nf == 9) return -1;
      frac = frac * 10 + (*p - '0');
    }
    if (nf == 0) return -1;
    for (; nf < 9; nf++) frac *= 10;
  }
  if (*p || sec > 9000000000LL) return -1;
  *out = sec * 1000000000LL + frac;
  return 0;
}

/* RFC 3339 §5.6 date-time: 2026-11-22T05:00:00[.123]Z or ...+01:00; "t",
 * "z" and a space for "T" are accepted (§5.6 note), and a space for "+"
 * (a "+" left unencoded in a query string arrives as a space). */
static int parse_rfc3339(const char *t, int64_t *out) {
  const char *p = t;
  int y = digits(&p, 4);
  if (y < 1970 || *p++ != '-') return -1;
  int mo = digits(&p, 2);
  if (mo < 1 || mo > 12 || *p++ != '-') return -1;
  int d = digits(&p, 2);
  if (d < 1 || d > civil_days_in_month(y, mo)) return -1;
  if (*p != 'T' && *p != 't' && *p != ' ') return -1;
  p++;
  int h = digits(&p, 2);
  if (h < 0 || h > 23 || *p++ != ':') return -1;
  int mi = digits(&p, 2);
  if (mi < 0 || mi > 59 || *p++ != ':') return -1;
  int s = digits(&p, 2);
  if (s < 0 || s > 60) return -1; /* 60: a leap second */
  int64_t frac = 0;
  if (*p == '.') {
    int nf = 0;
    for (p++; isdigit((unsigned char)*p); p++, nf++)
      if (nf < 9) frac = frac * 10 + (*p - '0');
    if (nf == 0) return -1;
    for (; nf < 9; nf++) frac *= 10;
  }
  int64_t zone = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-' || *p == ' ') {
    int sign = *p++ == '-' ? -1 : 1;
    int zh = digits(&p, 2);
    if (zh < 0 || zh > 23 || *p++ != ':') return -1;
    int zm = digits(&p, 2);
    if (zm < 0 || zm > 59) return -1;
    zone = sign * (zh * 3600 + zm * 60);
  } else {
    return -1;
  }
  if (*p) return -1;
  int64_t sec = civil_to_unix(y, mo, d, h, mi, s) - zone;
  if (sec < 0 || sec > 9000000000LL) return -1;
  *out = sec * 1000000000LL + frac;
  return 0;
}

int api_parse_time(const char *text, int64_t *out_ns, char *why, size_t whylen) {
  if (!text || !*text) return why_fail(why, whylen, "empty time");
  if (parse_unix(text, out_ns) == 0 || parse_rfc3339(text, out_ns) == 0) return 0;
  return why_fail(why, whylen,
                  "\"%.64s\" is neither Unix seconds nor an RFC 3339 time such as "
                  "2026-11-22T05:00:00Z", text);
}

int api_parse_range(const char *from, const char *to, int64_t now_ns, int64_t span_ns,
                    int64_t max_range_ns, int64_t *from_ns, int64_t *to_ns, char *why,
                    size_t whylen) {
  char inner[160];
  *to_ns = now_ns;
  if (to && api_parse_time(to, to_ns, inner, sizeof inner) != 0)
    return why_fail(why, whylen, "to: %s", inner);
  *from_ns = *to_ns - span_ns;
  if (from && api_parse_time(from, from_ns, inner, sizeof inner) != 0)
    return why_fail(why, whylen, "from: %s", inner);
  if (*from_ns > *to_ns) return why_fail(why, whylen, "from is after to");
  if (max_range_ns > 0 && *to_ns - *from_ns > max_range_ns)
    return why_fail(why, whylen, "range too long: %.0f days, at most %.0f",
                    (double)(*to_ns - *from_ns) / 86400e9, (double)max_range_ns / 86400e9);
  return 0;
}

/* Steps the automatic choice picks from, in seconds: round figures a chart
 * axis reads well, each a multiple of its resolution's bucket. */
static const int64_t auto_steps[] = {1,    2,    5,     10,    15,    30,    60,
                                     120,  300,  600,   900,   1800,  3600,  7200,
                                     10800, 21600, 43200, 86400, 172800, 604800,
                                     1209600, 2592000};

static int64_t points_of(int64_t from_ns, int64_t to_ns, int64_t step_ns) {
  int64_t origin = from_ns / step_ns * step_ns; /* from_ns >= 0 */
  return (to_ns - origin) / step_ns + 1;
}

/* The smallest listed step that gives at most HISTORY_MAX_POINTS points
 * and reads raw rows only over a short range. The minute roll-ups are
 * packed per hour, so even their longest automatic read (~41 days at
 * 30 min) is ~1,000 rows and a few ms (BENCHMARKS.md). */
static int64_t auto_step(int64_t from_ns, int64_t to_ns) {
  size_t n = sizeof auto_steps / sizeof auto_steps[0];
  for (size_t i = 0; i < n; i++) {
    int64_t s = auto_steps[i] * 1000000000LL;
    if (history_resolution_for(s) == HISTORY_RAW && to_ns - from_ns > HISTORY_RAW_MAX_RANGE_NS)
      continue;
    if (points_of(from_ns, to_ns, s) <= HISTORY_MAX_POINTS) return s;
  }
  return auto_steps[n - 1] * 1000000000LL;
}

/* A positive whole number of seconds. */
static int parse_step(const char *text, int64_t *out_ns) {
  const char *p = text;
  int64_t v = 0;
  for (; isdigit((unsigned char)*p); p++) {
    v = v * 10 + (*p - '0');
    if (v > HISTORY_MAX_RANGE_NS / 1000000000LL) return -1;
  }
  if (p == text || *p || v <= 0) return -1;
  *out_ns = v * 1000000000LL;
  return 0;
}

int api_parse_history(const char *from, const char *to, const char *step, int64_t now_ns,
                      struct api_history_request *q, char *why, size_t whylen) {
  memset(q, 0, sizeof *q);
  if (api_parse_range(from, to, now_ns, API_HISTORY_DEFAULT_SPAN_NS, HISTORY_MAX_RANGE_NS,
                      &q->from_ns, &q->to_ns, why, whylen) != 0)
    return -1;
  if (!step) {
    q->step_ns = auto_step(q->from_ns, q->to_ns);
  } else {
    if (parse_step(step, &q->step_ns) != 0)
      return why_fail(why, whylen, "step: \"%.32s\" is not a positive whole number of seconds",
                      step);
    /* A step that does not fit its resolution's buckets is rounded up. */
    int64_t w = history_resolution_width(history_resolution_for(q->step_ns));
    q->step_ns = (q->step_ns + w - 1) / w * w;
  }
  q->res = history_resolution_for(q->step_ns);
  if (q->res == HISTORY_RAW && q->to_ns - q->from_ns > HISTORY_RAW_MAX_RANGE_NS)
    return why_fail(why, whylen, "a step below 60 s reads raw samples, over at most %lld h; "
                    "this range is %.1f h", (long long)(HISTORY_RAW_MAX_RANGE_NS / 3600000000000LL),
                    (double)(q->to_ns - q->from_ns) / 3600e9);
  int64_t pts = points_of(q->from_ns, q->to_ns, q->step_ns);
  if (pts > HISTORY_MAX_POINTS) {
    int64_t range_s = (q->to_ns - q->from_ns) / 1000000000LL;
    return why_fail(why, whylen, "too many points: %lld, at most %d; use a step of at least %lld s",
                    (long long)pts, HISTORY_MAX_POINTS,
                    (long long)(range_s / (HISTORY_MAX_POINTS - 1) + 1));
  }
  q->points = (int)pts;
  return 0;
}

int api_check_source(const char *source, char *why, size_t whylen) {
  if (!source || !*source)
    return why_fail(why, whylen, "missing source=NAME (a source's name as in /api/v1/sources; "
                    "the vetted offset is /api/v1/history/vetted)");
  if (strlen(source) >= API_SOURCE_NAME_MAX)
    return why_fail(why, whylen, "source name too long (at most %d bytes)", API_SOURCE_NAME_MAX - 1);
  return 0;
}

/* ---- history documents ------------------------------------------------ */

/* Nanoseconds as decimal seconds, exact and short: "1764460800",
 * "-0.00002", "157680000.000000001". */
static json_object *ns_text_json(int64_t ns, double value) {
  char buf[40], *p = buf;
  uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
  if (ns < 0) *p++ = '-';
  p += snprintf(p, sizeof buf - 2, "%llu", (unsigned long long)(a / 1000000000u));
  unsigned frac = (unsigned)(a % 1000000000u);
  if (frac) {
    *p++ = '.';
    for (unsigned div = 100000000u; frac && div; div /= 10) {
      *p++ = (char)('0' + frac / div);
      frac %= div;
    }
  }
  *p = '\0';
  return json_object_new_double_s(value, buf);
}

/* A history figure in seconds, rounded to the nanosecond: the resolution
 * of the times it was measured with, and one formatting instead of the
 * shortest round trip's up to three (2000 points x 7 figures). */
static json_object *figure_json(double v) {
  if (!isfinite(v)) return NULL;
  if (fabs(v) >= 9e9) return api_json_double(v);
  return ns_text_json(llround(v * 1e9), v);
}

/* The columns of the points, in document order. */
enum column { C_TIME, C_COUNT, C_VETTED, C_LO, C_MEAN, C_HI, C_BMAX, C_BMEAN, C_AGREE, C_CLASSES,
              C_COUNT_ALL };

static json_object *cell(const struct history_point *p, enum column c) {
  switch (c) {
  case C_TIME: return ns_text_json(p->time_ns, ns_seconds(p->time_ns));
  case C_COUNT: return json_object_new_int64(p->n);
  case C_VETTED: return json_object_new_int64(p->nv);
  case C_LO: return figure_json(p->offset_min);
  case C_MEAN: return figure_json(p->offset_mean);
  case C_HI: return figure_json(p->offset_max);
  case C_BMAX: return figure_json(p->bound_max);
  case C_BMEAN: return figure_json(p->bound_mean);
  case C_AGREE: return json_object_new_int(p->agreeing_min);
  default: return json_object_new_int(p->classes_min);
  }
}

json_object *api_history_json(const char *source, const struct api_history_request *q,
                              const struct history_point *p, int n) {
  static const char *const source_cols[C_COUNT_ALL] = {
      "time", "count", NULL, "offset_min", "offset_mean", "offset_max", "bound_max",
      "bound_mean", NULL, NULL};
  static const char *const vetted_cols[C_COUNT_ALL] = {
      "time", "rounds", "vetted", "offset_min", "offset_mean", "offset_max", "error_max",
      "error_mean", "agreeing_min", "classes_min"};
  bool vetted = source == NULL;
  const char *const *names = vetted ? vetted_cols : source_cols;
  json_object *o = json_object_new_object();
  json_object *cols = json_object_new_object();
  if (!o || !cols) {
    json_object_put(o);
    json_object_put(cols);
    return NULL;
  }
  add(o, "source", json_object_new_string(vetted ? "vetted" : source));
  add(o, "from", api_json_double(ns_seconds(q->from_ns)));
  add(o, "to", api_json_double(ns_seconds(q->to_ns)));
  add(o, "step", api_json_double(ns_seconds(q->step_ns)));
  add(o, "resolution", json_object_new_string(history_resolution_name(q->res)));
  for (int c = 0; c < C_COUNT_ALL; c++) {
    if (!names[c]) continue;
    json_object *col = json_object_new_array_ext(n > 0 ? n : 0);
    if (!col) continue;
    for (int i = 0; i < n; i++) json_object_array_add(col, cell(&p[i], (enum column)c));
    add(cols, names[c], col);
  }
  add(o, "points", cols);
  return o;
}

json_object *api_with_range(json_object *doc, int64_t from_ns, int64_t to_ns, bool truncated) {
  if (!doc) return NULL;
  add(doc, "from", api_json_double(ns_seconds(from_ns)));
  add(doc, "to", api_json_double(ns_seconds(to_ns)));
  add(doc, "truncated", json_object_new_boolean(truncated));
  return doc;
}

/* ---- events and alarms read back from the history ---------------------- */

int api_event_from_history(const struct history_event *e, const char *source_name,
                           struct event_report *out) {
  memset(out, 0, sizeof *out);
  struct vt_event *v = &out->event;
  v->source = SUBJECT_SYSTEM;
  v->time_ns = e->time_ns;
  v->ended = e->ended;
  v->value = e->value;
  v->threshold = e->threshold;
  v->ref_class = CLASS_UNKNOWN;
  if (e->ref_class[0]) ref_class_parse(e->ref_class, &v->ref_class);
  if (event_kind_parse(e->kind, &v->kind) != 0) return -1;
  snprintf(v->text, sizeof v->text, "%s", e->text);
  snprintf(out->source_name, sizeof out->source_name, "%s", source_name ? source_name : "");
  return 0;
}

int api_alarm_from_history(const struct history_alarm *a, const char *source_name,
                           struct alarm_report *out) {
  memset(out, 0, sizeof *out);
  struct alarm *v = &out->alarm;
  v->id = a->id;
  v->source = SUBJECT_SYSTEM;
  v->ref_class = CLASS_UNKNOWN;
  if (a->ref_class[0]) ref_class_parse(a->ref_class, &v->ref_class);
  if (event_kind_parse(a->kind, &v->kind) != 0) return -1;
  v->severity = alarm_default_severity(v->kind);
  for (int s = 0; s <= SEV_CRITICAL; s++)
    if (strcmp(a->severity, alarm_severity_name((enum alarm_severity)s)) == 0)
      v->severity = (enum alarm_severity)s;
  v->active = a->cleared_ns == 0;
  v->raised_ns = a->raised_ns;
  v->cleared_ns = a->cleared_ns;
  v->value = a->value;
  v->threshold = a->threshold;
  v->repeats = a->repeats;
  snprintf(v->text, sizeof v->text, "%s", a->text);
  snprintf(out->source_name, sizeof out->source_name, "%s", source_name ? source_name : "");
  struct alarm_transition t = {v->active, *v};
  alarm_format_line(&t, out->source_name, out->line, sizeof out->line);
  return 0;
}
