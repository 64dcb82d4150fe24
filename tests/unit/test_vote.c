/* Unit tests of the vote (monitor/vote.h): vote_intersect against a
 * brute-force reference on random interval sets (seeded, UNIT_SEED), then
 * the class vote's edge cases, the chrony 009-sourceselection cases, the
 * policy flags, leap voting and sources mode. */
#include "monitor/vote.h"

#include "tests/unit/unit.h"

#define MAXN 64

static struct vote_source_result res[VOTE_MAX_SOURCES + 8];
static struct vote_verdict v;

/* A healthy stratum-1 source of class c. */
static struct vote_input src(enum ref_class c, double offset, double error) {
  return (struct vote_input){.ref_class = c, .have_sample = true, .reachable = true,
                             .offset = offset, .error = error, .stratum = 1};
}

static struct vote_policy policy(enum vote_mode mode) {
  struct vote_policy p;
  vote_policy_default(&p);
  p.mode = mode;
  return p;
}

static void run(const struct vote_policy *p, const struct vote_input *in, int n) {
  memset(res, 0x55, sizeof res); /* no stale state can pass for a result */
  memset(&v, 0x55, sizeof v);
  vote_round(p, in, n, res, &v);
}

static bool contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* ------------------------------------------------------------------ */
/* vote_intersect against a brute-force reference: every endpoint     */
/* covered by n - floor((n-1)/2) intervals                             */

static int coverage(const double *lo, const double *hi, int n, double x) {
  int c = 0;
  for (int i = 0; i < n; i++) c += lo[i] <= x && x <= hi[i];
  return c;
}

static int brute_intersect(const double *lo, const double *hi, int n, double *low,
                           double *high) {
  int need = n - (n - 1) / 2;
  double l = INFINITY, h = -INFINITY;
  for (int e = 0; e < 2 * n; e++) {
    double x = e < n ? lo[e] : hi[e - n];
    if (coverage(lo, hi, n, x) < need) continue;
    l = fmin(l, x);
    h = fmax(h, x);
  }
  if (n > 0 && l <= h) {
    int c = 0;
    for (int i = 0; i < n; i++) c += lo[i] <= h && hi[i] >= l;
    *low = l;
    *high = h;
    return c;
  }
  *low = *high = 0;
  return 0;
}

static double rnd(void) { return (double)random() / 2147483648.0; }

/* Endpoints on a coarse grid (ties, touching ends, points) or continuous. */
static void random_set(double *lo, double *hi, int n, bool grid) {
  for (int i = 0; i < n; i++) {
    double a = grid ? (double)(random() % 9) : rnd() * 10;
    double w = grid ? (double)(random() % 4) : rnd() * rnd() * 6;
    lo[i] = a;
    hi[i] = a + w;
  }
}

static void test_intersect_random(void) {
  double lo[MAXN], hi[MAXN], l1, h1, l2, h2;
  int mismatches = 0, majorities = 0;
  for (int round = 0; round < 6000; round++) {
    int n = round % 10 == 0 ? (int)(random() % MAXN) : (int)(random() % 12);
    random_set(lo, hi, n, round % 2 == 0);
    int c1 = vote_intersect(lo, hi, n, &l1, &h1);
    int c2 = brute_intersect(lo, hi, n, &l2, &h2);
    majorities += c2 > 0;
    if (c1 != c2 || l1 != l2 || h1 != h2) {
      if (mismatches++ < 5)
        fprintf(stderr, "round %d n %d: got %d [%g,%g], expected %d [%g,%g]\n", round, n, c1,
                l1, h1, c2, l2, h2);
    }
  }
  CHECK_INT(mismatches, 0);
  CHECK(majorities > 1000); /* the sets exercise both outcomes */
  CHECK(majorities < 5900);
}

