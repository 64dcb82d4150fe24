/* The vote (vote.h): Marzullo's intersection algorithm (K. Marzullo,
 * "Maintaining the time in a distributed system", 1984; RFC 5905 §11.2.1
 * clock select) at the largest number of liars a strict majority tolerates,
 * applied twice in classes mode: once within each reference class, then
 * once across the classes' intervals, each class one vote. The estimate is
 * a precision-weighted mean clamped between order statistics (see
 * robust_estimate). Trust follows chrony's `trust` directive.
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
                            .maxdistance = 1.5, .maxstratum = 15, .mindist = 1e-6,
                            .fit_k = 3};
}

static const char *const state_names[SS_STATE_COUNT] = {
    [SS_NO_SAMPLE] = "no-sample",     [SS_UNREACHABLE] = "unreachable",
    [SS_NOSELECT] = "noselect",       [SS_UNSYNC] = "unsync",
    [SS_BAD_STRATUM] = "bad-stratum", [SS_STALE] = "stale",
    [SS_TOO_FAR] = "too-far",         [SS_LOCAL_OSC] = "local-osc",
    [SS_HELD] = "held",               [SS_OUTLIER] = "outlier",
    [SS_FALSETICKER] = "falseticker",
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
  bool majority;  /* depth > n/2: some point is covered by n - floor((n-1)/2) */
  double low, high;
};

/* Marzullo's sweep at the largest f a strict majority tolerates, f =
 * floor((n-1)/2): [low, high] spans every point covered by n - f intervals.
 * RFC 5905 stops at the smallest f that succeeds, which is tighter but
 * unsound: liars whose intervals overlap the honest ones a little can make
 * every interval "agree" on a sliver that misses the truth. The truth is
 * covered by every honest interval, so by at least n - f of them whenever
 * at most f lie: it is always inside this [low, high]. O(n log n). */
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
  int need = n - (n - 1) / 2;
  r.majority = true;
  r.low = lowest_covered(L, H, n, need);
  r.high = highest_covered(L, H, n, need);
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
/* The robust estimate over one set of voters                          */

/* One voter: its interval, its offset (midpoint) and the standard
 * deviation of that offset. */
struct ballot {
  double lo, hi, x, sd;
  bool held;          /* a detector holds a condition on it: not in the estimate */
  bool was_out;       /* it was an outlier last round: re-enters only nearer */
  double ref, ref_sd; /* set by robust_estimate: the others' median, its deviation */
};

/* Outside [low, high]; too far from the others' median for the spreads; held. */
enum { MARK_OUT = 1, MARK_UNFIT = 2, MARK_HELD = 4 };

struct estimate {
  double x, sd;   /* the estimate and its standard deviation */
  double median;  /* the median of the voters inside [low, high] */
  double med_sd;  /* the median of their standard deviations */
};

