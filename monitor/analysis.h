/* One round of analysis: the vote, the detectors and the alarms, over plain
 * arrays. Nothing here reads a clock or does I/O: the daemon feeds it live
 * measurements once per round, `vettime replay` feeds it samples from the
 * history, and the tests feed it synthetic series, and all three get the
 * same verdicts, events and alarms for the same input.
 *
 * A round, in order:
 *   1. vote (monitor/vote.h) over every source's latest measurement;
 *   2. the sample detectors (monitor/detect.h) on each source's new sample,
 *      against the vetted offset of this round; the local-clock detector on
 *      the vetted offset;
 *   3. the round detectors here: falseticker, quorum lost, class lost,
 *      unreachable, stratum and refid changes, leap disagreement, KoD and
 *      authentication failures, local clock stepped;
 *   4. the conditions of 2 and 3 into the alarm table (monitor/alarms.h),
 *      which raises and clears with hysteresis.
 * Events are emitted when a condition starts and when it ends, and for
 * every pulse (a step, a stratum change, ...). A kiss-o'-death is a
 * condition, not a pulse: it holds while the source's probe is in a kiss
 * state (or new KoDs arrived this round), so a server that answers every
 * poll with RATE writes one event when it starts and one when it ends. */
#ifndef VT_ANALYSIS_H
#define VT_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/alarms.h"
#include "monitor/clockmodel.h"
#include "monitor/detect.h"
#include "monitor/events.h"
#include "monitor/vote.h"

struct analysis_config {
  struct vote_policy vote;
  struct detect_config detect;
  struct alarm_policy alarm;
  struct clockmodel_config clock; /* holdover, holdovermargin */
  double warmup; /* s after the first round before a source that never
                    answered counts as unreachable, and before a vote that
                    was never vetted counts as quorum lost (default 30) */
};
void analysis_config_default(struct analysis_config *c);
/* (A configuration file's policy is applied by round_analysis_config(),
 * monitor/round.h: the core knows no configuration file.) */

/* What the caller knows of one source this round. */
struct analysis_source {
  struct vote_input vote;   /* latest measurement, for the vote */
  bool new_sample;          /* a sample arrived since the last round */
  double sample_time;       /* Unix s of that sample */
  double sample_offset;     /* s, source minus local clock */
  double sample_error;      /* s, its error bound */
  int stratum;              /* last valid stratum, -1 before the first */
  uint32_t refid;
  unsigned reach;           /* 8-bit reachability register */
  uint64_t kod;             /* cumulative counts since start */
  char kiss[24];            /* the probe's state while a kiss-o'-death holds
                               it ("rate", "denied", "kod-XXXX"), else "" */
  uint64_t auth_fail;
  bool auth_failing;        /* the probe's state is "auth-fail" (its last
                               answers failed authentication) */
  uint64_t degraded;        /* receiver health drops, cumulative */
  uint64_t jumps;           /* a receiver's own time jumped against its previous
                               minutes (probes/rx_continuity.h), cumulative */
  double last_jump;         /* s, how far the newest of those jumps moved */
  const char *detail;       /* the driver's health text (may be NULL) */
  uint32_t peer_ipv4;       /* the server's IPv4 address, 0 if none: served as
                               refid when its class is NTP (unknown upstream) */
};

/* Everything one round produced. Valid until the next analysis_round(). */
struct analysis_result {
  struct vote_verdict verdict;
  struct vote_source_result *per_source;  /* [n] */
  struct vt_event *events;                /* [n_events] */
  int n_events;
  struct vt_condition *conds;             /* [n_conds], holding now */
  int n_conds;
  struct alarm_transition *transitions;   /* [n_transitions] */
  int n_transitions;
  double local_freq_ppm;                  /* NaN while unknown */
  struct clockmodel_out clock;            /* what the NTP server serves */
};

struct analysis;

/* For n sources; alarm ids start at first_alarm_id. NULL if out of memory. */
struct analysis *analysis_new(int n, const struct analysis_config *cfg,
                              uint64_t first_alarm_id);
void analysis_free(struct analysis *a);

/* Runs one round at real time now (Unix s). local_step: seconds the local
 * clock was stepped since the last round (0 if not). src[n]. */
const struct analysis_result *analysis_round(struct analysis *a, double now,
                                             double local_step,
                                             const struct analysis_source *src);

/* Restores an alarm left active by the previous run (alarms_restore). */
int analysis_restore_alarm(struct analysis *a, const struct alarm *alarm, double now);

/* The clock model, to carry it across a reload (a new analysis would start
 * refusing until its first vetted round): read it from the old analysis,
 * give it to the new one, which keeps its own configuration. */
const struct clockmodel *analysis_clock(const struct analysis *a);
void analysis_restore_clock(struct analysis *a, const struct clockmodel *m);

/* One source's sample statistics at time now, for `vettime sourcestats`:
 * the samples behind its estimate (srcfilter.h), the estimate and its
 * standard deviation, its jitter, and its frequency against the vetted
 * time (the drift detector's slope, detect.h). */
struct analysis_source_stats {
  int samples;       /* 0 before the first sample */
  double offset, sd; /* s; NaN before the first sample */
  double jitter;     /* s; NaN until measured */
  double freq_ppm;   /* NaN until the drift window holds enough */
};
void analysis_source_stats(const struct analysis *a, int i, double now,
                           struct analysis_source_stats *out);

/* The alarms raised now (see alarms_active). */
int analysis_active_alarms(const struct analysis *a, struct alarm *out, int max);

#endif