static void test_intersect_edges(void) {
  double lo[4] = {0, 1, 5, 2}, hi[4] = {1, 2, 6, 3}, l, h;
  CHECK_INT(vote_intersect(lo, hi, 0, &l, &h), 0);
  CHECK_INT(vote_intersect(lo, hi, 1, &l, &h), 1);
  CHECK(l == 0 && h == 1);
  /* [0,1] and [1,2] touch: one point of agreement. */
  CHECK_INT(vote_intersect(lo, hi, 2, &l, &h), 2);
  CHECK(l == 1 && h == 1);
  /* [0,1], [5,6]: disjoint pair, no majority; low/high zeroed. */
  double dl[2] = {0, 5}, dh[2] = {1, 6};
  CHECK_INT(vote_intersect(dl, dh, 2, &l, &h), 0);
  CHECK(l == 0 && h == 0);
  /* 4 intervals, depth 2 at 1 and at 2: 2 of 4 is no strict majority. */
  CHECK_INT(vote_intersect(lo, hi, 4, &l, &h), 0);
  /* Marzullo's span: two depth-2 regions of 3 -> [1,3], all 3 overlap it. */
  double ml[3] = {0, 1, 2.5}, mh[3] = {2, 3, 5};
  CHECK_INT(vote_intersect(ml, mh, 3, &l, &h), 3);
  CHECK(l == 1 && h == 3);
}

static void test_intersect_large(void) {
  static double lo[VOTE_MAX_SOURCES], hi[VOTE_MAX_SOURCES];
  double l1, h1, l2, h2;
  for (int k = 0; k < 4; k++) {
    int n = 150 + 50 * k;
    random_set(lo, hi, n, k % 2 == 0);
    int c1 = vote_intersect(lo, hi, n, &l1, &h1);
    int c2 = brute_intersect(lo, hi, n, &l2, &h2);
    CHECK_INT(c1, c2);
    CHECK(l1 == l2 && h1 == h2);
  }
  /* The full capacity: everyone agrees. */
  for (int i = 0; i < VOTE_MAX_SOURCES; i++) {
    lo[i] = -1.0 - i * 1e-6;
    hi[i] = 1.0 + i * 1e-6;
  }
  CHECK_INT(vote_intersect(lo, hi, VOTE_MAX_SOURCES, &l1, &h1), VOTE_MAX_SOURCES);
  /* n - f = 2049 of 4096 intervals cover from the 2048th lowest lower end. */
  CHECK(l1 == -1.0 - 2047 * 1e-6 && h1 == 1.0 + 2047 * 1e-6);
}

/* ------------------------------------------------------------------ */
/* The class vote                                                      */

/* Two DCF77 receivers agreeing on +1.5 s cannot outvote GPS and Galileo. */
static void test_dcf_outvoted(void) {
  struct vote_input in[4] = {src(CLASS_DCF, 1.5, 0.01), src(CLASS_DCF, 1.502, 0.01),
                             src(CLASS_GPS, 0.00001, 0.0001), src(CLASS_GAL, -0.00002, 0.0001)};
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  run(&p, in, 4);
  CHECK(v.vetted);
  CHECK_STR(v.why_not, "");
  CHECK_INT(v.candidates, 4);
  CHECK_INT(v.classes, 3);
  CHECK_INT(v.agreeing_classes, 2);
  CHECK_INT(v.agreeing, 2);
  CHECK_INT(v.class_mask, (1u << CLASS_GPS) | (1u << CLASS_GAL));
  CHECK(fabs(v.offset) < 0.001);
  CHECK_INT(res[0].state, SS_CLASS_OUTVOTED);
  CHECK_INT(res[1].state, SS_CLASS_OUTVOTED);
  CHECK_STR(source_state_name(res[0].state), "class-outvoted");
  CHECK_STR(res[0].why, "class DCF [+1.492000, +1.510000] s outside the vetted interval "
                        "[-0.000090, +0.000080] s");
  CHECK(res[2].state == SS_BEST || res[2].state == SS_COMBINED);
  CHECK(res[3].state == SS_BEST || res[3].state == SS_COMBINED);
  CHECK_INT(v.stratum, 2);
  /* Sources mode cannot tell: 2 against 2. */
  p.mode = VOTE_MODE_SOURCES;
  run(&p, in, 4);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "no majority: 2 of 4 sources agree");
  CHECK_INT(res[0].state, SS_FALSETICKER);
  CHECK_STR(res[0].why, "no majority: 2 of 4 sources agree");
  CHECK_INT(v.stratum, 16);
  CHECK_INT(v.best, -1);
}

