/* Events and conditions: what the detectors say about a round.
 *
 * A *condition* is a state that holds or not in a round ("source 3 is a
 * falseticker", "the vote has no quorum"); the alarm module (alarms.h) turns
 * conditions into alarms with a lifetime (raised, cleared), with hysteresis.
 * An *event* is something that happened at one moment ("source 3 stepped
 * by +1.2 ms", "alarm 7 raised"), kept in the history with its evidence.
 *
 * Every condition kind is also an event kind: the detector emits the event
 * when the condition starts. Some events have no condition (a KoD, a local
 * clock step): they are recorded and, through their own short-lived
 * condition, may still raise an alarm. */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/refclass.h"

enum event_kind {
  EV_STEP = 0,       /* a source's offset jumped beyond its jitter */
  EV_DRIFT,          /* a source drifts against the vetted time (ppm) */
  EV_SLOW_WALK,      /* a small persistent push (cumulative detector) */
  EV_LOCAL_STEP,     /* the local clock was stepped (REALTIME vs MONOTONIC) */
  EV_LOCAL_FREQ,     /* the local clock's frequency error against the vote */
  EV_FALSETICKER,    /* a source is outside the vetted interval */
  EV_QUORUM_LOST,    /* the vote cannot vet the time */
  EV_CLASS_LOST,     /* a reference class has no agreeing source */
  EV_UNREACHABLE,    /* a source stopped answering */
  EV_STRATUM_CHANGE, /* e.g. a stratum-1 server fell back to its oscillator */
  EV_REFID_CHANGE,
  EV_LEAP_DISAGREE,  /* sources disagree about a leap second */
  EV_KOD,            /* a server answers with kiss-o'-death (a condition:
                        while its probe is in a kiss state) */
  EV_AUTH_FAIL,      /* responses fail authentication (a condition: while
                        the probe's state is auth-fail) */
  EV_DATE_FAR,       /* a source's date is far from the vote (rollover) */
  EV_DEGRADED,       /* a receiver's health dropped (satellites, fix, PPS) */
  EV_WITNESS,        /* the vetted time jumped against the local clock: a
                        majority of the classes moved together */
  EV_HOLDOVER,       /* the vote is lost: the served time runs on the clock
                        model, its bound growing (monitor/clockmodel.h) */
  EV_REFUSING,       /* holdover ran out: the server answers LI=3, stratum 16 */
  EV_COUNT
};

/* "step", "drift", "slow-walk", "local-step", "local-freq", "falseticker",
 * "quorum-lost", "class-lost", "unreachable", "stratum-change",
 * "refid-change", "leap-disagree", "kod", "auth-fail", "date-far",
 * "degraded", "witness". */
const char *event_kind_name(enum event_kind k);
/* Returns 0 and the kind for a name above, or -1. */
int event_kind_parse(const char *name, enum event_kind *out);

/* Who a condition or event is about. */
#define SUBJECT_SYSTEM (-1) /* the vote as a whole / the local clock */

struct vt_event {
  enum event_kind kind;
  int source;               /* config index, or SUBJECT_SYSTEM */
  enum ref_class ref_class; /* the class concerned, CLASS_UNKNOWN if none */
  int64_t time_ns;          /* when (the round's or sample's real time) */
  double value;             /* the figure that triggered it (s, ppm, count) */
  double threshold;         /* the limit it crossed (same unit) */
  char text[200];           /* the evidence in one line, for people */
  bool ended;               /* false: it started or happened; true: a
                               condition stopped holding (quorum regained,
                               source reachable again, ...) */
};

/* Kinds that happen at a moment rather than hold for a while: their
 * condition holds only in the round they happen. */
bool event_kind_is_pulse(enum event_kind k);

/* A condition holding in this round. Conditions that do not hold are simply
 * absent from the round's list. */
struct vt_condition {
  enum event_kind kind;
  int source;               /* config index, or SUBJECT_SYSTEM */
  enum ref_class ref_class; /* for EV_CLASS_LOST: the class; else the source's */
  double value, threshold;
  char text[200];
};

#endif
