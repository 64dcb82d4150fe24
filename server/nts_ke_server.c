/* The NTS-KE server and the cookie keys: see nts_ke_server.h. Each
 * connection is a small state machine driven by poll():
 *
 *   HANDSHAKE --(SSL_accept done, ALPN ntske/1)--> READ
 *   --(End of Message, or a bad request)--> WRITE --(all sent)--> closed
 *
 * waiting for what OpenSSL asks (SSL_ERROR_WANT_READ/WRITE). */
#include "server/nts_ke_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "lib/caps.h"
#include "lib/log.h"
#include "monitor/report.h"
#include "server/acl.h"
#include "server/ratelimit.h"
#include "server/server_config.h"

#define LISTEN_MAX SERVE_ADDRS_MAX
#define KEYSETS 4 /* the ring the NTP threads read from */

enum conn_state { C_FREE = 0, C_HANDSHAKE, C_READ, C_WRITE };

struct conn {
  enum conn_state state;
  int fd;
  SSL *ssl;
  struct rl_addr addr;
  int64_t deadline_ns;
  int port;                 /* the NTP port to name (0: 123, none) */
  uint8_t in[NTS_KE_MAX_MESSAGE + 1];
  size_t in_len;
  uint8_t out[NTS_KE_MAX_MESSAGE];
  size_t out_len, sent;
  bool session;             /* the response carries cookies */
  short wants;              /* the poll events the next step waits for */
};

struct listener {
  int fd;
  int ntp_port;
  char text[64];
};

static struct {
  bool running;
  pthread_t thread;
  atomic_bool stopping;
  int wake;                 /* eventfd: nts_server_stop wakes the poll */
  SSL_CTX *ctx;
  struct listener l[LISTEN_MAX];
  int n_l;
  struct conn c[NTS_KE_CONNS];
  struct acl acl;
  struct ratelimit rl;
  struct nts_siv_ctx *siv;
  char keys_path[NTS_PATH_MAX + 16];
  int rotate;
  struct nts_keyset ring[KEYSETS];
  int ring_at;
  struct log_ratelimit log_rl;
} S;

static _Atomic(const struct nts_keyset *) keys_now;

static int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

const struct nts_keyset *nts_server_keys(void) {
  return atomic_load_explicit(&keys_now, memory_order_acquire);
}

/* ---- the key file ---- */

