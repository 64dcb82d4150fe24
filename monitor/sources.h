/* The table of configured sources: starts one probe per source through the
 * probe registry, routes every sample to the history, and publishes the
 * source reports and its status figures into monitor/report.h. */
#ifndef VT_SOURCES_H
#define VT_SOURCES_H

#include <stddef.h>

#include "monitor/config.h"
#include "monitor/history.h"

struct keyring;
struct analysis_source_stats; /* monitor/analysis.h */

/* Starts a probe for every source in cfg. keys may be NULL. history must
 * outlive the sources. Returns 0 (the table is published, not yet voted),
 * or -1 with "FILE:LINE: message" in err (nothing is left running then). */
int sources_start(const struct vt_config *cfg, const struct keyring *keys,
                  struct history *history, char *err, size_t errlen);

/* Stops every probe and publishes an empty table. Safe to call when none
 * runs. */
void sources_stop(void);

/* For the round (monitor/round.c): the configured sources, by index. */
struct analysis_source;
struct vote_source_result;
int sources_count(void);
const char *sources_name(int i);
int64_t sources_db_id(int i);       /* its history_source_ref(), 0 if none */
unsigned sources_vote_flags(int i); /* VOTE_F_* */
/* Fills out[sources_count()] with each source's latest measurement and
 * state at real time now (Unix s); marks the samples as seen. */
void sources_collect(struct analysis_source *out, double now);
/* Publishes every source's report (report_publish_sources) with its state
 * in the round's vote, votes[sources_count()], and its sample statistics,
 * stats[sources_count()]; both NULL before a round. */
void sources_publish(const struct vote_source_result *votes,
                     const struct analysis_source_stats *stats);

#endif