/* January 2016: every GPS receiver steps ~13.7 us with tight bounds. */
static void test_gps_constellation_outvoted(void) {
  struct vote_input in[7];
  for (int i = 0; i < 4; i++) in[i] = src(CLASS_GPS, 13.7e-6 + i * 0.1e-6, 2e-6);
  in[4] = src(CLASS_GAL, 0.2e-6, 2e-6);
  in[5] = src(CLASS_GAL, -0.3e-6, 2e-6);
  in[6] = src(CLASS_GLO, 0.5e-6, 2e-6);
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  p.mindist = 1e-6;
  run(&p, in, 7);
  CHECK(v.vetted);
  CHECK_INT(v.agreeing_classes, 2);
  CHECK_INT(v.agreeing, 3);
  CHECK(fabs(v.offset) < 2e-6);
  for (int i = 0; i < 4; i++) CHECK_INT(res[i].state, SS_CLASS_OUTVOTED);
  CHECK(contains(res[0].why, "class GPS ["));
  /* Counting sources, the four GPS receivers would win. */
  p.mode = VOTE_MODE_SOURCES;
  run(&p, in, 7);
  CHECK(v.vetted);
  CHECK(v.offset > 10e-6);
  CHECK_INT(res[4].state, SS_FALSETICKER);
  CHECK_INT(res[6].state, SS_FALSETICKER);
}

static void test_split_class_abstains(void) {
  struct vote_input in[4] = {src(CLASS_GPS, 0.0, 0.0001), src(CLASS_GPS, 1.0, 0.0001),
                             src(CLASS_GAL, 0.0002, 0.0001), src(CLASS_DCF, 0.003, 0.005)};
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  run(&p, in, 4);
  CHECK(v.vetted);
  CHECK_INT(v.classes, 3);
  CHECK_INT(v.agreeing_classes, 2);
  CHECK_INT(res[0].state, SS_CLASS_SPLIT);
  CHECK_INT(res[1].state, SS_CLASS_SPLIT);
  CHECK_STR(res[0].why, "class GPS has no majority: 1 of 2 sources agree");
  CHECK_STR(source_state_name(SS_CLASS_SPLIT), "class-split");
  /* With minclasses 3 the abstention shows. */
  p.minclasses = 3;
  run(&p, in, 4);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "only 2 classes agree, 3 required");
}

static void test_classes_no_majority(void) {
  struct vote_input in[2] = {src(CLASS_GPS, 0.0, 0.0001), src(CLASS_DCF, 1.0, 0.005)};
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  run(&p, in, 2);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "no majority: 1 of 2 classes agree");
  CHECK_INT(res[0].state, SS_CLASS_OUTVOTED);
  CHECK_STR(res[0].why, "no majority among classes: 1 of 2 classes agree");
  CHECK_INT(v.agreeing, 0);
  CHECK_INT(v.leap, 3);
  /* Every class split: nothing to vote with. */
  struct vote_input sp[4] = {src(CLASS_GPS, 0.0, 0.0001), src(CLASS_GPS, 1.0, 0.0001),
                             src(CLASS_GAL, 0.0, 0.0001), src(CLASS_GAL, 2.0, 0.0001)};
  run(&p, sp, 4);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "no majority: no class has a majority of its own (2 classes split)");
}

static void test_one_class_only(void) {
  struct vote_input in[3] = {src(CLASS_NTP, 0.0001, 0.0005), src(CLASS_NTP, -0.0001, 0.0005),
                             src(CLASS_NTP, 0.25, 0.0005)};
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  run(&p, in, 3);
  CHECK(v.vetted);
  CHECK_INT(v.classes, 1);
  CHECK_INT(v.agreeing_classes, 1);
  CHECK_INT(res[2].state, SS_FALSETICKER);
  CHECK_STR(res[2].why, "offset +0.250000 s outside the NTP class interval "
                        "[-0.000400, +0.000400] s");
  p.minclasses = 2;
  run(&p, in, 3);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "only 1 class agrees, 2 required");
  CHECK_INT(v.stratum, 16);
  CHECK(v.best >= 0); /* the figures are still there for display */
  p.minclasses = 1;
  p.minsources = 3;
  run(&p, in, 3);
  CHECK_STR(v.why_not, "only 2 sources agree, 3 required");
  p.minsources = 4;
  in[1].offset = 0.5;
  in[2].offset = 0.0;
  in[1].stale = true;
  run(&p, in, 3);
  CHECK_STR(v.why_not, "only 2 sources agree, 4 required");
  in[2].stale = true;
  run(&p, in, 3);
  CHECK_STR(v.why_not, "only 1 source agrees, 4 required");
}

