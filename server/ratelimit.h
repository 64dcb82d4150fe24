/* Per-client rate limiting for the NTP server: a token bucket per client
 * address (IPv4 or IPv6) over a bounded table. Pure: the caller gives the
 * time (CLOCK_MONOTONIC ns); the table is allocated once by ratelimit_init
 * and never again, so the serving path neither allocates nor locks (each
 * server thread owns one table).
 *
 * The bucket: a client earns one token every `interval` seconds, holds at
 * most `burst`, and each request spends one; a request that finds no token
 * is limited (dropped, or answered with a KoD RATE when `kod` is set, at
 * most one kiss per interval, so a flood is not reflected one for one).
 * chrony's `ratelimit` is the model (its interval is a log2, ours seconds;
 * its `leak` answers a random share of the limited requests so that a
 * spoofed flood cannot silence the client it names: ours answers every
 * 2^leak-th limited request, 0 = none).
 *
 * The table: 2^k sets of RATELIMIT_WAYS entries chosen by a hash of the
 * address; a new client takes a free entry of its set or the one idle the
 * longest (evicted: it starts again with a full bucket, which only errs
 * towards answering). An entry whose bucket has refilled carries nothing
 * and may as well be forgotten. */
#ifndef VT_RATELIMIT_H
#define VT_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WAYS 4

struct ratelimit_config {
  bool enabled;
  double interval;   /* s between tokens (> 0) */
  int burst;         /* tokens at most, 1..1000 */
  bool kod;          /* answer a limited client with KoD RATE */
  int leak;          /* answer every 2^leak-th limited request; 0: none */
  int table_bits;    /* 2^table_bits sets (table of 4 * 2^bits entries) */
};

/* The site default (docs/design.md, "NTP server"): on, one token a second,
 * a burst of 16, no kiss, no leak, 4096 sets. */
void ratelimit_config_default(struct ratelimit_config *c);

/* An address: family AF_INET (4 bytes used) or AF_INET6 (16). */
struct rl_addr {
  uint8_t family;
  uint8_t addr[16];
};

struct rl_entry {
  struct rl_addr a;
  bool used;
  uint32_t limited;  /* limited requests since the last pass (for leak) */
  int64_t last_ns;   /* the last request */
  int64_t kod_ns;    /* the last kiss sent (INT64_MIN: none) */
  double tokens;
};

struct ratelimit {
  struct ratelimit_config cfg;
  struct rl_entry *e;  /* [RATELIMIT_WAYS << table_bits] */
  uint32_t mask;       /* sets - 1 */
  uint64_t evictions;  /* entries taken from another client */
};

enum rl_verdict { RL_PASS = 0, RL_DROP, RL_KOD };

/* Allocates the table. Returns 0, or -1 when out of memory. A disabled
 * configuration allocates nothing and passes everyone. */
int ratelimit_init(struct ratelimit *rl, const struct ratelimit_config *cfg);
void ratelimit_free(struct ratelimit *rl);

/* One request from a at CLOCK_MONOTONIC now_ns. */
enum rl_verdict ratelimit_check(struct ratelimit *rl, const struct rl_addr *a, int64_t now_ns);

#endif
