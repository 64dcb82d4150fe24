/* The NTP server's sockets and threads: see ntp_server.h. The protocol is
 * server/ntp_respond.c's (RFC 5905 §9.2); this file only moves datagrams,
 * reads the clocks and counts. */
#include "server/ntp_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "lib/caps.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "monitor/keys.h"
#include "monitor/report.h"
#include "server/ntp_respond.h"
#include "server/nts_ke_server.h"
#include "server/ratelimit.h"
#include "server/server_config.h"

#define BATCH 64
/* Responses per sendmmsg call, each chunk with a T3 of its own (see
 * serve_batch). Measured here (docs/design.md, "NTP server"): 1 puts T3
 * within 1.3 us of the kernel's send (p99 2.5 us) at the same CPU time
 * per request as 8 or 64, which are 15-20 us off on average (p99 over
 * 100 us) even with the extrapolation. A compile-time knob for the
 * benchmark: make CC="cc -DSEND_CHUNK=64". */
#ifndef SEND_CHUNK
#define SEND_CHUNK 1
#endif
#define RX_MAX 1024          /* longer requests are truncated and dropped */
#define RCVBUF (4 << 20)     /* bytes: absorbs a burst while a batch is served */

union ctl {
  char buf[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
  struct cmsghdr align;
};

struct worker {
  int fd;
  struct serve_addr where;
  bool wildcard;              /* bound to 0.0.0.0 or ::: answer from the address asked */
  pthread_t thread;
  bool started;
  struct ratelimit rl;
  struct ntp_mac_ctx *mac;    /* this thread's MAC contexts */
  struct nts_siv_ctx *siv;    /* this thread's AES-SIV contexts (NTS) */
  struct log_ratelimit log_rl;
  double send_ns;             /* measured cost of one message in sendmmsg */
  struct mmsghdr rx[BATCH];
  struct iovec rx_iov[BATCH];
  struct sockaddr_storage rx_addr[BATCH];
  union ctl rx_ctl[BATCH];
  uint8_t rx_buf[BATCH][RX_MAX];
  struct mmsghdr tx[BATCH];
  struct iovec tx_iov[BATCH];
  union ctl tx_ctl[BATCH];
  uint8_t tx_buf[BATCH][NTP_RESPONSE_MAX];
  struct respond_info info[BATCH];
  enum respond_result res[BATCH];
  bool refusing[BATCH];       /* the response was built as refusing */
};

static struct worker *workers;
static int n_workers;
static struct acl acl;         /* a copy of the configuration's */
static atomic_bool stopping;
static int precision = -20;

/* The key file as the threads read it: swapped whole on a reload; the old
 * copies are kept until the server stops (a thread may be in a batch). */
#define RETIRED_MAX 64
static _Atomic(struct keyring *) keys_now;
static struct keyring *retired[RETIRED_MAX];
static int n_retired;

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static int64_t now_ns(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return ns_of(t);
}

static ntp_ts ntp_of_ns(int64_t ns) {
  struct timespec t = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  if (t.tv_nsec < 0) {
    t.tv_nsec += 1000000000;
    t.tv_sec--;
  }
  return ntp_ts_from_timespec(t);
}

/* The clock's precision as ntpd measures it: the smallest step between two
 * readings that differ, as a power of two rounded up. */
static int measure_precision(void) {
  int64_t best = INT64_MAX;
  for (int i = 0; i < 1000; i++) {
    int64_t a = now_ns(CLOCK_REALTIME), b;
    do b = now_ns(CLOCK_REALTIME);
    while (b == a);
    if (b - a < best) best = b - a;
  }
  int p = (int)ceil(log2((double)best * 1e-9));
  return p < -30 ? -30 : p > 0 ? 0 : p;
}

int ntp_server_precision(void) { return precision; }

static const struct ntp_key *find_key(const void *ctx, uint32_t id) {
  return keyring_find(ctx, id);
}

static struct keyring *copy_keys(const struct keyring *k) {
  struct keyring *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  if (k && k->n) {
    c->keys = malloc(k->n * sizeof *c->keys);
    if (!c->keys) {
      free(c);
      return NULL;
    }
    memcpy(c->keys, k->keys, k->n * sizeof *c->keys);
    c->n = k->n;
  }
  return c;
}

static void free_keys(struct keyring *k) {
  if (!k) return;
  keyring_free(k);
  free(k);
}

/* ---- one batch ---- */

/* The client's address for the access list and the rate limiter. */
static void client_of(const struct sockaddr_storage *ss, struct rl_addr *a) {
  memset(a, 0, sizeof *a);
  if (ss->ss_family == AF_INET6) {
    a->family = AF_INET6;
    memcpy(a->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
  } else {
    a->family = AF_INET;
    memcpy(a->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
  }
}

/* The kernel's receive time, and for a wildcard socket the source address
 * the reply must leave from (written as a control message into tx). */
static bool read_ctl(const struct worker *w, struct msghdr *rx, struct msghdr *tx, union ctl *tc,
                     struct timespec *t2) {
  bool have_t2 = false;
  tx->msg_control = NULL;
  tx->msg_controllen = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(rx); c; c = CMSG_NXTHDR(rx, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      memcpy(t2, CMSG_DATA(c), sizeof *t2);
      have_t2 = true;
    } else if (w->wildcard && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo in, out;
      memcpy(&in, CMSG_DATA(c), sizeof in);
      memset(&out, 0, sizeof out);
      out.ipi_spec_dst = in.ipi_spec_dst;
      struct cmsghdr *o = &tc->align;
      o->cmsg_level = IPPROTO_IP;
      o->cmsg_type = IP_PKTINFO;
      o->cmsg_len = CMSG_LEN(sizeof out);
      memcpy(CMSG_DATA(o), &out, sizeof out);
      tx->msg_control = o;
      tx->msg_controllen = CMSG_SPACE(sizeof out);
    } else if (w->wildcard && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo in;
      memcpy(&in, CMSG_DATA(c), sizeof in);
      struct cmsghdr *o = &tc->align;
      o->cmsg_level = IPPROTO_IPV6;
      o->cmsg_type = IPV6_PKTINFO;
      o->cmsg_len = CMSG_LEN(sizeof in);
      memcpy(CMSG_DATA(o), &in, sizeof in);
      tx->msg_control = o;
      tx->msg_controllen = CMSG_SPACE(sizeof in);
    }
  }
  return have_t2;
}

static enum serve_counter counter_of(enum respond_result r) {
  switch (r) {
  case RESP_ANSWER: return SC_ANSWERED;
  case RESP_CRYPTO_NAK: return SC_CRYPTO_NAK;
  case RESP_KOD: return SC_KOD;
  case RESP_DROP_SHORT: return SC_DROP_SHORT;
  case RESP_DROP_VERSION: return SC_DROP_VERSION;
  case RESP_DROP_CONTROL: return SC_DROP_CONTROL;
  case RESP_DROP_MODE: return SC_DROP_MODE;
  case RESP_DROP_AUTH: return SC_DROP_AUTH;
  case RESP_DROP_RATE: return SC_DROP_RATE;
  case RESP_NTS_NAK: return SC_NTS_NAK;
  case RESP_DROP_NTS: return SC_DROP_NTS;
  case RESP_DROP_MALFORMED:
  default: return SC_DROP_MALFORMED;
  }
}

/* When the served time was last set: the last vetted round (serving), the
 * moment the vote was lost (holdover). */
static ntp_ts reference_of(const struct clock_snapshot *s) {
  if (s->state == CLOCK_SERVING) return ntp_of_ns(s->base_mono_ns + s->vetted_minus_mono_ns);
  if (s->state == CLOCK_HOLDOVER && s->holdover_since > 0)
    return ntp_of_ns((int64_t)(s->holdover_since * 1e9));
  return 0;
}

static int nts_random(uint8_t *buf, size_t n) {
  return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

/* The counters a response adds beyond its result's. */
static void count_extra(uint64_t d[SC_COUNT], enum respond_result res,
                        const struct respond_info *info, int sign) {
  if (res == RESP_ANSWER && info->key) d[SC_AUTH_OK] += (uint64_t)sign;
  if (res == RESP_ANSWER && info->nts) d[SC_NTS_ANSWERED] += (uint64_t)sign;
  if (res == RESP_NTS_NAK && info->nts_unknown_key) d[SC_NTS_UNKNOWN_KEY] += (uint64_t)sign;
}

static void serve_batch(struct worker *w, int n) {
  uint64_t d[SC_COUNT] = {0};
  struct clock_snapshot snap;
  report_clock(&snap);
  /* CLOCK_REALTIME − CLOCK_MONOTONIC now: turns the kernel's receive
   * timestamps (realtime) into the model's monotonic time. */
  struct timespec r_ts;
  int64_t m1 = now_ns(CLOCK_MONOTONIC);
  clock_gettime(CLOCK_REALTIME, &r_ts);
  int64_t r = ns_of(r_ts), m2 = now_ns(CLOCK_MONOTONIC);
  int64_t real_minus_mono = r - (m1 + (m2 - m1) / 2);
  ntp_ts reference = reference_of(&snap);
  /* The same model without its end: T3 of a response whose header was
   * built as serving stays on the model even if holdover ends between T2
   * and T3 (a header and a transmit time of two different clocks would be
   * a lie of the size of the correction). */
  struct clock_snapshot open_ended = snap;
  open_ended.refuse_at_mono_ns = INT64_MAX;
  const struct keyring *kr = atomic_load_explicit(&keys_now, memory_order_acquire);
  struct respond_params p = {
      .precision = precision,
      .reference = reference,
      .key_lookup = kr && kr->n ? find_key : NULL,
      .key_ctx = kr,
      .mac = w->mac,
      .nts_keys = nts_server_keys(),
      .siv = w->siv,
      .nts_random = nts_random,
      .nts_seal_later = true,
  };
  int k = 0;
  d[SC_RECEIVED] = (uint64_t)n;
  for (int i = 0; i < n; i++) {
    struct msghdr *rx = &w->rx[i].msg_hdr;
    size_t len = w->rx[i].msg_len;
    if (rx->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
      d[SC_DROP_MALFORMED]++; /* longer than any request we answer */
      continue;
    }
    struct rl_addr a;
    client_of(&w->rx_addr[i], &a);
    if (acl.n && !acl_allows(&acl, a.family, a.addr)) {
      d[SC_DROP_ACL]++;
      continue;
    }
    struct msghdr *tx = &w->tx[k].msg_hdr;
    /* T2: the kernel's stamp, unless it is not this process's clock
     * (lib/timeutil.h: libfaketime shifts clock_gettime, not the kernel). */
    struct timespec t2_ts = {0, 0};
    read_ctl(w, rx, tx, &w->tx_ctl[k], &t2_ts);
    int64_t t2 = kernel_stamp_usable(t2_ts, r_ts) ? ns_of(t2_ts) : r;
    switch (ratelimit_check(&w->rl, &a, m2)) {
    case RL_PASS: p.limit = RESPOND_FREE; break;
    case RL_KOD: p.limit = RESPOND_LIMIT_KOD; break;
    default: p.limit = RESPOND_LIMIT_DROP; break;
    }
    struct served_time s2;
    clock_serve_at(&snap, t2 - real_minus_mono, t2, &s2);
    p.served = &s2;
    p.receive = p.transmit = ntp_of_ns(s2.unix_ns);
    enum respond_result res = ntp_respond(w->rx_buf[i], len, &p, w->tx_buf[k], NTP_RESPONSE_MAX,
                                          &w->info[k]);
    d[counter_of(res)]++;
    w->res[k] = res;
    w->refusing[k] = s2.refusing;
    count_extra(d, res, &w->info[k], 1);
    if (!respond_sends(res)) continue;
    tx->msg_name = &w->rx_addr[i];
    tx->msg_namelen = rx->msg_namelen;
    tx->msg_iov = &w->tx_iov[k];
    tx->msg_iovlen = 1;
    w->tx_iov[k].iov_base = w->tx_buf[k];
    w->tx_iov[k].iov_len = w->info[k].len;
    k++;
  }
  /* The sends, in chunks of SEND_CHUNK: before each chunk T3 is read once
   * and each response of the chunk stamped with it plus the measured cost
   * of the messages the kernel sends before it in the same call (loopback
   * delivers each message inside sendmmsg, a few microseconds apart: a T3
   * shared by 64 messages would be up to ~200 us early for the last). */
  for (int sent = 0; sent < k;) {
    int chunk = k - sent < SEND_CHUNK ? k - sent : SEND_CHUNK;
    int64_t t3 = now_ns(CLOCK_MONOTONIC);
    for (int j = sent; j < sent + chunk; j++) {
      if (!w->info[j].stamped) continue;
      int64_t m = t3 + (int64_t)(w->send_ns * (j - sent));
      struct served_time s3;
      clock_serve_at(w->refusing[j] ? &snap : &open_ended, m, m + real_minus_mono, &s3);
      ntp_respond_restamp(w->tx_buf[j], &w->info[j], ntp_of_ns(s3.unix_ns));
    }
    int s = sendmmsg(w->fd, w->tx + sent, (unsigned)chunk, 0);
    if (s < 0 && errno == EINTR) continue;
    if (s <= 0) { /* this one refused (e.g. EPERM by a firewall): skip it */
      d[SC_SEND_ERRORS]++;
      d[counter_of(w->res[sent])]--; /* counted as sent above */
      count_extra(d, w->res[sent], &w->info[sent], -1);
      sent++;
      continue;
    }
    if (s >= 2) {
      double per = (double)(now_ns(CLOCK_MONOTONIC) - t3) / s;
      w->send_ns = w->send_ns > 0 ? 0.9 * w->send_ns + 0.1 * per : per;
    }
    sent += s;
  }
  report_serve_add(d);
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  char why[128];
  /* Its socket is bound: a worker needs no privilege (lib/caps.h). Not
   * under root, whose setuid() to `user` (vettimed's main, later) clears
   * every thread's capabilities, and must be able to run in this thread
   * too (glibc aborts a set*id() that one thread refuses). */
  if (geteuid() != 0 && caps_drop_all(why, sizeof why))
    LOG_WARN("serve %s port %d: %s", w->where.text, w->where.port, why);
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the loop's (signalfd) */
  while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
    for (int i = 0; i < BATCH; i++) {
      struct msghdr *h = &w->rx[i].msg_hdr;
      h->msg_name = &w->rx_addr[i];
      h->msg_namelen = sizeof w->rx_addr[i];
      h->msg_iov = &w->rx_iov[i];
      h->msg_iovlen = 1;
      h->msg_control = w->rx_ctl[i].buf;
      h->msg_controllen = sizeof w->rx_ctl[i].buf;
      h->msg_flags = 0;
    }
    int n = recvmmsg(w->fd, w->rx, BATCH, MSG_WAITFORONE, NULL);
    if (atomic_load_explicit(&stopping, memory_order_relaxed)) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ENOMEM || errno == ENOBUFS) continue;
      log_ratelimited(&w->log_rl, LOG_LVL_WARN, "serve %s port %d: recvmmsg: %s",
                      w->where.text, w->where.port, strerror(errno));
      usleep(10000);
      continue;
    }
    if (n > 0) serve_batch(w, n);
  }
  return NULL;
}

