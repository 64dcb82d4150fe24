/* Unit tests of the roll-up arithmetic (monitor/rollup.c, issue 11):
 * bucket boundaries, a bucket closing when its series moves on or when
 * the high-water mark passes its end and the grace, a late entry as a
 * piece of its own, merging two pieces exactly as one bucket, the vetted
 * series' unvetted rounds, and the oldest open bucket that pruning keeps. */
#include "monitor/rollup.h"

#include <stdint.h>
#include <string.h>

#include "tests/unit/unit.h"

#define S 1000000000LL
#define T0 (1764460800LL * S) /* 2025-11-30T00:00:00Z, a whole hour */

static struct rollup_bucket emitted[64];
static int n_emitted;

static void collect(void *ctx, const struct rollup_bucket *b) {
  (void)ctx;
  if (n_emitted < 64) emitted[n_emitted++] = *b;
}

static struct rollup_entry sample(int64_t t, double offset, double bound) {
  struct rollup_entry e = {.time_ns = t, .has_value = true, .value = offset, .bound = bound};
  return e;
}

/* The emitted bucket of series and level starting at start, or NULL. */
static const struct rollup_bucket *find(int64_t series, enum rollup_level lv, int64_t start) {
  for (int i = 0; i < n_emitted; i++)
    if (emitted[i].series == series && emitted[i].level == lv && emitted[i].start_ns == start)
      return &emitted[i];
  return NULL;
}

static void test_bucket_start(void) {
  CHECK_INT(rollup_bucket_start(T0, ROLLUP_MINUTE), T0);
  CHECK_INT(rollup_bucket_start(T0 + 59 * S + 999999999, ROLLUP_MINUTE), T0);
  CHECK_INT(rollup_bucket_start(T0 + 60 * S, ROLLUP_MINUTE), T0 + 60 * S);
  CHECK_INT(rollup_bucket_start(T0 + 3599 * S, ROLLUP_HOUR), T0);
  CHECK_INT(rollup_bucket_start(-1, ROLLUP_MINUTE), -60 * S); /* floor before 1970 */
  CHECK_INT(rollup_width_ns(ROLLUP_HOUR), 3600 * S);
}

/* Figures of a bucket: min, max, running mean, worst and mean bound. */
static void test_bucket_figures(void) {
  struct rollup_bucket b;
  rollup_bucket_init(&b, 3, ROLLUP_MINUTE, T0);
  double offs[] = {157680000.000010, 157680000.000030, 157680000.000020};
  double bounds[] = {1e-4, 3e-4, 2e-4};
  for (int i = 0; i < 3; i++) {
    struct rollup_entry e = sample(T0 + i * S, offs[i], bounds[i]);
    rollup_bucket_add(&b, &e);
  }
  CHECK_INT(b.n, 3);
  CHECK_INT(b.nv, 3);
  CHECK(b.vmin == offs[0]);
  CHECK(b.vmax == offs[1]);
  /* a five-year offset keeps its microseconds in the mean */
  CHECK_NEAR(b.vmean, offs[2], 6e-8); /* within 2 ulp at 1.6e8 s: the microseconds stay */
  CHECK(b.bmax == 3e-4);
  CHECK_NEAR(b.bmean, 2e-4, 1e-15);
}

/* A series' minute bucket closes when its next entry falls in a later
 * minute; its hour bucket stays open. */
static void test_close_on_next_bucket(void) {
  n_emitted = 0;
  struct rollup_set *s = rollup_set_new(collect, NULL);
  for (int i = 0; i < 4; i++) {
    struct rollup_entry e = sample(T0 + 5 * S + i * 16 * S, 1e-3 * i, 1e-4);
    CHECK_INT(rollup_add(s, 7, &e), 0);
  }
  /* entries at 5, 21, 37, 53 s: one minute, nothing closed yet */
  CHECK_INT(n_emitted, 0);
  CHECK_INT(rollup_open_count(s), 2);
  struct rollup_entry e = sample(T0 + 69 * S, 5e-3, 1e-4);
  rollup_add(s, 7, &e);
  CHECK_INT(n_emitted, 1);
  const struct rollup_bucket *b = find(7, ROLLUP_MINUTE, T0);
  CHECK(b != NULL);
  if (b) {
    CHECK_INT(b->n, 4);
    CHECK_NEAR(b->vmean, 1.5e-3, 1e-15);
    CHECK(b->vmax == 3e-3);
  }
  CHECK(find(7, ROLLUP_HOUR, T0) == NULL);
  CHECK_INT(rollup_oldest_open(s), T0); /* the hour bucket */
  rollup_set_free(s);
}