static double median_sorted(const double *x, int n) {
  return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* The median of the sorted x[m] without one element equal to v (m >= 2),
 * in O(log m): the element's rank by binary search, then the middle of
 * what is left. */
static double median_without(const double *x, int m, double v) {
  int lo = 0, hi = m - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  int r = lo, k = m - 1; /* drop rank r; k left */
#define LEFT(j) ((j) < r ? x[(j)] : x[(j) + 1])
  double med = k % 2 ? LEFT(k / 2) : (LEFT(k / 2 - 1) + LEFT(k / 2)) / 2;
#undef LEFT
  return med;
}

static double clamp(double x, double lo, double hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

/* Marks the voters whose interval misses [low, high] (provably wrong when
 * the assumption holds) and returns how many; the others' offsets and
 * deviations go to xs[] and sds[]. */
static int mark_out(const struct ballot *b, int n, const struct isect *v, unsigned char *mark,
                    double *xs, double *sds, int *m) {
  int out = 0;
  *m = 0;
  for (int i = 0; i < n; i++) {
    mark[i] = overlaps(b[i].lo, b[i].hi, v) ? 0 : MARK_OUT;
    if (mark[i]) {
      out++;
      continue;
    }
    xs[*m] = b[i].x;
    sds[(*m)++] = b[i].sd;
  }
  return out;
}

/* Removes one value equal to v from x[m] (sorted); m - 1 are left. */
static void remove_sorted(double *x, int m, double v) {
  int i = 0;
  while (i < m - 1 && x[i] != v) i++;
  memmove(x + i, x + i + 1, (size_t)(m - i - 1) * sizeof *x);
}

/* Peels off, one at a time, the voter farthest from the median of the
 * others, in combined standard deviations, while it is further than fit_k
 * (an outlier of the last round: REENTER_SHARE of fit_k)
 * (Grubbs' test, with a median): each voter is measured against a
 * reference it is not part of, so one walking voter of three is measured
 * against the other two, not against a median it drags half way along. At
 * most floor((m-1)/2) are peeled, and never below two voters (two that
 * disagree give no way to tell which is wrong). w[m], ws[m]: the sorted
 * offsets and deviations of the voters not yet marked, changed here. */
/* The standard deviation of the median of the voters other than i: with
 * two others it is their mean, exactly hypot(sd1, sd2) / 2 (a 500 us DCF77
 * class beside a 20 us GPS one must not make the GPS look unfit); with more,
 * about 1.2533 sd / sqrt(k) for k others of the median deviation. */
static double others_deviation(const struct ballot *b, int n, const unsigned char *mark,
                               int i, const double *ws, int m) {
  double sq = 0;
  if (m != 3) return 1.2533 * median_sorted(ws, m) / sqrt((double)(m - 1));
  for (int j = 0; j < n; j++)
    if (j != i && !mark[j]) sq += b[j].sd * b[j].sd;
  return sqrt(sq) / 2;
}

/* An outlier of the last round re-enters only within this share of fit_k
 * (2 sd at the default 3): a voter drifting away does not flicker in and
 * out while it hovers at the limit. */
#define REENTER_SHARE (2.0 / 3.0)

static void mark_unfit(struct ballot *b, int n, unsigned char *mark, double fit_k, double *w,
                       double *ws, int m) {
  for (int most = (m - 1) / 2; m > 2 && most > 0; most--) {
    double worst = 0;
    int at = -1;
    for (int i = 0; i < n; i++) {
      if (mark[i]) continue;
      double others_sd = others_deviation(b, n, mark, i, ws, m);
      b[i].ref = median_without(w, m, b[i].x);
      b[i].ref_sd = others_sd;
      double limit = b[i].was_out ? fit_k * REENTER_SHARE : fit_k;
      double ratio = fabs(b[i].x - b[i].ref) / hypot(b[i].sd, others_sd) / limit;
      if (ratio > worst) {
        worst = ratio;
        at = i;
      }
    }
    if (worst <= 1) return;
    mark[at] |= MARK_UNFIT;
    remove_sorted(w, m, b[at].x);
    remove_sorted(ws, m, b[at].sd);
    m--;
  }
}

/* The estimate of n voters under the vote v (which has a majority):
 * 1. the voters outside [low, high] are liars; d of them leave at most
 *    f' = f - d liars among the m others (f = floor((n-1)/2));
 * 2. between the (f'+1)-th smallest and the (f'+1)-th largest offset of
 *    those m lies the honest range's core: no f' liars can push an order
 *    statistic past every honest offset (for n = 3 it is the median);
 * 3. the voters that mark_unfit leaves and that no detector holds are
 *    averaged with weights 1/sd^2 (without any, the median stands), and
 *    the mean is clamped into 2.
 * So precision counts where the voters agree, and no minority moves the
 * result outside the honest voters' range. Holds and fitness change only
 * the weights, never who is in the selection: a majority that moved
 * together stays the majority (the witness in analysis.c reports it).
 * xs, sds, tmp: scratch for n. */
static struct estimate robust_estimate(struct ballot *b, int n, const struct isect *v,
                                       double fit_k, unsigned char *mark, double *xs,
                                       double *sds, double *tmp) {
  struct estimate e = {0, 0, 0, 0};
  int m, d = mark_out(b, n, v, mark, xs, sds, &m), f = (n - 1) / 2;
  int fr = f > d ? f - d : 0;
  assert(m >= 1);
  sort_doubles(xs, tmp, m);
  sort_doubles(sds, tmp, m);
  e.median = median_sorted(xs, m);
  e.med_sd = median_sorted(sds, m);
  for (int i = 0; i < n; i++) {
    b[i].ref = e.median;
    b[i].ref_sd = 0;
  }
  memcpy(tmp, xs, (size_t)m * sizeof *tmp);
  mark_unfit(b, n, mark, fit_k, tmp, sds, m);
  double sw = 0, swx = 0;
  for (int i = 0; i < n; i++) {
    if (b[i].held && !(mark[i] & MARK_OUT)) mark[i] |= MARK_HELD;
    if (mark[i]) continue;
    sw += 1 / (b[i].sd * b[i].sd);
    swx += b[i].x / (b[i].sd * b[i].sd);
  }
  double mean = sw > 0 ? swx / sw : e.median;
  e.x = clamp(mean, xs[fr], xs[m - 1 - fr]);
  e.sd = hypot(sw > 0 ? 1 / sqrt(sw) : e.med_sd, e.x - mean);
  return e;
}

/* ------------------------------------------------------------------ */
/* The round's scratch                                                 */

struct group {            /* one reference class (sources mode: everyone) */
  enum ref_class cls;
  int start, count;       /* its candidates: positions start .. start+count-1 */
  struct isect v;         /* the class's own vote */
  struct estimate e;      /* its estimate, when v has a majority */
};

struct round {
  const struct vote_policy *p;
  const struct vote_input *in;
  struct vote_source_result *res;
  int n, ncand, ngroups;
  struct group g[CLASS_COUNT];
  int src[VOTE_MAX_SOURCES];           /* candidate position -> source index */
  unsigned char grp[VOTE_MAX_SOURCES]; /* candidate position -> group */
  unsigned char mark[VOTE_MAX_SOURCES];/* MARK_* within its group */
  struct ballot b[VOTE_MAX_SOURCES];
  double xs[VOTE_MAX_SOURCES], sds[VOTE_MAX_SOURCES], tmp[VOTE_MAX_SOURCES];
  unsigned char gmark[CLASS_COUNT];    /* MARK_* of each group in the class vote */
  struct ballot gref[CLASS_COUNT];     /* each group's ballot there, with its reference */
  struct isect v;         /* the final vote: across classes, or across sources */
  struct estimate e;      /* the final estimate */
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

/* The standard deviation of the source's offset: the caller's, or (without
 * statistics) the half width, so that an unknown spread weighs little. */
static double spread(const struct vote_policy *p, const struct vote_input *s) {
  double sd = isfinite(s->sd) && s->sd > 0 ? s->sd : half_width(p, s);
  return sd > 1e-9 ? sd : 1e-9;
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
/* Stage 1: sanity filter (who may vote)                               */

static bool on_own_oscillator(const struct vote_input *s) {
  return s->local_osc || class_key(s->ref_class) == CLASS_LOCL;
}

/* The first reason, in the documented order, to keep a source out of the
 * vote; SS_COMBINED stands for "a candidate". A source on its own
 * oscillator, unsynchronised (LI 3) or at stratum 16 is still measured,
 * recorded and watched by the detectors: it only never votes. */
static enum source_state sanity_state(const struct vote_policy *p, const struct vote_input *s) {
  if (s->flags & VOTE_F_NOSELECT) return SS_NOSELECT;
  if (!s->have_sample || !isfinite(s->offset) || !isfinite(s->error) || s->error < 0)
    return SS_NO_SAMPLE;
  if (!s->reachable) return SS_UNREACHABLE;
  if (s->leap < 0 || s->leap > 2) return SS_UNSYNC;
  if (s->stratum > p->maxstratum) return SS_BAD_STRATUM;
  if (on_own_oscillator(s)) return SS_LOCAL_OSC;
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
  case SS_LOCAL_OSC:
    text_fmt(why, len, "runs on its own oscillator (refid LOCL): watched, never votes");
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
    const struct vote_input *s = &r->in[i];
    double w = half_width(r->p, s);
    r->src[q] = i;
    r->grp[q] = (unsigned char)gi[k];
    r->b[q] = (struct ballot){.lo = s->offset - w, .hi = s->offset + w, .x = s->offset,
                              .sd = spread(r->p, s), .held = s->hold != NULL,
                              .was_out = s->was_outlier};
  }
}

/* ------------------------------------------------------------------ */
/* Stages 2 and 3: selection within each class, then across classes    */

static struct isect select_ballots(const struct ballot *b, int n, double *lo, double *hi) {
  for (int i = 0; i < n; i++) {
    lo[i] = b[i].lo;
    hi[i] = b[i].hi;
  }
  return marzullo(lo, hi, n);
}

static void vote_within_classes(struct round *r) {
  double lo[VOTE_MAX_SOURCES], hi[VOTE_MAX_SOURCES];
  for (int k = 0; k < r->ngroups; k++) {
    struct group *g = &r->g[k];
    struct ballot *b = r->b + g->start;
    g->v = select_ballots(b, g->count, lo, hi);
    if (g->v.majority)
      g->e = robust_estimate(b, g->count, &g->v, r->p->fit_k, r->mark + g->start, r->xs,
                             r->sds, r->tmp);
  }
}

/* Whether every source of the class inside its interval is held. */
static bool class_held(const struct round *r, const struct group *g) {
  for (int q = g->start; q < g->start + g->count; q++)
    if (!(r->mark[q] & MARK_OUT) && !r->b[q].held) return false;
  return true;
}

/* Whether every source of the class inside its interval was an outlier
 * last round (the class was, then). */
static bool class_was_out(const struct round *r, const struct group *g) {
  for (int q = g->start; q < g->start + g->count; q++)
    if (!(r->mark[q] & MARK_OUT) && !r->b[q].was_out) return false;
  return true;
}

/* One vote per class that reached a majority of its own, its interval the
 * class's [low, high] and its offset the class's estimate (held when all its
 * agreeing sources are); a split class abstains. In sources mode the single
 * group's vote is the vote. */
static void vote_across_classes(struct round *r) {
  struct ballot b[CLASS_COUNT];
  double lo[CLASS_COUNT], hi[CLASS_COUNT], xs[CLASS_COUNT], sds[CLASS_COUNT], tmp[CLASS_COUNT];
  unsigned char mark[CLASS_COUNT];
  int gk[CLASS_COUNT];
  if (r->p->mode == VOTE_MODE_SOURCES) {
    r->voters = r->ncand;
    if (r->ngroups) {
      r->v = r->g[0].v;
      r->e = r->g[0].e;
    }
    return;
  }
  r->voters = 0;
  for (int k = 0; k < r->ngroups; k++) {
    const struct group *g = &r->g[k];
    r->gmark[k] = MARK_OUT;
    if (!g->v.majority) continue;
    gk[r->voters] = k;
    b[r->voters++] = (struct ballot){.lo = g->v.low, .hi = g->v.high, .x = g->e.x,
                                     .sd = g->e.sd, .held = class_held(r, g),
                                     .was_out = class_was_out(r, g)};
  }
  r->v = select_ballots(b, r->voters, lo, hi);
  if (!r->v.majority) return;
  r->e = robust_estimate(b, r->voters, &r->v, r->p->fit_k, mark, xs, sds, tmp);
  for (int j = 0; j < r->voters; j++) {
    r->gmark[gk[j]] = mark[j];
    r->gref[gk[j]] = b[j];
  }
}

/* ------------------------------------------------------------------ */
/* Classification of each candidate                                    */

/* SS_COMBINED means "in the estimate"; combine() later picks the best. */
static enum source_state classify(const struct round *r, int q) {
  const struct group *g = &r->g[r->grp[q]];
  const struct ballot *b = &r->b[q];
  if (r->trust_decided)
    return flagged(r, r->src[q], VOTE_F_TRUST) || overlaps(b->lo, b->hi, &r->v) ? SS_COMBINED
                                                                                 : SS_FALSETICKER;
  if (r->p->mode == VOTE_MODE_SOURCES) {
    if (!r->v.majority || (r->mark[q] & MARK_OUT)) return SS_FALSETICKER;
    return b->held ? SS_HELD : r->mark[q] & MARK_UNFIT ? SS_OUTLIER : SS_COMBINED;
  }
  if (!g->v.majority) return SS_CLASS_SPLIT;
  if (r->mark[q] & MARK_OUT) return SS_FALSETICKER;
  if (!r->v.majority || (r->gmark[r->grp[q]] & MARK_OUT)) return SS_CLASS_OUTVOTED;
  if (!overlaps(b->lo, b->hi, &r->v)) return SS_FALSETICKER;
  if (b->held) return SS_HELD;
  return (r->mark[q] | r->gmark[r->grp[q]]) & (MARK_UNFIT | MARK_HELD) ? SS_OUTLIER : SS_COMBINED;
}

static void falseticker_why(const struct round *r, int q, char *why, size_t len) {
  const struct group *g = &r->g[r->grp[q]];
  double off = r->in[r->src[q]].offset;
  if (r->p->mode == VOTE_MODE_CLASSES && !r->trust_decided && (r->mark[q] & MARK_OUT))
    text_fmt(why, len, "offset %F s outside the %s class interval [%F, %F] s", off,
             ref_class_name(g->cls), g->v.low, g->v.high);
  else if (!r->v.majority)
    text_fmt(why, len, "no majority: %d of %d sources agree", r->v.depth, r->voters);
  else
    text_fmt(why, len, "offset %F s outside the vetted interval [%F, %F] s", off,
             r->v.low, r->v.high);
}

/* Why a source that agrees is left out of the estimate: its own offset, or
 * its class's, is too far from the median for the spreads. */
static void outlier_why(const struct round *r, int q, char *why, size_t len) {
  const struct group *g = &r->g[r->grp[q]];
  const struct ballot *b = &r->b[q];
  const struct ballot *gb = &r->gref[r->grp[q]];
  if (r->mark[q] & MARK_UNFIT)
    text_fmt(why, len, "offset %F s is %P sd from the others' median %F s: left out of the "
             "estimate", b->x, fabs(b->x - b->ref) / hypot(b->sd, b->ref_sd), b->ref);
  else if (r->gmark[r->grp[q]] & MARK_HELD)
    text_fmt(why, len, "class %s is held by its sources' detectors: left out of the estimate",
             ref_class_name(g->cls));
  else
    text_fmt(why, len, "class %s at %F s is %P sd from the other classes' median %F s: left "
             "out of the estimate", ref_class_name(g->cls), gb->x,
             fabs(gb->x - gb->ref) / hypot(gb->sd, gb->ref_sd), gb->ref);
}

static void rejected_why(const struct round *r, int q, char *why, size_t len) {
  const struct group *g = &r->g[r->grp[q]];
  const char *cls = ref_class_name(g->cls);
  switch (r->res[r->src[q]].state) {
  case SS_FALSETICKER: falseticker_why(r, q, why, len); break;
  case SS_OUTLIER: outlier_why(r, q, why, len); break;
  case SS_HELD:
    text_fmt(why, len, "offset %F s agrees, left out of the estimate while its %s condition "
             "holds", r->in[r->src[q]].offset, r->in[r->src[q]].hold);
    break;
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
    *tl = fmax(*tl, r->b[q].lo);
    *th = fmin(*th, r->b[q].hi);
  }
  return count > 0 && *tl <= *th;
}

static bool majority_excludes_trusted(const struct round *r) {
  if (!r->v.majority) return true;
  for (int q = 0; q < r->ncand; q++)
    if (flagged(r, r->src[q], VOTE_F_TRUST) && classify(r, q) != SS_COMBINED &&
        classify(r, q) != SS_OUTLIER)
      return true;
  return false;
}

/* When the vote has no majority or leaves out a trusted source, and the
 * trusted sources agree among themselves, their intersection decides; the
 * estimate is then the precision-weighted mean of the sources that overlap
 * it, clamped into it. */
static void apply_trust(struct round *r) {
  double tl, th, sw = 0, swx = 0;
  if (!trusted_interval(r, &tl, &th) || !majority_excludes_trusted(r)) return;
  r->v = (struct isect){r->v.depth, true, tl, th};
  r->trust_decided = true;
  for (int q = 0; q < r->ncand; q++) {
    const struct ballot *b = &r->b[q];
    if (!flagged(r, r->src[q], VOTE_F_TRUST) && !overlaps(b->lo, b->hi, &r->v)) continue;
    sw += 1 / (b->sd * b->sd);
    swx += b->x / (b->sd * b->sd);
  }
  r->e.x = clamp(swx / sw, tl, th);
  r->e.sd = 1 / sqrt(sw);
}

/* ------------------------------------------------------------------ */
/* Combine                                                             */

/* The source to call best: a prefer source if any, else (and among
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

/* The estimate (or a prefer source's offset, clamped to [low, high]) and
 * its bound: the truth lies in [low, high], so it is at most the distance
 * from the offset to the farther end. */
static void combine(struct round *r, struct vote_verdict *out) {
  out->best = pick_best(r);
  bool prefer = out->best >= 0 && flagged(r, out->best, VOTE_F_PREFER);
  out->offset = prefer ? clamp(r->in[out->best].offset, r->v.low, r->v.high) : r->e.x;
  out->error = fmax(fabs(out->offset - r->v.low), fabs(r->v.high - out->offset));
  for (int q = 0; q < r->ncand; q++) {
    int i = r->src[q];
    if (r->res[i].state == SS_COMBINED)
      text_fmt(r->res[i].why, sizeof r->res[i].why, "offset %F s ±%f s, sd %f s",
               r->in[i].offset, r->in[i].error, r->b[q].sd);
  }
  if (out->best < 0) return;
  r->res[out->best].state = SS_BEST;
  best_why(r, out->best, r->res[out->best].why, sizeof r->res[out->best].why);
}

/* Counts, classes, each class's own offset and the leap vote over the
 * truechimers (the sources inside the vote: outliers included). */
static int popcount(unsigned x) {
  int c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

static bool agrees(enum source_state s) {
  return s == SS_COMBINED || s == SS_BEST || s == SS_OUTLIER || s == SS_HELD;
}

static void class_offsets(const struct round *r, struct vote_verdict *out) {
  double sw[CLASS_COUNT] = {0}, swx[CLASS_COUNT] = {0};
  for (int q = 0; q < r->ncand; q++) {
    int i = r->src[q], c = (int)class_key(r->in[i].ref_class);
    if (!agrees(r->res[i].state)) continue;
    sw[c] += 1 / (r->b[q].sd * r->b[q].sd);
    swx[c] += r->b[q].x / (r->b[q].sd * r->b[q].sd);
  }
  for (int c = 0; c < CLASS_COUNT; c++) out->class_offset[c] = sw[c] > 0 ? swx[c] / sw[c] : 0;
}

static void tally(const struct round *r, struct vote_verdict *out) {
  int leaps[3] = {0, 0, 0};
  unsigned cand_mask = 0;
  for (int q = 0; q < r->ncand; q++) {
    int i = r->src[q];
    unsigned bit = 1u << class_key(r->in[i].ref_class);
    cand_mask |= bit;
    if (!agrees(r->res[i].state)) continue;
    out->agreeing++;
    out->combined += r->res[i].state == SS_COMBINED || r->res[i].state == SS_BEST;
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
  class_offsets(r, out);
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
    if (flagged(r, i, VOTE_F_REQUIRE) && !agrees(r->res[i].state)) return i;
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
  static_assert(CLASS_COUNT <= 32, "class_mask is 32 bits");
  struct round r; /* the big arrays are written before they are read */
  assert(p && n >= 0 && (n == 0 || (in && per_source)) && out);
  r.p = p;
  r.in = in;
  r.res = per_source;
  r.n = n;
  r.ncand = r.ngroups = r.voters = 0;
  r.v = (struct isect){0, false, 0.0, 0.0};
  r.e = (struct estimate){0, 0, 0, 0};
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
