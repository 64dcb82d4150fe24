/* Alarms: conditions with a lifetime.
 *
 * Each round the detectors and the vote report the conditions holding now
 * (events.h); the alarm table turns them into alarms that are raised once,
 * stay raised while the condition keeps coming back, and clear once it has
 * been absent for clear_after seconds. Hysteresis both ways: a continuing
 * condition must hold raise_after rounds before it raises (pulse kinds raise
 * at once), and a flapping one stays one alarm (its returns counted in
 * `repeats`) instead of a storm. Each alarm has a stable id, so every
 * channel (syslog, mail, SNMP, the API) can name the same alarm.
 *
 * Pure apart from the table: time comes in as now_ns, transitions go out in
 * the caller's array; no I/O, no clock reads, no allocation after
 * alarms_new. */
#ifndef VT_ALARMS_H
#define VT_ALARMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/events.h"
#include "probes/refclass.h"

/* The most conditions the table tracks at once (raised or pending); a new
 * condition past it is dropped and counted (alarms_dropped). */
#define ALARMS_MAX 4096

enum alarm_severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL };

/* "info", "warning", "critical"; "?" out of range. */
const char *alarm_severity_name(enum alarm_severity s);

/* critical: quorum-lost, falseticker, date-far, local-step; info:
 * refid-change; warning: the rest. */
enum alarm_severity alarm_default_severity(enum event_kind k);

/* Pulse kinds raise in their first round: step, local-step, date-far,
 * stratum-change, refid-change, degraded, witness (a KoD and failed
 * authentication are conditions: they hold while the server kisses or its
 * answers fail). */
bool alarm_kind_is_pulse(enum event_kind k);

struct alarm_policy {
  double clear_after; /* s a condition must be absent before its alarm clears (default 60) */
  int raise_after;    /* rounds a continuing condition must hold before it raises (default 2);
                         pulse kinds raise in their first round. The rounds need not be
                         consecutive: a condition is forgotten only after clear_after s
                         absent, so a flapping condition does raise (once). */
};

/* Fills *p with the defaults above. */
void alarm_policy_default(struct alarm_policy *p);

struct alarm {             /* a report struct, copied out */
  uint64_t id;             /* stable for the alarm's life; ids increase from first_id */
  enum event_kind kind;
  int source;              /* config index, or SUBJECT_SYSTEM */
  enum ref_class ref_class;
  enum alarm_severity severity;
  bool active;
  int64_t raised_ns, cleared_ns, last_seen_ns; /* cleared_ns 0 while active */
  double value, threshold; /* evidence of the raising round */
  char text[200];
  unsigned repeats;        /* rounds the condition came back while raised (flapping counts
                              here, not as new alarms) */
};

struct alarm_transition {
  bool raised;             /* false: cleared */
  struct alarm alarm;      /* the alarm as of the transition */
};

struct alarm_table;

/* A new, empty table (p NULL: defaults); the first alarm gets first_id (the
 * daemon passes the history's highest id + 1 so ids survive restarts).
 * NULL when out of memory. */
struct alarm_table *alarms_new(const struct alarm_policy *p, uint64_t first_id);
void alarms_free(struct alarm_table *t);

/* One round at now_ns (non-decreasing from round to round): conds[n] are
 * the conditions holding now, keyed by kind + source + ref_class (a key
 * given twice counts once). Raises what has held long enough, clears what
 * has been absent for clear_after, and writes the transitions into out[max]
 * (raises in the order of conds, then clears), returning their number.
 * A transition that does not fit in out is not lost: the raise or clear
 * waits for a later round (a deferred raise needs its condition again).
 * Pure apart from the table itself; no allocation. */
int alarms_update(struct alarm_table *t, int64_t now_ns, const struct vt_condition *conds,
                  int n, struct alarm_transition *out, int max);

/* Copies the raised alarms, lowest id first, into out[max]; returns how
 * many were copied. */
/* Puts back an alarm that was active when the daemon stopped (read from the
 * history): active, with its id and raise time, last seen at now_ns. It
 * clears after clear_after unless its condition holds again, so a restart
 * neither loses an alarm nor raises it a second time. Returns 0, or -1 if
 * the table is full. */
int alarms_restore(struct alarm_table *t, const struct alarm *a, int64_t now_ns);

int alarms_active(const struct alarm_table *t, struct alarm *out, int max);

/* Conditions dropped because the table was full, since alarms_new. */
unsigned long alarms_dropped(const struct alarm_table *t);

/* The one-line form used in logs, syslog and tests:
 *   raised:  "alarm 7 raised: critical falseticker 127.0.0.1:12303 (DCF): offset +1.500000 s outside ..."
 *            (the condition's text; ": text" omitted when the text is empty)
 *   cleared: "alarm 7 cleared: falseticker 127.0.0.1:12303 (DCF) after 63 s"
 *            (seconds from raised to cleared, rounded)
 * subject: source_name and its class in parentheses (no parentheses for
 * CLASS_UNKNOWN; "source N" when source_name is NULL); "class GPS" for
 * class-lost; "system" for SUBJECT_SYSTEM. Always NUL-terminates buf. */
void alarm_format_line(const struct alarm_transition *tr, const char *source_name, char *buf,
                       size_t len);

#endif