static void hex(char *out, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static int unhex(uint8_t *out, const char *s, size_t n) {
  if (strlen(s) != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}

int nts_keys_load(const char *path, struct nts_keyset *ks, char *err, size_t errlen) {
  memset(ks, 0, sizeof *ks);
  FILE *f = fopen(path, "re");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char line[256];
  int n = 0, rc = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    char id[16], key[80];
    long long created;
    struct nts_cookie_key *k = &ks->k[n];
    uint8_t idb[4];
    if (n == NTS_COOKIE_KEYS || sscanf(line, "%15s %79s %lld", id, key, &created) != 3 ||
        unhex(idb, id, 4) || unhex(k->key, key, NTS_KEY_LEN)) {
      snprintf(err, errlen, "%s: not a key file of vettimed (line \"%.40s\")", path, line);
      errno = EINVAL;
      rc = -1;
      break;
    }
    k->id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    k->created = created;
    n++;
  }
  fclose(f);
  if (rc == 0 && n == 0) {
    snprintf(err, errlen, "%s: no key", path);
    errno = EINVAL;
    rc = -1;
  }
  ks->n = rc ? 0 : n;
  return rc;
}

int nts_keys_save(const char *path, const struct nts_keyset *ks, char *err, size_t errlen) {
  char tmp[NTS_PATH_MAX + 32];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  fprintf(f, "# vettimed's NTS cookie keys, newest first: id, key, created (unix s)\n");
  for (int i = 0; i < ks->n; i++) {
    char id[9], key[2 * NTS_KEY_LEN + 1];
    uint8_t idb[4] = {(uint8_t)(ks->k[i].id >> 24), (uint8_t)(ks->k[i].id >> 16),
                      (uint8_t)(ks->k[i].id >> 8), (uint8_t)ks->k[i].id};
    hex(id, idb, 4);
    hex(key, ks->k[i].key, NTS_KEY_LEN);
    fprintf(f, "%s %s %" PRId64 "\n", id, key, ks->k[i].created);
  }
  int bad = fflush(f) || fsync(fileno(f));
  if (fclose(f) || bad || rename(tmp, path)) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* A new current key in front of ks (the oldest dropped). */
static int new_key(struct nts_keyset *ks) {
  struct nts_cookie_key k;
  uint8_t id[4];
  if (RAND_bytes(id, 4) != 1 || RAND_bytes(k.key, NTS_KEY_LEN) != 1) return -1;
  k.id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
  for (int i = 0; i < ks->n; i++)
    if (ks->k[i].id == k.id) k.id ^= 1; /* never two keys of one id */
  k.created = (int64_t)time(NULL);
  int n = ks->n < NTS_COOKIE_KEYS ? ks->n + 1 : NTS_COOKIE_KEYS;
  memmove(&ks->k[1], &ks->k[0], (size_t)(n - 1) * sizeof ks->k[0]);
  ks->k[0] = k;
  ks->n = n;
  return 0;
}

/* Publishes ks to the NTP threads (the next slot of the ring). */
static void publish(const struct nts_keyset *ks) {
  S.ring_at = (S.ring_at + 1) % KEYSETS;
  S.ring[S.ring_at] = *ks;
  atomic_store_explicit(&keys_now, &S.ring[S.ring_at], memory_order_release);
}

/* Rotates when the current key is `ntsrotate` old. */
static void maybe_rotate(void) {
  const struct nts_keyset *now = nts_server_keys();
  if (!now || (int64_t)time(NULL) - now->k[0].created < S.rotate) return;
  struct nts_keyset ks = *now;
  char err[300];
  if (new_key(&ks)) return;
  publish(&ks);
  if (nts_keys_save(S.keys_path, &ks, err, sizeof err))
    log_ratelimited(&S.log_rl, LOG_LVL_WARN, "nts: cannot keep the cookie keys: %s", err);
  else
    LOG_INFO("nts: new cookie key %08" PRIx32 " (%d kept)", ks.k[0].id, ks.n);
}

static int load_keys(const char *dir, char *err, size_t errlen) {
  snprintf(S.keys_path, sizeof S.keys_path, "%s/%s", dir, NTS_KEYS_FILE);
  struct nts_keyset ks;
  char why[300];
  if (nts_keys_load(S.keys_path, &ks, why, sizeof why) == 0) {
    LOG_INFO("nts: %d cookie keys from %s (current %08" PRIx32 ")", ks.n, S.keys_path,
             ks.k[0].id);
  } else {
    if (errno != ENOENT) LOG_WARN("nts: %s: making new cookie keys", why);
    memset(&ks, 0, sizeof ks);
    if (new_key(&ks)) {
      snprintf(err, errlen, "nts: no random bytes for a cookie key");
      return -1;
    }
    if (nts_keys_save(S.keys_path, &ks, why, sizeof why)) {
      snprintf(err, errlen, "ntsdumpdir: %s", why);
      return -1;
    }
    LOG_INFO("nts: new cookie key %08" PRIx32 " in %s", ks.k[0].id, S.keys_path);
  }
  publish(&ks);
  maybe_rotate();
  return 0;
}

/* ---- TLS ---- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  (void)ssl;
  (void)arg;
  size_t want = strlen(NTS_KE_ALPN);
  for (unsigned i = 0; i < inlen;) {
    unsigned n = in[i];
    if (i + 1 + n > inlen) break;
    if (n == want && memcmp(in + i + 1, NTS_KE_ALPN, want) == 0) {
      *out = in + i + 1;
      *outlen = (unsigned char)n;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + n;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

static const char *ssl_err_text(char *buf, size_t len) {
  unsigned long e = ERR_peek_last_error();
  if (e) ERR_error_string_n(e, buf, len);
  else snprintf(buf, len, "%s", errno ? strerror(errno) : "unknown error");
  return buf;
}

/* An SSL_CTX for cfg's certificate and key, or NULL with "CERT_AT: ..." or
 * "KEY_AT: ..." (where the directives are, "FILE:LINE"). */
static SSL_CTX *make_ctx(const struct server_config *cfg, const char *cert_at,
                         const char *key_at, char *err, size_t errlen) {
  char text[200];
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
    snprintf(err, errlen, "nts: cannot set up TLS 1.3: %s", ssl_err_text(text, sizeof text));
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (access(cfg->nts_cert, R_OK) ||
      SSL_CTX_use_certificate_chain_file(ctx, cfg->nts_cert) != 1) {
    snprintf(err, errlen, "%s: ntsservercert %s: %s", cert_at, cfg->nts_cert, errno && !ERR_peek_error() ? strerror(errno)
                                                       : ssl_err_text(text, sizeof text));
    SSL_CTX_free(ctx);
    return NULL;
  }
  errno = 0;
  if (access(cfg->nts_key, R_OK) ||
      SSL_CTX_use_PrivateKey_file(ctx, cfg->nts_key, SSL_FILETYPE_PEM) != 1) {
    snprintf(err, errlen, "%s: ntsserverkey %s: %s", key_at, cfg->nts_key,
             errno && !ERR_peek_error() ? strerror(errno)
             : ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH
                 ? "the key is not the certificate's (ntsservercert)"
                 : ssl_err_text(text, sizeof text));
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    snprintf(err, errlen, "%s: ntsserverkey %s: the key is not the certificate's (%s)", key_at,
             cfg->nts_key, cfg->nts_cert);
    SSL_CTX_free(ctx);
    return NULL;
  }
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  ERR_clear_error();
  return ctx;
}

int nts_server_check(const struct server_config *cfg, const char *cert_at, const char *key_at,
                     char *err, size_t errlen) {
  if (!cfg->nts_cert[0] && !cfg->nts_key[0]) return 0;
  if (!cfg->nts_cert[0] || !cfg->nts_key[0]) {
    snprintf(err, errlen, "%s: %s without %s (NTS needs both)",
             cfg->nts_cert[0] ? cert_at : key_at,
             cfg->nts_cert[0] ? "ntsservercert" : "ntsserverkey",
             cfg->nts_cert[0] ? "ntsserverkey" : "ntsservercert");
    return -1;
  }
  SSL_CTX *ctx = make_ctx(cfg, cert_at, key_at, err, errlen);
  if (!ctx) return -1;
  SSL_CTX_free(ctx);
  return 0;
}

/* ---- connections ---- */

static void conn_close(struct conn *c, enum serve_counter outcome) {
  uint64_t d[SC_COUNT] = {0};
  d[outcome] = 1;
  report_serve_add(d);
  if (c->ssl) SSL_free(c->ssl);
  if (c->fd >= 0) close(c->fd);
  memset(c, 0, sizeof *c);
  c->fd = -1;
  ERR_clear_error();
}

static int export_keys(SSL *ssl, uint8_t c2s[NTS_KEY_LEN], uint8_t s2c[NTS_KEY_LEN]) {
  uint8_t ctx[5];
  const char *label = NTS_KE_EXPORTER_LABEL;
  nts_ke_exporter_context(ctx, NTS_AEAD_AES_SIV_CMAC_256, false);
  if (SSL_export_keying_material(ssl, c2s, NTS_KEY_LEN, label, strlen(label), ctx, 5, 1) != 1)
    return -1;
  nts_ke_exporter_context(ctx, NTS_AEAD_AES_SIV_CMAC_256, true);
  if (SSL_export_keying_material(ssl, s2c, NTS_KEY_LEN, label, strlen(label), ctx, 5, 1) != 1)
    return -1;
  return 0;
}

/* The response to what was read (final: the stream ended). False when
 * more must be read. */
static bool respond(struct conn *c, bool final) {
  struct nts_ke_request rq;
  enum nts_ke_status s = nts_ke_parse_request(c->in, c->in_len, final, &rq);
  if (s == NTS_KE_INCOMPLETE) return false;
  struct nts_cookie cookies[NTS_MAX_COOKIES];
  int n = 0;
  const struct nts_keyset *ks = nts_server_keys();
  if (s == NTS_KE_OK && rq.ntpv4 && rq.siv && ks) {
    uint8_t c2s[NTS_KEY_LEN], s2c[NTS_KEY_LEN], nonce[NTS_NONCE_LEN];
    if (export_keys(c->ssl, c2s, s2c) == 0) {
      for (n = 0; n < NTS_MAX_COOKIES; n++)
        if (RAND_bytes(nonce, sizeof nonce) != 1 ||
            nts_cookie_seal(S.siv, &ks->k[0], nonce, c2s, s2c, &cookies[n]))
          break;
    }
    OPENSSL_cleanse(c2s, sizeof c2s);
    OPENSSL_cleanse(s2c, sizeof s2c);
  }
  if (s == NTS_KE_OK && rq.ntpv4 && rq.siv && n < NTS_MAX_COOKIES) {
    /* internal error: no keys to give */
    uint8_t v[2] = {0, NTS_KE_ERR_INTERNAL};
    c->out_len = 0;
    nts_ke_put_record(c->out, sizeof c->out, &c->out_len, true, NTS_KE_ERROR, v, 2);
    nts_ke_put_record(c->out, sizeof c->out, &c->out_len, true, NTS_KE_END, NULL, 0);
  } else {
    c->out_len = nts_ke_build_response(c->out, sizeof c->out, s, &rq, cookies, n, c->port);
    c->session = s == NTS_KE_OK && n > 0;
  }
  c->state = C_WRITE;
  return true;
}

/* One step of c as far as it goes without waiting. Returns the poll
 * events it waits for, or 0 when it is closed. */
static short step(struct conn *c) {
  char text[160];
  for (;;) {
    int r, e;
    switch (c->state) {
    case C_HANDSHAKE:
      r = SSL_accept(c->ssl);
      if (r == 1) {
        const unsigned char *proto = NULL;
        unsigned len = 0;
        SSL_get0_alpn_selected(c->ssl, &proto, &len);
        if (len == 0) { /* no ALPN offered at all */
          log_ratelimited(&S.log_rl, LOG_LVL_DEBUG, "nts-ke: a client without ALPN %s",
                          NTS_KE_ALPN);
          conn_close(c, SC_NTS_KE_FAILED);
          return 0;
        }
        c->state = C_READ;
        continue;
      }
      break;
    case C_READ:
      if (c->in_len >= sizeof c->in) {
        respond(c, true);
        continue;
      }
      r = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof c->in - c->in_len));
      if (r > 0) {
        c->in_len += (size_t)r;
        respond(c, false);
        continue;
      }
      e = SSL_get_error(c->ssl, r);
      if (e == SSL_ERROR_ZERO_RETURN) {
        respond(c, true);
        continue;
      }
      break;
    case C_WRITE:
      if (c->sent == c->out_len) {
        SSL_shutdown(c->ssl); /* close_notify, best effort */
        conn_close(c, c->session ? SC_NTS_KE : SC_NTS_KE_FAILED);
        return 0;
      }
      r = SSL_write(c->ssl, c->out + c->sent, (int)(c->out_len - c->sent));
      if (r > 0) {
        c->sent += (size_t)r;
        continue;
      }
      break;
    default:
      return 0;
    }
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) return POLLIN;
    if (e == SSL_ERROR_WANT_WRITE) return POLLOUT;
    log_ratelimited(&S.log_rl, LOG_LVL_DEBUG, "nts-ke: connection failed: %s",
                    ssl_err_text(text, sizeof text));
    conn_close(c, SC_NTS_KE_FAILED);
    return 0;
  }
}

