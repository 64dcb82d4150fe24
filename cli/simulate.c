/* `vettime simulate`: fake stratum-1 NTP servers (RFC 5905 server side)
 * on loopback addresses (127.0.0.1 unless `bind` or --bind-base says
 * otherwise: chronyd takes one source per address), each following its scenario (cli/scenario.h). See
 * simulate.h for the command line and docs/scenarios.md for the files.
 *
 * One event loop (lib/sched.h): a UDP socket per server, a signalfd for
 * SIGTERM/SIGINT, one timer that walks the scenario's events in time order
 * (printing a line per applied fault) and one that ends the run. What a
 * server serves is never stored: each request asks the pure model
 * scenario_state_at() for time t = CLOCK_MONOTONIC since the start, so the
 * timers only report, and a request at t sees exactly the faults of t.
 *
 * A request is answered only when it is mode 3, version 1-4, 48 bytes or
 * 48 + MAC (20 or 24 bytes), and, for a server with a key, carries a valid
 * MAC under that key. Everything else is dropped silently and counted; the
 * counts go to stderr at the end. The response is never larger than the
 * request. */
#include "cli/simulate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli/scenario.h"
#include "lib/sched.h"
#include "monitor/keys.h"
#include "probes/ntp_wire.h"

#define SIM_BUF 1024
#define SIM_PRECISION (-20) /* log2 s: about 1 us */
#define SIM_BATCH 64        /* datagrams read per wake-up and socket */

enum drop_reason { DROP_LENGTH, DROP_VERSION, DROP_MODE, DROP_AUTH, DROP_COUNT, DROP_NONE };
static const char *const drop_names[DROP_COUNT] = {"length", "version", "mode", "auth"};

struct sim;

/* One fake server: its socket, key, noise stream and counters. */
struct sim_server {
  struct sim *sim;
  int index; /* into scenario.servers */
  int fd;
  const struct ntp_key *key;
  struct scn_rng rng;
  unsigned long answered, kissed, silenced, dropped[DROP_COUNT];
};

struct sim_opts {
  const char *scenario, *config, *ready, *keyfile, *port_base, *bind_base;
  bool check;
};

struct sim {
  struct scenario *scn;
  struct sim_opts opts;
  struct sim_server servers[SCN_MAX_SERVERS];
  struct keyring keys;
  int sigfd;
  double t0;        /* CLOCK_MONOTONIC at the start: scenario time 0 */
  int next_event;   /* the first event not yet reported */
  const char *ended_by;
};

/* ---- arguments --------------------------------------------------------- */

static void sim_usage(FILE *out) {
  fprintf(out,
          "usage: vettime simulate SCENARIO [--port-base N] [--bind-base A.B.C.D]\n"
          "                        [--config FILE] [--ready FILE] [--keyfile FILE]\n"
          "                        [--check]\n"
          "\n"
          "Runs the scenario's fake stratum-1 NTP servers on loopback until its\n"
          "duration ends (or SIGTERM/SIGINT); prints a line per applied fault.\n"
          "  --port-base N   ports N, N+1, ... in file order\n"
          "  --bind-base A   addresses A, A+1, ... in file order (in 127.0.0.0/8)\n"
          "  --config FILE   write vettimed `server` lines for these servers\n"
          "  --ready FILE    write \"NAME ADDRESS PORT\" lines once bound\n"
          "  --keyfile FILE  keys for servers with `key ID` (ID TYPE KEY lines)\n"
          "  --check         only parse the scenario and summarise it\n"
          "Scenario format: docs/scenarios.md.\n"
          "\n"
          "Exit status: 0 ran to its end, 64 usage, 66 no such scenario file,\n"
          "71 a socket could not be opened, 73 a --config/--ready file could not be\n"
          "written, 78 the scenario or key file is wrong.\n");
}

__attribute__((format(printf, 1, 2)))
static int sim_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "vettime simulate: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n\n");
  va_end(ap);
  sim_usage(stderr);
  return EX_USAGE;
}

/* The option taking a value named by arg ("--config" or "--config=F"). */
static const char **option_target(struct sim_opts *o, const char *arg, size_t *name_len) {
  static const char *const names[] = {"--port-base", "--bind-base", "--config", "--ready",
                                      "--keyfile"};
  const char **targets[] = {&o->port_base, &o->bind_base, &o->config, &o->ready,
                            &o->keyfile};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t n = strlen(names[i]);
    if (strncmp(arg, names[i], n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
      *name_len = n;
      return targets[i];
    }
  }
  return NULL;
}

