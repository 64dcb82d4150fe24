/* The probe interface: one driver per source kind (ntp, gpsd, nmea, dcf77,
 * shm, sock) behind one small vtable. The core starts and stops
 * probes and receives their samples through the host callbacks; it never
 * includes a concrete driver. A driver does its I/O through the event loop
 * (lib/sched.h) and keeps its decoders pure (no I/O) in separate files. */
#ifndef VT_PROBE_H
#define VT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "probes/refclass.h"

struct source_config;
struct keyring;
struct nts_trust;

/* One measurement. Every sample carries its error bound. */
struct vt_sample {
  int source;               /* index in the configured source list */
  struct timespec rx_time;  /* local CLOCK_REALTIME of the measurement */
  double offset;            /* source time minus local time, seconds */
  double delay;             /* round-trip delay, seconds (0 for receivers) */
  double dispersion;        /* the measurement's own dispersion, seconds */
  double root_delay;        /* as the source reports it, seconds */
  double root_dispersion;   /* as the source reports it, seconds */
  double error_bound;       /* root distance λ: |true offset - offset| <= this */
  int stratum;              /* 0 for a receiver, 1.. for NTP servers */
  int leap;                 /* leap indicator 0..3 */
  uint32_t refid;
  int poll;                 /* log2 s of the poll interval that produced it */
};

/* Cumulative counters of what a probe dropped, and why. */
enum probe_counter {
  PC_SENT, PC_RECEIVED, PC_VALID, PC_TIMEOUT,
  PC_BAD_LENGTH, PC_BAD_FORMAT, PC_BOGUS_ORIGIN, PC_DUPLICATE, PC_ZERO_TS,
  PC_UNSYNC, PC_BAD_STRATUM, PC_BAD_DISTANCE, PC_BAD_DELAY,
  PC_AUTH_FAIL, PC_CRYPTO_NAK, PC_KOD, PC_SEND_ERROR,
  /* receivers (gpsd, nmea, dcf77, shm, sock) */
  PC_BAD_CHECKSUM,  /* NMEA checksum wrong or missing */
  PC_BAD_INPUT,     /* garbage, a malformed sentence/message/telegram */
  PC_UNTRUSTED,     /* well-formed but not to be trusted (no fix, no UTC
                       offset yet, RMC status V, date out of range) */
  PC_PARITY,        /* DCF77 parity failures */
  PC_PPS_MISMATCH,  /* PPS edge and serial time more than 0.4 s apart */
  PC_RECONNECT,     /* the device or daemon went away and came back */
  PC_DEGRADED,      /* sudden loss of receiver health (satellites, fix,
                       antenna, jamming, PPS): an event each time */
  PC_JUMPS,         /* the receiver's decoded time jumped against its own
                       previous time on the local oscillator (nmea, dcf77;
                       probes/rx_continuity.h): a step event each time */
  PC_COUNT
};
const char *probe_counter_name(enum probe_counter c);

/* A snapshot of one probe's state, for the web API, the CLI and history. */
struct probe_report {
  char state[24];           /* "ok", "init", "unresolved" (a host name not
                               looked up yet), "unreachable", "rate", "denied",
                               "auth-fail", "unsync", ... */
  int stratum;              /* last valid response; -1 before the first */
  uint32_t refid;
  enum ref_class inferred_class; /* from the refid (CLASS_UNKNOWN before) */
  unsigned reach;           /* 8-bit reachability register, as ntpq/chronyc */
  int poll;                 /* current poll interval, log2 s */
  bool have_sample;
  struct vt_sample last;    /* last valid raw sample */
  double filtered_offset;   /* clock-filter output */
  double filtered_error;    /* its error bound (root distance + jitter) */
  double jitter;            /* seconds, RMS */
  struct timespec last_rx;  /* when the last valid sample arrived */
  char detail[200];         /* driver-specific health for people, e.g.
                               "3D fix, GPS 8 GAL 6 used, PPS"; "" if none */
  double last_jump;         /* s the receiver's time moved at its newest
                               jump (PC_JUMPS); 0 before any */
  uint64_t counters[PC_COUNT];
  uint32_t peer_ipv4;       /* the polled server's IPv4 address (host order):
                               a served refid; 0 for IPv6 and receivers */
};

/* What the core gives every probe. */
struct probe_host {
  void (*on_sample)(void *ctx, const struct vt_sample *sample);
  void *ctx;
  const struct keyring *keys; /* may be NULL when no keyfile is configured */
  double maxdistance;         /* s, the `maxdistance` directive */
  const struct nts_trust *nts_trust; /* the `ntstrustedcerts` lines */
  int n_nts_trust;
};

struct probe;

struct probe_ops {
  const char *kind; /* the config directive: "server", ... */
  /* Starts polling/reading. Returns NULL with a message in err on failure. */
  struct probe *(*start)(const struct source_config *cfg, int source_index,
                         const struct probe_host *host, char *err, size_t errlen);
  void (*stop)(struct probe *p);
  void (*report)(const struct probe *p, struct probe_report *out);
};

/* The driver for a source kind (enum source_kind in monitor/config.h),
 * or NULL if there is none. */
const struct probe_ops *probe_ops_for_kind(int kind);

#endif
