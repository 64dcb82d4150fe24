/* Per-client token buckets over a bounded set-associative table: see
 * ratelimit.h. */
#include "server/ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void ratelimit_config_default(struct ratelimit_config *c) {
  memset(c, 0, sizeof *c);
  c->enabled = true;
  c->interval = 1.0;
  c->burst = 16;
  c->kod = false;
  c->leak = 0;
  c->table_bits = 12;
}

int ratelimit_init(struct ratelimit *rl, const struct ratelimit_config *cfg) {
  memset(rl, 0, sizeof *rl);
  rl->cfg = *cfg;
  if (!cfg->enabled) return 0;
  int bits = cfg->table_bits < 1 ? 1 : cfg->table_bits > 20 ? 20 : cfg->table_bits;
  size_t n = (size_t)RATELIMIT_WAYS << bits;
  rl->e = calloc(n, sizeof *rl->e);
  if (!rl->e) return -1;
  rl->mask = (1u << bits) - 1;
  return 0;
}

void ratelimit_free(struct ratelimit *rl) {
  free(rl->e);
  rl->e = NULL;
}

static size_t addr_len(const struct rl_addr *a) { return a->family == AF_INET6 ? 16 : 4; }

static bool same(const struct rl_addr *x, const struct rl_addr *y) {
  return x->family == y->family && memcmp(x->addr, y->addr, addr_len(x)) == 0;
}

/* FNV-1a over the family and the address, then a final mix: spreads
 * neighbouring addresses (a /24 of clients) over the sets. */
static uint32_t hash(const struct rl_addr *a) {
  uint32_t h = 2166136261u ^ a->family;
  for (size_t i = 0; i < addr_len(a); i++) h = (h ^ a->addr[i]) * 16777619u;
  h ^= h >> 15;
  h *= 0x2c1b3c6du;
  h ^= h >> 12;
  return h;
}

/* The client's entry: its own, else a free one of its set, else the one of
 * its set idle the longest, reset for it. */
static struct rl_entry *lookup(struct ratelimit *rl, const struct rl_addr *a, int64_t now_ns) {
  struct rl_entry *set = rl->e + (size_t)(hash(a) & rl->mask) * RATELIMIT_WAYS;
  struct rl_entry *victim = NULL;
  for (int i = 0; i < RATELIMIT_WAYS; i++) {
    struct rl_entry *e = &set[i];
    if (e->used && same(&e->a, a)) return e;
    if (!victim || (victim->used && (!e->used || e->last_ns < victim->last_ns))) victim = e;
  }
  if (victim->used) rl->evictions++;
  memset(victim, 0, sizeof *victim);
  victim->used = true;
  victim->a = *a;
  victim->tokens = rl->cfg.burst;
  victim->last_ns = now_ns;
  victim->kod_ns = INT64_MIN;
  return victim;
}

enum rl_verdict ratelimit_check(struct ratelimit *rl, const struct rl_addr *a, int64_t now_ns) {
  if (!rl->cfg.enabled || !rl->e) return RL_PASS;
  struct rl_entry *e = lookup(rl, a, now_ns);
  double dt = (double)(now_ns - e->last_ns) * 1e-9;
  if (dt > 0) {
    e->tokens += dt / rl->cfg.interval;
    if (e->tokens > rl->cfg.burst) e->tokens = rl->cfg.burst;
    e->last_ns = now_ns;
  }
  if (e->tokens >= 1.0) {
    e->tokens -= 1.0;
    e->limited = 0;
    return RL_PASS;
  }
  e->limited++;
  if (rl->cfg.leak > 0 && rl->cfg.leak < 31 && e->limited % (1u << rl->cfg.leak) == 0)
    return RL_PASS;
  if (rl->cfg.kod &&
      (e->kod_ns == INT64_MIN || (double)(now_ns - e->kod_ns) * 1e-9 >= rl->cfg.interval)) {
    e->kod_ns = now_ns;
    return RL_KOD;
  }
  return RL_DROP;
}
