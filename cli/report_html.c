/* `vettime report --html`: one self-contained page for a mail or a
 * browser. No script, no external style sheet, font, image or link: the
 * style is inline and the charts are inline SVG drawn here, 600 px wide
 * (the width most mail clients show without scrolling). Each chart is a
 * series over the period in REPORT_BUCKETS columns: the band is the
 * lowest offset - bound to the highest offset + bound of the column (where
 * the truth was, by the samples' own bounds), the darker band the samples'
 * own spread, the line their mean. */
#include "cli/report_format.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "cli/format.h"

#define W 600
#define H 160
#define ML 78 /* left margin: the y labels */
#define MR 8
#define MT 18
#define MB 22

static void esc(FILE *out, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&#39;", out); break;
    default: fputc(*s, out);
    }
  }
}

static const char *dur(double s, bool sign, char *buf) {
  return format_duration(s, sign, buf, FORMAT_DURATION_LEN);
}

static double px_x(int i) {
  return ML + (i + 0.5) * (double)(W - ML - MR) / REPORT_BUCKETS;
}

/* A run of columns [a, b) drawn as one piece; the empty columns inside it
 * are skipped (the line joins its neighbours). The band is a closed
 * polygon between lo and hi (or min and max: the samples' own spread). */
static void band(FILE *out, const struct report_bucket *c, int a, int b, double y0, double k,
                 bool bound, const char *fill) {
  fprintf(out, "<polygon fill=\"%s\" stroke=\"%s\" stroke-width=\"1\" points=\"", fill, fill);
  for (int i = a; i < b; i++)
    if (c[i].n) fprintf(out, "%.1f,%.1f ", px_x(i), y0 - (bound ? c[i].hi : c[i].max) * k);
  for (int i = b - 1; i >= a; i--)
    if (c[i].n) fprintf(out, "%.1f,%.1f ", px_x(i), y0 - (bound ? c[i].lo : c[i].min) * k);
  fputs("\"/>\n", out);
}

static void line(FILE *out, const struct report_bucket *c, int a, int b, double y0, double k) {
  int points = 0;
  for (int i = a; i < b; i++) points += c[i].n > 0;
  if (points == 1) { /* a lone column: a dot, or nothing would show */
    for (int i = a; i < b; i++)
      if (c[i].n)
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.8\" fill=\"#1f4e79\"/>\n", px_x(i),
                y0 - (c[i].sum / (double)c[i].n) * k);
    return;
  }
  fputs("<polyline fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"1.2\" points=\"", out);
  for (int i = a; i < b; i++)
    if (c[i].n) fprintf(out, "%.1f,%.1f ", px_x(i), y0 - (c[i].sum / (double)c[i].n) * k);
  fputs("\"/>\n", out);
}

/* The longest run of empty columns still drawn across: three times the
 * usual spacing of the data (a short period has a sample every few
 * columns; a long one fills every column, and a source silent for a while
 * or a stopped daemon shows as a gap). */
static int join_limit(const struct report_bucket *c) {
  int gaps[REPORT_BUCKETS], n = 0, last = -1;
  for (int i = 0; i < REPORT_BUCKETS; i++)
    if (c[i].n) {
      if (last >= 0) gaps[n++] = i - last;
      last = i;
    }
  if (!n) return 1;
  for (int i = 1; i < n; i++) /* insertion sort: at most 200 */
    for (int j = i; j > 0 && gaps[j - 1] > gaps[j]; j--) {
      int t = gaps[j];
      gaps[j] = gaps[j - 1];
      gaps[j - 1] = t;
    }
  return 3 * gaps[n / 2];
}

/* The chart of one series. */
static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The y range: everything, unless a few columns (at most 2 % of them:
 * the first rounds after a start, whose bound is milliseconds wide) would
 * squash the rest into a line; then the 2nd to 98th percentile of the
 * columns' ends, and what lies beyond is clipped (and said). Returns
 * whether it clipped. */