/* A series that stops: its buckets close once any series' entries are a
 * width plus the grace past their end, not before. */
static void test_close_idle(void) {
  n_emitted = 0;
  struct rollup_set *s = rollup_set_new(collect, NULL);
  struct rollup_entry e = sample(T0 + 10 * S, 1e-3, 1e-4);
  rollup_add(s, 1, &e);
  e = sample(T0 + 60 * S + ROLLUP_GRACE_NS - 1, 0, 1e-4); /* series 2, just short */
  rollup_add(s, 2, &e);
  rollup_close_idle(s);
  CHECK(find(1, ROLLUP_MINUTE, T0) == NULL);
  e = sample(T0 + 60 * S + ROLLUP_GRACE_NS, 0, 1e-4);
  rollup_add(s, 2, &e);
  rollup_close_idle(s);
  CHECK(find(1, ROLLUP_MINUTE, T0) != NULL);
  CHECK(find(1, ROLLUP_HOUR, T0) == NULL);
  CHECK_INT(rollup_high_water(s), T0 + 60 * S + ROLLUP_GRACE_NS);
  e = sample(T0 + 3600 * S + ROLLUP_GRACE_NS, 0, 1e-4);
  rollup_add(s, 2, &e);
  rollup_close_idle(s);
  CHECK(find(1, ROLLUP_HOUR, T0) != NULL);
  CHECK(find(2, ROLLUP_HOUR, T0) != NULL);
  rollup_set_free(s);
}

/* An entry older than its series' open bucket (the clock stepped back)
 * is a piece of its own; the open bucket is untouched. */
static void test_late_entry(void) {
  n_emitted = 0;
  struct rollup_set *s = rollup_set_new(collect, NULL);
  struct rollup_entry e = sample(T0 + 130 * S, 1e-3, 1e-4);
  rollup_add(s, 4, &e);
  e = sample(T0 + 10 * S, 9e-3, 5e-4);
  rollup_add(s, 4, &e);
  const struct rollup_bucket *late = find(4, ROLLUP_MINUTE, T0);
  CHECK(late != NULL);
  if (late) {
    CHECK_INT(late->n, 1);
    CHECK(late->vmax == 9e-3);
  }
  CHECK_INT(n_emitted, 1); /* the hour bucket took it in: same hour */
  CHECK_INT(rollup_oldest_open(s), T0);
  rollup_set_free(s);
}

/* Two pieces merged give the figures of one bucket with every entry. */
static void test_merge_equals_whole(void) {
  struct rollup_bucket whole, a, b;
  rollup_bucket_init(&whole, 1, ROLLUP_MINUTE, T0);
  rollup_bucket_init(&a, 1, ROLLUP_MINUTE, T0);
  rollup_bucket_init(&b, 1, ROLLUP_MINUTE, T0);
  for (int i = 0; i < 10; i++) {
    struct rollup_entry e = sample(T0 + i * S, (double)((i * 7) % 10) * 1e-5, (double)(i + 1) * 1e-6);
    rollup_bucket_add(&whole, &e);
    rollup_bucket_add(i < 3 ? &a : &b, &e);
  }
  rollup_merge(&a, &b);
  CHECK_INT(a.n, whole.n);
  CHECK_INT(a.nv, whole.nv);
  CHECK(a.vmin == whole.vmin);
  CHECK(a.vmax == whole.vmax);
  CHECK_NEAR(a.vmean, whole.vmean, 1e-18);
  CHECK(a.bmax == whole.bmax);
  CHECK_NEAR(a.bmean, whole.bmean, 1e-18);
  /* merging an empty piece changes nothing; into an empty one copies */
  struct rollup_bucket empty;
  rollup_bucket_init(&empty, 1, ROLLUP_MINUTE, T0);
  rollup_merge(&a, &empty);
  CHECK_INT(a.n, 10);
  rollup_merge(&empty, &whole);
  CHECK_INT(empty.nv, 10);
  CHECK(empty.vmin == whole.vmin);
}

/* The vetted series: rounds that were not vetted count, carry no value,
 * and still lower the agreement minima. */
