/* Per-source sample detectors and the local-clock frequency detector.
 *
 * The daemon feeds every new sample of a source, with the vetted offset of
 * the same round (the vote's answer), to that source's detector. The
 * detectors work on the residual r = offset - vetted_offset, which removes
 * the local clock's own wander (common to every source); in a round the vote
 * could not vet, the step detector works on the raw offset with a local
 * linear prediction, and the drift and walk detectors skip the sample.
 *
 *   step       a jump beyond what the source's jitter explains, confirmed by
 *              the next sample on the same side (one spike is not a step);
 *              the new level then becomes the baseline. Jitter is robust:
 *              the MAD of successive differences; the prediction is a
 *              Theil-Sen line through the recent baseline.
 *   drift      Theil-Sen slope of r over the last drift_window seconds, in
 *              ppm, reported when it is both large (> drift_ppm) and
 *              statistically significant (t > drift_t).
 *   slow walk  Page's two-sided CUSUM of r against a learned baseline, in
 *              jitter units: a small persistent push no single sample shows.
 *   date far   |r| > date_far (a GNSS week rollover, a year-off date), at once.
 *   local freq the slope of the vetted offset itself: the local clock's
 *              frequency error against the vote.
 *
 * Pure code: no I/O, no clock reads, no globals, no allocation. Every state
 * struct is fixed-size and owned by the caller; one per source. Thresholds
 * and their reasons: BENCHMARKS.md ("Detection") and detect_config_default(). */
#ifndef VT_DETECT_H
#define VT_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/events.h"

struct detect_config {
  double step_k;         /* a step is |r - predicted| > max(step_k * jitter
                          * (times the prediction's own uncertainty),
                          * step_min); default 8 */
  double step_min;       /* s; default 200e-6 */
  double drift_ppm;      /* |slope of r| above this is drift; default 0.25 */
  double drift_t;        /* ... and its t statistic above this; default 5 */
  double drift_window;   /* s of history for the slope; default 900 */
  double walk_k, walk_h; /* CUSUM slack and decision threshold, in jitter
                          * units; defaults 0.75 and 12 */
  double jitter_min;     /* s; floor of the jitter used by drift and walk
                          * (a 100 ns PPS source must not make the CUSUM see
                          * microsecond wander as a spoof); default 5e-6 */
  double date_far;       /* s; |r| beyond this is a date error; default 1000 */
  double local_freq_ppm; /* |local clock frequency error| above this is an
                          * event; default 100 */
  double local_window;   /* s of vetted offsets for the local frequency;
                          * default 1800 */
};

/* Fills c with the defaults above. */
void detect_config_default(struct detect_config *c);

/* Samples kept per source: 900 s of drift window down to a 4 s poll. A
 * faster source (a 1 s receiver) sees a shorter drift window unless the
 * caller decimates. */
#define DETECT_WINDOW 256
/* Clean vetted samples that establish the slow-walk baseline (its median;
 * the CUSUM starts after the first 48, the baseline is final after 128). */
#define DETECT_LEARN 128

/* One kept sample (internal to detect.c, here for the struct's size). */
struct detect_entry {
  double t;       /* s */
  double raw;     /* offset, s */
  double res;     /* offset - vetted_offset, s (when vetted) */
  uint32_t epoch; /* baseline generation: a confirmed step starts a new one */
  uint8_t flags;  /* vetted, pending (a step candidate), outlier (a spike) */
};

struct source_detector {
  struct detect_entry ring[DETECT_WINDOW];
  int head, count;   /* next slot to write; entries held */
  uint32_t epoch;    /* current baseline generation */
  double last_t;
  double jitter;     /* robust jitter of r, s; 0 until measured */
  int jitter_n;      /* differences behind it */
  bool jitter_ok;
  /* step */
  bool pending;      /* the newest entry is a step candidate */
  double pending_dev;/* its deviation from the prediction, s */
  bool step_now;     /* a step was confirmed by the latest sample */
  double step_value, step_thr, step_jitter;
  double fit_slope;  /* the baseline's latest fitted slope (NAN: none) ... */
  bool fit_res;      /* ... of residuals (else of raw offsets) */
  double carry_slope;/* the slope carried over a step into the new one */
  bool carry_res;
  /* slow walk */
  int learn_n;
  double learn[DETECT_LEARN];
  double baseline, cusum_pos, cusum_neg, walk_shift;
  bool walk_active;
  double walk_h;     /* the threshold when it started */
  /* drift */
  bool slope_ok, drift_active;
  double slope_ppm, slope_t, slope_span, drift_thr;
  /* date far */
  bool date_active, date_vetted;
  double date_r, date_thr;
};

/* Starts with no history, learning. */
void detector_init(struct source_detector *d);

/* Feeds one sample: t its time (s, increasing; a sample with t not after
 * the previous one, or with a non-finite figure, is dropped), offset (source
 * minus local clock, s), error its error bound (s; the prior jitter until the
 * jitter is measured), vetted_offset the vote's offset of the same round
 * when vetted. Appends to out, up to max, the events that STARTED with this
 * sample (source = SUBJECT_SYSTEM and ref_class = CLASS_UNKNOWN for the
 * caller to fill, time_ns from t) and returns their number. */
int detector_sample(struct source_detector *d, const struct detect_config *c,
                    double t, double offset, double error, bool vetted,
                    double vetted_offset, struct vt_event *out, int max);

/* The conditions holding now (EV_STEP only after the sample that confirmed
 * it; EV_DRIFT, EV_SLOW_WALK, EV_DATE_FAR while they hold), up to max, with
 * source and ref_class left as in detector_sample. Returns their number. */
int detector_conditions(const struct source_detector *d,
                        struct vt_condition *out, int max);

/* A snapshot for the API. Figures not yet measured are 0 (with
 * slope_ok false, or learning true). */
struct detector_report {
  double jitter;     /* s */
  double slope_ppm;  /* drift of r over the window */
  double slope_t;    /* its t statistic */
  bool slope_ok;     /* the window holds enough data for a slope */
  double cusum_pos, cusum_neg; /* jitter units */
  bool learning;     /* jitter or walk baseline still being learned */
};
void detector_report(const struct source_detector *d,
                     struct detector_report *out);

/* The local clock's frequency error against the vetted time: the Theil-Sen
 * slope of the vetted offset over local_window, in ppm, positive when the
 * local clock runs slow (the offset to add grows). */
#define LOCAL_WINDOW 256
struct local_clock_detector {
  double t[LOCAL_WINDOW], vo[LOCAL_WINDOW];
  int head, count;
  double last_t;
  bool valid, active;
  double freq_ppm, freq_t, span, limit;
};

/* Starts with no history. Call it again after the local clock was stepped
 * (EV_LOCAL_STEP): a step in the vetted offset is not a frequency. */
void local_clock_init(struct local_clock_detector *l);

/* Feeds the vetted offset of one vetted round at time t (s, increasing;
 * other samples are dropped). Appends EV_LOCAL_FREQ (source =
 * SUBJECT_SYSTEM) to out when |frequency error| starts exceeding
 * local_freq_ppm significantly; returns the number of events. */
int local_clock_sample(struct local_clock_detector *l,
                       const struct detect_config *c, double t,
                       double vetted_offset, struct vt_event *out, int max);

/* The frequency error, ppm; NAN until 8 samples span a quarter window. */
double local_clock_freq_ppm(const struct local_clock_detector *l);

/* EV_LOCAL_FREQ while it holds (0 or 1 conditions). */
int local_clock_conditions(const struct local_clock_detector *l,
                           struct vt_condition *out, int max);

#endif
