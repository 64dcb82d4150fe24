/* Text renderings of the JSON API documents for the vettime CLI: see
 * format.h for the unit rules. Every field is read defensively: a missing,
 * null or mistyped field prints as "-" so that a newer or older daemon
 * never crashes the tool. */
#include "cli/format.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MISSING "-"

/* ---- durations -------------------------------------------------------- */

static const struct unit {
  double scale;   /* seconds per unit */
  int decimals;
  const char *name;
  double min;     /* smallest printed number (in this unit) shown this way */
} units[] = {
    {1.0, 3, "s", 1.0},
    {1e-3, 3, "ms", 1.0},
    {1e-6, 3, "us", 1.0},
    {1e-9, 0, "ns", 0.0},
};

/* The unit is decided on the printed digits, so that rounding can never
 * produce "1000.000ms" and the choice agrees with what the reader sees. */
const char *format_duration(double seconds, bool sign, char *buf, size_t len) {
  if (!isfinite(seconds)) {
    snprintf(buf, len, "%s", MISSING);
    return buf;
  }
  const char *sign_text = seconds < 0 ? "-" : sign ? "+" : "";
  double abs_v = fabs(seconds);
  if (abs_v >= 1e10) { /* centuries: keep the column narrow */
    snprintf(buf, len, "%s%.3es", sign_text, abs_v);
    return buf;
  }
  char digits[FORMAT_DURATION_LEN];
  snprintf(digits, sizeof digits, "%.3f", abs_v);
  if (strtod(digits, NULL) >= 1e4) { /* milliseconds would only be noise */
    snprintf(buf, len, "%s%.0fs", sign_text, abs_v);
    return buf;
  }
  const struct unit *u = units;
  for (; u < units + sizeof units / sizeof units[0]; u++) {
    snprintf(digits, sizeof digits, "%.*f", u->decimals, abs_v / u->scale);
    if (strtod(digits, NULL) >= u->min) break;
  }
  snprintf(buf, len, "%s%s%s", sign_text, digits, u->name);
  return buf;
}

/* ---- reading fields --------------------------------------------------- */

static json_object *field(json_object *obj, const char *key) {
  json_object *v = NULL;
  if (!json_object_is_type(obj, json_type_object)) return NULL;
  json_object_object_get_ex(obj, key, &v);
  return v; /* NULL for absent and for null alike */
}

static const char *str_field(json_object *obj, const char *key) {
  json_object *v = field(obj, key);
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : MISSING;
}

static bool num_field(json_object *obj, const char *key, double *out) {
  json_object *v = field(obj, key);
  if (!json_object_is_type(v, json_type_double) &&
      !json_object_is_type(v, json_type_int))
    return false;
  *out = json_object_get_double(v);
  return true;
}

