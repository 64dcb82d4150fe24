/* One round of analysis (see analysis.h). */
#include "monitor/analysis.h"

#include "monitor/srcfilter.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct src_track {
  struct source_detector det;
  struct srcfilter filt;      /* the source's sample statistics: the vote's input */
  const char *hold;           /* a detector condition held last round (step,
                                 slow-walk, drift): kept out of the estimate */
  bool have_prev;             /* prev_stratum/prev_refid are set */
  int prev_stratum;
  uint32_t prev_refid;
  bool ever_reachable;
  uint64_t prev_kod, prev_auth, prev_degraded, prev_jumps;
};

struct analysis {
  int n;
  struct analysis_config cfg;
  struct src_track *src;
  struct alarm_table *alarms;
  struct local_clock_detector local;
  bool started, ever_vetted;
  bool vote_lost;             /* the vote was vetted once and then lost ... */
  int revet_streak;           /* ... and has been vetted again this many rounds */
  bool have_witness;          /* the last vetted round, for the witness: */
  double witness_t, witness_offset, witness_error;
  bool witness_fired;         /* this round: the clock model distrusts the jump */
  double start;
  unsigned classes_seen;      /* classes that agreed in some round */
  struct vote_input *vin;
  double *scratch;            /* n doubles, for the median */
  int ev_cap, cond_cap, tr_cap;
  struct vt_condition *prev_conds;
  double *prev_evidence;      /* per prev_conds: evidence_time() when last held */
  int n_prev;
  struct clockmodel clock;
  struct analysis_result res;
};

void analysis_config_default(struct analysis_config *c) {
  vote_policy_default(&c->vote);
  detect_config_default(&c->detect);
  alarm_policy_default(&c->alarm);
  clockmodel_config_default(&c->clock);
  c->warmup = 30;
}

static int64_t to_ns(double t) { return (int64_t)llround(t * 1e9); }

/* ---- construction ---- */

static bool allocate(struct analysis *a, int n) {
  a->ev_cap = 16 * n + 64;
  a->cond_cap = 16 * n + 64;
  a->tr_cap = 2 * a->cond_cap;
  a->src = calloc((size_t)n + 1, sizeof *a->src);
  a->vin = calloc((size_t)n + 1, sizeof *a->vin);
  a->scratch = calloc((size_t)n + 1, sizeof *a->scratch);
  a->res.per_source = calloc((size_t)n + 1, sizeof *a->res.per_source);
  a->res.events = calloc((size_t)a->ev_cap, sizeof *a->res.events);
  a->res.conds = calloc((size_t)a->cond_cap, sizeof *a->res.conds);
  a->prev_conds = calloc((size_t)a->cond_cap, sizeof *a->prev_conds);
  a->prev_evidence = calloc((size_t)a->cond_cap, sizeof *a->prev_evidence);
  a->res.transitions = calloc((size_t)a->tr_cap, sizeof *a->res.transitions);
  return a->src && a->vin && a->scratch && a->res.per_source && a->res.events && a->res.conds &&
         a->prev_conds && a->prev_evidence && a->res.transitions;
}

struct analysis *analysis_new(int n, const struct analysis_config *cfg,
                              uint64_t first_alarm_id) {
  struct analysis *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->n = n;
  a->cfg = *cfg;
  if (!allocate(a, n) || !(a->alarms = alarms_new(&cfg->alarm, first_alarm_id))) {
    analysis_free(a);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    detector_init(&a->src[i].det);
    srcfilter_init(&a->src[i].filt);
  }
  local_clock_init(&a->local);
  clockmodel_init(&a->clock, &cfg->clock);
  a->res.local_freq_ppm = NAN;
  return a;
}

void analysis_free(struct analysis *a) {
  if (!a) return;
  alarms_free(a->alarms);
  free(a->src);
  free(a->vin);
  free(a->scratch);
  free(a->res.per_source);
  free(a->res.events);
  free(a->res.conds);
  free(a->prev_conds);
  free(a->prev_evidence);
  free(a->res.transitions);
  free(a);
}

