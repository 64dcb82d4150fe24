/* The gpsd probe: a TCP client of gpsd's JSON protocol (gpsd_json(5)),
 * watching with ?WATCH={"enable":true,"json":true,"pps":true}; and a thin
 * adaptor around the pure decoder and filters in gpsd_json.c.
 *
 * Time, best first (each used only while the last TPV epochs are trusted:
 * fix mode >= 2, three consecutive epochs, a plausible date, leap seconds
 * known where the receiver reports them; see gpsd_time_filter):
 *   PPS  real - clock of the PPS edge; bound max(2^precision, 1 us) + qErr;
 *   TOFF real - clock of the serial fix (clock = arrival of the cycle's
 *        first byte); bound TOFF_BOUND: serial latency is tens to hundreds
 *        of ms and not known per receiver;
 *   TPV  `time` - the local time the TPV line arrived; bound TPV_BOUND: gpsd
 *        reports a fix at the end of the receiver's cycle, up to a second
 *        after the second it names.
 * A sample's offset is receiver time - local time (the same sign as NTP).
 *
 * The class is the constellations used (SKY gnssid, counted per epoch):
 * GPS/GAL/GLO/BDS for one, GNSS for several; `class` in the config wins.
 * Health (fix, satellites, PPS, jam, antenna) is judged per epoch too, and
 * every sudden drop counts once in PC_DEGRADED (an event upstream).
 *
 * The connection is non-blocking through the loop; when gpsd goes away the
 * probe reconnects with a backoff from 1 s doubling to 60 s. A host name is
 * looked up off the loop (lib/resolver.h) before each connection attempt,
 * so a gpsd that moved is found again; a literal address never is. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/resolver.h"
#include "lib/sched.h"
#include "monitor/config.h"
#include "probes/driver_util.h"
#include "probes/gpsd_json.h"
#include "probes/probe.h"

#define WATCH_COMMAND "?WATCH={\"enable\":true,\"json\":true,\"pps\":true};\n"
#define BACKOFF_MIN 1.0     /* s, first reconnect delay */
#define BACKOFF_MAX 60.0    /* s, longest reconnect delay */
#define TICK 1.0            /* s, reach register, PPS and epoch timeouts */
#define FRESH 3.0           /* s a PPS/TOFF stream counts as present */
#define EPOCH_TIMEOUT 2.0   /* s after which an open epoch is closed */
#define PPS_MIN_BOUND 1e-6  /* s */
#define TOFF_BOUND 0.5      /* s */
#define TPV_BOUND 1.0       /* s */

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_UP };

/* What one epoch (the TPVs and SKYs naming the same second) showed. */
struct epoch {
  bool open;
  struct gpsd_time time;
  double opened_mono;
  int mode;
  int jam;
  enum gpsd_antenna ant;
  struct gpsd_sky_window sky;
};

struct probe {
  struct source_config cfg;
  int index;
  struct probe_host host;

  int fd;
  enum conn_state conn;
  bool was_up;                  /* a connection existed before: count reconnects */
  double backoff;
  sched_timer_id retry_timer, tick_timer;
  struct resolver_query *query; /* a lookup of cfg.host in flight */

  char line[GPSD_MAX_LINE + 1];
  size_t line_len;
  bool skipping;                /* discarding the rest of an over-long line */

  struct gpsd_time_filter filter;
  struct epoch ep;
  struct gpsd_health health;
  double last_pps_mono, last_toff_mono;
  bool sampled_this_tick;
  enum ref_class inferred;

  struct jitter_window jitter;

  struct probe_report rep;
};

static void schedule_connect(struct probe *p);

/* ---- small helpers ---- */

static void set_state(struct probe *p, const char *state) {
  if (strcmp(p->rep.state, state) == 0) return;
  LOG_INFO("%s: state %s -> %s", p->cfg.name, p->rep.state, state);
  snprintf(p->rep.state, sizeof p->rep.state, "%s", state);
}

static enum ref_class effective_class(const struct probe *p) {
  return p->cfg.class_set ? p->cfg.ref_class : p->inferred;
}

/* The class name as a refid: up to four ASCII bytes, first in the most
 * significant byte, as NTP refids are read off the wire. */
static uint32_t class_refid(enum ref_class c) {
  const char *name = c == CLASS_UNKNOWN ? "GNSS" : ref_class_name(c);
  uint32_t r = 0;
  for (int i = 0; i < 4; i++) r = r << 8 | (uint8_t)(*name ? *name++ : 0);
  return r;
}

