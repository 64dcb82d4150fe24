/* Unit tests for cli/stats.c: median and nearest-rank p99 exact on small
 * known arrays (odd, even, one, none, ties, negatives), the offsets and
 * bounds summaries, the growable vector, and the least-squares slope
 * (exact on a line, stable with Unix-time x). */
#include "cli/stats.h"

#include <math.h>

#include "unit.h"

static void test_median(void) {
  double a[] = {5, 1, 3};
  stats_sort(a, 3);
  CHECK_NEAR(stats_median_sorted(a, 3), 3, 0);
  double b[] = {4, 1, 3, 2};
  stats_sort(b, 4);
  CHECK_NEAR(stats_median_sorted(b, 4), 2.5, 0);
  double c[] = {7};
  CHECK_NEAR(stats_median_sorted(c, 1), 7, 0);
  CHECK(isnan(stats_median_sorted(c, 0)));
  double d[] = {-3, -1, -2, -4};
  stats_sort(d, 4);
  CHECK_NEAR(stats_median_sorted(d, 4), -2.5, 0);
  double e[] = {2, 2, 2, 9, 2};
  stats_sort(e, 5);
  CHECK_NEAR(stats_median_sorted(e, 5), 2, 0);
  /* no overflow on huge values */
  double f[] = {1e308, 1.5e308};
  CHECK_NEAR(stats_median_sorted(f, 2), 1.25e308, 1e294);
}

/* Nearest rank: the ceil(q n)-th smallest. */
static void test_rank(void) {
  double v[100];
  for (int i = 0; i < 100; i++) v[i] = i + 1; /* 1..100 */
  CHECK_NEAR(stats_rank_sorted(v, 100, 0.99), 99, 0);
  CHECK_NEAR(stats_rank_sorted(v, 100, 1.0), 100, 0);
  CHECK_NEAR(stats_rank_sorted(v, 100, 0.5), 50, 0);
  CHECK_NEAR(stats_rank_sorted(v, 100, 0.001), 1, 0);
  CHECK_NEAR(stats_rank_sorted(v, 10, 0.99), 10, 0);  /* ceil(9.9) = 10 */
  CHECK_NEAR(stats_rank_sorted(v, 101, 0.99), 100, 0); /* ceil(99.99) = 100 */
  CHECK_NEAR(stats_rank_sorted(v, 1, 0.99), 1, 0);
  CHECK(isnan(stats_rank_sorted(v, 0, 0.99)));
  CHECK(isnan(stats_rank_sorted(v, 10, 0)));
  CHECK(isnan(stats_rank_sorted(v, 10, 1.5)));
  double w[200];
  for (int i = 0; i < 200; i++) w[i] = i; /* ceil(198) = 198th: value 197 */
  CHECK_NEAR(stats_rank_sorted(w, 200, 0.99), 197, 0);
}

static void test_offsets_summary(void) {
  double v[] = {3e-6, -10e-6, 1e-6, 2e-6, -1e-6};
  struct stats_offsets s;
  stats_offsets(v, 5, &s);
  CHECK_INT(s.n, 5);
  CHECK_NEAR(s.median, 1e-6, 0);
  CHECK_NEAR(s.p99_abs, 10e-6, 0); /* ceil(4.95) = 5th of |v| */
  CHECK_NEAR(s.max_abs, 10e-6, 0);
  struct stats_offsets e;
  stats_offsets(NULL, 0, &e);
  CHECK(isnan(e.median) && isnan(e.p99_abs) && isnan(e.max_abs));
  double b[] = {4, 1, 3, 2};
  struct stats_bounds sb;
  stats_bounds(b, 4, &sb);
  CHECK_NEAR(sb.median, 2.5, 0);
  CHECK_NEAR(sb.p99, 4, 0);
  CHECK_NEAR(sb.max, 4, 0);
}

static void test_vector(void) {
  struct stats_vec v = {0};
  for (int i = 0; i < 5000; i++) CHECK_INT(stats_vec_push(&v, 5000 - i), 0);
  CHECK_INT(v.n, 5000);
  stats_sort(v.v, v.n);
  CHECK_NEAR(v.v[0], 1, 0);
  CHECK_NEAR(stats_median_sorted(v.v, v.n), 2500.5, 0);
  CHECK_NEAR(stats_rank_sorted(v.v, v.n, 0.99), 4950, 0);
  stats_vec_free(&v);
  CHECK(v.v == NULL && v.n == 0);
}

static void test_slope(void) {
  struct stats_linfit f = {0};
  CHECK(isnan(stats_linfit_slope(&f)));
  stats_linfit_add(&f, 1, 5);
  CHECK(isnan(stats_linfit_slope(&f)));
  stats_linfit_add(&f, 1, 6); /* same x: no slope */
  CHECK(isnan(stats_linfit_slope(&f)));
  struct stats_linfit g = {0};
  for (int i = 0; i < 10; i++) stats_linfit_add(&g, i, 2.0 * i + 1);
  CHECK_NEAR(stats_linfit_slope(&g), 2.0, 1e-12);
  /* 1 ppm over a day of Unix times: no cancellation */
  struct stats_linfit h = {0};
  for (int i = 0; i <= 86400; i += 16) {
    double x = 1.7e9 + i;
    stats_linfit_add(&h, x, 1e-6 * i + ((i / 16) % 2 ? 1e-9 : -1e-9));
  }
  CHECK_NEAR(stats_linfit_slope(&h) * 1e6, 1.0, 1e-6);
}

int main(void) {
  unit_init();
  RUN(test_median);
  RUN(test_rank);
  RUN(test_offsets_summary);
  RUN(test_vector);
  RUN(test_slope);
  return unit_done();
}