/* ---- events and conditions ---- */

__attribute__((format(printf, 8, 9)))
static void add_event(struct analysis *a, enum event_kind kind, int source,
                      enum ref_class cls, double now, double value, double threshold,
                      const char *fmt, ...) {
  if (a->res.n_events == a->ev_cap) return;
  struct vt_event *e = &a->res.events[a->res.n_events++];
  *e = (struct vt_event){kind, source, cls, to_ns(now), value, threshold, "", false};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->text, sizeof e->text, fmt, ap);
  va_end(ap);
}

__attribute__((format(printf, 7, 8)))
static void add_cond(struct analysis *a, enum event_kind kind, int source,
                     enum ref_class cls, double value, double threshold,
                     const char *fmt, ...) {
  if (a->res.n_conds == a->cond_cap) return;
  struct vt_condition *c = &a->res.conds[a->res.n_conds++];
  *c = (struct vt_condition){kind, source, cls, value, threshold, ""};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->text, sizeof c->text, fmt, ap);
  va_end(ap);
}

/* A pulse is an event and, for this round only, a condition (so that it can
 * raise an alarm). */
static void add_pulse(struct analysis *a, enum event_kind kind, int source,
                      enum ref_class cls, double now, double value, double threshold,
                      const char *text) {
  add_event(a, kind, source, cls, now, value, threshold, "%s", text);
  add_cond(a, kind, source, cls, value, threshold, "%s", text);
}

static bool same_subject(const struct vt_condition *x, const struct vt_condition *y) {
  return x->kind == y->kind && x->source == y->source && x->ref_class == y->ref_class;
}

static bool cond_in(const struct vt_condition *c, const struct vt_condition *set, int n) {
  for (int i = 0; i < n; i++)
    if (same_subject(c, &set[i])) return true;
  return false;
}

/* ---- stage 1: the vote's inputs, the vote, its hysteresis ---- */

/* Each source's vote input: its sample statistics (srcfilter.h) instead of
 * the newest raw sample, whether its refid says it runs on its own
 * oscillator, and the detector condition held on it in the last round. */
static void vote_inputs(struct analysis *a, double now, const struct analysis_source *src) {
  for (int i = 0; i < a->n; i++) {
    struct src_track *t = &a->src[i];
    struct vote_input *v = &a->vin[i];
    struct srcfilter_estimate e;
    if (src[i].new_sample)
      srcfilter_add(&t->filt, src[i].sample_time, src[i].sample_offset, src[i].sample_error);
    *v = src[i].vote;
    v->was_outlier = a->res.per_source[i].state == SS_OUTLIER; /* last round's */
    if (v->have_sample && srcfilter_get(&t->filt, now, &e)) {
      v->offset = e.offset;
      v->error = e.error;
      v->sd = e.sd;
    }
    v->local_osc = src[i].stratum >= 0 &&
                   ref_class_from_refid(src[i].stratum, src[i].refid) == CLASS_LOCL;
    v->hold = t->hold;
  }
}

/* Rounds a vote that was lost must be vetted in a row before the verdict
 * says vetted again: a vote that comes and goes is not a time to serve. */
#define REVET_ROUNDS 3

/* Whether every source that agrees in this round's vote was named a
 * falseticker in the last round (the name outlives a lost vote: see
 * detect_falsetickers). When the honest sources fall silent, the liar
 * they outvoted is the last one with a fresh sample, and one class
 * (minclasses 1) would vet its time alone: a stepped DCF77 at +0.5 s did,
 * three rounds after the others aged out. */
static bool only_named_falsetickers_agree(const struct analysis *a) {
  int agreeing = 0;
  for (int i = 0; i < a->n; i++) {
    enum source_state st = a->res.per_source[i].state;
    if (st != SS_COMBINED && st != SS_BEST && st != SS_OUTLIER && st != SS_HELD) continue;
    struct vt_condition c = {.kind = EV_FALSETICKER, .source = i, .ref_class = a->vin[i].ref_class};
    if (!cond_in(&c, a->prev_conds, a->n_prev)) return false;
    agreeing++;
  }
  return agreeing > 0;
}

