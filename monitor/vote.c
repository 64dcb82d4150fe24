/* The vote (vote.h): RFC 5905 §11.2.1 clock select with Marzullo's
 * intersection algorithm (K. Marzullo, "Maintaining the time in a
 * distributed system", 1984) under a strict-majority rule, applied twice in
 * classes mode: once within each reference class, then once across the
 * classes' intervals, each class one vote. Trust follows chrony's `trust`
 * directive; the combine weights each truechimer by 1/error bound.
 *
 * Every stage is a short static function over plain arrays held in one
 * struct round on the stack (about 200 KiB at VOTE_MAX_SOURCES = 4096);
 * no allocation (glibc's qsort may allocate, so the endpoints are sorted
 * by a small merge sort over stack scratch). */
#include "monitor/vote.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vote_policy_default(struct vote_policy *p) {
  *p = (struct vote_policy){.mode = VOTE_MODE_CLASSES, .minsources = 1, .minclasses = 1,
                            .maxdistance = 1.5, .maxstratum = 15, .mindist = 0.001};
}

static const char *const state_names[SS_STATE_COUNT] = {
    [SS_NO_SAMPLE] = "no-sample",     [SS_UNREACHABLE] = "unreachable",
    [SS_NOSELECT] = "noselect",       [SS_UNSYNC] = "unsync",
    [SS_BAD_STRATUM] = "bad-stratum", [SS_STALE] = "stale",
    [SS_TOO_FAR] = "too-far",         [SS_FALSETICKER] = "falseticker",
    [SS_CLASS_OUTVOTED] = "class-outvoted", [SS_CLASS_SPLIT] = "class-split",
    [SS_COMBINED] = "combined",       [SS_BEST] = "best",
};

const char *source_state_name(enum source_state s) {
  return (unsigned)s < SS_STATE_COUNT ? state_names[s] : "?";
}

/* ------------------------------------------------------------------ */
/* Intersection (Marzullo)                                             */

/* Sorts a[n] ascending: insertion sort of runs of 16, then bottom-up
 * merges through tmp[n]. No recursion, no allocation. */
