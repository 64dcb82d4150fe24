/* The gpsd JSON protocol decoder (gpsd_json(5), "core protocol responses":
 * TPV, SKY, PPS, TOFF, VERSION, DEVICES, WATCH, ERROR) and the pure helpers
 * built on it: the time-trust filter, the per-epoch satellite window and
 * the receiver-health test. See gpsd_json.h for the contracts.
 *
 * Parsing is json-c's strict tokener over exactly `len` bytes, with a depth
 * limit; every field vettime reads is checked for its JSON type and range
 * (NaN and infinities are never accepted); unknown fields and classes are
 * ignored, as the protocol asks of clients. */
#include "probes/gpsd_json.h"

#include "lib/civil.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JSON_DEPTH 8    /* gpsd's deepest message (SKY) needs 3 */
#define MAX_SATELLITES 256

static const char *const gnss_names[GPSD_GNSS_IDS] = {
    "GPS", "SBAS", "GAL", "BDS", "IMES", "QZSS", "GLO", "IRNSS"};

static const char *const class_names[] = {
    [GPSD_MSG_NONE] = "none",       [GPSD_MSG_TPV] = "TPV",
    [GPSD_MSG_SKY] = "SKY",         [GPSD_MSG_PPS] = "PPS",
    [GPSD_MSG_TOFF] = "TOFF",       [GPSD_MSG_VERSION] = "VERSION",
    [GPSD_MSG_DEVICES] = "DEVICES", [GPSD_MSG_WATCH] = "WATCH",
    [GPSD_MSG_ERROR] = "ERROR",     [GPSD_MSG_DEVICE] = "DEVICE",
    [GPSD_MSG_OTHER] = "other",
};

const char *gpsd_msg_class_name(enum gpsd_msg_class c) {
  return (unsigned)c <= GPSD_MSG_OTHER ? class_names[c] : "?";
}

static const char *const error_names[GPSD_ERR_COUNT] = {
    [GPSD_OK] = "ok",
    [GPSD_ERR_EMPTY] = "empty line",
    [GPSD_ERR_TOO_LONG] = "line too long",
    [GPSD_ERR_SYNTAX] = "not JSON",
    [GPSD_ERR_NOT_OBJECT] = "not a JSON object",
    [GPSD_ERR_NO_CLASS] = "no class",
    [GPSD_ERR_TYPE] = "field of the wrong type",
    [GPSD_ERR_RANGE] = "field out of range",
    [GPSD_ERR_MISSING] = "required field missing",
    [GPSD_ERR_TIME] = "bad time string",
};

const char *gpsd_error_name(enum gpsd_error e) {
  return (unsigned)e < GPSD_ERR_COUNT ? error_names[e] : "?";
}

/* ---- time strings ---- */


/* Reads exactly n digits at *p. */
static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

static int expect(const char **p, char c) {
  if (**p != c) return -1;
  (*p)++;
  return 0;
}

/* ".fff" (1 to 9 digits) as nanoseconds; nothing is 0. */
static int fraction(const char **p, int32_t *nsec) {
  *nsec = 0;
  if (**p != '.') return 0;
  (*p)++;
  int n = 0;
  int32_t v = 0;
  while (**p >= '0' && **p <= '9') {
    if (++n > 9) return -1;
    v = v * 10 + (**p - '0');
    (*p)++;
  }
  if (n == 0) return -1;
  for (; n < 9; n++) v *= 10;
  *nsec = v;
  return 0;
}

int gpsd_parse_time(const char *s, struct gpsd_time *out) {
  int y, mo, d, h, mi, sec;
  int32_t ns;
  const char *p = s;
  if (digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) || expect(&p, '-') ||
      digits(&p, 2, &d) || expect(&p, 'T') || digits(&p, 2, &h) || expect(&p, ':') ||
      digits(&p, 2, &mi) || expect(&p, ':') || digits(&p, 2, &sec) || fraction(&p, &ns) ||
      expect(&p, 'Z') || *p != '\0')
    return -1;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > civil_days_in_month(y, mo) || h > 23 ||
      mi > 59 || sec > 60)
    return -1;
  out->sec = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  out->nsec = ns;
  return 0;
}

/* ---- typed field access: absent fields keep the caller's default ---- */