static void vote_hysteresis(struct analysis *a) {
  struct vote_verdict *v = &a->res.verdict;
  if (v->vetted && only_named_falsetickers_agree(a)) {
    v->vetted = false;
    v->stratum = 16;
    snprintf(v->why_not, sizeof v->why_not,
             "only sources named falsetickers agree (%d of %d): the others are silent",
             v->agreeing, v->candidates);
  }
  if (!v->vetted) {
    a->vote_lost = a->ever_vetted;
    a->revet_streak = 0;
    return;
  }
  if (!a->vote_lost || ++a->revet_streak >= REVET_ROUNDS) {
    a->vote_lost = false;
    return;
  }
  v->vetted = false;
  v->stratum = 16;
  snprintf(v->why_not, sizeof v->why_not,
           "agreeing again for %d of the %d rounds needed after the vote was lost",
           a->revet_streak, REVET_ROUNDS);
}

/* The detector conditions of this round keep their source out of the next
 * round's estimate (it still votes); it re-enters once its detectors are
 * quiet. */
static void record_holds(struct analysis *a) {
  for (int i = 0; i < a->n; i++) a->src[i].hold = NULL;
  for (int k = 0; k < a->res.n_conds; k++) {
    const struct vt_condition *c = &a->res.conds[k];
    if (c->source < 0 || c->source >= a->n) continue;
    if (c->kind == EV_STEP || c->kind == EV_SLOW_WALK || c->kind == EV_DRIFT)
      a->src[c->source].hold = event_kind_name(c->kind);
  }
}

/* ---- stage 2: the sample detectors ---- */

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* The detectors' reference: the median of the agreeing sources' estimates
 * (outliers and held sources included: they are in the selection), or with
 * fewer than three of them the vetted offset (robust too: a falseticker has
 * no weight in it). Not the vetted offset always: it leans on the most
 * precise sources, and a source compared with itself hides its own step.
 * Without a vetted time there is no reference, and the detectors watch
 * each source's own series (false is returned). */
static bool detector_reference(struct analysis *a, double *ref) {
  double *x = a->scratch;
  int n = 0;
  for (int i = 0; i < a->n; i++) {
    enum source_state st = a->res.per_source[i].state;
    if (st == SS_COMBINED || st == SS_BEST || st == SS_OUTLIER || st == SS_HELD)
      x[n++] = a->vin[i].offset;
  }
  if (!a->res.verdict.vetted) return false;
  if (n < 3) {
    *ref = a->res.verdict.offset;
    return true;
  }
  qsort(x, (size_t)n, sizeof *x, cmp_double);
  *ref = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
  return true;
}

static void run_detectors(struct analysis *a, const struct analysis_source *src) {
  double ref = 0;
  bool have_ref = detector_reference(a, &ref);
  for (int i = 0; i < a->n; i++) {
    struct source_detector *d = &a->src[i].det;
    if (src[i].new_sample) {
      int room = a->ev_cap - a->res.n_events;
      struct vt_event *out = &a->res.events[a->res.n_events];
      /* The detector's prior jitter: the sample statistics' (srcfilter.h),
       * which know a noisy DCF77 source long before the detector has
       * learned its own. */
      struct srcfilter_estimate e;
      double prior = src[i].sample_error;
      if (srcfilter_get(&a->src[i].filt, src[i].sample_time, &e)) prior = fmax(prior, e.jitter);
      int k = detector_sample(d, &a->cfg.detect, src[i].sample_time, src[i].sample_offset,
                              prior, have_ref, ref, out, room);
      for (int j = 0; j < k; j++) {
        out[j].source = i;
        out[j].ref_class = src[i].vote.ref_class;
      }
      a->res.n_events += k;
    }
    int room = a->cond_cap - a->res.n_conds;
    struct vt_condition *c = &a->res.conds[a->res.n_conds];
    int k = detector_conditions(d, c, room);
    for (int j = 0; j < k; j++) {
      c[j].source = i;
      c[j].ref_class = src[i].vote.ref_class;
    }
    a->res.n_conds += k;
  }
}

