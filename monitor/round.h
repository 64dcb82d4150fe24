/* The daemon's round, once a second: collects every source's latest
 * measurement, runs the analysis (monitor/analysis.h: vote, detectors,
 * alarms), logs what started, ended, was raised or cleared, queues the vote,
 * events and alarm transitions for the history (written by the same flush as
 * the round's samples), and keeps the snapshot the reports read. */
#ifndef VT_ROUND_H
#define VT_ROUND_H

#include <stddef.h>

#include "monitor/config.h"
#include "monitor/history.h"
#include "monitor/report.h"

/* After sources_start(). Returns 0, or -1 with a message. */
int round_start(const struct vt_config *cfg, struct history *history, char *err, size_t errlen);
void round_stop(void);

/* One round at the loop's current wake-up; local_step is how far the local
 * clock was stepped since the last round (0 if not). */
void round_run(double local_step);

/* Fills the vote fields of a source report from the last round. */
void round_fill_source_vote(int i, struct source_report *r);

#endif
