/* Small helpers shared by the receiver drivers (nmea, dcf77, shm, sock):
 * the state with its log line, the detail line, the record of a valid
 * sample in the report, the median offset filter and the continuity gate
 * (probes/rx_continuity.h) of the serial receivers
 * and the reach register of the hand-over drivers (shm, sock). */
#ifndef VT_DRIVER_UTIL_H
#define VT_DRIVER_UTIL_H

#include <stdbool.h>

#include "probes/probe.h"
#include "probes/rx_continuity.h"

#define MEDIAN_FILTER_LEN 8

/* Sets rep->state, logging "KIND NAME: state OLD -> NEW" (or "NAME: ..."
 * when kind is "") when it changes; a repeated state is not logged. */
void driver_set_state(struct probe_report *rep, const char *kind, const char *name, const char *state);

/* The report's detail line; a long one is cut. */
__attribute__((format(printf, 2, 3)))
void driver_set_detail(struct probe_report *rep, const char *fmt, ...);

/* Records a valid sample: counts it (PC_VALID), and sets the stratum,
 * refid, last sample and its receive time. Not the state, reach, class
 * or filter. */
void driver_record_sample(struct probe_report *rep, const struct vt_sample *s);

/* The last MEDIAN_FILTER_LEN offsets; zero-initialised is empty. */
struct median_filter {
  double offsets[MEDIAN_FILTER_LEN];
  int n, next;
};

/* Adds an offset; sets rep->filtered_offset to the median of the recent
 * offsets, rep->jitter to their RMS distance from it and
 * rep->filtered_error to bound + jitter. */
void median_filter_add(struct median_filter *f, double offset, double bound, struct probe_report *rep);

/* A tick of the reach register: shifts in *sampled (a sample since the
 * last tick) and clears it; a source that had samples and has none in
 * the register goes to state "silent" (logged as driver_set_state does). */
/* Jitter as the sample standard deviation of the last JITTER_WINDOW_LEN
 * offsets (gpsd and SOCK sources). */
#define JITTER_WINDOW_LEN 8
struct jitter_window {
  double offsets[JITTER_WINDOW_LEN];
  int n, next;
};
/* Adds one offset, stores the new jitter in rep->jitter and returns it. */
double jitter_window_add(struct jitter_window *w, double offset, struct probe_report *rep);

void driver_shift_reach(struct probe_report *rep, bool *sampled, const char *kind, const char *name);

/* The serial receivers' last gate (nmea, dcf77): a decoded time the
 * decoder trusts (`decoded`, s since 1970) whose on-time edge was at
 * `osc` on the local oscillator (CLOCK_MONOTONIC_RAW s) is judged by the
 * receiver's own continuity (probes/rx_continuity.h). A jump counts
 * PC_JUMPS, sets rep->last_jump, empties the median filter (offsets of
 * the old time say nothing of the new one) and is logged as a warning.
 * While the receiver settles, PC_UNTRUSTED counts, the state is
 * "untrusted" and the detail starts with why. Returns true when the time
 * may become a sample. */
bool driver_continuity(struct rx_continuity *c, struct median_filter *f, struct probe_report *rep,
                       const char *kind, const char *name, double decoded, double osc);

#endif
