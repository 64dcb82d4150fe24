/* Who the NTP server answers: `allow PREFIX` and `deny PREFIX` (CIDR,
 * IPv4 and IPv6). Pure, and a plain value (no pointers) so that it can
 * live in the configuration's family state and be compared on a reload.
 *
 * The most specific prefix that holds the address decides (a /32 deny
 * inside a /8 allow denies); of two equal prefixes the later line wins.
 * An address no rule holds is allowed when there is no `allow` line at
 * all (a `serve` line alone answers whoever can reach the address it binds,
 * as chrony does after `allow all`), and denied once any `allow` line
 * exists (naming who may ask means nobody else may). docs/design.md, "NTP
 * server". */
#ifndef VT_ACL_H
#define VT_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACL_RULES_MAX 64

struct acl_rule {
  uint8_t family;    /* AF_INET or AF_INET6 */
  uint8_t bits;      /* prefix length */
  bool allow;
  uint8_t addr[16];  /* the prefix, host bits zeroed */
};

struct acl {
  struct acl_rule r[ACL_RULES_MAX];
  int n;
  bool any_allow;
};

/* Parses "ADDRESS[/BITS]" or "all" (both families' /0). Returns 0 and
 * appends the rule(s), or -1 with a message in err: a bad address, bits
 * out of range, host bits set ("10.0.0.1/8": write 10.0.0.0/8), or the
 * table full. */
int acl_add(struct acl *acl, const char *prefix, bool allow, char *err, size_t errlen);

/* Whether family/addr (4 or 16 bytes in network order) is answered. */
bool acl_allows(const struct acl *acl, int family, const uint8_t *addr);

#endif
