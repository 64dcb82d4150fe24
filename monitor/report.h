/* Report structs: the only way state leaves the daemon's modules. The web
 * API and the CLI serialise these snapshots; they never reach into module
 * internals or run SQL of their own. */
#ifndef VT_REPORT_H
#define VT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "probes/probe.h"

struct source_report {
  int index;
  char name[300];
  char kind[16];              /* "ntp" */
  enum ref_class ref_class;   /* configured, else inferred */
  bool class_configured;
  bool noselect;
  struct probe_report probe;
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

#endif
