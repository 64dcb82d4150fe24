/* `vettime check`: a monitoring-plugins check (Nagios, Icinga, Naemon,
 * Sensu; https://www.monitoring-plugins.org/doc/guidelines.html) of the
 * running daemon's verdict, read from its API (/api/v1/status, /vote,
 * /alarms). It prints one line, "VETTIME STATE - text | perfdata", and
 * exits with the state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 *
 *   -w, --offset-warn RANGE   |vetted offset| (time units: 100us, 1ms, 0.5s)
 *   -c, --offset-crit RANGE
 *   --bound-warn RANGE        the vetted error bound
 *   --bound-crit RANGE
 *   --sources-warn RANGE      agreeing sources (a count: "3:" = at least 3)
 *   --sources-crit RANGE
 *   --classes-warn RANGE      agreeing reference classes
 *   --classes-crit RANGE
 *   --alarms-warn RANGE       open alarms ("0" = none is fine)
 *   --alarms-crit RANGE
 *   --not-vetted STATE        the state when the time is not vetted:
 *                             critical (default), warning or ok
 *   -d, --db PATH             read the history the daemon writes instead
 *                             of its API (where the API is off): the
 *                             newest vote row, at most CHECK_STALE_S old,
 *                             and the open alarms; the round's candidates
 *                             stand for the configured sources
 *
 * RANGE is the monitoring-plugins syntax (cli/range.h). A threshold not
 * given is not checked. Not vetted, the offset and bound do not exist
 * ("U" in perfdata) and --not-vetted decides. UNKNOWN: the daemon cannot
 * be reached or answers nonsense, no vote round yet, or a bad option.
 * --help prints to stdout and exits 0, as every vettime command's does
 * (README.md "Exit status": check is the one exception to that table). 
 *
 * The evaluation and the line are pure (check_evaluate) and unit tested;
 * fetching the documents is the caller's (cli/vettime.c). */
#ifndef VT_CHECK_H
#define VT_CHECK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli/range.h"

#define CHECK_STALE_S 10.0 /* -d: an older newest vote means no daemon */

enum check_state { CHECK_OK = 0, CHECK_WARNING = 1, CHECK_CRITICAL = 2, CHECK_UNKNOWN = 3 };

enum check_metric { CM_OFFSET, CM_BOUND, CM_SOURCES, CM_CLASSES, CM_ALARMS, CM_COUNT };

struct check_limits {
  struct vt_range warn[CM_COUNT], crit[CM_COUNT];
  bool has_warn[CM_COUNT], has_crit[CM_COUNT];
  enum check_state not_vetted;
};

/* What the daemon said, from its three documents. */
struct check_input {
  bool valid;               /* a vote round happened */
  bool vetted;
  char why_not[200];
  double offset, bound;     /* s; meaningful when vetted */
  int agreeing, sources;    /* agreeing sources, configured sources */
  int agreeing_classes, classes;
  int alarms, critical_alarms; /* open (active) alarms */
};

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *check_state_name(enum check_state s);

/* Fills in from the /status, /vote and /alarms documents. Returns 0, or
 * -1 with the reason when a document lacks what the check needs. */
int check_input_from_json(json_object *status, json_object *vote, json_object *alarms,
                          struct check_input *in, char *err, size_t errlen);

/* The state and the whole output line (no newline) into line. */
enum check_state check_evaluate(const struct check_input *in, const struct check_limits *lim,
                                char *line, size_t len);

/* Fetches API document name ("status", "vote", "alarms"): 0 with *doc, or
 * non-zero with the reason in why. */
typedef int (*check_fetch_fn)(void *ctx, const char *name, json_object **doc, char *why,
                              size_t whylen);

/* argv[0] is "check". Parses the options, fetches, prints the line on
 * stdout, returns the state. */
int check_main(int argc, char **argv, check_fetch_fn fetch, void *ctx);

#endif
