/* Per-source sample statistics (srcfilter.h). The least-squares fit is the
 * textbook one (e.g. chrony regress.c explains the same quantities); the
 * thresholds are explained where they are defined. */
#include "monitor/srcfilter.h"

#include <math.h>
#include <string.h>

/* A new sample further than this many predicted deviations from the run's
 * estimate starts a new run: at 5, a clean Gaussian source restarts about
 * once in 1.7 million samples, and a 1 ms step on a 50 us source is seen
 * in its first sample. */
#define STEP_K 5.0
/* The interval holds the estimate +- this many deviations (99.7 %). */
#define CONF_K 3.0
/* A slope is used when it is this many standard errors from zero. */
#define SLOPE_T 4.0
/* RFC 5905's PHI: the dispersion a sample gains per second of age. */
#define PHI 15e-6
/* The jitter's exponential average settles over this many differences. */
#define JITTER_SPAN 16
/* A jitter below this (100 ns) is taken as this: timestamps are no finer. */
#define JITTER_MIN 1e-7

void srcfilter_init(struct srcfilter *f) {
  memset(f, 0, sizeof *f);
}

/* Until this many differences are known, the jitter is at least
 * JITTER_PRIOR (or the root distance, if larger): a new source's interval
 * must hold the truth before its noise is known, as NTPsec's 1 ms mindist
 * does for every sample. Two early samples can be nearly equal by chance. */
#define JITTER_PRIOR 1e-3
#define JITTER_LEARN 3
/* A jump teaches the jitter nothing (a step of a second is no jitter),
 * unless the sample before jumped too: jumps in a row mean the jitter was
 * underestimated, and each then teaches it a difference clipped at this
 * many jitters (which about doubles it), instead of every sample looking
 * like a jump and teaching nothing. */
#define LEARN_CLIP_K 10.0

/* The jitter of one sample. A few differences can show far less than the
 * real spread (one difference of two 500 us samples is below 100 us one
 * time in ten), so the measured value is inflated by 1 + 2/sqrt(k) after k
 * differences: x3 after one, x1.5 after 16, x1.06 after 1000. */
static double jitter(const struct srcfilter *f) {
  double j = f->nvar > 0 ? sqrt(f->var) * (1 + 2 / sqrt((double)f->nvar)) : 0;
  if (f->nvar < JITTER_LEARN) j = fmax(j, fmax(f->last_error, JITTER_PRIOR));
  return j > JITTER_MIN ? j : JITTER_MIN;
}

static double run_mean(const struct srcfilter *f, double *tmean) {
  double sx = 0, st = 0;
  for (int i = 0; i < f->n; i++) {
    sx += f->x[i];
    st += f->t[i];
  }
  *tmean = st / f->n;
  return sx / f->n;
}

/* Slope of the run's least-squares line and its standard error (with the
 * measured jitter as the noise); false with fewer than 4 samples. */
static bool run_slope(const struct srcfilter *f, double tmean, double xmean, double sigma,
                      double *slope, double *se) {
  double sxx = 0, sxy = 0;
  if (f->n < 4) return false;
  for (int i = 0; i < f->n; i++) {
    sxx += (f->t[i] - tmean) * (f->t[i] - tmean);
    sxy += (f->t[i] - tmean) * (f->x[i] - xmean);
  }
  if (!(sxx > 0)) return false;
  *slope = sxy / sxx;
  *se = sigma / sqrt(sxx);
  return true;
}

static void push(struct srcfilter *f, double t, double x) {
  if (f->n == SRCFILTER_WINDOW) {
    memmove(f->t, f->t + 1, (SRCFILTER_WINDOW - 1) * sizeof *f->t);
    memmove(f->x, f->x + 1, (SRCFILTER_WINDOW - 1) * sizeof *f->x);
    f->n--;
  }
  f->t[f->n] = t;
  f->x[f->n++] = x;
}

