/* The NMEA serial probe (`nmea DEVICE [baud N] [pps DEVICE] [offset S]
 * [class C]`): a GNSS receiver speaking NMEA 0183 on a serial line, with an
 * optional kernel PPS device (RFC 2783, /dev/ppsN). A thin adaptor over the
 * event loop: the pure decoder (probes/nmea.c) does the framing, checksums,
 * sentences and trust; this file does termios, reads, PPS fetches, the
 * samples and the report.
 *
 * Timing. The serial line is raw 8N1 at `baud`, non-blocking, VMIN 1. The
 * clock is read right after each read() returns (the one clock read
 * outside the loop's once-per-wake-up reading, because a byte's arrival
 * has to be timed where it happens); a '$' that came k bytes before the
 * end of the read is placed k character times earlier, and its start bit
 * one character time before that (this assumes the bytes of a burst came
 * back to back, as receivers send them; a loop late by more than the gap
 * between sentences mis-times that read). The time of a cycle is the start
 * of the first byte of its first sentence, minus `offset` (the receiver's
 * fixed delay from the second to its first byte: tens to hundreds of ms,
 * receiver specific; measure it against NTP and configure it).
 *
 * Error bound: without PPS NMEA_SERIAL_BOUND (100 ms: the jitter of the
 * serial output plus what remains of the configured offset); with a PPS
 * edge that agrees with the sentence within 0.4 s, NMEA_PPS_BOUND (10 us:
 * kernel interrupt latency) plus the measured jitter. A PPS edge that
 * disagrees is counted (pps_mismatch) and the serial time is used alone.
 *
 * A device that cannot be opened at start is a fatal configuration error;
 * one that goes away later (EOF, EIO: USB unplugged, pty closed) is
 * reopened every REOPEN_INTERVAL seconds and counted as a reconnect. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timepps.h>
#include <termios.h>
#include <unistd.h>

#include "monitor/config.h"
#include "monitor/log.h"
#include "monitor/sched.h"
#include "probes/nmea.h"
#include "probes/probe.h"

#define NMEA_SERIAL_BOUND 0.100 /* s, error bound of a serial-only time */
#define NMEA_PPS_BOUND 10e-6    /* s, error bound of a PPS-timed second */
#define PPS_MAX_AGE 1.5         /* s: an older assert edge is not this second's */
#define TICK 1.0                /* s: the reach register shifts once a tick */
#define NO_DATA_AFTER 5.0       /* s without a sentence: state "no-data" */
#define REOPEN_INTERVAL 5.0     /* s between attempts to reopen a lost device */
#define FILTER_LEN 8

struct probe {
  struct source_config cfg;
  int index;
  struct probe_host host;
  int fd;
  double byte_time;            /* s per character on the line (10 bits) */
  bool have_pps;
  pps_handle_t pps;
  struct nmea_framer framer;
  struct nmea_receiver rx;
  bool trusted;                /* the last time was trusted */
  bool pps_in_use;
  double last_data;            /* monotonic s of the last good sentence */
  double lost_since;           /* monotonic s the device went away; < 0 if not */
  sched_timer_id tick;
  double offsets[FILTER_LEN];
  int n_offsets, next_offset;
  struct probe_report rep;
};

/* ---- serial line and PPS ---- */

static speed_t baud_constant(int baud) {
  static const struct { int baud; speed_t c; } rates[] = {
      {1200, B1200}, {2400, B2400}, {4800, B4800}, {9600, B9600}, {19200, B19200},
      {38400, B38400}, {57600, B57600}, {115200, B115200}, {230400, B230400}};
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
    if (rates[i].baud == baud) return rates[i].c;
  return B9600;
}

/* Opens the device raw 8N1 at the configured rate, non-blocking. A device
 * that is not a terminal (a FIFO in tests) is used as it is. */
static int open_serial(const struct source_config *cfg) {
  int fd = open(cfg->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, baud_constant(cfg->baud));
    cfsetospeed(&t, baud_constant(cfg->baud));
    if (tcsetattr(fd, TCSANOW, &t) < 0) LOG_WARN("nmea %s: cannot set the line: %s", cfg->name, strerror(errno));
    tcflush(fd, TCIFLUSH);
  }
  return fd;
}