/* True only for a JSON true. */
static bool bool_field(json_object *obj, const char *key) {
  json_object *v = field(obj, key);
  return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* Who an event or alarm is about, in the words of the daemon's log line
 * (alarm_format_line): its source; for no source (null), "class DCF" when
 * a class is named (class-lost), else "system"; "-" for a source that is
 * neither a name nor null. buf holds at least 32 bytes. */
static const char *subject_field(json_object *obj, char *buf, size_t len) {
  json_object *v = field(obj, "source");
  if (v) return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : MISSING;
  json_object *cls = field(obj, "class");
  if (!json_object_is_type(cls, json_type_string)) return "system";
  snprintf(buf, len, "class %s", json_object_get_string(cls));
  return buf;
}

/* An integer field in decimal, or in octal with C's leading 0 (reach: the
 * JSON number 63 prints as 077, never as a decimal-looking 77). */
static const char *int_field_base(json_object *obj, const char *key, bool octal,
                                  char *buf, size_t len) {
  json_object *v = field(obj, key);
  if (!json_object_is_type(v, json_type_int)) return MISSING;
  if (octal)
    snprintf(buf, len, "%#llo", (unsigned long long)json_object_get_int64(v));
  else
    snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
  return buf;
}

static const char *int_field(json_object *obj, const char *key, char *buf,
                             size_t len) {
  return int_field_base(obj, key, false, buf, len);
}

static const char *duration_field(json_object *obj, const char *key, bool sign,
                                  char *buf, size_t len) {
  double v;
  if (!num_field(obj, key, &v)) return MISSING;
  return format_duration(v, sign, buf, len);
}

/* ---- sorting --------------------------------------------------------- */

struct timed {
  json_object *item;
  double t;
  size_t pos;
};

static int newest_first_cmp(const void *x, const void *y) {
  const struct timed *a = x, *b = y;
  if (a->t != b->t) return a->t > b->t ? -1 : 1;
  return a->pos < b->pos ? 1 : -1; /* equal times: the later in the document first */
}

/* The items of list ordered by their `key` time, newest first, or oldest
 * first when reverse; an item without the time counts as oldest. NULL
 * when out of memory (the caller prints in document order then). */
static struct timed *by_time(json_object *list, const char *key, bool reverse) {
  size_t n = json_object_array_length(list);
  struct timed *v = calloc(n ? n : 1, sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < n; i++) {
    v[i].item = json_object_array_get_idx(list, i);
    v[i].pos = i;
    if (!num_field(v[i].item, key, &v[i].t) || !isfinite(v[i].t)) v[i].t = -INFINITY;
  }
  qsort(v, n, sizeof *v, newest_first_cmp);
  for (size_t i = 0; reverse && i < n / 2; i++) {
    struct timed tmp = v[i];
    v[i] = v[n - 1 - i];
    v[n - 1 - i] = tmp;
  }
  return v;
}

static json_object *nth(json_object *list, struct timed *order, size_t i) {
  return order ? order[i].item : json_object_array_get_idx(list, i);
}

/* ---- sources ---------------------------------------------------------- */

#define CLASS_W 8
#define VOTE_W 14 /* "class-outvoted" */
#define AUTH_W 9  /* "key 65535": how the source is authenticated */
#define COLUMNS_AFTER_NAME \
  (1 + CLASS_W + 1 + 3 + 1 + 15 + 1 + 5 + 1 + 4 + 1 + 6 + 1 + 11 + 1 + 10 + 1 + VOTE_W + 1 + \
   AUTH_W + 1 + 5)

static int name_width(json_object *list) {
  int w = (int)strlen("Name");
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    int len = (int)strlen(str_field(json_object_array_get_idx(list, i), "name"));
    if (len > w) w = len;
  }
  return w;
}

static void print_rule(int len, FILE *out) {
  for (int i = 0; i < len; i++) fputc('=', out);
  fputc('\n', out);
}

static void print_header(int w, FILE *out) {
  fprintf(out, "%-*s %-*s %3s %-15s %5s %4s %6s %11s %10s %-*s %-*s %s\n", w, "Name", CLASS_W,
          "Class", "Str", "Refid", "Reach", "Poll", "LastRx", "Offset", "+/-Bound", VOTE_W,
          "Vote", AUTH_W, "Auth", "State");
  print_rule(w + COLUMNS_AFTER_NAME, out);
}

const char *format_age(double seconds, char *buf, size_t len) {
  if (!isfinite(seconds) || seconds > 1e12) {
    snprintf(buf, len, "%s", MISSING);
    return buf;
  }
  long long s = seconds < 0 ? 0 : (long long)(seconds + 0.5);
  if (s < 10000) snprintf(buf, len, "%lld", s);
  else if (s < 600000) snprintf(buf, len, "%lldm", s / 60);
  else if (s < 36000000) snprintf(buf, len, "%lldh", s / 3600);
  else snprintf(buf, len, "%lldd", s / 86400);
  return buf;
}

/* Seconds from the source's last sample to now, "-" without one. */
static const char *last_rx_text(json_object *s, double now, char *buf, size_t len) {
  double rx;
  if (!num_field(s, "last_rx", &rx) || !isfinite(now)) return MISSING;
  return format_age(now - rx, buf, len);
}

static void print_source(json_object *s, int w, double now, FILE *out) {
  char cls[CLASS_W + 2], str[16], reach[16], poll[16], rx[16];
  char off[FORMAT_DURATION_LEN], bound[FORMAT_DURATION_LEN];
  json_object *configured = field(s, "class_configured");
  snprintf(cls, sizeof cls, "%s%s", str_field(s, "class"),
           json_object_get_boolean(configured) ? "*" : "");
  fprintf(out, "%-*s %-*s %3s %-15s %5s %4s %6s %11s %10s %-*s %-*s %s\n", w,
          str_field(s, "name"), CLASS_W, cls,
          int_field(s, "stratum", str, sizeof str),
          str_field(s, "refid"),
          int_field_base(s, "reach", true, reach, sizeof reach),
          int_field(s, "poll", poll, sizeof poll),
          last_rx_text(s, now, rx, sizeof rx),
          duration_field(s, "offset", true, off, sizeof off),
          duration_field(s, "error_bound", false, bound, sizeof bound),
          VOTE_W, str_field(s, "vote_state"), AUTH_W, str_field(s, "auth"),
          str_field(s, "state"));
}

