/* The NTP client probe: polls one server in client mode (RFC 5905), with
 * the client hardening of RFC 9109 (a fresh, randomly bound, connected UDP
 * socket per request; 64 random bits in the transmit timestamp) and
 * optional symmetric-key MACs (RFC 8573). Decoding and every sanity test
 * live in the pure ntp_wire.c; this file does the socket I/O, the clock
 * filter, the poll interval and KoD handling.
 *
 * Timing: T1 is read from CLOCK_REALTIME right before send(), T4 is the
 * kernel receive timestamp (SO_TIMESTAMPNS). These two are the only clock
 * reads outside the loop's once-per-wake-up reading, because an exchange
 * has to be timed where it happens.
 *
 * A request's socket stays open until the next poll, so a second answer
 * to it is seen and counted as a duplicate rather than silently lost.
 *
 * Kiss-o'-Death: RATE doubles this source's interval (never below the
 * server's poll); DENY and RSTR flag the source and poll it at maxpoll.
 * A kiss never stops polling for good: unauthenticated kisses are
 * advisory (RFC 5905 §7.4), and an operator would rather see a source
 * marked "denied" than have it vanish.
 *
 * NTS (RFC 8915, `nts`): the keys and cookies come from an NTS-KE exchange
 * (probes/nts_client.c, non-blocking TLS on the loop) started by a poll
 * that has no cookie left; each request spends one cookie and asks for as
 * many as bring the store back to eight. A response counts only when its
 * NTS fields verify (probes/nts_ef.c): anything else is an auth failure,
 * counted and never a sample. An NTS NAK (kiss NTSN with our unique
 * identifier: the server no longer knows its cookie keys) drops the keys
 * and cookies and starts a new exchange at once. A failed exchange sets the
 * state to "nts-REASON" and is retried after 8 s, doubling to 1024 s. */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/config.h"
#include "monitor/keys.h"
#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "probes/ntp_auth.h"
#include "probes/ntp_wire.h"
#include "probes/nts_client.h"
#include "probes/nts_ef.h"
#include "probes/probe.h"

#define FILTER_LEN 8           /* RFC 5905 clock filter stages */
#define IBURST_COUNT 4         /* extra quick polls at start */
#define POLL_ADJUST_STREAK 4   /* good samples before the interval grows */
#define PHI 15e-6              /* RFC 5905 frequency tolerance, s/s */
#define LOCAL_PRECISION 1e-6
#define NTS_KE_TIMEOUT 10.0    /* s for one NTS-KE exchange */
#define NTS_KE_RETRY_MIN 8.0   /* s after the first failed exchange */
#define NTS_KE_RETRY_MAX 1024.0

struct filter_stage {
  double offset, delay, error; /* error: the sample's root distance */
  double mono;                 /* when it was taken (monotonic) */
};

struct probe {
  struct source_config cfg;
  int index;
  struct probe_host host;
  const struct ntp_key *key;

  struct sockaddr_storage addr;
  socklen_t addrlen;
  int fd;
  struct ntp_exchange x;
  bool outstanding;            /* a request was sent and not yet answered */
  sched_timer_id poll_timer;

  int poll;
  int burst_left;
  int good_streak;
  struct filter_stage filter[FILTER_LEN];
  int filter_count, filter_next;

  struct probe_report rep;

  /* NTS: the keys and cookies of the last exchange, and the NTP server it
   * named. */
  struct nts_state {
    struct nts_tls *tls;        /* the TLS settings, made at start */
    struct nts_ke *ke;          /* an exchange in progress */
    bool have_keys;
    uint8_t c2s[NTS_KEY_LEN], s2c[NTS_KEY_LEN];
    struct nts_cookie cookies[NTS_MAX_COOKIES];
    int n_cookies;
    uint8_t uid[NTS_UID_LEN];   /* of the outstanding request */
    char ntp_host[NTS_MAX_SERVER_LEN + 1];
    int ntp_port;
    int failures;               /* exchanges failed in a row */
    double retry_mono;          /* no new exchange before this */
    double ke_started;          /* monotonic, of the exchange in progress */
    uint64_t exchanges;         /* successful exchanges since start */
    uint64_t naks;              /* NTS NAKs received */
  } nts;
};

