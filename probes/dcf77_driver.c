/* The DCF77 probe (`dcf77 DEVICE mode raw50|raw75|meinberg [offset S]
 * [class C]`): a DCF77 receiver on a serial line. A thin adaptor over the
 * event loop around the pure decoders: probes/dcf77.c (PTB's DCF77 time
 * code, raw pulses) and probes/meinberg.c (Meinberg standard time string).
 *
 * raw50, raw75: Conrad-style receivers put the demodulated carrier on RxD;
 * at 50 (or 75) baud, 8E1, each carrier drop becomes one character whose
 * leading zero bits measure the drop (100 ms = 0, 200 ms = 1; the cutoff
 * is learned). Parity is not checked (a 100 ms drop reads with a parity
 * error by design). The falling edge is the start bit: the character's
 * arrival minus one character time (11 bits). One sample a minute, at the
 * minute mark, once a minute is confirmed by the one before.
 *
 * meinberg: 9600 baud 7E2; the start bit of STX is on the second the
 * string names; STX's arrival minus one character time. One sample a
 * second once a string is confirmed by the one before.
 *
 * Clock: read right after each read() returns (probes/serial.c, which also
 * opens the line and reopens a lost device, as for the NMEA probe), then
 * `offset` (the receiver's fixed delay) is subtracted.
 *
 * Jumps: a trusted minute or string must also agree with the receiver's
 * own earlier time on the local oscillator (probes/rx_continuity.h); after
 * a jump the receiver gives no sample until its time has been consistent
 * for `settle` minutes (default 3), and `jumps` counts the step.
 *
 * Error bound: DCF77 is here to veto wrong seconds, minutes and dates, not
 * to vote on microseconds. An AM receiver's edge is good to a few ms after
 * its filter's fixed delay (which `offset` must absorb; it can be tens of
 * ms): DCF77_RAW_BOUND 10 ms for raw pulses (plus the UART: the bound
 * assumes the UART hands each character over at once, i.e. a FIFO trigger
 * of 1 / setserial low_latency), MEINBERG_BOUND 2 ms for the string (the
 * receiver times it itself). Class DCF unless configured. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "monitor/config.h"
#include "probes/dcf77.h"
#include "probes/driver_util.h"
#include "probes/meinberg.h"
#include "probes/probe.h"
#include "probes/serial.h"

#define DCF77_RAW_BOUND 0.010  /* s */
#define MEINBERG_BOUND 0.002   /* s */
#define NO_DATA_AFTER 5.0      /* s without input: state "no-data" */

struct probe {
  struct source_config cfg;
  int index;
  struct probe_host host;
  struct serial_line line;
  int baud;
  double char_time;            /* s per character on the line (11 bits) */
  struct dcf77_decoder dcf;
  struct meinberg_framer framer;
  struct meinberg_checker checker;
  struct dcf77_stats seen;     /* dcf stats already turned into counters */
  struct rx_continuity cont;   /* the receiver's time against the oscillator */
  double osc_minus_real;       /* this read: CLOCK_MONOTONIC_RAW - CLOCK_REALTIME, s */
  bool trusted;
  bool last_cest;
  double last_data;            /* monotonic s of the last input */
  sched_timer_id tick;
  struct median_filter filter;
  struct probe_report rep;
};

static bool is_raw(const struct probe *p) { return p->cfg.dcf_mode != DCF77_MEINBERG; }
static const char *mode_name(const struct probe *p) {
  return p->cfg.dcf_mode == DCF77_RAW50 ? "raw50" : p->cfg.dcf_mode == DCF77_RAW75 ? "raw75" : "meinberg";
}

/* ---- state and report ---- */

static void set_state(struct probe *p, const char *state) {
  driver_set_state(&p->rep, "dcf77", p->cfg.name, state);
}

static void raw_detail(struct probe *p, const struct dcf77_result *r) {
  const struct dcf77_stats *s = &p->dcf.stats;
  driver_set_detail(&p->rep,
           "%s %s, cutoff %.0f ms, minutes %llu ok %llu rejected (parity %llu), "
           "glitches %llu, lost marks %llu%s%s%s",
           mode_name(p), p->last_cest ? "CEST" : "CET", dcf77_cutoff(&p->dcf),
           (unsigned long long)s->ok, (unsigned long long)s->rejected, (unsigned long long)s->parity,
           (unsigned long long)s->glitches, (unsigned long long)s->lost,
           r && r->tg.call ? ", call bit" : "", r && r->status > DCF77_UNCONFIRMED ? "; last: " : "",
           r && r->status > DCF77_UNCONFIRMED ? r->why : "");
}

/* ---- samples ---- */