static void test_vetted_rounds(void) {
  struct rollup_bucket b;
  rollup_bucket_init(&b, 0, ROLLUP_MINUTE, T0);
  struct rollup_entry r1 = {.time_ns = T0, .has_value = true, .value = 2e-6, .bound = 1e-4,
                            .agree = 5, .classes = 3};
  struct rollup_entry r2 = {.time_ns = T0 + S, .has_value = false, .value = 99, .bound = 99,
                            .agree = 1, .classes = 1};
  rollup_bucket_add(&b, &r2);
  CHECK_INT(b.nv, 0);
  CHECK(isnan(b.vmean));
  rollup_bucket_add(&b, &r1);
  CHECK_INT(b.n, 2);
  CHECK_INT(b.nv, 1);
  CHECK(b.vmax == 2e-6);
  CHECK(b.bmax == 1e-4);
  CHECK_INT(b.agree_min, 1);
  CHECK_INT(b.classes_min, 1);
}

static void test_series_out_of_range(void) {
  struct rollup_set *s = rollup_set_new(collect, NULL);
  struct rollup_entry e = sample(T0, 0, 1e-4);
  CHECK_INT(rollup_add(s, -1, &e), -1);
  CHECK_INT(rollup_add(s, (int64_t)ROLLUP_SERIES_MAX + 1, &e), -1);
  CHECK_INT(rollup_add(s, 1000, &e), 0); /* grows */
  CHECK_INT(rollup_open_count(s), 2);
  CHECK_INT(rollup_oldest_open(s), T0);
  rollup_set_free(s);
}

/* Minute buckets packed per hour: a round trip keeps every figure bit for
 * bit (NaNs of an unvetted minute too), sorted by minute; a bucket of
 * another hour, a duplicate minute or a malformed blob is refused. */
static void test_pack_round_trip(void) {
  struct rollup_bucket in[3], out[60];
  int minutes[3] = {59, 0, 7};
  for (int i = 0; i < 3; i++) {
    rollup_bucket_init(&in[i], 0, ROLLUP_MINUTE, T0 + minutes[i] * 60 * S);
    struct rollup_entry e = {.time_ns = in[i].start_ns, .has_value = i != 2,
                             .value = 157680000.000001 * i, .bound = 1e-4 / (i + 1),
                             .agree = 3 + i, .classes = -i};
    rollup_bucket_add(&in[i], &e);
  }
  unsigned char blob[ROLLUP_PACKED_MAX];
  size_t len = rollup_pack(in, 3, T0, blob);
  CHECK_INT(len, 3 * ROLLUP_PACKED_SIZE);
  CHECK_INT(rollup_unpack(blob, len, 0, T0, out), 3);
  CHECK_INT(out[0].start_ns, T0);
  CHECK_INT(out[1].start_ns, T0 + 7 * 60 * S);
  CHECK_INT(out[2].start_ns, T0 + 59 * 60 * S);
  CHECK(out[2].vmax == in[0].vmax && out[2].bmean == in[0].bmean);
  CHECK(out[0].vmean == in[1].vmean);
  CHECK(isnan(out[1].vmean) && out[1].nv == 0 && out[1].n == 1);
  CHECK_INT(out[0].agree_min, 4);
  CHECK_INT(out[0].classes_min, -1);
  CHECK_INT(out[0].level, ROLLUP_MINUTE);
  in[1].start_ns = T0 + 3600 * S; /* the next hour */
  CHECK_INT(rollup_pack(in, 3, T0, blob), 0);
  in[1].start_ns = in[0].start_ns; /* a minute twice */
  CHECK_INT(rollup_pack(in, 3, T0, blob), 0);
  CHECK_INT(rollup_unpack(blob, 59, 0, T0, out), -1);
  blob[0] = 60;
  CHECK_INT(rollup_unpack(blob, ROLLUP_PACKED_SIZE, 0, T0, out), -1);
  CHECK_INT(rollup_unpack(blob, 0, 0, T0, out), 0);
}

int main(void) {
  unit_init();
  RUN(test_bucket_start);
  RUN(test_bucket_figures);
  RUN(test_close_on_next_bucket);
  RUN(test_close_idle);
  RUN(test_late_entry);
  RUN(test_merge_equals_whole);
  RUN(test_vetted_rounds);
  RUN(test_series_out_of_range);
  RUN(test_pack_round_trip);
  return unit_done();
}
