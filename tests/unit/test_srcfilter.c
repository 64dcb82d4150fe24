/* Unit tests of the per-source sample statistics (monitor/srcfilter.h) on
 * seeded synthetic sources whose truth is known: the interval holds it, a
 * step is followed in one sample, a walk is followed, an underestimated
 * jitter recovers, bad input is ignored. */
#include "monitor/srcfilter.h"

#include "tests/unit/unit.h"

static double gauss(void) { /* Box-Muller on random() */
  double u = (random() + 1.0) / 2147483649.0, v = (random() + 1.0) / 2147483649.0;
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* A clean source of jitter sigma at true offset 0, polled every 2 s: the
 * interval [offset - error, offset + error] holds 0 in nearly every round
 * (3 sd plus the root distance), the estimate beats a single sample, and
 * the measured jitter is close to sigma. */
static void test_clean_coverage(void) {
  static const double sigmas[3] = {20e-6, 50e-6, 500e-6};
  for (int k = 0; k < 3; k++) {
    double sigma = sigmas[k], sq = 0, jit = 0;
    int misses = 0, rounds = 0, jumps = 0;
    struct srcfilter f;
    srcfilter_init(&f);
    for (int i = 0; i < 5000; i++) {
      struct srcfilter_estimate e;
      double t = 2.0 * i;
      jumps += srcfilter_add(&f, t, sigma * gauss(), 40e-6);
      CHECK(srcfilter_get(&f, t + 1, &e));
      if (i < 20) continue;
      rounds++;
      misses += fabs(e.offset) > e.error;
      sq += e.offset * e.offset;
      jit += e.jitter;
    }
    jit /= rounds;
    printf("sigma %3.0f us: rms estimate %.1f us, mean jitter %.1f us, truth outside %d of %d, "
           "jumps %d\n", sigma * 1e6, sqrt(sq / rounds) * 1e6, jit * 1e6, misses, rounds, jumps);
    CHECK(jit > 0.85 * sigma && jit < 1.3 * sigma);
    CHECK(misses <= rounds / 500);       /* 3 sd + root distance: under 0.2 % */
    CHECK(sqrt(sq / rounds) < 0.5 * sigma); /* 8 samples: about sigma / 2.8 */
    CHECK(jumps <= 2);
  }
}

/* A 1 ms step on a 50 us source starts a new run at its first sample: the
 * estimate is at the new level at once, and the jitter is not inflated. */
static void test_step_followed(void) {
  struct srcfilter f;
  struct srcfilter_estimate e;
  srcfilter_init(&f);
  for (int i = 0; i < 40; i++) CHECK(!srcfilter_add(&f, i, 50e-6 * gauss(), 40e-6));
  CHECK(srcfilter_add(&f, 40, 1e-3 + 50e-6 * gauss(), 40e-6));
  CHECK(srcfilter_get(&f, 40.5, &e));
  CHECK_INT(e.n, 1);
  CHECK(fabs(e.offset - 1e-3) < 250e-6);
  CHECK(fabs(e.offset) > e.error); /* the old level is outside its interval */
  CHECK(e.jitter < 120e-6);
  CHECK_INT((int)f.jumps, 1);
  for (int i = 41; i < 45; i++) CHECK(!srcfilter_add(&f, i, 1e-3 + 50e-6 * gauss(), 40e-6));
  CHECK(srcfilter_get(&f, 45, &e));
  CHECK(fabs(e.offset - 1e-3) <= e.error);
}

/* A walk of 10 us/s on a 5 us source: the slope is significant, the
 * estimate follows the walk instead of lagging half a window behind. */
static void test_walk_followed(void) {
  struct srcfilter f;
  struct srcfilter_estimate e;
  srcfilter_init(&f);
  for (int i = 0; i < 30; i++) srcfilter_add(&f, i, 10e-6 * i + 5e-6 * gauss(), 20e-6);
  CHECK(srcfilter_get(&f, 29, &e));
  CHECK(e.slope_used);
  CHECK(fabs(e.offset - 290e-6) < 20e-6);
  CHECK(fabs(e.offset - 290e-6) <= e.error);
}

/* The first two samples nearly equal (an iburst can do that), then 200 us
 * of noise: the jitter must not stay at nothing with every sample a jump. */
static void test_underestimated_jitter_recovers(void) {
  struct srcfilter f;
  struct srcfilter_estimate e;
  int jumps = 0;
  srcfilter_init(&f);
  srcfilter_add(&f, 0, 1e-5, 40e-6);
  srcfilter_add(&f, 1, 1e-5 + 1e-9, 40e-6);
  for (int i = 2; i < 40; i++) jumps += srcfilter_add(&f, i, 200e-6 * gauss(), 40e-6);
  CHECK(srcfilter_get(&f, 40, &e));
  CHECK(jumps <= 3);
  CHECK(e.jitter > 120e-6);
  CHECK(fabs(e.offset) <= e.error);
}

/* Before the third difference the jitter is at least 1 ms: a new source's
 * interval holds the truth whatever its first samples say. */
static void test_prior_and_bad_input(void) {
  struct srcfilter f;
  struct srcfilter_estimate e;
  srcfilter_init(&f);
  CHECK(!srcfilter_get(&f, 0, &e));
  srcfilter_add(&f, 10, 400e-6, 40e-6);
  CHECK(srcfilter_get(&f, 10, &e));
  CHECK(e.jitter >= 1e-3 && e.error >= 3e-3);
  CHECK(!srcfilter_add(&f, 10, 0, 40e-6)); /* not after the previous sample */
  CHECK(!srcfilter_add(&f, 11, NAN, 40e-6));
  CHECK(!srcfilter_add(&f, INFINITY, 0, 40e-6));
  CHECK(srcfilter_get(&f, 11, &e));
  CHECK_INT(e.n, 1);
  CHECK(e.error > 3e-3); /* 15 ppm of age */
}

/* One bad answer (+800 us on a 50 us source) and straight back: a spike.
 * The old run comes back without it, and the jitter is not inflated (an
 * inflated jitter hid a slow walk for minutes at 16 s polls). */
static void test_spike_ignored(void) {
  struct srcfilter f;
  struct srcfilter_estimate e;
  srcfilter_init(&f);
  for (int i = 0; i < 40; i++) srcfilter_add(&f, 16.0 * i, 50e-6 * gauss(), 40e-6);
  CHECK(srcfilter_add(&f, 640, 800e-6, 40e-6)); /* looks like a jump at first */
  CHECK(!srcfilter_add(&f, 656, 50e-6 * gauss(), 40e-6));
  CHECK(srcfilter_get(&f, 656, &e));
  CHECK_INT((int)f.jumps, 0);
  CHECK_INT((int)f.spikes, 1);
  CHECK_INT(e.n, SRCFILTER_WINDOW);
  CHECK(e.jitter < 80e-6);
  CHECK(fabs(e.offset) < 60e-6);
}

int main(void) {
  unit_init();
  RUN(test_clean_coverage);
  RUN(test_step_followed);
  RUN(test_walk_followed);
  RUN(test_underestimated_jitter_recovers);
  RUN(test_prior_and_bad_input);
  RUN(test_spike_ignored);
  return unit_done();
}
