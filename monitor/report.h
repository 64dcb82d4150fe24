/* The daemon's reports: the only way state leaves its modules. This module
 * (monitor/report.c) owns the published snapshots: the source table, the
 * last vote, the recent events, the alarms and the status. The daemon's
 * state modules publish into it (monitor/sources.c and monitor/round.c at
 * start and after every round, the daemon's main its history counters and
 * clock steps); the faces (the web API, alerting's evidence, through the
 * API the CLI) only read it. Nothing here calls back into a publisher, so
 * a reader never reaches into another module's state, and a face never
 * runs SQL of its own. Single-threaded: the daemon's loop. */
#ifndef VT_REPORT_H
#define VT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "monitor/alarms.h"
#include "monitor/clockmodel.h"
#include "monitor/events.h"
#include "monitor/vote.h"
#include "probes/probe.h"

struct source_report {
  int index;
  char name[300];             /* the `name LABEL`, else the address */
  char address[300];          /* host[:port], device, shm:N, sock:PATH */
  char kind[16];              /* "ntp" */
  enum ref_class ref_class;   /* configured, else inferred */
  bool class_configured;
  bool noselect;
  unsigned vote_flags;        /* VOTE_F_* from the configuration */
  bool voted;                 /* a vote round has run since the start */
  enum source_state vote_state; /* in the last vote round */
  char vote_why[128];
  char auth[16];              /* NTP: "nts", "key N" or "none"; "" for
                                 receivers (nothing to authenticate) */
  struct probe_report probe;
  bool have_stats;            /* a round has run: stats is set */
  struct {
    int samples;              /* behind the estimate */
    double offset, sd, jitter; /* s; NaN while unknown */
    double freq_ppm;          /* against the vetted time; NaN while unknown */
  } stats;
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
  uint64_t history_buffered;    /* samples waiting in memory for a write */
  uint64_t history_dropped;     /* rows the history lost since start (full
                                   buffer, refused): 0 is the promise */
  int clock_steps;              /* local clock steps seen since start */
  double last_clock_step;       /* seconds, 0 if none */
  int unauthenticated;          /* NTP sources neither NTS nor keyed */
  char unauthenticated_names[512]; /* their names, one per line (as many as
                                 fit; `unauthenticated` counts them all) */
};

/* The alert outbox's depth (alerting/outbox.h), as counted by alerting and
 * published by the daemon's main after a round: faces (/metrics, SNMP)
 * read it here instead of running SQL of their own. */
struct outbox_report {
  bool valid;                   /* false until alerting has counted once */
  int pending;                  /* notifications waiting to be sent or retried */
  int dead;                     /* given up on (kept for `vettime alert retry`) */
};

/* ---- Reading: the faces ------------------------------------------------ */

/* The last published status, with now and uptime brought to the current
 * wake-up of the loop. */
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

/* The clock model as the NTP server serves it. The one report read from
 * other threads (the server's): a sequence lock, so a reader gets one
 * consistent snapshot without ever blocking the daemon's loop, and the
 * loop never waits for a reader. Before the first publication: refusing. */
void report_clock(struct clock_snapshot *out);

/* The alert outbox's depth (invalid before the first count). */
void report_outbox(struct outbox_report *out);

/* TODO(issue 10, NTP server): the server's request counters will be read
 * here (report_serve() on the ntp-server branch); web/metrics.c and
 * snmp/agentx.c have a hook waiting for them. */

/* ---- Publishing: the daemon's state modules and its main, never a face -- */

/* The source table, n reports (n = 0 when the sources stop, which also
 * frees the copy), and the status figures of the same moment: version,
 * sources, reachable, with_sample, database and uptime (now, the history
 * counters and the clock steps are filled by report_status from the calls
 * below). Copied. */
void report_publish_sources(const struct source_report *r, int n,
                            const struct status_report *status);
/* The vote: after every round, and invalid (valid = false) at its start. */
void report_publish_vote(const struct vote_report *v);
/* One more event into the ring (the oldest falls out past
 * REPORT_EVENTS_MAX). */
