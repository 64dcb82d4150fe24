/* A tiny unit-test harness (in the spirit of chrony's test/unit/test.c).
 * A test is a function; it passes when none of its CHECKs failed. Each test
 * binary ends with the line "N passed, N failed" and exits non-zero if any
 * test failed. Randomised tests seed with UNIT_SEED (printed on failure) so
 * a failing run can be repeated with UNIT_SEED=... in the environment. */
#ifndef VT_UNIT_H
#define VT_UNIT_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_passed, unit_failed, unit_current_failed;
static unsigned long unit_seed = 12345;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                      \
      unit_current_failed++;                                               \
    }                                                                      \
  } while (0)

#define CHECK_INT(a, b)                                                    \
  do {                                                                     \
    long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);          \
    if (unit_a_ != unit_b_) {                                              \
      fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
              __LINE__, #a, unit_a_, #b, unit_b_);                         \
      unit_current_failed++;                                               \
    }                                                                      \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                              \
  do {                                                                     \
    double unit_a_ = (a), unit_b_ = (b);                                   \
    if (!(fabs(unit_a_ - unit_b_) <= (tol))) {                             \
      fprintf(stderr, "%s:%d: %s == %.12g, expected %.12g +- %g\n",        \
              __FILE__, __LINE__, #a, unit_a_, unit_b_, (double)(tol));    \
      unit_current_failed++;                                               \
    }                                                                      \
  } while (0)

#define CHECK_STR(a, b)                                                    \
  do {                                                                     \
    const char *unit_a_ = (a), *unit_b_ = (b);                             \
    if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) {           \
      fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,  \
              __LINE__, #a, unit_a_ ? unit_a_ : "(null)",                  \
              unit_b_ ? unit_b_ : "(null)");                               \
      unit_current_failed++;                                               \
    }                                                                      \
  } while (0)

#define RUN(test)                                                          \
  do {                                                                     \
    unit_current_failed = 0;                                               \
    test();                                                                \
    if (unit_current_failed) {                                             \
      unit_failed++;                                                       \
      fprintf(stderr, "FAIL %s (seed %lu)\n", #test, unit_seed);           \
    } else {                                                               \
      unit_passed++;                                                       \
    }                                                                      \
  } while (0)

static inline void unit_init(void) {
  const char *s = getenv("UNIT_SEED");
  if (s) unit_seed = strtoul(s, NULL, 10);
  srandom((unsigned)unit_seed);
}

static inline int unit_done(void) {
  printf("%d passed, %d failed\n", unit_passed, unit_failed);
  return unit_failed ? 1 : 0;
}

#endif