/* Returns -1 to go on, else an exit status (0 after --help). */
static int parse_args(int argc, char **argv, struct sim_opts *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    size_t n;
    const char **target = option_target(o, a, &n);
    if (target && a[n] == '=') {
      *target = a + n + 1;
    } else if (target) {
      if (++i >= argc) return sim_usage_error("%s needs a value", a);
      *target = argv[i];
    } else if (strcmp(a, "--check") == 0) {
      o->check = true;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      sim_usage(stdout);
      return 0;
    } else if (a[0] == '-' && a[1] != '\0') {
      return sim_usage_error("unknown option \"%s\"", a);
    } else if (o->scenario) {
      return sim_usage_error("unexpected argument \"%s\"", a);
    } else {
      o->scenario = a;
    }
  }
  if (!o->scenario) return sim_usage_error("no scenario file given");
  return -1;
}

/* --port-base N: ports N, N+1, ... in file order. */
static int renumber_ports(struct scenario *s, const char *base) {
  char *end;
  errno = 0;
  long n = strtol(base, &end, 10);
  if (errno || end == base || *end || n < 1 || n + s->n_servers - 1 > 65535)
    return sim_usage_error("bad --port-base \"%s\" (%d ports from 1..65535)", base,
                           s->n_servers);
  for (int i = 0; i < s->n_servers; i++) s->servers[i].port = (int)n + i;
  return -1;
}

/* --bind-base A.B.C.D: addresses A.B.C.D, A.B.C.(D+1), ... in file order
 * (carrying into C, B), all host addresses in 127.0.0.0/8. */
static int renumber_addresses(struct scenario *s, const char *base) {
  uint32_t a, last;
  const char *why;
  if (scenario_parse_loopback(base, &a, &why))
    return sim_usage_error("bad --bind-base \"%s\": %s", base, why);
  last = a + (uint32_t)s->n_servers - 1;
  if (last >= 0x7fffffffu)
    return sim_usage_error("bad --bind-base \"%s\": %d addresses from it leave "
                           "127.0.0.0/8", base, s->n_servers);
  for (int i = 0; i < s->n_servers; i++) s->servers[i].addr = a + (uint32_t)i;
  return -1;
}

/* ---- keys -------------------------------------------------------------- */

/* Loads --keyfile and finds each keyed server's key. Returns -1 to go on,
 * else an exit status after saying why. */
static int load_keys(struct sim *sim) {
  const struct scenario *s = sim->scn;
  char err[512];
  if (sim->opts.keyfile && keyring_load(sim->opts.keyfile, &sim->keys, err, sizeof err)) {
    fprintf(stderr, "vettime simulate: %s\n", err);
    return EX_CONFIG;
  }
  for (int i = 0; i < s->n_servers; i++) {
    const struct scn_server *sv = &s->servers[i];
    if (!sv->key) continue;
    if (!sim->opts.keyfile) {
      fprintf(stderr, "vettime simulate: %s:%d: server \"%s\" has `key %u`: "
              "give the keys with --keyfile\n",
              sim->opts.scenario, sv->line, sv->name, sv->key);
      return EX_CONFIG;
    }
    sim->servers[i].key = keyring_find(&sim->keys, sv->key);
    if (!sim->servers[i].key) {
      fprintf(stderr, "vettime simulate: %s: no key %u (server \"%s\")\n",
              sim->opts.keyfile, sv->key, sv->name);
      return EX_CONFIG;
    }
  }
  return -1;
}

/* ---- answering --------------------------------------------------------- */

/* t shifted by s seconds (any size, either sign). */
static struct timespec shifted(struct timespec t, double s) {
  double whole = floor(s);
  long ns = t.tv_nsec + lround((s - whole) * 1e9);
  t.tv_sec += (time_t)whole + ns / 1000000000;
  t.tv_nsec = ns % 1000000000;
  return t;
}