static bool y_range(const struct report_bucket *c, double *lo, double *hi) {
  double los[REPORT_BUCKETS], his[REPORT_BUCKETS];
  int n = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int i = 0; i < REPORT_BUCKETS; i++)
    if (c[i].n) {
      los[n] = c[i].lo;
      his[n++] = c[i].hi;
      *lo = fmin(*lo, c[i].lo);
      *hi = fmax(*hi, c[i].hi);
    }
  if (n < 20) return false;
  qsort(los, (size_t)n, sizeof *los, cmp_d);
  qsort(his, (size_t)n, sizeof *his, cmp_d);
  int k = n / 50; /* 2 % */
  double rlo = los[k], rhi = his[n - 1 - k];
  if (!(rhi > rlo) || (*hi - *lo) <= 5 * (rhi - rlo)) return false;
  *lo = rlo;
  *hi = rhi;
  return true;
}

static void chart(FILE *out, const struct report *r, const char *title,
                  const struct report_bucket *c, int id) {
  double lo, hi;
  bool clipped = y_range(c, &lo, &hi);
  fprintf(out, "<svg width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" font-size=\"10\">\n",
          W, H, W, H);
  fputs("<title>", out);
  esc(out, title);
  fputs("</title>\n", out);
  fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\" stroke=\"#cccccc\"/>\n", W, H);
  fprintf(out, "<text x=\"%d\" y=\"12\" font-weight=\"bold\">", ML);
  esc(out, title);
  fputs("</text>\n", out);
  if (!(lo <= hi)) {
    fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#888888\">no data in the period</text>\n</svg>\n",
            W / 2 - 50, H / 2);
    return;
  }
  if (hi - lo < 1e-12) {
    lo -= 1e-9;
    hi += 1e-9;
  }
  double pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  double plot_h = H - MT - MB;
  double k = plot_h / (hi - lo); /* px per second */
  double y0 = MT + hi * k;       /* the pixel of offset 0 */
  fprintf(out, "<clipPath id=\"plot%d\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
               "</clipPath>\n", id, ML, MT, W - ML - MR, H - MT - MB);
  if (clipped)
    fprintf(out, "<text x=\"%d\" y=\"12\" text-anchor=\"end\" fill=\"#990000\">"
                 "a few columns beyond this range are cut</text>\n", W - MR);
  /* grid: bottom, middle, top; zero when in sight */
  char b[FORMAT_DURATION_LEN];
  for (int g = 0; g <= 2; g++) {
    double v = lo + (hi - lo) * g / 2;
    double y = y0 - v * k;
    fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n", ML,
            W - MR, y, y);
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", ML - 4, y + 3,
            dur(v, true, b));
  }
  if (lo < 0 && hi > 0)
    fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\" "
                 "stroke-dasharray=\"3,3\"/>\n", ML, W - MR, y0, y0);
  fprintf(out, "<g clip-path=\"url(#plot%d)\">\n", id);
  int limit = join_limit(c);
  for (int i = 0; i < REPORT_BUCKETS;) {
    if (!c[i].n) {
      i++;
      continue;
    }
    int j = i + 1, last = i; /* the piece: up to a gap longer than the limit */
    while (j < REPORT_BUCKETS && j - last <= limit) {
      if (c[j].n) last = j;
      j++;
    }
    band(out, c, i, last + 1, y0, k, true, "#cfe2f3");
    band(out, c, i, last + 1, y0, k, false, "#6fa8dc");
    line(out, c, i, last + 1, y0, k);
    i = last + 1;
  }
  fputs("</g>\n", out);
  char t1[32], t2[32];
  fprintf(out, "<text x=\"%d\" y=\"%d\">%s</text>\n", ML, H - 6,
          report_iso_time(r->from_ns, t1, sizeof t1));
  fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", W - MR, H - 6,
          report_iso_time(r->to_ns, t2, sizeof t2));
  fputs("</svg>\n", out);
}

static void cell(FILE *out, const char *tag, const char *text, bool right) {
  fprintf(out, "<%s%s>", tag, right ? " class=\"r\"" : "");
  esc(out, text);
  fprintf(out, "</%s>", tag);
}

