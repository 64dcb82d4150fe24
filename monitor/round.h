/* The daemon's round, once a second: collects every source's latest
 * measurement, runs the analysis (monitor/analysis.h: vote, detectors,
 * alarms), logs what started, ended, was raised or cleared, queues the vote,
 * events and alarm transitions for the history (written by the same flush as
 * the round's samples), publishes the vote, the source table, the events and
 * the alarms (monitor/report.h), and hands every alarm transition up to the
 * handler main registered (alerting), without knowing who that is. */
#ifndef VT_ROUND_H
#define VT_ROUND_H

#include <stddef.h>

#include "monitor/alarms.h"
#include "monitor/config.h"
#include "monitor/history.h"

/* The analysis defaults (analysis_config_default) with the policy of a
 * configuration file applied (vote mode, minsources, minclasses,
 * maxdistance, alarmclear): what the daemon's round and `vettime replay`
 * both run with. */
struct analysis_config;
void round_analysis_config(const struct vt_config *cfg, struct analysis_config *c);

/* After sources_start(). Returns 0, or -1 with a message. */
int round_start(const struct vt_config *cfg, struct history *history, char *err, size_t errlen);
void round_stop(void);

/* One round at the loop's current wake-up; local_step is how far the local
 * clock was stepped since the last round (0 if not). */
void round_run(double local_step);

/* Who hears the round's alarm transitions: called for each, in order,
 * after its history row is queued and before the next flush; source_name
 * is the subject's name ("" for the system). The round's vote and source
 * table are already published (report.h) when it is called. */
typedef void round_alarm_fn(void *ctx, const struct alarm_transition *t,
                            const char *source_name);

/* Registers the one handler (NULL: none); kept across round_stop and
 * round_start. The daemon's main registers alerting here. */
void round_on_alarm(round_alarm_fn *fn, void *ctx);

#endif
