/* The JSON API, version 1: report structs -> json-c documents, and the
 * routing decision for a request. See api.h for the document shapes. */
#include "web/api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static double timespec_seconds(struct timespec ts) {
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void add(json_object *obj, const char *key, json_object *val) {
  json_object_object_add(obj, key, val);
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

static json_object *source_json(const struct source_report *r) {
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
  return o;
}

json_object *api_sources_json(const struct source_report *src, int n) {
  json_object *doc = json_object_new_object();
  json_object *list = json_object_new_array_ext(n > 0 ? n : 0);
  if (!doc || !list) {
    json_object_put(doc);
    json_object_put(list);
    return NULL;
  }
  for (int i = 0; i < n; i++) json_object_array_add(list, source_json(&src[i]));
  add(doc, "sources", list);
  return doc;
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