static void sources_table(FILE *out, const struct report *r) {
  fputs("<h2>Sources</h2>\n", out);
  if (!r->n_sources) {
    fputs("<p>None in the period.</p>\n", out);
    return;
  }
  fputs("<table>\n<tr>", out);
  static const char *const head[] = {"Name", "Class", "Available", "Samples", "Median offset",
                                     "p99 |offset|", "Max |offset|", "Median bound", "Steps",
                                     "Drift", "Falseticker"};
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) cell(out, "th", head[i], i >= 2);
  fputs("</tr>\n", out);
  for (size_t i = 0; i < r->n_sources; i++) {
    const struct report_source *s = &r->sources[i];
    char av[32], n[24], med[FORMAT_DURATION_LEN], p99[FORMAT_DURATION_LEN],
        mx[FORMAT_DURATION_LEN], bd[FORMAT_DURATION_LEN], st[16], dr[32], ft[32];
    snprintf(n, sizeof n, "%ld", s->samples);
    snprintf(st, sizeof st, "%d", s->steps);
    if (isfinite(s->drift_ppm)) snprintf(dr, sizeof dr, "%+.3f ppm", s->drift_ppm);
    else snprintf(dr, sizeof dr, "-");
    fputs("<tr>", out);
    cell(out, "td", s->src.name, false);
    cell(out, "td", s->src.cls[0] ? s->src.cls : "-", false);
    cell(out, "td", report_percent(s->availability, av, sizeof av), true);
    cell(out, "td", n, true);
    cell(out, "td", dur(s->offset.median, true, med), true);
    cell(out, "td", dur(s->offset.p99_abs, false, p99), true);
    cell(out, "td", dur(s->offset.max_abs, false, mx), true);
    cell(out, "td", dur(s->bound.median, false, bd), true);
    cell(out, "td", st, true);
    cell(out, "td", dr, true);
    cell(out, "td", report_human_duration(s->falseticker.total_ns, ft, sizeof ft), true);
    fputs("</tr>\n", out);
  }
  fputs("</table>\n", out);
}

static void classes_table(FILE *out, const struct report *r) {
  fputs("<h2>Classes</h2>\n", out);
  if (r->sources_mode) {
    fputs("<p>", out);
    esc(out, report_classes_note);
    fputs(".</p>\n", out);
    return;
  }
  fputs("<table>\n<tr><th>Class</th><th class=\"r\">Sources</th><th class=\"r\">Agreed</th>"
        "<th class=\"r\">Not agreed</th></tr>\n", out);
  for (size_t i = 0; i < r->n_classes; i++) {
    const struct report_class *c = &r->classes[i];
    char n[16], av[32], lost[32];
    snprintf(n, sizeof n, "%d", c->sources);
    fputs("<tr>", out);
    cell(out, "td", c->name, false);
    cell(out, "td", n, true);
    cell(out, "td", report_percent(c->availability, av, sizeof av), true);
    cell(out, "td", report_human_duration(c->disagree_ns, lost, sizeof lost), true);
    fputs("</tr>\n", out);
  }
  fputs("</table>\n", out);
}

static void alarms_table(FILE *out, const struct report *r) {
  fprintf(out, "<h2>Alarms</h2>\n<p>%zu in the period: raised %d, cleared %d, open at the end "
               "%d; critical %d, warning %d, info %d.</p>\n",
          r->n_alarms, r->alarms_raised, r->alarms_cleared, r->alarms_open, r->by_severity[2],
          r->by_severity[1], r->by_severity[0]);
  if (!r->n_alarms) return;
  fputs("<table>\n<tr><th class=\"r\">Id</th><th>Severity</th><th>Kind</th><th>Source</th>"
        "<th>Raised</th><th>Cleared</th><th>Text</th></tr>\n", out);
  size_t idx[REPORT_ALARMS_SHOWN], shown = report_alarms_shown(r, idx);
  for (size_t k = 0; k < shown; k++) {
    const struct hr_alarm *a = &r->alarms[idx[k]].a;
    char id[24], raised[32], cleared[32], cls[sizeof a->cls + 8];
    snprintf(id, sizeof id, "%" PRId64, a->id);
    snprintf(cls, sizeof cls, "class %s", a->cls); /* as the log names it */
    report_iso_time(a->raised_ns, raised, sizeof raised);
    if (a->cleared_ns) report_iso_time(a->cleared_ns, cleared, sizeof cleared);
    else snprintf(cleared, sizeof cleared, "open");
    fprintf(out, "<tr class=\"%s\">", strcmp(a->severity, "critical") == 0 ? "crit" : "");
    cell(out, "td", id, true);
    cell(out, "td", a->severity, false);
    cell(out, "td", a->kind, false);
    cell(out, "td", a->source[0] ? a->source : a->cls[0] ? cls : "system", false);
    cell(out, "td", raised, false);
    cell(out, "td", cleared, false);
    cell(out, "td", a->text, false);
    fputs("</tr>\n", out);
  }
  fputs("</table>\n", out);
  if (shown < r->n_alarms)
    fprintf(out, "<p>%zu more not shown: the critical ones and the newest are; "
                 "<code>--json</code> lists all.</p>\n", r->n_alarms - shown);
}