static enum gpsd_error get_int(json_object *o, const char *key, bool required,
                               int64_t min, int64_t max, int64_t *out) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || !v)
    return required ? GPSD_ERR_MISSING : GPSD_OK;
  if (!json_object_is_type(v, json_type_int)) return GPSD_ERR_TYPE;
  errno = 0;
  int64_t x = json_object_get_int64(v);
  if (errno || x < min || x > max) return GPSD_ERR_RANGE;
  *out = x;
  return GPSD_OK;
}

static enum gpsd_error get_intv(json_object *o, const char *key, bool required,
                                int min, int max, int *out) {
  int64_t x = *out;
  enum gpsd_error e = get_int(o, key, required, min, max, &x);
  if (e == GPSD_OK) *out = (int)x;
  return e;
}

static enum gpsd_error get_double(json_object *o, const char *key, double min,
                                  double max, double *out) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || !v) return GPSD_OK;
  if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
    return GPSD_ERR_TYPE;
  double x = json_object_get_double(v);
  if (!isfinite(x) || x < min || x > max) return GPSD_ERR_RANGE;
  *out = x;
  return GPSD_OK;
}

static enum gpsd_error get_bool(json_object *o, const char *key, bool *out) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || !v) return GPSD_OK;
  if (!json_object_is_type(v, json_type_boolean)) return GPSD_ERR_TYPE;
  *out = json_object_get_boolean(v);
  return GPSD_OK;
}

/* A string member into buf; too long for buf is a range error. */
static enum gpsd_error get_string(json_object *o, const char *key, bool required,
                                  char *buf, size_t size) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || !v)
    return required ? GPSD_ERR_MISSING : GPSD_OK;
  if (!json_object_is_type(v, json_type_string)) return GPSD_ERR_TYPE;
  int n = json_object_get_string_len(v);
  if (n < 0 || (size_t)n >= size) return GPSD_ERR_RANGE;
  memcpy(buf, json_object_get_string(v), (size_t)n);
  buf[n] = '\0';
  return GPSD_OK;
}

/* Runs a list of field reads, stopping at the first error. */
#define TRY(expr)                       \
  do {                                  \
    enum gpsd_error try_e_ = (expr);    \
    if (try_e_ != GPSD_OK) return try_e_; \
  } while (0)

/* ---- TPV ---- */

/* `time`: an ISO 8601 string; protocol versions before 3.10 sent a number
 * of seconds since 1970, which is accepted too. */
static enum gpsd_error tpv_time(json_object *o, struct gpsd_tpv *t) {
  json_object *v;
  if (!json_object_object_get_ex(o, "time", &v) || !v) return GPSD_OK;
  if (json_object_is_type(v, json_type_string)) {
    if (gpsd_parse_time(json_object_get_string(v), &t->time)) return GPSD_ERR_TIME;
  } else if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
    double x = json_object_get_double(v);
    if (!isfinite(x) || x < 0 || x >= (double)GPSD_TIME_CEILING) return GPSD_ERR_RANGE;
    t->time.sec = (int64_t)x;
    t->time.nsec = (int32_t)((x - (double)t->time.sec) * 1e9);
  } else {
    return GPSD_ERR_TYPE;
  }
  t->has_time = true;
  return GPSD_OK;
}

static enum gpsd_error decode_tpv(json_object *o, struct gpsd_msg *m) {
  struct gpsd_tpv *t = &m->u.tpv;
  *t = (struct gpsd_tpv){.status = -1, .ept = NAN, .jam = -1, .ant = GPSD_ANT_UNKNOWN};
  int ant = 0;
  int64_t leap = INT64_MIN;
  TRY(get_intv(o, "mode", true, 0, 3, &t->mode));
  TRY(get_intv(o, "status", false, 0, 15, &t->status));
  TRY(tpv_time(o, t));
  TRY(get_double(o, "ept", 0, 1e9, &t->ept));
  TRY(get_int(o, "leapseconds", false, -100, 100, &leap));
  TRY(get_intv(o, "jam", false, 0, 255, &t->jam));
  TRY(get_intv(o, "ant", false, 0, 3, &ant));
  t->has_leapseconds = leap != INT64_MIN;
  t->leapseconds = t->has_leapseconds ? (int)leap : 0;
  t->ant = (enum gpsd_antenna)ant;
  return GPSD_OK;
}

/* ---- SKY ---- */

