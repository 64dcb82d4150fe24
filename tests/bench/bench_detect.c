/* Detection benchmark for monitor/detect.c: time to detect each fault, and
 * false alarms over 24 simulated hours of clean data.
 *
 * Deterministic: simulated time, no sleeping, a seeded xorshift generator,
 * so every run prints the same table. Each source is simulated as the
 * daemon sees it: offset = fault(t) + Gaussian jitter + occasional 5-sigma
 * single spikes (1 % of samples) - local clock error (3 ppm); the vote's
 * vetted offset = - local clock error + its own Gaussian noise (20 us). A
 * fault scenario runs one clean hour (so every detector has learned), then
 * the fault, for 10 seeds; the time to detect is from the first faulty
 * sample to the sample that raised the first event (median and worst of the
 * 10), in seconds and in polls (1 = at the first faulty sample). The false
 * alarms column runs 24 clean hours with the same poll and jitter for the
 * same 10 seeds and counts every event. Prints a markdown table. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/detect.h"

#define T0 1767225600.0
#define SEEDS 10
#define LEAD_IN 3600.0       /* clean time before the fault */
#define HORIZON (6 * 3600.0) /* give up on a fault after this */
#define DAY 86400.0

/* ---- reproducible noise -------------------------------------------------- */

static uint64_t rng;

static void rng_seed(uint64_t seed) {
  rng = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
}

