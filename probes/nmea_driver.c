/* The NMEA serial probe (`nmea DEVICE [baud N] [pps DEVICE] [offset S]
 * [class C]`): a GNSS receiver speaking NMEA 0183 on a serial line, with an
 * optional kernel PPS device (RFC 2783, /dev/ppsN). A thin adaptor over the
 * event loop: the pure decoder (probes/nmea.c) does the framing, checksums,
 * sentences and trust; probes/serial.c opens, reads and reopens the line;
 * this file sets its parameters and does the PPS fetches, the samples and
 * the report.
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
 * Jumps: a trusted time must also agree with the receiver's own earlier
 * times on the local oscillator (probes/rx_continuity.h): NMEA's own
 * check only asks that each cycle's time advanced by 1 to 10 s, which a
 * +5 s jump passes and after which a jump is believed three cycles later.
 * After a jump the receiver gives no sample until its seconds have been
 * consistent for `settle` minutes (default 3); `jumps` counts the step.
 *
 * A device that cannot be opened at start is a fatal configuration error;
 * one that goes away later (EOF, EIO: USB unplugged, pty closed) is
 * reopened every SERIAL_REOPEN_INTERVAL seconds and counted as a reconnect. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timepps.h>
#include <termios.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "monitor/config.h"
#include "probes/driver_util.h"
#include "probes/nmea.h"
#include "probes/probe.h"
#include "probes/serial.h"

#define NMEA_SERIAL_BOUND 0.100 /* s, error bound of a serial-only time */
#define NMEA_PPS_BOUND 10e-6    /* s, error bound of a PPS-timed second */
#define PPS_MAX_AGE 1.5         /* s: an older assert edge is not this second's */
#define TICK 1.0                /* s: the reach register shifts once a tick */
#define NO_DATA_AFTER 5.0       /* s without a sentence: state "no-data" */

struct probe {
  struct source_config cfg;
  int index;
  struct probe_host host;
  struct serial_line line;
  double byte_time;            /* s per character on the line (10 bits) */
  bool have_pps;
  pps_handle_t pps;
  struct nmea_framer framer;
  struct nmea_receiver rx;
  struct rx_continuity cont;   /* the receiver's time against the oscillator */
  double osc_minus_real;       /* this read: CLOCK_MONOTONIC_RAW - CLOCK_REALTIME, s */
  bool trusted;                /* the last time was trusted */
  bool pps_in_use;
  double last_data;            /* monotonic s of the last good sentence */
  sched_timer_id tick;
  struct median_filter filter;
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
  double age = timespec_diff_seconds(now, *edge);
  return info.assert_sequence > 0 && age >= 0 && age <= PPS_MAX_AGE;
}

/* ---- state and report ---- */

static void set_state(struct probe *p, const char *state) {
  driver_set_state(&p->rep, "nmea", p->cfg.name, state);
}

static void set_detail(struct probe *p, const struct nmea_time *t) {
  char sats[120];
  static const char *const fixes[] = {"no fix info", "no fix", "2D fix", "3D fix"};
  nmea_format_sats(t->used, t->in_view, sats, sizeof sats);
  driver_set_detail(&p->rep, "%s %s%s%s%s%s%s", ref_class_name(t->cls),
           fixes[t->fix >= 0 && t->fix <= 3 ? t->fix : 0], sats[0] ? ", " : "", sats,
           p->pps_in_use ? ", PPS" : "", t->trusted ? "" : "; untrusted: ", t->trusted ? "" : t->why);
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
  median_filter_add(&p->filter, offset, bound, &p->rep);
  struct vt_sample s = {.source = p->index, .rx_time = rx, .offset = offset, .dispersion = bound,
                        .error_bound = bound + p->rep.jitter, .stratum = 0,
                        .refid = class_refid(t->cls), .poll = 0};
  driver_record_sample(&p->rep, &s);
  p->rep.reach |= 1;
  p->rep.inferred_class = t->cls;
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
                    p->cfg.name, timespec_seconds(edge) - (start - t->frac),
                    (long long)t->utc);
  }
  if (had_pps) {
    p->rep.counters[PC_DEGRADED]++;
    LOG_WARN("nmea %s: PPS lost; serial time only", p->cfg.name);
  }
  emit(p, t, serial, NMEA_SERIAL_BOUND, rx);
}

