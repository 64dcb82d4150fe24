/* `vettime report` as text and JSON: see report_format.h. */
#include "cli/report_format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/format.h"

const char report_classes_note[] =
    "not derivable: the vote runs in sources mode, where the daemon does not watch classes";

const char *report_iso_time(int64_t ns, char *buf, size_t len) {
  time_t s = (time_t)(ns / 1000000000);
  if (ns < 0 && ns % 1000000000) s--;
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const char *report_human_duration(int64_t ns, char *buf, size_t len) {
  int64_t s = (ns + 500000000) / 1000000000;
  if (s < 0) s = 0;
  int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (d) snprintf(buf, len, "%" PRId64 "d %02" PRId64 "h %02" PRId64 "m", d, h, m);
  else if (h) snprintf(buf, len, "%" PRId64 "h %02" PRId64 "m %02" PRId64 "s", h, m, sec);
  else if (m) snprintf(buf, len, "%" PRId64 "m %02" PRId64 "s", m, sec);
  else snprintf(buf, len, "%" PRId64 "s", sec);
  return buf;
}

const char *report_percent(double f, char *buf, size_t len) {
  if (!isfinite(f)) snprintf(buf, len, "-");
  else snprintf(buf, len, "%.2f %%", f * 100);
  return buf;
}

/* ---- a small table printer: cells, widths from the content ---- */

#define TBL_COLS 12
#define TBL_CELL 224 /* the last column carries an alarm's whole text (200) */

struct table {
  int cols;
  const char *align; /* 'l' or 'r' a column */
  char (*cells)[TBL_COLS][TBL_CELL];
  size_t rows, cap;
};

static void tbl_row(struct table *t, ...) {
  if (t->rows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    void *p = realloc(t->cells, cap * sizeof *t->cells);
    if (!p) return;
    t->cells = p;
    t->cap = cap;
  }
  va_list ap;
  va_start(ap, t);
  for (int c = 0; c < t->cols; c++) {
    const char *v = va_arg(ap, const char *);
    snprintf(t->cells[t->rows][c], TBL_CELL, "%s", v ? v : "-");
  }
  va_end(ap);
  t->rows++;
}

/* Prints with two blanks of indent and two between columns; the last
 * column is not padded (it may be long text). */
static void tbl_print(struct table *t, FILE *out) {
  int w[TBL_COLS] = {0};
  for (size_t r = 0; r < t->rows; r++)
    for (int c = 0; c < t->cols; c++) {
      int n = (int)strlen(t->cells[r][c]);
      if (n > w[c]) w[c] = n;
    }
  for (size_t r = 0; r < t->rows; r++) {
    fputs("  ", out);
    for (int c = 0; c < t->cols; c++) {
      bool last = c == t->cols - 1;
      const char *v = t->cells[r][c];
      if (t->align[c] == 'r') fprintf(out, "%*s", w[c], v);
      else if (last) fputs(v, out);
      else fprintf(out, "%-*s", w[c], v);
      if (!last) fputs("  ", out);
    }
    fputc('\n', out);
  }
  free(t->cells);
  t->cells = NULL;
  t->rows = t->cap = 0;
}

/* ---- text ---- */

static const char *dur(double s, bool sign, char *buf) {
  return format_duration(s, sign, buf, FORMAT_DURATION_LEN);
}

static const char *ppm(double v, char *buf, size_t len) {
  if (!isfinite(v)) snprintf(buf, len, "-");
  else snprintf(buf, len, "%+.3fppm", v);
  return buf;
}

static double fraction(int64_t part, int64_t whole) {
  return whole > 0 ? (double)part / (double)whole : NAN;
}

static void print_time(const struct report *r, FILE *out) {
  char a[64], b[64], c[64], d1[FORMAT_DURATION_LEN], d2[FORMAT_DURATION_LEN],
      d3[FORMAT_DURATION_LEN];
  fprintf(out, "Time\n");
  fprintf(out, "  observed       %s (%ld rounds)\n", report_human_duration(r->observed_ns, a, sizeof a),
          r->rounds);
  fprintf(out, "  vetted         %s of the observed time (%ld rounds)\n",
          report_percent(fraction(r->observed_ns - r->not_vetted_ns, r->observed_ns), b, sizeof b),
          r->vetted_rounds);
  fprintf(out, "  not vetted     %s\n", report_human_duration(r->not_vetted_ns, a, sizeof a));
  fprintf(out, "  holdover       %s\n", report_human_duration(r->holdover.total_ns, a, sizeof a));
  fprintf(out, "  refusing       %s\n", report_human_duration(r->refusing.total_ns, c, sizeof c));
  fprintf(out, "  vetted offset  median %s, p99 |offset| %s, max |offset| %s\n",
          dur(r->vetted_offset.median, true, d1), dur(r->vetted_offset.p99_abs, false, d2),
          dur(r->vetted_offset.max_abs, false, d3));
  fprintf(out, "  vetted bound   median %s, p99 %s, max %s\n", dur(r->vetted_bound.median, false, d1),
          dur(r->vetted_bound.p99, false, d2), dur(r->vetted_bound.max, false, d3));
}

static void print_sources(const struct report *r, FILE *out) {
  fprintf(out, "\nSources (offsets against the local clock)\n");
  if (!r->n_sources) {
    fprintf(out, "  none in the period\n");
    return;
  }
  struct table t = {.cols = 11, .align = "llrrrrrrrrr"};
  bool drift_events = false;
  tbl_row(&t, "Name", "Class", "Avail", "Samples", "Median", "p99|off|", "Max|off|", "Bound",
          "Steps", "Drift", "Falseticker");
  for (size_t i = 0; i < r->n_sources; i++) {
    const struct report_source *s = &r->sources[i];
    char av[32], n[24], med[FORMAT_DURATION_LEN], p99[FORMAT_DURATION_LEN],
        mx[FORMAT_DURATION_LEN], bd[FORMAT_DURATION_LEN], st[16], dr[32], ft[32];
    snprintf(n, sizeof n, "%ld", s->samples);
    snprintf(st, sizeof st, "%d", s->steps);
    tbl_row(&t, s->src.name, s->src.cls[0] ? s->src.cls : "-",
            report_percent(s->availability, av, sizeof av), n, dur(s->offset.median, true, med),
            dur(s->offset.p99_abs, false, p99), dur(s->offset.max_abs, false, mx),
            dur(s->bound.median, false, bd), st, ppm(s->drift_ppm, dr, sizeof dr - 1),
            report_human_duration(s->falseticker.total_ns, ft, sizeof ft));
    if (s->drift_events) {
      strcat(t.cells[t.rows - 1][9], "*");
      drift_events = true;
    }
  }
  tbl_print(&t, out);
  fprintf(out, "  (Avail: rounds with a fresh sample; Bound: median error bound%s)\n",
          drift_events ? "; *: drift events" : "");
}

static void print_classes(const struct report *r, FILE *out) {
  fprintf(out, "\nClasses\n");
  if (r->sources_mode) {
    fprintf(out, "  %s\n", report_classes_note);
    return;
  }
  if (!r->n_classes) {
    fprintf(out, "  none\n");
    return;
  }
  struct table t = {.cols = 4, .align = "lrrr"};
  tbl_row(&t, "Class", "Sources", "Agreed", "Not agreed");
  for (size_t i = 0; i < r->n_classes; i++) {
    const struct report_class *c = &r->classes[i];
    char n[16], av[32], lost[32];
    snprintf(n, sizeof n, "%d", c->sources);
    tbl_row(&t, c->name, n, report_percent(c->availability, av, sizeof av),
            report_human_duration(c->disagree_ns, lost, sizeof lost));
  }
  tbl_print(&t, out);
  fprintf(out, "  (not agreed: the class was lost, or all its sources were falsetickers)\n");
}

static void print_alarms(const struct report *r, FILE *out) {
  fprintf(out,
          "\nAlarms: %zu in the period (raised %d, cleared %d, open at the end %d; "
          "critical %d, warning %d, info %d)\n",
          r->n_alarms, r->alarms_raised, r->alarms_cleared, r->alarms_open, r->by_severity[2],
          r->by_severity[1], r->by_severity[0]);
  if (!r->n_alarms) return;
  struct table t = {.cols = 7, .align = "rllllll"};
  tbl_row(&t, "Id", "Severity", "Kind", "Source", "Raised", "Cleared", "Text");
  size_t idx[REPORT_ALARMS_SHOWN], shown = report_alarms_shown(r, idx);
  for (size_t k = 0; k < shown; k++) {
    const struct hr_alarm *a = &r->alarms[idx[k]].a;
    char id[24], raised[32], cleared[32], src[sizeof a->source + 8];
    snprintf(id, sizeof id, "%" PRId64, a->id);
    if (a->source[0]) snprintf(src, sizeof src, "%s", a->source);
    else if (a->cls[0]) snprintf(src, sizeof src, "class %s", a->cls);
    else snprintf(src, sizeof src, "system");
    report_iso_time(a->raised_ns, raised, sizeof raised);
    if (a->cleared_ns) report_iso_time(a->cleared_ns, cleared, sizeof cleared);
    else snprintf(cleared, sizeof cleared, "open");
    tbl_row(&t, id, a->severity, a->kind, src, raised, cleared, a->text);
  }
  tbl_print(&t, out);
  if (shown < r->n_alarms)
    fprintf(out, "  (%zu more not shown: the critical ones and the newest are; --json lists all)\n",
            r->n_alarms - shown);
}

/* Descending: the alarms are stored in time order, so the newest first. */
static int cmp_size_desc(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x < y) - (x > y);
}

