/* The JSON API, version 1: report structs -> json-c documents, and the
 * routing decision for a request. See api.h for the document shapes. */
#include "web/api.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  add(o, "clock_steps", json_object_new_int(s->clock_steps));
  add(o, "last_clock_step", api_json_double(s->last_clock_step));
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
