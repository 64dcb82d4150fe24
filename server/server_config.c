/* The NTP server's directives: see server_config.h. Values and messages
 * through the shared toolkit (lib/lineparse.h). */
#include "server/server_config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/bindcheck.h"
#include "lib/lineparse.h"
#include "monitor/config_family.h"
#include "probes/nts_ke.h"
#include "server/nts_ke_server.h"

/* serve ADDRESS [port N] [threads N] */
static int dir_serve(struct lp_ctx *p, struct server_config *c, char **argv, int argc) {
  if (argc < 2 || argc % 2)
    return lp_fail(p, "serve: expected \"serve ADDRESS [port N] [threads N]\"");
  if (c->n_serve == SERVE_ADDRS_MAX)
    return lp_fail(p, "serve: at most %d addresses", SERVE_ADDRS_MAX);
  struct serve_addr *s = &c->serve[c->n_serve];
  memset(s, 0, sizeof *s);
  long long port = 123, threads = 1;
  for (int i = 2; i < argc; i += 2) {
    if (strcmp(argv[i], "port") == 0) {
      if (lp_int(p, "serve port", argv[i + 1], 1, 65535, &port)) return -1;
    } else if (strcmp(argv[i], "threads") == 0) {
      if (lp_int(p, "serve threads", argv[i + 1], 1, 16, &threads)) return -1;
    } else {
      return lp_fail(p, "serve: expected \"serve ADDRESS [port N] [threads N]\" (at \"%s\")",
                     argv[i]);
    }
  }
  const char *a = argv[1];
  char buf[64];
  size_t n = strlen(a);
  if (n >= 2 && a[0] == '[' && a[n - 1] == ']') { /* [::1] as well as ::1 */
    if (lp_copy(p, "serve", a + 1, buf, sizeof buf)) return -1;
    buf[n - 2] = '\0';
  } else if (lp_copy(p, "serve", a, buf, sizeof buf)) {
    return -1;
  }
  s->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(s->family, buf, s->addr) != 1)
    return lp_fail(p, "serve: \"%s\" is not an IPv4 or IPv6 address", a);
  s->port = (int)port;
  s->threads = (int)threads;
  snprintf(s->text, sizeof s->text, "%s", buf);
  s->line = p->line;
  s->file = p->file_id;
  for (int i = 0; i < c->n_serve; i++)
    if (c->serve[i].family == s->family && c->serve[i].port == s->port &&
        memcmp(c->serve[i].addr, s->addr, 16) == 0)
      return lp_fail(p, "serve: %s port %d is already served (line %d)", buf, s->port,
                     c->serve[i].line);
  c->n_serve++;
  return 0;
}

static int dir_acl(struct lp_ctx *p, struct server_config *c, char **argv, int argc, bool allow) {
  if (argc != 2) return lp_fail(p, "%s: expected \"%s PREFIX\" (e.g. 192.0.2.0/24, 2001:db8::/32, all)", argv[0], argv[0]);
  char err[160];
  if (acl_add(&c->acl, argv[1], allow, err, sizeof err)) return lp_fail(p, "%s: %s", argv[0], err);
  return 0;
}

/* ratelimit off | ratelimit [interval S] [burst N] [leak N] [kod] */
static int dir_ratelimit(struct lp_ctx *p, struct server_config *c, char **argv, int argc) {
  struct ratelimit_config *r = &c->ratelimit;
  if (argc == 2 && strcmp(argv[1], "off") == 0) {
    r->enabled = false;
    return 0;
  }
  ratelimit_config_default(r);
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "kod") == 0) {
      r->kod = true;
      continue;
    }
    if (i + 1 >= argc || (strcmp(o, "interval") && strcmp(o, "burst") && strcmp(o, "leak")))
      return lp_fail(p, "ratelimit: expected \"ratelimit off\" or \"ratelimit [interval S] "
                        "[burst N] [leak N] [kod]\" (at \"%s\")", o);
    const char *v = argv[++i];
    long long n;
    if (strcmp(o, "interval") == 0) {
      if (lp_double(p, "ratelimit interval", v, 0.001, 3600, &r->interval)) return -1;
    } else if (strcmp(o, "burst") == 0) {
      if (lp_int(p, "ratelimit burst", v, 1, 1000, &n)) return -1;
      r->burst = (int)n;
    } else {
      if (lp_int(p, "ratelimit leak", v, 0, 4, &n)) return -1;
      r->leak = (int)n;
    }
  }
  return 0;
}

/* ntsservercert FILE, ntsserverkey FILE, ntsdumpdir DIR, ntsport N,
 * ntsrotate S */
