/* `vettime report`: see report_cmd.h. Reads the rows through
 * monitor/history_read.h, one source at a time, into the pure report
 * (cli/report.h), and prints it (cli/report_format.h). */
#include "cli/report_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <sysexits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/report.h"
#include "cli/report_format.h"
#include "monitor/config.h"
#include "monitor/history_report.h"

enum output { OUT_TEXT, OUT_JSON, OUT_HTML };

struct report_args {
  const char *since, *from, *to, *db;
  enum output out;
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: vettime report [--since DURATION | --from T [--to T]] [--json | --html]\n"
          "                      [-d DATABASE]\n"
          "\n"
          "The health of a period from the history: per source availability, offsets,\n"
          "steps, drift and time as falseticker; per class availability; the time not\n"
          "vetted, in holdover and refusing; the alarms. For cron (it mails stdout).\n"
          "\n"
          "  --since DURATION  the last 90s, 30m, 24h (default), 7d, 2w\n"
          "  --from T --to T   a period; T: Unix seconds, 2026-11-29T06:00:00Z, -2h, now\n"
          "                    (--to defaults to now)\n"
          "  --json            a JSON document (structure in README.md)\n"
          "  --html            a self-contained HTML page with inline SVG charts\n"
          "  -d, --db PATH     the history (default: the configuration's `database`)\n"
          "\n"
          "Exit status: 0 no critical alarm in the period, 2 a critical alarm in the\n"
          "period; no report: 64 bad option or period, 65 not a vettime history,\n"
          "66 no database, 74 the database cannot be read or the report written,\n"
          "78 configuration error.\n");
}

/* Says why on stderr; returns status, one of the exit table's (README.md
 * "Exit status"). */
__attribute__((format(printf, 2, 3)))
static int fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "vettime report: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return status;
}

/* Returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct report_args *a) {
  static const struct option opts[] = {
      {"since", required_argument, NULL, 's'}, {"from", required_argument, NULL, 'f'},
      {"to", required_argument, NULL, 't'},    {"db", required_argument, NULL, 'd'},
      {"json", no_argument, NULL, 'j'},        {"html", no_argument, NULL, 'H'},
      {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
  int opt;
  bool json = a->out == OUT_JSON, html = false;
  optind = 1;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
    switch (opt) {
    case 's': a->since = optarg; break;
    case 'f': a->from = optarg; break;
    case 't': a->to = optarg; break;
    case 'd': a->db = optarg; break;
    case 'j': json = true; break;
    case 'H': html = true; break;
    case 'h': usage(stdout); return 0;
    default:
      fprintf(stderr, "vettime report: bad option or missing value \"%s\"\n\n", argv[optind - 1]);
      usage(stderr);
      return EX_USAGE;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "vettime report: unexpected argument \"%s\"\n\n", argv[optind]);
    usage(stderr);
    return EX_USAGE;
  }
  if (json && html) return fail(EX_USAGE, "give --json or --html, not both");
  a->out = html ? OUT_HTML : json ? OUT_JSON : OUT_TEXT;
  return -1;
}

/* ---- feeding the report ---- */

/* What one pass over the samples holds at most: two doubles a sample of
 * the pass's sources (offset and bound, for the exact order statistics).
 * 30 days of 50 sources at 16 s polls (8.1 million samples) take two
 * passes. */
#define SAMPLE_BYTES (2 * sizeof(double))
#define PASS_BUDGET ((int64_t)96 << 20)

struct feed {
  struct report *r;
  struct hr_source *list;
  size_t n, cap;
  /* the current pass: its sources' ids, sorted, and their slots */
  int64_t *ids;
  struct report_source **slot;
  size_t n_pass;
};

static int on_vote(void *ctx, const struct hr_vote *v) {
  report_add_vote(((struct feed *)ctx)->r, v);
  return 0;
}

static int on_source(void *ctx, const struct hr_source *s) {
  struct feed *f = ctx;
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 32;
    struct hr_source *p = realloc(f->list, cap * sizeof *p);
    if (!p) return 1;
    f->list = p;
    f->cap = cap;
  }
  f->list[f->n++] = *s;
  return 0;
}

static int on_sample(void *ctx, int64_t source_id, const struct hr_sample *x) {
  struct feed *f = ctx;
  size_t lo = 0, hi = f->n_pass; /* binary search of the sorted ids */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (f->ids[mid] < source_id) lo = mid + 1;
    else hi = mid;
  }
  if (lo < f->n_pass && f->ids[lo] == source_id) report_add_sample(f->r, f->slot[lo], x);
  return 0;
}

/* Sorts the pass's ids (with their slots) for on_sample's search. */
static void sort_pass(struct feed *f) {
  for (size_t i = 1; i < f->n_pass; i++)
    for (size_t j = i; j > 0 && f->ids[j - 1] > f->ids[j]; j--) {
      int64_t t = f->ids[j];
      f->ids[j] = f->ids[j - 1];
      f->ids[j - 1] = t;
      struct report_source *s = f->slot[j];
      f->slot[j] = f->slot[j - 1];
      f->slot[j - 1] = s;
    }
}

/* Reads the samples in as few passes as the budget allows: the sources
 * are split evenly, on the guess that they poll alike. */
