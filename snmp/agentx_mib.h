/* The values of VETTIME-MIB's polled objects (schema/VETTIME-MIB.txt,
 * vtStatus and vtSourceTable) from the daemon's reports: the OID layout
 * and the conversions to SNMP types. Pure: no net-snmp, no I/O, so the
 * numbers an NMS graphs are unit tested.
 *
 * SNMP has no floating point (RFC 2578 §7.1), so each time figure is
 * given twice: as an integer of nanoseconds that an NMS can graph
 * (Integer32 for signed offsets, Gauge32 for bounds), saturated at the
 * type's limits (±2.147 s, 4.29 s: beyond them the figure is an alarm
 * anyway), and as a DisplayString of decimal seconds that is exact
 * whatever the size (a five-year jump reads +157680000.000123). */
#ifndef VT_AGENTX_MIB_H
#define VT_AGENTX_MIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/report.h"

/* VETTIME-MIB::vettimeMIB, the placeholder enterprise 32473 (see the MIB),
 * as in alerting/sink_snmp.c. */
#define AGX_MIB_ROOT 1, 3, 6, 1, 4, 1, 32473, 7
#define AGX_MIB_ROOT_LEN 8
/* vtObjects.2 and vtObjects.3 under it. */
#define AGX_STATUS_ARC 1, 2
#define AGX_TABLE_ARC 1, 3

/* vtStatus scalars (vtStatus.N.0). */
enum agx_scalar {
  AGX_VETTED = 1,           /* TruthValue */
  AGX_VETTED_OFFSET_NS,     /* Integer32, absent while not vetted */
  AGX_VETTED_BOUND_NS,      /* Gauge32, absent while not vetted */
  AGX_VETTED_OFFSET,        /* DisplayString, "" while not vetted */
  AGX_VETTED_BOUND,         /* DisplayString */
  AGX_WHY_NOT_VETTED,       /* DisplayString */
  AGX_CANDIDATE_SOURCES,    /* Gauge32 */
  AGX_AGREEING_SOURCES,     /* Gauge32 */
  AGX_CLASSES,              /* Gauge32 */
  AGX_AGREEING_CLASSES,     /* Gauge32 */
  AGX_AGREEING_CLASS_NAMES, /* DisplayString "GPS,GAL" */
  AGX_OPEN_ALARMS,          /* Gauge32 */
  AGX_OPEN_CRITICAL,        /* Gauge32 */
  AGX_CLOCK_STATE,          /* INTEGER serving(1) holdover(2) refusing(3) */
  AGX_OUTBOX_PENDING,       /* Gauge32 */
  AGX_SERVER_REQUESTS,      /* Counter64: NTP requests received */
  AGX_SERVER_ANSWERED,      /* Counter64: answered with the time */
  AGX_SERVER_DROPPED,       /* Counter64: left unanswered */
  AGX_SCALAR_LAST = AGX_SERVER_DROPPED
};

/* vtSourceEntry columns (vtSourceEntry.C.INDEX; INDEX = source index + 1). */
enum agx_column {
  AGX_COL_NAME = 2,         /* DisplayString (column 1 is the index) */
  AGX_COL_KIND,             /* DisplayString */
  AGX_COL_CLASS,            /* DisplayString */
  AGX_COL_STATE,            /* DisplayString: the probe's state */
  AGX_COL_VOTE_STATE,       /* INTEGER: source_state + 1 */
  AGX_COL_OFFSET_NS,        /* Integer32, absent without a sample */
  AGX_COL_BOUND_NS,         /* Gauge32, absent without a sample */
  AGX_COL_OFFSET,           /* DisplayString, "" without a sample */
  AGX_COL_STRATUM,          /* Integer32, absent before a response */
  AGX_COL_REACH,            /* Gauge32 0..255 */
  AGX_COL_LAST = AGX_COL_REACH
};

enum agx_type { AGX_INTEGER, AGX_GAUGE, AGX_STRING, AGX_COUNTER64 };

/* One value: its type and either the number or the text. */
struct agx_value {
  enum agx_type type;
  long number;              /* INTEGER, Integer32, TruthValue: signed; Gauge32: 0..2^32-1 */
  uint64_t counter;         /* Counter64 */
  char text[256];
};

/* What one request sees: the reports read once. */
struct agx_view {
  const struct vote_report *vote;
  const struct source_report *sources;
  int n_sources;
  const struct alarm_report *alarms;
  int n_alarms;
  const struct clock_snapshot *clock;
  const struct outbox_report *outbox;
  const struct serve_report *serve; /* the NTP server's counters */
};

/* The scalar's value; false when it does not exist (now or at all). */
bool agx_scalar(const struct agx_view *v, int scalar, struct agx_value *out);
/* The cell at column and row (the row's INDEX, 1-based); false when the
 * row or the column does not exist, or the cell is empty. */
bool agx_cell(const struct agx_view *v, int column, long row, struct agx_value *out);

/* Seconds as Integer32 nanoseconds, saturated at -2^31 .. 2^31-1; NaN: 0. */
long agx_ns_integer32(double seconds);
/* Seconds (>= 0) as Gauge32 nanoseconds, saturated at 0 .. 2^32-1. */
long agx_ns_gauge32(double seconds);
/* Seconds as an exact decimal text with nine decimals: signed
 * ("+0.000012345", "-157680000.000123000") for an offset, unsigned
 * ("0.000070705") for a bound; "" when not finite. */
void agx_decimal(double seconds, bool sign, char *buf, size_t cap);

#endif
