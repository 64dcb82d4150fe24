/* DCF77 decoder (see dcf77.h), after PTB's description of the DCF77 time
 * code: the bit layout is a table of BCD fields and a table of parity
 * groups; the pulse level learns its 0/1 cutoff; the minute level checks
 * every field and the sequence of minutes. Pure: no I/O, no clock reads,
 * no globals. */
#include "probes/dcf77.h"

#include "lib/civil.h"
#include "lib/why.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_CUTOFF_MS 150.0 /* before learning: halfway between 100 and 200 */
#define MIN_SEPARATION_MS 15.0  /* widths closer than this are one class */
#define MIN_LEARNED 8           /* pulses before the cutoff is learned */
#define OFF_BEAT_RESYNC 3       /* consecutive off-beat pulses: take a new beat */

/* ---- the bit layout (PTB) ---- */

struct dcf77_field {
  const char *name;
  uint8_t first, len;     /* bits, BCD LSB first */
  uint8_t lo, hi;         /* valid range */
  size_t member;          /* offsetof the int in struct dcf77_telegram */
};

static const struct dcf77_field fields[] = {
    {"minute", 21, 7, 0, 59, offsetof(struct dcf77_telegram, minute)},
    {"hour", 29, 6, 0, 23, offsetof(struct dcf77_telegram, hour)},
    {"day", 36, 6, 1, 31, offsetof(struct dcf77_telegram, day)},
    {"weekday", 42, 3, 1, 7, offsetof(struct dcf77_telegram, weekday)},
    {"month", 45, 5, 1, 12, offsetof(struct dcf77_telegram, month)},
    {"year", 50, 8, 0, 99, offsetof(struct dcf77_telegram, year)},
};

/* Even parity over first..last, the parity bit (last) included. */
static const struct { const char *name; uint8_t first, last; } parity_groups[] = {
    {"P1 (minute)", 21, 28}, {"P2 (hour)", 29, 35}, {"P3 (date)", 36, 58},
};

enum { BIT_START = 0, BIT_CALL = 15, BIT_A1 = 16, BIT_Z1 = 17, BIT_Z2 = 18, BIT_A2 = 19,
       BIT_TIME_START = 20, BIT_LEAP = 59 };

/* ---- helpers ---- */

const char *dcf77_status_name(enum dcf77_status s) {
  static const char *const names[DCF77_STATUS_COUNT] = {
      "ok", "unconfirmed", "bad length", "bad marker", "parity", "bad range",
      "bad date", "bad leap second", "bad DST change", "inconsistent", "glitch"};
  return s >= 0 && s < DCF77_STATUS_COUNT ? names[s] : "unknown";
}

/* ---- one minute, without context ---- */

static int *member(struct dcf77_telegram *tg, const struct dcf77_field *f) {
  return (int *)(void *)((char *)tg + f->member); /* aligned: offsetof an int */
}

/* A BCD field, LSB first: false if a digit is over 9 or the value out of range. */
static bool decode_field(const uint8_t *b, const struct dcf77_field *f, int *out) {
  static const int weights[8] = {1, 2, 4, 8, 10, 20, 40, 80};
  int units = 0, tens = 0;
  for (int i = 0; i < f->len; i++) {
    if (!b[f->first + i]) continue;
    if (i < 4) units += weights[i];
    else tens += weights[i];
  }
  *out = units + tens;
  return units <= 9 && tens <= 90 && *out >= f->lo && *out <= f->hi;
}

static enum dcf77_status check_markers(const uint8_t *b, int n, char *why, size_t wl) {
  if (n != 59 && n != 60) return why_set(why, wl, "%d bits, not 59", n), DCF77_BAD_LENGTH;
  if (b[BIT_START] != 0) return why_set(why, wl, "bit 0 is 1"), DCF77_BAD_MARKER;
  if (b[BIT_TIME_START] != 1) return why_set(why, wl, "bit 20 (start of time) is 0"), DCF77_BAD_MARKER;
  if (b[BIT_Z1] == b[BIT_Z2]) return why_set(why, wl, "Z1 and Z2 both %d", b[BIT_Z1]), DCF77_BAD_MARKER;
  if (n == 60 && b[BIT_LEAP] != 0) return why_set(why, wl, "leap second bit 59 is 1"), DCF77_BAD_MARKER;
  return DCF77_OK;
}

static enum dcf77_status check_parity(const uint8_t *b, char *why, size_t wl) {
  for (size_t g = 0; g < sizeof parity_groups / sizeof parity_groups[0]; g++) {
    int sum = 0;
    for (int i = parity_groups[g].first; i <= parity_groups[g].last; i++) sum += b[i];
    if (sum & 1) return why_set(why, wl, "parity %s", parity_groups[g].name), DCF77_PARITY;
  }
  return DCF77_OK;
}

static enum dcf77_status decode_fields(const uint8_t *b, struct dcf77_telegram *tg, char *why, size_t wl) {
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const struct dcf77_field *f = &fields[i];
    if (!decode_field(b, f, member(tg, f)))
      return why_set(why, wl, "%s %d out of range %d..%d", f->name, *member(tg, f), f->lo, f->hi),
             DCF77_BAD_RANGE;
  }
  tg->year += 2000;
  return DCF77_OK;
}

