/* Benchmark of one vote round (monitor/vote.c, classes mode, default
 * policy) over 10, 100 and 1000 sources spread over 5 reference classes
 * (GPS, GAL, GLO, DCF, NTP), with random offsets and error bounds and 10%
 * falsetickers (0.1-1 s off, either side). Each size runs ROUNDS rounds,
 * the inputs re-drawn before each (untimed), each round timed alone on
 * CLOCK_MONOTONIC. Prints a markdown table of the median and p99 per round.
 * The project's goal: 1000 sources well under 1 ms; the program fails if
 * the median there reaches 1 ms or a round is not vetted. Deterministic
 * inputs (xorshift64, fixed seed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "monitor/vote.h"

#define ROUNDS 3000
#define MAX_N 1000
#define GOAL_US 1000.0

static const enum ref_class classes[5] = {CLASS_GPS, CLASS_GAL, CLASS_GLO, CLASS_DCF, CLASS_NTP};

static uint64_t rng_state = 88172645463325252ULL;
static double uniform(void) { /* [0, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void draw(struct vote_input *in, int n) {
  for (int i = 0; i < n; i++) {
    enum ref_class c = classes[i % 5];
    double err = c == CLASS_DCF ? 0.002 + 0.008 * uniform() : 2e-5 + 5e-4 * uniform();
    double off = (uniform() - 0.5) * 2e-4;
    if (uniform() < 0.10) off = (uniform() < 0.5 ? -1 : 1) * (0.1 + 0.9 * uniform());
    in[i] = (struct vote_input){.ref_class = c, .have_sample = true, .reachable = true,
                                .offset = off, .error = err, .stratum = c == CLASS_NTP ? 2 : 0};
  }
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Times ROUNDS rounds over n sources; fills the median and p99 in µs.
 * Returns the number of rounds that were not vetted. */
static int bench(int n, double *median_us, double *p99_us) {
  static struct vote_input in[MAX_N];
  static struct vote_source_result res[MAX_N];
  static int64_t ns[ROUNDS];
  struct vote_policy p;
  struct vote_verdict v;
  int unvetted = 0;
  vote_policy_default(&p);
  for (int r = 0; r < ROUNDS; r++) {
    draw(in, n);
    int64_t t0 = mono_ns();
    vote_round(&p, in, n, res, &v);
    ns[r] = mono_ns() - t0;
    unvetted += !v.vetted;
  }
  qsort(ns, ROUNDS, sizeof ns[0], cmp_i64);
  *median_us = ns[ROUNDS / 2] / 1e3;
  *p99_us = ns[ROUNDS * 99 / 100] / 1e3;
  return unvetted;
}

int main(void) {
  static const int sizes[3] = {10, 100, 1000};
  double med = 0, p99 = 0;
  int status = 0;
  printf("| sources | median µs | p99 µs |\n|---:|---:|---:|\n");
  for (int k = 0; k < 3; k++) {
    int unvetted = bench(sizes[k], &med, &p99);
    printf("| %d | %.1f | %.1f |\n", sizes[k], med, p99);
    if (unvetted) {
      fprintf(stderr, "%d of %d rounds over %d sources not vetted\n", unvetted, ROUNDS, sizes[k]);
      status = 1;
    }
  }
  printf("\n%d rounds per size, classes mode, 5 classes, 10%% falsetickers; goal: 1000 "
         "sources well under %.0f µs: %s\n", ROUNDS, GOAL_US, med < GOAL_US ? "met" : "NOT met");
  return med < GOAL_US ? status : 1;
}