static int read_samples(struct sqlite3 *db, struct feed *f, char *err, size_t errlen) {
  struct report *r = f->r;
  int64_t from = r->from_ns - REPORT_LOOKBACK_NS;
  int64_t rows = hr_count_samples(db, from, r->to_ns, err, errlen);
  if (rows < 0) return -1;
  size_t passes = (size_t)(rows * (int64_t)SAMPLE_BYTES / PASS_BUDGET) + 1;
  if (passes > r->n_sources) passes = r->n_sources ? r->n_sources : 1;
  size_t per = (r->n_sources + passes - 1) / passes;
  f->ids = malloc((per ? per : 1) * sizeof *f->ids);
  f->slot = malloc((per ? per : 1) * sizeof *f->slot);
  if (!f->ids || !f->slot) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (size_t first = 0; first < r->n_sources; first += per) {
    f->n_pass = 0;
    for (size_t i = first; i < r->n_sources && i < first + per; i++) {
      f->ids[f->n_pass] = r->sources[i].src.id;
      f->slot[f->n_pass++] = &r->sources[i];
    }
    sort_pass(f);
    /* one pass for every source: no list of ids to filter on */
    bool all = f->n_pass == r->n_sources;
    if (hr_each_sample_of(db, all ? NULL : f->ids, all ? 0 : f->n_pass, from, r->to_ns, on_sample,
                          f, err, errlen) < 0)
      return -1;
    for (size_t i = 0; i < f->n_pass; i++) report_source_done(r, f->slot[i]);
  }
  return 0;
}

static int on_event(void *ctx, const struct hr_event *e) {
  report_add_event(((struct feed *)ctx)->r, e);
  return 0;
}

static int on_alarm(void *ctx, const struct hr_alarm *a) {
  report_add_alarm(((struct feed *)ctx)->r, a);
  return 0;
}

/* Reads everything of the period into r. Returns 0, or -1 with err. */
static int build(struct sqlite3 *db, struct report *r, char *err, size_t errlen) {
  struct feed f = {.r = r};
  int rc = -1;
  if (hr_each_vote(db, r->from_ns, r->to_ns, on_vote, &f, err, errlen) < 0) goto out;
  report_votes_done(r);
  if (hr_each_source(db, r->from_ns, r->to_ns, on_source, &f, err, errlen) < 0) goto out;
  for (size_t i = 0; i < f.n; i++) report_add_source(r, &f.list[i]);
  /* the conditions that held when the period began, then the period's */
  if (hr_each_last_event_before(db, r->from_ns, report_condition_kinds, on_event, &f, err,
                                errlen) < 0 ||
      hr_each_event(db, r->from_ns, r->to_ns, on_event, &f, err, errlen) < 0)
    goto out;
  if (read_samples(db, &f, err, errlen)) goto out;
  if (hr_each_alarm(db, r->from_ns, r->to_ns, on_alarm, &f, err, errlen) < 0) goto out;
  report_finish(r);
  rc = 0;
out:
  free(f.list);
  free(f.ids);
  free(f.slot);
  return rc;
}

/* ---- main ---- */

int report_main(const char *config_path, bool config_given, bool json, int argc, char **argv) {
  struct report_args a = {.out = json ? OUT_JSON : OUT_TEXT};
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0) return rc;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, from_ns, to_ns;
  char err[8192];
  if (report_parse_period(a.since, a.from, a.to, now_ns, &from_ns, &to_ns, err, sizeof err))
    return fail(EX_USAGE, "%s", err);

  /* The configuration gives the database and the vote mode; without -c a
   * missing default file means the defaults. */
  struct vt_config cfg;
  bool have_cfg = false;
  if (config_load(config_path, &cfg, err, sizeof err) == 0) {
    have_cfg = true;
  } else if (config_given || access(config_path, F_OK) == 0) {
    if (!a.db) return fail(EX_CONFIG, "%s", err);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s", a.db ? a.db : have_cfg ? cfg.database : VT_DEFAULT_DATABASE);
  bool sources_mode = have_cfg && cfg.vote_by_sources;
  if (have_cfg) config_free(&cfg);

  if (access(path, R_OK) != 0)
    return fail(EX_NOINPUT, "no history at %s: %s (see -d or the `database` directive)", path,
                strerror(errno));
  struct sqlite3 *db = NULL;
  rc = hr_open(path, &db, err, sizeof err);
  if (rc == 1) return fail(EX_DATAERR, "%s is not a vettime history (it has no votes table)", path);
  if (rc) return fail(EX_DATAERR, "%s: %s", path, err);

  struct report r;
  report_init(&r, from_ns, to_ns, now_ns);
  r.sources_mode = sources_mode;
  if (build(db, &r, err, sizeof err)) {
    hr_close(db);
    report_free(&r);
    return fail(EX_IOERR, "%s: %s", path, err);
  }
  hr_close(db);
  if (a.out == OUT_JSON) {
    json_object *doc = report_json(&r, path);
    puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
  } else if (a.out == OUT_HTML) {
    report_print_html(&r, path, stdout);
  } else {
    report_print_text(&r, path, stdout);
  }
  rc = report_exit_status(&r);
  report_free(&r);
  if (fflush(stdout) != 0) return fail(EX_IOERR, "cannot write the report: %s", strerror(errno));
  return rc;
}