/* chrony test/simulation/009-sourceselection: 2 of 5 falsetickers are
 * named, 3 of 5 mutually disagreeing leave no majority. */
static void test_chrony_009(void) {
  for (int mode = 0; mode < 2; mode++) {
    struct vote_input in[5] = {src(CLASS_NTP, 0.0001, 0.001), src(CLASS_NTP, -0.0002, 0.001),
                               src(CLASS_NTP, 0.0, 0.001), src(CLASS_NTP, 0.5, 0.001),
                               src(CLASS_NTP, -0.7, 0.001)};
    struct vote_policy p = policy((enum vote_mode)mode);
    run(&p, in, 5);
    CHECK(v.vetted);
    CHECK_INT(v.agreeing, 3);
    CHECK_INT(res[3].state, SS_FALSETICKER);
    CHECK_INT(res[4].state, SS_FALSETICKER);
    CHECK(contains(res[3].why, "offset +0.500000 s outside the"));
    CHECK(contains(res[4].why, "offset -0.700000 s outside the"));
    for (int i = 0; i < 3; i++) CHECK(res[i].state == SS_COMBINED || res[i].state == SS_BEST);
    in[2].offset = 1.3; /* now 3 of 5 lie, each differently */
    run(&p, in, 5);
    CHECK(!v.vetted);
    CHECK_STR(v.why_not, "no majority: 2 of 5 sources agree");
    CHECK_INT(v.agreeing, 0);
    CHECK_INT(res[0].state, mode == VOTE_MODE_CLASSES ? SS_CLASS_SPLIT : SS_FALSETICKER);
  }
}

/* ------------------------------------------------------------------ */
/* Policy flags                                                        */

static void test_sanity_filter(void) {
  struct vote_input in[9];
  for (int i = 0; i < 9; i++) in[i] = src(CLASS_GPS, 0.0, 0.0001);
  in[0].flags = VOTE_F_NOSELECT;
  in[0].have_sample = false; /* noselect comes first */
  in[1].have_sample = false;
  in[1].reachable = false;   /* no sample comes before unreachable */
  in[2].reachable = false;
  in[3].leap = 3;
  in[4].stratum = 16;
  in[5].stale = true;
  in[6].error = 2.0;
  in[7].error = NAN;
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  run(&p, in, 9);
  static const enum source_state want[9] = {SS_NOSELECT, SS_NO_SAMPLE, SS_UNREACHABLE,
                                            SS_UNSYNC, SS_BAD_STRATUM, SS_STALE, SS_TOO_FAR,
                                            SS_NO_SAMPLE, SS_BEST};
  for (int i = 0; i < 9; i++) CHECK_INT(res[i].state, want[i]);
  CHECK_STR(res[0].why, "noselect: monitored, never selected");
  CHECK_STR(res[1].why, "no sample yet");
  CHECK_STR(res[2].why, "not reachable");
  CHECK_STR(res[3].why, "leap indicator 3: not synchronised");
  CHECK_STR(res[4].why, "stratum 16 above maxstratum 15");
  CHECK_STR(res[5].why, "last sample too old (stale)");
  CHECK_STR(res[6].why, "error bound 2.000000 s above maxdistance 1.500000 s");
  CHECK_STR(res[7].why, "sample without a valid error bound");
  CHECK(v.vetted);
  CHECK_INT(v.candidates, 1);
  for (int s = 0; s < SS_STATE_COUNT; s++) CHECK(strcmp(source_state_name(s), "?") != 0);
  CHECK_STR(source_state_name(SS_TOO_FAR), "too-far");
  CHECK_STR(source_state_name(SS_STATE_COUNT), "?");
  /* Nothing left to vote with. */
  run(&p, in, 8);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "no usable source (8 configured)");
  run(&p, in, 0);
  CHECK_STR(v.why_not, "no usable source (0 configured)");
}

