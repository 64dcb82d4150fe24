/* The load generator of the NTP serving benchmark (issue 10, run by
 * tests/bench/bench_serve.sh): NTPv4 client-mode requests (RFC 5905 §7.3,
 * mode 3, built by probes/ntp_wire.c) over UDP to one server, in two
 * phases chosen by option.
 *
 * Throughput (default): a closed loop keeping K requests in flight (-k,
 * default 64) spread over S connected UDP sockets (-s, default 4, so 4
 * source ports: a server that spreads clients over threads by address and
 * port sees several; more sockets mean shallower batches, and at 16, four
 * requests a batch, the generator cost about what the echo costs per
 * request and could become the limit). Each request's transmit timestamp is a nonce, unique in
 * the run: a 48-bit sequence number above the 16-bit index of its slot, so
 * a reply finds its request in O(1). A reply counts when its origin
 * timestamp equals the nonce its slot is waiting for, on that slot's
 * socket; the slot then sends its next request at once. A request not
 * answered within the timeout (-o, default 50 ms) is counted lost and sent
 * again with a new nonce, so the loop never stalls; a reply matching no
 * waiting request (late, duplicated, garbled) is counted as mismatched.
 * Receive and send go in batches (recvmmsg, sendmmsg) from one epoll loop,
 * which with -b busy-polls (epoll_wait never sleeps): on a VM the wake-up of
 * an idle generator costs tens of µs, enough to turn the loop into
 * alternating batches and measure the wake-up instead of the server.
 * After a warm-up (-w, default 1 s) it counts for D seconds (-d, default
 * 10) and prints responses per second; how much of the window it spent
 * reading and sending ("work": it must stay below 100 %, or the generator
 * is the bottleneck) and its CPU time; each core's busy and steal time
 * (other work on a core slows a run down); and with -P PID the server's
 * CPU time per response (utime + stime of /proc/PID/stat, all threads). With -e the server is a UDP echo
 * (bench_udp_echo): a reply is the request itself, matched by its transmit
 * timestamp instead of its origin.
 *
 * Transmit timestamp (-T N): N requests one at a time, one every -i ms
 * (default 10), so that no queue forms and the figure is the server's, not
 * the load's. The socket has kernel receive timestamps (SO_TIMESTAMPNS) and
 * kernel software transmit timestamps (SO_TIMESTAMPING). For each reply:
 *   tx error = T4 - T3: the kernel's receive timestamp of the reply here
 *              minus the server's transmit timestamp. On loopback the
 *              kernel stamps the reply on its way in right after the
 *              server's send, so this is how long before its send the
 *              server read T3 (plus the kernel's own path, sub-µs).
 *   delay    = (T4 - T1) - (T3 - T2), T1 the kernel's transmit timestamp
 *              of the request: RFC 5905's delay, which holds no offset.
 *   T2 - T1  = the request's kernel path plus the served time's offset
 *              from the local clock. A server that serves the local clock
 *              with kernel receive timestamps (chronyd -x) shows the
 *              kernel path alone; a server that serves a corrected clock
 *              (vettimed: local time + the vetted correction) shows the
 *              path plus its correction, which bench_serve.sh subtracts.
 * The tx error and delay are in µs, median and p99 (nearest rank); the
 * first 10 exchanges are a warm-up and not counted.
 *
 * NTS (-K KE_PORT -C CAFILE, throughput only): one NTS-KE exchange with
 * the server first (blocking TLS 1.3, ALPN ntske/1, the certificate
 * checked against CAFILE for 127.0.0.1), then every request carries the
 * first cookie and an NTS Authenticator under the exported C2S key
 * (probes/nts_ef.c), with one placeholder (encrypted) so the answer is as
 * long as the request. The Authenticator covers the transmit timestamp,
 * so the requests are built before the run: a pool of R per slot
 * (R = 16384 / in-flight, at least 2), each with its own nonce, sent in
 * turn; a server keeps no replay state (RFC 8915 leaves replay detection
 * to the client, by the unique identifier), so each is answered in full:
 * cookie opened, Authenticator verified, new cookies sealed, answer
 * sealed. A reply counts when it is mode 4, stratum not 0 (an NTS NAK is
 * a KoD) and carries fields after the header; it is not verified here
 * (that would be the generator's cost, not the server's).
 *
 * Output: one "name value" line per figure, for scripts. Exit 0; 1 when
 * nothing answered; 64 bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "probes/ntp_wire.h"
#include "probes/nts_ef.h"
#include "probes/nts_ke.h"

#define MAX_SOCKETS 256
#define MAX_INFLIGHT 4096 /* a slot index fits the nonce's low 16 bits */
#define BATCH 64
#define BUF_LEN 1024      /* larger replies are truncated and count as bad */
#define NTS_POOL 16384    /* NTS requests built before the run */
#define MAX_CPUS 64
#define TX_WARMUP 10