/* Why the request must not be answered, or DROP_NONE. Fills *req. */
static enum drop_reason check_request(const struct sim_server *sv, const uint8_t *buf,
                                      size_t len, struct ntp_header *req) {
  if (len < NTP_HEADER_LEN || (len != NTP_HEADER_LEN && len != NTP_HEADER_LEN + 20 &&
                               len != NTP_HEADER_LEN + 24))
    return DROP_LENGTH;
  ntp_header_decode(buf, req);
  if (req->version < 1 || req->version > 4) return DROP_VERSION;
  if (req->mode != 3) return DROP_MODE;
  if (!sv->key) return DROP_NONE; /* a MAC under a key we lack is ignored */
  const uint8_t *mac = buf + NTP_HEADER_LEN;
  uint32_t keyid = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 |
                   (uint32_t)mac[2] << 8 | mac[3];
  if (len == NTP_HEADER_LEN || keyid != sv->key->id ||
      !ntp_mac_verify(sv->key, buf, NTP_HEADER_LEN, mac + 4, len - NTP_HEADER_LEN - 4))
    return DROP_AUTH;
  return DROP_NONE;
}

static uint32_t refid_from(const char code[5]) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | (uint8_t)code[i];
  return v; /* code is NUL-padded: shorter codes end in zero bytes */
}

/* The server's header for state st: served time = real time + shift. */
static void fill_header(struct ntp_header *h, const struct sim_server *sv,
                        const struct scn_state *st, struct timespec rx, double shift) {
  const struct scn_server *cfg = &sv->sim->scn->servers[sv->index];
  memset(h, 0, sizeof *h);
  h->precision = SIM_PRECISION;
  h->root_delay = cfg->root_delay;
  h->root_dispersion = cfg->root_disp;
  bool kod = st->kiss[0] != '\0';
  h->leap = kod ? 3 : st->leap;
  h->stratum = kod ? 0 : st->stratum;
  h->refid = refid_from(kod ? st->kiss : st->refid);
  struct timespec served_rx = shifted(rx, shift), tx;
  h->receive = ntp_ts_from_timespec(served_rx);
  served_rx.tv_sec -= 1; /* the last "update" a second before */
  h->reference = ntp_ts_from_timespec(served_rx);
  clock_gettime(CLOCK_REALTIME, &tx);
  h->transmit = ntp_ts_from_timespec(shifted(tx, shift));
}

static void answer(struct sim_server *sv, const uint8_t *buf, size_t len,
                   const struct sockaddr_in *from, struct timespec rx) {
  struct ntp_header req, h;
  enum drop_reason why = check_request(sv, buf, len, &req);
  if (why != DROP_NONE) {
    sv->dropped[why]++;
    return;
  }
  struct scn_state st;
  scenario_state_at(sv->sim->scn, sv->index, sched_mono_now() - sv->sim->t0, &st);
  if (st.silent) {
    sv->silenced++;
    return;
  }
  fill_header(&h, sv, &st, rx, st.offset + st.jitter * scn_rng_gauss(&sv->rng));
  uint8_t out[SIM_BUF];
  size_t n = ntp_build_response(out, sizeof out, &req, &h, sv->key);
  if (n == 0 || n > len) return; /* cannot happen: the MAC sizes match */
  if (sv->key && st.badmac) out[n - 1] ^= 0x01;
  if (sendto(sv->fd, out, n, 0, (const struct sockaddr *)from, sizeof *from) < 0) return;
  if (st.kiss[0]) sv->kissed++;
  else sv->answered++;
}

/* One datagram with its kernel receive time (SO_TIMESTAMPNS, else now).
 * Returns its length (SIM_BUF + 1 if it was longer), or -1 if none. */
static ssize_t receive(int fd, uint8_t *buf, struct sockaddr_in *from, struct timespec *rx) {
  char control[CMSG_SPACE(sizeof(struct timespec))];
  struct iovec iov = {buf, SIM_BUF};
  struct msghdr msg = {.msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = sizeof control};
  ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return -1;
  clock_gettime(CLOCK_REALTIME, rx);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
      memcpy(rx, CMSG_DATA(c), sizeof *rx);
  return (msg.msg_flags & MSG_TRUNC) ? SIM_BUF + 1 : n;
}

static void on_datagram(int fd, short revents, void *arg) {
  (void)revents;
  struct sim_server *sv = arg;
  uint8_t buf[SIM_BUF];
  struct sockaddr_in from;
  struct timespec rx;
  for (int i = 0; i < SIM_BATCH; i++) {
    ssize_t n = receive(fd, buf, &from, &rx);
    if (n < 0) return;
    answer(sv, buf, (size_t)n, &from, rx);
  }
}

/* ---- sockets, signals, timers ------------------------------------------ */

static int open_server(struct sim_server *sv, uint32_t addr, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(addr)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      sched_add_fd(fd, POLLIN, on_datagram, sv) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  sv->fd = fd;
  return 0;
}