static void test_trust(void) {
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  struct vote_input in[4] = {src(CLASS_NTP, 0.0, 0.0005), src(CLASS_NTP, 1.0, 0.0005),
                             src(CLASS_NTP, 1.0002, 0.0005), src(CLASS_NTP, 1.0001, 0.0005)};
  in[0].flags = VOTE_F_TRUST;
  /* The majority (three at +1 s) excludes the trusted source: trust decides. */
  run(&p, in, 4);
  CHECK(v.vetted);
  CHECK_INT(v.best, 0);
  CHECK_INT(res[0].state, SS_BEST);
  CHECK(contains(res[0].why, "trusted sources decide [-0.000500, +0.000500] s"));
  CHECK_INT(res[1].state, SS_FALSETICKER);
  CHECK_NEAR(v.offset, 0.0, 1e-12);
  CHECK_NEAR(v.low, -0.0005, 1e-12);
  /* A second trusted source that disagrees voids the trust. */
  in[1].flags = VOTE_F_TRUST;
  run(&p, in, 4);
  CHECK(v.vetted);
  CHECK_INT(res[0].state, SS_FALSETICKER);
  CHECK(v.offset > 0.99);
  CHECK(!contains(res[v.best].why, "trusted"));
  /* No majority: the trusted source alone decides. */
  struct vote_input nm[3] = {src(CLASS_NTP, 0.0, 0.0005), src(CLASS_NTP, 1.0, 0.0005),
                             src(CLASS_NTP, 2.0, 0.0005)};
  nm[2].flags = VOTE_F_TRUST;
  run(&p, nm, 3);
  CHECK(v.vetted);
  CHECK_INT(v.best, 2);
  CHECK_INT(v.agreeing, 1);
  CHECK_INT(res[0].state, SS_FALSETICKER);
  /* Classes mode: a trusted DCF source survives its class being outvoted. */
  struct vote_policy pc = policy(VOTE_MODE_CLASSES);
  struct vote_input cl[3] = {src(CLASS_DCF, 0.5, 0.01), src(CLASS_GPS, 0.0, 0.0001),
                             src(CLASS_GAL, 0.0, 0.0001)};
  cl[0].flags = VOTE_F_TRUST;
  run(&pc, cl, 3);
  CHECK(v.vetted);
  CHECK_INT(res[0].state, SS_BEST);
  CHECK_INT(res[1].state, SS_FALSETICKER); /* outside what the trusted source decides */
  CHECK_NEAR(v.offset, 0.5, 1e-9);
  /* A trusted source inside the majority changes nothing. */
  cl[0].offset = 0.0;
  run(&pc, cl, 3);
  CHECK(v.vetted);
  CHECK_INT(v.agreeing, 3);
  CHECK(!contains(res[v.best].why, "trusted"));
}

static void test_require(void) {
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  struct vote_input in[5] = {src(CLASS_NTP, 0.0, 0.0005), src(CLASS_NTP, 0.0001, 0.0005),
                             src(CLASS_NTP, -0.0001, 0.0005), src(CLASS_NTP, 0.3, 0.0005),
                             src(CLASS_NTP, 0.0, 0.0005)};
  in[3].flags = VOTE_F_REQUIRE;
  run(&p, in, 5);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "required source 3 is not selected (falseticker)");
  CHECK(v.best >= 0);
  in[3].offset = 0.0002;
  run(&p, in, 5);
  CHECK(v.vetted);
  in[3].reachable = false;
  run(&p, in, 5);
  CHECK_STR(v.why_not, "required source 3 is not selected (unreachable)");
}

static void test_prefer(void) {
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  struct vote_input in[3] = {src(CLASS_GPS, 0.0001, 0.0002), src(CLASS_GAL, 0.0003, 0.0008),
                             src(CLASS_DCF, 0.0, 0.004)};
  run(&p, in, 3);
  CHECK_INT(v.best, 0); /* smallest error bound */
  CHECK_INT(res[0].state, SS_BEST);
  CHECK(contains(res[0].why, "best (smallest error bound)"));
  CHECK_INT(res[1].state, SS_COMBINED);
  in[1].flags = VOTE_F_PREFER;
  run(&p, in, 3);
  CHECK_INT(v.best, 1);
  CHECK(contains(res[1].why, "best (prefer)"));
  CHECK_NEAR(v.offset, 0.0003, 1e-12);
  CHECK_INT(v.ref_class, CLASS_GAL);
  /* A prefer source outside the vote is not best. */
  in[1].offset = 0.5;
  run(&p, in, 3);
  CHECK(v.vetted);
  CHECK_INT(v.best, 0);
  CHECK_INT(res[1].state, SS_FALSETICKER);
  /* A prefer offset outside [low, high] is clamped into it. */
  struct vote_input c[3] = {src(CLASS_GPS, 0.0, 0.001), src(CLASS_GAL, 0.0015, 0.001),
                            src(CLASS_DCF, 0.0035, 0.003)};
  c[2].flags = VOTE_F_PREFER;
  run(&p, c, 3);
  CHECK_INT(v.best, 2);
  CHECK_NEAR(v.low, 0.0005, 1e-12); /* covered by 2 of 3 */
  CHECK_NEAR(v.high, 0.0025, 1e-12);
  CHECK_NEAR(v.offset, 0.0025, 1e-12);
  CHECK_NEAR(v.error, 0.002, 1e-12);
}