struct options {
  struct sockaddr_in server;
  int inflight, sockets, duration, warmup, timeout_ms, server_pid;
  int tx_count, interval_ms;
  bool echo, busy;
  int ke_port;             /* NTS: the NTS-KE port (0: plain NTP) */
  const char *cafile;
};

/* NTS mode: the requests, built before the run. */
static struct {
  int rounds;              /* requests per slot */
  size_t len;              /* each request's length (all alike) */
  uint8_t *pool;           /* [slot][round][len] */
} nts;

/* ---- small helpers --------------------------------------------------- */

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n-1], n > 0. */
static double percentile(const double *v, int n, double p) {
  int i = (int)(p * n + 0.999999) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return v[i];
}

/* A UDP socket connected to the server: a connected socket caches its
 * route, which keeps the generator's own cost per request low. */
static int open_socket(const struct sockaddr_in *server) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int size = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (connect(fd, (const struct sockaddr *)server, sizeof *server) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* ---- CPU accounting -------------------------------------------------- */

struct cpu_snap {
  int64_t mono;                  /* ns */
  int64_t self_user, self_sys;   /* ns, this process */
  int64_t server;                /* ns, utime + stime of -P PID, -1 unknown */
  int ncpu;
  int64_t busy[MAX_CPUS], steal[MAX_CPUS], total[MAX_CPUS]; /* ticks */
};

/* utime + stime of pid in ns, or -1. The command name may hold blanks and
 * parentheses, so the fields are counted from the last ')'. */
static int64_t proc_cpu_ns(int pid) {
  char path[64], line[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char *ok = fgets(line, sizeof line, f);
  fclose(f);
  char *p = ok ? strrchr(line, ')') : NULL;
  unsigned long long ut, st;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                   &st) != 2)
    return -1;
  return (int64_t)((ut + st) * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

/* Per core, from /proc/stat: busy = user + nice + system + irq + softirq,
 * steal apart (time the hypervisor gave to someone else), total = all. */
static int read_cores(struct cpu_snap *s) {
  FILE *f = fopen("/proc/stat", "r");
  char line[512];
  s->ncpu = 0;
  if (!f) return -1;
  while (fgets(line, sizeof line, f) && s->ncpu < MAX_CPUS) {
    unsigned long long v[8];
    int cpu;
    if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue; /* not the sum */
    if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7]) != 9)
      continue;
    s->busy[s->ncpu] = (int64_t)(v[0] + v[1] + v[2] + v[5] + v[6]);
    s->steal[s->ncpu] = (int64_t)v[7];
    s->total[s->ncpu] = (int64_t)(v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]);
    s->ncpu++;
  }
  fclose(f);
  return 0;
}

static void snapshot(struct cpu_snap *s, int server_pid) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  s->mono = mono_ns();
  s->self_user = (int64_t)ru.ru_utime.tv_sec * 1000000000 + ru.ru_utime.tv_usec * 1000;
  s->self_sys = (int64_t)ru.ru_stime.tv_sec * 1000000000 + ru.ru_stime.tv_usec * 1000;
  s->server = server_pid > 0 ? proc_cpu_ns(server_pid) : -1;
  read_cores(s);
}

/* ---- throughput: the closed loop -------------------------------------- */

struct slot {
  uint64_t nonce;  /* the transmit timestamp it waits for */
  int round;       /* NTS: the pool entry sent last */
  int64_t sent;    /* mono ns of the last send */
};

/* A socket's batch of requests to send: filled while replies are read,
 * sent with one sendmmsg. */
struct out_batch {
  int n;
  uint8_t buf[BATCH][NTP_HEADER_LEN];
  struct iovec iov[BATCH];
  struct mmsghdr msg[BATCH];
};

