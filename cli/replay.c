/* `vettime replay` (see replay.h). Rounds are rebuilt from the sample
 * times: every `--round` seconds (default 1, as the daemon), each source's
 * newest sample so far is its measurement, a source is reachable while its
 * samples keep coming at their usual interval, and the analysis
 * (monitor/analysis.h) runs exactly as in the daemon. */
#include "cli/replay.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/timeutil.h"
#include "monitor/analysis.h"
#include "monitor/config.h"
#include "monitor/history.h"
#include "monitor/round.h"

#define MAX_REPLAY_SOURCES 4096

struct replay_source {
  char name[300];
  enum ref_class cls;
  struct vt_sample latest;
  bool have, fresh;
  double interval;        /* s between its last two samples */
};

struct replay {
  struct replay_source *src;
  int n;
  struct analysis *analysis;
  struct analysis_source *inputs;
  double round, next_round;
  bool json, quiet, verdicts;
  long rounds, vetted_rounds, samples, events, alarms_raised;
  double first_t, last_t; /* of the samples replayed */
  int last_vetted;        /* -1 before the first round */
  json_object *jevents, *jalarms, *jverdicts;
};

/* ---- arguments ---- */

int replay_parse_time(const char *text, double now, double *out) {
  char *end;
  if (strcmp(text, "now") == 0) { *out = now; return 0; }
  if (text[0] == '-') {
    double v = strtod(text + 1, &end);
    static const struct { char unit; double s; } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    for (size_t i = 0; end != text + 1 && i < 4; i++)
      if (end[0] == units[i].unit && end[1] == '\0') { *out = now - v * units[i].s; return 0; }
    return -1;
  }
  double v = strtod(text, &end);
  if (end != text && *end == '\0') { *out = v; return 0; }
  struct tm tm = {0};
  const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest || (*rest && strcmp(rest, "Z") != 0)) return -1;
  *out = (double)timegm(&tm);
  return 0;
}

struct replay_args {
  double from, to, round;
  const char *db;
  int minclasses, minsources, mode; /* 0: from the configuration */
  bool json, quiet, verdicts;
};

static void replay_usage(FILE *out) {
  fprintf(out, "usage: vettime replay [--from T] [--to T] [--db PATH] [--minclasses N]\n"
               "                      [--minsources N] [--mode classes|sources] [--round S]\n"
               "                      [--quiet] [--json] [--verdicts]\n"
               "\n"
               "Re-runs the vote, the detectors and the alarms over the samples stored in\n"
               "the history, with the configuration's policy or the one given here. No\n"
               "daemon needed.\n"
               "T: Unix seconds, 2026-11-22T05:00:00Z, or -30m / -2h / -7d / now\n"
               "\n"
               "Exit status: 0 replayed, 64 usage, 66 no database or no samples in the\n"
               "period, 74 the samples cannot be read, 78 configuration error.\n");
}

