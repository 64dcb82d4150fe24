/* allow/deny prefixes for the NTP server: see acl.h. */
#include "server/acl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* True when the first bits of a and b agree. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits) {
  int whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, (size_t)whole)) return false;
  if (!rest) return true;
  uint8_t m = (uint8_t)(0xff << (8 - rest));
  return (a[whole] & m) == (b[whole] & m);
}

static int add_rule(struct acl *acl, int family, const uint8_t *addr, int bits, bool allow,
                    char *err, size_t errlen) {
  if (acl->n >= ACL_RULES_MAX) {
    snprintf(err, errlen, "more than %d allow/deny rules", ACL_RULES_MAX);
    return -1;
  }
  struct acl_rule *r = &acl->r[acl->n++];
  memset(r, 0, sizeof *r);
  r->family = (uint8_t)family;
  r->bits = (uint8_t)bits;
  r->allow = allow;
  memcpy(r->addr, addr, family == AF_INET ? 4 : 16);
  if (allow) acl->any_allow = true;
  return 0;
}

int acl_add(struct acl *acl, const char *prefix, bool allow, char *err, size_t errlen) {
  uint8_t zero[16] = {0};
  if (strcmp(prefix, "all") == 0)
    return add_rule(acl, AF_INET, zero, 0, allow, err, errlen) ||
           add_rule(acl, AF_INET6, zero, 0, allow, err, errlen) ? -1 : 0;
  char buf[64];
  if (strlen(prefix) >= sizeof buf) {
    snprintf(err, errlen, "\"%s\" is not an address or prefix", prefix);
    return -1;
  }
  snprintf(buf, sizeof buf, "%s", prefix);
  char *slash = strchr(buf, '/');
  if (slash) *slash = '\0';
  uint8_t addr[16] = {0};
  int family = strchr(buf, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(family, buf, addr) != 1) {
    snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", buf);
    return -1;
  }
  int max = family == AF_INET ? 32 : 128, bits = max;
  if (slash) {
    char *end;
    long b = strtol(slash + 1, &end, 10);
    if (!slash[1] || *end || b < 0 || b > max) {
      snprintf(err, errlen, "\"%s\": the prefix length must be 0 to %d", prefix, max);
      return -1;
    }
    bits = (int)b;
  }
  uint8_t masked[16] = {0};
  int whole = bits / 8, rest = bits % 8;
  memcpy(masked, addr, (size_t)whole);
  if (rest) masked[whole] = (uint8_t)(addr[whole] & (0xff << (8 - rest)));
  if (memcmp(masked, addr, 16)) {
    char ok[INET6_ADDRSTRLEN];
    inet_ntop(family, masked, ok, sizeof ok);
    snprintf(err, errlen, "\"%s\" has host bits set (the prefix is %s/%d)", prefix, ok, bits);
    return -1;
  }
  return add_rule(acl, family, addr, bits, allow, err, errlen);
}

bool acl_allows(const struct acl *acl, int family, const uint8_t *addr) {
  int best_bits = -1;
  bool verdict = !acl->any_allow;
  for (int i = 0; i < acl->n; i++) {
    const struct acl_rule *r = &acl->r[i];
    if (r->family != family || r->bits < best_bits) continue;
    if (!prefix_match(r->addr, addr, r->bits)) continue;
    best_bits = r->bits;
    verdict = r->allow;
  }
  return verdict;
}
