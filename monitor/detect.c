/* Per-source sample detectors (step, drift, slow walk, date far) and the
 * local clock's frequency detector; the contract is in detect.h.
 *
 * Methods, all robust so that one spike cannot raise an alarm:
 * - jitter: the median absolute deviation (MAD) of successive differences
 *   of r, scaled to a Gaussian sigma (a difference has sigma * sqrt 2);
 *   differences, not values, so a trend or a drift does not inflate it;
 * - prediction and slope: Theil-Sen (the median of pairwise slopes), with a
 *   median intercept; a least-squares standard error scaled by Theil-Sen's
 *   Gaussian efficiency (~0.91) gives the slope's significance;
 * - slow walk: Page's two-sided CUSUM (Page 1954) of the standardised
 *   residual, each term clipped (a Huber-type CUSUM) so that one 5-sigma
 *   spike cannot carry it over the threshold alone.
 *
 * Pure code: no I/O, no clock reads, no globals, no allocation. Scratch
 * arrays live on the stack with fixed sizes (at most ~13 KiB). */
#include "monitor/detect.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define F_VETTED 1u  /* res is meaningful */
#define F_PENDING 2u /* a step candidate awaiting its confirmation */
#define F_OUTLIER 4u /* a candidate the next sample did not confirm */

#define JITTER_DIFFS (DETECT_WINDOW - 1) /* differences behind the jitter:
                                         * all the ring holds, as the MAD
                                         * is noisy (64 differences scatter
                                         * it by +-20%) */
#define JITTER_MIN_N 8   /* differences before the jitter counts */
#define MAD_SIGMA 1.4826 /* MAD -> Gaussian sigma */
#define RMS_CUT 3.0      /* robust RMS: values within 3 MAD-sigmas ... */
#define RMS_TRUNC 0.97334 /* ... whose variance is 0.97334 sigma^2 */
#define PRED_N 16        /* baseline points behind a step prediction */
#define SLOPE_MIN_N 6    /* fewer points: predict a level, no slope */
#define TS_MAX 48        /* Theil-Sen subsample: 1128 pairs */
#define TS_PAIRS (TS_MAX * (TS_MAX - 1) / 2)
#define TS_VAR 1.1       /* Theil-Sen slope variance / least squares' */
#define DRIFT_MIN_N 12   /* points in the window before a drift slope */
#define DRIFT_JITTER_N 32 /* differences behind the jitter before a drift
                           * is judged: from fewer, the jitter scatters by
                           * 15 % and a t of 5 is really a t of 4 */
#define WALK_CLIP 3.0    /* a CUSUM term is clipped to +-3 jitters: two
                          * 5-sigma spikes then add 4.5 at most, not 6.5 */
#define WALK_START 48    /* learned samples before the CUSUM runs */
#define WALK_BASE_SE 2.0 /* baseline standard errors added to the slack */
#define CLEAR_FRAC 0.75  /* hysteresis: a condition clears below this
                          * fraction of its threshold, so a figure hovering
                          * at the limit does not emit an event per poll */

_Static_assert(LOCAL_WINDOW <= DETECT_WINDOW, "a series holds either ring");

/* ---- small numeric helpers ---------------------------------------------- */

/* The k-th smallest of a[0..n) (Hoare's selection); reorders a so that
 * a[0..k) <= a[k]. */