static double ts_diff(struct gpsd_time a, struct gpsd_time b) {
  return (double)(a.sec - b.sec) + (a.nsec - b.nsec) * 1e-9;
}

static void update_detail(struct probe *p) {
  gpsd_health_format(&p->health, p->rep.detail, sizeof p->rep.detail);
}

/* ---- samples ---- */

/* rx: the local time of the measurement; offset: receiver - local. */
static void emit_sample(struct probe *p, struct timespec rx, double offset, double bound) {
  enum ref_class c = effective_class(p);
  struct vt_sample s = {.source = p->index, .rx_time = rx, .offset = offset,
                        .dispersion = bound, .error_bound = bound, .stratum = 0,
                        .refid = class_refid(c), .poll = 0};
  p->rep.counters[PC_VALID]++;
  p->rep.stratum = 0;
  p->rep.refid = s.refid;
  p->rep.have_sample = true;
  p->rep.last = s;
  p->rep.last_rx = rx;
  jitter_window_add(&p->jitter, offset, &p->rep);
  p->rep.filtered_offset = offset;
  p->rep.filtered_error = bound + p->rep.jitter;
  p->sampled_this_tick = true;
  set_state(p, "ok");
  p->host.on_sample(p->host.ctx, &s);
}

static struct timespec to_timespec(struct gpsd_time t) {
  return (struct timespec){.tv_sec = (time_t)t.sec, .tv_nsec = t.nsec};
}

static bool fresh(double last_mono) {
  return last_mono > 0 && sched_mono_now() - last_mono <= FRESH;
}

/* ---- health, per epoch ---- */

static void commit_health(struct probe *p, const struct gpsd_health *next) {
  unsigned drops = gpsd_health_drops(&p->health, next);
  p->health = *next;
  update_detail(p);
  if (!drops) return;
  static const struct { unsigned bit; const char *name; } names[] = {
      {GPSD_DROP_SATS, "satellites"}, {GPSD_DROP_FIX, "fix"}, {GPSD_DROP_PPS, "PPS"},
      {GPSD_DROP_JAM, "jamming"}, {GPSD_DROP_ANT, "antenna"}};
  char what[64] = "";
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (drops & names[i].bit)
      snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", what[0] ? ", " : "",
               names[i].name);
  p->rep.counters[PC_DEGRADED]++;
  LOG_WARN("%s: receiver health dropped (%s): %s", p->cfg.name, what, p->rep.detail);
}

static void close_epoch(struct probe *p) {
  if (!p->ep.open) return;
  struct gpsd_health next = p->health;
  next.mode = p->ep.mode;
  next.jam = p->ep.jam;
  next.ant = p->ep.ant;
  if (gpsd_sky_window_close(&p->ep.sky, next.used, &next.used_other)) {
    next.sky_known = true;
    enum ref_class c = gpsd_class_from_used(next.used);
    if (c != CLASS_UNKNOWN && c != p->inferred) {
      LOG_INFO("%s: class %s from the satellites used", p->cfg.name, ref_class_name(c));
      p->inferred = c;
      p->rep.inferred_class = c;
    }
  }
  p->ep.open = false;
  commit_health(p, &next);
}

/* A TPV naming another second (or none) closes the epoch before it; the
 * SKYs between two such TPVs make one epoch's satellite counts, whichever
 * order the receiver sends them in. */
static void epoch_tpv(struct probe *p, const struct gpsd_tpv *t) {
  bool same = p->ep.open && t->has_time && t->time.sec == p->ep.time.sec &&
              t->time.nsec == p->ep.time.nsec;
  if (!same) {
    close_epoch(p); /* empties the window; SKYs since a closed epoch stay */
    struct gpsd_sky_window sky = p->ep.sky;
    p->ep = (struct epoch){.open = true, .time = t->time, .opened_mono = sched_mono_now(),
                           .mode = t->mode, .jam = -1, .ant = GPSD_ANT_UNKNOWN, .sky = sky};
  }
  if (t->mode > p->ep.mode) p->ep.mode = t->mode;
  if (t->jam > p->ep.jam) p->ep.jam = t->jam;
  if (t->ant > p->ep.ant) p->ep.ant = t->ant;
}

/* ---- messages ---- */