static void insertion_sort(double *a, int n) {
  for (int i = 1; i < n; i++) {
    double x = a[i];
    int j = i;
    for (; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
    a[j] = x;
  }
}

static void merge(const double *src, double *dst, int lo, int mid, int hi) {
  int i = lo, j = mid, k = lo;
  while (i < mid && j < hi) dst[k++] = src[j] < src[i] ? src[j++] : src[i++];
  while (i < mid) dst[k++] = src[i++];
  while (j < hi) dst[k++] = src[j++];
}

static void sort_doubles(double *a, double *tmp, int n) {
  enum { RUN = 16 };
  double *src = a, *dst = tmp, *t;
  for (int i = 0; i < n; i += RUN) insertion_sort(a + i, n - i < RUN ? n - i : RUN);
  for (int w = RUN; w < n; w *= 2) {
    for (int lo = 0; lo < n; lo += 2 * w)
      merge(src, dst, lo, lo + w < n ? lo + w : n, lo + 2 * w < n ? lo + 2 * w : n);
    t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, (size_t)n * sizeof *a);
}

/* L[n] and H[n] are the sorted lower and upper ends. Coverage of a point x
 * is #(lo <= x) - #(hi < x): closed intervals, touching ends overlap. It
 * only rises at a lower end, so the deepest and the lowest deep-enough
 * points are lower ends (within a run of equal ends the last index counts
 * them all). */
static int max_depth(const double *L, const double *H, int n) {
  int best = 0, j = 0;
  for (int i = 0; i < n; i++) {
    while (j < n && H[j] < L[i]) j++;
    if (i + 1 - j > best) best = i + 1 - j;
  }
  return best;
}

static double lowest_covered(const double *L, const double *H, int n, int m) {
  int j = 0;
  for (int i = 0; i < n; i++) {
    while (j < n && H[j] < L[i]) j++;
    if (i + 1 - j >= m) return L[i];
  }
  return (double)NAN; /* unreachable for m <= max_depth */
}

/* Mirror image: coverage of x = #(hi >= x) - #(lo > x), highest at an upper end. */
static double highest_covered(const double *L, const double *H, int n, int m) {
  int j = n - 1;
  for (int i = n - 1; i >= 0; i--) {
    while (j >= 0 && L[j] > H[i]) j--;
    if (j + 1 - i >= m) return H[i];
  }
  return (double)NAN;
}

struct isect {
  int depth;      /* intervals covering the deepest point */
  bool majority;  /* 2 * depth > n */
  double low, high;
};

/* RFC 5905's loop "for f = 0, 1, ... while 2f < n: low/high covered by
 * n - f" first succeeds at f = n - depth (a point covered by n - f exists,
 * and then low <= high holds by construction), so one sweep for the depth
 * and one each way for low and high give the same answer in O(n log n). */
static struct isect marzullo(const double *lo, const double *hi, int n) {
  double L[VOTE_MAX_SOURCES], H[VOTE_MAX_SOURCES], tmp[VOTE_MAX_SOURCES];
  struct isect r = {0, false, 0.0, 0.0};
  assert(n >= 0 && n <= VOTE_MAX_SOURCES);
  memcpy(L, lo, (size_t)n * sizeof *L);
  memcpy(H, hi, (size_t)n * sizeof *H);
  sort_doubles(L, tmp, n);
  sort_doubles(H, tmp, n);
  r.depth = max_depth(L, H, n);
  if (2 * r.depth <= n) return r;
  r.majority = true;
  r.low = lowest_covered(L, H, n, r.depth);
  r.high = highest_covered(L, H, n, r.depth);
  return r;
}

static bool overlaps(double lo, double hi, const struct isect *v) {
  return lo <= v->high && hi >= v->low;
}

int vote_intersect(const double *lo, const double *hi, int n, double *low, double *high) {
  struct isect v = marzullo(lo, hi, n);
  int count = 0;
  *low = v.low;
  *high = v.high;
  if (!v.majority) return 0;
  for (int i = 0; i < n; i++) count += overlaps(lo[i], hi[i], &v);
  return count;
}

/* ------------------------------------------------------------------ */
/* The round's scratch                                                 */

struct group {            /* one reference class (sources mode: everyone) */
  enum ref_class cls;
  int start, count;       /* its candidates: positions start .. start+count-1 */
  struct isect v;         /* the class's own vote */
};

struct round {
  const struct vote_policy *p;
  const struct vote_input *in;
  struct vote_source_result *res;
  int n, ncand, ngroups;
  struct group g[CLASS_COUNT];
  int src[VOTE_MAX_SOURCES];           /* candidate position -> source index */
  unsigned char grp[VOTE_MAX_SOURCES]; /* candidate position -> group */
  double lo[VOTE_MAX_SOURCES], hi[VOTE_MAX_SOURCES];
  struct isect v;         /* the final vote: across classes, or across sources */
  int voters;             /* what v voted over: classes with an interval, or candidates */
  bool trust_decided;     /* the trusted sources' intersection replaced v */
};

static enum ref_class class_key(enum ref_class c) {
  return (unsigned)c < CLASS_COUNT ? c : CLASS_UNKNOWN;
}

static bool flagged(const struct round *r, int i, unsigned flag) {
  return (r->in[i].flags & flag) != 0;
}

/* The interval's half width: the error bound, padded to at least mindist. */
static double half_width(const struct vote_policy *p, const struct vote_input *s) {
  return s->error > p->mindist ? s->error : p->mindist;
}

static void set_state(struct round *r, int i, enum source_state s) {
  r->res[i].state = s;
  r->res[i].why[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Why texts                                                           */

/* A text being built into a bounded buffer: always NUL-terminated,
 * truncated silently. The vote writes a why for every source every round;
 * glibc's printf of doubles would be most of the round's cost, so figures
 * go through put_fixed (integer digits, rounding half away from zero). */
struct text {
  char *p;
  size_t left; /* bytes left including the NUL, >= 1 */
};

static void put_n(struct text *t, const char *s, size_t n) {
  if (n >= t->left) n = t->left - 1;
  memcpy(t->p, s, n);
  t->p += n;
  t->left -= n;
  *t->p = '\0';
}

static void put(struct text *t, const char *s) { put_n(t, s, strlen(s)); }

/* v in decimal, zero-padded to at least width digits. */
static void put_uint(struct text *t, unsigned long long v, int width) {
  char b[24];
  int k = (int)sizeof b;
  do {
    b[--k] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0 || (int)sizeof b - k < width);
  put_n(t, b + k, sizeof b - (size_t)k);
}

/* Like printf's "%.*f" (plus: "%+.*f") for 0 <= decimals <= 6. The whole
 * and the fractional part are rounded apart: the fraction is exact in a
 * double, so large values round like printf too (rint: ties to even). */
static void put_fixed(struct text *t, double x, int decimals, bool plus) {
  static const double scale[7] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
  double a = fabs(x), ip = floor(a);
  if (!(a < 9e15)) { /* huge or not finite */
    char b[64];
    snprintf(b, sizeof b, plus ? "%+.*f" : "%.*f", decimals, x);
    put(t, b);
    return;
  }
  unsigned long long sc = (unsigned long long)scale[decimals], whole = (unsigned long long)ip;
  unsigned long long part = (unsigned long long)rint((a - ip) * scale[decimals]);
  if (part >= sc) { /* 0.9999997 -> 1.000000 */
    whole++;
    part -= sc;
  }
  if (signbit(x) || plus) put(t, signbit(x) ? "-" : "+");
  put_uint(t, whole, 1);
  if (decimals == 0) return;
  put(t, ".");
  put_uint(t, part, decimals);
}

static void put_int(struct text *t, int v) {
  if (v < 0) put(t, "-");
  put_uint(t, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, 1);
}

/* A small printf for why texts: %s string, %d int, %f double as "%.6f",
 * %F as "%+.6f", %P as "%.1f", %% a percent sign. Not checked by the
 * compiler: every caller's text is pinned by tests/unit/test_vote.c. */
static void text_fmt(char *buf, size_t len, const char *fmt, ...) {
  struct text t = {buf, len};
  va_list ap;
  buf[0] = '\0';
  va_start(ap, fmt);
  for (const char *f = fmt; *f;) {
    size_t run = strcspn(f, "%");
    put_n(&t, f, run);
    f += run;
    if (!*f || !f[1]) break;
    switch (f[1]) {
    case 's': put(&t, va_arg(ap, const char *)); break;
    case 'd': put_int(&t, va_arg(ap, int)); break;
    case 'f': put_fixed(&t, va_arg(ap, double), 6, false); break;
    case 'F': put_fixed(&t, va_arg(ap, double), 6, true); break;
    case 'P': put_fixed(&t, va_arg(ap, double), 1, false); break;
    default: put_n(&t, f + 1, 1); break;
    }
    f += 2;
  }
  va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Stage 1: sanity filter                                              */

/* The first reason, in the documented order, to keep a source out of the
 * vote; SS_COMBINED stands for "a candidate". */
static enum source_state sanity_state(const struct vote_policy *p, const struct vote_input *s) {
  if (s->flags & VOTE_F_NOSELECT) return SS_NOSELECT;
  if (!s->have_sample || !isfinite(s->offset) || !isfinite(s->error) || s->error < 0)
    return SS_NO_SAMPLE;
  if (!s->reachable) return SS_UNREACHABLE;
  if (s->leap < 0 || s->leap > 2) return SS_UNSYNC;
  if (s->stratum > p->maxstratum) return SS_BAD_STRATUM;
  if (s->stale) return SS_STALE;
  if (s->error > p->maxdistance) return SS_TOO_FAR;
  return SS_COMBINED;
}

static void sanity_why(const struct vote_policy *p, const struct vote_input *s,
                       enum source_state st, char *why, size_t len) {
  switch (st) {
  case SS_NOSELECT: text_fmt(why, len, "noselect: monitored, never selected"); break;
  case SS_NO_SAMPLE:
    text_fmt(why, len, s->have_sample ? "sample without a valid error bound" : "no sample yet");
    break;
  case SS_UNREACHABLE: text_fmt(why, len, "not reachable"); break;
  case SS_UNSYNC: text_fmt(why, len, "leap indicator %d: not synchronised", s->leap); break;
  case SS_BAD_STRATUM:
    text_fmt(why, len, "stratum %d above maxstratum %d", s->stratum, p->maxstratum);
    break;
  case SS_STALE: text_fmt(why, len, "last sample too old (stale)"); break;
  case SS_TOO_FAR:
    text_fmt(why, len, "error bound %f s above maxdistance %f s", s->error, p->maxdistance);
    break;
  default: why[0] = '\0'; break;
  }
}

/* Marks every rejected source; candidates are left SS_COMBINED for now. */
static void sanity_filter(struct round *r) {
  for (int i = 0; i < r->n; i++) {
    struct vote_source_result *res = &r->res[i];
    if (i >= VOTE_MAX_SOURCES) {
      set_state(r, i, SS_NOSELECT);
      text_fmt(res->why, sizeof res->why, "beyond the vote's limit of %d sources",
               VOTE_MAX_SOURCES);
      continue;
    }
    set_state(r, i, sanity_state(r->p, &r->in[i]));
    sanity_why(r->p, &r->in[i], res->state, res->why, sizeof res->why);
  }
}

/* ------------------------------------------------------------------ */
/* Grouping the candidates by class (a counting sort, index order kept) */

static int group_key(const struct round *r, int i) {
  return r->p->mode == VOTE_MODE_SOURCES ? 0 : (int)class_key(r->in[i].ref_class);
}

static void make_groups(struct round *r, int next[CLASS_COUNT], int gi[CLASS_COUNT]) {
  int count[CLASS_COUNT] = {0}, pos = 0;
  for (int i = 0; i < r->n; i++)
    if (r->res[i].state == SS_COMBINED) count[group_key(r, i)]++;
  for (int k = 0; k < CLASS_COUNT; k++) {
    next[k] = pos;
    gi[k] = r->ngroups;
    if (count[k] == 0) continue;
    r->g[r->ngroups++] = (struct group){.cls = (enum ref_class)k, .start = pos, .count = count[k]};
    pos += count[k];
  }
  r->ncand = pos;
}

static void group_candidates(struct round *r) {
  int next[CLASS_COUNT], gi[CLASS_COUNT];
  make_groups(r, next, gi);
  for (int i = 0; i < r->n; i++) {
    if (r->res[i].state != SS_COMBINED) continue;
    int k = group_key(r, i), q = next[k]++;
    double w = half_width(r->p, &r->in[i]);
    r->src[q] = i;
    r->grp[q] = (unsigned char)gi[k];
    r->lo[q] = r->in[i].offset - w;
    r->hi[q] = r->in[i].offset + w;
  }
}

/* ------------------------------------------------------------------ */
/* Stages 2 and 3: intersection within each class, then across classes */

static void vote_within_classes(struct round *r) {
  for (int k = 0; k < r->ngroups; k++) {
    struct group *g = &r->g[k];
    g->v = marzullo(r->lo + g->start, r->hi + g->start, g->count);
  }
}

/* One vote per class that reached a majority of its own; a split class
 * abstains. In sources mode the single group's vote is the vote. */
static void vote_across_classes(struct round *r) {
  double lo[CLASS_COUNT], hi[CLASS_COUNT];
  if (r->p->mode == VOTE_MODE_SOURCES) {
    r->voters = r->ncand;
    if (r->ngroups) r->v = r->g[0].v;
    return;
  }
  r->voters = 0;
  for (int k = 0; k < r->ngroups; k++) {
    if (!r->g[k].v.majority) continue;
    lo[r->voters] = r->g[k].v.low;
    hi[r->voters++] = r->g[k].v.high;
  }
  r->v = marzullo(lo, hi, r->voters);
}

/* ------------------------------------------------------------------ */
/* Classification of each candidate against [low, high]               */

/* SS_COMBINED means "truechimer"; combine() later picks the best. */
static enum source_state classify(const struct round *r, int q) {
  const struct group *g = &r->g[r->grp[q]];
  if (r->trust_decided && flagged(r, r->src[q], VOTE_F_TRUST)) return SS_COMBINED;
  if (r->p->mode == VOTE_MODE_SOURCES)
    return r->v.majority && overlaps(r->lo[q], r->hi[q], &r->v) ? SS_COMBINED : SS_FALSETICKER;
  if (!g->v.majority) return SS_CLASS_SPLIT;
  if (!overlaps(r->lo[q], r->hi[q], &g->v)) return SS_FALSETICKER;
  if (!r->v.majority || !overlaps(g->v.low, g->v.high, &r->v)) return SS_CLASS_OUTVOTED;
  return overlaps(r->lo[q], r->hi[q], &r->v) ? SS_COMBINED : SS_FALSETICKER;
}

static void falseticker_why(const struct round *r, int q, char *why, size_t len) {
  const struct group *g = &r->g[r->grp[q]];
  double off = r->in[r->src[q]].offset;
  if (r->p->mode == VOTE_MODE_CLASSES && !overlaps(r->lo[q], r->hi[q], &g->v))
    text_fmt(why, len, "offset %F s outside the %s class interval [%F, %F] s", off,
             ref_class_name(g->cls), g->v.low, g->v.high);
  else if (!r->v.majority)
    text_fmt(why, len, "no majority: %d of %d sources agree", r->v.depth, r->voters);
  else
    text_fmt(why, len, "offset %F s outside the vetted interval [%F, %F] s", off,
             r->v.low, r->v.high);
}

static void rejected_why(const struct round *r, int q, char *why, size_t len) {
  const struct group *g = &r->g[r->grp[q]];
  const char *cls = ref_class_name(g->cls);
  switch (r->res[r->src[q]].state) {
  case SS_FALSETICKER: falseticker_why(r, q, why, len); break;
  case SS_CLASS_SPLIT:
    text_fmt(why, len, "class %s has no majority: %d of %d sources agree", cls, g->v.depth,
             g->count);
    break;
  case SS_CLASS_OUTVOTED:
    if (!r->v.majority)
      text_fmt(why, len, "no majority among classes: %d of %d classes agree", r->v.depth,
               r->voters);
    else
      text_fmt(why, len, "class %s [%F, %F] s outside the vetted interval [%F, %F] s",
               cls, g->v.low, g->v.high, r->v.low, r->v.high);
    break;
  default: break;
  }
}

static void classify_all(struct round *r) {
  for (int q = 0; q < r->ncand; q++) {
    int i = r->src[q];
    set_state(r, i, classify(r, q));
    rejected_why(r, q, r->res[i].why, sizeof r->res[i].why);
  }
}

/* ------------------------------------------------------------------ */
/* Trust (chrony semantics)                                            */

/* The common part of every trusted candidate's interval; false when there
 * is no trusted candidate or two of them disagree (then trust is void). */
static bool trusted_interval(const struct round *r, double *tl, double *th) {
  int count = 0;
  *tl = -INFINITY;
  *th = INFINITY;
  for (int q = 0; q < r->ncand; q++) {
    if (!flagged(r, r->src[q], VOTE_F_TRUST)) continue;
    count++;
    *tl = fmax(*tl, r->lo[q]);
    *th = fmin(*th, r->hi[q]);
  }
  return count > 0 && *tl <= *th;
}

static bool majority_excludes_trusted(const struct round *r) {
  if (!r->v.majority) return true;
  for (int q = 0; q < r->ncand; q++)
    if (flagged(r, r->src[q], VOTE_F_TRUST) && classify(r, q) != SS_COMBINED) return true;
  return false;
}

/* When the vote has no majority or leaves out a trusted source, and the
 * trusted sources agree among themselves, their intersection decides. */
static void apply_trust(struct round *r) {
  double tl, th;
  if (!trusted_interval(r, &tl, &th) || !majority_excludes_trusted(r)) return;
  r->v.majority = true;
  r->v.low = tl;
  r->v.high = th;
  r->trust_decided = true;
}

/* ------------------------------------------------------------------ */
/* Combine                                                             */

static double clamp(double x, double lo, double hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

/* The truechimer to call best: a prefer source if any, else (and among
 * several prefer sources) the smallest error bound, then the lowest index. */
static int pick_best(const struct round *r) {
  int best = -1;
  for (int i = 0; i < r->n; i++) {
    if (r->res[i].state != SS_COMBINED) continue;
    if (best < 0) { best = i; continue; }
    bool pi = flagged(r, i, VOTE_F_PREFER), pb = flagged(r, best, VOTE_F_PREFER);
    if (pi != pb ? pi : r->in[i].error < r->in[best].error) best = i;
  }
  return best;
}

static void best_why(const struct round *r, int best, char *why, size_t len) {
  const struct vote_input *s = &r->in[best];
  const char *reason = flagged(r, best, VOTE_F_PREFER) ? "prefer" : "smallest error bound";
  if (r->trust_decided)
    text_fmt(why, len, "best (%s): offset %F s ±%f s; trusted sources decide [%F, %F] s", reason,
             s->offset, s->error, r->v.low, r->v.high);
  else
    text_fmt(why, len, "best (%s): offset %F s ±%f s", reason, s->offset, s->error);
}

/* Weighted mean of the truechimers (weight 1/padded error bound), or the
 * prefer source's offset, clamped to [low, high]. */
static void combine(struct round *r, struct vote_verdict *out) {
  double sw = 0, swx = 0;
  for (int q = 0; q < r->ncand; q++) {
    const struct vote_input *s = &r->in[r->src[q]];
    if (r->res[r->src[q]].state != SS_COMBINED) continue;
    sw += 1.0 / half_width(r->p, s);
    swx += s->offset / half_width(r->p, s);
  }
  out->best = pick_best(r);
  if (out->best < 0) return;
  bool prefer = flagged(r, out->best, VOTE_F_PREFER);
  out->offset = clamp(prefer ? r->in[out->best].offset : swx / sw, r->v.low, r->v.high);
  out->error = fmax(out->offset - r->v.low, r->v.high - out->offset);
  for (int q = 0; q < r->ncand; q++) {
    int i = r->src[q];
    if (r->res[i].state == SS_COMBINED)
      text_fmt(r->res[i].why, sizeof r->res[i].why, "offset %F s ±%f s, weight %P%%",
               r->in[i].offset, r->in[i].error, 100.0 / half_width(r->p, &r->in[i]) / sw);
  }
  r->res[out->best].state = SS_BEST;
  best_why(r, out->best, r->res[out->best].why, sizeof r->res[out->best].why);
}

/* Counts, classes and the leap vote over the truechimers. */
static int popcount(unsigned x) {
  int c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

static void tally(const struct round *r, struct vote_verdict *out) {
  int leaps[3] = {0, 0, 0};
  unsigned cand_mask = 0;
  for (int q = 0; q < r->ncand; q++) {
    int i = r->src[q];
    unsigned bit = 1u << class_key(r->in[i].ref_class);
    cand_mask |= bit;
    if (r->res[i].state != SS_COMBINED && r->res[i].state != SS_BEST) continue;
    out->agreeing++;
    out->class_mask |= bit;
    leaps[r->in[i].leap]++;
  }
  out->classes = popcount(cand_mask);
  out->agreeing_classes = popcount(out->class_mask);
  out->leap = out->agreeing == 0 ? 3 : 0;
  for (int l = 0; l < 3; l++) {
    if (2 * leaps[l] > out->agreeing) out->leap = l;
    if (leaps[l] != 0 && leaps[l] != out->agreeing) out->leap_disagree = true;
  }
}

/* ------------------------------------------------------------------ */
/* Policy checks                                                       */

static void no_majority_why(const struct round *r, char *why, size_t len) {
  if (r->p->mode == VOTE_MODE_CLASSES && r->ngroups == 1)
    text_fmt(why, len, "no majority: %d of %d sources agree", r->g[0].v.depth, r->g[0].count);
  else if (r->p->mode == VOTE_MODE_SOURCES)
    text_fmt(why, len, "no majority: %d of %d sources agree", r->v.depth, r->voters);
  else if (r->voters == 0)
    text_fmt(why, len, "no majority: no class has a majority of its own (%d classes split)",
             r->ngroups);
  else
    text_fmt(why, len, "no majority: %d of %d classes agree", r->v.depth, r->voters);
}

/* The first required source that is not selected, or -1. */
static int unselected_required(const struct round *r) {
  for (int i = 0; i < r->n; i++)
    if (flagged(r, i, VOTE_F_REQUIRE) && r->res[i].state != SS_COMBINED &&
        r->res[i].state != SS_BEST)
      return i;
  return -1;
}

static void check_policy(const struct round *r, struct vote_verdict *out) {
  char *w = out->why_not;
  size_t len = sizeof out->why_not;
  const struct vote_policy *p = r->p;
  int req = unselected_required(r);
  if (r->ncand == 0)
    text_fmt(w, len, "no usable source (%d configured)", r->n);
  else if (!r->v.majority)
    no_majority_why(r, w, len);
  else if (out->agreeing < p->minsources)
    text_fmt(w, len, "only %d %s, %d required", out->agreeing,
             out->agreeing == 1 ? "source agrees" : "sources agree", p->minsources);
  else if (p->mode == VOTE_MODE_CLASSES && out->agreeing_classes < p->minclasses)
    text_fmt(w, len, "only %d %s, %d required", out->agreeing_classes,
             out->agreeing_classes == 1 ? "class agrees" : "classes agree", p->minclasses);
  else if (req >= 0)
    text_fmt(w, len, "required source %d is not selected (%s)", req,
             source_state_name(r->res[req].state));
  out->vetted = w[0] == '\0';
}

/* The stratum the vetted time is served at: the best source's + 1, 1..16. */
static int served_stratum(int stratum) {
  return stratum < 0 ? 1 : stratum >= 15 ? 16 : stratum + 1;
}

static void fill_verdict(const struct round *r, struct vote_verdict *out) {
  out->candidates = r->ncand;
  if (r->v.majority) {
    out->low = r->v.low;
    out->high = r->v.high;
  }
  tally(r, out);
  check_policy(r, out);
  if (out->best >= 0) {
    const struct vote_input *b = &r->in[out->best];
    out->ref_class = class_key(b->ref_class);
    if (out->vetted) out->stratum = served_stratum(b->stratum);
  }
}

void vote_round(const struct vote_policy *p, const struct vote_input *in, int n,
                struct vote_source_result *per_source, struct vote_verdict *out) {
  struct round r; /* the big arrays are written before they are read */
  assert(p && n >= 0 && (n == 0 || (in && per_source)) && out);
  r.p = p;
  r.in = in;
  r.res = per_source;
  r.n = n;
  r.ncand = r.ngroups = r.voters = 0;
  r.v = (struct isect){0, false, 0.0, 0.0};
  r.trust_decided = false;
  *out = (struct vote_verdict){.best = -1, .stratum = 16, .ref_class = CLASS_UNKNOWN, .leap = 3};
  sanity_filter(&r);
  group_candidates(&r);
  vote_within_classes(&r);
  vote_across_classes(&r);
  apply_trust(&r);
  classify_all(&r);
  if (r.v.majority) combine(&r, out);
  fill_verdict(&r, out);
}
