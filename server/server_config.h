/* The NTP server's directives (README.md, "Serving the time"), a family
 * registered with the configuration parser (monitor/config_family.h) by
 * every program's main, like alerting's:
 *   serve ADDRESS [port N] [threads N]
 *                               several; IPv4 or IPv6 literal; port 123;
 *                               threads > 1: that many SO_REUSEPORT sockets
 *   allow PREFIX | all          server/acl.h
 *   deny PREFIX | all
 *   ratelimit off | ratelimit [interval S] [burst N] [leak N] [kod]
 *   ntsservercert FILE          NTS (RFC 8915) for the served time: the
 *   ntsserverkey FILE           TLS certificate (chain, PEM) and its key;
 *                               both or neither (server/nts_ke_server.h)
 *   ntsport N                   the NTS-KE TCP port (4460); a top-level
 *                               line, not the `server ... ntsport N` option
 *   ntsdumpdir DIR              where the cookie keys are kept (default:
 *                               the database's directory)
 *   ntsrotate S                 cookie key rotation interval (3600 s)
 * The parsed state is a plain value (no pointers): a reload compares it
 * byte for byte. */
#ifndef VT_SERVER_CONFIG_H
#define VT_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "server/acl.h"
#include "server/ratelimit.h"

#define SERVE_ADDRS_MAX 8

struct serve_addr {
  uint8_t family;          /* AF_INET or AF_INET6 */
  uint8_t addr[16];        /* network order */
  int port;
  int threads;             /* sockets (SO_REUSEPORT), one thread each; 1..16 */
  char text[64];           /* as written, for the log */
  int file, line;          /* where: config_file_name(), for messages */
};

#define NTS_PATH_MAX 256

struct server_config {
  struct serve_addr serve[SERVE_ADDRS_MAX];
  int n_serve;             /* 0: the server is off (the default) */
  struct acl acl;
  struct ratelimit_config ratelimit;
  /* NTS: on when both nts_cert and nts_key are set and n_serve > 0 */
  char nts_cert[NTS_PATH_MAX];
  char nts_key[NTS_PATH_MAX];
  char nts_dumpdir[NTS_PATH_MAX]; /* "": the database's directory */
  int nts_port;                   /* 4460 */
  int nts_rotate;                 /* s, 60..31536000; 3600 */
  int nts_cert_file, nts_cert_line; /* where: config_file_name() */
  int nts_key_file, nts_key_line;
};

/* Whether cfg serves NTS (serve lines, a certificate and a key). */
static inline bool server_config_nts(const struct server_config *c) {
  return c->n_serve > 0 && c->nts_cert[0] && c->nts_key[0];
}

/* Registers serve, allow, deny, ratelimit and the nts* directives; its
 * check (config_check.h) binds each serve address's port (and NTS-KE
 * port) and loads the NTS certificate and key. Call from main before the
 * first config_load(). Returns 0, or -1 (a bug: see config_register_family). */
int server_config_register(void);

struct vt_config;
/* The server directives of a configuration parsed after
 * server_config_register() (asserted). */
const struct server_config *server_config_of(const struct vt_config *cfg);

#endif
