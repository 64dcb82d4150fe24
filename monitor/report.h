/* Report structs: the only way state leaves the daemon's modules. The web
 * API and the CLI serialise these snapshots; they never reach into module
 * internals or run SQL of their own. */
#ifndef VT_REPORT_H
#define VT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "monitor/alarms.h"
#include "monitor/events.h"
#include "monitor/vote.h"
#include "probes/probe.h"

struct source_report {
  int index;
  char name[300];
  char kind[16];              /* "ntp" */
  enum ref_class ref_class;   /* configured, else inferred */
  bool class_configured;
  bool noselect;
  unsigned vote_flags;        /* VOTE_F_* from the configuration */
  bool voted;                 /* a vote round has run since the start */
  enum source_state vote_state; /* in the last vote round */
  char vote_why[128];
  struct probe_report probe;
};

/* The last vote round. */
struct vote_report {
  bool valid;                 /* false before the first round */
  int64_t time_ns;            /* the round's CLOCK_REALTIME */
  struct vote_verdict verdict;
  char best_name[300];        /* "" if none */
  double local_freq_ppm;      /* the local clock's frequency error (NaN: unknown) */
};

struct event_report {
  struct vt_event event;
  char source_name[300];      /* "" for the system */
};

struct alarm_report {
  struct alarm alarm;
  char source_name[300];      /* "" for the system */
  char line[400];             /* alarm_format_line() of its last transition */
};

struct status_report {
  char version[32];
  struct timespec now;          /* CLOCK_REALTIME of the current wake-up */
  double uptime;                /* seconds since start (monotonic) */
  int sources;                  /* configured */
  int reachable;                /* with reach != 0 */
  int with_sample;              /* sources that have a valid sample */
  char database[4096];
  uint64_t samples_written;     /* to the history since start */
  uint64_t history_errors;      /* failed history writes since start */
  int clock_steps;              /* local clock steps seen since start */
  double last_clock_step;       /* seconds, 0 if none */
};

/* Filled by monitor/sources.c from the running daemon. */
void report_status(struct status_report *out);
/* Fills up to max reports; returns the number of configured sources. */
int report_sources(struct source_report *out, int max);
void report_vote(struct vote_report *out);
/* The most recent events, oldest first (at most max, at most the daemon's
 * in-memory ring of REPORT_EVENTS_MAX); returns how many were written. */
#define REPORT_EVENTS_MAX 256
int report_events(struct event_report *out, int max);
/* Active alarms, then those cleared in the last hour, newest first. */
#define REPORT_ALARMS_MAX 256
int report_alarms(struct alarm_report *out, int max);

#endif
