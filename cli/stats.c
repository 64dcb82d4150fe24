/* Exact order statistics and a least-squares slope: see stats.h. */
#include "cli/stats.h"

#include <math.h>
#include <stdlib.h>

int stats_vec_push(struct stats_vec *s, double x) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    double *v = realloc(s->v, cap * sizeof *v);
    if (!v) return -1;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = x;
  return 0;
}

void stats_vec_free(struct stats_vec *s) {
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void stats_sort(double *v, size_t n) {
  if (n > 1) qsort(v, n, sizeof *v, cmp_double);
}

double stats_median_sorted(const double *v, size_t n) {
  if (n == 0) return NAN;
  if (n % 2) return v[n / 2];
  /* the two middle values' mean, written so that it cannot overflow */
  return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

double stats_rank_sorted(const double *v, size_t n, double q) {
  if (n == 0 || !(q > 0) || q > 1) return NAN;
  /* ceil(q n) computed in a way that 0.99 * 100 (98.99999...) gives 99 */
  double r = ceil(q * (double)n - 1e-9);
  size_t rank = r < 1 ? 1 : (size_t)r;
  if (rank > n) rank = n;
  return v[rank - 1];
}

void stats_offsets(double *v, size_t n, struct stats_offsets *out) {
  out->n = n;
  stats_sort(v, n);
  out->median = stats_median_sorted(v, n);
  for (size_t i = 0; i < n; i++) v[i] = fabs(v[i]);
  stats_sort(v, n);
  out->p99_abs = stats_rank_sorted(v, n, 0.99);
  out->max_abs = n ? v[n - 1] : NAN;
}

void stats_bounds(double *v, size_t n, struct stats_bounds *out) {
  out->n = n;
  stats_sort(v, n);
  out->median = stats_median_sorted(v, n);
  out->p99 = stats_rank_sorted(v, n, 0.99);
  out->max = n ? v[n - 1] : NAN;
}

void stats_linfit_add(struct stats_linfit *f, double x, double y) {
  f->n++;
  double dx = x - f->mean_x;
  f->mean_x += dx / (double)f->n;
  double dy = y - f->mean_y;
  f->mean_y += dy / (double)f->n;
  /* the updated mean of x with the old deviation: Welford's co-moment */
  f->sxx += dx * (x - f->mean_x);
  f->sxy += dx * (y - f->mean_y);
}

double stats_linfit_slope(const struct stats_linfit *f) {
  if (f->n < 2 || !(f->sxx > 0)) return NAN;
  return f->sxy / f->sxx;
}