static enum dcf77_status check_date(const struct dcf77_telegram *tg, char *why, size_t wl) {
  return civil_date_consistent(tg->year, tg->month, tg->day, tg->weekday, why, wl)
             ? DCF77_OK : DCF77_BAD_DATE;
}

enum dcf77_status dcf77_parse(const uint8_t *bits, int n, struct dcf77_telegram *tg, char *why, size_t wl) {
  uint8_t b[DCF77_MAX_BITS] = {0};
  memset(tg, 0, sizeof *tg);
  for (int i = 0; i < n && i < DCF77_MAX_BITS; i++) b[i] = bits[i] != 0;
  enum dcf77_status st = check_markers(b, n, why, wl);
  if (st == DCF77_OK) st = check_parity(b, why, wl);
  if (st == DCF77_OK) st = decode_fields(b, tg, why, wl);
  if (st == DCF77_OK) st = check_date(tg, why, wl);
  if (st != DCF77_OK) return st;
  tg->call = b[BIT_CALL], tg->a1 = b[BIT_A1], tg->cest = b[BIT_Z1], tg->a2 = b[BIT_A2];
  tg->nbits = n;
  tg->utc = civil_to_unix(tg->year, tg->month, tg->day, tg->hour, tg->minute, 0) -
            (tg->cest ? 7200 : 3600);
  return DCF77_OK;
}

/* ---- one minute, in context ---- */

void dcf77_init(struct dcf77_decoder *d) { memset(d, 0, sizeof *d); }

/* Announced within the hour before `utc` (the announcing minute itself
 * being earlier than `utc`). */
static bool announced(int64_t last, int64_t utc) {
  return last != 0 && last < utc && utc - last <= 3600 + 60;
}

/* A leap second is inserted before 00:00:00 UTC on the first of a month,
 * i.e. the 60-bit minute names 01:00 CET / 02:00 CEST on day 1. */
static enum dcf77_status check_leap(const struct dcf77_decoder *d, const struct dcf77_telegram *tg,
                                    char *why, size_t wl) {
  if (tg->nbits != 60) return DCF77_OK;
  if (!announced(d->last_a2_utc, tg->utc))
    return why_set(why, wl, "60-bit minute without an A2 announcement in the previous hour"), DCF77_BAD_LEAP;
  if (tg->minute != 0 || tg->hour != (tg->cest ? 2 : 1) || tg->day != 1)
    return why_set(why, wl, "60-bit minute before %02d:%02d on day %d, not the end of a UTC month",
               tg->hour, tg->minute, tg->day), DCF77_BAD_LEAP;
  return DCF77_OK;
}

static enum dcf77_status check_sequence(const struct dcf77_decoder *d, const struct dcf77_telegram *tg,
                                        double mark, char *why, size_t wl) {
  double elapsed = mark - d->prev_mark;
  if (!d->have_prev || !(elapsed > 0) || elapsed > DCF77_CONFIRM_WINDOW) return DCF77_UNCONFIRMED;
  if (tg->cest != d->prev.cest && (!announced(d->last_a1_utc, tg->utc) || tg->minute != 0))
    return why_set(why, wl, "%s to %s without an A1 announcement at the top of an hour",
               d->prev.cest ? "CEST" : "CET", tg->cest ? "CEST" : "CET"), DCF77_BAD_DST;
  long minutes = lround(elapsed / 60);
  if (minutes < 1 || fabs(elapsed - 60.0 * minutes) > 1.5 || tg->utc - d->prev.utc != 60 * minutes)
    return why_set(why, wl, "%+lld s after the previous minute, but %.0f s elapsed",
               (long long)(tg->utc - d->prev.utc), elapsed), DCF77_INCONSISTENT;
  return DCF77_OK;
}

static void count(struct dcf77_decoder *d, enum dcf77_status st) {
  d->stats.minutes++;
  d->stats.by_status[st]++;
  if (st == DCF77_OK) d->stats.ok++;
  else if (st == DCF77_UNCONFIRMED) d->stats.unconfirmed++;
  else d->stats.rejected++;
  if (st == DCF77_PARITY) d->stats.parity++;
}

enum dcf77_status dcf77_minute(struct dcf77_decoder *d, const uint8_t *bits, int n, double mark,
                               struct dcf77_result *out) {
  memset(out, 0, sizeof *out);
  out->nbits = n;
  out->mark = mark;
  for (int i = 0; i < n && i < DCF77_MAX_BITS; i++) out->bits[i] = bits[i] != 0;
  enum dcf77_status st = dcf77_parse(bits, n, &out->tg, out->why, sizeof out->why);
  bool parsed = st == DCF77_OK;
  if (parsed) st = check_leap(d, &out->tg, out->why, sizeof out->why);
  if (st == DCF77_OK) st = check_sequence(d, &out->tg, mark, out->why, sizeof out->why);
  if (parsed) { /* every well-formed minute is the next one's reference */
    d->have_prev = true;
    d->prev = out->tg;
    d->prev_mark = mark;
  }
  if (st == DCF77_OK || st == DCF77_UNCONFIRMED) {
    if (out->tg.a1) d->last_a1_utc = out->tg.utc;
    if (out->tg.a2) d->last_a2_utc = out->tg.utc;
  }
  count(d, st);
  out->status = st;
  return st;
}