static void run_local_clock(struct analysis *a, double now, double local_step) {
  const struct vote_verdict *v = &a->res.verdict;
  if (local_step != 0) {
    char text[200];
    snprintf(text, sizeof text, "the local clock was stepped by %+.6f s", local_step);
    add_pulse(a, EV_LOCAL_STEP, SUBJECT_SYSTEM, CLASS_UNKNOWN, now, local_step, 0, text);
    local_clock_init(&a->local); /* its frequency history is void now */
  }
  if (!v->vetted) return;
  int room = a->ev_cap - a->res.n_events;
  struct vt_event *out = &a->res.events[a->res.n_events];
  int k = local_clock_sample(&a->local, &a->cfg.detect, now, v->offset, out, room);
  for (int j = 0; j < k; j++) {
    out[j].source = SUBJECT_SYSTEM;
    out[j].ref_class = CLASS_UNKNOWN;
  }
  a->res.n_events += k;
  a->res.local_freq_ppm = local_clock_freq_ppm(&a->local);
}

/* ---- the local clock as a witness ---- */

/* How far the local clock's frequency may be off when it is measured
 * (local_freq_ppm) and when it is not yet: the witness allows this much
 * drift between two vetted rounds. */
#define WITNESS_FREQ_KNOWN 1e-6
#define WITNESS_FREQ_UNKNOWN 100e-6

/* The classes agreeing now whose own offset is away from where the vetted
 * time was expected: the ones that moved. */
static void moved_classes(const struct vote_verdict *v, double expected, double limit,
                          char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int c = 0; c < CLASS_COUNT; c++) {
    if (!(v->class_mask & (1u << c)) || fabs(v->class_offset[c] - expected) <= limit) continue;
    int k = snprintf(buf + used, len - used, " %s", ref_class_name((enum ref_class)c));
    if (k < 0 || (size_t)k >= len - used) break;
    used += (size_t)k;
  }
}

/* The vetted time should move against the local clock only as fast as the
 * local clock's frequency error. A jump beyond both rounds' bounds means
 * the sources that make the majority moved together (a coordinated spoof,
 * a constellation-wide fault): the vote cannot see it, the local clock
 * can. One critical pulse naming the classes that moved. local_step: an
 * operator's step of the local clock, which moves every offset by -step. */
static void detect_witness(struct analysis *a, double now, double local_step) {
  const struct vote_verdict *v = &a->res.verdict;
  if (!v->vetted) return;
  if (a->have_witness) {
    double dt = now - a->witness_t, ppm = a->res.local_freq_ppm;
    bool known = isfinite(ppm);
    double expected = a->witness_offset - local_step + (known ? ppm * 1e-6 * dt : 0);
    double limit = v->error + a->witness_error +
                   (known ? WITNESS_FREQ_KNOWN : WITNESS_FREQ_UNKNOWN) * fabs(dt);
    double jump = v->offset - expected;
    if (fabs(jump) > limit) {
      char moved[96], text[200];
      moved_classes(v, expected, limit, moved, sizeof moved);
      snprintf(text, sizeof text,
               "vetted time jumped %+.6f s against the local clock (limit %.6f s); "
               "classes moved:%s", jump, limit, moved[0] ? moved : " none named");
      add_pulse(a, EV_WITNESS, SUBJECT_SYSTEM, CLASS_UNKNOWN, now, jump, limit, text);
      a->witness_fired = true;
    }
  }
  a->have_witness = true;
  a->witness_t = now;
  a->witness_offset = v->offset;
  a->witness_error = v->error;
}

/* ---- stage 3: the round detectors ---- */