static int parse_args(int argc, char **argv, struct replay_args *a) {
  static const struct option opts[] = {
      {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
      {"db", required_argument, NULL, 'd'},   {"minclasses", required_argument, NULL, 'C'},
      {"minsources", required_argument, NULL, 'S'}, {"mode", required_argument, NULL, 'M'},
      {"round", required_argument, NULL, 'r'}, {"quiet", no_argument, NULL, 'q'},
      {"json", no_argument, NULL, 'j'},       {"verdicts", no_argument, NULL, 'V'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  double now = (double)time(NULL);
  int opt;
  optind = 1;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    bool ok = true;
    switch (opt) {
    case 'f': ok = replay_parse_time(optarg, now, &a->from) == 0; break;
    case 't': ok = replay_parse_time(optarg, now, &a->to) == 0; break;
    case 'd': a->db = optarg; break;
    case 'C': ok = (a->minclasses = atoi(optarg)) >= 1; break;
    case 'S': ok = (a->minsources = atoi(optarg)) >= 1; break;
    case 'M': a->mode = strcmp(optarg, "sources") == 0 ? 2 : strcmp(optarg, "classes") == 0 ? 1 : -1;
              ok = a->mode > 0; break;
    case 'r': ok = (a->round = atof(optarg)) > 0; break;
    case 'q': a->quiet = true; break;
    case 'j': a->json = true; break;
    case 'V': a->verdicts = true; break;
    case 'h': replay_usage(stdout); return 0;
    default: ok = false;
    }
    if (!ok) {
      fprintf(stderr, "vettime replay: bad option or value \"%s\"\n", argv[optind - 1]);
      replay_usage(stderr);
      return EX_USAGE;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "vettime replay: unexpected argument \"%s\"\n", argv[optind]);
    replay_usage(stderr);
    return EX_USAGE;
  }
  return -1;
}

/* ---- sources ---- */

static int find_source(struct replay *r, const char *name) {
  for (int i = 0; i < r->n; i++)
    if (strcmp(r->src[i].name, name) == 0) return i;
  return -1;
}

static int collect_source(void *ctx, const char *name, const char *cls, const struct vt_sample *s) {
  struct replay *r = ctx;
  if (find_source(r, name) >= 0 || r->n == MAX_REPLAY_SOURCES) return 0;
  struct replay_source *rs = &r->src[r->n++];
  snprintf(rs->name, sizeof rs->name, "%s", name);
  if (!cls || ref_class_parse(cls, &rs->cls)) rs->cls = ref_class_from_refid(s->stratum, s->refid);
  return 0;
}

/* ---- rounds ---- */

static void fill_input(const struct replay_source *s, double now, struct analysis_source *in) {
  double age = now - timespec_seconds(s->latest.rx_time);
  double usual = s->interval > 0 ? s->interval : 64;
  memset(in, 0, sizeof *in);
  in->vote = (struct vote_input){.ref_class = s->cls, .have_sample = s->have,
                                 .reachable = s->have && age < 8 * usual + 1,
                                 .stale = s->have && age > 4 * usual + 5,
                                 .offset = s->latest.offset, .error = s->latest.error_bound,
                                 .stratum = s->have ? s->latest.stratum : -1, .leap = s->latest.leap};
  in->new_sample = s->fresh;
  in->sample_time = timespec_seconds(s->latest.rx_time);
  in->sample_offset = s->latest.offset;
  in->sample_error = s->latest.error_bound;
  in->stratum = s->have ? s->latest.stratum : -1;
  in->refid = s->latest.refid;
  in->reach = in->vote.reachable ? 0xff : 0;
}

static void iso_time(double t, char *buf, size_t len) {
  time_t sec = (time_t)floor(t);
  struct tm tm;
  gmtime_r(&sec, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *name_of(const struct replay *r, int i) {
  return i >= 0 && i < r->n ? r->src[i].name : "system";
}

static void print_event(struct replay *r, double now, const struct vt_event *e) {
  r->events++;
  if (r->json) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_double(now));
    json_object_object_add(o, "kind", json_object_new_string(event_kind_name(e->kind)));
    json_object_object_add(o, "ended", json_object_new_boolean(e->ended));
    json_object_object_add(o, "source", e->source >= 0 ? json_object_new_string(name_of(r, e->source)) : NULL);
    json_object_object_add(o, "text", json_object_new_string(e->text));
    json_object_array_add(r->jevents, o);
  } else if (!r->quiet) {
    char t[32];
    iso_time(now, t, sizeof t);
    printf("%s event %s%s %s: %s\n", t, event_kind_name(e->kind), e->ended ? " ended" : "",
           name_of(r, e->source), e->text);
  }
}

static void print_transition(struct replay *r, double now, const struct alarm_transition *tr) {
  char line[400], t[32];
  alarm_format_line(tr, tr->alarm.source >= 0 ? name_of(r, tr->alarm.source) : "", line, sizeof line);
  if (tr->raised) r->alarms_raised++;
  if (r->json) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_double(now));
    json_object_object_add(o, "id", json_object_new_int64((int64_t)tr->alarm.id));
    json_object_object_add(o, "raised", json_object_new_boolean(tr->raised));
    json_object_object_add(o, "line", json_object_new_string(line));
    json_object_array_add(r->jalarms, o);
  } else if (!r->quiet) {
    iso_time(now, t, sizeof t);
    printf("%s %s\n", t, line);
  }
}