/* RFC 2783: capture assert edges as timespecs. */
static int open_pps(struct probe *p, char *err, size_t errlen) {
  int fd = open(p->cfg.pps, O_RDWR | O_CLOEXEC);
  int mode = 0;
  if (fd < 0 || time_pps_create(fd, &p->pps) < 0 || time_pps_getcap(p->pps, &mode) < 0 ||
      !(mode & PPS_CAPTUREASSERT)) {
    snprintf(err, errlen, "nmea %s: pps %s: %s", p->cfg.name, p->cfg.pps,
             fd < 0 || errno ? strerror(errno) : "cannot capture assert edges");
    if (fd >= 0) close(fd);
    return -1;
  }
  pps_params_t params;
  time_pps_getparams(p->pps, &params);
  params.mode = PPS_CAPTUREASSERT | PPS_TSFMT_TSPEC;
  if (time_pps_setparams(p->pps, &params) < 0)
    LOG_WARN("nmea %s: pps %s: cannot set parameters: %s", p->cfg.name, p->cfg.pps, strerror(errno));
  p->have_pps = true;
  return 0;
}

/* The last assert edge, without waiting (a zero timeout, never NULL: NULL
 * would block until the next edge). */
static bool fetch_pps(struct probe *p, struct timespec *edge, struct timespec now) {
  pps_info_t info;
  struct timespec zero = {0, 0};
  if (!p->have_pps || time_pps_fetch(p->pps, PPS_TSFMT_TSPEC, &info, &zero) < 0) return false;
  *edge = info.assert_timestamp;
  double age = (double)(now.tv_sec - edge->tv_sec) + (now.tv_nsec - edge->tv_nsec) * 1e-9;
  return info.assert_sequence > 0 && age >= 0 && age <= PPS_MAX_AGE;
}

/* ---- state and report ---- */

/* The report's detail line; a long one is cut. */
__attribute__((format(printf, 2, 3)))
static void set_detail_text(struct probe *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->rep.detail, sizeof p->rep.detail, fmt, ap);
  va_end(ap);
}

static void set_state(struct probe *p, const char *state) {
  if (strcmp(p->rep.state, state) == 0) return;
  LOG_INFO("nmea %s: state %s -> %s", p->cfg.name, p->rep.state, state);
  snprintf(p->rep.state, sizeof p->rep.state, "%s", state);
}

static void set_detail(struct probe *p, const struct nmea_time *t) {
  char sats[120];
  static const char *const fixes[] = {"no fix info", "no fix", "2D fix", "3D fix"};
  nmea_format_sats(t->used, t->in_view, sats, sizeof sats);
  set_detail_text(p, "%s %s%s%s%s%s%s", ref_class_name(t->cls),
           fixes[t->fix >= 0 && t->fix <= 3 ? t->fix : 0], sats[0] ? ", " : "", sats,
           p->pps_in_use ? ", PPS" : "", t->trusted ? "" : "; untrusted: ", t->trusted ? "" : t->why);
}

/* Median of the recent offsets; jitter their RMS distance from it. */
static void filter_add(struct probe *p, double offset, double bound) {
  p->offsets[p->next_offset] = offset;
  p->next_offset = (p->next_offset + 1) % FILTER_LEN;
  if (p->n_offsets < FILTER_LEN) p->n_offsets++;
  double s[FILTER_LEN];
  memcpy(s, p->offsets, sizeof s);
  for (int i = 1; i < p->n_offsets; i++)
    for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
      double x = s[j]; s[j] = s[j - 1]; s[j - 1] = x;
    }
  double med = s[p->n_offsets / 2], sum = 0;
  for (int i = 0; i < p->n_offsets; i++) sum += (s[i] - med) * (s[i] - med);
  p->rep.jitter = p->n_offsets > 1 ? sqrt(sum / (p->n_offsets - 1)) : 0;
  p->rep.filtered_offset = med;
  p->rep.filtered_error = bound + p->rep.jitter;
}

/* The refid a stratum-1 server fed by this receiver would send: the class
 * name, NUL-padded, first character in the most significant byte. */
static uint32_t class_refid(enum ref_class c) {
  char id[5] = {0};
  snprintf(id, sizeof id, "%s", c == CLASS_UNKNOWN ? "GNSS" : ref_class_name(c));
  return (uint32_t)(uint8_t)id[0] << 24 | (uint32_t)(uint8_t)id[1] << 16 |
         (uint32_t)(uint8_t)id[2] << 8 | (uint8_t)id[3];
}