/* A jump of fewer than this many predicted deviations may be one noisy
 * sample (a 500 us DCF77 source gives a 4-sigma sample every half hour or
 * so): the source is out of the estimate at once, but named a falseticker,
 * or its class lost, only when the next sample confirms the jump. A larger
 * jump (a 1 ms step on a 20 us source is 50 deviations, a 0.5 s flap
 * thousands) is no noise and is named in its first round. */
#define CONFIRM_K 10.0

static bool unconfirmed_jump(const struct analysis *a, int i) {
  return a->src[i].filt.last_jumped && a->src[i].filt.last_jump_k < CONFIRM_K;
}

/* Whether the condition was held in the last round: the confirmation rule
 * delays naming a new one, never ends one already named (a walking liar's
 * samples jump a little against its own run at every poll). */
static bool held_last_round(const struct analysis *a, enum event_kind kind, int source,
                            enum ref_class cls) {
  struct vt_condition c = {.kind = kind, .source = source, .ref_class = cls};
  return cond_in(&c, a->prev_conds, a->n_prev);
}

static void detect_falsetickers(struct analysis *a, const struct analysis_source *src) {
  const struct vote_verdict *v = &a->res.verdict;
  if (!v->vetted) {
    /* Without a vetted time nobody is newly "the" liar, but a source named
     * one stays named until a vetted vote finds it agreeing: it cannot
     * clear itself, nor vet alone (only_named_falsetickers_agree). */
    for (int k = 0; k < a->n_prev; k++) {
      const struct vt_condition *c = &a->prev_conds[k];
      if (c->kind == EV_FALSETICKER && c->source >= 0 && c->source < a->n)
        add_cond(a, c->kind, c->source, c->ref_class, c->value, c->threshold, "%s", c->text);
    }
    return;
  }
  for (int i = 0; i < a->n; i++) {
    enum source_state st = a->res.per_source[i].state;
    if (st != SS_FALSETICKER && st != SS_CLASS_OUTVOTED) continue;
    if (unconfirmed_jump(a, i) && !held_last_round(a, EV_FALSETICKER, i, src[i].vote.ref_class))
      continue;
    double off = src[i].vote.offset - v->offset;
    add_cond(a, EV_FALSETICKER, i, src[i].vote.ref_class, off, src[i].vote.error + v->error,
             "%s: %s", source_state_name(st), a->res.per_source[i].why);
  }
}

static void detect_quorum(struct analysis *a, double now, int n_configured) {
  const struct vote_verdict *v = &a->res.verdict;
  if (v->vetted) {
    a->ever_vetted = true;
    return;
  }
  if (n_configured == 0 || (!a->ever_vetted && now - a->start < a->cfg.warmup)) return;
  add_cond(a, EV_QUORUM_LOST, SUBJECT_SYSTEM, CLASS_UNKNOWN, v->agreeing,
           a->cfg.vote.minsources, "the time is not vetted: %s", v->why_not);
}

static void class_members(const struct analysis *a, const struct analysis_source *src,
                          enum ref_class c, char *buf, size_t len) {
  int n = 0, reachable = 0;
  for (int i = 0; i < a->n; i++) {
    if (src[i].vote.ref_class != c) continue;
    n++;
    if (src[i].reach) reachable++;
  }
  snprintf(buf, len, "%d source%s, %d reachable", n, n == 1 ? "" : "s", reachable);
}

static bool class_has_unconfirmed_jump(const struct analysis *a,
                                       const struct analysis_source *src, enum ref_class c) {
  for (int i = 0; i < a->n; i++)
    if (src[i].vote.ref_class == c && unconfirmed_jump(a, i)) return true;
  return false;
}