static int open_servers(struct sim *sim) {
  for (int i = 0; i < sim->scn->n_servers; i++) {
    struct sim_server *sv = &sim->servers[i];
    sv->sim = sim;
    sv->index = i;
    scn_rng_init(&sv->rng, sim->scn->seed, (unsigned)i);
    const struct scn_server *cfg = &sim->scn->servers[i];
    if (open_server(sv, cfg->addr, cfg->port) != 0) {
      char addr[SCN_ADDR_LEN];
      scenario_format_addr(cfg->addr, addr);
      fprintf(stderr, "vettime simulate: cannot bind %s:%d (server \"%s\"): %s\n", addr,
              cfg->port, cfg->name, strerror(errno));
      return EX_OSERR;
    }
  }
  return -1;
}

static void on_signal(int fd, short revents, void *arg) {
  (void)revents;
  struct sim *sim = arg;
  struct signalfd_siginfo si;
  if (read(fd, &si, sizeof si) != (ssize_t)sizeof si) return;
  sim->ended_by = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
  sched_quit();
}

static int watch_signals(struct sim *sim) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sim->sigfd = -1;
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
  sim->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sim->sigfd < 0) return -1;
  return sched_add_fd(sim->sigfd, POLLIN, on_signal, sim);
}

/* Reports every event that is due, then waits for the next one. */
static void on_event_due(void *arg) {
  struct sim *sim = arg;
  const struct scenario *s = sim->scn;
  double t = sched_mono_now() - sim->t0;
  char line[160];
  while (sim->next_event < s->n_events && s->events[sim->next_event].t <= t) {
    const struct scn_event *ev = &s->events[sim->next_event++];
    scenario_describe_event(s, ev, line, sizeof line);
    printf("t=%.3f %s\n", ev->t, line);
  }
  fflush(stdout);
  if (sim->next_event < s->n_events)
    sched_add_timer(s->events[sim->next_event].t - t, on_event_due, sim);
}

static void on_duration_over(void *arg) {
  struct sim *sim = arg;
  sim->ended_by = "the end of the scenario's duration";
  sched_quit();
}

/* ---- files ------------------------------------------------------------- */

/* Writes path via path.tmp and rename(2), so a reader never sees half. */
static int write_file(const char *path, void (*fill)(FILE *, const struct sim *),
                      const struct sim *sim) {
  char tmp[PATH_MAX];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) return -1;
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  fill(f, sim);
  bool bad = ferror(f) != 0;
  if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

static void fill_config(FILE *f, const struct sim *sim) {
  const struct scenario *s = sim->scn;
  bool keyed = false;
  fprintf(f, "# vettimed sources for scenario \"%s\" (%s), by vettime simulate\n",
          s->name, sim->opts.scenario);
  for (int i = 0; i < s->n_servers; i++) {
    const struct scn_server *sv = &s->servers[i];
    char addr[SCN_ADDR_LEN];
    scenario_format_addr(sv->addr, addr);
    fprintf(f, "# %s: refid %s, stratum %d\n", sv->name, sv->refid, sv->stratum);
    fprintf(f, "server %s port %d minpoll %d maxpoll %d iburst", addr, sv->port,
            s->minpoll, s->maxpoll);
    if (sv->key) fprintf(f, " key %u", sv->key);
    fputc('\n', f);
    keyed |= sv->key != 0;
  }
  char abs[PATH_MAX];
  if (keyed && sim->opts.keyfile)
    fprintf(f, "keyfile %s\n", realpath(sim->opts.keyfile, abs) ? abs : sim->opts.keyfile);
}

static void fill_ready(FILE *f, const struct sim *sim) {
  for (int i = 0; i < sim->scn->n_servers; i++) {
    const struct scn_server *sv = &sim->scn->servers[i];
    char addr[SCN_ADDR_LEN];
    scenario_format_addr(sv->addr, addr);
    fprintf(f, "%s %s %d\n", sv->name, addr, sv->port);
  }
}

static int write_files(const struct sim *sim) {
  const char *paths[2] = {sim->opts.config, sim->opts.ready};
  void (*fills[2])(FILE *, const struct sim *) = {fill_config, fill_ready};
  for (int i = 0; i < 2; i++) {
    if (paths[i] && write_file(paths[i], fills[i], sim) != 0) {
      fprintf(stderr, "vettime simulate: cannot write %s: %s\n", paths[i], strerror(errno));
      return EX_CANTCREAT;
    }
  }
  return -1;
}

