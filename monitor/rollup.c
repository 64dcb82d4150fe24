/* Roll-up buckets: see rollup.h. */
#include "monitor/rollup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct series_open {
  bool used[ROLLUP_LEVELS];
  struct rollup_bucket b[ROLLUP_LEVELS];
};

struct rollup_set {
  struct series_open *series; /* indexed by series id */
  size_t cap;
  int64_t high_water;
  rollup_emit_fn emit;
  void *ctx;
};

int64_t rollup_width_ns(enum rollup_level level) {
  return level == ROLLUP_HOUR ? ROLLUP_HOUR_NS : ROLLUP_MINUTE_NS;
}

int64_t rollup_bucket_start(int64_t t_ns, enum rollup_level level) {
  int64_t w = rollup_width_ns(level);
  int64_t q = t_ns / w;
  if (t_ns % w < 0) q--; /* floor, not truncation, before 1970 */
  return q * w;
}

void rollup_bucket_init(struct rollup_bucket *b, int64_t series,
                        enum rollup_level level, int64_t start_ns) {
  memset(b, 0, sizeof *b);
  b->series = series;
  b->level = level;
  b->start_ns = start_ns;
  b->vmin = b->vmax = b->vmean = NAN;
  b->bmax = b->bmean = NAN;
  b->agree_min = INT32_MAX;
  b->classes_min = INT32_MAX;
}

void rollup_bucket_add(struct rollup_bucket *b, const struct rollup_entry *e) {
  b->n++;
  if (e->agree < b->agree_min) b->agree_min = e->agree;
  if (e->classes < b->classes_min) b->classes_min = e->classes;
  if (!e->has_value) return;
  b->nv++;
  if (b->nv == 1) {
    b->vmin = b->vmax = b->vmean = e->value;
    b->bmax = b->bmean = e->bound;
    return;
  }
  if (e->value < b->vmin) b->vmin = e->value;
  if (e->value > b->vmax) b->vmax = e->value;
  if (e->bound > b->bmax) b->bmax = e->bound;
  b->vmean += (e->value - b->vmean) / b->nv;
  b->bmean += (e->bound - b->bmean) / b->nv;
}

void rollup_merge(struct rollup_bucket *into, const struct rollup_bucket *o) {
  if (o->agree_min < into->agree_min) into->agree_min = o->agree_min;
  if (o->classes_min < into->classes_min) into->classes_min = o->classes_min;
  into->n += o->n;
  if (o->nv == 0) return;
  if (into->nv == 0) {
    into->nv = o->nv;
    into->vmin = o->vmin, into->vmax = o->vmax, into->vmean = o->vmean;
    into->bmax = o->bmax, into->bmean = o->bmean;
    return;
  }
  uint32_t nv = into->nv + o->nv;
  /* Weighted as a difference from the first mean, like the running mean. */
  into->vmean += (o->vmean - into->vmean) * o->nv / nv;
  into->bmean += (o->bmean - into->bmean) * o->nv / nv;
  into->nv = nv;
  if (o->vmin < into->vmin) into->vmin = o->vmin;
  if (o->vmax > into->vmax) into->vmax = o->vmax;
  if (o->bmax > into->bmax) into->bmax = o->bmax;
}

struct rollup_set *rollup_set_new(rollup_emit_fn emit, void *ctx) {
  struct rollup_set *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->high_water = INT64_MIN;
  s->emit = emit;
  s->ctx = ctx;
  return s;
}

void rollup_set_free(struct rollup_set *s) {
  if (!s) return;
  free(s->series);
  free(s);
}

/* Room for series id; the array doubles, so ids 1..N cost O(N) in all. */
static struct series_open *series_slot(struct rollup_set *s, int64_t series) {
  if (series < 0 || series > ROLLUP_SERIES_MAX) return NULL;
  if ((size_t)series >= s->cap) {
    size_t cap = s->cap ? s->cap : 64;
    while (cap <= (size_t)series) cap *= 2;
    struct series_open *p = realloc(s->series, cap * sizeof *p);
    if (!p) return NULL;
    memset(p + s->cap, 0, (cap - s->cap) * sizeof *p);
    s->series = p;
    s->cap = cap;
  }
  return &s->series[series];
}

static void add_at(struct rollup_set *s, struct series_open *o, int64_t series,
                   enum rollup_level lv, const struct rollup_entry *e) {
  int64_t start = rollup_bucket_start(e->time_ns, lv);
  struct rollup_bucket *b = &o->b[lv];
  if (o->used[lv] && start < b->start_ns) {
    /* Older than the open bucket: a piece of its own, merged when written. */
    struct rollup_bucket late;
    rollup_bucket_init(&late, series, lv, start);
    rollup_bucket_add(&late, e);
    s->emit(s->ctx, &late);
    return;
  }
  if (o->used[lv] && start > b->start_ns) {
    s->emit(s->ctx, b);
    o->used[lv] = false;
  }
  if (!o->used[lv]) {
    rollup_bucket_init(b, series, lv, start);
    o->used[lv] = true;
  }
  rollup_bucket_add(b, e);
}