static void detect_classes(struct analysis *a, const struct analysis_source *src) {
  const struct vote_verdict *v = &a->res.verdict;
  if (a->cfg.vote.mode != VOTE_MODE_CLASSES) return;
  a->classes_seen |= v->class_mask;
  for (int c = 1; c < CLASS_COUNT; c++) {
    unsigned bit = 1u << c;
    if (!(a->classes_seen & bit) || (v->class_mask & bit)) continue;
    if (class_has_unconfirmed_jump(a, src, (enum ref_class)c) &&
        !held_last_round(a, EV_CLASS_LOST, SUBJECT_SYSTEM, (enum ref_class)c))
      continue;
    char members[80];
    class_members(a, src, (enum ref_class)c, members, sizeof members);
    add_cond(a, EV_CLASS_LOST, SUBJECT_SYSTEM, (enum ref_class)c, 0, 1,
             "class %s has no agreeing source (%s)", ref_class_name((enum ref_class)c), members);
  }
}

static void detect_reach(struct analysis *a, double now, const struct analysis_source *src) {
  for (int i = 0; i < a->n; i++) {
    struct src_track *s = &a->src[i];
    if (src[i].reach) {
      s->ever_reachable = true;
      continue;
    }
    if (!s->ever_reachable && now - a->start < a->cfg.warmup) continue;
    add_cond(a, EV_UNREACHABLE, i, src[i].vote.ref_class, 0, 0,
             s->ever_reachable ? "no answer to the last 8 polls" : "never answered");
  }
}

static void detect_identity(struct analysis *a, double now, int i, const struct analysis_source *s) {
  struct src_track *st = &a->src[i];
  if (s->stratum < 0) return;
  char text[200], was[16], is[16];
  if (st->have_prev && s->stratum != st->prev_stratum) {
    snprintf(text, sizeof text, "stratum changed from %d to %d", st->prev_stratum, s->stratum);
    add_pulse(a, EV_STRATUM_CHANGE, i, s->vote.ref_class, now, s->stratum, st->prev_stratum, text);
  }
  if (st->have_prev && s->refid != st->prev_refid) {
    snprintf(text, sizeof text, "refid changed from %s to %s",
             refid_format(st->prev_stratum, st->prev_refid, was),
             refid_format(s->stratum, s->refid, is));
    add_pulse(a, EV_REFID_CHANGE, i, s->vote.ref_class, now, s->refid, st->prev_refid, text);
  }
  st->have_prev = true;
  st->prev_stratum = s->stratum;
  st->prev_refid = s->refid;
}

static void detect_counters(struct analysis *a, double now, int i, const struct analysis_source *s) {
  struct src_track *st = &a->src[i];
  char text[200];
  if (s->kod > st->prev_kod || s->kiss[0]) /* a condition: events on its edges */
    add_cond(a, EV_KOD, i, s->vote.ref_class, (double)s->kod, 0,
             "kiss-o'-death%s%s, %llu since start", s->kiss[0] ? ": state " : "", s->kiss,
             (unsigned long long)s->kod);
  if (s->auth_fail > st->prev_auth || s->auth_failing) /* a condition, as the KoD */
    add_cond(a, EV_AUTH_FAIL, i, s->vote.ref_class, (double)s->auth_fail, 0,
             "responses fail authentication, %llu since start",
             (unsigned long long)s->auth_fail);
  if (s->degraded > st->prev_degraded) {
    snprintf(text, sizeof text, "receiver health dropped: %s", s->detail ? s->detail : "");
    add_pulse(a, EV_DEGRADED, i, s->vote.ref_class, now, (double)(s->degraded - st->prev_degraded), 0, text);
  }
  if (s->jumps > st->prev_jumps) {
    snprintf(text, sizeof text,
             "the receiver's own time jumped by %+.3f s against its previous minutes; "
             "untrusted until consistent again", s->last_jump);
    add_pulse(a, EV_STEP, i, s->vote.ref_class, now, s->last_jump, 0, text);
  }
  st->prev_jumps = s->jumps;
  st->prev_kod = s->kod;
  st->prev_auth = s->auth_fail;
  st->prev_degraded = s->degraded;
}

static void detect_leap(struct analysis *a) {
  const struct vote_verdict *v = &a->res.verdict;
  if (v->vetted && v->leap_disagree)
    add_cond(a, EV_LEAP_DISAGREE, SUBJECT_SYSTEM, CLASS_UNKNOWN, v->leap, 0,
             "the agreeing sources disagree about the leap indicator (majority %d)", v->leap);
}