static void count_untrusted(struct probe *p, const char *why) {
  p->rep.counters[PC_UNTRUSTED]++;
  set_state(p, "untrusted");
  LOG_RATELIMITED(LOG_LVL_INFO, "%s: time not trusted: %s", p->cfg.name, why);
}

static void on_tpv(struct probe *p, const struct gpsd_tpv *t) {
  epoch_tpv(p, t);
  enum gpsd_verdict v = gpsd_time_filter_tpv(&p->filter, t);
  if (v == GPSD_TIME_REPEAT) return;
  if (v != GPSD_TIME_TRUSTED) {
    count_untrusted(p, gpsd_verdict_name(v));
    return;
  }
  if (fresh(p->last_pps_mono) || fresh(p->last_toff_mono)) return; /* better time exists */
  struct timespec rx = sched_real_now();
  struct gpsd_time local = {rx.tv_sec, (int32_t)rx.tv_nsec};
  emit_sample(p, rx, ts_diff(t->time, local), TPV_BOUND);
}

static void on_sky(struct probe *p, const struct gpsd_sky *s) {
  gpsd_sky_window_add(&p->ep.sky, s);
  if (s->jam > p->ep.jam) p->ep.jam = s->jam;
}

static void on_pps(struct probe *p, const struct gpsd_pps *pps, bool is_pps) {
  if (is_pps) {
    if (!p->health.pps) {
      p->health.pps = true;
      update_detail(p);
    }
    p->last_pps_mono = sched_mono_now();
  } else {
    p->last_toff_mono = sched_mono_now();
  }
  if (!gpsd_time_filter_trusted(&p->filter)) {
    count_untrusted(p, is_pps ? "PPS without a trusted fix" : "TOFF without a trusted fix");
    return;
  }
  if (!is_pps && fresh(p->last_pps_mono)) return;
  double bound = TOFF_BOUND;
  if (is_pps) {
    bound = pps->has_precision ? ldexp(1.0, pps->precision) : PPS_MIN_BOUND;
    if (bound < PPS_MIN_BOUND) bound = PPS_MIN_BOUND;
    bound += pps->qerr;
  }
  emit_sample(p, to_timespec(pps->clock), ts_diff(pps->real, pps->clock), bound);
}

/* Binary receivers report leap seconds once they know them: require them. */
static void on_device(struct probe *p, const struct gpsd_device *dev) {
  if (p->cfg.device[0] && strcmp(dev->path, p->cfg.device) != 0) return;
  if (!dev->driver[0]) return;
  if (!strstr(dev->driver, "NMEA")) p->filter.leap = GPSD_LEAP_REQUIRE;
  LOG_INFO("%s: device %s, driver %s", p->cfg.name, dev->path, dev->driver);
}

static void on_devices(struct probe *p, const struct gpsd_devices *d) {
  for (int i = 0; i < d->n; i++) on_device(p, &d->dev[i]);
}

/* Messages about one receiver are dropped when `device` names another. */
static bool other_device(const struct probe *p, const struct gpsd_msg *m) {
  return p->cfg.device[0] && strcmp(m->device, p->cfg.device) != 0;
}

static void dispatch(struct probe *p, const struct gpsd_msg *m) {
  switch (m->cls) {
  case GPSD_MSG_TPV: if (!other_device(p, m)) on_tpv(p, &m->u.tpv); break;
  case GPSD_MSG_SKY: if (!other_device(p, m)) on_sky(p, &m->u.sky); break;
  case GPSD_MSG_PPS: if (!other_device(p, m)) on_pps(p, &m->u.pps, true); break;
  case GPSD_MSG_TOFF: if (!other_device(p, m)) on_pps(p, &m->u.pps, false); break;
  case GPSD_MSG_DEVICES: on_devices(p, &m->u.devices); break;
  case GPSD_MSG_DEVICE: on_device(p, &m->u.device); break;
  case GPSD_MSG_VERSION:
    p->backoff = BACKOFF_MIN; /* a real gpsd answered */
    LOG_INFO("%s: gpsd %s, protocol %d.%d", p->cfg.name, m->u.version.release,
             m->u.version.proto_major, m->u.version.proto_minor);
    break;
  case GPSD_MSG_ERROR:
    LOG_RATELIMITED(LOG_LVL_WARN, "%s: gpsd says: %s", p->cfg.name, m->u.error.message);
    break;
  default: break;
  }
}

