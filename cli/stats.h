/* Exact statistics for `vettime report`, over arrays of doubles. Pure: no
 * I/O. The caller holds one series at a time (one source's offsets over
 * the period: 30 days at 16 s polls is 162,000 doubles, 1.3 MB), so exact
 * order statistics by sorting cost little; no streaming estimate (P²,
 * t-digest) is needed, and the figures can be checked against any other
 * tool.
 *
 * Definitions (the report's documentation refers to these):
 *   median   the middle value of the sorted series; for an even count the
 *            mean of the two middle values.
 *   p99      nearest rank: the ceil(0.99 n)-th smallest value (1-based), a
 *            value of the series itself. Of |x| for offsets ("p99 |offset|").
 *   max      the largest value (of |x| for offsets).
 *   slope    ordinary least squares of y over x. */
#ifndef VT_STATS_H
#define VT_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* A growable array of doubles. */
struct stats_vec {
  double *v;
  size_t n, cap;
};
/* Appends x; returns 0, or -1 when out of memory (the vector is intact). */
int stats_vec_push(struct stats_vec *s, double x);
void stats_vec_free(struct stats_vec *s);

/* Sorts v ascending in place. */
void stats_sort(double *v, size_t n);
/* Over a sorted array: the median, and the nearest-rank quantile q in
 * (0, 1] (p99: q = 0.99). NaN when n is 0. */
double stats_median_sorted(const double *v, size_t n);
double stats_rank_sorted(const double *v, size_t n, double q);

/* A signed series (offsets) summarised: median of the values, and p99 and
 * max of their absolute values. v is reordered (sorted, then replaced by
 * its sorted absolute values). Every figure is NaN for an empty series. */
struct stats_offsets {
  size_t n;
  double median, p99_abs, max_abs;
};
void stats_offsets(double *v, size_t n, struct stats_offsets *out);

/* A non-negative series (error bounds): median, p99 and max. v is sorted. */
struct stats_bounds {
  size_t n;
  double median, p99, max;
};
void stats_bounds(double *v, size_t n, struct stats_bounds *out);

/* Least squares, accumulated one point at a time with centred sums
 * (Welford), so that x as Unix seconds and y in microseconds do not lose
 * the slope to cancellation. */
struct stats_linfit {
  size_t n;
  double mean_x, mean_y, sxx, sxy;
};
void stats_linfit_add(struct stats_linfit *f, double x, double y);
/* dy/dx; NaN with fewer than two distinct x. */
double stats_linfit_slope(const struct stats_linfit *f);

#endif