/* ---- condition edges ---- */

/* Kinds whose start event the sample detectors write themselves. */
static bool detector_kind(enum event_kind k) {
  return k == EV_STEP || k == EV_DRIFT || k == EV_SLOW_WALK || k == EV_DATE_FAR;
}

/* The time of the newest sample a condition rests on, for the conditions
 * whose end must be confirmed by one (NAN for the others): a falseticker
 * (its source's sample) and a lost class (its sources' newest). Between
 * two samples a source's error bound only grows with age (srcfilter.h), so
 * a liar walking away can touch the vetted interval again for the seconds
 * before its next sample and leave it with that sample: without this the
 * events said "falseticker", "ended", "falseticker" at every poll while it
 * crossed (the demo's walk, 3 times in 12 s). The alarms have their own
 * hysteresis (alarmclear) and are not affected. A source silent for
 * longer than the longest poll interval (2^10 s by default) confirms
 * nothing more: its condition's end is written then. */
#define EVIDENCE_WAIT_MAX 1100.0
static double evidence_time(const struct analysis *a, const struct analysis_source *src,
                            const struct vt_condition *c) {
  if (c->kind == EV_FALSETICKER && c->source >= 0 && c->source < a->n)
    return a->src[c->source].filt.n ? a->src[c->source].filt.last_t : NAN;
  if (c->kind == EV_CLASS_LOST) {
    double t = NAN;
    for (int i = 0; i < a->n; i++)
      if (src[i].vote.ref_class == c->ref_class && a->src[i].filt.n &&
          !(a->src[i].filt.last_t <= t))
        t = a->src[i].filt.last_t;
    return t;
  }
  return NAN;
}

static void condition_edges(struct analysis *a, double now, const struct analysis_source *src) {
  for (int i = 0; i < a->res.n_conds; i++) {
    const struct vt_condition *c = &a->res.conds[i];
    if (event_kind_is_pulse(c->kind) || detector_kind(c->kind)) continue;
    if (!cond_in(c, a->prev_conds, a->n_prev))
      add_event(a, c->kind, c->source, c->ref_class, now, c->value, c->threshold, "%s", c->text);
  }
  /* The next round's prev_conds: this round's conditions, then the ones
   * gone without a newer sample to confirm it (carried, no event yet). */
  int n_next = a->res.n_conds, n_carried = 0;
  struct vt_condition carried[16];
  double carried_evidence[16];
  for (int i = 0; i < a->n_prev; i++) {
    const struct vt_condition *c = &a->prev_conds[i];
    if (event_kind_is_pulse(c->kind) || cond_in(c, a->res.conds, a->res.n_conds)) continue;
    double e = evidence_time(a, src, c);
    if (isfinite(e) && e == a->prev_evidence[i] && now - e < EVIDENCE_WAIT_MAX && n_carried < 16 &&
        n_next + n_carried < a->cond_cap) {
      carried[n_carried] = *c;
      carried_evidence[n_carried++] = e;
      continue;
    }
    add_event(a, c->kind, c->source, c->ref_class, now, c->value, c->threshold,
              "%s ended", event_kind_name(c->kind));
    a->res.events[a->res.n_events - 1].ended = true;
  }
  memcpy(a->prev_conds, a->res.conds, (size_t)n_next * sizeof *a->prev_conds);
  for (int i = 0; i < n_next; i++) a->prev_evidence[i] = evidence_time(a, src, &a->prev_conds[i]);
  for (int k = 0; k < n_carried; k++) {
    a->prev_conds[n_next + k] = carried[k];
    a->prev_evidence[n_next + k] = carried_evidence[k];
  }
  a->n_prev = n_next + n_carried;
}

/* The clock model the NTP server serves (clockmodel.h), and its state as
 * conditions: holdover a warning, refusing critical (only once the time
 * was vetted: before that, quorum-lost says what is wrong). */