struct load {
  const struct options *o;
  int fd[MAX_SOCKETS];
  struct slot slot[MAX_INFLIGHT];
  struct out_batch out[MAX_SOCKETS];
  uint64_t seq; /* the nonces' sequence number, random start */
  uint64_t responses, mismatched, bad, lost, send_errors;
  uint64_t polls, empty_polls; /* epoll_wait calls, those that found nothing */
  int64_t work_ns;              /* time spent reading and sending, polls apart */
};

static void flush(struct load *l, int s) {
  struct out_batch *b = &l->out[s];
  int done = 0;
  while (done < b->n) {
    int r = sendmmsg(l->fd[s], b->msg + done, (unsigned)(b->n - done), 0);
    if (r < 0) {
      /* The first of the rest failed (ENOBUFS, ECONNREFUSED from an ICMP
       * of a server not up yet): it stays unanswered and times out. */
      l->send_errors++;
      r = 1;
    }
    done += r;
  }
  b->n = 0;
}

/* Queues slot i's next request on its socket (i % sockets), with a new
 * nonce; sends the socket's batch when it is full. */
static void queue_request(struct load *l, int i, int64_t now) {
  int s = i % l->o->sockets;
  struct out_batch *b = &l->out[s];
  if (b->n == BATCH) flush(l, s);
  l->slot[i].sent = now;
  if (nts.pool) {
    int r = l->slot[i].round = (l->slot[i].round + 1) % nts.rounds;
    uint8_t *req = nts.pool + ((size_t)i * (size_t)nts.rounds + (size_t)r) * nts.len;
    l->slot[i].nonce = get_be64(req + 40);
    b->iov[b->n] = (struct iovec){req, nts.len};
  } else {
    l->seq++;
    l->slot[i].nonce = (l->seq << 16) | (uint64_t)i;
    ntp_build_request(b->buf[b->n], NTP_HEADER_LEN, l->slot[i].nonce, 0, NULL);
    b->iov[b->n] = (struct iovec){b->buf[b->n], NTP_HEADER_LEN};
  }
  b->msg[b->n].msg_hdr = (struct msghdr){.msg_iov = &b->iov[b->n], .msg_iovlen = 1};
  b->n++;
}

/* One reply on socket s: counts it, and frees its slot for the next
 * request. An NTP reply is mode 4 with our nonce as origin (bytes 24-31);
 * an echo is our request itself, mode 3 with the nonce as transmit (40-47). */
static void on_reply(struct load *l, int s, const uint8_t *p, unsigned len, int64_t now) {
  int mode = l->o->echo ? 3 : 4;
  if (len < NTP_HEADER_LEN || (p[0] & 7) != mode ||
      (nts.pool && (len <= NTP_HEADER_LEN || p[1] == 0))) { /* NTS: no NAK, no plain answer */
    l->bad++;
    return;
  }
  uint64_t nonce = get_be64(p + (l->o->echo ? 40 : 24));
  int i = (int)(nonce & 0xffff);
  if (i >= l->o->inflight || i % l->o->sockets != s || l->slot[i].nonce != nonce) {
    l->mismatched++;
    return;
  }
  l->responses++;
  queue_request(l, i, now);
}

/* Reads what socket s holds, up to one batch, and sends the follow-up
 * requests. */
static void drain(struct load *l, int s) {
  static uint8_t buf[BATCH][BUF_LEN];
  static struct iovec iov[BATCH];
  static struct mmsghdr msg[BATCH];
  static bool ready;
  for (int i = 0; !ready && i < BATCH; i++) { /* recvmmsg writes back only lengths and flags */
    iov[i] = (struct iovec){buf[i], BUF_LEN};
    msg[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
  }
  ready = true;
  int n = recvmmsg(l->fd[s], msg, BATCH, MSG_DONTWAIT, NULL);
  int64_t now = mono_ns();
  for (int i = 0; i < n; i++)
    on_reply(l, s, buf[i], (msg[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : msg[i].msg_len, now);
  flush(l, s);
}

/* Requests unanswered for the timeout are lost: sent again, new nonce. */
static void resend_lost(struct load *l, int64_t now) {
  int64_t limit = (int64_t)l->o->timeout_ms * 1000000;
  for (int i = 0; i < l->o->inflight; i++)
    if (now - l->slot[i].sent > limit) {
      l->lost++;
      queue_request(l, i, now);
    }
  for (int s = 0; s < l->o->sockets; s++) flush(l, s);
}

static int open_load(struct load *l, int ep) {
  if (getrandom(&l->seq, sizeof l->seq, 0) != sizeof l->seq) l->seq = (uint64_t)mono_ns();
  l->seq &= 0xffffffffffULL; /* so seq << 16 never wraps in a run */
  for (int s = 0; s < l->o->sockets; s++) {
    l->fd[s] = open_socket(&l->o->server);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)s};
    if (l->fd[s] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l->fd[s], &ev) != 0) return -1;
  }
  return 0;
}