/* Does the trusted time run on from the receiver's earlier ones? Judged
 * at the serial start of the cycle (PPS or not: the edge only refines it). */
static bool continuous(struct probe *p, const struct nmea_time *t) {
  double start = t->stamp - p->byte_time - p->cfg.offset;
  return driver_continuity(&p->cont, &p->filter, &p->rep, "nmea", p->cfg.name, (double)t->utc + t->frac,
                           start + p->osc_minus_real);
}

static void handle_time(struct probe *p, const struct nmea_time *t) {
  set_detail(p, t);
  if (t->trusted) {
    p->trusted = true;
    if (continuous(p, t)) use_time(p, t);
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

/* The line went away (serial.c closed it and logged it). */
static void on_lost(void *ctx, const char *why) {
  struct probe *p = ctx;
  (void)why;
  nmea_framer_init(&p->framer);
  nmea_receiver_init(&p->rx); /* a receiver back from the dead earns trust anew */
  p->trusted = false;
  set_state(p, "no-device");
}

static void on_bytes(void *ctx, const uint8_t *buf, size_t n, struct timespec now, double osc) {
  struct probe *p = ctx;
  double stamp = timespec_seconds(now);
  p->osc_minus_real = osc - stamp;
  for (size_t at = 0; at < n;) {
    struct nmea_frame f;
    at += nmea_framer_push(&p->framer, buf + at, n - at, stamp, p->byte_time, &f);
    handle_frame(p, &f);
  }
}

static void on_tick(void *arg) {
  struct probe *p = arg;
  p->rep.reach = (p->rep.reach << 1) & 0xff;
  serial_tick(&p->line, &p->rep, p->last_data, NO_DATA_AFTER);
  p->tick = sched_add_timer(TICK, on_tick, p);
}

/* ---- the driver interface ---- */

/* Raw 8N1 at the configured rate. */
static void init_line(struct probe *p) {
  p->line = (struct serial_line){.kind = "nmea", .name = p->cfg.name, .path = p->cfg.device,
                                 .params = {.speed = baud_constant(p->cfg.baud)}, .read_size = 1024,
                                 .on_bytes = on_bytes, .on_lost = on_lost, .ctx = p, .fd = -1,
                                 .lost_since = -1};
}

static void nmea_stop(struct probe *p);

static struct probe *nmea_start(const struct source_config *cfg, int index, const struct probe_host *host,
                                char *err, size_t errlen) {
  struct probe *p = calloc(1, sizeof *p);
  if (!p) return snprintf(err, errlen, "out of memory"), NULL;
  p->cfg = *cfg;
  p->index = index;
  p->host = *host;
  p->byte_time = 10.0 / (cfg->baud > 0 ? cfg->baud : 9600);
  p->last_data = sched_mono_now();
  p->rep.stratum = -1;
  snprintf(p->rep.state, sizeof p->rep.state, "init");
  nmea_framer_init(&p->framer);
  nmea_receiver_init(&p->rx);
  rxc_init(&p->cont, cfg->settle);
  init_line(p);
  if (serial_open(&p->line) < 0) {
    snprintf(err, errlen, "nmea %s: cannot open: %s", cfg->name, strerror(errno));
    free(p);
    return NULL;
  }
  if (cfg->pps[0] && open_pps(p, err, errlen) < 0) {
    serial_close(&p->line);
    free(p);
    return NULL;
  }
  p->tick = sched_add_timer(TICK, on_tick, p);
  if (!p->tick) {
    snprintf(err, errlen, "nmea %s: out of memory for a timer", cfg->name);
    nmea_stop(p);
    return NULL;
  }
  LOG_INFO("nmea %s: reading at %d baud%s%s, settle %d min", cfg->name, cfg->baud,
           p->have_pps ? ", PPS from " : "", p->have_pps ? cfg->pps : "", p->cont.settle);
  return p;
}

static void nmea_stop(struct probe *p) {
  sched_cancel_timer(p->tick);
  serial_close(&p->line);
  if (p->have_pps) time_pps_destroy(p->pps);
  free(p);
}

static void nmea_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops nmea_ops = {"nmea", nmea_start, nmea_stop, nmea_report};
