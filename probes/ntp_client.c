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
 * Names: a literal address is parsed at start; a host name is looked up
 * off the loop (lib/resolver.h). Until it resolves the source exists, is
 * "unresolved" and sends nothing; a failed lookup is retried after 8 s,
 * doubling to 1024 s. Once a named server has left RERESOLVE_POLLS polls
 * in a row unanswered, its name is looked up again while the old address
 * is still polled; a new address restarts the source's filter and poll.
 *
 * Spreading: the first poll is at a random instant within the first
 * second (within the first interval when shorter), and every interval is
 * lengthened by a random 0..POLL_RANDOMNESS of itself, as chrony does, so
 * that sources started together do not poll in step and a fleet of
 * vettimeds does not hit a server at the same instant.
 *
 * NTS (RFC 8915, `nts`): the keys and cookies come from an NTS-KE exchange
 * (probes/nts_client.c, non-blocking TLS on the loop) started by a poll
 * that has no cookie left; each request spends one cookie and asks for as
 * many as bring the store back to eight. The NTP server is the one the
 * exchange names (looked up as above when it is a name). A response counts
 * only when its NTS fields verify (probes/nts_ef.c): anything else is an
 * auth failure, counted and never a sample. An NTS NAK (kiss NTSN with our
 * unique identifier: the server no longer knows its cookie keys) drops the
 * keys and cookies and starts a new exchange at once. A failed exchange
 * sets the state to "nts-REASON" and is retried after 8 s, doubling to
 * 1024 s. Running out of cookies after unanswered polls is the NTS source's
 * reason to look its names up again (the new exchange does). */
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
#include "lib/resolver.h"
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
#define RERESOLVE_POLLS 8      /* unanswered polls in a row before a new lookup */
#define RESOLVE_RETRY_MIN 8.0  /* s after a failed lookup, doubling ... */
#define RESOLVE_RETRY_MAX 1024.0 /* ... up to this */
#define FIRST_POLL_SPREAD 1.0  /* s: the first poll is at random within it */
#define POLL_RANDOMNESS 0.05   /* each interval lengthened by up to 5 % */
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
  socklen_t addrlen;           /* 0 until the name first resolves */
  bool literal;                /* cfg.host is an address: never looked up */
  struct resolver_query *query; /* a lookup in flight, or NULL */
  sched_timer_id resolve_timer; /* the next lookup after a failure */
  double resolve_backoff;
  int unanswered;              /* polls in a row without an answer */
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

/* The NTP server's name and port: the configured ones, or for NTS the
 * ones the last key exchange named. */
static const char *ntp_host_of(const struct probe *p) {
  return p->cfg.nts ? p->nts.ntp_host : p->cfg.host;
}

static int ntp_port_of(const struct probe *p) {
  return p->cfg.nts ? p->nts.ntp_port : p->cfg.port;
}

/* ---- address and socket ---- */

/* A uniform random number in [0, 1) for the spreading of polls: not for
 * anything secret (the nonces come from getrandom). Seeded once from the
 * kernel without waiting for its pool; xorshift64* after that. */