/* ---- samples ---- */

static void emit(struct probe *p, const struct nmea_time *t, double offset, double bound, struct timespec rx) {
  filter_add(p, offset, bound);
  struct vt_sample s = {.source = p->index, .rx_time = rx, .offset = offset, .dispersion = bound,
                        .error_bound = bound + p->rep.jitter, .stratum = 0,
                        .refid = class_refid(t->cls), .poll = 0};
  p->rep.counters[PC_VALID]++;
  p->rep.reach |= 1;
  p->rep.stratum = 0;
  p->rep.refid = s.refid;
  p->rep.inferred_class = t->cls;
  p->rep.have_sample = true;
  p->rep.last = s;
  p->rep.last_rx = rx;
  set_state(p, "ok");
  p->host.on_sample(p->host.ctx, &s);
}

/* A trusted time: PPS-timed when an edge agrees, else serial-timed. */
static void use_time(struct probe *p, const struct nmea_time *t) {
  double start = t->stamp - p->byte_time - p->cfg.offset; /* start bit of the first '$' */
  double serial = (double)t->utc + t->frac - start;
  struct timespec rx = {(time_t)floor(start), (long)((start - floor(start)) * 1e9)};
  struct timespec edge, now;
  clock_gettime(CLOCK_REALTIME, &now);
  double pps_offset;
  bool had_pps = p->pps_in_use;
  p->pps_in_use = false;
  if (fetch_pps(p, &edge, now)) {
    if (nmea_pps_match(t->utc, start - t->frac, edge.tv_sec, edge.tv_nsec, &pps_offset) == 0) {
      p->pps_in_use = true;
      emit(p, t, pps_offset, NMEA_PPS_BOUND, edge);
      return;
    }
    p->rep.counters[PC_PPS_MISMATCH]++;
    LOG_RATELIMITED(LOG_LVL_WARN, "nmea %s: PPS edge %.3f s from the serial time of %lld",
                    p->cfg.name, (double)edge.tv_sec + edge.tv_nsec * 1e-9 - (start - t->frac),
                    (long long)t->utc);
  }
  if (had_pps) {
    p->rep.counters[PC_DEGRADED]++;
    LOG_WARN("nmea %s: PPS lost; serial time only", p->cfg.name);
  }
  emit(p, t, serial, NMEA_SERIAL_BOUND, rx);
}

static void handle_time(struct probe *p, const struct nmea_time *t) {
  set_detail(p, t);
  if (t->trusted) {
    p->trusted = true;
    use_time(p, t);
    return;
  }
  p->rep.counters[PC_UNTRUSTED]++;
  if (p->trusted) {
    p->rep.counters[PC_DEGRADED]++;
    LOG_WARN("nmea %s: time no longer trusted: %s", p->cfg.name, t->why);
  }
  p->trusted = false;
  set_state(p, "untrusted");
  LOG_RATELIMITED(LOG_LVL_INFO, "nmea %s: time not trusted: %s", p->cfg.name, t->why);
}

static void handle_sentence(struct probe *p, const struct nmea_frame *f) {
  struct nmea_sentence s;
  struct nmea_time t;
  char why[96];
  p->rep.counters[PC_RECEIVED]++;
  enum nmea_status st = nmea_parse(f->text, &s, why, sizeof why);
  if (st == NMEA_BAD_CHECKSUM || st == NMEA_BAD_FORMAT || st == NMEA_BAD_FIELD) {
    p->rep.counters[st == NMEA_BAD_CHECKSUM ? PC_BAD_CHECKSUM : PC_BAD_INPUT]++;
    LOG_RATELIMITED(LOG_LVL_INFO, "nmea %s: dropped a sentence: %s: %s", p->cfg.name,
                    nmea_status_name(st), why);
    return;
  }
  p->last_data = sched_mono_now();
  if (st == NMEA_OK && nmea_receiver_update(&p->rx, &s, f->stamp, &t)) handle_time(p, &t);
}

