/* The report's figures from the history's rows: see report.h for the
 * order of the calls and the definitions. */
#include "cli/report.h"

#include "cli/replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const report_condition_kinds[] = {"falseticker", "class-lost", "holdover",
                                              "refusing", NULL};

/* Grows *arr (of *cap elements of size) to hold n + 1; returns 0 or -1. */
static int grow(void **arr, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 0;
  size_t c = *cap ? *cap * 2 : 16;
  void *p = realloc(*arr, c * size);
  if (!p) return -1;
  *arr = p;
  *cap = c;
  return 0;
}

void report_init(struct report *r, int64_t from_ns, int64_t to_ns, int64_t now_ns) {
  memset(r, 0, sizeof *r);
  r->from_ns = from_ns;
  r->to_ns = to_ns;
  r->generated_ns = now_ns;
}

void report_free(struct report *r) {
  for (size_t i = 0; i < r->n_sources; i++) {
    stats_vec_free(&r->sources[i].offsets);
    stats_vec_free(&r->sources[i].bounds);
    report_ivs_free(&r->sources[i].falseticker.ivs);
    free(r->sources[i].step_ns);
  }
  for (size_t i = 0; i < r->n_classes; i++) report_ivs_free(&r->classes[i].lost.ivs);
  report_ivs_free(&r->holdover.ivs);
  report_ivs_free(&r->refusing.ivs);
  stats_vec_free(&r->v_offsets);
  stats_vec_free(&r->v_bounds);
  free(r->round_ns);
  free(r->runs);
  free(r->sources);
  free(r->classes);
  free(r->alarms);
  memset(r, 0, sizeof *r);
}

/* ---- charts ---- */

static void bucket_clear(struct report_bucket *b, size_t n) {
  memset(b, 0, n * sizeof *b);
}

static void bucket_add(const struct report *r, struct report_bucket *chart, int64_t t,
                       double offset, double bound) {
  if (!isfinite(offset)) return;
  double span = (double)(r->to_ns - r->from_ns);
  long i = span > 0 ? (long)((double)(t - r->from_ns) / span * REPORT_BUCKETS) : 0;
  if (i < 0) i = 0;
  if (i >= REPORT_BUCKETS) i = REPORT_BUCKETS - 1;
  struct report_bucket *b = &chart[i];
  double lo = offset - (isfinite(bound) ? bound : 0), hi = offset + (isfinite(bound) ? bound : 0);
  if (b->n == 0) {
    b->min = b->max = offset;
    b->lo = lo;
    b->hi = hi;
  } else {
    b->min = fmin(b->min, offset);
    b->max = fmax(b->max, offset);
    b->lo = fmin(b->lo, lo);
    b->hi = fmax(b->hi, hi);
  }
  b->n++;
  b->sum += offset;
}

/* ---- observed time ---- */

/* The run in which something at time a happened: a round of it at most a
 * gap later (a condition held when the period began counts only if the
 * daemon was running then). NULL if none. */
static const struct report_run *run_of(const struct report *r, int64_t a) {
  for (size_t i = 0; i < r->n_runs; i++)
    if (a >= r->runs[i].start_ns - REPORT_GAP_NS && a < r->runs[i].end_ns) return &r->runs[i];
  return NULL;
}

int64_t report_observed_between(const struct report *r, int64_t a, int64_t b) {
  int64_t total = 0;
  for (size_t i = 0; i < r->n_runs; i++) {
    int64_t s = a > r->runs[i].start_ns ? a : r->runs[i].start_ns;
    int64_t e = b < r->runs[i].end_ns ? b : r->runs[i].end_ns;
    if (e > s) total += e - s;
  }
  return total;
}

/* ---- intervals ---- */

static int ivs_push(struct report_ivs *x, int64_t a, int64_t b) {
  if (b <= a) return 0;
  if (x->n && a <= x->v[x->n - 1].b) { /* touches the last one: extend it */
    if (b > x->v[x->n - 1].b) x->v[x->n - 1].b = b;
    return 0;
  }
  if (grow((void **)&x->v, &x->cap, x->n, sizeof *x->v)) return -1;
  x->v[x->n++] = (struct report_iv){a, b};
  return 0;
}

static int ivs_copy(struct report_ivs *dst, const struct report_ivs *src) {
  for (size_t i = 0; i < src->n; i++)
    if (ivs_push(dst, src->v[i].a, src->v[i].b)) return -1;
  return 0;
}

void report_ivs_free(struct report_ivs *x) {
  free(x->v);
  memset(x, 0, sizeof *x);
}