static double random_unit(void) {
  static uint64_t state;
  if (!state) {
    if (getrandom(&state, sizeof state, GRND_NONBLOCK) != sizeof state || !state) {
      struct timespec t;
      clock_gettime(CLOCK_MONOTONIC, &t);
      state = ((uint64_t)t.tv_nsec << 32 ^ (uint64_t)t.tv_sec ^ (uint64_t)getpid()) | 1;
    }
  }
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return (double)((state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

static void set_address(struct probe *p, const struct sockaddr_storage *addr, socklen_t len) {
  memcpy(&p->addr, addr, len);
  p->addrlen = len;
  p->rep.peer_ipv4 = p->addr.ss_family == AF_INET
                         ? ntohl(((const struct sockaddr_in *)&p->addr)->sin_addr.s_addr)
                         : 0;
}

static void format_address(const struct sockaddr_storage *a, socklen_t len, char *out, size_t n) {
  if (getnameinfo((const struct sockaddr *)a, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST))
    snprintf(out, n, "?");
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
  p->unanswered = 0;
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

/* Logged at warning once when the server starts kissing (the state
 * changes), at debug for every further KoD: a server that answers each
 * poll with RATE must not fill the log. */
static void handle_kod(struct probe *p, const struct ntp_result *r) {
  p->rep.counters[PC_KOD]++;
  p->unanswered = 0;
  bool kissing = strcmp(p->rep.state, "rate") == 0 || strcmp(p->rep.state, "denied") == 0 ||
                 strncmp(p->rep.state, "kod-", 4) == 0;
  log_msg(kissing ? LOG_LVL_DEBUG : LOG_LVL_WARN, "server %s: kiss-o'-death %s%s", p->cfg.name,
          r->kiss, r->authenticated ? " (authenticated)" : "");
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

static void arm_poll(struct probe *p, double delay);
static void start_lookup(struct probe *p);
static void restart_at(struct probe *p, const struct resolver_answer *a);

static void poll_soon(struct probe *p) {
  sched_cancel_timer(p->poll_timer);
  arm_poll(p, 0);
}

/* The NTP server an exchange named: a literal address at once (a new one
 * is another server: the source starts over), a name through the
 * resolver (the old address is polled until the answer, unless the name
 * or port changed). */
static void nts_use_server(struct probe *p, const char *old_host, int old_port) {
  struct nts_state *n = &p->nts;
  struct resolver_answer a = {0};
  if (resolver_literal(n->ntp_host, n->ntp_port, SOCK_DGRAM, &a.addr, &a.addrlen) == 0) {
    p->literal = true;
    if (p->addrlen && (a.addrlen != p->addrlen || memcmp(&a.addr, &p->addr, a.addrlen) != 0))
      restart_at(p, &a);
    else
      set_address(p, &a.addr, a.addrlen);
    return;
  }
  p->literal = false;
  if (strcmp(old_host, n->ntp_host) != 0 || old_port != n->ntp_port) p->addrlen = 0;
  if (!p->query) start_lookup(p);
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
  char old_host[sizeof n->ntp_host];
  int old_port = n->ntp_port;
  snprintf(old_host, sizeof old_host, "%s", n->ntp_host);
  snprintf(n->ntp_host, sizeof n->ntp_host, "%s", r->resp.server[0] ? r->resp.server : p->cfg.host);
  n->ntp_port = p->cfg.port_set ? p->cfg.port : r->resp.port ? r->resp.port : NTP_PORT;
  nts_use_server(p, old_host, old_port);
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

static void on_poll(void *arg);
static void start_lookup(struct probe *p);

static double jittered(double interval) {
  return interval * (1.0 + POLL_RANDOMNESS * random_unit());
}

static double first_poll_delay(const struct probe *p) {
  double spread = poll_seconds(p) < FIRST_POLL_SPREAD ? poll_seconds(p) : FIRST_POLL_SPREAD;
  return spread * random_unit();
}

static void arm_poll(struct probe *p, double delay) {
  p->poll_timer = sched_add_timer(delay, on_poll, p);
  if (!p->poll_timer) {
    set_state(p, "stopped");
    LOG_ERROR("server %s: no timer for the next poll: the source is no longer polled "
              "(reload to restart it)", p->cfg.name);
  }
}

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
  if (sched_add_fd(fd, POLLIN, on_readable, p)) {
    close(fd);
    errno = EMFILE;
    return -1;
  }
  p->fd = fd;
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
  p->poll_timer = 0;
  if (p->outstanding) p->unanswered++;
  note_unanswered(p);
  close_socket(p);
  p->rep.reach = (p->rep.reach << 1) & 0xff;
  if (p->cfg.nts && (!p->nts.have_keys || p->nts.n_cookies == 0)) {
    /* Out of cookies (or never had any): a new key exchange first. */
    nts_forget_keys(p);
    nts_start_ke(p);
  } else if (p->addrlen == 0) {
    /* NTS: the NTP server the exchange named is being looked up. */
  } else if (send_request(p) < 0) {
    p->unanswered++;
    p->rep.counters[PC_SEND_ERROR]++;
    LOG_RATELIMITED(LOG_LVL_WARN, "server %s: cannot send: %s", p->cfg.name, strerror(errno));
  }
  /* A named server that stopped answering may have moved: look the name
   * up again, polling the old address meanwhile. */
  if (!p->literal && !p->cfg.nts && p->unanswered >= RERESOLVE_POLLS && !p->query &&
      !p->resolve_timer) {
    LOG_INFO("server %s: %d polls unanswered: looking up %s again", p->cfg.name,
             p->unanswered, p->cfg.host);
    p->unanswered = 0;
    start_lookup(p);
  }
  if (p->burst_left > 0) p->burst_left--;
  arm_poll(p, jittered(poll_seconds(p)));
}

/* ---- names ---- */

static void on_resolve_due(void *arg) {
  struct probe *p = arg;
  p->resolve_timer = 0;
  start_lookup(p);
}

static void retry_lookup_later(struct probe *p) {
  p->resolve_timer = sched_add_timer(p->resolve_backoff, on_resolve_due, p);
  if (!p->resolve_timer)
    LOG_ERROR("server %s: no timer to look %s up again", p->cfg.name, ntp_host_of(p));
  p->resolve_backoff = p->resolve_backoff * 2 > RESOLVE_RETRY_MAX ? RESOLVE_RETRY_MAX
                                                                  : p->resolve_backoff * 2;
}

/* A new address is another server: what was measured of the old one (the
 * filter, the poll interval learnt) is dropped, and the source starts over
 * as at start (iburst included). */
static void restart_at(struct probe *p, const struct resolver_answer *a) {
  close_socket(p); /* the request to the old address is not waited for */
  p->outstanding = false;
  set_address(p, &a->addr, a->addrlen);
  p->filter_count = p->filter_next = 0;
  p->good_streak = 0;
  change_poll(p, p->cfg.minpoll);
  p->burst_left = p->cfg.iburst ? IBURST_COUNT : 0;
  sched_cancel_timer(p->poll_timer);
  arm_poll(p, first_poll_delay(p));
}

static void on_resolved(const struct resolver_answer *a, void *arg) {
  struct probe *p = arg;
  p->query = NULL;
  bool first = p->addrlen == 0;
  if (a->error) {
    if (first) {
      set_state(p, "unresolved");
      snprintf(p->rep.detail, sizeof p->rep.detail, "cannot resolve %.100s: %.60s (again in %.0f s)",
               ntp_host_of(p), a->error_text, p->resolve_backoff);
      LOG_WARN("server %s: cannot resolve %s: %s; trying again in %.0f s", p->cfg.name,
               ntp_host_of(p), a->error_text, p->resolve_backoff);
      retry_lookup_later(p);
    } else {
      /* Keep polling the address it had; the next streak of unanswered
       * polls tries again. */
      LOG_WARN("server %s: cannot resolve %s again: %s; polling the old address", p->cfg.name,
               ntp_host_of(p), a->error_text);
    }
    return;
  }
  char now[64], was[64] = "";
  format_address(&a->addr, a->addrlen, now, sizeof now);
  if (!first) format_address(&p->addr, p->addrlen, was, sizeof was);
  snprintf(p->rep.detail, sizeof p->rep.detail, "%.130s is %s", ntp_host_of(p), now);
  p->resolve_backoff = RESOLVE_RETRY_MIN;
  if (first) {
    LOG_INFO("server %s: %s resolved to %s in %.3f s", p->cfg.name, ntp_host_of(p), now, a->seconds);
    set_state(p, "init");
    set_address(p, &a->addr, a->addrlen);
    sched_cancel_timer(p->poll_timer); /* NTS: it kept polling for keys */
    arm_poll(p, first_poll_delay(p));
  } else if (a->addrlen != p->addrlen || memcmp(&a->addr, &p->addr, a->addrlen) != 0) {
    LOG_WARN("server %s: %s now resolves to %s (was %s): polling the new address", p->cfg.name,
             ntp_host_of(p), now, was);
    restart_at(p, a);
  } else {
    LOG_INFO("server %s: %s still resolves to %s", p->cfg.name, ntp_host_of(p), now);
  }
}

static void start_lookup(struct probe *p) {
  p->query = resolver_lookup(ntp_host_of(p), ntp_port_of(p), SOCK_DGRAM, on_resolved, p);
  if (p->query) return;
  LOG_WARN("server %s: cannot start a lookup of %s: %s; trying again in %.0f s", p->cfg.name,
           ntp_host_of(p), strerror(errno), p->resolve_backoff);
  if (p->addrlen == 0)
    snprintf(p->rep.detail, sizeof p->rep.detail, "cannot start a lookup of %.100s: %.60s",
             ntp_host_of(p), strerror(errno));
  retry_lookup_later(p);
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
  p->resolve_backoff = RESOLVE_RETRY_MIN;
  p->rep.stratum = -1;
  p->rep.poll = p->poll;
  struct sockaddr_storage addr;
  socklen_t len;
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
    /* Polls start key exchanges; the NTP server comes from the first. */
    snprintf(p->rep.state, sizeof p->rep.state, "init");
    p->poll_timer = sched_add_timer(first_poll_delay(p), on_poll, p);
  } else if (resolver_literal(cfg->host, cfg->port, SOCK_DGRAM, &addr, &len) == 0) {
    p->literal = true;
    set_address(p, &addr, len);
    snprintf(p->rep.state, sizeof p->rep.state, "init");
    p->poll_timer = sched_add_timer(first_poll_delay(p), on_poll, p);
  } else {
    /* The lookup starts from the loop, once the daemon is running. */
    snprintf(p->rep.state, sizeof p->rep.state, "unresolved");
    snprintf(p->rep.detail, sizeof p->rep.detail, "resolving %.180s", cfg->host);
    p->resolve_timer = sched_add_timer(0, on_resolve_due, p);
  }
  if (!p->poll_timer && !p->resolve_timer) {
    snprintf(err, errlen, "server %s: out of memory for a timer", cfg->name);
    nts_tls_free(p->nts.tls);
    free(p);
    return NULL;
  }
  return p;
}

static void ntp_stop(struct probe *p) {
  sched_cancel_timer(p->poll_timer);
  sched_cancel_timer(p->resolve_timer);
  resolver_cancel(p->query);
  nts_ke_cancel(p->nts.ke);
  nts_forget_keys(p);
  nts_tls_free(p->nts.tls);
  close_socket(p);
  free(p);
}

static void ntp_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops ntp_client_ops = {"server", ntp_start, ntp_stop, ntp_report};