/* gpsd's PRN numbering (gpsd_json(5)) for satellites without a gnssid. */
static int gnss_from_prn(int64_t prn) {
  static const struct { int lo, hi, gnss; } ranges[] = {
      {1, 63, GNSS_GPS},     {64, 96, GNSS_GLO},   {120, 158, GNSS_SBAS},
      {193, 202, GNSS_QZSS}, {201, 263, GNSS_BDS}, {301, 336, GNSS_GAL},
      {401, 437, GNSS_BDS},
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
    if (prn >= ranges[i].lo && prn <= ranges[i].hi) return ranges[i].gnss;
  return -1;
}

static enum gpsd_error sky_satellite(json_object *sat, struct gpsd_sky *s) {
  if (!json_object_is_type(sat, json_type_object)) return GPSD_ERR_TYPE;
  int64_t prn = 0, gnssid = -1;
  bool used = false;
  TRY(get_int(sat, "PRN", false, -1000, 1000, &prn));
  TRY(get_int(sat, "gnssid", false, 0, 255, &gnssid));
  TRY(get_bool(sat, "used", &used));
  int g = gnssid >= 0 ? (gnssid < GPSD_GNSS_IDS ? (int)gnssid : -1) : gnss_from_prn(prn);
  if (g >= 0) s->seen[g]++;
  if (used) {
    if (g >= 0) s->used[g]++;
    else s->used_other++;
  }
  return GPSD_OK;
}

static enum gpsd_error decode_sky(json_object *o, struct gpsd_msg *m) {
  struct gpsd_sky *s = &m->u.sky;
  *s = (struct gpsd_sky){.u_sat = -1, .jam = -1};
  TRY(get_intv(o, "uSat", false, 0, MAX_SATELLITES, &s->u_sat));
  TRY(get_intv(o, "jam", false, 0, 255, &s->jam));
  json_object *sats;
  if (!json_object_object_get_ex(o, "satellites", &sats) || !sats) return GPSD_OK;
  if (!json_object_is_type(sats, json_type_array)) return GPSD_ERR_TYPE;
  size_t n = json_object_array_length(sats);
  if (n > MAX_SATELLITES) return GPSD_ERR_RANGE;
  for (size_t i = 0; i < n; i++) TRY(sky_satellite(json_object_array_get_idx(sats, i), s));
  s->has_satellites = true;
  s->n_sat = (int)n;
  return GPSD_OK;
}

/* ---- PPS, TOFF ---- */

static enum gpsd_error timestamp(json_object *o, const char *sec_key, const char *nsec_key,
                                 struct gpsd_time *t) {
  int64_t sec = 0, nsec = 0;
  TRY(get_int(o, sec_key, true, 0, GPSD_TIME_CEILING, &sec));
  TRY(get_int(o, nsec_key, true, 0, 999999999, &nsec));
  t->sec = sec;
  t->nsec = (int32_t)nsec;
  return GPSD_OK;
}

/* qErr is the receiver's PPS quantization error in picoseconds. */
static enum gpsd_error decode_pps(json_object *o, struct gpsd_msg *m) {
  struct gpsd_pps *p = &m->u.pps;
  *p = (struct gpsd_pps){0};
  int64_t prec = INT64_MIN, qerr = 0;
  TRY(timestamp(o, "real_sec", "real_nsec", &p->real));
  TRY(timestamp(o, "clock_sec", "clock_nsec", &p->clock));
  TRY(get_int(o, "precision", false, -64, 10, &prec));
  TRY(get_int(o, "qErr", false, -1000000000000LL, 1000000000000LL, &qerr));
  p->has_precision = prec != INT64_MIN;
  p->precision = p->has_precision ? (int)prec : 0;
  p->qerr = fabs((double)qerr) * 1e-12;
  return GPSD_OK;
}

/* ---- VERSION, DEVICES, WATCH, ERROR ---- */

static enum gpsd_error decode_version(json_object *o, struct gpsd_msg *m) {
  struct gpsd_version *v = &m->u.version;
  *v = (struct gpsd_version){0};
  TRY(get_string(o, "release", true, v->release, sizeof v->release));
  TRY(get_intv(o, "proto_major", true, 0, 1000, &v->proto_major));
  TRY(get_intv(o, "proto_minor", true, 0, 1000, &v->proto_minor));
  return GPSD_OK;
}

static enum gpsd_error decode_devices(json_object *o, struct gpsd_msg *m) {
  struct gpsd_devices *d = &m->u.devices;
  *d = (struct gpsd_devices){0};
  json_object *arr;
  if (!json_object_object_get_ex(o, "devices", &arr) || !arr) return GPSD_ERR_MISSING;
  if (!json_object_is_type(arr, json_type_array)) return GPSD_ERR_TYPE;
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(e, json_type_object)) return GPSD_ERR_TYPE;
    struct gpsd_device tmp = {{0}, {0}};
    TRY(get_string(e, "path", false, tmp.path, sizeof tmp.path));
    TRY(get_string(e, "driver", false, tmp.driver, sizeof tmp.driver));
    if (d->n < GPSD_MAX_DEVICES) d->dev[d->n++] = tmp;
  }
  return GPSD_OK;
}