/* ---- start and stop ---- */

static int open_socket(struct worker *w, char *err, size_t errlen) {
  const struct serve_addr *s = &w->where;
  int fd = socket(s->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errlen, "serve %s: socket: %s", s->text, strerror(errno));
    return -1;
  }
  int on = 1, size = RCVBUF;
  static const uint8_t zero[16];
  w->wildcard = memcmp(s->addr, zero, s->family == AF_INET ? 4 : 16) == 0;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  /* As ntpd and chrony do: an NTP daemon beside us (ntpd binds the
   * wildcard address of port 123 as well as ours) may bind the port too;
   * the kernel still gives our address's datagrams to the most specific
   * socket, ours. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  /* `threads N`: N sockets on one address, the kernel spreading the
   * clients over them by a hash of their address and port. */
  if (s->threads > 1 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on)) {
    snprintf(err, errlen, "serve %s: SO_REUSEPORT: %s", s->text, strerror(errno));
    close(fd);
    return -1;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size))
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } sa;
  memset(&sa, 0, sizeof sa);
  socklen_t salen;
  if (s->family == AF_INET6) {
    /* :: serves IPv6 only: 0.0.0.0 is a `serve` line of its own. */
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (w->wildcard) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    sa.v6.sin6_family = AF_INET6;
    sa.v6.sin6_port = htons((uint16_t)s->port);
    memcpy(&sa.v6.sin6_addr, s->addr, 16);
    salen = sizeof sa.v6;
  } else {
    if (w->wildcard) setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    sa.v4.sin_family = AF_INET;
    sa.v4.sin_port = htons((uint16_t)s->port);
    memcpy(&sa.v4.sin_addr, s->addr, 4);
    salen = sizeof sa.v4;
  }
  if (bind(fd, (struct sockaddr *)&sa, salen)) {
    snprintf(err, errlen, "serve %s port %d (line %d): bind: %s", s->text, s->port, s->line,
             strerror(errno));
    close(fd);
    return -1;
  }
  w->fd = fd;
  return 0;
}