static void emit(struct probe *p, double offset, double bound, double local, int leap) {
  struct timespec rx = {(time_t)floor(local), (long)((local - floor(local)) * 1e9)};
  median_filter_add(&p->filter, offset, bound, &p->rep);
  struct vt_sample s = {.source = p->index, .rx_time = rx, .offset = offset, .dispersion = bound,
                        .error_bound = bound + p->rep.jitter, .stratum = 0, .leap = leap,
                        .refid = (uint32_t)'D' << 24 | (uint32_t)'C' << 16 | (uint32_t)'F' << 8,
                        .poll = p->rep.poll};
  driver_record_sample(&p->rep, &s);
  p->rep.reach |= 1;
  p->rep.inferred_class = CLASS_DCF;
  p->trusted = true;
  set_state(p, "ok");
  p->host.on_sample(p->host.ctx, &s);
}

static void untrusted(struct probe *p, enum probe_counter c, const char *what, const char *why) {
  p->rep.counters[c]++;
  if (c == PC_UNTRUSTED) set_state(p, "untrusted");
  LOG_RATELIMITED(LOG_LVL_INFO, "dcf77 %s: %s: %s", p->cfg.name, what, why);
}

/* The decoder trusts `decoded`, whose edge was at real time `edge`; does
 * it run on from the receiver's earlier times? */
static bool continuous(struct probe *p, double decoded, double edge) {
  return driver_continuity(&p->cont, &p->filter, &p->rep, "dcf77", p->cfg.name, decoded,
                           edge + p->osc_minus_real);
}

/* ---- raw pulses ---- */

static enum probe_counter minute_counter(enum dcf77_status st) {
  switch (st) {
  case DCF77_UNCONFIRMED: return PC_UNTRUSTED;
  case DCF77_PARITY: return PC_PARITY;
  default: return PC_BAD_INPUT;
  }
}

static void handle_minute(struct probe *p, const struct dcf77_result *r) {
  p->rep.counters[PC_RECEIVED]++;
  if (r->status == DCF77_OK || r->status == DCF77_UNCONFIRMED) p->last_cest = r->tg.cest;
  raw_detail(p, r);
  if (r->status == DCF77_OK) {
    if (continuous(p, (double)r->tg.utc, r->mark))
      emit(p, (double)r->tg.utc - r->mark, DCF77_RAW_BOUND, r->mark, r->tg.a2 ? 1 : 0);
    return;
  }
  untrusted(p, minute_counter(r->status), "minute rejected",
            r->status == DCF77_UNCONFIRMED ? "awaiting confirmation by the next minute" : r->why);
}

/* Noise pulses and glitches count as bad input as they happen. */
static void count_pulse_noise(struct probe *p) {
  uint64_t bad = (p->dcf.stats.noise - p->seen.noise) + (p->dcf.stats.glitches - p->seen.glitches);
  p->rep.counters[PC_BAD_INPUT] += bad;
  p->seen = p->dcf.stats;
}

static void raw_bytes(struct probe *p, const uint8_t *buf, size_t n, double stamp) {
  for (size_t i = 0; i < n; i++) {
    double edge = stamp - (double)(n - i) * p->char_time - p->cfg.offset;
    struct dcf77_result r;
    if (dcf77_pulse(&p->dcf, edge, dcf77_byte_width_ms(buf[i], p->baud), &r)) handle_minute(p, &r);
  }
  count_pulse_noise(p);
}

/* ---- Meinberg strings ---- */

static void meinberg_detail(struct probe *p, const struct meinberg_time *t, enum meinberg_status st,
                            const char *why) {
  driver_set_detail(&p->rep, "meinberg %s%s%s%s%s", t->zone == 'U' ? "UTC" : t->zone == 'S' ? "CEST" : "CET",
                  t->dst_announced ? ", DST change next hour" : "",
                  t->leap_announced ? ", leap second next hour" : "", st == MB_OK ? "" : "; ",
                  st == MB_OK ? "" : st == MB_UNCONFIRMED ? "awaiting confirmation" : why);
  if (st == MB_UNSYNCED && p->trusted) { /* freewheeling, or restarted: an event */
    p->trusted = false;
    p->rep.counters[PC_DEGRADED]++;
    LOG_WARN("dcf77 %s: receiver %s", p->cfg.name, why);
  }
}

static void handle_string(struct probe *p, const struct meinberg_frame *f) {
  struct meinberg_time t;
  char why[96];
  p->rep.counters[PC_RECEIVED]++;
  enum meinberg_status st = meinberg_parse(f->text, f->len, &t, why, sizeof why);
  if (st != MB_OK && st != MB_UNSYNCED) {
    untrusted(p, PC_BAD_INPUT, "string dropped", why);
    return;
  }
  double edge = f->stamp - p->char_time - p->cfg.offset; /* start bit of STX */
  st = meinberg_judge(&p->checker, &t, edge, why, sizeof why);
  meinberg_detail(p, &t, st, why);
  if (st == MB_OK) {
    if (continuous(p, (double)t.utc, edge))
      emit(p, (double)t.utc - edge, MEINBERG_BOUND, edge, t.leap_announced ? 1 : 0);
  } else untrusted(p, st == MB_INCONSISTENT ? PC_BAD_INPUT : PC_UNTRUSTED, "string not trusted",
                 st == MB_UNCONFIRMED ? "awaiting confirmation by the next string" : why);
}

