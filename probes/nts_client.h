/* One NTS Key Establishment exchange (RFC 8915 §4) as a client, driven by
 * the daemon's loop (lib/sched.h): a non-blocking TCP connect, a
 * non-blocking TLS 1.3 handshake (OpenSSL libssl, ALPN "ntske/1", the
 * server's certificate verified against the system's trust store and
 * `ntstrustedcerts`, for the host name or IP address the source names),
 * the request records, the response records up to End of Message (decoded
 * by the pure probes/nts_ke.c), and the two keys exported from the TLS
 * session. Every step waits on the socket through the loop; a host name is
 * looked up off it (lib/resolver.h). Nothing blocks the loop.
 *
 * The exchange ends exactly once, by calling `done` (unless cancelled
 * first): with the keys and cookies, or with the reason it failed. The
 * handle is freed after `done` returns; `done` must not cancel it. */
#ifndef VT_NTS_CLIENT_H
#define VT_NTS_CLIENT_H

#include <stdint.h>

#include "probes/nts_ke.h"

enum nts_ke_fail {
  NKF_NONE = 0,
  NKF_RESOLVE,      /* the host name does not resolve */
  NKF_REFUSED,      /* TCP connect refused */
  NKF_CONNECT,      /* another connect error (unreachable, reset, ...) */
  NKF_CERTIFICATE,  /* certificate verification failed */
  NKF_ALPN,         /* the server did not accept "ntske/1" */
  NKF_TLS,          /* another TLS failure (version, handshake, trust file) */
  NKF_AEAD,         /* no common AEAD algorithm */
  NKF_SERVER_ERROR, /* the server sent an Error record */
  NKF_PROTOCOL,     /* malformed records, no cookie, bad next protocol */
  NKF_TIMEOUT,      /* no complete answer in time */
  NKF_COUNT
};

/* The reason as a word for states and logs: "resolve", "refused",
 * "connect", "certificate", "alpn", "tls", "aead", "server-error",
 * "protocol", "timeout" ("ok" for NKF_NONE). */
const char *nts_ke_fail_name(enum nts_ke_fail f);

struct nts_ke_result {
  enum nts_ke_fail fail;
  char detail[200];               /* for people: what exactly went wrong */
  uint8_t c2s[NTS_KEY_LEN], s2c[NTS_KEY_LEN];
  struct nts_ke_response resp;    /* cookies, negotiated server and port */
};

typedef void (*nts_ke_done_fn)(void *arg, const struct nts_ke_result *r);

/* The TLS client settings of a source, made once and kept for all its
 * exchanges: TLS 1.3 only, ALPN, and the trust: the system's certificate
 * directory (looked up by hash when a chain is verified, so nothing is
 * loaded up front) plus the PEM files trusted[0..n) of certificates. NULL
 * with the reason in err when a file cannot be loaded. */
struct nts_tls;
struct nts_tls *nts_tls_new(const char *const *trusted, int n, char *err, size_t errlen);
void nts_tls_free(struct nts_tls *t);

struct nts_ke;

/* Starts an exchange with host:port under tls (which must outlive it).
 * timeout in seconds. A failure to start (resolve, connect) is reported
 * through `done` from the loop, never from inside this call; NULL only
 * when out of memory. */
struct nts_ke *nts_ke_start(struct nts_tls *tls, const char *host, int port, double timeout,
                            nts_ke_done_fn done, void *arg);

/* Stops an exchange that has not ended; `done` is not called. */
void nts_ke_cancel(struct nts_ke *k);

#endif