static double uniform(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void) {
  return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

/* ---- scenarios ----------------------------------------------------------- */

struct scenario {
  const char *name;
  double poll, jitter, vote_noise;
  double (*fault)(double dt, const double *p); /* error dt s after onset */
  double p[2];
  bool expect_none; /* a non-fault (a spike): detecting it is the failure */
  enum event_kind want; /* also time this detector (EV_COUNT: none) */
};

static double f_none(double dt, const double *p) { (void)dt, (void)p; return 0; }
static double f_step(double dt, const double *p) { return dt >= 0 ? p[0] : 0; }
static double f_spike(double dt, const double *p) {
  return dt >= 0 && dt < 1 ? p[0] : 0;
}
static double f_drift(double dt, const double *p) {
  return dt >= 0 ? p[0] * 1e-6 * dt : 0;
}
static double f_ramp(double dt, const double *p) {
  return dt < 0 ? 0 : p[0] * fmin(dt / p[1], 1);
}
static const struct scenario scenarios[] = {
    {"1 ms step", 16, 50e-6, 20e-6, f_step, {1e-3, 0}, false, EV_COUNT},
    {"1 ms step", 64, 50e-6, 20e-6, f_step, {1e-3, 0}, false, EV_COUNT},
    {"-250 ms step", 16, 50e-6, 20e-6, f_step, {-0.25, 0}, false, EV_COUNT},
    {"five-year jump (+157680000 s)", 16, 50e-6, 20e-6, f_step,
     {157680000, 0}, false, EV_STEP},
    {"GNSS week rollover (-619315200 s)", 16, 50e-6, 20e-6, f_step,
     {-619315200, 0}, false, EV_COUNT},
    {"0.5 ppm drift", 16, 50e-6, 20e-6, f_drift, {0.5, 0}, false, EV_DRIFT},
    {"0.1 ppm drift", 16, 50e-6, 20e-6, f_drift, {0.1, 0}, false, EV_DRIFT},
    {"slow walk: +300 us over 10 min", 16, 50e-6, 20e-6, f_ramp,
     {300e-6, 600}, false, EV_DRIFT},
    {"slow spoof: +300 us over 30 min (0.17 ppm)", 16, 50e-6, 20e-6, f_ramp,
     {300e-6, 1800}, false, EV_COUNT},
    {"GPS UTC offset error: 13.7 us step, PPS source", 16, 1e-6, 0.5e-6,
     f_step, {13.7e-6, 0}, false, EV_COUNT},
    {"single 1 ms spike (must not be reported)", 16, 50e-6, 20e-6, f_spike,
     {1e-3, 0}, true, EV_COUNT},
    {"clean 24 h", 16, 50e-6, 20e-6, f_none, {0, 0}, true, EV_COUNT},
    {"clean 24 h", 64, 50e-6, 20e-6, f_none, {0, 0}, true, EV_COUNT},
    {"clean 24 h, PPS source", 16, 1e-6, 0.5e-6, f_none, {0, 0}, true, EV_COUNT},
};
#define N_SCEN (int)(sizeof scenarios / sizeof scenarios[0])

/* ---- simulation ---------------------------------------------------------- */

/* What one run saw: events in the clean time, the faulty sample (1 = the
 * first) that raised the first event and its kind, and the one that raised
 * the first event of the scenario's `want` kind (0: none). */
struct run {
  int before, polls, want_polls;
  enum event_kind kind;
};

/* Feeds sample i of scenario s (fault from sample `first` on). */
static int feed(struct source_detector *d, const struct detect_config *c,
                const struct scenario *s, long i, long first,
                struct vt_event *ev, int max) {
  double t = T0 + i * s->poll, dt = (i - first) * s->poll;
  double local = 3e-6 * (t - T0);
  double noise = gauss() * s->jitter;
  if (uniform() < 0.01) noise += (uniform() < 0.5 ? 5 : -5) * s->jitter;
  double offset = (i >= first ? s->fault(dt, s->p) : 0) + noise - local;
  double vetted = -local + gauss() * s->vote_noise;
  return detector_sample(d, c, t, offset, 200e-6, true, vetted, ev, max);
}

/* One run: clean for lead_in seconds, then the fault until the first event
 * (and the wanted one) or the horizon. */
static void simulate(const struct scenario *s, uint64_t seed, double lead_in,
                     double horizon, struct run *r) {
  static struct source_detector d;
  struct detect_config c;
  detect_config_default(&c);
  detector_init(&d);
  rng_seed(seed);
  memset(r, 0, sizeof *r);
  long first = (long)ceil(lead_in / s->poll);
  long last = first + (long)(horizon / s->poll);
  for (long i = 0; i < last; i++) {
    struct vt_event ev[8];
    int n = feed(&d, &c, s, i, first, ev, 8);
    if (i < first) r->before += n;
    if (i < first || n == 0) continue;
    if (!r->polls) r->polls = (int)(i - first + 1), r->kind = ev[0].kind;
    for (int k = 0; k < n && !r->want_polls; k++)
      if (ev[k].kind == s->want) r->want_polls = (int)(i - first + 1);
    if (s->want == EV_COUNT || r->want_polls) break;
  }
}

/* False alarms in 24 clean hours with the scenario's poll and jitter,
 * summed over the seeds. */
static int false_alarms(const struct scenario *s) {
  struct scenario clean = *s;
  clean.fault = f_none;
  int total = 0;
  struct run r;
  for (int k = 0; k < SEEDS; k++) {
    simulate(&clean, 1000 + k, DAY, 0, &r);
    total += r.before;
  }
  return total;
}

static int cmp_int(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

static void fmt_jitter(char *buf, size_t len, double j) {
  if (j < 1e-3) snprintf(buf, len, "%.0f us", j * 1e6);
  else snprintf(buf, len, "%.0f ms", j * 1e3);
}

/* "16 s (worst 32 s)" and "2 (worst 3)" from the sorted polls of the seeds
 * that detected; "-" when some did not. */
static void fmt_detect(const struct scenario *s, int *polls, char *when,
                       char *npolls, size_t len) {
  qsort(polls, SEEDS, sizeof polls[0], cmp_int);
  if (polls[0] == 0) return;
  int med = polls[(SEEDS - 1) / 2], worst = polls[SEEDS - 1];
  snprintf(when, len, "%.0f s (worst %.0f s)", (med - 1) * s->poll,
           (worst - 1) * s->poll);
  snprintf(npolls, len, "%d (worst %d)", med, worst);
}

/* One table row: detection over the seeds, and the clean-day count *fa
 * (shared by the rows of one source kind: the clean day does not depend on
 * the fault). Events in the clean lead-in hours are false alarms too:
 * counted in *lead_in. */
static void row(const struct scenario *s, int *fa, int *lead_in) {
  int polls[SEEDS] = {0}, want[SEEDS] = {0}, detected = 0;
  enum event_kind kind = EV_COUNT;
  for (int i = 0; s->fault != f_none && i < SEEDS; i++) {
    struct run r;
    simulate(s, 1 + i, LEAD_IN, HORIZON, &r);
    *lead_in += r.before;
    polls[i] = r.polls, want[i] = r.want_polls;
    if (r.polls) detected++, kind = r.kind;
  }
  if (*fa < 0) *fa = false_alarms(s);
  char jit[32], when[64] = "-", npolls[64] = "-", w[64] = "", wp[64] = "";
  char also[160] = "";
  fmt_jitter(jit, sizeof jit, s->jitter);
  if (detected == SEEDS) fmt_detect(s, polls, when, npolls, sizeof when);
  else if (detected)
    snprintf(when, sizeof when, "only %d of %d seeds in %.0f h", detected,
             SEEDS, HORIZON / 3600);
  else if (s->fault != f_none)
    snprintf(when, sizeof when, "not reported in %.0f h%s", HORIZON / 3600,
             s->expect_none ? " (correct)" : "");
  if (s->want != EV_COUNT && detected && s->want != kind) {
    fmt_detect(s, want, w, wp, sizeof w);
    snprintf(also, sizeof also, "; %s: %s", event_kind_name(s->want),
             w[0] ? w : "none in 6 h");
  }
  printf("| %s%s%s%s | %.0f s | %s | %s | %s | %d |\n", s->name,
         detected ? " -> " : "", detected ? event_kind_name(kind) : "",
         also, s->poll, jit, when, npolls, *fa);
}

/* The index of the first scenario with the same source kind as i. */
static int same_source(int i) {
  for (int j = 0; j < i; j++)
    if (scenarios[j].poll == scenarios[i].poll &&
        scenarios[j].jitter == scenarios[i].jitter &&
        scenarios[j].vote_noise == scenarios[i].vote_noise)
      return j;
  return i;
}

int main(void) {
  int fa[N_SCEN], lead_in = 0;
  printf("| scenario -> first event | poll | jitter | time to detect "
         "(median of %d seeds) | polls | false alarms in 24 h clean "
         "(%d seeds) |\n", SEEDS, SEEDS);
  printf("|---|---|---|---|---|---|\n");
  for (int i = 0; i < N_SCEN; i++) {
    fa[i] = -1;
    row(&scenarios[i], &fa[same_source(i)], &lead_in);
  }
  printf("\nFalse alarms in the 1 h clean lead-ins of the fault runs: %d\n",
         lead_in);
  return lead_in != 0;
}