/* DEVICE names itself by "path"; its "device" member is not sent. */
static enum gpsd_error decode_device(json_object *o, struct gpsd_msg *m) {
  struct gpsd_device *d = &m->u.device;
  *d = (struct gpsd_device){{0}, {0}};
  TRY(get_string(o, "path", false, d->path, sizeof d->path));
  TRY(get_string(o, "driver", false, d->driver, sizeof d->driver));
  return GPSD_OK;
}

static enum gpsd_error decode_watch(json_object *o, struct gpsd_msg *m) {
  struct gpsd_watch *w = &m->u.watch;
  *w = (struct gpsd_watch){0};
  TRY(get_bool(o, "enable", &w->enable));
  TRY(get_bool(o, "json", &w->json));
  TRY(get_bool(o, "pps", &w->pps));
  return GPSD_OK;
}

/* An over-long message is cut, not rejected: it is only for the log. */
static enum gpsd_error decode_error(json_object *o, struct gpsd_msg *m) {
  struct gpsd_errmsg *e = &m->u.error;
  json_object *v;
  if (!json_object_object_get_ex(o, "message", &v) || !v) return GPSD_ERR_MISSING;
  if (!json_object_is_type(v, json_type_string)) return GPSD_ERR_TYPE;
  snprintf(e->message, sizeof e->message, "%s", json_object_get_string(v));
  return GPSD_OK;
}

static enum gpsd_error decode_nothing(json_object *o, struct gpsd_msg *m) {
  (void)o, (void)m;
  return GPSD_OK;
}

/* ---- the line ---- */

typedef enum gpsd_error (*class_decoder)(json_object *o, struct gpsd_msg *m);

static const struct {
  const char *name;
  enum gpsd_msg_class cls;
  class_decoder decode;
} class_table[] = {
    {"TPV", GPSD_MSG_TPV, decode_tpv},          {"SKY", GPSD_MSG_SKY, decode_sky},
    {"PPS", GPSD_MSG_PPS, decode_pps},          {"TOFF", GPSD_MSG_TOFF, decode_pps},
    {"VERSION", GPSD_MSG_VERSION, decode_version},
    {"DEVICES", GPSD_MSG_DEVICES, decode_devices},
    {"WATCH", GPSD_MSG_WATCH, decode_watch},    {"ERROR", GPSD_MSG_ERROR, decode_error},
    {"DEVICE", GPSD_MSG_DEVICE, decode_device},
};

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Parses exactly line[0..len) as one JSON value; NULL if it is not. */
static json_object *parse_strict(const char *line, size_t len) {
  if (memchr(line, '\0', len) || len > (size_t)INT32_MAX) return NULL;
  struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
  if (!tok) return NULL;
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *o = json_tokener_parse_ex(tok, line, (int)len);
  if (o && (json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != len)) {
    json_object_put(o);
    o = NULL;
  }
  json_tokener_free(tok);
  return o;
}

static enum gpsd_error decode_object(json_object *o, struct gpsd_msg *out) {
  char cls[16];
  if (!json_object_is_type(o, json_type_object)) return GPSD_ERR_NOT_OBJECT;
  enum gpsd_error e = get_string(o, "class", true, cls, sizeof cls);
  if (e == GPSD_ERR_MISSING || e == GPSD_ERR_TYPE) return GPSD_ERR_NO_CLASS;
  out->cls = GPSD_MSG_OTHER;
  if (e != GPSD_OK) return GPSD_OK; /* a long class name: not one of ours */
  class_decoder decode = decode_nothing;
  for (size_t i = 0; i < sizeof class_table / sizeof class_table[0]; i++)
    if (strcmp(cls, class_table[i].name) == 0) {
      out->cls = class_table[i].cls;
      decode = class_table[i].decode;
    }
  TRY(get_string(o, "device", false, out->device, sizeof out->device));
  return decode(o, out);
}