static void run_clock_model(struct analysis *a, double now, double local_step,
                            const struct analysis_source *src) {
  const struct vote_verdict *v = &a->res.verdict;
  struct clockmodel_round r = {.now = now, .vetted = v->vetted, .offset = v->offset,
                               .error = v->error, .stratum = v->stratum, .leap = v->leap,
                               .local_step = local_step, .witness = a->witness_fired};
  if (v->best >= 0)
    r.refid = clockmodel_refid(ref_class_name(v->ref_class), src[v->best].peer_ipv4);
  struct clockmodel_out *o = &a->res.clock;
  clockmodel_update(&a->clock, &r, o);
  if (o->state == CLOCK_HOLDOVER)
    add_cond(a, EV_HOLDOVER, SUBJECT_SYSTEM, CLASS_UNKNOWN, now - o->holdover_since,
             a->cfg.clock.holdover,
             "the vote is lost: serving from the clock model, bound %.0f us and growing %.2f ppm",
             (o->error + o->error_rate * (now - o->t0)) * 1e6, o->error_rate * 1e6);
  else if (o->state == CLOCK_REFUSING && a->clock.last_vetted > 0)
    add_cond(a, EV_REFUSING, SUBJECT_SYSTEM, CLASS_UNKNOWN, now - o->holdover_since,
             a->cfg.clock.holdover,
             "holdover of %.0f s ran out: the server answers LI=3 (alarm), stratum 16",
             a->cfg.clock.holdover);
}

/* ---- reports ---- */

void analysis_source_stats(const struct analysis *a, int i, double now,
                           struct analysis_source_stats *out) {
  struct srcfilter_estimate e;
  struct detector_report d;
  *out = (struct analysis_source_stats){0, NAN, NAN, NAN, NAN};
  if (i < 0 || i >= a->n) return;
  if (srcfilter_get(&a->src[i].filt, fmax(now, a->src[i].filt.last_t), &e)) {
    out->samples = e.n;
    out->offset = e.offset;
    out->sd = e.sd;
    out->jitter = e.jitter;
  }
  detector_report(&a->src[i].det, &d);
  if (d.slope_ok) out->freq_ppm = d.slope_ppm;
}

/* ---- the round ---- */

const struct analysis_result *analysis_round(struct analysis *a, double now,
                                             double local_step,
                                             const struct analysis_source *src) {
  if (!a->started) {
    a->started = true;
    a->start = now;
  }
  a->res.n_events = a->res.n_conds = a->res.n_transitions = 0;
  a->witness_fired = false;
  vote_inputs(a, now, src);
  vote_round(&a->cfg.vote, a->vin, a->n, a->res.per_source, &a->res.verdict);
  vote_hysteresis(a);

  run_detectors(a, src);
  detect_witness(a, now, local_step);
  run_local_clock(a, now, local_step);
  detect_falsetickers(a, src);
  detect_quorum(a, now, a->n);
  detect_classes(a, src);
  detect_reach(a, now, src);
  for (int i = 0; i < a->n; i++) {
    detect_identity(a, now, i, &src[i]);
    detect_counters(a, now, i, &src[i]);
  }
  detect_leap(a);
  run_clock_model(a, now, local_step, src);
  condition_edges(a, now, src);
  record_holds(a);

  a->res.n_transitions = alarms_update(a->alarms, to_ns(now), a->res.conds, a->res.n_conds,
                                       a->res.transitions, a->tr_cap);
  return &a->res;
}

int analysis_restore_alarm(struct analysis *a, const struct alarm *alarm, double now) {
  return alarms_restore(a->alarms, alarm, to_ns(now));
}

const struct clockmodel *analysis_clock(const struct analysis *a) { return &a->clock; }

void analysis_restore_clock(struct analysis *a, const struct clockmodel *m) {
  struct clockmodel_config cfg = a->clock.cfg;
  a->clock = *m;
  a->clock.cfg = cfg;
}

int analysis_active_alarms(const struct analysis *a, struct alarm *out, int max) {
  return alarms_active(a->alarms, out, max);
}
