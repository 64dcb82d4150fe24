/* NTS-KE client: see nts_client.h. A small state machine over one
 * non-blocking TCP socket:
 *
 *   CONNECT --(writable)--> HANDSHAKE --(SSL_connect done)--> WRITE
 *   --(request sent)--> READ --(End of Message)--> done
 *
 * Each state waits for the readiness OpenSSL asks for (SSL_ERROR_WANT_READ
 * or WANT_WRITE) by setting the descriptor's events in the loop; a timer
 * bounds the whole exchange. The failure reasons an operator can act on
 * (refused, certificate, ALPN, AEAD) are told apart here. */
#include "probes/nts_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/resolver.h"
#include "lib/sched.h"

enum ke_state { KE_RESOLVE, KE_CONNECT, KE_HANDSHAKE, KE_WRITE, KE_READ };

struct nts_tls {
  SSL_CTX *ctx;
};

struct nts_ke {
  enum ke_state state;
  int fd;
  SSL_CTX *ctx; /* the source's, not ours */
  SSL *ssl;
  char host[256];
  struct resolver_query *query; /* the host name's lookup, or NULL */
  sched_timer_id timer;
  nts_ke_done_fn done;
  void *arg;
  uint8_t req[64];
  size_t req_len, req_sent;
  uint8_t in[NTS_KE_MAX_MESSAGE + 1];
  size_t in_len;
  struct nts_ke_result res;
};

const char *nts_ke_fail_name(enum nts_ke_fail f) {
  static const char *const names[NKF_COUNT] = {
      "ok", "resolve", "refused", "connect", "certificate", "alpn", "tls", "aead",
      "server-error", "protocol", "timeout"};
  return (unsigned)f < NKF_COUNT ? names[f] : "?";
}

static void release(struct nts_ke *k) {
  sched_cancel_timer(k->timer);
  resolver_cancel(k->query);
  if (k->fd >= 0) sched_remove_fd(k->fd);
  if (k->ssl) SSL_free(k->ssl);
  if (k->fd >= 0) close(k->fd);
  ERR_clear_error();
  free(k);
}

void nts_ke_cancel(struct nts_ke *k) {
  if (k) release(k);
}

/* Ends the exchange: tells the owner, then frees everything. */
static void finish(struct nts_ke *k) {
  if (k->ssl && k->res.fail == NKF_NONE) SSL_shutdown(k->ssl); /* best effort, once */
  k->done(k->arg, &k->res);
  release(k);
}

static void fail(struct nts_ke *k, enum nts_ke_fail why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct nts_ke *k, enum nts_ke_fail why, const char *fmt, ...) {
  k->res.fail = why;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->res.detail, sizeof k->res.detail, fmt, ap);
  va_end(ap);
  finish(k);
}

static void on_timeout(void *arg) {
  struct nts_ke *k = arg;
  k->timer = 0;
  static const char *const steps[] = {"looking up the name", "connecting",
                                      "in the TLS handshake", "sending the request",
                                      "waiting for the records"};
  fail(k, NKF_TIMEOUT, "no answer in time (%s)", steps[k->state]);
}

/* A start-up failure, reported from the loop so that `done` never runs
 * inside nts_ke_start. */
static void on_early_failure(void *arg) {
  struct nts_ke *k = arg;
  k->timer = 0;
  finish(k);
}

static void want(struct nts_ke *k, int ssl_err) {
  sched_set_fd_events(k->fd, ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN);
}

/* The text of OpenSSL's first queued error, or of errno. */
static const char *tls_error_text(char *buf, size_t len) {
  unsigned long e = ERR_peek_error();
  if (e) ERR_error_string_n(e, buf, len);
  else snprintf(buf, len, "%s", errno ? strerror(errno) : "connection closed");
  return buf;
}

/* Why SSL_connect failed, in the terms of nts_ke_fail. */
static void handshake_failed(struct nts_ke *k, int ssl_err) {
  long verify = SSL_get_verify_result(k->ssl);
  unsigned long e = ERR_peek_error();
  char text[160];
  if (verify != X509_V_OK) {
    fail(k, NKF_CERTIFICATE, "certificate verification failed: %s",
         X509_verify_cert_error_string(verify));
  } else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
             ERR_GET_REASON(e) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
    fail(k, NKF_ALPN, "the server accepts no \"%s\" (TLS alert no_application_protocol)",
         NTS_KE_ALPN);
  } else {
    fail(k, NKF_TLS, "TLS handshake failed (%d): %s", ssl_err, tls_error_text(text, sizeof text));
  }
}

static int export_keys(struct nts_ke *k) {
  uint8_t c[5];
  const char *label = NTS_KE_EXPORTER_LABEL;
  nts_ke_exporter_context(c, NTS_AEAD_AES_SIV_CMAC_256, false);
  if (SSL_export_keying_material(k->ssl, k->res.c2s, NTS_KEY_LEN, label, strlen(label), c,
                                 sizeof c, 1) != 1)
    return -1;
  nts_ke_exporter_context(c, NTS_AEAD_AES_SIV_CMAC_256, true);
  if (SSL_export_keying_material(k->ssl, k->res.s2c, NTS_KEY_LEN, label, strlen(label), c,
                                 sizeof c, 1) != 1)
    return -1;
  return 0;
}