int64_t report_ivs_total(const struct report_ivs *x) {
  int64_t t = 0;
  for (size_t i = 0; i < x->n; i++) t += x->v[i].b - x->v[i].a;
  return t;
}

int report_ivs_intersect(const struct report_ivs *x, const struct report_ivs *y,
                         struct report_ivs *out) {
  struct report_ivs o = {0};
  size_t i = 0, j = 0;
  while (i < x->n && j < y->n) {
    int64_t a = x->v[i].a > y->v[j].a ? x->v[i].a : y->v[j].a;
    int64_t b = x->v[i].b < y->v[j].b ? x->v[i].b : y->v[j].b;
    if (a < b && ivs_push(&o, a, b)) {
      report_ivs_free(&o);
      return -1;
    }
    if (x->v[i].b < y->v[j].b) i++;
    else j++;
  }
  report_ivs_free(out);
  *out = o;
  return 0;
}

int report_ivs_union(const struct report_ivs *x, const struct report_ivs *y,
                     struct report_ivs *out) {
  struct report_ivs o = {0};
  size_t i = 0, j = 0;
  while (i < x->n || j < y->n) {
    const struct report_iv *n =
        j >= y->n || (i < x->n && x->v[i].a <= y->v[j].a) ? &x->v[i++] : &y->v[j++];
    if (ivs_push(&o, n->a, n->b)) {
      report_ivs_free(&o);
      return -1;
    }
  }
  report_ivs_free(out);
  *out = o;
  return 0;
}

/* The observed time of a condition on from `since` until `until`, within
 * the run it started in: a daemon that stopped took its conditions with it
 * (the next run raises them again if they still hold). The interval is
 * kept in the span's list. */
static int64_t span_measure(struct report *r, struct report_span *sp, int64_t since,
                            int64_t until) {
  const struct report_run *run = run_of(r, since);
  if (!run) return 0;
  if (until > run->end_ns) until = run->end_ns;
  if (until > r->to_ns) until = r->to_ns;
  int64_t s = since > run->start_ns ? since : run->start_ns;
  if (until <= s) return 0;
  if (ivs_push(&sp->ivs, s, until)) r->oom = true;
  return until - s;
}

static void span_start(struct report *r, struct report_span *sp, int64_t t) {
  if (t < r->from_ns) t = r->from_ns;
  if (sp->on) {
    if (run_of(r, sp->since) == run_of(r, t)) return;  /* still the same condition */
    sp->total_ns += span_measure(r, sp, sp->since, t); /* a new run raised it again */
  }
  sp->on = true;
  sp->since = t;
}

static void span_end(struct report *r, struct report_span *sp, int64_t t) {
  if (!sp->on) return;
  if (t < r->from_ns) t = r->from_ns;
  sp->total_ns += span_measure(r, sp, sp->since, t);
  sp->on = false;
}

static void span_event(struct report *r, struct report_span *sp, const struct hr_event *e) {
  if (e->ended) span_end(r, sp, e->time_ns);
  else span_start(r, sp, e->time_ns);
}

/* ---- votes ---- */

static void add_run(struct report *r, int64_t start) {
  if (grow((void **)&r->runs, &r->cap_runs, r->n_runs, sizeof *r->runs)) {
    r->oom = true;
    return;
  }
  r->runs[r->n_runs++] = (struct report_run){start, start};
}

/* The round before t (or the last) stands for len. */
static void close_round(struct report *r, int64_t len) {
  r->observed_ns += len;
  if (!r->last_vetted) r->not_vetted_ns += len;
  if (r->n_runs) r->runs[r->n_runs - 1].end_ns = r->last_vote_ns + len;
}

void report_add_vote(struct report *r, const struct hr_vote *v) {
  if (v->time_ns < r->from_ns || v->time_ns > r->to_ns) return;
  if (r->have_vote && v->time_ns < r->last_vote_ns) return; /* out of order: ignored */
  if (grow((void **)&r->round_ns, &r->cap_rounds, r->n_rounds, sizeof *r->round_ns)) {
    r->oom = true;
    return;
  }
  r->round_ns[r->n_rounds++] = v->time_ns;
  if (!r->have_vote) {
    add_run(r, v->time_ns);
  } else {
    int64_t dt = v->time_ns - r->last_vote_ns;
    close_round(r, dt <= REPORT_GAP_NS ? dt : REPORT_ROUND_NS);
    if (dt > REPORT_GAP_NS) add_run(r, v->time_ns);
  }
  r->rounds++;
  if (v->vetted) {
    r->vetted_rounds++;
    /* a NaN would break the sort's order: a vetted row always has both */
    if (isfinite(v->offset) && isfinite(v->error) &&
        (stats_vec_push(&r->v_offsets, v->offset) || stats_vec_push(&r->v_bounds, v->error)))
      r->oom = true;
    bucket_add(r, r->vetted_chart, v->time_ns, v->offset, v->error);
  }
  r->have_vote = true;
  r->last_vote_ns = v->time_ns;
  r->last_vetted = v->vetted;
}