static void print_vote_change(struct replay *r, double now, const struct vote_verdict *v) {
  if (r->last_vetted == (int)v->vetted || r->json || r->quiet) {
    r->last_vetted = v->vetted;
    return;
  }
  char t[32];
  iso_time(now, t, sizeof t);
  if (v->vetted)
    printf("%s vote: vetted, offset %+.6f s ±%.6f s, %d of %d sources, %d of %d classes\n", t,
           v->offset, v->error, v->agreeing, v->candidates, v->agreeing_classes, v->classes);
  else
    printf("%s vote: not vetted: %s\n", t, v->why_not);
  r->last_vetted = v->vetted;
}

/* --verdicts: every round's verdict, in the JSON "verdicts" array or as a
 * line each. */
static void print_verdict(struct replay *r, double now, const struct vote_verdict *v) {
  if (!r->verdicts) return;
  if (r->json) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "time", json_object_new_double(now));
    json_object_object_add(o, "vetted", json_object_new_boolean(v->vetted));
    json_object_object_add(o, "offset", v->agreeing ? json_object_new_double(v->offset) : NULL);
    json_object_object_add(o, "error", v->agreeing ? json_object_new_double(v->error) : NULL);
    json_object_object_add(o, "agreeing", json_object_new_int(v->agreeing));
    json_object_object_add(o, "why_not", json_object_new_string(v->why_not));
    json_object_array_add(r->jverdicts, o);
    return;
  }
  char t[32];
  iso_time(now, t, sizeof t);
  printf("%s round: %s offset %+.6f s ±%.6f s, %d agree%s%s\n", t, v->vetted ? "vetted" : "not vetted",
         v->offset, v->error, v->agreeing, v->vetted ? "" : ": ", v->why_not);
}

static void run_round(struct replay *r, double now) {
  for (int i = 0; i < r->n; i++) {
    fill_input(&r->src[i], now, &r->inputs[i]);
    r->src[i].fresh = false;
  }
  const struct analysis_result *res = analysis_round(r->analysis, now, 0, r->inputs);
  r->rounds++;
  if (res->verdict.vetted) r->vetted_rounds++;
  print_vote_change(r, now, &res->verdict);
  print_verdict(r, now, &res->verdict);
  for (int i = 0; i < res->n_events; i++) print_event(r, now, &res->events[i]);
  for (int i = 0; i < res->n_transitions; i++) print_transition(r, now, &res->transitions[i]);
}

static int replay_sample(void *ctx, const char *name, const char *cls, const struct vt_sample *s) {
  (void)cls;
  struct replay *r = ctx;
  double t = timespec_seconds(s->rx_time);
  if (r->next_round == 0) r->next_round = ceil(t / r->round) * r->round;
  if (r->next_round < t - 10 * r->round) /* a long gap: no need to walk it */
    r->next_round = floor((t - 10 * r->round) / r->round) * r->round;
  while (r->next_round < t) {
    run_round(r, r->next_round);
    r->next_round += r->round;
  }
  int i = find_source(r, name);
  if (i < 0) return 0;
  struct replay_source *rs = &r->src[i];
  if (rs->have) rs->interval = t - timespec_seconds(rs->latest.rx_time);
  rs->latest = *s;
  rs->have = rs->fresh = true;
  if (r->samples++ == 0) r->first_t = t;
  r->last_t = t;
  return 0;
}

/* ---- main ---- */

static void apply_policy(const struct vt_config *cfg, const struct replay_args *a,
                         struct analysis_config *ac) {
  round_analysis_config(cfg, ac);
  if (a->mode) ac->vote.mode = a->mode == 2 ? VOTE_MODE_SOURCES : VOTE_MODE_CLASSES;
  if (a->minsources) ac->vote.minsources = a->minsources;
  if (a->minclasses) ac->vote.minclasses = a->minclasses;
}

