/* The table of configured sources: starts one probe per source through the
 * probe registry, routes every sample to the history, and answers the
 * report functions of report.h. */
#ifndef VT_SOURCES_H
#define VT_SOURCES_H

#include <stddef.h>

#include "monitor/config.h"
#include "monitor/history.h"

struct keyring;

/* Starts a probe for every source in cfg. keys may be NULL. history must
 * outlive the sources. Returns 0, or -1 with "FILE:LINE: message" in err
 * (nothing is left running then). */
int sources_start(const struct vt_config *cfg, const struct keyring *keys,
                  struct history *history, char *err, size_t errlen);

/* Stops every probe. Safe to call when none runs. */
void sources_stop(void);

/* The loop saw the local clock stepped by `step` seconds. */
void sources_note_clock_step(double step);

#endif