void report_print_html(const struct report *r, const char *database, FILE *out) {
  char a[32], b[32], c[32], d[48], e[48], f[48], g[48], h[48];
  char d1[FORMAT_DURATION_LEN], d2[FORMAT_DURATION_LEN], d3[FORMAT_DURATION_LEN];
  report_iso_time(r->from_ns, a, sizeof a);
  report_iso_time(r->to_ns, b, sizeof b);
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
  fprintf(out, "vettime report %s to %s", a, b);
  fputs("</title>\n<style>\n"
        "body{font-family:sans-serif;font-size:14px;color:#222;max-width:640px;margin:8px}\n"
        "table{border-collapse:collapse;font-size:12px;margin-bottom:8px}\n"
        "th,td{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}\n"
        ".r{text-align:right}\n.ok{background:#d9ead3;padding:6px}\n"
        ".bad{background:#f4cccc;padding:6px}\ntr.crit td{color:#990000}\nsvg{display:block;margin:6px 0}\n"
        "</style>\n</head>\n<body>\n", out);
  fprintf(out, "<h1>vettime report</h1>\n<p>%s to %s (%s)<br>history ", a, b,
          report_human_duration(r->to_ns - r->from_ns, d, sizeof d));
  esc(out, database);
  fprintf(out, ", generated %s</p>\n", report_iso_time(r->generated_ns, c, sizeof c));
  if (r->critical)
    fprintf(out, "<p class=\"bad\"><b>CRITICAL</b>: %d critical alarm%s in the period.</p>\n",
            r->by_severity[2], r->by_severity[2] == 1 ? "" : "s");
  else
    fputs("<p class=\"ok\"><b>OK</b>: no critical alarm in the period.</p>\n", out);
  if (r->oom) fputs("<p>Out of memory: some figures are incomplete.</p>\n", out);
  double vf = r->observed_ns > 0
                  ? (double)(r->observed_ns - r->not_vetted_ns) / (double)r->observed_ns
                  : NAN;
  fprintf(out, "<h2>Time</h2>\n<table>\n"
               "<tr><td>observed</td><td>%s (%ld rounds)</td></tr>\n"
               "<tr><td>vetted</td><td>%s of the observed time</td></tr>\n"
               "<tr><td>not vetted</td><td>%s</td></tr>\n"
               "<tr><td>holdover</td><td>%s</td></tr>\n"
               "<tr><td>refusing</td><td>%s</td></tr>\n",
          report_human_duration(r->observed_ns, e, sizeof e), r->rounds,
          report_percent(vf, f, sizeof f), report_human_duration(r->not_vetted_ns, g, sizeof g),
          report_human_duration(r->holdover.total_ns, h, sizeof h),
          report_human_duration(r->refusing.total_ns, d, sizeof d));
  fprintf(out, "<tr><td>vetted offset</td><td>median %s, p99 |offset| %s, max |offset| %s</td></tr>\n",
          dur(r->vetted_offset.median, true, d1), dur(r->vetted_offset.p99_abs, false, d2),
          dur(r->vetted_offset.max_abs, false, d3));
  fprintf(out, "<tr><td>vetted bound</td><td>median %s, p99 %s, max %s</td></tr>\n</table>\n",
          dur(r->vetted_bound.median, false, d1), dur(r->vetted_bound.p99, false, d2),
          dur(r->vetted_bound.max, false, d3));
  chart(out, r, "vetted offset and bound", r->vetted_chart, 0);
  sources_table(out, r);
  classes_table(out, r);
  alarms_table(out, r);
  fputs("<h2>Offsets of the sources</h2>\n<p>Against the local clock; the light band is "
        "offset &plusmn; error bound, the dark band the spread of the samples, the line their "
        "mean.</p>\n", out);
  for (size_t i = 0; i < r->n_sources; i++) {
    char title[300];
    snprintf(title, sizeof title, "%s%s%s", r->sources[i].src.name,
             r->sources[i].src.cls[0] ? " " : "", r->sources[i].src.cls);
    chart(out, r, title, r->sources[i].chart, (int)i + 1);
  }
  fputs("</body>\n</html>\n", out);
}
