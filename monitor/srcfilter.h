/* Per-source sample statistics: what one source says once its noise is
 * averaged out, and how sure that is.
 *
 * The vote compares sources by intervals [offset - error, offset + error]
 * that must hold the true time for every honest source. A single NTP
 * sample's root distance does not always hold it (jitter on the path or in
 * the server can exceed the dispersion the server claims), and padding
 * every interval to a millisecond hides sub-millisecond liars. So, as
 * chrony's sample statistics do (sourcestats.c), each source keeps a short
 * run of its recent samples:
 *
 *   jitter    the standard deviation of one sample, from successive
 *             differences (insensitive to a slow drift), exponentially
 *             averaged (a jump teaches it only when jumps come in a row,
 *             clipped at 10 jitters), inflated while few differences stand
 *             behind it (at least 1 ms before the third);
 *   run       up to SRCFILTER_WINDOW samples since the last jump; a sample
 *             further than step_k predicted deviations from the run starts a
 *             new one (a step is followed at once, not averaged in); if the
 *             next sample is back with the old run, the jump was a spike:
 *             the old run is restored without it;
 *   estimate  the run's mean, or its least-squares line evaluated now when
 *             the slope is significant (a walking source is followed);
 *   sd        the estimate's standard deviation;
 *   error     the newest sample's root distance (its systematic part:
 *             path asymmetry, the server's own dispersion) + conf_k sd +
 *             what an insignificant slope could add + 15 ppm of age.
 *
 * Pure: no I/O, no clock reads, no allocation; one struct per source. */
#ifndef VT_SRCFILTER_H
#define VT_SRCFILTER_H

#include <stdbool.h>

#define SRCFILTER_WINDOW 8

struct srcfilter {
  double t[SRCFILTER_WINDOW], x[SRCFILTER_WINDOW]; /* the run, oldest first */
  int n;             /* samples in the run */
  double last_t, last_x, last_error;
  bool last_jumped;  /* the newest sample started a new run ... */
  double last_jump_k; /* ... this many predicted deviations from the old one */
  double prev_t[SRCFILTER_WINDOW], prev_x[SRCFILTER_WINDOW]; /* ... and this was */
  int prev_n;        /* the run before it, kept in case the jump was a spike */
  double prev_last_x;
  double var;        /* jitter^2 of one sample, s^2 */
  int nvar;          /* successive differences behind var */
  unsigned long jumps; /* runs restarted by a jump */
  unsigned long spikes; /* one-sample jumps that came straight back */
};

struct srcfilter_estimate {
  double offset, error, sd, jitter; /* s */
  int n;                            /* samples behind the estimate */
  bool slope_used;                  /* the line, not the mean */
};

void srcfilter_init(struct srcfilter *f);

/* Adds one sample (t in s, increasing; offset and its root distance error in
 * s). A sample not after the previous one, or not finite, is ignored.
 * Returns true when the sample jumped away from the run and started a new
 * one. */
bool srcfilter_add(struct srcfilter *f, double t, double offset, double error);

/* The estimate at time now (s, >= the newest sample's time). false before
 * the first sample. */
bool srcfilter_get(const struct srcfilter *f, double now, struct srcfilter_estimate *out);

#endif