/* ---- address and socket ---- */

static int resolve(struct probe *p) {
  struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
  char port[8];
  snprintf(port, sizeof port, "%d", p->cfg.nts ? p->nts.ntp_port : p->cfg.port);
  int rc = getaddrinfo(p->cfg.nts ? p->nts.ntp_host : p->cfg.host, port, &hints, &res);
  if (rc) {
    LOG_RATELIMITED(LOG_LVL_WARN, "server %s: cannot resolve: %s", p->cfg.name, gai_strerror(rc));
    return -1;
  }
  memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
  p->addrlen = res->ai_addrlen;
  if (p->addr.ss_family == AF_INET)
    p->rep.peer_ipv4 = ntohl(((const struct sockaddr_in *)&p->addr)->sin_addr.s_addr);
  else
    p->rep.peer_ipv4 = 0;
  freeaddrinfo(res);
  return 0;
}

static void close_socket(struct probe *p) {
  if (p->fd < 0) return;
  sched_remove_fd(p->fd);
  close(p->fd);
  p->fd = -1;
}

/* A new socket for every request (RFC 9109): bound by the kernel to a
 * random ephemeral port and connected, so only the server can answer. */
static int open_socket(struct probe *p) {
  int fd = socket(p->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (connect(fd, (struct sockaddr *)&p->addr, p->addrlen) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* ---- state ---- */

static void set_state(struct probe *p, const char *state) {
  if (strcmp(p->rep.state, state) != 0) {
    LOG_INFO("server %s: state %s -> %s", p->cfg.name, p->rep.state, state);
    snprintf(p->rep.state, sizeof p->rep.state, "%s", state);
  }
}

static double poll_seconds(const struct probe *p) {
  if (p->burst_left > 0) return p->poll < 1 ? 1.0 : 2.0;
  return ldexp(1.0, p->poll);
}

static void change_poll(struct probe *p, int poll) {
  if (poll < p->cfg.minpoll) poll = p->cfg.minpoll;
  if (poll > p->cfg.maxpoll) poll = p->cfg.maxpoll;
  p->poll = poll;
  p->rep.poll = poll;
}

/* ---- clock filter (RFC 5905 §10, simplified) ----
 * Of the last eight samples the one with the lowest delay is the best
 * estimate; jitter is the RMS of the others' offsets from it. */
static void filter_add(struct probe *p, const struct ntp_result *r) {
  p->filter[p->filter_next] = (struct filter_stage){
      r->offset, r->delay, r->root_distance, sched_mono_now()};
  p->filter_next = (p->filter_next + 1) % FILTER_LEN;
  if (p->filter_count < FILTER_LEN) p->filter_count++;

  int best = 0;
  for (int i = 1; i < p->filter_count; i++)
    if (p->filter[i].delay < p->filter[best].delay) best = i;
  double sum = 0;
  for (int i = 0; i < p->filter_count; i++) {
    double d = p->filter[i].offset - p->filter[best].offset;
    sum += d * d;
  }
  double jitter = p->filter_count > 1 ? sqrt(sum / (p->filter_count - 1)) : 0;
  double age = sched_mono_now() - p->filter[best].mono;
  p->rep.jitter = jitter;
  p->rep.filtered_offset = p->filter[best].offset;
  p->rep.filtered_error = p->filter[best].error + PHI * age + jitter;
}

/* The interval grows after a streak of samples that agree with the filter
 * and shrinks when one does not, within [minpoll, maxpoll]. */
static void adapt_poll(struct probe *p, double offset) {
  double limit = 4 * p->rep.jitter + 1e-3;
  if (fabs(offset - p->rep.filtered_offset) <= limit) {
    if (++p->good_streak >= POLL_ADJUST_STREAK) {
      change_poll(p, p->poll + 1);
      p->good_streak = 0;
    }
  } else {
    change_poll(p, p->poll - 1);
    p->good_streak = 0;
  }
}

/* ---- outcomes of one datagram ---- */

static void accept_sample(struct probe *p, const struct ntp_result *r, struct timespec t4) {
  struct vt_sample s = {
      .source = p->index, .rx_time = t4, .offset = r->offset, .delay = r->delay,
      .dispersion = r->dispersion, .root_delay = r->h.root_delay,
      .root_dispersion = r->h.root_dispersion, .error_bound = r->root_distance,
      .stratum = r->h.stratum, .leap = r->h.leap, .refid = r->h.refid, .poll = p->poll};
  p->rep.counters[PC_VALID]++;
  p->rep.reach |= 1;
  p->rep.stratum = r->h.stratum;
  p->rep.refid = r->h.refid;
  p->rep.inferred_class = ref_class_from_refid(r->h.stratum, r->h.refid);
  p->rep.have_sample = true;
  p->rep.last = s;
  p->rep.last_rx = t4;
  filter_add(p, r);
  adapt_poll(p, r->offset);
  set_state(p, "ok");
  p->host.on_sample(p->host.ctx, &s);
}

static void handle_kod(struct probe *p, const struct ntp_result *r) {
  p->rep.counters[PC_KOD]++;
  LOG_WARN("server %s: kiss-o'-death %s%s", p->cfg.name, r->kiss,
           r->authenticated ? " (authenticated)" : "");
  if (strcmp(r->kiss, "RATE") == 0) {
    int server_poll = r->h.poll > p->poll ? r->h.poll : p->poll + 1;
    change_poll(p, server_poll);
    p->burst_left = 0;
    set_state(p, "rate");
  } else if (strcmp(r->kiss, "DENY") == 0 || strcmp(r->kiss, "RSTR") == 0) {
    change_poll(p, p->cfg.maxpoll);
    p->burst_left = 0;
    set_state(p, "denied");
  } else {
    char state[24];
    snprintf(state, sizeof state, "kod-%s", r->kiss);
    set_state(p, state);
  }
}

static enum probe_counter counter_for(enum ntp_check c) {
  switch (c) {
  case NTP_SHORT: case NTP_BAD_LENGTH: return PC_BAD_LENGTH;
  case NTP_BOGUS: return PC_BOGUS_ORIGIN;
  case NTP_DUPLICATE: return PC_DUPLICATE;
  case NTP_BAD_VERSION: case NTP_BAD_MODE: return PC_BAD_FORMAT;
  case NTP_CRYPTO_NAK: return PC_CRYPTO_NAK;
  case NTP_AUTH_FAIL: return PC_AUTH_FAIL;
  case NTP_ZERO_TS: return PC_ZERO_TS;
  case NTP_UNSYNC: return PC_UNSYNC;
  case NTP_BAD_STRATUM: return PC_BAD_STRATUM;
  case NTP_BAD_DISTANCE: return PC_BAD_DISTANCE;
  case NTP_BAD_DELAY: return PC_BAD_DELAY;
  default: return PC_BAD_FORMAT;
  }
}

static void reject(struct probe *p, enum ntp_check c, size_t len) {
  p->rep.counters[counter_for(c)]++;
  if (c == NTP_AUTH_FAIL || c == NTP_CRYPTO_NAK) {
    set_state(p, "auth-fail");
    if (!p->cfg.nts)
      LOG_RATELIMITED(LOG_LVL_WARN, "server %s: response failed authentication (%s, key %u)",
                      p->cfg.name, ntp_check_name(c), (unsigned)p->cfg.key_id);
  } else {
    if (c == NTP_UNSYNC || c == NTP_BAD_STRATUM) set_state(p, "unsync");
    LOG_RATELIMITED(LOG_LVL_INFO, "server %s: dropped a %zu-byte response: %s",
                    p->cfg.name, len, ntp_check_name(c));
  }
}

/* ---- NTS ---- */

static void nts_update_detail(struct probe *p) {
  struct nts_state *n = &p->nts;
  if (n->have_keys)
    snprintf(p->rep.detail, sizeof p->rep.detail,
             "NTS: %d cookie%s, NTP %.80s port %d, %llu key exchange%s", n->n_cookies,
             n->n_cookies == 1 ? "" : "s", n->ntp_host, n->ntp_port,
             (unsigned long long)n->exchanges, n->exchanges == 1 ? "" : "s");
  else if (n->ke)
    snprintf(p->rep.detail, sizeof p->rep.detail, "NTS: key exchange with %.80s port %d",
             p->cfg.host, p->cfg.nts_port);
}

static void nts_forget_keys(struct probe *p) {
  struct nts_state *n = &p->nts;
  n->have_keys = false;
  n->n_cookies = 0;
  memset(n->c2s, 0, sizeof n->c2s);
  memset(n->s2c, 0, sizeof n->s2c);
}

static void on_poll(void *arg);

static void poll_soon(struct probe *p) {
  sched_cancel_timer(p->poll_timer);
  p->poll_timer = sched_add_timer(0, on_poll, p);
}

static void on_nts_ke_done(void *arg, const struct nts_ke_result *r) {
  struct probe *p = arg;
  struct nts_state *n = &p->nts;
  n->ke = NULL;
  if (r->fail != NKF_NONE) {
    n->failures++;
    double wait = ldexp(NTS_KE_RETRY_MIN, n->failures > 8 ? 7 : n->failures - 1);
    if (wait > NTS_KE_RETRY_MAX) wait = NTS_KE_RETRY_MAX;
    n->retry_mono = sched_mono_now() + wait;
    char state[24];
    snprintf(state, sizeof state, "nts-%s", nts_ke_fail_name(r->fail));
    set_state(p, state);
    snprintf(p->rep.detail, sizeof p->rep.detail, "NTS-KE %.60s port %d: %s: %.100s", p->cfg.host,
             p->cfg.nts_port, nts_ke_fail_name(r->fail), r->detail);
    /* Not rate limited: the retries are (8 s doubling to 1024 s). */
    LOG_WARN("server %s: NTS-KE with %s port %d failed (%s): %s; retry in %.0f s", p->cfg.name,
             p->cfg.host, p->cfg.nts_port, nts_ke_fail_name(r->fail), r->detail, wait);
    return;
  }
  n->failures = 0;
  n->exchanges++;
  n->have_keys = true;
  memcpy(n->c2s, r->c2s, sizeof n->c2s);
  memcpy(n->s2c, r->s2c, sizeof n->s2c);
  n->n_cookies = r->resp.n_cookies;
  memcpy(n->cookies, r->resp.cookies, sizeof n->cookies);
  /* The NTP server the exchange names (RFC 8915 §4.1.7-8), unless the
   * configuration fixes the port. */
  snprintf(n->ntp_host, sizeof n->ntp_host, "%s", r->resp.server[0] ? r->resp.server : p->cfg.host);
  n->ntp_port = p->cfg.port_set ? p->cfg.port : r->resp.port ? r->resp.port : NTP_PORT;
  p->addrlen = 0; /* resolve the (perhaps new) NTP server again */
  LOG_INFO("server %s: NTS-KE with %s port %d: %d cookies, NTP server %s port %d (%.1f ms)",
           p->cfg.name, p->cfg.host, p->cfg.nts_port, n->n_cookies, n->ntp_host, n->ntp_port,
           (sched_mono_now() - n->ke_started) * 1e3);
  nts_update_detail(p);
  if (strncmp(p->rep.state, "nts-", 4) == 0) set_state(p, "init");
  poll_soon(p);
}

/* Starts an exchange unless one runs or the last failure is too recent. */
static void nts_start_ke(struct probe *p) {
  struct nts_state *n = &p->nts;
  if (n->ke || sched_mono_now() < n->retry_mono) return;
  n->ke_started = sched_mono_now();
  n->ke = nts_ke_start(n->tls, p->cfg.host, p->cfg.nts_port, NTS_KE_TIMEOUT, on_nts_ke_done, p);
  if (n->ke && strncmp(p->rep.state, "nts-", 4) != 0 && !n->have_keys) set_state(p, "nts-ke");
  nts_update_detail(p);
}

/* Checks the NTS fields of a datagram that echoes our nonce. Returns true
 * when the datagram may go on to the NTP checks; otherwise it was counted
 * (auth failure, or an NTS NAK that starts a new key exchange). */
static bool nts_accept(struct probe *p, const uint8_t *buf, size_t len) {
  struct nts_state *n = &p->nts;
  struct nts_cookie fresh[NTS_MAX_COOKIES];
  int got = 0;
  /* Without keys (a NAK came first) the check still finds our unique
   * identifier; nothing can verify under the cleared key. */
  enum nts_check c = nts_check_response(buf, len, n->uid, n->s2c, fresh, NTS_MAX_COOKIES, &got);
  struct ntp_header h;
  ntp_header_decode(buf, &h);
  if (c == NTS_NO_AUTH && h.stratum == 0 && h.refid == 0x4e54534eu /* "NTSN" */) {
    p->rep.counters[PC_KOD]++;
    p->x.answered = true;
    p->outstanding = false;
    n->naks++;
    LOG_WARN("server %s: NTS NAK (the server no longer knows our cookies): new key exchange",
             p->cfg.name);
    nts_forget_keys(p);
    set_state(p, "nts-nak");
    n->retry_mono = 0;
    nts_start_ke(p);
    return false;
  }
  if (c != NTS_OK) {
    reject(p, NTP_AUTH_FAIL, len);
    LOG_RATELIMITED(LOG_LVL_WARN, "server %s: response failed NTS authentication (%s)",
                    p->cfg.name, nts_check_name(c));
    return false;
  }
  for (int i = 0; i < got && n->n_cookies < NTS_MAX_COOKIES; i++)
    n->cookies[n->n_cookies++] = fresh[i];
  nts_update_detail(p);
  return true;
}

static void handle_datagram(struct probe *p, const uint8_t *buf, size_t len, struct timespec t4) {
  struct ntp_result r;
  p->rep.counters[PC_RECEIVED]++;
  /* NTS fields are checked once the datagram echoes our nonce (anything
   * else is bogus, counted as such by the NTP checks) and before any of
   * its contents is believed. */
  if (p->cfg.nts && len >= NTP_HEADER_LEN && !p->x.answered) {
    struct ntp_header h;
    ntp_header_decode(buf, &h);
    if (h.origin != 0 && h.origin == p->x.nonce && !nts_accept(p, buf, len)) return;
  }
  enum ntp_check c = ntp_check_response(&p->x, buf, len, t4, &r);
  if (c == NTP_OK) {
    p->outstanding = false;
    accept_sample(p, &r, t4);
  } else if (c == NTP_KOD) {
    p->outstanding = false;
    handle_kod(p, &r);
  } else {
    reject(p, c, len);
  }
}

/* Reads every queued datagram with its kernel receive timestamp. */
static void on_readable(int fd, short revents, void *arg) {
  struct probe *p = arg;
  (void)revents;
  for (;;) {
    uint8_t buf[1024];
    char ctrl[CMSG_SPACE(sizeof(struct timespec))];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = ctrl, .msg_controllen = sizeof ctrl};
    ssize_t n = recvmsg(fd, &msg, MSG_TRUNC);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED)
        LOG_RATELIMITED(LOG_LVL_WARN, "server %s: receive: %s", p->cfg.name, strerror(errno));
      return;
    }
    struct timespec t4 = {0};
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
        memcpy(&t4, CMSG_DATA(c), sizeof t4);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (!kernel_stamp_usable(t4, now)) t4 = now;
    if ((size_t)n > sizeof buf) { /* longer than any answer to our request */
      p->rep.counters[PC_RECEIVED]++;
      reject(p, NTP_BAD_LENGTH, (size_t)n);
      continue;
    }
    handle_datagram(p, buf, (size_t)n, t4);
  }
}

