/* `vettime check`: see check.h. */
#include "cli/check.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/format.h"
#include "monitor/history_report.h"

static const struct {
  const char *label;     /* perfdata label, and the word in the text */
  const char *opt;       /* the option's stem: --offset-warn */
  enum range_unit unit;
} metrics[CM_COUNT] = {
    [CM_OFFSET] = {"offset", "offset", RANGE_SECONDS},
    [CM_BOUND] = {"bound", "bound", RANGE_SECONDS},
    [CM_SOURCES] = {"sources", "sources", RANGE_PLAIN},
    [CM_CLASSES] = {"classes", "classes", RANGE_PLAIN},
    [CM_ALARMS] = {"alarms", "alarms", RANGE_PLAIN},
};

const char *check_state_name(enum check_state s) {
  static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  return (unsigned)s < 4 ? names[s] : "UNKNOWN";
}

/* ---- reading the documents ---- */

static json_object *field(json_object *o, const char *k) {
  json_object *v = NULL;
  if (json_object_is_type(o, json_type_object)) json_object_object_get_ex(o, k, &v);
  return v;
}

static bool get_num(json_object *o, const char *k, double *out) {
  json_object *v = field(o, k);
  if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
    return false;
  *out = json_object_get_double(v);
  return true;
}

static bool get_int(json_object *o, const char *k, int *out) {
  json_object *v = field(o, k);
  if (!json_object_is_type(v, json_type_int)) return false;
  *out = json_object_get_int(v);
  return true;
}

static bool get_bool(json_object *o, const char *k, bool *out) {
  json_object *v = field(o, k);
  if (!json_object_is_type(v, json_type_boolean)) return false;
  *out = json_object_get_boolean(v);
  return true;
}

__attribute__((format(printf, 3, 4)))
static int bad(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int check_input_from_json(json_object *status, json_object *vote, json_object *alarms,
                          struct check_input *in, char *err, size_t errlen) {
  memset(in, 0, sizeof *in);
  in->offset = in->bound = NAN;
  if (!get_int(status, "sources", &in->sources))
    return bad(err, errlen, "the status document has no \"sources\" count");
  if (!get_bool(vote, "valid", &in->valid))
    return bad(err, errlen, "the vote document has no \"valid\" flag");
  if (in->valid) {
    if (!get_bool(vote, "vetted", &in->vetted) || !get_int(vote, "agreeing", &in->agreeing) ||
        !get_int(vote, "agreeing_classes", &in->agreeing_classes) ||
        !get_int(vote, "classes", &in->classes))
      return bad(err, errlen, "the vote document lacks vetted, agreeing or classes");
    if (in->vetted && (!get_num(vote, "offset", &in->offset) || !get_num(vote, "error", &in->bound)))
      return bad(err, errlen, "the vote document is vetted but has no offset or error");
    json_object *why = field(vote, "why_not");
    snprintf(in->why_not, sizeof in->why_not, "%s",
             json_object_is_type(why, json_type_string) ? json_object_get_string(why) : "");
  }
  json_object *list = field(alarms, "alarms");
  if (!json_object_is_type(list, json_type_array))
    return bad(err, errlen, "the alarms document has no \"alarms\" list");
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *a = json_object_array_get_idx(list, i);
    bool active = false;
    if (!get_bool(a, "active", &active) || !active) continue;
    in->alarms++;
    json_object *sev = field(a, "severity");
    if (json_object_is_type(sev, json_type_string) &&
        strcmp(json_object_get_string(sev), "critical") == 0)
      in->critical_alarms++;
  }
  return 0;
}

/* The same from the history (-d): the newest vote row and the open
 * alarms. The daemon writes a vote row every round; an older newest row
 * than CHECK_STALE_S means it is not running (or not writing). The
 * configured sources are not in the history: the round's candidates
 * stand for them. */