/* ---- pulses ---- */

double dcf77_byte_width_ms(uint8_t byte, int baud) {
  int zeros = byte ? __builtin_ctz(byte) : 8;
  return baud > 0 ? (1 + zeros) * 1000.0 / baud : 0;
}

double dcf77_cutoff(const struct dcf77_decoder *d) { return d->cutoff_ms; }

/* 2-means over the recent widths: the cutoff halfway between the mean
 * short and the mean long pulse, when the two are apart at all. */
static void learn(struct dcf77_decoder *d, double width) {
  d->widths[d->next_width] = width;
  d->next_width = (d->next_width + 1) % DCF77_LEARN;
  if (d->n_widths < DCF77_LEARN) d->n_widths++;
  if (d->n_widths < MIN_LEARNED) return;
  double lo = d->widths[0], hi = d->widths[0];
  for (int i = 1; i < d->n_widths; i++) {
    lo = fmin(lo, d->widths[i]);
    hi = fmax(hi, d->widths[i]);
  }
  if (hi - lo < MIN_SEPARATION_MS) return;
  double cut = (lo + hi) / 2;
  for (int iter = 0; iter < 4; iter++) {
    double sum[2] = {0, 0};
    int n[2] = {0, 0};
    for (int i = 0; i < d->n_widths; i++) {
      int k = d->widths[i] > cut;
      sum[k] += d->widths[i];
      n[k]++;
    }
    cut = (sum[0] / n[0] + sum[1] / n[1]) / 2; /* both non-empty: lo <= cut < hi */
  }
  d->cutoff_ms = cut;
}

static void lose_sync(struct dcf77_decoder *d) {
  if (d->synced && d->nbits) d->stats.lost++;
  d->synced = false;
  d->glitched = false;
  d->nbits = 0;
}

static void off_beat(struct dcf77_decoder *d, double edge) {
  d->stats.glitches++;
  if (d->synced) d->glitched = true;
  if (++d->off_beat_run >= OFF_BEAT_RESYNC) { /* the beat itself was noise */
    lose_sync(d);
    d->last_edge = edge;
    d->off_beat_run = 0;
  }
}

/* Widths are kept per second and classified when the minute ends, with
 * the cutoff learned by then (at start-up, from this very minute). */
static void add_second(struct dcf77_decoder *d, double width) {
  if (!d->synced) return;
  if (d->nbits >= DCF77_MAX_BITS) { /* no minute mark: a lost mark or noise */
    lose_sync(d);
    return;
  }
  d->width[d->nbits++] = width;
}

static void classify(const struct dcf77_decoder *d, uint8_t *bits) {
  double cut = d->cutoff_ms > 0 ? d->cutoff_ms : DEFAULT_CUTOFF_MS;
  for (int i = 0; i < d->nbits; i++) bits[i] = d->width[i] > cut;
}

static bool minute_mark(struct dcf77_decoder *d, double edge, double width, struct dcf77_result *out) {
  bool done = false;
  if (d->synced && d->glitched) {
    memset(out, 0, sizeof *out);
    out->status = DCF77_GLITCH;
    out->mark = edge;
    out->nbits = d->nbits;
    why_set(out->why, sizeof out->why, "a pulse off the one-second beat (bit slip)");
    count(d, DCF77_GLITCH);
    done = true;
  } else if (d->synced) {
    uint8_t bits[DCF77_MAX_BITS];
    classify(d, bits);
    dcf77_minute(d, bits, d->nbits, edge, out);
    done = true;
  }
  d->synced = true;
  d->glitched = false;
  d->nbits = 0;
  add_second(d, width);
  return done;
}

bool dcf77_pulse(struct dcf77_decoder *d, double edge, double width_ms, struct dcf77_result *out) {
  d->stats.pulses++;
  if (!(width_ms >= DCF77_MIN_WIDTH_MS && width_ms <= DCF77_MAX_WIDTH_MS) || !isfinite(edge)) {
    d->stats.noise++;
    if (d->synced) d->glitched = true;
    return false;
  }
  if (!d->have_beat) {
    d->have_beat = true;
    d->last_edge = edge;
    learn(d, width_ms);
    return false;
  }
  double gap = edge - d->last_edge, k = nearbyint(gap);
  if (!(gap > 0.5) || fabs(gap - k) > DCF77_BEAT_TOLERANCE) {
    off_beat(d, edge);
    return false;
  }
  d->off_beat_run = 0;
  d->last_edge = edge;
  learn(d, width_ms);
  if (k == 1) add_second(d, width_ms);
  else if (k == 2) return minute_mark(d, edge, width_ms, out);
  else lose_sync(d); /* seconds without a pulse: the signal was lost */
  return false;
}