size_t report_alarms_shown(const struct report *r, size_t *idx) {
  size_t n = 0;
  if (r->n_alarms <= REPORT_ALARMS_SHOWN) {
    for (size_t i = r->n_alarms; i-- > 0;) idx[n++] = i;
    return n;
  }
  /* the critical ones, newest first, then the newest of the others */
  for (size_t i = r->n_alarms; i-- > 0 && n < REPORT_ALARMS_SHOWN;)
    if (strcmp(r->alarms[i].a.severity, "critical") == 0) idx[n++] = i;
  for (size_t i = r->n_alarms; i-- > 0 && n < REPORT_ALARMS_SHOWN;)
    if (strcmp(r->alarms[i].a.severity, "critical") != 0) idx[n++] = i;
  qsort(idx, n, sizeof *idx, cmp_size_desc); /* newest first, as everywhere */
  return n;
}

void report_print_text(const struct report *r, const char *database, FILE *out) {
  char a[32], b[32], c[32], d[48];
  fprintf(out, "vettime report %s to %s (%s)\n", report_iso_time(r->from_ns, a, sizeof a),
          report_iso_time(r->to_ns, b, sizeof b),
          report_human_duration(r->to_ns - r->from_ns, d, sizeof d));
  fprintf(out, "history %s, generated %s\n\n", database,
          report_iso_time(r->generated_ns, c, sizeof c));
  if (r->critical)
    fprintf(out, "CRITICAL: %d critical alarm%s in the period\n", r->by_severity[2],
            r->by_severity[2] == 1 ? "" : "s");
  else
    fprintf(out, "OK: no critical alarm in the period\n");
  if (r->oom) fprintf(out, "(out of memory: some figures are incomplete)\n");
  if (!r->rounds) fprintf(out, "(no vote round in the period: was vettimed running?)\n");
  fputc('\n', out);
  print_time(r, out);
  print_sources(r, out);
  print_classes(r, out);
  print_alarms(r, out);
}