/* ---- the run ----------------------------------------------------------- */

static void print_summary(FILE *out, const struct scenario *s) {
  fprintf(out, "scenario \"%s\": %d server%s, %d event%s, %g s, seed %llu, poll %d %d\n",
          s->name, s->n_servers, s->n_servers == 1 ? "" : "s", s->n_events,
          s->n_events == 1 ? "" : "s", s->duration, (unsigned long long)s->seed,
          s->minpoll, s->maxpoll);
  for (int i = 0; i < s->n_servers; i++) {
    const struct scn_server *sv = &s->servers[i];
    char addr[SCN_ADDR_LEN + 6];
    scenario_format_addr(sv->addr, addr);
    snprintf(addr + strlen(addr), sizeof addr - strlen(addr), ":%d", sv->port);
    fprintf(out, "  %-12s %-21s refid %-4s stratum %d offset %+.6f s\n", sv->name, addr,
            sv->refid, sv->stratum, sv->offset);
  }
}

static void print_counts(const struct sim *sim) {
  for (int i = 0; i < sim->scn->n_servers; i++) {
    const struct sim_server *sv = &sim->servers[i];
    fprintf(stderr, "vettime simulate: %s: answered %lu, kod %lu, silent %lu, dropped",
            sim->scn->servers[i].name, sv->answered, sv->kissed, sv->silenced);
    for (int d = 0; d < DROP_COUNT; d++)
      fprintf(stderr, " %s %lu%s", drop_names[d], sv->dropped[d],
              d + 1 < DROP_COUNT ? "," : "\n");
  }
}

/* Opens everything, writes the files, runs the loop. */
static int run(struct sim *sim) {
  int rc;
  if ((rc = load_keys(sim)) >= 0) return rc;
  sched_init();
  sim->t0 = sched_mono_now();
  if ((rc = open_servers(sim)) >= 0) return rc;
  if (watch_signals(sim) != 0) {
    fprintf(stderr, "vettime simulate: cannot watch signals: %s\n", strerror(errno));
    return EX_OSERR;
  }
  if ((rc = write_files(sim)) >= 0) return rc;
  print_summary(stderr, sim->scn);
  sched_add_timer(sim->scn->duration, on_duration_over, sim);
  on_event_due(sim); /* events at t = 0, then a timer for the next */
  if (sched_run() != 0) return EX_OSERR;
  fprintf(stderr, "vettime simulate: stopped by %s\n", sim->ended_by);
  print_counts(sim);
  return 0;
}

static void teardown(struct sim *sim) {
  for (int i = 0; i < sim->scn->n_servers; i++)
    if (sim->servers[i].fd >= 0) close(sim->servers[i].fd);
  if (sim->sigfd >= 0) close(sim->sigfd);
  sched_fini();
  keyring_free(&sim->keys);
}

int simulate_main(int argc, char **argv) {
  struct sim *sim = calloc(1, sizeof *sim);
  struct scenario *scn = malloc(sizeof *scn);
  if (!sim || !scn) {
    fprintf(stderr, "vettime simulate: out of memory\n");
    free(sim);
    free(scn);
    return EX_OSERR;
  }
  sim->scn = scn;
  sim->sigfd = -1;
  for (int i = 0; i < SCN_MAX_SERVERS; i++) sim->servers[i].fd = -1;
  int rc = parse_args(argc, argv, &sim->opts);
  char err[600];
  if (rc < 0 && access(sim->opts.scenario, R_OK) != 0) {
    fprintf(stderr, "vettime simulate: %s: %s\n", sim->opts.scenario, strerror(errno));
    rc = EX_NOINPUT;
  }
  if (rc < 0 && scenario_load(sim->opts.scenario, scn, err, sizeof err) != 0) {
    fprintf(stderr, "vettime simulate: %s\n", err);
    rc = EX_CONFIG;
  }
  if (rc < 0 && sim->opts.port_base) rc = renumber_ports(scn, sim->opts.port_base);
  if (rc < 0 && sim->opts.bind_base) rc = renumber_addresses(scn, sim->opts.bind_base);
  if (rc < 0 && sim->opts.check) {
    print_summary(stdout, scn);
    rc = 0;
  }
  if (rc < 0) {
    rc = run(sim);
    teardown(sim);
  }
  free(scn);
  free(sim);
  return rc;
}