/* Runs the loop until the monotonic time end. */
static void run_until(struct load *l, int ep, int64_t end) {
  struct epoll_event ev[MAX_SOCKETS];
  int64_t next_scan = mono_ns() + 10000000;
  for (;;) {
    int n = epoll_wait(ep, ev, l->o->sockets, l->o->busy ? 0 : 10);
    int64_t woke = mono_ns();
    l->polls++;
    if (n <= 0) l->empty_polls++;
    for (int i = 0; i < n; i++) drain(l, (int)ev[i].data.u32);
    int64_t now = mono_ns();
    if (n > 0) l->work_ns += now - woke;
    if (now >= end) return;
    if (now >= next_scan) {
      resend_lost(l, now);
      next_scan = now + 10000000;
    }
  }
}

static double pct(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * (double)part / (double)whole : 0;
}

static void report_load(const struct load *l, const struct load *at0, const struct cpu_snap *a,
                        const struct cpu_snap *b) {
  double secs = (double)(b->mono - a->mono) / 1e9;
  uint64_t resp = l->responses - at0->responses;
  printf("seconds %.3f\n", secs);
  printf("responses %llu\n", (unsigned long long)resp);
  printf("responses_per_s %.0f\n", (double)resp / secs);
  printf("lost %llu\n", (unsigned long long)(l->lost - at0->lost));
  printf("mismatched %llu\n", (unsigned long long)(l->mismatched - at0->mismatched));
  printf("bad %llu\n", (unsigned long long)(l->bad - at0->bad));
  printf("send_errors %llu\n", (unsigned long long)(l->send_errors - at0->send_errors));
  int64_t self = b->self_user + b->self_sys - a->self_user - a->self_sys;
  printf("generator_empty_polls_pct %.1f\n",
         pct((int64_t)(l->empty_polls - at0->empty_polls), (int64_t)(l->polls - at0->polls)));
  printf("generator_work_pct %.1f\n", pct(l->work_ns - at0->work_ns, b->mono - a->mono));
  if (resp > 0)
    printf("generator_work_ns_per_response %.0f\n", (double)(l->work_ns - at0->work_ns) / (double)resp);
  printf("generator_cpu_pct %.1f\n", pct(self, b->mono - a->mono));
  printf("generator_sys_pct %.1f\n", pct(b->self_sys - a->self_sys, b->mono - a->mono));
  if (resp > 0) printf("generator_cpu_ns_per_response %.0f\n", (double)self / (double)resp);
  if (a->server >= 0 && b->server >= 0 && resp > 0) {
    printf("server_cpu_pct %.1f\n", pct(b->server - a->server, b->mono - a->mono));
    printf("server_cpu_ns_per_response %.0f\n", (double)(b->server - a->server) / (double)resp);
  }
  for (int c = 0; c < a->ncpu && c < b->ncpu; c++) {
    int64_t t = b->total[c] - a->total[c];
    printf("core%d_busy_pct %.1f\n", c, pct(b->busy[c] - a->busy[c], t));
    printf("core%d_steal_pct %.1f\n", c, pct(b->steal[c] - a->steal[c], t));
  }
}

/* ---- NTS: one NTS-KE exchange, then the pool ---------------------------- */