static void meinberg_bytes(struct probe *p, const uint8_t *buf, size_t n, double stamp) {
  for (size_t at = 0; at < n;) {
    struct meinberg_frame f;
    at += meinberg_framer_push(&p->framer, buf + at, n - at, stamp, p->char_time, &f);
    if (f.kind == MB_FRAME_STRING) {
      handle_string(p, &f);
    } else if (f.kind == MB_FRAME_GARBAGE) {
      p->rep.counters[PC_BAD_INPUT]++;
      LOG_RATELIMITED(LOG_LVL_INFO, "dcf77 %s: skipped input: %s", p->cfg.name, f.text);
    }
  }
}

/* ---- the loop ---- */

/* The line went away (serial.c closed it and logged it). */
static void on_lost(void *ctx, const char *why) {
  struct probe *p = ctx;
  (void)why;
  meinberg_framer_init(&p->framer); /* a receiver back from the dead earns trust anew */
  p->checker = (struct meinberg_checker){0};
  struct dcf77_stats keep = p->dcf.stats;
  dcf77_init(&p->dcf);
  p->dcf.stats = keep;
  p->trusted = false;
  set_state(p, "no-device");
}

static void on_bytes(void *ctx, const uint8_t *buf, size_t n, struct timespec now, double osc) {
  struct probe *p = ctx;
  p->last_data = sched_mono_now();
  double stamp = timespec_seconds(now);
  p->osc_minus_real = osc - stamp;
  if (is_raw(p)) raw_bytes(p, buf, n, stamp);
  else meinberg_bytes(p, buf, n, stamp);
}

/* Every 2^poll s: the reach register shifts (a sample sets bit 0). */
static void on_tick(void *arg) {
  struct probe *p = arg;
  p->rep.reach = (p->rep.reach << 1) & 0xff;
  serial_tick(&p->line, &p->rep, p->last_data, NO_DATA_AFTER);
  p->tick = sched_add_timer(is_raw(p) ? 60.0 : 1.0, on_tick, p);
}

/* ---- the driver interface ---- */

/* raw50/raw75: 8E1 at 50/75 baud, parity not checked, breaks and framing
 * errors read as NUL (a long drop); meinberg: 7E2 at 9600. */
static void init_line(struct probe *p) {
  struct serial_params params = {
      .speed = p->baud == 50 ? B50 : p->baud == 75 ? B75 : B9600,
      .cflag_clear = CSIZE | CSTOPB | PARODD,
      .cflag_set = PARENB | (is_raw(p) ? CS8 : CS7 | CSTOPB),
      .iflag_clear = INPCK | IGNPAR | PARMRK | ISTRIP | IGNBRK};
  p->line = (struct serial_line){.kind = "dcf77", .name = p->cfg.name, .path = p->cfg.device,
                                 .params = params, .read_size = 512, .on_bytes = on_bytes,
                                 .on_lost = on_lost, .ctx = p, .fd = -1, .lost_since = -1};
}

static struct probe *dcf77_start(const struct source_config *cfg, int index, const struct probe_host *host,
                                 char *err, size_t errlen) {
  struct probe *p = calloc(1, sizeof *p);
  if (!p) return snprintf(err, errlen, "out of memory"), NULL;
  p->cfg = *cfg;
  p->index = index;
  p->host = *host;
  p->baud = cfg->dcf_mode == DCF77_RAW50 ? 50 : cfg->dcf_mode == DCF77_RAW75 ? 75 : 9600;
  p->char_time = 11.0 / p->baud; /* start, 8 or 7 data, parity, 1 or 2 stop */
  p->last_data = sched_mono_now();
  p->rep.stratum = -1;
  p->rep.poll = is_raw(p) ? 6 : 0; /* a sample a minute, or a second */
  p->rep.inferred_class = CLASS_DCF;
  snprintf(p->rep.state, sizeof p->rep.state, "init");
  dcf77_init(&p->dcf);
  meinberg_framer_init(&p->framer);
  rxc_init(&p->cont, cfg->settle);
  init_line(p);
  if (serial_open(&p->line) < 0) {
    snprintf(err, errlen, "dcf77 %s: cannot open: %s", cfg->name, strerror(errno));
    free(p);
    return NULL;
  }
  p->tick = sched_add_timer(is_raw(p) ? 60.0 : 1.0, on_tick, p);
  if (!p->tick) {
    snprintf(err, errlen, "dcf77 %s: out of memory for a timer", cfg->name);
    serial_close(&p->line);
    free(p);
    return NULL;
  }
  LOG_INFO("dcf77 %s: mode %s, %d baud, settle %d min", cfg->name, mode_name(p), p->baud, p->cont.settle);
  return p;
}

static void dcf77_stop(struct probe *p) {
  sched_cancel_timer(p->tick);
  serial_close(&p->line);
  free(p);
}

static void dcf77_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops dcf77_ops = {"dcf77", dcf77_start, dcf77_stop, dcf77_report};