int format_sources_table(json_object *sources_doc, double now, FILE *out) {
  json_object *list = field(sources_doc, "sources");
  if (!json_object_is_type(list, json_type_array)) return -1;
  num_field(sources_doc, "now", &now); /* the daemon's clock, when it says */
  int w = name_width(list);
  print_header(w, out);
  for (size_t i = 0; i < json_object_array_length(list); i++)
    print_source(json_object_array_get_idx(list, i), w, now, out);
  if (json_object_array_length(list) == 0) fputs("no sources configured\n", out);
  return 0;
}

/* ---- sourcestats ------------------------------------------------------ */

static void print_stats_row(json_object *s, int w, FILE *out) {
  json_object *st = field(s, "stats");
  char np[16], jit[FORMAT_DURATION_LEN], off[FORMAT_DURATION_LEN], sd[FORMAT_DURATION_LEN];
  char freq[32] = MISSING;
  double ppm;
  if (num_field(st, "freq_ppm", &ppm) && isfinite(ppm)) snprintf(freq, sizeof freq, "%+.3f", ppm);
  fprintf(out, "%-*s %-*s %3s %10s %10s %11s %10s\n", w, str_field(s, "name"), CLASS_W,
          str_field(s, "class"), int_field(st, "samples", np, sizeof np), freq,
          duration_field(st, "jitter", false, jit, sizeof jit),
          duration_field(st, "offset", true, off, sizeof off),
          duration_field(st, "sd", false, sd, sizeof sd));
}

int format_sourcestats(json_object *sources_doc, FILE *out) {
  json_object *list = field(sources_doc, "sources");
  if (!json_object_is_type(list, json_type_array)) return -1;
  int w = name_width(list);
  int len = fprintf(out, "%-*s %-*s %3s %10s %10s %11s %10s\n", w, "Name", CLASS_W, "Class",
                    "NP", "Freq ppm", "Jitter", "Offset", "Std Dev");
  print_rule(len - 1, out);
  for (size_t i = 0; i < json_object_array_length(list); i++)
    print_stats_row(json_object_array_get_idx(list, i), w, out);
  if (json_object_array_length(list) == 0) fputs("no sources configured\n", out);
  return 0;
}

/* ---- status ----------------------------------------------------------- */