enum gpsd_error gpsd_json_decode_line(const char *line, size_t len, struct gpsd_msg *out) {
  memset(out, 0, sizeof *out);
  if (len > GPSD_MAX_LINE) return GPSD_ERR_TOO_LONG;
  while (len > 0 && is_blank(line[len - 1])) len--;
  while (len > 0 && is_blank(*line)) line++, len--;
  if (len == 0) return GPSD_ERR_EMPTY;
  json_object *o = parse_strict(line, len);
  if (!o) return GPSD_ERR_SYNTAX;
  enum gpsd_error e = decode_object(o, out);
  json_object_put(o);
  return e;
}

/* ---- the time filter ---- */

static const char *const verdict_names[GPSD_VERDICT_COUNT] = {
    [GPSD_TIME_TRUSTED] = "trusted",       [GPSD_TIME_REPEAT] = "repeat",
    [GPSD_TIME_NO_TIME] = "no time",       [GPSD_TIME_NO_FIX] = "no fix",
    [GPSD_TIME_BAD_DATE] = "bad date",     [GPSD_TIME_NO_LEAP] = "leap seconds unknown",
    [GPSD_TIME_BACKWARDS] = "time jumped", [GPSD_TIME_WARMING] = "warming up",
};

const char *gpsd_verdict_name(enum gpsd_verdict v) {
  return (unsigned)v < GPSD_VERDICT_COUNT ? verdict_names[v] : "?";
}

void gpsd_time_filter_init(struct gpsd_time_filter *f, int64_t not_before,
                           enum gpsd_leap_policy leap) {
  *f = (struct gpsd_time_filter){.not_before = not_before ? not_before : GPSD_TIME_FLOOR,
                                 .leap = leap};
}

/* What is wrong with this TPV on its own, or TRUSTED if nothing is. */
static enum gpsd_verdict tpv_fault(const struct gpsd_time_filter *f, const struct gpsd_tpv *t) {
  if (t->mode < 2) return GPSD_TIME_NO_FIX;
  if (!t->has_time) return GPSD_TIME_NO_TIME;
  if (t->time.sec < f->not_before || t->time.sec >= GPSD_TIME_CEILING) return GPSD_TIME_BAD_DATE;
  if ((f->leap == GPSD_LEAP_REQUIRE || f->leap_seen) && !t->has_leapseconds)
    return GPSD_TIME_NO_LEAP;
  return GPSD_TIME_TRUSTED;
}

/* Nanoseconds from a to b (the range is bounded by the date checks). */
static int64_t ns_between(struct gpsd_time a, struct gpsd_time b) {
  return (b.sec - a.sec) * 1000000000LL + (b.nsec - a.nsec);
}

enum gpsd_verdict gpsd_time_filter_tpv(struct gpsd_time_filter *f, const struct gpsd_tpv *t) {
  if (t->has_leapseconds) f->leap_seen = true;
  enum gpsd_verdict v = tpv_fault(f, t);
  if (v != GPSD_TIME_TRUSTED) {
    f->run = 0;
    f->have_last = false;
    return v;
  }
  int64_t step = f->have_last ? ns_between(f->last, t->time) : 1;
  if (step == 0) return GPSD_TIME_REPEAT;
  f->last = t->time;
  f->have_last = true;
  if (step < 0 || step > GPSD_MAX_EPOCH_GAP * 1000000000LL) {
    f->run = 1;
    return GPSD_TIME_BACKWARDS;
  }
  if (f->run < GPSD_TRUST_EPOCHS) f->run++;
  return f->run >= GPSD_TRUST_EPOCHS ? GPSD_TIME_TRUSTED : GPSD_TIME_WARMING;
}

bool gpsd_time_filter_trusted(const struct gpsd_time_filter *f) {
  return f->run >= GPSD_TRUST_EPOCHS;
}

/* ---- satellites per epoch ---- */