int ntp_server_start(const struct server_config *cfg, const struct keyring *keys, char *err,
                     size_t errlen) {
  if (errlen) err[0] = '\0';
  if (!cfg->n_serve) return 0;
  precision = measure_precision();
  acl = cfg->acl;
  atomic_store(&stopping, false);
  struct keyring *kc = copy_keys(keys);
  if (!kc) {
    snprintf(err, errlen, "serve: out of memory");
    return -1;
  }
  atomic_store(&keys_now, kc);
  int total = 0;
  for (int i = 0; i < cfg->n_serve; i++) total += cfg->serve[i].threads > 1 ? cfg->serve[i].threads : 1;
  workers = calloc((size_t)total, sizeof *workers);
  if (!workers) {
    snprintf(err, errlen, "serve: out of memory");
    ntp_server_stop();
    return -1;
  }
  n_workers = total;
  for (int i = 0; i < n_workers; i++) workers[i].fd = -1;
  for (int i = 0, k = 0; i < cfg->n_serve; i++)
    for (int t = 0; t < (cfg->serve[i].threads > 1 ? cfg->serve[i].threads : 1); t++)
      workers[k++].where = cfg->serve[i];
  for (int i = 0; i < n_workers; i++) {
    struct worker *w = &workers[i];
    for (int j = 0; j < BATCH; j++) {
      w->rx_iov[j].iov_base = w->rx_buf[j];
      w->rx_iov[j].iov_len = RX_MAX;
    }
    w->mac = ntp_mac_ctx_new(); /* NULL: MACs allocate per message, still work */
    w->siv = nts_siv_ctx_new(); /* NULL: the same for NTS */
    if (open_socket(w, err, errlen) || ratelimit_init(&w->rl, &cfg->ratelimit)) {
      if (!err[0]) snprintf(err, errlen, "serve: out of memory");
      ntp_server_stop();
      return -1;
    }
  }
  for (int i = 0; i < n_workers; i++) {
    struct worker *w = &workers[i];
    if (pthread_create(&w->thread, NULL, worker_main, w)) {
      snprintf(err, errlen, "serve: cannot start a thread");
      ntp_server_stop();
      return -1;
    }
    w->started = true;
    char name[16];
    snprintf(name, sizeof name, "vt-ntp%d", i % 100);
    pthread_setname_np(w->thread, name);
    if (i == 0 || memcmp(&workers[i - 1].where, &w->where, sizeof w->where))
      LOG_INFO("serving NTP on %s port %d%s%s", w->where.text, w->where.port,
               w->where.threads > 1 ? " (SO_REUSEPORT threads)" : "",
               cfg->ratelimit.enabled ? "" : " (no rate limit)");
  }
  report_publish_serve_state(true, n_workers);
  return 0;
}

int ntp_server_set_keys(const struct keyring *keys) {
  if (!workers) return 0;
  if (n_retired == RETIRED_MAX) return -1;
  struct keyring *kc = copy_keys(keys);
  if (!kc) return -1;
  retired[n_retired++] = atomic_exchange(&keys_now, kc);
  return 0;
}

void ntp_server_stop(void) {
  atomic_store(&stopping, true);
  for (int i = 0; i < n_workers; i++)
    if (workers[i].fd >= 0) shutdown(workers[i].fd, SHUT_RDWR); /* wakes recvmmsg */
  for (int i = 0; i < n_workers; i++) {
    struct worker *w = &workers[i];
    if (w->started) pthread_join(w->thread, NULL);
    if (w->fd >= 0) close(w->fd);
    ratelimit_free(&w->rl);
    ntp_mac_ctx_free(w->mac);
    nts_siv_ctx_free(w->siv);
  }
  free(workers);
  workers = NULL;
  n_workers = 0;
  free_keys(atomic_exchange(&keys_now, NULL));
  for (int i = 0; i < n_retired; i++) free_keys(retired[i]);
  n_retired = 0;
  report_publish_serve_state(false, 0);
}