static void handle_line(struct probe *p, const char *line, size_t len) {
  struct gpsd_msg m;
  p->rep.counters[PC_RECEIVED]++;
  enum gpsd_error e = gpsd_json_decode_line(line, len, &m);
  if (e == GPSD_ERR_EMPTY) return;
  if (e != GPSD_OK) {
    p->rep.counters[PC_BAD_INPUT]++;
    LOG_RATELIMITED(LOG_LVL_INFO, "%s: dropped a %zu-byte %s%smessage: %s", p->cfg.name, len,
                    m.cls == GPSD_MSG_NONE ? "" : gpsd_msg_class_name(m.cls),
                    m.cls == GPSD_MSG_NONE ? "" : " ", gpsd_error_name(e));
    return;
  }
  dispatch(p, &m);
}

/* ---- the line buffer ---- */

static void too_long(struct probe *p) {
  p->rep.counters[PC_RECEIVED]++;
  p->rep.counters[PC_BAD_LENGTH]++;
  LOG_RATELIMITED(LOG_LVL_INFO, "%s: skipped a line longer than %d bytes", p->cfg.name,
                  GPSD_MAX_LINE);
}

/* Appends received bytes and handles every complete line. A line that
 * outgrows the buffer is counted once and skipped up to its newline. */
static void take_bytes(struct probe *p, const char *data, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = data[i];
    if (c == '\n') {
      if (!p->skipping) handle_line(p, p->line, p->line_len);
      p->skipping = false;
      p->line_len = 0;
    } else if (p->skipping) {
      continue;
    } else if (p->line_len == GPSD_MAX_LINE) {
      too_long(p);
      p->skipping = true;
      p->line_len = 0;
    } else {
      p->line[p->line_len++] = c;
    }
  }
}

/* ---- the connection ---- */

static void close_conn(struct probe *p) {
  if (p->fd >= 0) {
    sched_remove_fd(p->fd);
    close(p->fd);
  }
  p->fd = -1;
  p->conn = CONN_IDLE;
  p->line_len = 0;
  p->skipping = false;
}

/* The receiver's state starts over with a new connection; gpsd going away
 * is the state "lost" (and the vote's "unreachable"), not a degradation. */
static void lose_conn(struct probe *p, const char *why) {
  LOG_RATELIMITED(LOG_LVL_WARN, "%s: %s", p->cfg.name, why);
  bool was_up = p->conn == CONN_UP;
  close_conn(p);
  gpsd_time_filter_init(&p->filter, 0, p->filter.leap);
  p->ep = (struct epoch){0};
  p->last_pps_mono = p->last_toff_mono = 0;
  p->health = (struct gpsd_health){.jam = -1}; /* unknown, not degraded */
  update_detail(p);
  set_state(p, was_up ? "lost" : "unreachable");
  schedule_connect(p);
}

static void on_readable(int fd, short revents, void *arg) {
  struct probe *p = arg;
  (void)revents;
  for (;;) {
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      take_bytes(p, buf, (size_t)n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    lose_conn(p, n == 0 ? "gpsd closed the connection" : strerror(errno));
    return;
  }
}

static void connected(struct probe *p) {
  static const char watch[] = WATCH_COMMAND;
  if (send(p->fd, watch, sizeof watch - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof watch - 1)) {
    lose_conn(p, "cannot send the WATCH command");
    return;
  }
  sched_remove_fd(p->fd);
  if (sched_add_fd(p->fd, POLLIN, on_readable, p)) {
    lose_conn(p, "the event loop cannot watch the connection");
    return;
  }
  p->conn = CONN_UP;
  if (p->was_up) p->rep.counters[PC_RECONNECT]++;
  p->was_up = true;
  set_state(p, "connected");
  LOG_INFO("%s: connected", p->cfg.name);
}

static void on_connect_done(int fd, short revents, void *arg) {
  struct probe *p = arg;
  int err = 0;
  socklen_t len = sizeof err;
  (void)revents;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err) {
    char why[400];
    snprintf(why, sizeof why, "cannot connect to %s:%d: %s", p->cfg.host, p->cfg.port, strerror(err));
    lose_conn(p, why);
    return;
  }
  connected(p);
}