void report_publish_event(const struct event_report *e);
/* The alarms raised now, newest first (at most REPORT_ALARMS_MAX kept). */
void report_publish_active_alarms(const struct alarm_report *a, int n);
/* An alarm that cleared, into the ring of the recently cleared. */
void report_publish_cleared_alarm(const struct alarm_report *a);
/* The history's counters after a flush (struct status_report's history_*). */
void report_publish_history(uint64_t samples_written, uint64_t history_errors,
                            uint64_t buffered, uint64_t dropped);
/* The clock model after a round (monitor/round.c); thread-safe against
 * report_clock(). */
void report_publish_clock(const struct clock_snapshot *c);
/* The outbox's depth, counted by alerting (the daemon's main carries it). */
void report_publish_outbox(const struct outbox_report *o);
/* The loop saw the local clock stepped by `step` seconds. */
void report_publish_clock_step(double step);


/* ---- The NTP server's counters (server/ntp_server.c) -------------------- */

/* What the server did with the datagrams it received. Added by the
 * server's threads once per batch (relaxed atomics: a reader may see one
 * batch half counted, never a torn number), read by the faces. */
enum serve_counter {
  SC_RECEIVED = 0,   /* datagrams read */
  SC_ANSWERED,       /* responses sent with the time (signed or not) */
  SC_AUTH_OK,        /* of those, signed with the request's key */
  SC_CRYPTO_NAK,     /* crypto-NAKs sent (unknown key id, bad MAC) */
  SC_KOD,            /* KoD RATE sent */
  SC_DROP_SHORT,     /* < 48 bytes */
  SC_DROP_MALFORMED, /* bad length, extension field or MAC shape */
  SC_DROP_VERSION,   /* version 0, 5-7 */
  SC_DROP_CONTROL,   /* mode 6, 7 */
  SC_DROP_MODE,      /* any other mode but 3 */
  SC_DROP_AUTH,      /* the request carried a crypto-NAK */
  SC_DROP_ACL,       /* refused by allow/deny */
  SC_DROP_RATE,      /* rate limited */
  SC_SEND_ERRORS,    /* responses the kernel refused */
  SC_NTS_ANSWERED,   /* of the answered, NTS-authenticated (RFC 8915) */
  SC_NTS_NAK,        /* NTS NAKs sent (cookie key unknown, cookie or
                        authenticator bad) */
  SC_NTS_UNKNOWN_KEY, /* of those, for a cookie key not (any more) known */
  SC_DROP_NTS,       /* NTS fields of a bad shape (dropped) */
  SC_NTS_KE,         /* NTS-KE sessions that handed out cookies */
  SC_NTS_KE_FAILED,  /* NTS-KE connections that did not (TLS, ALPN,
                        bad request, timeout) */
  SC_NTS_KE_REFUSED, /* NTS-KE connections refused unread (acl, rate,
                        connection limits) */
  SC_COUNT
};
/* "received", "answered", "auth_ok", "crypto_nak", "kod", "short",
 * "malformed", "version", "control", "mode", "auth", "acl", "rate",
 * "send_errors"; "?" outside the enum. */
const char *serve_counter_name(enum serve_counter c);

struct serve_report {
  bool enabled;               /* the server runs */
  int sockets;                /* bound */
  uint64_t counters[SC_COUNT];
  uint64_t dropped;           /* the sum of the SC_DROP_* */
  /* the clock as served now (report_clock() at this moment) */
  enum clock_state state;
  double holdover_since;      /* Unix s, 0 unless in holdover */
  int stratum;
  double error;               /* s, the bound served now (inf: refusing) */
};

/* Thread-safe: the counters, and the clock's state at CLOCK_MONOTONIC now. */
void report_serve(struct serve_report *out);
/* The server started (sockets > 0) or stopped (0). */
void report_publish_serve_state(bool enabled, int sockets);
/* One batch's counts; thread-safe, lock-free. */
void report_serve_add(const uint64_t delta[SC_COUNT]);

#endif