static void print_summary(const struct replay *r, const struct analysis_config *ac) {
  if (r->json) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "samples", json_object_new_int64(r->samples));
    json_object_object_add(o, "sources", json_object_new_int(r->n));
    json_object_object_add(o, "rounds", json_object_new_int64(r->rounds));
    json_object_object_add(o, "vetted_rounds", json_object_new_int64(r->vetted_rounds));
    json_object_object_add(o, "minclasses", json_object_new_int(ac->vote.minclasses));
    json_object_object_add(o, "minsources", json_object_new_int(ac->vote.minsources));
    json_object_object_add(o, "events", json_object_get(r->jevents));
    json_object_object_add(o, "alarms", json_object_get(r->jalarms));
    if (r->verdicts) json_object_object_add(o, "verdicts", json_object_get(r->jverdicts));
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
    json_object_put(o);
    return;
  }
  char f[32], t[32];
  iso_time(r->first_t, f, sizeof f);
  iso_time(r->last_t, t, sizeof t);
  printf("replayed %ld samples of %d sources, %s to %s: %ld rounds, %ld vetted (%.1f%%), "
         "%ld events, %ld alarms raised (mode %s, minsources %d, minclasses %d)\n",
         r->samples, r->n, f, t, r->rounds, r->vetted_rounds,
         r->rounds ? 100.0 * r->vetted_rounds / r->rounds : 0.0, r->events, r->alarms_raised,
         ac->vote.mode == VOTE_MODE_SOURCES ? "sources" : "classes", ac->vote.minsources,
         ac->vote.minclasses);
}

static int run_replay(struct history *h, const struct vt_config *cfg, struct replay_args *a) {
  struct replay r = {.round = a->round, .json = a->json, .quiet = a->quiet,
                     .verdicts = a->verdicts, .last_vetted = -1};
  int64_t from = (int64_t)(a->from * 1e9), to = (int64_t)(a->to * 1e9);
  r.src = calloc(MAX_REPLAY_SOURCES, sizeof *r.src);
  if (!r.src || history_each_sample(h, from, to, collect_source, &r) < 0) {
    fprintf(stderr, "vettime replay: cannot read the samples\n");
    free(r.src);
    return EX_IOERR;
  }
  if (r.n == 0) {
    fprintf(stderr, "vettime replay: no samples between the given times\n");
    free(r.src);
    return EX_NOINPUT;
  }
  struct analysis_config ac;
  apply_policy(cfg, a, &ac);
  r.analysis = analysis_new(r.n, &ac, 1);
  r.inputs = calloc((size_t)r.n, sizeof *r.inputs);
  r.jevents = json_object_new_array();
  r.jalarms = json_object_new_array();
  r.jverdicts = json_object_new_array();
  history_each_sample(h, from, to, replay_sample, &r);
  if (r.next_round > 0) run_round(&r, r.next_round); /* the last samples */
  print_summary(&r, &ac);
  json_object_put(r.jevents);
  json_object_put(r.jverdicts);
  json_object_put(r.jalarms);
  analysis_free(r.analysis);
  free(r.inputs);
  free(r.src);
  return 0;
}

int replay_main(const char *config_path, bool config_given, bool json, int argc, char **argv) {
  struct replay_args a = {.from = 0, .to = 4e9, .round = 1, .json = json};
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0) return rc;
  struct vt_config cfg;
  char err[8192];
  if (config_load(config_path, &cfg, err, sizeof err)) {
    if (config_given || access(config_path, F_OK) == 0) {
      fprintf(stderr, "vettime: %s\n", err);
      return EX_CONFIG;
    }
    config_parse("(defaults)", "", &cfg, err, sizeof err);
  }
  const char *db = a.db ? a.db : cfg.database;
  if (access(db, R_OK) != 0) {
    fprintf(stderr, "vettime replay: %s: %s\n", db, strerror(errno));
    config_free(&cfg);
    return EX_NOINPUT;
  }
  log_set_level(LOG_LVL_WARN); /* the history's "applied migration" lines */
  struct history *h = history_open(db, err, sizeof err);
  if (!h) {
    fprintf(stderr, "vettime replay: %s\n", err);
    config_free(&cfg);
    return EX_NOINPUT;
  }
  rc = run_replay(h, &cfg, &a);
  history_close(h);
  config_free(&cfg);
  return rc;
}