void report_votes_done(struct report *r) {
  if (r->have_vote) {
    int64_t len = r->to_ns - r->last_vote_ns;
    close_round(r, len < REPORT_ROUND_NS ? len : REPORT_ROUND_NS);
  }
  stats_offsets(r->v_offsets.v, r->v_offsets.n, &r->vetted_offset);
  stats_bounds(r->v_bounds.v, r->v_bounds.n, &r->vetted_bound);
  stats_vec_free(&r->v_offsets);
  stats_vec_free(&r->v_bounds);
}

/* ---- sources and samples ---- */

struct report_source *report_add_source(struct report *r, const struct hr_source *s) {
  if (grow((void **)&r->sources, &r->cap_sources, r->n_sources, sizeof *r->sources)) {
    r->oom = true;
    return NULL;
  }
  struct report_source *x = &r->sources[r->n_sources++];
  memset(x, 0, sizeof *x);
  x->src = *s;
  x->availability = x->drift_ppm = NAN;
  bucket_clear(x->chart, REPORT_BUCKETS);
  return x;
}

/* The drift fit: samples join the current stretch REPORT_HELD samples
 * late, so that a step event, which the detector writes in the round
 * after the jumped sample or a few samples later once confirmed, can
 * still cut the stretch where the offset jumped. */
static void fold_stretch(struct report_source *s) {
  if (s->seg.n >= 2) {
    s->pooled_sxx += s->seg.sxx;
    s->pooled_sxy += s->seg.sxy;
  }
  memset(&s->seg, 0, sizeof s->seg);
}

static void fit_add(const struct report *r, struct report_source *s, const struct hr_sample *x) {
  stats_linfit_add(&s->seg, (double)(x->time_ns - r->from_ns) / 1e9, x->offset);
  s->have_added = true;
  s->last_added = x->offset;
}

/* Moves the k oldest held samples into the stretch. */
static void release(const struct report *r, struct report_source *s, int k) {
  for (int i = 0; i < k; i++) fit_add(r, s, &s->held[i]);
  memmove(s->held, s->held + k, (size_t)(s->n_held - k) * sizeof *s->held);
  s->n_held -= k;
}

/* A step event: every held sample is before it (see fit_sample); the
 * stretch ends before the held sample with the largest jump from its
 * predecessor. */
static void cut_at_step(const struct report *r, struct report_source *s) {
  int best = -1;
  double jump = -1;
  for (int i = 0; i < s->n_held; i++) {
    if (i == 0 && !s->have_added) continue;
    double prev = i ? s->held[i - 1].offset : s->last_added;
    double d = fabs(s->held[i].offset - prev);
    if (d > jump) {
      jump = d;
      best = i;
    }
  }
  if (best < 0) return; /* nothing before the step in the period */
  release(r, s, best);
  fold_stretch(s);
}

static void fit_sample(const struct report *r, struct report_source *s, const struct hr_sample *x) {
  /* the steps up to x: each found when the first sample after it comes */
  while (s->next_step < s->n_steps && s->step_ns[s->next_step] <= x->time_ns) {
    cut_at_step(r, s);
    s->next_step++;
  }
  if (s->n_held == REPORT_HELD) release(r, s, 1);
  s->held[s->n_held++] = *x;
}

/* Whether round rt had a fresh sample of s: see report.h. */
static void count_round(struct report_source *s, int64_t rt) {
  if (rt < s->src.first_seen_ns) return;
  s->rounds++;
  if (!s->have_last) return;
  int poll = s->last_poll < 0 ? 0 : s->last_poll > 17 ? 17 : s->last_poll;
  int64_t limit = 2 * ((int64_t)1000000000 << poll) + REPORT_ROUND_NS;
  if (rt - s->last_ns <= limit) s->fresh_rounds++;
}