/* "3d 04:05:06" or "04:05:06". */
static const char *uptime_text(json_object *doc, char *buf, size_t len) {
  double up;
  if (!num_field(doc, "uptime", &up) || !(up >= 0) || up > 1e12) return MISSING;
  long long s = (long long)up;
  long long days = s / 86400;
  if (days)
    snprintf(buf, len, "%lldd %02lld:%02lld:%02lld", days, s / 3600 % 24,
             s / 60 % 60, s % 60);
  else
    snprintf(buf, len, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

/* A Unix time field as ISO 8601 UTC, with milliseconds (truncated, so the
 * printed second is the true one) or without. */
static const char *time_text(json_object *doc, const char *key, bool with_ms,
                             char *buf, size_t len) {
  double t;
  if (!num_field(doc, key, &t) || !(t >= 0) || t > 253402300799.0) return MISSING;
  time_t sec = (time_t)t;
  struct tm tm;
  gmtime_r(&sec, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  int ms = (int)((t - (double)sec) * 1000);
  if (with_ms)
    snprintf(buf, len, "%s.%03dZ", date, ms > 999 ? 999 : ms);
  else
    snprintf(buf, len, "%sZ", date);
  return buf;
}

/* The history's losses, with the samples still waiting to be written
 * (a locked or full database); nothing for a daemon without the fields. */
static void print_history_waiting(json_object *doc, FILE *out) {
  char lost[32], waiting[32];
  double n = 0;
  if (!field(doc, "history_dropped")) return;
  fprintf(out, "History lost:    %s", int_field(doc, "history_dropped", lost, sizeof lost));
  if (num_field(doc, "history_buffered", &n) && n > 0)
    fprintf(out, " (%s samples waiting for a write)",
            int_field(doc, "history_buffered", waiting, sizeof waiting));
  fputc('\n', out);
}

static void print_steps(json_object *doc, FILE *out) {
  char n[32], last[FORMAT_DURATION_LEN];
  double steps = 0;
  fprintf(out, "Clock steps:     %s", int_field(doc, "clock_steps", n, sizeof n));
  if (num_field(doc, "clock_steps", &steps) && steps > 0)
    fprintf(out, ", last %s",
            duration_field(doc, "last_clock_step", true, last, sizeof last));
  fputc('\n', out);
}

/* The verdict: "yes, offset +12.345us ±250.000us (3 of 4 sources, 2 of 3
 * classes)", "no: <why>", "no: no vote round yet", or "-" without a vote
 * document. */
static void print_verdict_line(json_object *vote, FILE *out) {
  char off[FORMAT_DURATION_LEN], err[FORMAT_DURATION_LEN], a[32], c[32], k[32], l[32];
  fputs("Vetted:          ", out);
  if (!json_object_is_type(vote, json_type_object)) {
    fputs(MISSING "\n", out);
  } else if (!bool_field(vote, "valid")) {
    fputs("no: no vote round yet\n", out);
  } else if (!bool_field(vote, "vetted")) {
    json_object *why = field(vote, "why_not");
    if (json_object_is_type(why, json_type_string) && json_object_get_string(why)[0])
      fprintf(out, "no: %s\n", json_object_get_string(why));
    else
      fputs("no\n", out);
  } else {
    fprintf(out, "yes, offset %s ±%s (%s of %s sources, %s of %s classes)\n",
            duration_field(vote, "offset", true, off, sizeof off),
            duration_field(vote, "error", false, err, sizeof err),
            int_field(vote, "agreeing", a, sizeof a), int_field(vote, "candidates", c, sizeof c),
            int_field(vote, "agreeing_classes", k, sizeof k), int_field(vote, "classes", l, sizeof l));
  }
}

/* "none open", or "2 open (1 critical, 1 warning)"; "-" without a list. */
static void print_alarm_count(json_object *alarms, FILE *out) {
  static const char *const sev[] = {"critical", "warning", "info"};
  json_object *list = field(alarms, "alarms");
  int count[3] = {0, 0, 0}, open = 0;
  fputs("Alarms:          ", out);
  if (!json_object_is_type(list, json_type_array)) {
    fputs(MISSING "\n", out);
    return;
  }
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *a = json_object_array_get_idx(list, i);
    if (!bool_field(a, "active")) continue;
    open++;
    for (int s = 0; s < 3; s++) count[s] += strcmp(str_field(a, "severity"), sev[s]) == 0;
  }
  if (!open) {
    fputs("none open\n", out);
    return;
  }
  fprintf(out, "%d open (", open);
  for (int s = 0, printed = 0; s < 3; s++)
    if (count[s]) fprintf(out, "%s%d %s", printed++ ? ", " : "", count[s], sev[s]);
  fputs(")\n", out);
}

/* The NTP server: "off", or its state (serving, holdover since when,
 * refusing), what it serves, and what it answered (how many with NTS)
 * and dropped. */
static void print_server(json_object *srv, FILE *out) {
  fputs("Serving:         ", out);
  if (!json_object_is_type(srv, json_type_object)) {
    fputs(MISSING "\n", out);
    return;
  }
  if (!bool_field(srv, "enabled")) {
    fputs("off (no serve directive)\n", out);
    return;
  }
  char since[48], a[32], d[32], s[32], err[FORMAT_DURATION_LEN];
  const char *state = str_field(srv, "state");
  fputs(state, out);
  if (strcmp(state, "holdover") == 0)
    fprintf(out, " since %s", time_text(srv, "holdover_since", false, since, sizeof since));
  if (strcmp(state, "refusing") != 0)
    fprintf(out, ", stratum %s, ±%s", int_field(srv, "stratum", s, sizeof s),
            duration_field(srv, "error", false, err, sizeof err));
  fprintf(out, "; %s requests answered", int_field(srv, "answered", a, sizeof a));
  /* NTS (issue 14): said only when some answers were NTS-authenticated */
  json_object *counters = NULL, *nts = NULL;
  if (json_object_object_get_ex(srv, "counters", &counters) &&
      json_object_object_get_ex(counters, "nts_answered", &nts) &&
      json_object_get_int64(nts) > 0)
    fprintf(out, " (%lld with NTS)", (long long)json_object_get_int64(nts));
  fprintf(out, ", %s dropped\n", int_field(srv, "dropped", d, sizeof d));
}

/* A warning line for NTP sources that are neither NTS nor keyed (their
 * time can be forged by anyone on the path); nothing when there are none. */
static void print_unauthenticated(json_object *doc, FILE *out) {
  double n;
  json_object *names = field(doc, "unauthenticated");
  if (!num_field(doc, "unauthenticated_sources", &n) || n < 1) return;
  fprintf(out, "Warning:         %.0f NTP source%s neither NTS nor keyed:", n,
          n == 1 ? " is" : "s are");
  size_t shown = json_object_is_type(names, json_type_array) ? json_object_array_length(names) : 0;
  for (size_t i = 0; i < shown; i++) {
    json_object *v = json_object_array_get_idx(names, i);
    fprintf(out, "%s %s", i ? "," : "",
            json_object_is_type(v, json_type_string) ? json_object_get_string(v) : MISSING);
  }
  if ((double)shown < n) fputs(", ...", out);
  fputc('\n', out);
}

int format_status(json_object *status_doc, json_object *vote_doc, json_object *alarms_doc,
                  FILE *out) {
  if (!json_object_is_type(status_doc, json_type_object)) return -1;
  char up[48], now[48], a[32], b[32], c[32], d[32], e[32];
  json_object *doc = status_doc;
  print_verdict_line(vote_doc, out);
  print_alarm_count(alarms_doc, out);
  print_server(field(doc, "server"), out);
  fprintf(out, "Daemon:          vettimed %s, up %s\n", str_field(doc, "version"),
          uptime_text(doc, up, sizeof up));
  fprintf(out, "Time:            %s\n", time_text(doc, "now", true, now, sizeof now));
  fprintf(out, "Sources:         %s configured, %s reachable, %s with a sample\n",
          int_field(doc, "sources", a, sizeof a),
          int_field(doc, "reachable", b, sizeof b),
          int_field(doc, "with_sample", c, sizeof c));
  print_unauthenticated(doc, out);
  fprintf(out, "Database:        %s\n", str_field(doc, "database"));
  fprintf(out, "Samples written: %s\n",
          int_field(doc, "samples_written", d, sizeof d));
  fprintf(out, "History errors:  %s\n",
          int_field(doc, "history_errors", e, sizeof e));
  print_history_waiting(doc, out);
  print_steps(doc, out);
  return 0;
}

/* ---- vote ------------------------------------------------------------- */

/* " (GPS GAL)", or nothing when no class agrees. */
static void print_class_names(json_object *doc, FILE *out) {
  json_object *names = field(doc, "agreeing_class_names");
  int printed = 0;
  if (!json_object_is_type(names, json_type_array)) return;
  for (size_t i = 0; i < json_object_array_length(names); i++) {
    json_object *n = json_object_array_get_idx(names, i);
    if (!json_object_is_type(n, json_type_string)) continue;
    fprintf(out, "%s%s", printed++ ? " " : " (", json_object_get_string(n));
  }
  if (printed) fputc(')', out);
}

static void print_vetted(json_object *doc, FILE *out) {
  char off[FORMAT_DURATION_LEN], err[FORMAT_DURATION_LEN];
  char agree[32], cand[32], cls[32], all[32], str[32];
  fprintf(out, "Vetted: yes, offset %s ±%s, %s of %s sources, %s of %s classes",
          duration_field(doc, "offset", true, off, sizeof off),
          duration_field(doc, "error", false, err, sizeof err),
          int_field(doc, "agreeing", agree, sizeof agree),
          int_field(doc, "candidates", cand, sizeof cand),
          int_field(doc, "agreeing_classes", cls, sizeof cls),
          int_field(doc, "classes", all, sizeof all));
  print_class_names(doc, out);
  if (json_object_is_type(field(doc, "best"), json_type_string))
    fprintf(out, ", best %s (%s)", str_field(doc, "best"), str_field(doc, "best_class"));
  fprintf(out, ", stratum %s\n", int_field(doc, "stratum", str, sizeof str));
}

static void print_not_vetted(json_object *doc, FILE *out) {
  json_object *why = field(doc, "why_not");
  if (json_object_is_type(why, json_type_string) && json_object_get_string(why)[0])
    fprintf(out, "Vetted: no: %s\n", json_object_get_string(why));
  else
    fputs("Vetted: no\n", out);
}

static void print_round(json_object *doc, FILE *out) {
  char t[48], leap[32];
  double ppm;
  fprintf(out, "Round: %s, leap %s", time_text(doc, "time", true, t, sizeof t),
          int_field(doc, "leap", leap, sizeof leap));
  if (bool_field(doc, "leap_disagree")) fputs(" (sources disagree)", out);
  if (num_field(doc, "local_freq_ppm", &ppm))
    fprintf(out, ", local clock frequency error %+.3fppm", ppm);
  fputc('\n', out);
}

int format_vote(json_object *vote_doc, FILE *out) {
  if (!json_object_is_type(vote_doc, json_type_object)) return -1;
  if (!bool_field(vote_doc, "valid")) {
    fputs("Vetted: no: no vote round yet\n", out);
    return 0;
  }
  if (bool_field(vote_doc, "vetted"))
    print_vetted(vote_doc, out);
  else
    print_not_vetted(vote_doc, out);
  print_round(vote_doc, out);
  return 0;
}

/* ---- events ----------------------------------------------------------- */

static void print_event(json_object *e, FILE *out) {
  char t[48], subject[64];
  const char *text = str_field(e, "text");
  fprintf(out, "%s %s%s %s%s%s\n", time_text(e, "time", true, t, sizeof t),
          str_field(e, "kind"), bool_field(e, "ended") ? " ended" : "",
          subject_field(e, subject, sizeof subject), text[0] ? ": " : "", text);
}

int format_events(json_object *events_doc, bool reverse, FILE *out) {
  json_object *list = field(events_doc, "events");
  if (!json_object_is_type(list, json_type_array)) return -1;
  size_t n = json_object_array_length(list);
  if (n == 0) {
    fputs("no events\n", out);
    return 0;
  }
  struct timed *order = by_time(list, "time", reverse);
  for (size_t i = 0; i < n; i++) print_event(nth(list, order, i), out);
  free(order);
  return 0;
}

/* ---- alarms ----------------------------------------------------------- */

#define SEVERITY_W 8 /* "critical" */
#define KIND_W 14    /* "stratum-change" */
#define TIME_W 20    /* "2023-11-14T22:13:20Z" */

/* The widths of the two columns that grow with the data. */
static void alarm_widths(json_object *list, int *id_w, int *source_w) {
  char buf[32], subject[64];
  *id_w = (int)strlen("Id");
  *source_w = (int)strlen("system");
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *a = json_object_array_get_idx(list, i);
    int id_len = (int)strlen(int_field(a, "id", buf, sizeof buf));
    int source_len = (int)strlen(subject_field(a, subject, sizeof subject));
    if (id_len > *id_w) *id_w = id_len;
    if (source_len > *source_w) *source_w = source_len;
  }
}

static void print_alarm_header(int id_w, int source_w, FILE *out) {
  int len = fprintf(out, "%*s %-*s %-*s %-*s %-*s %-*s %s", id_w, "Id", SEVERITY_W,
                    "Severity", KIND_W, "Kind", source_w, "Source", TIME_W, "Raised",
                    TIME_W, "Cleared", "Text");
  fputc('\n', out);
  print_rule(len, out);
}

static void print_alarm(json_object *a, int id_w, int source_w, FILE *out) {
  char id[32], raised[48], cleared[48], subject[64];
  fprintf(out, "%*s %-*s %-*s %-*s %-*s %-*s %s\n", id_w,
          int_field(a, "id", id, sizeof id), SEVERITY_W, str_field(a, "severity"),
          KIND_W, str_field(a, "kind"), source_w, subject_field(a, subject, sizeof subject),
          TIME_W, time_text(a, "raised", false, raised, sizeof raised), TIME_W,
          bool_field(a, "active") ? MISSING
                                  : time_text(a, "cleared", false, cleared, sizeof cleared),
          str_field(a, "text"));
}

int format_alarms_table(json_object *alarms_doc, bool reverse, FILE *out) {
  json_object *list = field(alarms_doc, "alarms");
  if (!json_object_is_type(list, json_type_array)) return -1;
  size_t n = json_object_array_length(list);
  if (n == 0) {
    fputs("no alarms (none open, none cleared in the last hour)\n", out);
    return 0;
  }
  int id_w, source_w;
  alarm_widths(list, &id_w, &source_w);
  print_alarm_header(id_w, source_w, out);
  struct timed *order = by_time(list, "raised", reverse);
  for (size_t i = 0; i < n; i++) print_alarm(nth(list, order, i), id_w, source_w, out);
  free(order);
  return 0;
}
