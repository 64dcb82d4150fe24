/* Unit tests for server/ratelimit.c: the token bucket (burst, refill,
 * the kiss at most once an interval, leak), clients kept apart (IPv4 and
 * IPv6), and the bounded table (a flood of addresses evicts, never grows,
 * never crashes). */
#include <sys/socket.h>

#include "server/ratelimit.h"
#include "tests/unit/unit.h"

#define S INT64_C(1000000000)

static struct rl_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  struct rl_addr x = {.family = AF_INET, .addr = {a, b, c, d}};
  return x;
}

static struct ratelimit_config cfg(double interval, int burst, bool kod, int leak, int bits) {
  struct ratelimit_config c;
  ratelimit_config_default(&c);
  c.interval = interval;
  c.burst = burst;
  c.kod = kod;
  c.leak = leak;
  c.table_bits = bits;
  return c;
}

static void test_default(void) {
  struct ratelimit_config c;
  ratelimit_config_default(&c);
  CHECK(c.enabled && !c.kod);
  CHECK_NEAR(c.interval, 1.0, 0);
  CHECK_INT(c.burst, 16);
}

static void test_burst_then_refill(void) {
  struct ratelimit rl;
  struct ratelimit_config c = cfg(1.0, 4, false, 0, 4);
  CHECK_INT(ratelimit_init(&rl, &c), 0);
  struct rl_addr a = v4(192, 0, 2, 1);
  int64_t t = 1000 * S;
  for (int i = 0; i < 4; i++) CHECK_INT(ratelimit_check(&rl, &a, t), RL_PASS);
  for (int i = 0; i < 10; i++) CHECK_INT(ratelimit_check(&rl, &a, t), RL_DROP);
  /* half an interval: no token yet; a whole one: one */
  CHECK_INT(ratelimit_check(&rl, &a, t + S / 2), RL_DROP);
  CHECK_INT(ratelimit_check(&rl, &a, t + S), RL_PASS);
  CHECK_INT(ratelimit_check(&rl, &a, t + S), RL_DROP);
  /* a long pause refills only up to the burst */
  t += 1000 * S;
  int passed = 0;
  for (int i = 0; i < 20; i++) passed += ratelimit_check(&rl, &a, t) == RL_PASS;
  CHECK_INT(passed, 4);
  /* a client polling at the interval is never limited */
  for (int i = 1; i <= 100; i++) CHECK_INT(ratelimit_check(&rl, &a, t + i * S), RL_PASS);
  ratelimit_free(&rl);
}

/* A flood of 1000 requests a second for 10 s: burst + 10 answers. */
static void test_flood(void) {
  struct ratelimit rl;
  struct ratelimit_config c = cfg(1.0, 16, false, 0, 4);
  ratelimit_init(&rl, &c);
  struct rl_addr a = v4(198, 51, 100, 7);
  int passed = 0;
  for (int i = 0; i < 10000; i++)
    passed += ratelimit_check(&rl, &a, 5 * S + (int64_t)i * S / 1000) == RL_PASS;
  CHECK(passed >= 16 + 9 && passed <= 16 + 10);
  ratelimit_free(&rl);
}

static void test_kod_once_an_interval(void) {
  struct ratelimit rl;
  struct ratelimit_config c = cfg(2.0, 1, true, 0, 4);
  ratelimit_init(&rl, &c);
  struct rl_addr a = v4(10, 0, 0, 1);
  int64_t t = 10 * S;
  CHECK_INT(ratelimit_check(&rl, &a, t), RL_PASS);
  CHECK_INT(ratelimit_check(&rl, &a, t), RL_KOD);
  CHECK_INT(ratelimit_check(&rl, &a, t + S), RL_DROP); /* no second kiss within 2 s */
  CHECK_INT(ratelimit_check(&rl, &a, t + S), RL_DROP);
  CHECK_INT(ratelimit_check(&rl, &a, t + 2 * S), RL_PASS); /* a token again */
  CHECK_INT(ratelimit_check(&rl, &a, t + 2 * S), RL_KOD);
  ratelimit_free(&rl);
}

static void test_leak(void) {
  struct ratelimit rl;
  struct ratelimit_config c = cfg(100.0, 1, false, 2, 4);
  ratelimit_init(&rl, &c);
  struct rl_addr a = v4(10, 0, 0, 2);
  CHECK_INT(ratelimit_check(&rl, &a, S), RL_PASS);
  int passed = 0;
  for (int i = 0; i < 400; i++) passed += ratelimit_check(&rl, &a, S) == RL_PASS;
  CHECK_INT(passed, 100); /* every 4th limited request */
  ratelimit_free(&rl);
}

static void test_clients_apart(void) {
  struct ratelimit rl;
  struct ratelimit_config c = cfg(1.0, 2, false, 0, 4);
  ratelimit_init(&rl, &c);
  struct rl_addr a = v4(10, 0, 0, 3), b = v4(10, 0, 0, 4);
  struct rl_addr v6 = {.family = AF_INET6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 3}};
  struct rl_addr v6b = v6;
  memcpy(v6b.addr, a.addr, 4); /* same first bytes as a, other family */
  v6b.addr[15] = 0;
  memset(v6b.addr + 4, 0, 12);
  for (int i = 0; i < 2; i++) CHECK_INT(ratelimit_check(&rl, &a, S), RL_PASS);
  CHECK_INT(ratelimit_check(&rl, &a, S), RL_DROP);
  CHECK_INT(ratelimit_check(&rl, &b, S), RL_PASS);
  CHECK_INT(ratelimit_check(&rl, &v6, S), RL_PASS);
  CHECK_INT(ratelimit_check(&rl, &v6b, S), RL_PASS);
  CHECK_INT(ratelimit_check(&rl, &v6b, S), RL_PASS);
  CHECK_INT(ratelimit_check(&rl, &v6b, S), RL_DROP);
  ratelimit_free(&rl);
}

/* 2 sets of 4: a hundred thousand addresses evict each other, the table
 * never grows, a client evicted comes back with a full bucket. */
static void test_bounded_table(void) {
  struct ratelimit rl;
  struct ratelimit_config c = cfg(1.0, 2, false, 0, 1);
  ratelimit_init(&rl, &c);
  for (uint32_t i = 0; i < 100000; i++) {
    struct rl_addr a = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
    CHECK_INT(ratelimit_check(&rl, &a, S + i), RL_PASS);
  }
  CHECK(rl.evictions >= 100000 - 8);
  CHECK_INT(rl.mask, 1);
  ratelimit_free(&rl);
}

static void test_off(void) {
  struct ratelimit rl;
  struct ratelimit_config c = cfg(1.0, 1, true, 0, 4);
  c.enabled = false;
  CHECK_INT(ratelimit_init(&rl, &c), 0);
  CHECK(rl.e == NULL);
  struct rl_addr a = v4(10, 0, 0, 5);
  for (int i = 0; i < 1000; i++) CHECK_INT(ratelimit_check(&rl, &a, S), RL_PASS);
  ratelimit_free(&rl);
}

int main(void) {
  unit_init();
  RUN(test_default);
  RUN(test_burst_then_refill);
  RUN(test_flood);
  RUN(test_kod_once_an_interval);
  RUN(test_leak);
  RUN(test_clients_apart);
  RUN(test_bounded_table);
  RUN(test_off);
  return unit_done();
}