static int dir_nts(struct lp_ctx *p, struct server_config *c, char **argv, int argc) {
  const char *d = argv[0];
  bool number = strcmp(d, "ntsport") == 0 || strcmp(d, "ntsrotate") == 0;
  if (argc != 2)
    return lp_fail(p, "%s: expected \"%s %s\"", d, d,
                   number ? (d[3] == 'p' ? "PORT" : "SECONDS") : d[3] == 'd' ? "DIR" : "FILE");
  long long v;
  if (strcmp(d, "ntsport") == 0) {
    if (lp_int(p, d, argv[1], 1, 65535, &v)) return -1;
    c->nts_port = (int)v;
    return 0;
  }
  if (strcmp(d, "ntsrotate") == 0) {
    if (lp_int(p, d, argv[1], 60, 31536000, &v)) return -1;
    c->nts_rotate = (int)v;
    return 0;
  }
  char *dst = strcmp(d, "ntsservercert") == 0 ? c->nts_cert
              : strcmp(d, "ntsserverkey") == 0 ? c->nts_key
                                                : c->nts_dumpdir;
  if (lp_copy(p, d, argv[1], dst, NTS_PATH_MAX)) return -1;
  if (dst == c->nts_cert) {
    c->nts_cert_file = p->file_id;
    c->nts_cert_line = p->line;
  }
  if (dst == c->nts_key) {
    c->nts_key_file = p->file_id;
    c->nts_key_line = p->line;
  }
  return 0;
}

static int family_directive(void *state, struct lp_ctx *p, char **argv, int argc) {
  struct server_config *c = state;
  const char *d = argv[0];
  if (strncmp(d, "nts", 3) == 0) return dir_nts(p, c, argv, argc);
  if (strcmp(d, "serve") == 0) return dir_serve(p, c, argv, argc);
  if (strcmp(d, "allow") == 0) return dir_acl(p, c, argv, argc, true);
  if (strcmp(d, "deny") == 0) return dir_acl(p, c, argv, argc, false);
  if (strcmp(d, "ratelimit") == 0) return dir_ratelimit(p, c, argv, argc);
  return lp_fail(p, "unknown directive \"%s\"", d);
}

static void family_defaults(void *state) {
  struct server_config *c = state;
  memset(c, 0, sizeof *c);
  ratelimit_config_default(&c->ratelimit);
  c->nts_port = NTS_KE_PORT;
  c->nts_rotate = 3600;
}

/* NTS: both or neither of the certificate and the key, both load and
 * match (server/nts_ke_server.c), and the NTS-KE port of every serve
 * address can be bound. */
static int nts_family_check(const struct server_config *c, const struct vt_config *cfg,
                            char *err, size_t errlen) {
  char cert_at[NTS_PATH_MAX + 16], key_at[NTS_PATH_MAX + 16];
  snprintf(cert_at, sizeof cert_at, "%s:%d", config_file_name(cfg, c->nts_cert_file),
           c->nts_cert_line);
  snprintf(key_at, sizeof key_at, "%s:%d", config_file_name(cfg, c->nts_key_file),
           c->nts_key_line);
  if (nts_server_check(c, cert_at, key_at, err, errlen)) return -1;
  if (!server_config_nts(c)) return 0;
  for (int i = 0; i < c->n_serve; i++) {
    const struct serve_addr *s = &c->serve[i];
    int e = bindcheck_try(s->text, c->nts_port, SOCK_STREAM, false);
    if (e == 0) continue;
    /* A running vettimed's listener: `vettimed -t` beside it is fine (a
     * second daemon would fail to bind, and says so at its start). */
    char name[64] = "";
    pid_t pid = e == EADDRINUSE ? bindcheck_owner(c->nts_port, SOCK_STREAM, name, sizeof name) : 0;
    if (pid && strcmp(name, "vettimed") == 0) continue;
    snprintf(err, errlen, "%s:%d: ntsport %d on %s (the NTS-KE server): cannot listen: %s",
             config_file_name(cfg, s->file), s->line, c->nts_port, s->text, strerror(e));
    return -1;
  }
  return 0;
}

/* Every serve address can be bound now, as ntp_server_start() binds it
 * (SO_REUSEADDR, and SO_REUSEPORT for threads): tried and closed. */
static int family_check(const void *state, const struct vt_config *cfg, char *err,
                        size_t errlen) {
  const struct server_config *c = state;
  for (int i = 0; i < c->n_serve; i++) {
    const struct serve_addr *s = &c->serve[i];
    int e = bindcheck_try(s->text, s->port, SOCK_DGRAM, s->threads > 1);
    if (e == 0) continue;
    snprintf(err, errlen, "%s:%d: serve %s port %d: cannot bind: %s%s",
             config_file_name(cfg, s->file), s->line, s->text, s->port, strerror(e),
             e == EACCES && s->port < 1024 ? " (a port below 1024 needs root or "
                                             "CAP_NET_BIND_SERVICE)" : "");
    return -1;
  }
  return nts_family_check(c, cfg, err, errlen);
}

static const char *const family_directives[] = {
    "serve", "allow", "deny", "ratelimit", "ntsservercert", "ntsserverkey", "ntsport",
    "ntsdumpdir", "ntsrotate", NULL};

static const struct config_family family = {
    .directives = family_directives,
    .state_size = sizeof(struct server_config),
    .defaults = family_defaults,
    .directive = family_directive,
    .check = family_check,
};

int server_config_register(void) { return config_register_family(&family); }

const struct server_config *server_config_of(const struct vt_config *cfg) {
  const struct server_config *c = config_family_state(cfg, &family);
  assert(c && "server_config_register() before the configuration is parsed");
  return c;
}