void report_add_sample(struct report *r, struct report_source *s, const struct hr_sample *x) {
  if (!s) return;
  while (s->next_round < r->n_rounds && r->round_ns[s->next_round] < x->time_ns)
    count_round(s, r->round_ns[s->next_round++]);
  if (x->time_ns >= r->from_ns && x->time_ns <= r->to_ns && isfinite(x->offset) &&
      isfinite(x->error_bound)) { /* NOT NULL in the schema: always */
    s->samples++;
    if (stats_vec_push(&s->offsets, x->offset) || stats_vec_push(&s->bounds, x->error_bound))
      r->oom = true;
    fit_sample(r, s, x);
    bucket_add(r, s->chart, x->time_ns, x->offset, x->error_bound);
  }
  s->have_last = true;
  s->last_ns = x->time_ns;
  s->last_poll = x->poll;
}

void report_source_done(struct report *r, struct report_source *s) {
  if (!s) return;
  while (s->next_round < r->n_rounds) count_round(s, r->round_ns[s->next_round++]);
  s->availability = s->rounds ? (double)s->fresh_rounds / (double)s->rounds : NAN;
  stats_offsets(s->offsets.v, s->offsets.n, &s->offset);
  stats_bounds(s->bounds.v, s->bounds.n, &s->bound);
  while (s->next_step < s->n_steps) { /* steps after the last sample */
    cut_at_step(r, s);
    s->next_step++;
  }
  release(r, s, s->n_held);
  fold_stretch(s);
  s->drift_ppm = s->pooled_sxx > 0 ? s->pooled_sxy / s->pooled_sxx * 1e6 : NAN;
  stats_vec_free(&s->offsets);
  stats_vec_free(&s->bounds);
}

/* ---- events ---- */

static struct report_source *source_by_id(struct report *r, int64_t id) {
  for (size_t i = 0; i < r->n_sources; i++)
    if (r->sources[i].src.id == id) return &r->sources[i];
  return NULL;
}

static struct report_class *class_named(struct report *r, const char *name) {
  for (size_t i = 0; i < r->n_classes; i++)
    if (strcmp(r->classes[i].name, name) == 0) return &r->classes[i];
  if (grow((void **)&r->classes, &r->cap_classes, r->n_classes, sizeof *r->classes)) {
    r->oom = true;
    return NULL;
  }
  struct report_class *c = &r->classes[r->n_classes++];
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", name);
  c->availability = NAN;
  return c;
}

void report_add_event(struct report *r, const struct hr_event *e) {
  bool in_period = e->time_ns >= r->from_ns && e->time_ns <= r->to_ns;
  if (strcmp(e->kind, "falseticker") == 0) {
    struct report_source *s = source_by_id(r, e->source_id);
    if (s) span_event(r, &s->falseticker, e);
  } else if (strcmp(e->kind, "class-lost") == 0) {
    struct report_class *c = e->cls[0] ? class_named(r, e->cls) : NULL;
    if (c) span_event(r, &c->lost, e);
  } else if (strcmp(e->kind, "holdover") == 0) {
    span_event(r, &r->holdover, e);
  } else if (strcmp(e->kind, "refusing") == 0) {
    span_event(r, &r->refusing, e);
  } else if (in_period && !e->ended && strcmp(e->kind, "step") == 0) {
    struct report_source *s = source_by_id(r, e->source_id);
    if (!s) return;
    s->steps++;
    if (grow((void **)&s->step_ns, &s->cap_steps, s->n_steps, sizeof *s->step_ns)) r->oom = true;
    else s->step_ns[s->n_steps++] = e->time_ns;
  } else if (in_period && !e->ended && strcmp(e->kind, "drift") == 0) {
    struct report_source *s = source_by_id(r, e->source_id);
    if (s) s->drift_events++;
  }
}

/* ---- alarms ---- */

static int severity_index(const char *s) {
  if (strcmp(s, "critical") == 0) return 2;
  if (strcmp(s, "warning") == 0) return 1;
  return 0;
}

void report_add_alarm(struct report *r, const struct hr_alarm *a) {
  if (a->raised_ns > r->to_ns || (a->cleared_ns && a->cleared_ns < r->from_ns)) return;
  if (grow((void **)&r->alarms, &r->cap_alarms, r->n_alarms, sizeof *r->alarms)) {
    r->oom = true;
    return;
  }
  struct report_alarm *x = &r->alarms[r->n_alarms++];
  x->a = *a;
  x->raised_in_period = a->raised_ns >= r->from_ns;
  x->cleared_in_period = a->cleared_ns && a->cleared_ns <= r->to_ns;
  x->open_at_end = !x->cleared_in_period;
  r->alarms_raised += x->raised_in_period;
  r->alarms_cleared += x->cleared_in_period;
  r->alarms_open += x->open_at_end;
  int sev = severity_index(a->severity);
  r->by_severity[sev]++;
  if (sev == 2) r->critical = true;
}