/* ---- polling ---- */

static void note_unanswered(struct probe *p) {
  if (!p->outstanding) return;
  p->rep.counters[PC_TIMEOUT]++;
  p->outstanding = false;
  if ((p->rep.reach & 0xff) == 0) set_state(p, "unreachable");
}

/* The decoder's key lookup (ntp_key_lookup_fn) over the daemon's key file. */
static const struct ntp_key *lookup_key(const void *keyring, uint32_t keyid) {
  return keyring_find(keyring, keyid);
}

/* The NTS fields after the 48-byte header in buf: spends one cookie. */
static size_t nts_request(struct probe *p, uint8_t *buf, size_t cap) {
  struct nts_state *n = &p->nts;
  uint8_t rnd[NTS_UID_LEN + NTS_NONCE_LEN];
  if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) return 0;
  memcpy(n->uid, rnd, NTS_UID_LEN);
  struct nts_cookie *cookie = &n->cookies[--n->n_cookies];
  size_t len = nts_build_request(buf, cap, n->uid, cookie, nts_placeholders(cookie, n->n_cookies),
                                 n->c2s, rnd + NTS_UID_LEN);
  nts_update_detail(p);
  return len;
}

static int send_request(struct probe *p) {
  uint8_t buf[NTS_MAX_PACKET];
  ntp_ts nonce;
  if (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce) return -1;
  size_t len = ntp_build_request(buf, sizeof buf, nonce, p->poll, p->key);
  if (len && p->cfg.nts) len = nts_request(p, buf, sizeof buf);
  if (!len) return -1;
  int fd = open_socket(p);
  if (fd < 0) return -1;
  p->fd = fd;
  sched_add_fd(fd, POLLIN, on_readable, p);
  p->x = (struct ntp_exchange){.nonce = nonce, .key = p->key,
                               .key_lookup = lookup_key, .key_ctx = p->host.keys,
                               .maxdistance = p->host.maxdistance, .local_precision = LOCAL_PRECISION};
  clock_gettime(CLOCK_REALTIME, &p->x.t1);
  if (send(fd, buf, len, 0) != (ssize_t)len) return -1;
  p->outstanding = true;
  p->rep.counters[PC_SENT]++;
  return 0;
}