/* Successive differences hold twice the sample variance. */
static void learn_jitter(struct srcfilter *f, double diff) {
  double clip = LEARN_CLIP_K * jitter(f), d = fmin(fabs(diff), clip), v = d * d / 2;
  int span = f->nvar < JITTER_SPAN ? f->nvar + 1 : JITTER_SPAN;
  f->var += (v - f->var) / span;
  f->nvar++;
}

/* How far x is from f's run at time t, in predicted deviations. */
static double deviation(const struct srcfilter *f, double t, double x) {
  struct srcfilter_estimate e;
  srcfilter_get(f, t, &e);
  return fabs(x - e.offset) / hypot(jitter(f), e.sd);
}

/* The run before the newest jump, as a filter of its own. */
static void previous_run(const struct srcfilter *f, struct srcfilter *old) {
  *old = *f;
  old->n = f->prev_n;
  memcpy(old->t, f->prev_t, sizeof old->t);
  memcpy(old->x, f->prev_x, sizeof old->x);
  old->last_x = f->prev_last_x;
}

/* The sample after a jump is back with the run before it: the jump was a
 * spike (one late or bad answer). The old run comes back without it, and
 * the spike teaches the jitter nothing. */
static bool spike_back(struct srcfilter *f, double t, double offset) {
  struct srcfilter old;
  if (!f->last_jumped || f->prev_n == 0) return false;
  previous_run(f, &old);
  if (deviation(&old, t, offset) > STEP_K) return false;
  f->n = old.n;
  memcpy(f->t, old.t, sizeof f->t);
  memcpy(f->x, old.x, sizeof f->x);
  learn_jitter(f, offset - old.last_x);
  f->jumps--;
  f->spikes++;
  return true;
}

static void start_run(struct srcfilter *f) {
  f->prev_n = f->n;
  memcpy(f->prev_t, f->t, sizeof f->t);
  memcpy(f->prev_x, f->x, sizeof f->x);
  f->prev_last_x = f->last_x;
  f->n = 0;
  f->jumps++;
}

bool srcfilter_add(struct srcfilter *f, double t, double offset, double error) {
  if (!isfinite(t) || !isfinite(offset) || !isfinite(error) || (f->n > 0 && t <= f->last_t))
    return false;
  double k = f->n > 0 ? deviation(f, t, offset) : 0;
  bool jumped = k > STEP_K;
  if (jumped && spike_back(f, t, offset)) {
    jumped = false;
  } else if (f->n > 0 && (!jumped || f->last_jumped)) {
    learn_jitter(f, offset - f->last_x);
    if (jumped) start_run(f);
  } else if (jumped) {
    start_run(f);
  }
  push(f, t, offset);
  f->last_t = t;
  f->last_x = offset;
  f->last_error = error;
  f->last_jumped = jumped;
  f->last_jump_k = jumped ? k : 0;
  return jumped;
}

bool srcfilter_get(const struct srcfilter *f, double now, struct srcfilter_estimate *out) {
  double tmean, slope = 0, se = 0, sigma = jitter(f);
  if (f->n == 0) return false;
  double mean = run_mean(f, &tmean), dt = now - tmean;
  bool have_slope = run_slope(f, tmean, mean, sigma, &slope, &se);
  out->n = f->n;
  out->jitter = sigma;
  out->slope_used = have_slope && fabs(slope) > SLOPE_T * se;
  double var_mean = sigma * sigma / f->n;
  double lag = 0;
  if (out->slope_used) {
    out->offset = mean + slope * dt;
    out->sd = sqrt(var_mean + se * se * dt * dt);
  } else {
    out->offset = mean;
    out->sd = sqrt(var_mean);
    lag = have_slope ? fabs(slope) * fabs(dt) : 0;
  }
  double age = now > f->last_t ? now - f->last_t : 0;
  out->error = f->last_error + CONF_K * out->sd + lag + PHI * age;
  return true;
}
