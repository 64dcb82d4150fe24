/* libFuzzer target: what the NTP server decides about a request before
 * answering it (server/ntp_server.c): the access list and the rate limiter
 * over any sequence of client addresses and arrival times. The first bytes
 * choose the limiter's settings (burst, leak, KoD, a small table so that
 * entries are evicted); then records of 20 bytes: family, address (4 or
 * 16 bytes used), and the time since the previous request. The verdict is
 * one of the three; a disabled limiter always passes; the access list's
 * answers follow its rules. (The answer itself: fuzz_ntp_respond.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/acl.h"
#include "server/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct acl acl;
  static int ready;
  if (!ready) {
    char err[256];
    if (acl_add(&acl, "10.1.0.0/16", false, err, sizeof err) ||
        acl_add(&acl, "10.0.0.0/8", true, err, sizeof err) ||
        acl_add(&acl, "2001:db8::/32", true, err, sizeof err) ||
        acl_add(&acl, "127.0.0.1", true, err, sizeof err))
      abort();
    ready = 1;
  }
  if (size < 4) return 0;
  struct ratelimit_config cfg;
  ratelimit_config_default(&cfg);
  cfg.enabled = data[0] & 1;
  cfg.kod = data[0] & 2;
  cfg.leak = (data[0] >> 2) % 8;
  cfg.burst = 1 + data[1] % 16;
  cfg.interval = 0.001 * (1 + data[2]);
  cfg.table_bits = data[3] % 4;
  struct ratelimit rl;
  if (ratelimit_init(&rl, &cfg)) return 0;
  int64_t now = 1000000000;
  for (size_t at = 4; at + 20 <= size; at += 20) {
    struct rl_addr a;
    memset(&a, 0, sizeof a);
    a.family = data[at] & 1 ? AF_INET6 : AF_INET;
    memcpy(a.addr, data + at + 1, a.family == AF_INET ? 4 : 16);
    uint16_t dt;
    memcpy(&dt, data + at + 18, 2);
    now += (int64_t)dt * 100000; /* 0 .. 6.5 s */
    enum rl_verdict v = ratelimit_check(&rl, &a, now);
    if (v != RL_PASS && v != RL_DROP && v != RL_KOD) abort();
    if (!cfg.enabled && v != RL_PASS) abort();
    if (v == RL_KOD && !cfg.kod) abort();
    bool ok = acl_allows(&acl, a.family, a.addr);
    if (a.family == AF_INET) {
      bool want = (a.addr[0] == 10 && a.addr[1] != 1) ||
                  (a.addr[0] == 127 && a.addr[1] == 0 && a.addr[2] == 0 && a.addr[3] == 1);
      if (ok != want) abort();
    } else if (ok != (a.addr[0] == 0x20 && a.addr[1] == 0x01 && a.addr[2] == 0x0d && a.addr[3] == 0xb8)) {
      abort();
    }
  }
  ratelimit_free(&rl);
  return 0;
}