/* A blocking NTS-KE exchange: the first cookie and the C2S key. */
static int nts_ke(const struct options *o, struct nts_cookie *cookie, uint8_t c2s[NTS_KEY_LEN]) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  static const unsigned char alpn[] = "\x07ntske/1";
  int rc = -1, fd = -1;
  SSL *ssl = NULL;
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
      SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1 ||
      SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0)
    goto out;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  struct sockaddr_in a = o->server;
  a.sin_port = htons((uint16_t)o->ke_port);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) goto out;
  ssl = SSL_new(ctx);
  if (!ssl || !SSL_set_fd(ssl, fd) || !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") ||
      SSL_connect(ssl) != 1)
    goto out;
  uint8_t req[64], in[NTS_KE_MAX_MESSAGE + 1];
  size_t n = nts_ke_build_request(req, sizeof req), got = 0;
  if (SSL_write(ssl, req, (int)n) != (int)n) goto out;
  struct nts_ke_response resp;
  enum nts_ke_status st = NTS_KE_INCOMPLETE;
  while (st == NTS_KE_INCOMPLETE && got < sizeof in) {
    int r = SSL_read(ssl, in + got, (int)(sizeof in - got));
    if (r <= 0) break;
    got += (size_t)r;
    st = nts_ke_parse_response(in, got, false, &resp);
  }
  uint8_t ectx[5];
  const char *label = NTS_KE_EXPORTER_LABEL;
  nts_ke_exporter_context(ectx, NTS_AEAD_AES_SIV_CMAC_256, false);
  if (st != NTS_KE_OK ||
      SSL_export_keying_material(ssl, c2s, NTS_KEY_LEN, label, strlen(label), ectx, 5, 1) != 1)
    goto out;
  *cookie = resp.cookies[0];
  rc = 0;
out:
  if (rc) fprintf(stderr, "bench_ntp_load: the NTS-KE exchange on port %d failed\n", o->ke_port);
  SSL_free(ssl);
  if (fd >= 0) close(fd);
  SSL_CTX_free(ctx);
  return rc;
}

static int nts_pool(const struct options *o) {
  struct nts_cookie cookie;
  uint8_t c2s[NTS_KEY_LEN];
  if (nts_ke(o, &cookie, c2s)) return -1;
  nts.rounds = NTS_POOL / o->inflight < 2 ? 2 : NTS_POOL / o->inflight;
  uint64_t seq;
  if (getrandom(&seq, sizeof seq, 0) != sizeof seq) seq = (uint64_t)mono_ns();
  seq &= 0xffffffffffULL;
  uint8_t buf[NTS_MAX_PACKET];
  for (int i = 0; i < o->inflight; i++)
    for (int r = 0; r < nts.rounds; r++) {
      uint8_t uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];
      if (getrandom(uid, sizeof uid, 0) != sizeof uid ||
          getrandom(nonce, sizeof nonce, 0) != sizeof nonce)
        return -1;
      ntp_build_request(buf, NTP_HEADER_LEN, (++seq << 16) | (uint64_t)i, 0, NULL);
      size_t n = nts_build_request(buf, sizeof buf, uid, &cookie, 1, c2s, nonce);
      if (!n || (nts.len && n != nts.len)) return -1;
      if (!nts.pool) {
        nts.len = n;
        nts.pool = malloc((size_t)o->inflight * (size_t)nts.rounds * n);
        if (!nts.pool) return -1;
      }
      memcpy(nts.pool + ((size_t)i * (size_t)nts.rounds + (size_t)r) * n, buf, n);
    }
  printf("nts_request_bytes %zu\n", nts.len);
  return 0;
}

static int run_throughput(const struct options *o) {
  static struct load l, at0;
  l.o = o;
  if (o->ke_port && nts_pool(o)) return 1;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0 || open_load(&l, ep) != 0) {
    perror("bench_ntp_load: sockets");
    return 1;
  }
  int64_t start = mono_ns();
  for (int i = 0; i < o->inflight; i++) queue_request(&l, i, start);
  for (int s = 0; s < o->sockets; s++) flush(&l, s);
  run_until(&l, ep, start + (int64_t)o->warmup * 1000000000);
  struct cpu_snap a, b;
  at0 = l;
  snapshot(&a, o->server_pid);
  run_until(&l, ep, a.mono + (int64_t)o->duration * 1000000000);
  snapshot(&b, o->server_pid);
  report_load(&l, &at0, &a, &b);
  return l.responses > at0.responses ? 0 : 1;
}

/* ---- transmit timestamp: one exchange at a time ------------------------ */

struct tx_sample {
  double err, delay, t2_t1; /* seconds */
  double send_path;         /* our own T1: kernel stamp - clock read before send() */
};

/* Kernel receive (SO_TIMESTAMPNS) and software transmit (SO_TIMESTAMPING,
 * reported on the error queue, timestamp only) stamps. Returns 0, or -1
 * when the kernel refuses transmit stamps (then T1 is read before send). */