/* ---- JSON ---- */

static json_object *num(double v) {
  return isfinite(v) ? json_object_new_double(v) : NULL;
}

static json_object *secs(int64_t ns) {
  return json_object_new_double((double)ns / 1e9);
}

static void add(json_object *o, const char *k, json_object *v) {
  json_object_object_add(o, k, v);
}

static json_object *time_json(const struct report *r) {
  json_object *t = json_object_new_object();
  add(t, "observed", secs(r->observed_ns));
  add(t, "rounds", json_object_new_int64(r->rounds));
  add(t, "vetted_rounds", json_object_new_int64(r->vetted_rounds));
  add(t, "vetted_fraction", num(fraction(r->observed_ns - r->not_vetted_ns, r->observed_ns)));
  add(t, "not_vetted", secs(r->not_vetted_ns));
  add(t, "holdover", secs(r->holdover.total_ns));
  add(t, "refusing", secs(r->refusing.total_ns));
  return t;
}

static json_object *vetted_json(const struct report *r) {
  json_object *v = json_object_new_object();
  add(v, "offset_median", num(r->vetted_offset.median));
  add(v, "offset_p99_abs", num(r->vetted_offset.p99_abs));
  add(v, "offset_max_abs", num(r->vetted_offset.max_abs));
  add(v, "bound_median", num(r->vetted_bound.median));
  add(v, "bound_p99", num(r->vetted_bound.p99));
  add(v, "bound_max", num(r->vetted_bound.max));
  return v;
}