/* ---- the end ---- */

static int cmp_class(const void *a, const void *b) {
  return strcmp(((const struct report_class *)a)->name, ((const struct report_class *)b)->name);
}

/* The time class c did not agree: lost, or all its sources falsetickers. */
static void class_disagree(struct report *r, struct report_class *c) {
  struct report_ivs all = {0}, u = {0};
  bool first = true;
  for (size_t i = 0; i < r->n_sources; i++) {
    const struct report_source *s = &r->sources[i];
    if (strcmp(s->src.cls, c->name) != 0) continue;
    if (first) {
      if (ivs_copy(&all, &s->falseticker.ivs)) r->oom = true;
      first = false;
    } else if (report_ivs_intersect(&all, &s->falseticker.ivs, &all)) {
      r->oom = true;
    }
  }
  if (report_ivs_union(&c->lost.ivs, &all, &u)) r->oom = true;
  c->disagree_ns = report_ivs_total(&u);
  report_ivs_free(&all);
  report_ivs_free(&u);
}

void report_finish(struct report *r) {
  for (size_t i = 0; i < r->n_sources; i++) {
    struct report_source *s = &r->sources[i];
    span_end(r, &s->falseticker, r->to_ns);
    /* LOCL (a free-running oscillator) is no reference and never votes */
    if (s->src.cls[0] && strcmp(s->src.cls, "LOCL") != 0) {
      struct report_class *c = class_named(r, s->src.cls);
      if (c) c->sources++;
    }
  }
  span_end(r, &r->holdover, r->to_ns);
  span_end(r, &r->refusing, r->to_ns);
  for (size_t i = 0; i < r->n_classes; i++) {
    struct report_class *c = &r->classes[i];
    span_end(r, &c->lost, r->to_ns);
    class_disagree(r, c);
    if (!r->sources_mode && r->observed_ns > 0)
      c->availability = 1.0 - (double)c->disagree_ns / (double)r->observed_ns;
  }
  if (r->n_classes > 1) qsort(r->classes, r->n_classes, sizeof *r->classes, cmp_class);
}

int report_exit_status(const struct report *r) {
  return r->critical ? REPORT_EXIT_CRITICAL : REPORT_EXIT_OK;
}

/* ---- the period ---- */

int report_parse_duration(const char *text, int64_t *ns) {
  static const struct {
    const char *unit;
    double s;
  } units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800}};
  if (!text || !(*text >= '0' && *text <= '9')) return -1;
  char *end;
  double v = strtod(text, &end);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(end, units[i].unit) == 0) {
      double s = v * units[i].s;
      /* more than a century is a typing error, not a report */
      if (!(s > 0) || s > 100 * 365.25 * 86400) return -1;
      *ns = (int64_t)llround(s * 1e9);
      return 0;
    }
  return -1;
}

int report_parse_period(const char *since, const char *from, const char *to, int64_t now_ns,
                        int64_t *from_ns, int64_t *to_ns, char *err, size_t errlen) {
  double now = (double)now_ns / 1e9, f, t;
  if (since && (from || to)) {
    snprintf(err, errlen, "give either --since or --from/--to, not both");
    return -1;
  }
  if (to && !from) {
    snprintf(err, errlen, "--to needs --from");
    return -1;
  }
  if (!from) {
    int64_t d = 24 * 3600 * (int64_t)1000000000;
    if (since && report_parse_duration(since, &d)) {
      snprintf(err, errlen, "bad --since \"%s\": a length of time such as 24h, 90m, 7d, 2w", since);
      return -1;
    }
    *from_ns = now_ns - d;
    *to_ns = now_ns;
    return 0;
  }
  if (replay_parse_time(from, now, &f)) {
    snprintf(err, errlen, "bad --from \"%s\": Unix seconds, 2026-11-29T06:00:00Z, -2h or now", from);
    return -1;
  }
  t = now;
  if (to && replay_parse_time(to, now, &t)) {
    snprintf(err, errlen, "bad --to \"%s\": Unix seconds, 2026-11-29T06:00:00Z, -2h or now", to);
    return -1;
  }
  if (!(f < t)) {
    snprintf(err, errlen, "the period is empty: --from %s is not before --to %s", from,
             to ? to : "now");
    return -1;
  }
  *from_ns = (int64_t)llround(f * 1e9);
  *to_ns = (int64_t)llround(t * 1e9);
  return 0;
}