static int input_from_history(const char *path, struct check_input *in, char *why,
                              size_t whylen) {
  struct sqlite3 *db = NULL;
  char err[512];
  memset(in, 0, sizeof *in);
  in->offset = in->bound = NAN;
  int rc = hr_open(path, &db, err, sizeof err);
  if (rc == 1) return bad(why, whylen, "%s is not a vettime history (no votes table)", path);
  if (rc) return bad(why, whylen, "%s: %s", path, err);
  struct hr_vote v;
  rc = hr_last_vote(db, &v, err, sizeof err);
  if (rc == 0 && hr_open_alarms(db, &in->alarms, &in->critical_alarms, err, sizeof err)) rc = -1;
  hr_close(db);
  if (rc < 0) return bad(why, whylen, "%s: %s", path, err);
  if (rc == 1) return 0; /* no round yet: valid stays false */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double age = (double)now.tv_sec + now.tv_nsec / 1e9 - (double)v.time_ns / 1e9;
  if (age > CHECK_STALE_S)
    return bad(why, whylen, "the newest vote in %s is %.0f s old (is vettimed running?)", path, age);
  in->valid = true;
  in->vetted = v.vetted;
  in->offset = v.offset;
  in->bound = v.error;
  in->agreeing = v.agreeing;
  in->sources = v.candidates;
  in->agreeing_classes = v.agreeing_classes;
  in->classes = v.classes;
  snprintf(in->why_not, sizeof in->why_not, "%s", v.why_not);
  return 0;
}

/* ---- the evaluation ---- */

struct out {
  char *buf;
  size_t len, used;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...) {
  if (o->used >= o->len) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
  va_end(ap);
  if (n > 0) o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
}

/* The value a range is tested against: the offset's magnitude, as
 * check_ntp_time does (a clock 1 ms behind is as wrong as 1 ms ahead). */
static double tested(enum check_metric m, double v) {
  return m == CM_OFFSET ? fabs(v) : v;
}

static void value_text(enum check_metric m, double v, char *buf, size_t len) {
  if (metrics[m].unit == RANGE_SECONDS) format_duration(v, m == CM_OFFSET, buf, len);
  else snprintf(buf, len, "%.0f", v);
}

/* One metric against its thresholds: raises *state, and names the
 * breach in problems. */
static void judge(enum check_metric m, double v, const struct check_limits *lim,
                  enum check_state *state, struct out *problems) {
  if (isnan(v)) return;
  const char *which = NULL;
  const struct vt_range *r = NULL;
  enum check_state s = CHECK_OK;
  if (lim->has_crit[m] && range_alerts(&lim->crit[m], tested(m, v))) {
    s = CHECK_CRITICAL;
    which = "crit";
    r = &lim->crit[m];
  } else if (lim->has_warn[m] && range_alerts(&lim->warn[m], tested(m, v))) {
    s = CHECK_WARNING;
    which = "warn";
    r = &lim->warn[m];
  }
  if (s == CHECK_OK) return;
  if (s > *state) *state = s;
  char val[FORMAT_DURATION_LEN];
  value_text(m, v, val, sizeof val);
  put(problems, "%s %s %s (--%s-%s %s)", problems->used ? "," : "", metrics[m].label, val,
      metrics[m].opt, which, r->text);
}

/* label=value[UOM];warn;crit;min;max */
static void perf(struct out *o, enum check_metric m, double v, const struct check_limits *lim,
                 double min, double max) {
  char w[100] = "", c[100] = "", lo[48] = "", hi[48] = "", val[48];
  if (lim->has_warn[m]) range_format(&lim->warn[m], w, sizeof w);
  if (lim->has_crit[m]) range_format(&lim->crit[m], c, sizeof c);
  if (!isnan(min)) range_number(min, lo, sizeof lo);
  if (!isnan(max)) range_number(max, hi, sizeof hi);
  const char *uom = metrics[m].unit == RANGE_SECONDS ? "s" : "";
  if (isnan(v)) put(o, " %s=U;%s;%s;%s;%s", metrics[m].label, w, c, lo, hi);
  else put(o, " %s=%s%s;%s;%s;%s;%s", metrics[m].label, range_number(v, val, sizeof val), uom, w, c, lo, hi);
}