static void on_poll(void *arg) {
  struct probe *p = arg;
  note_unanswered(p);
  close_socket(p);
  p->rep.reach = (p->rep.reach << 1) & 0xff;
  if (p->cfg.nts && (!p->nts.have_keys || p->nts.n_cookies == 0)) {
    /* Out of cookies (or never had any): a new key exchange first. */
    nts_forget_keys(p);
    nts_start_ke(p);
  } else if ((p->addrlen || resolve(p) == 0) && send_request(p) < 0) {
    p->rep.counters[PC_SEND_ERROR]++;
    LOG_RATELIMITED(LOG_LVL_WARN, "server %s: cannot send: %s", p->cfg.name, strerror(errno));
  }
  if (p->burst_left > 0) p->burst_left--;
  p->poll_timer = sched_add_timer(poll_seconds(p), on_poll, p);
}

/* ---- the driver interface ---- */

static struct probe *ntp_start(const struct source_config *cfg, int index,
                               const struct probe_host *host, char *err, size_t errlen) {
  const struct ntp_key *key = NULL;
  if (cfg->has_key && !(host->keys && (key = keyring_find(host->keys, cfg->key_id)))) {
    snprintf(err, errlen, "server %s: key %u is not in the key file", cfg->name,
             (unsigned)cfg->key_id);
    return NULL;
  }
  struct probe *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->cfg = *cfg;
  p->index = index;
  p->host = *host;
  p->key = key;
  p->fd = -1;
  p->poll = cfg->minpoll;
  p->burst_left = cfg->iburst ? IBURST_COUNT : 0;
  p->rep.stratum = -1;
  p->rep.poll = p->poll;
  if (cfg->nts) {
    /* The trusted files of its certificate set. */
    const char *files[VT_NTS_TRUST_MAX];
    int n = 0;
    for (int i = 0; i < host->n_nts_trust && n < VT_NTS_TRUST_MAX; i++)
      if (host->nts_trust[i].set == cfg->cert_set) files[n++] = host->nts_trust[i].path;
    char why[400];
    if (n == 0 && cfg->cert_set != 0)
      snprintf(why, sizeof why, "certset %u has no ntstrustedcerts line", (unsigned)cfg->cert_set);
    p->nts.tls = n == 0 && cfg->cert_set != 0 ? NULL : nts_tls_new(files, n, why, sizeof why);
    if (!p->nts.tls) {
      snprintf(err, errlen, "server %s: %s", cfg->name, why);
      free(p);
      return NULL;
    }
  }
  snprintf(p->rep.state, sizeof p->rep.state, "init");
  p->poll_timer = sched_add_timer(0, on_poll, p);
  return p;
}

static void ntp_stop(struct probe *p) {
  sched_cancel_timer(p->poll_timer);
  nts_ke_cancel(p->nts.ke);
  nts_forget_keys(p);
  nts_tls_free(p->nts.tls);
  close_socket(p);
  free(p);
}

static void ntp_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops ntp_client_ops = {"server", ntp_start, ntp_stop, ntp_report};
