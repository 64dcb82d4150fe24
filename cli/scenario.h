/* Scenario files for `vettime simulate` (docs/scenarios.md): a plain-text
 * description of fake stratum-1 NTP servers (reference class as refid,
 * stratum, offset, jitter, drift, key) and of the faults scripted for them
 * over time (step, slow walk, silence, kiss-o'-death, leap bits, bad MAC,
 * stratum 16, date jump, refid change, drift, jitter).
 *
 * Two pure parts, no I/O beyond scenario_load reading the file:
 *   - the parser: text -> struct scenario, errors "FILE:LINE: what is wrong";
 *   - the model: what server i serves at scenario time t (seconds since the
 *     simulator started), as a struct scn_state. The simulator adds that to
 *     CLOCK_REALTIME; the tests ask it directly.
 * Plus a small seeded Gaussian generator for the jitter, so that a scenario
 * with the same seed serves the same noise sequence. */
#ifndef VT_SCENARIO_H
#define VT_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_MAX_SERVERS 64
#define SCN_MAX_EVENTS 1024
#define SCN_NAME_LEN 32      /* server and scenario names, with the NUL */
#define SCN_DEFAULT_PORT 12301 /* server i (0-based) defaults to this + i */
#define SCN_DEFAULT_ADDR 0x7f000001u /* 127.0.0.1, host byte order */
#define SCN_ADDR_LEN 16      /* "127.255.255.254" with the NUL */

/* One server as the `server` line declares it (its state at t = 0). */
struct scn_server {
  char name[SCN_NAME_LEN];
  char refid[5];      /* 1-4 ASCII characters, NUL-terminated */
  int stratum;        /* 1..15, default 1 */
  double offset;      /* s, served minus true time, default 0 */
  double jitter;      /* s, standard deviation of the noise, default 20 us */
  double drift;       /* s/s (ppm * 1e-6), default 0 */
  uint32_t key;       /* key id, 0 = no MAC */
  double root_delay;  /* s, default 10 us */
  double root_disp;   /* s, default 20 us */
  uint32_t addr;      /* IPv4 address bound, host byte order, in 127.0.0.0/8 */
  int port;           /* UDP port on addr */
  int line;           /* where it was declared */
};

enum scn_fault {
  SCN_STEP,    /* offset += value (s) */
  SCN_WALK,    /* offset moves at value (s/s) from now on (adds to drift) */
  SCN_SILENT,  /* stops answering */
  SCN_RESUME,  /* answers again; also ends a kod */
  SCN_KOD,     /* answers with kiss code `code` from now on */
  SCN_LEAP,    /* leap indicator ivalue (0..3) from now on */
  SCN_BADMAC,  /* MAC with one bit flipped from now on */
  SCN_GOODMAC, /* ends badmac */
  SCN_STRATUM, /* stratum ivalue (1..16; 16 also means LI 3) */
  SCN_DATE,    /* date jump: offset += value (s) */
  SCN_REFID,   /* new refid `code` */
  SCN_DRIFT,   /* frequency error value (s/s) from now on */
  SCN_JITTER,  /* noise standard deviation value (s) from now on */
  SCN_FAULT_COUNT
};

/* One `at` line. */
struct scn_event {
  double t;         /* s since start, 0 <= t <= duration */
  int server;       /* index into scenario.servers */
  enum scn_fault fault;
  double value;     /* s (step, date, jitter) or s/s (walk, drift) */
  int ivalue;       /* leap, stratum */
  char code[5];     /* kiss code or refid */
  int line;
};

/* A whole scenario. Large (about 60 KiB): keep it static or on the heap.
 * events are sorted by t, file order among equal times. */
struct scenario {
  char name[SCN_NAME_LEN]; /* default: "unnamed" */
  double duration;         /* s, required, > 0 */
  uint64_t seed;           /* default 1 */
  int minpoll, maxpoll;    /* for the generated vettimed lines; default 0 1 */
  struct scn_server servers[SCN_MAX_SERVERS];
  int n_servers;           /* >= 1 */
  struct scn_event events[SCN_MAX_EVENTS];
  int n_events;
};

/* What a server serves at one instant. */
struct scn_state {
  double offset;   /* s, served minus true time, without the noise */
  double rate;     /* s/s, drift + walk in force */
  double jitter;   /* s, standard deviation of the noise */
  int stratum;     /* as sent when answering normally: 1..16 */
  int leap;        /* as sent: 3 whenever stratum is 16 */
  char refid[5];   /* as sent when answering normally */
  char kiss[5];    /* the kiss code sent instead of an answer, or "" */
  bool silent;     /* no answer at all (wins over kiss) */
  bool badmac;     /* flip a bit of the MAC (keyed servers only) */
};

/* Parses scenario text (NUL-terminated); name is the FILE in messages. On
 * success fills *out and returns 0. On the first error returns -1 and writes
 * one line, "NAME:LINE: what is wrong" (or "NAME: what is wrong" for what
 * the file as a whole lacks), to err (errlen may be 0). */
int scenario_parse(const char *name, const char *text, struct scenario *out,
                   char *err, size_t errlen);

/* Reads and parses the file at path (path is the FILE in messages).
 * Returns 0, or -1 with err set ("PATH: strerror" if it cannot be read). */
int scenario_load(const char *path, struct scenario *out, char *err,
                  size_t errlen);

/* Parses a loopback host address: a dotted-quad IPv4 address in
 * 127.0.0.0/8 other than the network (127.0.0.0) and broadcast
 * (127.255.255.255) addresses. Returns 0 and *addr (host byte order), or -1
 * with *why set to what is wrong ("not an IPv4 address", ...). */
int scenario_parse_loopback(const char *text, uint32_t *addr, const char **why);

/* addr (host byte order) as a dotted quad in buf (SCN_ADDR_LEN bytes). */
void scenario_format_addr(uint32_t addr, char buf[SCN_ADDR_LEN]);

/* The index of the server called name, or -1. */
int scenario_find_server(const struct scenario *s, const char *name);

/* The state of server i at time t (s since start; t < 0 counts as 0):
 * the server line's values, then every event of that server with
 * event.t <= t applied in order. The offset is exact piecewise-linear:
 * offset + sum of steps and date jumps + integral of (drift + walk). */
void scenario_state_at(const struct scenario *s, int i, double t,
                       struct scn_state *out);

/* "step", "walk", ... "jitter"; "?" outside the enum. */
const char *scenario_fault_name(enum scn_fault f);

/* The line the simulator prints when ev applies, without the time:
 * "gps1 step +0.001000 s", "gal1 walk +20.000 us/s", "dcf1 kod RATE",
 * "gal1 drift +5.000 ppm", "gps1 silent". Returns snprintf's count. */
int scenario_describe_event(const struct scenario *s, const struct scn_event *ev,
                            char *buf, size_t len);

/* A seeded pseudo-random stream (splitmix64); one per server. */
struct scn_rng {
  uint64_t state;
  bool has_spare;
  double spare;
};

/* Stream `stream` of seed: independent streams for the servers of one
 * scenario, the same sequence for the same (seed, stream). */
void scn_rng_init(struct scn_rng *r, uint64_t seed, unsigned stream);

/* A standard normal deviate (Box-Muller; mean 0, deviation 1). */
double scn_rng_gauss(struct scn_rng *r);

#endif