static int per_addr(const struct rl_addr *a) {
  int n = 0;
  for (int i = 0; i < NTS_KE_CONNS; i++)
    if (S.c[i].state != C_FREE && !memcmp(&S.c[i].addr, a, sizeof *a)) n++;
  return n;
}

static void on_accept(struct listener *l) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  struct rl_addr a;
  memset(&a, 0, sizeof a);
  a.family = (uint8_t)ss.ss_family;
  if (ss.ss_family == AF_INET6) memcpy(a.addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
  else memcpy(a.addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
  struct conn *c = NULL;
  for (int i = 0; i < NTS_KE_CONNS && !c; i++)
    if (S.c[i].state == C_FREE) c = &S.c[i];
  bool refuse = !c || (S.acl.n && !acl_allows(&S.acl, a.family, a.addr)) ||
                per_addr(&a) >= NTS_KE_PER_ADDR || ratelimit_check(&S.rl, &a, mono_ns()) != RL_PASS;
  if (refuse || !(c->ssl = SSL_new(S.ctx)) || SSL_set_fd(c->ssl, fd) != 1) {
    if (c && c->ssl) SSL_free(c->ssl);
    if (c) c->ssl = NULL;
    close(fd);
    uint64_t d[SC_COUNT] = {0};
    d[SC_NTS_KE_REFUSED] = 1;
    report_serve_add(d);
    return;
  }
  c->fd = fd;
  c->addr = a;
  c->port = l->ntp_port == 123 ? 0 : l->ntp_port;
  c->deadline_ns = mono_ns() + (int64_t)(NTS_KE_TIMEOUT * 1e9);
  c->state = C_HANDSHAKE;
  c->wants = POLLIN; /* SSL_accept waits for the client's hello first */
  SSL_set_accept_state(c->ssl);
}

static void *ke_main(void *arg) {
  (void)arg;
  char why[128];
  if (geteuid() != 0 && caps_drop_all(why, sizeof why)) LOG_WARN("nts-ke: %s", why);
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  struct pollfd pf[LISTEN_MAX + NTS_KE_CONNS + 1];
  while (!atomic_load_explicit(&S.stopping, memory_order_relaxed)) {
    int n = 0, idx[NTS_KE_CONNS];
    for (int i = 0; i < S.n_l; i++) pf[n++] = (struct pollfd){S.l[i].fd, POLLIN, 0};
    pf[n++] = (struct pollfd){S.wake, POLLIN, 0}; /* never read: it only ends the wait */
    for (int i = 0; i < NTS_KE_CONNS; i++) {
      idx[i] = -1;
      if (S.c[i].state == C_FREE) continue;
      idx[i] = n;
      pf[n++] = (struct pollfd){S.c[i].fd, S.c[i].wants, 0};
    }
    int r = poll(pf, (nfds_t)n, 250);
    if (r < 0 && errno != EINTR) usleep(10000);
    int64_t now = mono_ns();
    for (int i = 0; i < NTS_KE_CONNS; i++) {
      struct conn *c = &S.c[i];
      if (c->state == C_FREE || idx[i] < 0) continue;
      if (now > c->deadline_ns) { /* also one that trickles bytes */
        log_ratelimited(&S.log_rl, LOG_LVL_DEBUG, "nts-ke: a connection timed out");
        conn_close(c, SC_NTS_KE_FAILED);
      } else if (r > 0 && pf[idx[i]].revents) {
        short w = step(c);
        if (w) c->wants = w;
      }
    }
    for (int i = 0; r > 0 && i < S.n_l; i++)
      if (pf[i].revents & POLLIN) on_accept(&S.l[i]);
    maybe_rotate();
  }
  return NULL;
}

/* ---- start and stop ---- */

static int listen_on(const struct serve_addr *s, int port, char *err, size_t errlen) {
  for (int i = 0; i < S.n_l; i++)
    if (!strcmp(S.l[i].text, s->text)) return 0; /* one listener per address */
  struct listener *l = &S.l[S.n_l];
  int fd = socket(s->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } sa;
  memset(&sa, 0, sizeof sa);
  socklen_t salen;
  if (s->family == AF_INET6) {
    if (fd >= 0) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    sa.v6.sin6_family = AF_INET6;
    sa.v6.sin6_port = htons((uint16_t)port);
    memcpy(&sa.v6.sin6_addr, s->addr, 16);
    salen = sizeof sa.v6;
  } else {
    sa.v4.sin_family = AF_INET;
    sa.v4.sin_port = htons((uint16_t)port);
    memcpy(&sa.v4.sin_addr, s->addr, 4);
    salen = sizeof sa.v4;
  }
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) || listen(fd, 64)) {
    snprintf(err, errlen, "ntsport %d on %s (serve line %d): %s", port, s->text, s->line,
             strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  l->fd = fd;
  l->ntp_port = s->port;
  snprintf(l->text, sizeof l->text, "%s", s->text);
  S.n_l++;
  return 0;
}

int nts_server_start(const struct server_config *cfg, const char *default_dir, char *err,
                     size_t errlen) {
  if (errlen) err[0] = '\0';
  if (!server_config_nts(cfg)) return 0;
  memset(&S, 0, sizeof S);
  for (int i = 0; i < NTS_KE_CONNS; i++) S.c[i].fd = -1;
  S.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (S.wake < 0) {
    snprintf(err, errlen, "nts: eventfd: %s", strerror(errno));
    return -1;
  }
  S.rotate = cfg->nts_rotate > 0 ? cfg->nts_rotate : 3600;
  S.acl = cfg->acl;
  S.ctx = make_ctx(cfg, "ntsservercert", "ntsserverkey", err, errlen); /* checked before */
  S.siv = nts_siv_ctx_new();
  if (!S.ctx || !S.siv || ratelimit_init(&S.rl, &cfg->ratelimit)) {
    if (!err[0]) snprintf(err, errlen, "nts: out of memory or no AES-SIV in libcrypto");
    nts_server_stop();
    return -1;
  }
  if (load_keys(cfg->nts_dumpdir[0] ? cfg->nts_dumpdir : default_dir, err, errlen)) {
    nts_server_stop();
    return -1;
  }
  for (int i = 0; i < cfg->n_serve; i++)
    if (listen_on(&cfg->serve[i], cfg->nts_port, err, errlen)) {
      nts_server_stop();
      return -1;
    }
  if (pthread_create(&S.thread, NULL, ke_main, NULL)) {
    snprintf(err, errlen, "nts: cannot start a thread");
    nts_server_stop();
    return -1;
  }
  pthread_setname_np(S.thread, "vt-ntske");
  S.running = true;
  for (int i = 0; i < S.n_l; i++)
    LOG_INFO("serving NTS-KE on %s port %d (NTP port %d)", S.l[i].text, cfg->nts_port,
             S.l[i].ntp_port);
  return 0;
}

void nts_server_stop(void) {
  atomic_store(&S.stopping, true);
  if (S.running) {
    uint64_t one = 1;
    if (write(S.wake, &one, sizeof one) < 0) { /* the poll ends within 250 ms anyway */ }
    pthread_join(S.thread, NULL);
  }
  if (S.wake > 0) close(S.wake);
  S.wake = -1;
  S.running = false;
  atomic_store(&keys_now, NULL);
  for (int i = 0; i < NTS_KE_CONNS; i++)
    if (S.c[i].state != C_FREE) {
      if (S.c[i].ssl) SSL_free(S.c[i].ssl);
      close(S.c[i].fd);
    }
  for (int i = 0; i < S.n_l; i++) close(S.l[i].fd);
  S.n_l = 0;
  SSL_CTX_free(S.ctx);
  S.ctx = NULL;
  nts_siv_ctx_free(S.siv);
  S.siv = NULL;
  ratelimit_free(&S.rl);
  OPENSSL_cleanse(S.ring, sizeof S.ring);
}
