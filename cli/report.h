/* `vettime report`: the health of a period, built from the history's raw
 * rows (monitor/history_read.h) by the pure functions here, then printed
 * as text, JSON or HTML (cli/report_format.h). No I/O in this module: the
 * command (cli/report_cmd.c) reads the rows and feeds them in this order:
 *
 *   report_init            the period
 *   report_add_vote        every vote row of the period, oldest first
 *   report_votes_done
 *   report_add_source      every source
 *   report_add_event       the last condition event of each kind before
 *                          the period, then the period's events, in order
 *   report_add_sample      the samples of each source, oldest first (the
 *   report_source_done     sources' samples may come interleaved), from
 *                          REPORT_LOOKBACK_NS before the period: the
 *                          sample before it tells whether the first
 *                          rounds had a fresh one; then each source done
 *   report_add_alarm       every alarm whose life overlaps the period
 *   report_finish
 *
 * Definitions (README.md, "vettime report", says the same for readers):
 * - observed time: the time the daemon ran, from its vote rows: a round
 *   stands for the time until the next round, if that comes within
 *   REPORT_GAP_NS, else for REPORT_ROUND_NS (the daemon stopped).
 * - not vetted: the observed time of the rounds that did not vet the time.
 * - availability of a source: the fraction of the period's rounds (from
 *   the source's first appearance in the history) at which its newest
 *   sample was fresh: no older than twice its poll interval plus one
 *   round (so one lost answer is tolerated, two in a row are not).
 * - offsets: the raw samples' offsets (source minus local clock) in the
 *   period: median; p99 and max of |offset|; error bound median and max.
 * - drift: the least-squares slope of a source's offsets against the
 *   local clock, in ppm, pooled over the stretches between its steps (the
 *   detector's step events: a 0.5 s step is no drift; a stretch ends at
 *   the largest jump among the last REPORT_HELD samples before the event,
 *   since the detector may wait for a sample or two to confirm a step);
 *   steps and drift events: the detectors' own.
 * - time as falseticker, in holdover, refusing, and a class lost: the
 *   observed time between a condition's start event and its end event
 *   (a condition started before the period counts from its start; one
 *   left open when the daemon stopped ends with that run).
 * - class availability ("agreed"): 1 - (time the class did not agree) /
 *   observed time, where it did not agree while its class-lost condition
 *   held or while every source of the class was a falseticker (the
 *   daemon raises class-lost only for a class it has seen agree). The
 *   class conditions exist in classes mode only: in sources mode the
 *   figure is not derivable (null, with a note).
 * - alarms: every alarm whose life overlaps the period; the period had a
 *   critical alarm when one of them is critical. */
#ifndef VT_REPORT_H
#define VT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/stats.h"
#include "monitor/history_report.h"

#define REPORT_ROUND_NS 1000000000LL     /* the daemon's round */
#define REPORT_GAP_NS 5000000000LL       /* longer between votes: not running */
#define REPORT_LOOKBACK_NS 2100000000000LL /* 2 x the longest poll (2^10 s) + */
#define REPORT_BUCKETS 200               /* chart columns (3 px each at 600 px) */
#define REPORT_HELD 4                    /* samples a step event may come late by */

/* One chart column: the samples that fell into it. */
struct report_bucket {
  long n;
  double sum, min, max; /* offsets */
  double lo, hi;        /* the lowest offset - bound, the highest offset + bound */
};

/* Sorted, disjoint intervals [a, b) of time. */
struct report_iv {
  int64_t a, b;
};
struct report_ivs {
  struct report_iv *v;
  size_t n, cap;
};

/* A condition's time: on since `since`; the observed intervals it held
 * (each within one run of the daemon) and their total. */
struct report_span {
  bool on;
  int64_t since, total_ns;
  struct report_ivs ivs;
};

/* Interval algebra over sorted disjoint lists, for the classes: a class
 * did not agree while it was lost, or while every one of its sources was
 * a falseticker (a class that never agreed is never "lost": the daemon
 * raises class-lost only for a class it has seen agree). out is replaced;
 * returns 0 or -1 when out of memory. */
int report_ivs_intersect(const struct report_ivs *x, const struct report_ivs *y,
                         struct report_ivs *out);
int report_ivs_union(const struct report_ivs *x, const struct report_ivs *y,
                     struct report_ivs *out);
int64_t report_ivs_total(const struct report_ivs *x);
void report_ivs_free(struct report_ivs *x);