static void test_combine(void) {
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  struct vote_input in[2] = {src(CLASS_GPS, 0.0, 0.001), src(CLASS_GAL, 0.0005, 0.002)};
  in[0].stratum = 0;
  run(&p, in, 2);
  CHECK(v.vetted);
  CHECK_NEAR(v.low, -0.001, 1e-12);
  CHECK_NEAR(v.high, 0.001, 1e-12);
  /* Without statistics (sd 0) the error bound stands in for the spread:
   * weights 1/bound^2. */
  double mean = (0.0 / 1e-6 + 0.0005 / 4e-6) / (1 / 1e-6 + 1 / 4e-6);
  CHECK_NEAR(v.offset, mean, 1e-12);
  CHECK_NEAR(v.error, mean + 0.001, 1e-12);
  CHECK_INT(v.best, 0);
  CHECK_INT(v.stratum, 1); /* a receiver is stratum 0 */
  CHECK_INT(v.ref_class, CLASS_GPS);
  CHECK_STR(res[1].why, "offset +0.000500 s ±0.002000 s, sd 0.002000 s");
  /* A measured spread weighs more than the bound: sd 10 us against 2 ms. */
  in[1].sd = 1e-5;
  run(&p, in, 2);
  CHECK_NEAR(v.offset, (0.0 / 1e-6 + 0.0005 / 1e-10) / (1 / 1e-6 + 1 / 1e-10), 1e-12);
  in[1].sd = 0;
  /* mindist pads a tiny error bound, and weighs it. */
  struct vote_input t[2] = {src(CLASS_GPS, 0.0, 1e-9), src(CLASS_GAL, 0.0009, 1e-9)};
  run(&p, t, 2);
  CHECK(!v.vetted); /* 1 us of default padding: they disagree */
  p.mindist = 0.001;
  run(&p, t, 2);
  CHECK_NEAR(v.low, -0.0001, 1e-12);
  CHECK_NEAR(v.high, 0.001, 1e-12);
  CHECK_NEAR(v.offset, 0.00045, 1e-12);
}

static void test_leap(void) {
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  struct vote_input in[3] = {src(CLASS_GPS, 0.0, 0.001), src(CLASS_GAL, 0.0, 0.001),
                             src(CLASS_DCF, 0.0, 0.001)};
  run(&p, in, 3);
  CHECK_INT(v.leap, 0);
  CHECK(!v.leap_disagree);
  in[0].leap = in[1].leap = 1;
  run(&p, in, 3);
  CHECK_INT(v.leap, 1);
  CHECK(v.leap_disagree);
  run(&p, in + 1, 2); /* 1 against 0: no majority for the leap */
  CHECK_INT(v.leap, 0);
  CHECK(v.leap_disagree);
  in[2].leap = 2;
  in[0].leap = in[1].leap = 2;
  run(&p, in, 3);
  CHECK_INT(v.leap, 2);
  CHECK(!v.leap_disagree);
  /* A falseticker's leap bits do not count. */
  in[2].leap = 1;
  in[2].offset = 5.0;
  run(&p, in, 3);
  CHECK_INT(v.leap, 2);
  CHECK(!v.leap_disagree);
}