int rollup_add_level(struct rollup_set *s, int64_t series, enum rollup_level level,
                     const struct rollup_entry *e) {
  struct series_open *o = series_slot(s, series);
  if (!o) return -1;
  add_at(s, o, series, level, e);
  if (e->time_ns > s->high_water) s->high_water = e->time_ns;
  return 0;
}

int rollup_add(struct rollup_set *s, int64_t series, const struct rollup_entry *e) {
  struct series_open *o = series_slot(s, series);
  if (!o) return -1;
  for (int lv = 0; lv < ROLLUP_LEVELS; lv++) add_at(s, o, series, (enum rollup_level)lv, e);
  if (e->time_ns > s->high_water) s->high_water = e->time_ns;
  return 0;
}

void rollup_close_idle(struct rollup_set *s) {
  if (s->high_water == INT64_MIN) return;
  for (size_t i = 0; i < s->cap; i++)
    for (int lv = 0; lv < ROLLUP_LEVELS; lv++) {
      struct rollup_bucket *b = &s->series[i].b[lv];
      if (!s->series[i].used[lv]) continue;
      /* end + grace <= high water, written to stay clear of overflow */
      if (s->high_water - ROLLUP_GRACE_NS - rollup_width_ns(b->level) < b->start_ns) continue;
      s->emit(s->ctx, b);
      s->series[i].used[lv] = false;
    }
}

int64_t rollup_oldest_open(const struct rollup_set *s) {
  int64_t oldest = INT64_MAX;
  for (size_t i = 0; i < s->cap; i++)
    for (int lv = 0; lv < ROLLUP_LEVELS; lv++)
      if (s->series[i].used[lv] && s->series[i].b[lv].start_ns < oldest)
        oldest = s->series[i].b[lv].start_ns;
  return oldest;
}

int64_t rollup_open_start(const struct rollup_set *s, int64_t series, enum rollup_level level) {
  if (series < 0 || (size_t)series >= s->cap || !s->series[series].used[level]) return INT64_MIN;
  return s->series[series].b[level].start_ns;
}

int64_t rollup_high_water(const struct rollup_set *s) { return s->high_water; }

int rollup_open_count(const struct rollup_set *s) {
  int n = 0;
  for (size_t i = 0; i < s->cap; i++)
    for (int lv = 0; lv < ROLLUP_LEVELS; lv++) n += s->series[i].used[lv];
  return n;
}

/* ---- packing ---- */

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}

static void put_f64(unsigned char *p, double d) {
  uint64_t v;
  memcpy(&v, &d, sizeof v);
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static double get_f64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  double d;
  memcpy(&d, &v, sizeof d);
  return d;
}

size_t rollup_pack(const struct rollup_bucket *b, int n, int64_t hour_ns, unsigned char *out) {
  if (n < 0 || n > 60) return 0;
  const struct rollup_bucket *by_minute[60] = {0};
  for (int i = 0; i < n; i++) {
    int64_t off = b[i].start_ns - hour_ns;
    if (b[i].level != ROLLUP_MINUTE || off < 0 || off >= ROLLUP_HOUR_NS ||
        off % ROLLUP_MINUTE_NS)
      return 0;
    int m = (int)(off / ROLLUP_MINUTE_NS);
    if (by_minute[m]) return 0;
    by_minute[m] = &b[i];
  }
  size_t len = 0;
  for (int m = 0; m < 60; m++) {
    const struct rollup_bucket *x = by_minute[m];
    if (!x) continue;
    unsigned char *p = out + len;
    memset(p, 0, ROLLUP_PACKED_SIZE);
    p[0] = (unsigned char)m;
    put_u32(p + 4, x->n);
    put_u32(p + 8, x->nv);
    put_f64(p + 12, x->vmin);
    put_f64(p + 20, x->vmean);
    put_f64(p + 28, x->vmax);
    put_f64(p + 36, x->bmax);
    put_f64(p + 44, x->bmean);
    put_u32(p + 52, (uint32_t)x->agree_min);
    put_u32(p + 56, (uint32_t)x->classes_min);
    len += ROLLUP_PACKED_SIZE;
  }
  return len;
}

int rollup_unpack(const unsigned char *blob, size_t len, int64_t series, int64_t hour_ns,
                  struct rollup_bucket *out) {
  if (len % ROLLUP_PACKED_SIZE || len > ROLLUP_PACKED_MAX) return -1;
  int n = 0;
  for (size_t off = 0; off < len; off += ROLLUP_PACKED_SIZE, n++) {
    const unsigned char *p = blob + off;
    if (p[0] >= 60) return -1;
    struct rollup_bucket *b = &out[n];
    rollup_bucket_init(b, series, ROLLUP_MINUTE, hour_ns + p[0] * ROLLUP_MINUTE_NS);
    b->n = get_u32(p + 4);
    b->nv = get_u32(p + 8);
    b->vmin = get_f64(p + 12);
    b->vmean = get_f64(p + 20);
    b->vmax = get_f64(p + 28);
    b->bmax = get_f64(p + 36);
    b->bmean = get_f64(p + 44);
    b->agree_min = (int32_t)get_u32(p + 52);
    b->classes_min = (int32_t)get_u32(p + 56);
  }
  return n;
}