static void handle_frame(struct probe *p, const struct nmea_frame *f) {
  if (f->kind == NMEA_FRAME_SENTENCE) {
    handle_sentence(p, f);
  } else if (f->kind == NMEA_FRAME_GARBAGE) {
    p->rep.counters[PC_BAD_INPUT]++;
    LOG_RATELIMITED(LOG_LVL_INFO, "nmea %s: skipped input: %s", p->cfg.name, f->text);
  }
}

/* ---- the loop ---- */

static void device_lost(struct probe *p, const char *why) {
  LOG_WARN("nmea %s: device lost (%s); reopening every %.0f s", p->cfg.name, why, REOPEN_INTERVAL);
  sched_remove_fd(p->fd);
  close(p->fd);
  p->fd = -1;
  p->lost_since = sched_mono_now();
  nmea_framer_init(&p->framer);
  nmea_receiver_init(&p->rx); /* a receiver back from the dead earns trust anew */
  p->trusted = false;
  set_state(p, "no-device");
}

static void on_readable(int fd, short revents, void *arg) {
  struct probe *p = arg;
  (void)revents;
  for (;;) {
    uint8_t buf[1024];
    ssize_t n = read(fd, buf, sizeof buf);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      device_lost(p, n == 0 ? "end of file" : strerror(errno));
      return;
    }
    if (n < 0) return;
    double stamp = (double)now.tv_sec + now.tv_nsec * 1e-9;
    for (size_t at = 0; at < (size_t)n;) {
      struct nmea_frame f;
      at += nmea_framer_push(&p->framer, buf + at, (size_t)n - at, stamp, p->byte_time, &f);
      handle_frame(p, &f);
    }
  }
}

static void try_reopen(struct probe *p) {
  if (sched_mono_now() - p->lost_since < REOPEN_INTERVAL) return;
  p->lost_since = sched_mono_now();
  int fd = open_serial(&p->cfg);
  if (fd < 0) return;
  p->fd = fd;
  sched_add_fd(fd, POLLIN, on_readable, p);
  p->rep.counters[PC_RECONNECT]++;
  LOG_INFO("nmea %s: device reopened", p->cfg.name);
  set_state(p, "init");
}

static void on_tick(void *arg) {
  struct probe *p = arg;
  p->rep.reach = (p->rep.reach << 1) & 0xff;
  if (p->fd < 0) try_reopen(p);
  else if (sched_mono_now() - p->last_data > NO_DATA_AFTER) set_state(p, "no-data");
  p->tick = sched_add_timer(TICK, on_tick, p);
}

/* ---- the driver interface ---- */

static struct probe *nmea_start(const struct source_config *cfg, int index, const struct probe_host *host,
                                char *err, size_t errlen) {
  struct probe *p = calloc(1, sizeof *p);
  if (!p) return snprintf(err, errlen, "out of memory"), NULL;
  p->cfg = *cfg;
  p->index = index;
  p->host = *host;
  p->byte_time = 10.0 / (cfg->baud > 0 ? cfg->baud : 9600);
  p->lost_since = -1;
  p->last_data = sched_mono_now();
  p->rep.stratum = -1;
  snprintf(p->rep.state, sizeof p->rep.state, "init");
  nmea_framer_init(&p->framer);
  nmea_receiver_init(&p->rx);
  p->fd = open_serial(cfg);
  if (p->fd < 0) {
    snprintf(err, errlen, "nmea %s: cannot open: %s", cfg->name, strerror(errno));
    free(p);
    return NULL;
  }
  if (cfg->pps[0] && open_pps(p, err, errlen) < 0) {
    close(p->fd);
    free(p);
    return NULL;
  }
  sched_add_fd(p->fd, POLLIN, on_readable, p);
  p->tick = sched_add_timer(TICK, on_tick, p);
  LOG_INFO("nmea %s: reading at %d baud%s%s", cfg->name, cfg->baud, p->have_pps ? ", PPS from " : "",
           p->have_pps ? cfg->pps : "");
  return p;
}

static void nmea_stop(struct probe *p) {
  sched_cancel_timer(p->tick);
  if (p->fd >= 0) {
    sched_remove_fd(p->fd);
    close(p->fd);
  }
  if (p->have_pps) time_pps_destroy(p->pps);
  free(p);
}

static void nmea_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops nmea_ops = {"nmea", nmea_start, nmea_stop, nmea_report};