/* Decodes what has arrived; true when the exchange ended. */
static bool take_records(struct nts_ke *k, bool final) {
  enum nts_ke_status s = nts_ke_parse_response(k->in, k->in_len, final, &k->res.resp);
  switch (s) {
  case NTS_KE_INCOMPLETE:
    return false;
  case NTS_KE_OK:
    if (export_keys(k)) {
      fail(k, NKF_TLS, "cannot export the keys from the TLS session");
      return true;
    }
    finish(k);
    return true;
  case NTS_KE_NO_AEAD:
    fail(k, NKF_AEAD, "no common AEAD algorithm (we offer AEAD_AES_SIV_CMAC_256 only)");
    return true;
  case NTS_KE_SERVER_ERROR:
    fail(k, NKF_SERVER_ERROR, "the server sent error %d (%s)", k->res.resp.error_code,
         k->res.resp.error_code == 0   ? "unrecognized critical record"
         : k->res.resp.error_code == 1 ? "bad request"
         : k->res.resp.error_code == 2 ? "internal server error"
                                       : "unknown code");
    return true;
  default:
    fail(k, NKF_PROTOCOL, "bad NTS-KE response: %s", nts_ke_status_name(s));
    return true;
  }
}

static void step_read(struct nts_ke *k) {
  for (;;) {
    if (k->in_len >= sizeof k->in) {
      fail(k, NKF_PROTOCOL, "bad NTS-KE response: too-long");
      return;
    }
    int n = SSL_read(k->ssl, k->in + k->in_len, (int)(sizeof k->in - k->in_len));
    if (n > 0) {
      k->in_len += (size_t)n;
      if (take_records(k, false)) return;
      continue;
    }
    int e = SSL_get_error(k->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      want(k, e);
      return;
    }
    /* The stream ended (cleanly or not) before End of Message. */
    take_records(k, true);
    return;
  }
}

static void step_write(struct nts_ke *k) {
  while (k->req_sent < k->req_len) {
    int n = SSL_write(k->ssl, k->req + k->req_sent, (int)(k->req_len - k->req_sent));
    if (n > 0) {
      k->req_sent += (size_t)n;
      continue;
    }
    int e = SSL_get_error(k->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      want(k, e);
      return;
    }
    char text[160];
    fail(k, NKF_TLS, "cannot send the request: %s", tls_error_text(text, sizeof text));
    return;
  }
  k->state = KE_READ;
  sched_set_fd_events(k->fd, POLLIN);
  step_read(k);
}

static void step_handshake(struct nts_ke *k) {
  ERR_clear_error();
  errno = 0;
  int r = SSL_connect(k->ssl);
  if (r != 1) {
    int e = SSL_get_error(k->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) want(k, e);
    else handshake_failed(k, e);
    return;
  }
  const unsigned char *alpn = NULL;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(k->ssl, &alpn, &alpn_len);
  if (alpn_len != strlen(NTS_KE_ALPN) || memcmp(alpn, NTS_KE_ALPN, alpn_len) != 0) {
    fail(k, NKF_ALPN, "the server did not accept ALPN \"%s\" (it selected %s%.*s%s)",
         NTS_KE_ALPN, alpn_len ? "\"" : "none", (int)alpn_len, alpn ? (const char *)alpn : "",
         alpn_len ? "\"" : "");
    return;
  }
  k->state = KE_WRITE;
  step_write(k);
}

struct nts_tls *nts_tls_new(const char *const *trusted, int n, char *err, size_t errlen) {
  struct nts_tls *t = calloc(1, sizeof *t);
  char text[160];
  ERR_clear_error();
  if (!t || !(t->ctx = SSL_CTX_new(TLS_client_method()))) {
    snprintf(err, errlen, "cannot set up TLS: %s", tls_error_text(text, sizeof text));
    nts_tls_free(t);
    return NULL;
  }
  SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
  /* The system's directory, not its bundle: SSL_CTX_set_default_verify_paths
   * parses the whole bundle on the loop (measured: exchanges with chronyd
   * took 120-210 ms with it, 43-50 ms without, on a loaded 2-core host). */
  SSL_CTX_set_default_verify_dir(t->ctx);
  for (int i = 0; i < n; i++)
    if (SSL_CTX_load_verify_locations(t->ctx, trusted[i], NULL) != 1) {
      snprintf(err, errlen, "cannot load ntstrustedcerts %.200s: %.100s", trusted[i],
               tls_error_text(text, sizeof text));
      ERR_clear_error();
      nts_tls_free(t);
      return NULL;
    }
  return t;
}

void nts_tls_free(struct nts_tls *t) {
  if (!t) return;
  SSL_CTX_free(t->ctx);
  free(t);
}

