/* The vote: what time is it, according to the references that agree?
 *
 * One round takes every configured source's current estimate (the caller's
 * filtered offset, its error bound and its statistical spread) and decides,
 * in named stages: sanity filter (who may vote) -> selection within each
 * reference class -> selection across classes, each class one vote ->
 * robust combine. The verdict records, for every source, its state and why,
 * in the spirit of `chronyc selectdata`.
 *
 * The guarantee (docs/design.md, "The vote"): if at most f of the n voters
 * lie, 2f < n, and every honest voter's interval [offset - error, offset +
 * error] contains the true time, then a vetted verdict's [low, high]
 * contains it, |offset - truth| <= error, and the offset lies within the
 * range of the honest voters' offsets. Selection keeps every point covered
 * by at least n - floor((n-1)/2) intervals (Marzullo's algorithm at the
 * largest tolerable f), so the truth, covered by every honest interval, is
 * inside; the estimate is a precision-weighted mean clamped between order
 * statistics that liars cannot move past the honest voters.
 *
 * Pure: arrays in, verdict out. No I/O, no clock reads, no globals, no
 * allocation: the round's scratch lives on the stack (about 200 KiB at
 * VOTE_MAX_SOURCES = 4096), so the same code runs live, in replay and in
 * tests. */
#ifndef VT_VOTE_H
#define VT_VOTE_H

#include <stdbool.h>

#include "probes/refclass.h"

/* The most sources one round considers; sources past it are marked
 * SS_NOSELECT ("beyond the vote's limit"). Bounds the stack scratch. */
#define VOTE_MAX_SOURCES 4096

enum vote_mode { VOTE_MODE_CLASSES = 0, VOTE_MODE_SOURCES };

#define VOTE_F_TRUST    1u /* never a falseticker unless another trusted source disagrees */
#define VOTE_F_REQUIRE  2u /* not vetted unless this source is selected */
#define VOTE_F_NOSELECT 4u /* never a candidate (monitored only) */
#define VOTE_F_PREFER   8u /* when selected, its offset is the vetted offset */

struct vote_policy {
  enum vote_mode mode;
  int minsources;     /* agreeing sources needed to vet (default 1) */
  int minclasses;     /* agreeing classes needed, classes mode only (default 1) */
  double maxdistance; /* s; a candidate with a larger error bound is "too far" (default 1.5) */
  int maxstratum;     /* a higher stratum is rejected (default 15) */
  double mindist;     /* s; each interval padded to at least ±mindist (default 1e-6: the
                         caller's bound already holds the measured jitter) */
  double fit_k;       /* a voter whose offset is more than fit_k combined standard
                         deviations from the voters' median is left out of the
                         estimate ("outlier"; default 3) */
};

/* Fills *p with the defaults above (classes mode). */
void vote_policy_default(struct vote_policy *p);

struct vote_input {        /* one per source; the caller fills it from the probes */
  enum ref_class ref_class;  /* out of range counts as CLASS_UNKNOWN */
  unsigned flags;            /* VOTE_F_* */
  bool have_sample, reachable, stale; /* stale: the caller judged the last sample too old */
  double offset;           /* s, source minus local clock */
  double error;            /* s, error bound (> 0); not finite or < 0: no sample */
  int stratum;             /* 0 for a receiver */
  int leap;                /* 0..3; 3 = unsynchronised (out of range: likewise) */
  double sd;               /* s, standard deviation of offset (the caller's statistics,
                              unpadded); <= 0 or not finite: error is used */
  bool local_osc;          /* its refid says it runs on its own oscillator (LOCL) */
  bool was_outlier;        /* it was SS_OUTLIER last round (the caller remembers): it
                              re-enters the estimate only within 2/3 of fit_k */
  const char *hold;        /* not NULL: a detector holds a condition on it ("step",
                              "slow-walk", ...): it votes, but is left out of the
                              estimate */
};

enum source_state {
  SS_NO_SAMPLE, SS_UNREACHABLE, SS_NOSELECT, SS_UNSYNC, SS_BAD_STRATUM, SS_STALE, SS_TOO_FAR,
  SS_LOCAL_OSC,      /* on its own oscillator: watched, never votes */
  SS_FALSETICKER,    /* outside the majority of its class (sources mode: of all) */
  SS_CLASS_OUTVOTED, /* agrees within its class, but the class is outside the class majority */
  SS_CLASS_SPLIT,    /* its class has no majority of its own */
  SS_OUTLIER,        /* agrees, but its offset is too far from the others' for its
                        spread: counted as agreeing, left out of the estimate */
  SS_HELD,           /* agrees, but a detector holds a step, walk or drift
                        condition on it: left out of the estimate */
  SS_COMBINED, SS_BEST, SS_STATE_COUNT
};

/* "no-sample", "unreachable", "noselect", "unsync", "bad-stratum", "stale",
 * "too-far", "local-osc", "falseticker", "class-outvoted", "class-split",
 * "outlier", "held", "combined", "best"; "?" out of range. */
const char *source_state_name(enum source_state s);

struct vote_source_result {
  enum source_state state;
  char why[128]; /* e.g. "offset +1.500000 s outside the vetted interval [-0.000100, +0.000120] s" */
};

/* The round's result. The figures (offset .. leap) are filled whenever a
 * majority was found, even when a policy check (minsources, minclasses,
 * require) then refuses to vet: `vetted` is what the clock model obeys.
 * Offsets keep the inputs' sign: true time minus local clock. */
struct vote_verdict {
  bool vetted; char why_not[160];   /* "" when vetted */
  double offset, error;             /* vetted offset of the local clock and its bound, s */
  double low, high;                 /* the final intersection (0, 0 without a majority) */
  int candidates, agreeing;         /* sources past the sanity filter; truechimers
                                       (OUTLIER, HELD, COMBINED, BEST) */
  int combined;                     /* truechimers in the estimate (COMBINED, BEST) */
  int classes, agreeing_classes;    /* classes with candidates; classes with a truechimer */
  unsigned class_mask;              /* 1u << ref_class for each agreeing class */
  int best;                         /* index of the best source, -1 if none */
  int stratum;                      /* best truechimer's stratum + 1 (16 when not vetted) */
  enum ref_class ref_class;         /* the best source's class (CLASS_UNKNOWN if none) */
  int leap; bool leap_disagree;     /* leap held by more than half the truechimers, else 0
                                       (3 without truechimers); whether any two differ */
  double class_offset[CLASS_COUNT]; /* each agreeing class's own estimate (class_mask) */
};

/* One round. in[n] are the sources (n >= 0), per_source[n] receives each
 * one's state and why, *out the verdict. Stages, each a short static
 * function: sanity filter -> intersection per class -> class vote -> trust
 * -> classify -> combine -> policy checks. Deterministic; no allocation. */
void vote_round(const struct vote_policy *p, const struct vote_input *in, int n,
                struct vote_source_result *per_source, struct vote_verdict *out);

/* The selection stage alone over the closed intervals [lo[i], hi[i]] (lo <=
 * hi, finite; touching endpoints overlap), 0 <= n <= VOTE_MAX_SOURCES: with
 * f = floor((n-1)/2), the most liars a strict majority tolerates, *low is
 * the lowest point covered by >= n-f intervals and *high the highest.
 * Returns the number of intervals overlapping [*low, *high], or 0 (and
 * *low = *high = 0) when no point is covered by n-f. */
int vote_intersect(const double *lo, const double *hi, int n, double *low, double *high);

#endif