static int open_conn(struct probe *p, const struct sockaddr_storage *addr, socklen_t addrlen) {
  int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (const struct sockaddr *)addr, addrlen) < 0 && errno != EINPROGRESS) {
    close(fd);
    fd = -1;
  }
  if (fd < 0) return -1;
  if (sched_add_fd(fd, POLLOUT, on_connect_done, p)) {
    LOG_RATELIMITED(LOG_LVL_WARN, "%s: the event loop cannot watch one more descriptor",
                    p->cfg.name);
    close(fd);
    return -1;
  }
  p->fd = fd;
  p->conn = CONN_CONNECTING;
  return 0;
}

static void connect_to(struct probe *p, const struct sockaddr_storage *addr, socklen_t addrlen) {
  if (open_conn(p, addr, addrlen) < 0) {
    set_state(p, "unreachable");
    schedule_connect(p);
  }
}

static void on_resolved(const struct resolver_answer *a, void *arg) {
  struct probe *p = arg;
  p->query = NULL;
  if (a->error) {
    LOG_RATELIMITED(LOG_LVL_WARN, "%s: cannot resolve %s: %s", p->cfg.name, p->cfg.host,
                    a->error_text);
    set_state(p, "unresolved");
    schedule_connect(p);
    return;
  }
  connect_to(p, &a->addr, a->addrlen);
}

static void on_retry(void *arg) {
  struct probe *p = arg;
  p->retry_timer = 0;
  if (p->conn != CONN_IDLE || p->query) return;
  struct sockaddr_storage addr;
  socklen_t len;
  if (resolver_literal(p->cfg.host, p->cfg.port, SOCK_STREAM, &addr, &len) == 0) {
    connect_to(p, &addr, len);
    return;
  }
  p->query = resolver_lookup(p->cfg.host, p->cfg.port, SOCK_STREAM, on_resolved, p);
  if (!p->query) {
    LOG_RATELIMITED(LOG_LVL_WARN, "%s: cannot start a lookup of %s: %s", p->cfg.name,
                    p->cfg.host, strerror(errno));
    set_state(p, "unreachable");
    schedule_connect(p);
  }
}

static void schedule_connect(struct probe *p) {
  if (p->retry_timer) return;
  p->retry_timer = sched_add_timer(p->backoff, on_retry, p);
  p->backoff = p->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : p->backoff * 2;
}

/* ---- once a second ---- */

static void on_tick(void *arg) {
  struct probe *p = arg;
  p->rep.reach = ((p->rep.reach << 1) | (p->sampled_this_tick ? 1u : 0u)) & 0xff;
  p->sampled_this_tick = false;
  if (p->ep.open && sched_mono_now() - p->ep.opened_mono > EPOCH_TIMEOUT) close_epoch(p);
  if (p->health.pps && !fresh(p->last_pps_mono)) {
    struct gpsd_health next = p->health;
    next.pps = false;
    commit_health(p, &next);
  }
  p->tick_timer = sched_add_timer(TICK, on_tick, p);
}

/* ---- the driver interface ---- */

static void gpsd_stop(struct probe *p);

static struct probe *gpsd_start(const struct source_config *cfg, int index,
                                const struct probe_host *host, char *err, size_t errlen) {
  struct probe *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->cfg = *cfg;
  p->index = index;
  p->host = *host;
  p->fd = -1;
  p->backoff = BACKOFF_MIN;
  gpsd_time_filter_init(&p->filter, 0, GPSD_LEAP_AUTO);
  p->health = (struct gpsd_health){.jam = -1};
  p->rep.stratum = -1;
  p->rep.poll = 0;
  p->rep.inferred_class = CLASS_UNKNOWN;
  snprintf(p->rep.state, sizeof p->rep.state, "init");
  update_detail(p);
  p->retry_timer = sched_add_timer(0, on_retry, p);
  p->tick_timer = sched_add_timer(TICK, on_tick, p);
  if (!p->retry_timer || !p->tick_timer) {
    snprintf(err, errlen, "gpsd %s: out of memory for a timer", cfg->name);
    gpsd_stop(p);
    return NULL;
  }
  return p;
}

static void gpsd_stop(struct probe *p) {
  resolver_cancel(p->query);
  sched_cancel_timer(p->retry_timer);
  sched_cancel_timer(p->tick_timer);
  close_conn(p);
  free(p);
}

static void gpsd_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops gpsd_ops = {"gpsd", gpsd_start, gpsd_stop, gpsd_report};
