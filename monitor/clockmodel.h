/* The clock model: the vetted correction to the local clock, as the NTP
 * server serves it (issue 10; ../shared/ARCHITECTURE.md, "Clock model").
 *
 * Every vetted round gives one point: the vetted offset (true time minus
 * the local clock) and its bound. The model is a line through the recent
 * points, offset and frequency, so that the served time moves smoothly
 * between rounds instead of jumping by each round's noise; a point further
 * from the line than the two bounds allow starts the line again (a real
 * step of the vetted time is followed at once, not averaged in).
 *
 * Three states:
 *   serving    the vote is vetted: serve with the bound of the last round
 *              (plus the line's own uncertainty and 15 ppm of age);
 *   holdover   the vote is lost, or the vetted time jumped against the
 *              local clock (the witness: a majority, or the one source
 *              left, moved together; following it would serve a
 *              confident wrong time): serve from the last line, the bound
 *              growing at the line's frequency uncertainty plus a margin
 *              (`holdovermargin`), for at most `holdover` seconds;
 *   refusing   never vetted, or holdover ran out: answer LI=3 (alarm) and
 *              stratum 16 (0 on the wire), never a confident wrong time.
 *
 * Two halves. The model (clockmodel_*) is pure: rounds in, state and line
 * out, in the round's real time, so replay gives the same answers. The
 * snapshot (struct clock_snapshot) is what the server reads: the model
 * moved onto CLOCK_MONOTONIC by the daemon when it publishes it, so that
 * a step of the local clock (by chrony or ntpd) does not move the served
 * time, and with the moment holdover ends, so that the server refuses on
 * time even if the daemon's loop were late. */
#ifndef VT_CLOCKMODEL_H
#define VT_CLOCKMODEL_H

#include <stdbool.h>
#include <stdint.h>

enum clock_state { CLOCK_REFUSING = 0, CLOCK_SERVING, CLOCK_HOLDOVER };
const char *clock_state_name(enum clock_state s); /* "refusing", ... */

/* ---- The model (pure) -------------------------------------------------- */

#define CLOCKMODEL_POINTS 64

struct clockmodel_config {
  double holdover;        /* s of holdover before refusing (default 3600) */
  double holdover_margin; /* s/s added to the bound's growth in holdover
                             (default 1e-6: a TCXO's wander over an hour) */
};
void clockmodel_config_default(struct clockmodel_config *c);

struct clockmodel {
  struct clockmodel_config cfg;
  double t[CLOCKMODEL_POINTS], x[CLOCKMODEL_POINTS], e[CLOCKMODEL_POINTS];
  int n;                    /* points in the current line */
  enum clock_state state;
  double last_vetted;       /* Unix s of the last vetted round (0: never) */
  double holdover_since;    /* Unix s the vote was lost (0: not in holdover) */
  unsigned long restarts;   /* lines restarted by a step of the vetted time */
  bool distrust;            /* the vetted time jumped (witness): held over
                               until it comes back to the line, or until
                               refusing, after which a new line starts */
  int last_stratum, last_leap; /* of the last vetted round, served in holdover */
  uint32_t last_refid;
};

/* What the vote said this round. */
struct clockmodel_round {
  double now;               /* Unix s of the round */
  bool vetted;
  double offset, error;     /* s: the vetted offset and its bound */
  int stratum;              /* the best agreeing source's stratum, 0 for a receiver */
  uint32_t refid;           /* what to serve as refid (see clockmodel_refid) */
  int leap;                 /* the vote's leap indicator, 0..2 */
  double local_step;        /* s the local clock was stepped since the last round */
  bool witness;             /* the vetted time jumped against the local clock
                               this round (the witness alarm): distrust it */
};

/* The model's answer at one moment, in the round's real time. */
struct clockmodel_out {
  enum clock_state state;
  double t0;                /* Unix s the line below is anchored at */
  double offset;            /* s: the correction at t0 */
  double freq;              /* s/s: its rate of change */
  double error;             /* s: the bound at t0 */
  double error_rate;        /* s/s: how fast the bound grows after t0 */
  double refuse_at;         /* Unix s from which the server refuses (0: now) */
  double holdover_since;    /* Unix s, 0 unless in holdover */
  int stratum;              /* 1..15 to serve, 16 when refusing */
  uint32_t refid;
  int leap;                 /* 0..2, or 3 when refusing */
  bool changed;             /* the state changed this round */
};

void clockmodel_init(struct clockmodel *m, const struct clockmodel_config *cfg);
void clockmodel_update(struct clockmodel *m, const struct clockmodel_round *r,
                       struct clockmodel_out *out);

/* ---- The snapshot the server reads ------------------------------------- */

struct clock_snapshot {
  enum clock_state state;
  int64_t base_mono_ns;         /* CLOCK_MONOTONIC the snapshot is anchored at */
  int64_t vetted_minus_mono_ns; /* the vetted time minus CLOCK_MONOTONIC there */
  double freq;                  /* s/s: the vetted time's rate against it, minus 1 */
  double error;                 /* s: the bound at base */
  double error_rate;            /* s/s: its growth after base */
  int64_t refuse_at_mono_ns;    /* refusing from this CLOCK_MONOTONIC on */
  double holdover_since;        /* Unix s, 0 unless holdover */
  int stratum;                  /* 1..15 (16 when refusing) */
  uint32_t refid;               /* host order; put on the wire big-endian */
  int leap;                     /* 0..3 */
};

/* The model's answer moved onto CLOCK_MONOTONIC: real_ns and mono_ns are
 * the two clocks read together now. */
void clock_snapshot_make(const struct clockmodel_out *o, int64_t real_ns, int64_t mono_ns,
                         struct clock_snapshot *out);

/* What to serve at CLOCK_MONOTONIC mono_ns. */
struct served_time {
  bool refusing;            /* answer LI=3, stratum 0 */
  int64_t unix_ns;          /* the vetted time (the local one when refusing) */
  double error;             /* s: the bound at that moment */
  int stratum, leap;
  uint32_t refid;
};
void clock_serve_at(const struct clock_snapshot *s, int64_t mono_ns, int64_t real_ns,
                    struct served_time *out);

/* The refid to serve: the four letters of the winning class ("GPS",
 * "GAL", "DCF", ...) for a class other than NTP, the upstream server's
 * IPv4 address (host order) for NTP, 0 when not known. */
uint32_t clockmodel_refid(const char *class_name, uint32_t upstream_ipv4);

#endif