static void test_sources_mode(void) {
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  struct vote_input in[3] = {src(CLASS_DCF, 0.0, 0.001), src(CLASS_DCF, 0.0002, 0.001),
                             src(CLASS_GPS, 0.3, 0.0001)};
  run(&p, in, 3);
  CHECK(v.vetted);
  CHECK_INT(v.classes, 2);
  CHECK_INT(v.agreeing_classes, 1);
  CHECK_INT(v.class_mask, 1u << CLASS_DCF);
  CHECK_INT(res[2].state, SS_FALSETICKER);
  CHECK_STR(res[2].why, "offset +0.300000 s outside the vetted interval [-0.000800, +0.001000] s");
  p.minclasses = 2; /* classes mode only */
  run(&p, in, 3);
  CHECK(v.vetted);
}

/* The why texts' own number formatting matches printf's. */
static void test_why_figures(void) {
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  p.maxdistance = 1e12;
  char want[128];
  int mismatches = 0;
  for (int k = 0; k < 3000; k++) {
    double mag = pow(10.0, (double)(random() % 22) - 10.0);
    double off = (rnd() - 0.5) * 2 * mag, err = rnd() * mag + 1e-9;
    if (k == 0) off = -1e-9; /* "-0.000000", as printf */
    if (k == 1) off = 157766400.0; /* five years */
    if (k == 2) off = -3e10;       /* past the integer path */
    struct vote_input in = src(CLASS_GPS, off, err);
    run(&p, &in, 1);
    snprintf(want, sizeof want, "best (smallest error bound): offset %+.6f s \u00b1%.6f s", off, err);
    if (strcmp(res[0].why, want) != 0 && mismatches++ < 5)
      fprintf(stderr, "why \"%s\", printf \"%s\"\n", res[0].why, want);
  }
  CHECK_INT(mismatches, 0);
}

static void test_limit(void) {
  static struct vote_input in[VOTE_MAX_SOURCES + 2];
  for (int i = 0; i < VOTE_MAX_SOURCES + 2; i++)
    in[i] = src((enum ref_class)(i % (CLASS_COUNT - 1)), (i % 7) * 1e-4, 0.001);
  in[5].ref_class = (enum ref_class)99; /* out of range: UNKNOWN */
  _Static_assert(CLASS_LOCL == CLASS_COUNT - 1, "LOCL, which never votes, is the last class");
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  run(&p, in, VOTE_MAX_SOURCES + 2);
  CHECK(v.vetted);
  CHECK_INT(v.candidates, VOTE_MAX_SOURCES);
  CHECK_INT(v.agreeing, VOTE_MAX_SOURCES);
  CHECK_INT(v.classes, CLASS_COUNT - 1);
  CHECK_INT(res[VOTE_MAX_SOURCES].state, SS_NOSELECT);
  CHECK_STR(res[VOTE_MAX_SOURCES + 1].why, "beyond the vote's limit of 4096 sources");
}

/* ------------------------------------------------------------------ */
/* Who may vote, holds and outliers (issue 8)                          */

/* A server on its own oscillator (refid LOCL) is watched, never a voter:
 * it counts toward neither minsources nor minclasses and says why. */
static void test_local_oscillator_never_votes(void) {
  struct vote_input in[3] = {src(CLASS_GPS, 0.000974, 0.00005), src(CLASS_GAL, -0.000016, 0.00005),
                             src(CLASS_DCF, -0.000024, 0.00005)};
  in[0].local_osc = true;
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  p.minclasses = 3;
  run(&p, in, 3);
  CHECK(!v.vetted);
  CHECK_STR(v.why_not, "only 2 classes agree, 3 required");
  CHECK_INT(res[0].state, SS_LOCAL_OSC);
  CHECK_STR(res[0].why, "runs on its own oscillator (refid LOCL): watched, never votes");
  CHECK_STR(source_state_name(SS_LOCAL_OSC), "local-osc");
  CHECK_INT(v.candidates, 2);
  p.minclasses = 1;
  run(&p, in, 3);
  CHECK(v.vetted);
  CHECK(v.offset <= -0.000016 && v.offset >= -0.000024); /* between the two voters */
  in[0].local_osc = false;
  in[0].ref_class = CLASS_LOCL; /* inferred from the refid: the same */
  run(&p, in, 3);
  CHECK_INT(res[0].state, SS_LOCAL_OSC);
}

/* A held source (a detector's condition) stays in the selection but has no
 * weight: with two of three held after they stepped together, the
 * majority is still theirs (no flapping back to the lone honest one). */