enum check_state check_evaluate(const struct check_input *in, const struct check_limits *lim,
                                char *line, size_t len) {
  struct out o = {line, len, 0};
  line[0] = '\0';
  if (!in->valid) {
    put(&o, "VETTIME UNKNOWN - no vote round yet (vettimed is starting)");
    return CHECK_UNKNOWN;
  }
  enum check_state state = CHECK_OK;
  char pbuf[512] = "";
  struct out problems = {pbuf, sizeof pbuf, 0};
  double offset = in->vetted ? in->offset : NAN, bound = in->vetted ? in->bound : NAN;
  judge(CM_OFFSET, offset, lim, &state, &problems);
  judge(CM_BOUND, bound, lim, &state, &problems);
  judge(CM_SOURCES, in->agreeing, lim, &state, &problems);
  judge(CM_CLASSES, in->agreeing_classes, lim, &state, &problems);
  judge(CM_ALARMS, in->alarms, lim, &state, &problems);
  if (!in->vetted && lim->not_vetted > state) state = lim->not_vetted;

  char off[FORMAT_DURATION_LEN], bd[FORMAT_DURATION_LEN];
  put(&o, "VETTIME %s - ", check_state_name(state));
  if (problems.used) put(&o, "%s; ", pbuf + 1); /* without the leading comma */
  if (in->vetted)
    put(&o, "vetted, offset %s bound %s", format_duration(offset, true, off, sizeof off),
        format_duration(bound, false, bd, sizeof bd));
  else
    put(&o, "not vetted: %s", in->why_not[0] ? in->why_not : "no reason given");
  put(&o, ", %d/%d sources, %d/%d classes, %d alarm%s", in->agreeing, in->sources,
      in->agreeing_classes, in->classes, in->alarms, in->alarms == 1 ? "" : "s");
  if (in->critical_alarms) put(&o, " (%d critical)", in->critical_alarms);
  put(&o, " |");
  perf(&o, CM_OFFSET, offset, lim, NAN, NAN);
  perf(&o, CM_BOUND, bound, lim, 0, NAN);
  perf(&o, CM_SOURCES, in->agreeing, lim, 0, in->sources);
  perf(&o, CM_CLASSES, in->agreeing_classes, lim, 0, in->classes);
  perf(&o, CM_ALARMS, in->alarms, lim, 0, NAN);
  return state;
}

/* ---- the command ---- */

static void usage(FILE *out) {
  fprintf(out,
          "usage: vettime [-u URL | -c FILE] check [-w RANGE] [-c RANGE]\n"
          "         [--bound-warn RANGE] [--bound-crit RANGE] [--sources-warn RANGE]\n"
          "         [--sources-crit RANGE] [--classes-warn RANGE] [--classes-crit RANGE]\n"
          "         [--alarms-warn RANGE] [--alarms-crit RANGE] [--not-vetted STATE]\n"
          "         [-d DATABASE]\n"
          "\n"
          "A monitoring-plugins check of the running vettimed (its HTTP API, or\n"
          "with -d the history it writes).\n"
          "  -w, --offset-warn RANGE  |vetted offset|, e.g. 100us\n"
          "  -c, --offset-crit RANGE  e.g. 1ms\n"
          "  --bound-warn/--bound-crit RANGE      the vetted error bound\n"
          "  --sources-warn/--sources-crit RANGE  agreeing sources, e.g. 3:\n"
          "  --classes-warn/--classes-crit RANGE  agreeing classes, e.g. 2:\n"
          "  --alarms-warn/--alarms-crit RANGE    open alarms, e.g. 0\n"
          "  --not-vetted STATE       critical (default), warning or ok\n"
          "  -d, --db PATH            read the history instead of the API (the newest\n"
          "                           vote must be at most 10 s old)\n"
          "RANGE: 10 (alert outside 0..10), 10: (below 10), ~:10 (above 10),\n"
          "10:20 (outside), @10:20 (inside); times take ns, us, ms or s.\n"
          "Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for a bad\n"
          "option or an unreachable daemon); --help exits 0.\n");
}