struct report_source {
  struct hr_source src;
  long samples;                 /* in the period */
  long rounds, fresh_rounds;    /* rounds counted, and those with a fresh sample */
  double availability;          /* fresh_rounds / rounds, NaN without rounds */
  struct stats_offsets offset;
  struct stats_bounds bound;
  double drift_ppm;             /* NaN with fewer than two samples */
  int steps, drift_events;
  struct report_span falseticker;
  struct report_bucket chart[REPORT_BUCKETS];
  /* while its samples are read */
  struct stats_vec offsets, bounds;
  struct stats_linfit seg;      /* the stretch since the last step */
  double pooled_sxx, pooled_sxy;
  int64_t *step_ns;             /* its step events in the period */
  size_t n_steps, cap_steps, next_step;
  struct hr_sample held[REPORT_HELD]; /* the newest samples, not yet in a stretch */
  int n_held;
  bool have_added;
  double last_added;            /* offset of the newest sample in the stretch */
  size_t next_round;
  bool have_last;
  int64_t last_ns;
  int last_poll;
};

struct report_class {
  char name[8];
  int sources;               /* reported sources of this class */
  struct report_span lost;   /* the class-lost condition */
  int64_t disagree_ns;       /* lost, or every source a falseticker */
  double availability;       /* 1 - disagree / observed; NaN when not derivable */
};

struct report_alarm {
  struct hr_alarm a;
  bool raised_in_period, cleared_in_period, open_at_end;
};

/* A run of rounds without a stop of the daemon: [start, end). */
struct report_run {
  int64_t start_ns, end_ns;
};

struct report {
  int64_t from_ns, to_ns, generated_ns;
  bool sources_mode;          /* the vote runs in sources mode: no class figures */
  /* votes */
  long rounds, vetted_rounds;
  int64_t observed_ns, not_vetted_ns;
  struct stats_offsets vetted_offset;
  struct stats_bounds vetted_bound;
  struct report_bucket vetted_chart[REPORT_BUCKETS];
  int64_t *round_ns;          /* every round's time (8 bytes a round) */
  size_t n_rounds, cap_rounds;
  struct report_run *runs;
  size_t n_runs, cap_runs;
  struct report_span holdover, refusing;
  /* sources, classes, alarms */
  struct report_source *sources;
  size_t n_sources, cap_sources;
  struct report_class *classes;
  size_t n_classes, cap_classes;
  struct report_alarm *alarms;
  size_t n_alarms, cap_alarms;
  int alarms_raised, alarms_cleared, alarms_open;
  int by_severity[3];         /* info, warning, critical */
  bool critical;
  /* while the votes are read */
  struct stats_vec v_offsets, v_bounds;
  bool have_vote;
  int64_t last_vote_ns;
  bool last_vetted;
  bool oom;                   /* an allocation failed: the figures are incomplete */
};

void report_init(struct report *r, int64_t from_ns, int64_t to_ns, int64_t now_ns);
void report_free(struct report *r);

void report_add_vote(struct report *r, const struct hr_vote *v);
void report_votes_done(struct report *r);

/* Returns the source's slot (valid until the next report_add_source). */
struct report_source *report_add_source(struct report *r, const struct hr_source *s);
/* Events: after every source, before the samples (the steps cut the drift
 * fit into stretches). */
void report_add_sample(struct report *r, struct report_source *s, const struct hr_sample *x);
void report_source_done(struct report *r, struct report_source *s);

void report_add_event(struct report *r, const struct hr_event *e);
void report_add_alarm(struct report *r, const struct hr_alarm *a);
void report_finish(struct report *r);

/* The condition kinds whose state at the start of the period matters
 * (for hr_each_last_event_before), NULL-terminated. */
extern const char *const report_condition_kinds[];

/* The observed time within [a, b) (for tests and the formats). */
int64_t report_observed_between(const struct report *r, int64_t a_ns, int64_t b_ns);

/* --since: a positive length of time with a unit, "90s", "30m", "24h",
 * "7d", "2w" (a bare number is seconds). Returns 0 with *ns, or -1. */
int report_parse_duration(const char *text, int64_t *ns);

/* The period from the options (each NULL when not given): --since D is
 * [now - D, now]; --from T [--to T] is [T, T or now], T as `vettime
 * replay` takes it (Unix seconds, "2026-11-29T06:00:00Z", "-2h", "now");
 * neither is the last 24 hours. Refuses --since with --from/--to, --to
 * without --from, a bad time, and an empty period, with the reason in
 * err. Returns 0 or -1. */
int report_parse_period(const char *since, const char *from, const char *to, int64_t now_ns,
                        int64_t *from_ns, int64_t *to_ns, char *err, size_t errlen);

/* The exit status of `vettime report` for a finished report (its errors
 * exit with the table of README.md "Exit status": cli/report_cmd.c). */
#define REPORT_EXIT_OK 0
#define REPORT_EXIT_CRITICAL 2
int report_exit_status(const struct report *r);

#endif