static json_object *source_json(const struct report *r, const struct report_source *s) {
  json_object *o = json_object_new_object();
  add(o, "name", json_object_new_string(s->src.name));
  add(o, "kind", json_object_new_string(s->src.kind));
  add(o, "class", s->src.cls[0] ? json_object_new_string(s->src.cls) : NULL);
  add(o, "samples", json_object_new_int64(s->samples));
  add(o, "rounds", json_object_new_int64(s->rounds));
  add(o, "fresh_rounds", json_object_new_int64(s->fresh_rounds));
  add(o, "availability", num(s->availability));
  add(o, "offset_median", num(s->offset.median));
  add(o, "offset_p99_abs", num(s->offset.p99_abs));
  add(o, "offset_max_abs", num(s->offset.max_abs));
  add(o, "bound_median", num(s->bound.median));
  add(o, "bound_max", num(s->bound.max));
  add(o, "steps", json_object_new_int(s->steps));
  add(o, "drift_ppm", num(s->drift_ppm));
  add(o, "drift_events", json_object_new_int(s->drift_events));
  add(o, "falseticker", secs(s->falseticker.total_ns));
  add(o, "falseticker_fraction", num(fraction(s->falseticker.total_ns, r->observed_ns)));
  return o;
}

static json_object *alarm_json(const struct report_alarm *x) {
  const struct hr_alarm *a = &x->a;
  json_object *o = json_object_new_object();
  add(o, "id", json_object_new_int64(a->id));
  add(o, "kind", json_object_new_string(a->kind));
  add(o, "severity", json_object_new_string(a->severity));
  add(o, "source", a->source[0] ? json_object_new_string(a->source) : NULL);
  add(o, "class", a->cls[0] ? json_object_new_string(a->cls) : NULL);
  add(o, "raised", secs(a->raised_ns));
  add(o, "cleared", a->cleared_ns ? secs(a->cleared_ns) : NULL);
  add(o, "raised_in_period", json_object_new_boolean(x->raised_in_period));
  add(o, "cleared_in_period", json_object_new_boolean(x->cleared_in_period));
  add(o, "open_at_end", json_object_new_boolean(x->open_at_end));
  add(o, "value", num(a->value));
  add(o, "threshold", num(a->threshold));
  add(o, "repeats", json_object_new_int(a->repeats));
  add(o, "text", json_object_new_string(a->text));
  return o;
}

static json_object *alarms_json(const struct report *r) {
  json_object *o = json_object_new_object();
  add(o, "count", json_object_new_int64((int64_t)r->n_alarms));
  add(o, "raised", json_object_new_int(r->alarms_raised));
  add(o, "cleared", json_object_new_int(r->alarms_cleared));
  add(o, "open_at_end", json_object_new_int(r->alarms_open));
  add(o, "critical", json_object_new_int(r->by_severity[2]));
  add(o, "warning", json_object_new_int(r->by_severity[1]));
  add(o, "info", json_object_new_int(r->by_severity[0]));
  json_object *list = json_object_new_array();
  for (size_t i = 0; i < r->n_alarms; i++) json_object_array_add(list, alarm_json(&r->alarms[i]));
  add(o, "list", list);
  return o;
}

json_object *report_json(const struct report *r, const char *database) {
  json_object *o = json_object_new_object();
  add(o, "report_version", json_object_new_int(REPORT_JSON_VERSION));
  add(o, "from", secs(r->from_ns));
  add(o, "to", secs(r->to_ns));
  add(o, "generated", secs(r->generated_ns));
  add(o, "database", json_object_new_string(database));
  add(o, "status", json_object_new_string(r->critical ? "critical" : "ok"));
  add(o, "exit_status", json_object_new_int(report_exit_status(r)));
  add(o, "time", time_json(r));
  add(o, "vetted", vetted_json(r));
  json_object *src = json_object_new_array();
  for (size_t i = 0; i < r->n_sources; i++)
    json_object_array_add(src, source_json(r, &r->sources[i]));
  add(o, "sources", src);
  json_object *cls = json_object_new_array();
  for (size_t i = 0; !r->sources_mode && i < r->n_classes; i++) {
    const struct report_class *c = &r->classes[i];
    json_object *x = json_object_new_object();
    add(x, "class", json_object_new_string(c->name));
    add(x, "sources", json_object_new_int(c->sources));
    add(x, "availability", num(c->availability));
    add(x, "not_agreed", secs(c->disagree_ns));
    add(x, "lost", secs(c->lost.total_ns));
    json_object_array_add(cls, x);
  }
  add(o, "classes", cls);
  add(o, "classes_note", r->sources_mode ? json_object_new_string(report_classes_note) : NULL);
  add(o, "alarms", alarms_json(r));
  return o;
}