static int enable_stamps(int fd) {
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
              SOF_TIMESTAMPING_OPT_TSONLY;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags);
}

/* The kernel's software transmit stamp of the last request, if it is on
 * the error queue. */
static bool read_tx_stamp(int fd, struct timespec *t1) {
  char data[64], control[256];
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                     .msg_controllen = sizeof control};
  bool found = false;
  while (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
        struct scm_timestamping ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        *t1 = ts.ts[0];
        found = true;
      }
    m.msg_controllen = sizeof control;
  }
  return found;
}

/* Waits up to timeout_ms for the reply to nonce; fills its 48 bytes and the
 * kernel receive stamp t4, and t1 when the kernel's transmit stamp comes
 * first (the error queue wakes poll too). Returns 0, or -1 when none came. */
static int await_reply(int fd, uint64_t nonce, int timeout_ms, uint8_t *p, struct timespec *t1,
                       bool *kernel_t1, struct timespec *t4, uint64_t *mismatched) {
  int64_t end = mono_ns() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    int left = (int)((end - mono_ns()) / 1000000);
    struct pollfd pfd = {fd, POLLIN, 0};
    if (left < 0 || poll(&pfd, 1, left) <= 0) return -1;
    if (pfd.revents & POLLERR) *kernel_t1 = read_tx_stamp(fd, t1) || *kernel_t1;
    if (!(pfd.revents & POLLIN)) continue;
    char control[256];
    struct iovec iov = {p, BUF_LEN};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = sizeof control};
    ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
    if (n < 0) continue;
    clock_gettime(CLOCK_REALTIME, t4);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
        memcpy(t4, CMSG_DATA(c), sizeof *t4);
    if (n >= NTP_HEADER_LEN && (p[0] & 7) == 4 && get_be64(p + 24) == nonce) return 0;
    (*mismatched)++;
  }
}

/* One exchange. Returns 0 with *out filled, or -1 when lost. */
static int exchange(int fd, const struct options *o, uint64_t nonce, bool *kernel_t1,
                    struct tx_sample *out, uint64_t *mismatched) {
  uint8_t req[NTP_HEADER_LEN], p[BUF_LEN];
  ntp_build_request(req, sizeof req, nonce, 0, NULL);
  struct timespec t1, t1_user, t4;
  clock_gettime(CLOCK_REALTIME, &t1_user);
  if (send(fd, req, sizeof req, 0) < 0) return -1;
  t1 = t1_user;
  *kernel_t1 = false;
  if (await_reply(fd, nonce, o->timeout_ms * 4, p, &t1, kernel_t1, &t4, mismatched) != 0)
    return -1;
  *kernel_t1 = read_tx_stamp(fd, &t1) || *kernel_t1;
  struct ntp_header h;
  ntp_header_decode(p, &h);
  ntp_ts T1 = ntp_ts_from_timespec(t1), T4 = ntp_ts_from_timespec(t4);
  out->err = ntp_ts_diff(T4, h.transmit);
  out->delay = ntp_ts_diff(T4, T1) - ntp_ts_diff(h.transmit, h.receive);
  out->t2_t1 = ntp_ts_diff(h.receive, T1);
  out->send_path = ntp_ts_diff(T1, ntp_ts_from_timespec(t1_user));
  return 0;
}

static void report_tx(struct tx_sample *v, int n, uint64_t lost, uint64_t mismatched,
                      bool kernel_t1) {
  static double col[4][65536];
  for (int i = 0; i < n; i++) {
    col[0][i] = v[i].err * 1e6;
    col[1][i] = v[i].delay * 1e6;
    col[2][i] = v[i].t2_t1 * 1e6;
    col[3][i] = v[i].send_path * 1e6;
  }
  for (int c = 0; c < 4; c++) qsort(col[c], (size_t)n, sizeof(double), cmp_double);
  printf("tx_samples %d\n", n);
  printf("tx_lost %llu\n", (unsigned long long)lost);
  printf("tx_mismatched %llu\n", (unsigned long long)mismatched);
  printf("tx_t1 %s\n", kernel_t1 ? "kernel" : "user");
  if (n == 0) return;
  printf("tx_err_median_us %.2f\n", percentile(col[0], n, 0.50));
  printf("tx_err_p99_us %.2f\n", percentile(col[0], n, 0.99));
  printf("delay_median_us %.2f\n", percentile(col[1], n, 0.50));
  printf("delay_p99_us %.2f\n", percentile(col[1], n, 0.99));
  printf("t2_t1_median_us %.2f\n", percentile(col[2], n, 0.50));
  if (kernel_t1) {
    printf("client_send_path_median_us %.2f\n", percentile(col[3], n, 0.50));
    printf("client_send_path_p99_us %.2f\n", percentile(col[3], n, 0.99));
  }
}