__attribute__((format(printf, 1, 2)))
static int unknown(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("VETTIME UNKNOWN - ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  return CHECK_UNKNOWN;
}

int check_main(int argc, char **argv, check_fetch_fn fetch, void *ctx) {
  enum { O_BASE = 256 };
  static const struct option opts[] = {
      {"offset-warn", required_argument, NULL, O_BASE + 0},
      {"offset-crit", required_argument, NULL, O_BASE + 1},
      {"bound-warn", required_argument, NULL, O_BASE + 2},
      {"bound-crit", required_argument, NULL, O_BASE + 3},
      {"sources-warn", required_argument, NULL, O_BASE + 4},
      {"sources-crit", required_argument, NULL, O_BASE + 5},
      {"classes-warn", required_argument, NULL, O_BASE + 6},
      {"classes-crit", required_argument, NULL, O_BASE + 7},
      {"alarms-warn", required_argument, NULL, O_BASE + 8},
      {"alarms-crit", required_argument, NULL, O_BASE + 9},
      {"not-vetted", required_argument, NULL, 'n'},
      {"db", required_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct check_limits lim = {.not_vetted = CHECK_CRITICAL};
  const char *db = NULL;
  char err[256];
  int opt;
  optind = 1;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "w:c:d:h", opts, NULL)) != -1) {
    if (opt == 'w') opt = O_BASE + 0;
    if (opt == 'c') opt = O_BASE + 1;
    if (opt >= O_BASE && opt < O_BASE + 2 * CM_COUNT) {
      int m = (opt - O_BASE) / 2;
      bool crit = (opt - O_BASE) % 2;
      struct vt_range *r = crit ? &lim.crit[m] : &lim.warn[m];
      if (range_parse(optarg, metrics[m].unit, r, err, sizeof err))
        return unknown("--%s-%s: %s", metrics[m].opt, crit ? "crit" : "warn", err);
      (crit ? lim.has_crit : lim.has_warn)[m] = true;
    } else if (opt == 'n') {
      if (strcmp(optarg, "critical") == 0) lim.not_vetted = CHECK_CRITICAL;
      else if (strcmp(optarg, "warning") == 0) lim.not_vetted = CHECK_WARNING;
      else if (strcmp(optarg, "ok") == 0) lim.not_vetted = CHECK_OK;
      else return unknown("--not-vetted \"%s\": critical, warning or ok", optarg);
    } else if (opt == 'd') {
      db = optarg;
    } else if (opt == 'h') {
      usage(stdout);
      return 0; /* like every vettime command's --help (README "Exit status"):
                   a help text is no check result */
    } else {
      return unknown("bad option or missing value \"%s\" (see vettime check --help)",
                     argv[optind - 1]);
    }
  }
  if (optind != argc) return unknown("unexpected argument \"%s\"", argv[optind]);

  static const char *const names[] = {"status", "vote", "alarms"};
  json_object *doc[3] = {NULL, NULL, NULL};
  char why[1024];
  int rc = CHECK_UNKNOWN;
  struct check_input in;
  if (db) {
    if (input_from_history(db, &in, why, sizeof why)) return unknown("%s", why);
    goto evaluate;
  }
  for (int i = 0; i < 3; i++)
    if (fetch(ctx, names[i], &doc[i], why, sizeof why)) {
      rc = unknown("%s", why);
      goto out;
    }
  if (check_input_from_json(doc[0], doc[1], doc[2], &in, why, sizeof why)) {
    rc = unknown("%s", why);
    goto out;
  }
evaluate:;
  char line[2048];
  rc = (int)check_evaluate(&in, &lim, line, sizeof line);
  puts(line);
out:
  for (int i = 0; i < 3; i++) json_object_put(doc[i]);
  fflush(stdout);
  return rc;
}