void gpsd_sky_window_add(struct gpsd_sky_window *w, const struct gpsd_sky *s) {
  if (!s->has_satellites) return;
  w->any = true;
  for (int i = 0; i < GPSD_GNSS_IDS; i++)
    if (s->used[i] > w->used[i]) w->used[i] = s->used[i];
  if (s->used_other > w->used_other) w->used_other = s->used_other;
}

bool gpsd_sky_window_close(struct gpsd_sky_window *w, int used[GPSD_GNSS_IDS], int *used_other) {
  bool any = w->any;
  if (any) {
    memcpy(used, w->used, sizeof w->used);
    *used_other = w->used_other;
  }
  *w = (struct gpsd_sky_window){0};
  return any;
}

enum ref_class gpsd_class_from_used(const int used[GPSD_GNSS_IDS]) {
  static const struct { int gnss; enum ref_class c; } core[] = {
      {GNSS_GPS, CLASS_GPS}, {GNSS_GAL, CLASS_GAL}, {GNSS_GLO, CLASS_GLO}, {GNSS_BDS, CLASS_BDS}};
  int n = 0;
  enum ref_class c = CLASS_UNKNOWN;
  for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
    if (used[core[i].gnss] > 0) {
      n++;
      c = core[i].c;
    }
  return n > 1 ? CLASS_GNSS : c;
}

/* ---- health ---- */

int gpsd_health_used_total(const struct gpsd_health *h) {
  int n = h->used_other;
  for (int i = 0; i < GPSD_GNSS_IDS; i++) n += h->used[i];
  return n;
}

static bool ant_fault(enum gpsd_antenna a) { return a == GPSD_ANT_OPEN || a == GPSD_ANT_SHORT; }

unsigned gpsd_health_drops(const struct gpsd_health *b, const struct gpsd_health *a) {
  unsigned d = 0;
  if (b->sky_known && a->sky_known) {
    int nb = gpsd_health_used_total(b), na = gpsd_health_used_total(a);
    if (nb >= 4 && (na < 4 || 2 * na <= nb)) d |= GPSD_DROP_SATS;
  }
  if (b->mode >= 2 && a->mode < b->mode) d |= GPSD_DROP_FIX;
  if (b->pps && !a->pps) d |= GPSD_DROP_PPS;
  if (b->jam < GPSD_JAM_THRESHOLD && a->jam >= GPSD_JAM_THRESHOLD) d |= GPSD_DROP_JAM;
  if (!ant_fault(b->ant) && ant_fault(a->ant)) d |= GPSD_DROP_ANT;
  return d;
}

/* Appends with snprintf semantics, never past len. */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...) {
  if (*pos >= len) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
  va_end(ap);
  if (n > 0) *pos += (size_t)n < len - *pos ? (size_t)n : len - *pos - 1;
}

char *gpsd_health_format(const struct gpsd_health *h, char *buf, size_t len) {
  static const char *const modes[] = {"mode unknown", "no fix", "2D fix", "3D fix"};
  static const int order[GPSD_GNSS_IDS] = {GNSS_GPS, GNSS_GAL, GNSS_GLO, GNSS_BDS,
                                           GNSS_QZSS, GNSS_SBAS, GNSS_IRNSS, GNSS_IMES};
  static const char *const ants[] = {"", "OK", "OPEN", "SHORT"};
  size_t pos = 0;
  if (!len) return buf;
  buf[0] = '\0';
  append(buf, len, &pos, "%s", h->mode >= 0 && h->mode <= 3 ? modes[h->mode] : "mode ?");
  if (h->sky_known) {
    append(buf, len, &pos, ", used");
    for (int i = 0; i < GPSD_GNSS_IDS; i++)
      if (h->used[order[i]]) append(buf, len, &pos, " %s %d", gnss_names[order[i]], h->used[order[i]]);
    if (h->used_other) append(buf, len, &pos, " other %d", h->used_other);
    if (!gpsd_health_used_total(h)) append(buf, len, &pos, " none");
  }
  if (h->pps) append(buf, len, &pos, ", PPS");
  if (h->jam >= 0) append(buf, len, &pos, ", jam %d", h->jam);
  if (h->ant != GPSD_ANT_UNKNOWN) append(buf, len, &pos, ", ant %s", ants[h->ant]);
  return buf;
}