static int run_tx(const struct options *o) {
  static struct tx_sample v[65536];
  int fd = open_socket(&o->server);
  if (fd < 0) {
    perror("bench_ntp_load: socket");
    return 1;
  }
  bool tx_stamps = enable_stamps(fd) == 0, kernel_t1 = tx_stamps;
  uint64_t seq = (uint64_t)mono_ns(), lost = 0, mismatched = 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  int n = 0;
  for (int i = 0; i < o->tx_count + TX_WARMUP; i++) {
    struct tx_sample s;
    bool k = false;
    if (exchange(fd, o, ++seq, &k, &s, &mismatched) != 0) lost++;
    else if (i >= TX_WARMUP) {
      v[n++] = s;
      kernel_t1 = kernel_t1 && k;
    }
    next.tv_nsec += (long)o->interval_ms * 1000000;
    next.tv_sec += next.tv_nsec / 1000000000;
    next.tv_nsec %= 1000000000;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
  report_tx(v, n, lost, mismatched, kernel_t1);
  return n > 0 ? 0 : 1;
}

/* ---- options --------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f, "usage: bench_ntp_load -p PORT [-a ADDRESS] [-k INFLIGHT] [-s SOCKETS]\n"
             "         [-d SECONDS] [-w SECONDS] [-o TIMEOUT_MS] [-P SERVER_PID] [-e] [-b]\n"
             "         [-K NTS_KE_PORT -C CAFILE]\n"
             "       bench_ntp_load -p PORT [-a ADDRESS] -T COUNT [-i INTERVAL_MS]\n");
}

static int parse_options(int argc, char **argv, struct options *o) {
  *o = (struct options){.inflight = 64, .sockets = 4, .duration = 10, .warmup = 1,
                        .timeout_ms = 50, .interval_ms = 10};
  const char *address = "127.0.0.1";
  int port = 0, c;
  while ((c = getopt(argc, argv, "a:p:k:s:d:w:o:P:ebT:i:K:C:h")) != -1) {
    switch (c) {
    case 'a': address = optarg; break;
    case 'p': port = atoi(optarg); break;
    case 'k': o->inflight = atoi(optarg); break;
    case 's': o->sockets = atoi(optarg); break;
    case 'd': o->duration = atoi(optarg); break;
    case 'w': o->warmup = atoi(optarg); break;
    case 'o': o->timeout_ms = atoi(optarg); break;
    case 'P': o->server_pid = atoi(optarg); break;
    case 'e': o->echo = true; break;
    case 'b': o->busy = true; break;
    case 'T': o->tx_count = atoi(optarg); break;
    case 'i': o->interval_ms = atoi(optarg); break;
    case 'K': o->ke_port = atoi(optarg); break;
    case 'C': o->cafile = optarg; break;
    case 'h': usage(stdout); exit(0);
    default: return -1;
    }
  }
  o->server = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (optind != argc || port <= 0 || port > 65535 ||
      inet_pton(AF_INET, address, &o->server.sin_addr) != 1)
    return -1;
  if (o->inflight < 1 || o->inflight > MAX_INFLIGHT || o->sockets < 1 ||
      o->sockets > MAX_SOCKETS || o->duration < 1 || o->warmup < 0 || o->timeout_ms < 1 ||
      o->tx_count < 0 || o->tx_count > 65536 - TX_WARMUP || o->interval_ms < 0 ||
      o->ke_port < 0 || o->ke_port > 65535 || (o->ke_port && (!o->cafile || o->echo)))
    return -1;
  if (o->sockets > o->inflight) o->sockets = o->inflight;
  return 0;
}

int main(int argc, char **argv) {
  struct options o;
  if (parse_options(argc, argv, &o) != 0) {
    usage(stderr);
    return 64;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  return o.tx_count > 0 ? run_tx(&o) : run_throughput(&o);
}