static int setup_tls(struct nts_ke *k) {
  static const unsigned char alpn[] = "\x07" NTS_KE_ALPN;
  k->ssl = SSL_new(k->ctx);
  if (!k->ssl || SSL_set_fd(k->ssl, k->fd) != 1 ||
      SSL_set_alpn_protos(k->ssl, alpn, sizeof alpn - 1) != 0)
    return -1;
  /* The certificate must name what the source names: an IP address
   * literal against the IP SANs, a host name against the DNS names (and
   * sent as SNI). */
  unsigned char ip[16];
  bool literal = inet_pton(AF_INET, k->host, ip) == 1 || inet_pton(AF_INET6, k->host, ip) == 1;
  X509_VERIFY_PARAM *param = SSL_get0_param(k->ssl);
  if (literal) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, k->host) != 1) return -1;
  } else {
    if (SSL_set1_host(k->ssl, k->host) != 1 || SSL_set_tlsext_host_name(k->ssl, k->host) != 1)
      return -1;
  }
  return 0;
}

static void step_connected(struct nts_ke *k) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err) {
    fail(k, err == ECONNREFUSED ? NKF_REFUSED : NKF_CONNECT, "TCP connect: %s", strerror(err));
    return;
  }
  if (setup_tls(k)) {
    if (!k->res.detail[0]) {
      char text[160];
      snprintf(k->res.detail, sizeof k->res.detail, "cannot set up TLS: %s",
               tls_error_text(text, sizeof text));
    }
    k->res.fail = NKF_TLS;
    finish(k);
    return;
  }
  k->state = KE_HANDSHAKE;
  step_handshake(k);
}

static void on_io(int fd, short revents, void *arg) {
  struct nts_ke *k = arg;
  (void)fd, (void)revents;
  switch (k->state) {
  case KE_RESOLVE: break; /* not watched yet */
  case KE_CONNECT: step_connected(k); break;
  case KE_HANDSHAKE: step_handshake(k); break;
  case KE_WRITE: step_write(k); break;
  case KE_READ: step_read(k); break;
  }
}

/* Starts the connect to addr; on failure fills k->res. */
static int connect_to(struct nts_ke *k, const struct sockaddr_storage *addr, socklen_t len) {
  k->state = KE_CONNECT;
  k->fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (k->fd < 0 || (connect(k->fd, (const struct sockaddr *)addr, len) < 0 && errno != EINPROGRESS)) {
    int e = errno;
    k->res.fail = e == ECONNREFUSED ? NKF_REFUSED : NKF_CONNECT;
    snprintf(k->res.detail, sizeof k->res.detail, "TCP connect: %s", strerror(e));
    return -1;
  }
  if (sched_add_fd(k->fd, POLLOUT, on_io, k) < 0) {
    k->res.fail = NKF_CONNECT;
    snprintf(k->res.detail, sizeof k->res.detail, "cannot watch the socket");
    return -1;
  }
  return 0;
}

/* A failure before the socket is watched: close it, and report from the
 * loop (never from inside nts_ke_start). */
static void fail_soon(struct nts_ke *k) {
  if (k->fd >= 0) {
    close(k->fd);
    k->fd = -1;
  }
  sched_cancel_timer(k->timer);
  k->timer = sched_add_timer(0, on_early_failure, k);
}

static void on_resolved(const struct resolver_answer *a, void *arg) {
  struct nts_ke *k = arg;
  k->query = NULL;
  if (a->error) {
    fail(k, NKF_RESOLVE, "cannot resolve %.80s: %.100s", k->host, a->error_text);
    return;
  }
  if (connect_to(k, &a->addr, a->addrlen)) {
    if (k->fd >= 0) {
      close(k->fd);
      k->fd = -1;
    }
    finish(k);
  }
}

struct nts_ke *nts_ke_start(struct nts_tls *tls, const char *host, int port, double timeout,
                            nts_ke_done_fn done, void *arg) {
  struct nts_ke *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  k->ctx = tls->ctx;
  k->fd = -1;
  k->done = done;
  k->arg = arg;
  snprintf(k->host, sizeof k->host, "%s", host);
  k->req_len = nts_ke_build_request(k->req, sizeof k->req);
  /* The timeout covers the lookup too. */
  k->timer = sched_add_timer(timeout, on_timeout, k);
  struct sockaddr_storage addr;
  socklen_t len;
  if (resolver_literal(host, port, SOCK_STREAM, &addr, &len) == 0) {
    if (connect_to(k, &addr, len)) fail_soon(k);
    return k;
  }
  /* A name: looked up off the loop (lib/resolver.h), connected once back. */
  k->state = KE_RESOLVE;
  k->query = resolver_lookup(host, port, SOCK_STREAM, on_resolved, k);
  if (!k->query) {
    k->res.fail = NKF_RESOLVE;
    snprintf(k->res.detail, sizeof k->res.detail, "cannot start a lookup of %.80s: %.80s", host,
             strerror(errno));
    fail_soon(k);
  }
  return k;
}