static double select_kth(double *a, int n, int k) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    double pivot = a[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        double tmp = a[i];
        a[i++] = a[j];
        a[j--] = tmp;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/* The median of a[0..n), n >= 1; reorders a. */
static double median(double *a, int n) {
  int k = n / 2;
  double hi = select_kth(a, n, k);
  if (n % 2) return hi;
  double lo = a[0];
  for (int i = 1; i < k; i++)
    if (a[i] > lo) lo = a[i];
  return (lo + hi) / 2;
}

/* Theil-Sen slope of the points (t, v), 2 <= n <= TS_MAX: the median of the
 * slopes of all pairs with distinct times. */
static double theil_sen(const double *t, const double *v, int n) {
  double s[TS_PAIRS];
  int m = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (t[j] != t[i]) s[m++] = (v[j] - v[i]) / (t[j] - t[i]);
  return m ? median(s, m) : 0;
}

/* A line v = level + slope * (t - t0) through a series. */
struct line {
  double t0, level, slope;
  double tbar, sxx; /* mean time and sum of squared deviations */
  int n;
  bool sloped;      /* slope fitted (else a level only) */
};

/* Fits a line to n <= TS_MAX points: Theil-Sen slope when n >=
 * SLOPE_MIN_N, else the given slope (NAN: none, a level only); median
 * intercept either way. */
static void fit_line(const double *t, const double *v, int n, double slope,
                     struct line *f) {
  double tmp[TS_MAX];
  f->t0 = t[0];
  f->n = n;
  f->sloped = n >= SLOPE_MIN_N;
  f->slope = f->sloped ? theil_sen(t, v, n) : isnan(slope) ? 0 : slope;
  f->tbar = 0;
  for (int i = 0; i < n; i++) f->tbar += (t[i] - f->t0) / n;
  f->sxx = 0;
  for (int i = 0; i < n; i++) {
    double dt = t[i] - f->t0 - f->tbar;
    f->sxx += dt * dt;
    tmp[i] = v[i] - f->slope * (t[i] - f->t0);
  }
  f->level = median(tmp, n);
}

static double line_at(const struct line *f, double t) {
  return f->level + f->slope * (t - f->t0);
}

/* How much wider than the jitter the prediction error at t is: the
 * intercept's and (extrapolated) slope's own uncertainty. Grows with the
 * gap, so a source back after an hour is judged with a wider band. */
static double line_spread(const struct line *f, double t) {
  if (!f->sloped) return sqrt(1 + (M_PI / 2) / f->n);
  double dt = t - f->t0 - f->tbar;
  return sqrt(1 + 1.0 / f->n + TS_VAR * dt * dt / f->sxx);
}

/* Gaussian sigma of the points about the line (MAD of the residuals). */
static double line_sigma(const struct line *f, const double *t,
                         const double *v) {
  double tmp[TS_MAX];
  for (int i = 0; i < f->n; i++) tmp[i] = fabs(v[i] - line_at(f, t[i]));
  return MAD_SIGMA * median(tmp, f->n);
}

/* ---- text ---------------------------------------------------------------- */

/* A duration for people, with a unit that fits: "+1.012 ms", "48.9 us",
 * "+157680000.000 s (1825.0 days)". */
static void fmt_s(char *buf, size_t len, double s, bool sign) {
  double a = fabs(s), scale = 1;
  int prec = 6;
  const char *unit = "s";
  if (a < 1e-6) scale = 1e9, prec = 1, unit = "ns";
  else if (a < 1e-3) scale = 1e6, prec = 1, unit = "us";
  else if (a < 1) scale = 1e3, prec = 3, unit = "ms";
  else if (a >= 86400) {
    snprintf(buf, len, sign ? "%+.3f s (%.1f days)" : "%.3f s (%.1f days)",
             s, a / 86400);
    return;
  }
  snprintf(buf, len, sign ? "%+.*f %s" : "%.*f %s", prec, s * scale, unit);
}

/* Where events go: the caller's array, its room, the count so far. */
struct emitter {
  struct vt_event *out;
  int max, n;
  double t;
};

__attribute__((format(printf, 5, 6))) static void
emit(struct emitter *em, enum event_kind kind, double value, double threshold,
     const char *fmt, ...) {
  if (em->n >= em->max) return;
  struct vt_event *e = &em->out[em->n++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->source = SUBJECT_SYSTEM;
  e->ref_class = CLASS_UNKNOWN;
  e->time_ns = (int64_t)llround(em->t * 1e9);
  e->value = value;
  e->threshold = threshold;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->text, sizeof e->text, fmt, ap);
  va_end(ap);
}

/* ---- configuration ------------------------------------------------------- */

void detect_config_default(struct detect_config *c) {
  c->step_k = 8;          /* 8 sigma of a Gaussian: ~1e-15 per sample, and a
                           * step must also be confirmed by the next sample */
  c->step_min = 200e-6;   /* below this, leave it to the CUSUM */
  c->drift_ppm = 0.25;    /* half the 0.5 ppm goal: detected within 15 min */
  c->drift_t = 5;         /* ~6e-7 per independent test */
  c->drift_window = 900;  /* the goal's 15 minutes */
  c->walk_k = 0.75;       /* with h = 12: no false alarm in 76,800 simulated
                           * source-hours (BENCHMARKS.md, Detection), a 300 us
                           * walk on 50 us jitter seen within ~6 min */
  c->walk_h = 12;
  c->jitter_min = 5e-6;   /* host crystal noise floor (../shared/REFERENCE.md) */
  c->date_far = 1000;     /* far above any plausible NTP error */
  c->local_freq_ppm = 100;/* beyond a sane crystal; 500 ppm is the kernel's
                           * slew limit */
  c->local_window = 1800; /* holdover wants a long, quiet average */
}

/* ---- the ring of samples ------------------------------------------------- */

/* Ring slot of the i-th newest entry (i = 0: the newest). */
static int slot(const struct source_detector *d, int i) {
  return (d->head - 1 - i + 2 * DETECT_WINDOW) % DETECT_WINDOW;
}

static void ring_push(struct source_detector *d, double t, double raw,
                      double res, uint8_t flags) {
  struct detect_entry *e = &d->ring[d->head];
  e->t = t;
  e->raw = raw;
  e->res = res;
  e->epoch = d->epoch;
  e->flags = flags;
  d->head = (d->head + 1) % DETECT_WINDOW;
  if (d->count < DETECT_WINDOW) d->count++;
}

/* A series of (t, value) gathered from the ring, oldest last. */
struct series {
  double t[DETECT_WINDOW], v[DETECT_WINDOW];
  int n;
};

/* The newest max clean entries of the current baseline at or after t_min:
 * residuals of vetted entries when use_res, else raw offsets. Pending and
 * outlier entries are never part of a baseline. */
static void gather(const struct source_detector *d, bool use_res,
                   double t_min, int max, struct series *s) {
  s->n = 0;
  for (int i = 0; i < d->count && s->n < max; i++) {
    const struct detect_entry *e = &d->ring[slot(d, i)];
    if (e->epoch != d->epoch || e->t < t_min) break;
    if (e->flags & (F_PENDING | F_OUTLIER)) continue;
    if (use_res && !(e->flags & F_VETTED)) continue;
    s->t[s->n] = e->t;
    s->v[s->n++] = use_res ? e->res : e->raw;
  }
}

/* Keeps at most TS_MAX points, evenly spread over the series. */
static void thin(struct series *s) {
  if (s->n <= TS_MAX) return;
  for (int i = 0; i < TS_MAX; i++) {
    int j = (int)((long)i * (s->n - 1) / (TS_MAX - 1));
    s->t[i] = s->t[j];
    s->v[i] = s->v[j];
  }
  s->n = TS_MAX;
}

/* ---- jitter -------------------------------------------------------------- */

/* The standard deviation of a[0..n) about its median, robustly: the RMS of
 * the values within 3 MAD-sigmas, corrected for the Gaussian tails the cut
 * drops (the MAD alone scatters about twice as much; the cut keeps spikes
 * out of the jitter, which the step confirmation and the CUSUM's clipping
 * deal with). Reorders a. */
static double robust_rms(double *a, int n) {
  double dev[DETECT_WINDOW];
  double m = median(a, n);
  for (int i = 0; i < n; i++) dev[i] = fabs(a[i] - m);
  double cut = RMS_CUT * MAD_SIGMA * median(dev, n), sum = 0;
  int used = 0;
  for (int i = 0; i < n; i++)
    if (fabs(a[i] - m) <= cut) sum += (a[i] - m) * (a[i] - m), used++;
  return cut > 0 ? sqrt(sum / used / RMS_TRUNC) : 0;
}

/* Robust jitter from the spread of up to JITTER_DIFFS recent successive
 * differences within one baseline (a confirmed step is not jitter, but the
 * jitter before a step still describes the source after it). */
static void jitter_update(struct source_detector *d) {
  double diff[JITTER_DIFFS];
  int n = 0;
  for (int i = 0; i + 1 < d->count && n < JITTER_DIFFS; i++) {
    const struct detect_entry *a = &d->ring[slot(d, i)];
    const struct detect_entry *b = &d->ring[slot(d, i + 1)];
    if (a->epoch != b->epoch || ((a->flags | b->flags) & F_PENDING)) continue;
    bool res = (a->flags & b->flags & F_VETTED) != 0;
    diff[n++] = res ? a->res - b->res : a->raw - b->raw;
  }
  d->jitter_n = n;
  d->jitter_ok = n >= JITTER_MIN_N;
  if (d->jitter_ok) d->jitter = robust_rms(diff, n) / M_SQRT2;
}

/* The jitter the drift and walk detectors divide by. */
static double jitter_floor(const struct source_detector *d,
                           const struct detect_config *c) {
  return fmax(d->jitter, c->jitter_min);
}

/* ---- step ---------------------------------------------------------------- */

/* The new sample's deviation from the baseline's prediction, and the
 * threshold it is judged by. Residuals when this sample and some baseline
 * point are vetted, else raw offsets. A young baseline (after a step) keeps
 * the slope of the one before it: a step moves the level, not the rate (in
 * raw offsets, the local clock's frequency error). False when there is no
 * baseline. */
static bool step_deviation(struct source_detector *d,
                           const struct detect_config *c, double t,
                           double raw, double res, bool vetted, double error,
                           double *dev, double *thr) {
  struct series s;
  bool use_res = vetted;
  if (use_res) gather(d, true, -INFINITY, PRED_N, &s);
  if (!use_res || s.n == 0) {
    use_res = false;
    gather(d, false, -INFINITY, PRED_N, &s);
  }
  if (s.n == 0) return false;
  struct line f;
  fit_line(s.t, s.v, s.n, d->carry_res == use_res ? d->carry_slope : NAN, &f);
  if (f.sloped) {
    d->fit_slope = f.slope;
    d->fit_res = use_res;
  }
  *dev = (use_res ? res : raw) - line_at(&f, t);
  /* Until the jitter is measured, the error bound stands in for it. */
  double base = d->jitter_ok ? d->jitter : fmax(error, 0);
  *thr = fmax(c->step_k * base * line_spread(&f, t), c->step_min);
  return true;
}

/* A confirmed step: the pending entry and this sample start a new baseline;
 * the walk detector learns again (the drift detector restarts by itself,
 * as it only looks at the current baseline). */
static void step_confirm(struct source_detector *d, struct emitter *em,
                         double value, double thr) {
  d->epoch++;
  d->carry_slope = d->fit_slope;
  d->carry_res = d->fit_res;
  struct detect_entry *p = &d->ring[slot(d, 0)];
  p->epoch = d->epoch;
  p->flags &= (uint8_t)~F_PENDING;
  d->step_now = true;
  d->step_value = value;
  d->step_thr = thr;
  d->step_jitter = d->jitter;
  d->learn_n = 0;
  d->cusum_pos = d->cusum_neg = 0;
  d->walk_active = false;
  char v[48], j[48], h[48];
  fmt_s(v, sizeof v, value, true);
  fmt_s(j, sizeof j, d->jitter, false);
  fmt_s(h, sizeof h, thr, false);
  emit(em, EV_STEP, value, thr, "offset stepped by %s (jitter %s, threshold %s)",
       v, d->jitter_ok ? j : "not yet measured", h);
}

/* Judges the new sample against the baseline and resolves the pending
 * candidate: confirmed when this sample is beyond the threshold on the same
 * side, else the candidate was a spike. Returns F_PENDING when the new
 * sample is itself a candidate. */
static uint8_t step_check(struct source_detector *d,
                          const struct detect_config *c, struct emitter *em,
                          double t, double raw, double res, bool vetted,
                          double error) {
  double dev = 0, thr = 0;
  bool have = step_deviation(d, c, t, raw, res, vetted, error, &dev, &thr);
  bool beyond = have && fabs(dev) > thr;
  if (d->pending) {
    struct detect_entry *p = &d->ring[slot(d, 0)];
    d->pending = false;
    if (beyond && (d->pending_dev > 0) == (dev > 0)) {
      step_confirm(d, em, (d->pending_dev + dev) / 2, thr);
      return 0;
    }
    p->flags = (uint8_t)((p->flags & ~F_PENDING) | F_OUTLIER);
  }
  if (!beyond) return 0;
  d->pending = true;
  d->pending_dev = dev;
  return F_PENDING;
}

/* ---- slow walk ----------------------------------------------------------- */

/* The walk baseline: the median of the clean vetted residuals of the
 * current baseline, learned over the first DETECT_LEARN of them and then
 * frozen (a baseline that kept following the source would follow the
 * spoof too). */
static void walk_learn(struct source_detector *d, double res) {
  double tmp[DETECT_LEARN];
  d->learn[d->learn_n++] = res;
  memcpy(tmp, d->learn, sizeof tmp[0] * (size_t)d->learn_n);
  d->baseline = median(tmp, d->learn_n);
}

/* Page's two-sided CUSUM on the residual in jitter units, against the
 * learned baseline. It starts after WALK_START samples; the slack grows by
 * WALK_BASE_SE standard errors of the baseline's median (1.25 sigma /
 * sqrt n), since a baseline off by e jitters shortens the in-control run
 * length as if the slack were k - e. Sums are capped at 2h so that the
 * condition clears soon after the source returns; it clears below h/2. */
static void walk_update(struct source_detector *d,
                        const struct detect_config *c, struct emitter *em,
                        double res) {
  if (d->learn_n < DETECT_LEARN) walk_learn(d, res);
  if (d->learn_n < WALK_START) return;
  double sigma = jitter_floor(d, c);
  double k = c->walk_k + WALK_BASE_SE * 1.2533 / sqrt(d->learn_n);
  double z = fmin(fmax((res - d->baseline) / sigma, -WALK_CLIP), WALK_CLIP);
  d->cusum_pos = fmin(fmax(0, d->cusum_pos + z - k), 2 * c->walk_h);
  d->cusum_neg = fmin(fmax(0, d->cusum_neg - z - k), 2 * c->walk_h);
  d->walk_shift = res - d->baseline;
  double s = fmax(d->cusum_pos, d->cusum_neg);
  if (d->walk_active && s <= c->walk_h / 2) d->walk_active = false;
  if (d->walk_active || s <= c->walk_h) return;
  d->walk_active = true;
  d->walk_h = c->walk_h;
  char v[48], j[48];
  fmt_s(v, sizeof v, d->walk_shift, true);
  fmt_s(j, sizeof j, sigma, false);
  emit(em, EV_SLOW_WALK, s, c->walk_h,
       "slow walk: offset moved %s from its baseline against the vote "
       "(CUSUM %.1f > %.1f jitters of %s)", v, s, c->walk_h, j);
}

/* ---- drift --------------------------------------------------------------- */

/* The Theil-Sen slope of the vetted residuals of the current baseline over
 * the last drift_window, with its t statistic (sigma: the larger of the
 * jitter and the scatter about the line, so that wander counts too). */
static void drift_slope(struct source_detector *d,
                        const struct detect_config *c, double t) {
  struct series s;
  gather(d, true, t - c->drift_window, DETECT_WINDOW, &s);
  d->slope_ok = false;
  if (s.n < DRIFT_MIN_N || d->jitter_n < DRIFT_JITTER_N) return;
  d->slope_span = s.t[0] - s.t[s.n - 1];
  if (d->slope_span < c->drift_window / 2) return;
  thin(&s);
  struct line f;
  fit_line(s.t, s.v, s.n, NAN, &f);
  double sigma = fmax(jitter_floor(d, c), line_sigma(&f, s.t, s.v));
  double se = sqrt(TS_VAR) * sigma / sqrt(f.sxx);
  d->slope_ppm = f.slope * 1e6;
  d->slope_t = fabs(f.slope) / se;
  d->slope_ok = true;
}

static void drift_update(struct source_detector *d,
                         const struct detect_config *c, struct emitter *em,
                         double t) {
  drift_slope(d, c, t);
  double a = d->slope_ok ? fabs(d->slope_ppm) : 0;
  double ts = d->slope_ok ? d->slope_t : 0;
  /* The t statistic is the jumpier figure (the scatter about a bent line
   * grows while a drift starts), hence the wider margin. */
  if (d->drift_active && (a < CLEAR_FRAC * d->drift_thr || ts < c->drift_t / 2))
    d->drift_active = false;
  if (d->drift_active || a <= c->drift_ppm || ts <= c->drift_t) return;
  d->drift_active = true;
  d->drift_thr = c->drift_ppm;
  emit(em, EV_DRIFT, d->slope_ppm, c->drift_ppm,
       "drifting %+.2f ppm against the vote over %.0f s (t=%.1f, "
       "threshold %.2f ppm)", d->slope_ppm, d->slope_span, d->slope_t,
       c->drift_ppm);
}

/* ---- date far ------------------------------------------------------------ */

static void date_update(struct source_detector *d,
                        const struct detect_config *c, struct emitter *em,
                        double r, bool vetted) {
  bool far = fabs(r) > c->date_far;
  bool started = far && !d->date_active;
  d->date_active = far;
  if (!far) return;
  d->date_r = r;
  d->date_vetted = vetted;
  if (!started) return;
  d->date_thr = c->date_far;
  char v[64], h[64];
  fmt_s(v, sizeof v, r, true);
  fmt_s(h, sizeof h, c->date_far, false);
  emit(em, EV_DATE_FAR, r, c->date_far, "date far from the %s: offset %s "
       "(limit %s)", vetted ? "vote" : "local clock", v, h);
}

/* ---- the source detector ------------------------------------------------- */

void detector_init(struct source_detector *d) {
  memset(d, 0, sizeof *d);
  d->last_t = -INFINITY;
  d->fit_slope = d->carry_slope = NAN;
}

static bool sample_ok(const struct source_detector *d, double t,
                      double offset, bool vetted, double vetted_offset) {
  if (!isfinite(t) || !isfinite(offset) || t <= d->last_t) return false;
  return !vetted || isfinite(vetted_offset);
}

int detector_sample(struct source_detector *d, const struct detect_config *c,
                    double t, double offset, double error, bool vetted,
                    double vetted_offset, struct vt_event *out, int max) {
  struct emitter em = {out, max, 0, t};
  if (!sample_ok(d, t, offset, vetted, vetted_offset)) return 0;
  double res = vetted ? offset - vetted_offset : 0;
  d->last_t = t;
  d->step_now = false;
  jitter_update(d);
  date_update(d, c, &em, vetted ? res : offset, vetted);
  uint8_t flags = step_check(d, c, &em, t, offset, res, vetted,
                             isfinite(error) ? error : 0);
  ring_push(d, t, offset, res, (uint8_t)(flags | (vetted ? F_VETTED : 0)));
  drift_update(d, c, &em, t);
  if (vetted && !(flags & F_PENDING)) walk_update(d, c, &em, res);
  return em.n;
}

/* ---- conditions and report ----------------------------------------------- */

static struct vt_condition *cond_next(struct vt_condition *out, int max,
                                      int *n, enum event_kind kind,
                                      double value, double threshold) {
  if (*n >= max) return NULL;
  struct vt_condition *k = &out[(*n)++];
  memset(k, 0, sizeof *k);
  k->kind = kind;
  k->source = SUBJECT_SYSTEM;
  k->ref_class = CLASS_UNKNOWN;
  k->value = value;
  k->threshold = threshold;
  return k;
}

static void cond_step(const struct source_detector *d,
                      struct vt_condition *out, int max, int *n) {
  struct vt_condition *k;
  if (!d->step_now ||
      !(k = cond_next(out, max, n, EV_STEP, d->step_value, d->step_thr)))
    return;
  char v[48], j[48], h[48];
  fmt_s(v, sizeof v, d->step_value, true);
  fmt_s(j, sizeof j, d->step_jitter, false);
  fmt_s(h, sizeof h, d->step_thr, false);
  snprintf(k->text, sizeof k->text, "offset stepped by %s (jitter %s, "
           "threshold %s)", v, j, h);
}

static void cond_drift(const struct source_detector *d,
                       struct vt_condition *out, int max, int *n) {
  struct vt_condition *k;
  if (!d->drift_active ||
      !(k = cond_next(out, max, n, EV_DRIFT, d->slope_ppm, d->drift_thr)))
    return;
  snprintf(k->text, sizeof k->text, "drifting %+.2f ppm against the vote "
           "over %.0f s (t=%.1f, threshold %.2f ppm)", d->slope_ppm,
           d->slope_span, d->slope_t, d->drift_thr);
}

static void cond_walk(const struct source_detector *d,
                      struct vt_condition *out, int max, int *n) {
  double s = fmax(d->cusum_pos, d->cusum_neg);
  struct vt_condition *k;
  if (!d->walk_active ||
      !(k = cond_next(out, max, n, EV_SLOW_WALK, s, d->walk_h)))
    return;
  char v[48];
  fmt_s(v, sizeof v, d->walk_shift, true);
  snprintf(k->text, sizeof k->text, "slow walk: offset %s from its baseline "
           "against the vote (CUSUM %.1f, threshold %.1f)", v, s, d->walk_h);
}

static void cond_date(const struct source_detector *d,
                      struct vt_condition *out, int max, int *n) {
  struct vt_condition *k;
  if (!d->date_active ||
      !(k = cond_next(out, max, n, EV_DATE_FAR, d->date_r, d->date_thr)))
    return;
  char v[64], h[64];
  fmt_s(v, sizeof v, d->date_r, true);
  fmt_s(h, sizeof h, d->date_thr, false);
  snprintf(k->text, sizeof k->text, "date far from the %s: offset %s "
           "(limit %s)", d->date_vetted ? "vote" : "local clock", v, h);
}

int detector_conditions(const struct source_detector *d,
                        struct vt_condition *out, int max) {
  int n = 0;
  cond_date(d, out, max, &n);
  cond_step(d, out, max, &n);
  cond_drift(d, out, max, &n);
  cond_walk(d, out, max, &n);
  return n;
}

void detector_report(const struct source_detector *d,
                     struct detector_report *out) {
  memset(out, 0, sizeof *out);
  out->jitter = d->jitter_ok ? d->jitter : 0;
  out->slope_ok = d->slope_ok;
  out->slope_ppm = d->slope_ok ? d->slope_ppm : 0;
  out->slope_t = d->slope_ok ? d->slope_t : 0;
  out->cusum_pos = d->cusum_pos;
  out->cusum_neg = d->cusum_neg;
  out->learning = !d->jitter_ok || d->learn_n < WALK_START;
}

/* ---- the local clock ----------------------------------------------------- */

void local_clock_init(struct local_clock_detector *l) {
  memset(l, 0, sizeof *l);
  l->last_t = -INFINITY;
}

/* The Theil-Sen slope of the vetted offsets in the window, with its t
 * statistic from the scatter about the line. */
static void local_estimate(struct local_clock_detector *l,
                           const struct detect_config *c, double t) {
  struct series s;
  s.n = 0;
  for (int i = 0; i < l->count; i++) {
    int k = (l->head - 1 - i + 2 * LOCAL_WINDOW) % LOCAL_WINDOW;
    if (l->t[k] < t - c->local_window) break;
    s.t[s.n] = l->t[k];
    s.v[s.n++] = l->vo[k];
  }
  l->valid = false;
  if (s.n < 8) return;
  l->span = s.t[0] - s.t[s.n - 1];
  if (l->span < c->local_window / 4) return;
  thin(&s);
  struct line f;
  fit_line(s.t, s.v, s.n, NAN, &f);
  double sigma = fmax(line_sigma(&f, s.t, s.v), 1e-9);
  l->freq_ppm = f.slope * 1e6;
  l->freq_t = fabs(f.slope) / (sqrt(TS_VAR) * sigma / sqrt(f.sxx));
  l->valid = true;
}

int local_clock_sample(struct local_clock_detector *l,
                       const struct detect_config *c, double t,
                       double vetted_offset, struct vt_event *out, int max) {
  struct emitter em = {out, max, 0, t};
  if (!isfinite(t) || !isfinite(vetted_offset) || t <= l->last_t) return 0;
  l->last_t = t;
  l->t[l->head] = t;
  l->vo[l->head] = vetted_offset;
  l->head = (l->head + 1) % LOCAL_WINDOW;
  if (l->count < LOCAL_WINDOW) l->count++;
  local_estimate(l, c, t);
  double a = l->valid ? fabs(l->freq_ppm) : 0;
  if (l->active && a < CLEAR_FRAC * l->limit) l->active = false;
  if (l->active || a <= c->local_freq_ppm || l->freq_t <= c->drift_t) return 0;
  l->active = true;
  l->limit = c->local_freq_ppm;
  emit(&em, EV_LOCAL_FREQ, l->freq_ppm, c->local_freq_ppm,
       "local clock frequency error %+.2f ppm against the vote over %.0f s "
       "(t=%.1f, limit %.0f ppm)", l->freq_ppm, l->span, l->freq_t,
       c->local_freq_ppm);
  return em.n;
}

double local_clock_freq_ppm(const struct local_clock_detector *l) {
  return l->valid ? l->freq_ppm : NAN;
}

int local_clock_conditions(const struct local_clock_detector *l,
                           struct vt_condition *out, int max) {
  int n = 0;
  struct vt_condition *k;
  if (!l->active || !(k = cond_next(out, max, &n, EV_LOCAL_FREQ, l->freq_ppm,
                                    l->limit)))
    return 0;
  snprintf(k->text, sizeof k->text, "local clock frequency error %+.2f ppm "
           "against the vote over %.0f s (limit %.0f ppm)", l->freq_ppm,
           l->span, l->limit);
  return n;
}