static void test_hold(void) {
  struct vote_input in[3] = {src(CLASS_GPS, 0.002, 0.0001), src(CLASS_GAL, 0.00201, 0.0001),
                             src(CLASS_DCF, 0.0, 0.0001)};
  in[0].hold = in[1].hold = "step";
  struct vote_policy p = policy(VOTE_MODE_CLASSES);
  run(&p, in, 3);
  CHECK(v.vetted);
  CHECK_INT(res[0].state, SS_HELD);
  CHECK_INT(res[1].state, SS_HELD);
  CHECK_STR(res[0].why, "offset +0.002000 s agrees, left out of the estimate while its step "
                        "condition holds");
  CHECK_INT(res[2].state, SS_CLASS_OUTVOTED);
  CHECK(v.offset >= 0.002 && v.offset <= 0.00201);
  CHECK_INT(v.agreeing, 2);
  CHECK_INT(v.combined, 0);
  /* One held source of three that agree: the estimate is the others'. */
  struct vote_input ag[3] = {src(CLASS_NTP, 0.00008, 0.0001), src(CLASS_NTP, 0.0, 0.0001),
                             src(CLASS_NTP, 0.00002, 0.0001)};
  ag[0].hold = "slow-walk";
  p.mode = VOTE_MODE_SOURCES;
  run(&p, ag, 3);
  CHECK(v.vetted);
  CHECK_INT(res[0].state, SS_HELD);
  CHECK_NEAR(v.offset, 0.00002, 1e-12); /* the mean of 0 and 20 us, clamped to the median */
}

/* A source inside the selection but too far from the median for its
 * spread is an outlier: agreeing, not in the estimate. */
static void test_outlier(void) {
  struct vote_input in[3] = {src(CLASS_NTP, 0.0, 0.0003), src(CLASS_NTP, 0.00001, 0.0003),
                             src(CLASS_NTP, 0.0004, 0.0003)};
  for (int i = 0; i < 3; i++) in[i].sd = 20e-6;
  struct vote_policy p = policy(VOTE_MODE_SOURCES);
  run(&p, in, 3);
  CHECK(v.vetted);
  CHECK_INT(res[2].state, SS_OUTLIER);
  CHECK(contains(res[2].why, "sd from the others' median +0.000005 s: left out of the estimate"));
  /* Measured against the others, not a median it drags: the two honest
   * ones stay in the estimate. */
  CHECK(res[0].state == SS_COMBINED || res[0].state == SS_BEST);
  CHECK(res[1].state == SS_COMBINED || res[1].state == SS_BEST);
  CHECK_INT(v.agreeing, 3);
  CHECK_INT(v.combined, 2);
  CHECK_NEAR(v.offset, 0.00001, 1e-12); /* clamped to the median of three */
  CHECK(v.low <= 0 && v.high >= 0.00001);
  /* 2.5 sd from the others' median (5 us; its sd hypot(20, 20) / 2): in
   * the estimate, unless it was an outlier last round (re-entry within 2). */
  in[2].offset = 0.000005 + 2.5 * hypot(20e-6, hypot(20e-6, 20e-6) / 2);
  run(&p, in, 3);
  CHECK(res[2].state == SS_COMBINED || res[2].state == SS_BEST);
  in[2].was_outlier = true;
  run(&p, in, 3);
  CHECK_INT(res[2].state, SS_OUTLIER);
  in[2].offset = 0.000005 + 1.9 * hypot(20e-6, hypot(20e-6, 20e-6) / 2);
  run(&p, in, 3);
  CHECK(res[2].state == SS_COMBINED || res[2].state == SS_BEST);
}

int main(void) {
  unit_init();
  RUN(test_intersect_random);
  RUN(test_intersect_edges);
  RUN(test_intersect_large);
  RUN(test_dcf_outvoted);
  RUN(test_gps_constellation_outvoted);
  RUN(test_split_class_abstains);
  RUN(test_classes_no_majority);
  RUN(test_one_class_only);
  RUN(test_chrony_009);
  RUN(test_sanity_filter);
  RUN(test_trust);
  RUN(test_require);
  RUN(test_prefer);
  RUN(test_combine);
  RUN(test_leap);
  RUN(test_sources_mode);
  RUN(test_why_figures);
  RUN(test_limit);
  RUN(test_local_oscillator_never_votes);
  RUN(test_hold);
  RUN(test_outlier);
  return unit_done();
}
