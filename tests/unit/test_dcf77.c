/* Unit tests of the DCF77 decoder (probes/dcf77.c). Telegrams are encoded
 * here from UTC times with the EU summer-time rule and PTB's layout, with
 * A1 set in the hour before a CET/CEST change and A2 in the hour before a
 * leap second. Covered: valid minutes and their confirmation, CET->CEST
 * and CEST->CET with A1, a leap second with A2 (60-bit minute accepted),
 * the same without announcements (rejected), parity errors, parity-valid
 * impossible dates (day 32, month 13, Feb 30, weekday), markers, lengths,
 * bit slips (bit level and a glitch pulse), consistency with the previous
 * minute, pulse classification with a learned cutoff at 50 and 75 baud,
 * and hours of noise (nothing accepted). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/civil.h"
#include "probes/dcf77.h"
#include "unit.h"

/* ---- an encoder, for the tests ---- */

struct legal {
  int year, month, day, hour, minute, weekday;
  bool cest;
};

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 01:00 UTC on the last Sunday of `month`. */
static int64_t change_utc(int year, int month) {
  int last = civil_days_in_month(year, month);
  while (civil_weekday(year, month, last) != 7) last--;
  return civil_to_unix(year, month, last, 1, 0, 0);
}

static bool is_cest(int64_t utc) {
  int y, m, d;
  civil_from_days(utc / 86400, &y, &m, &d);
  return utc >= change_utc(y, 3) && utc < change_utc(y, 10);
}

static struct legal legal_time(int64_t utc) {
  struct legal l = {.cest = is_cest(utc)};
  int64_t t = utc + (l.cest ? 7200 : 3600);
  civil_from_days(t / 86400, &l.year, &l.month, &l.day);
  l.hour = (int)(t % 86400 / 3600);
  l.minute = (int)(t % 3600 / 60);
  l.weekday = civil_weekday(l.year, l.month, l.day);
  return l;
}

/* BCD digits, LSB first; raw so that a digit over 9 can be sent. */
static void put_raw(uint8_t *b, int first, int len, int units, int tens) {
  for (int i = 0; i < len; i++) b[first + i] = (uint8_t)(i < 4 ? (units >> i) & 1 : (tens >> (i - 4)) & 1);
}

static void put_bcd(uint8_t *b, int first, int len, int v) { put_raw(b, first, len, v % 10, v / 10); }

static void fix_parity(uint8_t *b) {
  static const int groups[3][2] = {{21, 28}, {29, 35}, {36, 58}};
  for (int g = 0; g < 3; g++) {
    int sum = 0;
    for (int i = groups[g][0]; i < groups[g][1]; i++) sum += b[i];
    b[groups[g][1]] = (uint8_t)(sum & 1);
  }
}

struct flags {
  bool a1, a2, call;
};

static void encode_legal(const struct legal *l, struct flags f, uint8_t b[DCF77_MAX_BITS]) {
  memset(b, 0, DCF77_MAX_BITS);
  b[15] = f.call, b[16] = f.a1, b[17] = l->cest, b[18] = !l->cest, b[19] = f.a2, b[20] = 1;
  put_bcd(b, 21, 7, l->minute);
  put_bcd(b, 29, 6, l->hour);
  put_bcd(b, 36, 6, l->day);
  put_bcd(b, 42, 3, l->weekday);
  put_bcd(b, 45, 5, l->month);
  put_bcd(b, 50, 8, l->year % 100);
  fix_parity(b);
}

/* The telegram naming the minute that starts at `utc`, with the
 * announcements PTB would send: A1 in the hour before a change, A2 in
 * the hour before a leap second at `leap` (0: none). Returns its length. */
static int encode(int64_t utc, int64_t leap, uint8_t b[DCF77_MAX_BITS]) {
  bool change_soon = is_cest(utc) != is_cest(utc + 3600);
  int64_t change = utc;
  while (change_soon && is_cest(change) == is_cest(utc)) change += 60;
  struct flags f = {.a1 = change_soon && change - utc <= 3600 && change != utc,
                    .a2 = leap && utc > leap - 3600 && utc <= leap};
  struct legal l = legal_time(utc);
  encode_legal(&l, f, b);
  return leap && utc == leap ? 60 : 59;
}

/* Feeds consecutive minutes from `utc` on; returns the statuses. */
static void run_minutes(struct dcf77_decoder *d, int64_t utc, int count, int64_t leap, bool strip_a1,
                        bool strip_a2, enum dcf77_status *st, struct dcf77_result *last) {
  static double mark = 1000;
  uint8_t b[DCF77_MAX_BITS];
  for (int i = 0; i < count; i++, utc += 60) {
    int n = encode(utc, leap, b);
    if (strip_a1) b[16] = 0;
    if (strip_a2) b[19] = 0;
    mark += n + 1;
    st[i] = dcf77_minute(d, b, n, mark, last);
  }
}

static const int64_t T0 = 1710504000; /* 2024-03-15T12:00:00Z, a Friday */

/* ---- minutes ---- */

static void test_valid_sequence(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  enum dcf77_status st[5];
  dcf77_init(&d);
  run_minutes(&d, T0, 5, 0, false, false, st, &r);
  CHECK_INT(st[0], DCF77_UNCONFIRMED);
  for (int i = 1; i < 5; i++) CHECK_INT(st[i], DCF77_OK);
  CHECK_INT(r.tg.utc, T0 + 4 * 60);
  CHECK_INT(r.tg.hour, 13); /* 12:04 UTC is 13:04 CET */
  CHECK_INT(r.tg.minute, 4);
  CHECK_INT(r.tg.weekday, 5);
  CHECK(!r.tg.cest);
  CHECK_INT(d.stats.ok, 4);
}

static void test_cet_to_cest(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  enum dcf77_status st[80];
  int64_t change = change_utc(2024, 3); /* 2024-03-31 01:00 UTC: 02:00 CET -> 03:00 CEST */
  CHECK_INT(change, 1711846800);
  dcf77_init(&d);
  run_minutes(&d, change - 70 * 60, 80, 0, false, false, st, &r);
  for (int i = 1; i < 80; i++) {
    if (st[i] != DCF77_OK) fprintf(stderr, "  minute %d: %s\n", i, dcf77_status_name(st[i]));
    CHECK_INT(st[i], DCF77_OK);
  }
  CHECK(r.tg.cest);
  CHECK_INT(r.tg.utc, change + 9 * 60);
  CHECK_INT(r.tg.hour, 3);
}

static void test_cest_to_cet(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  enum dcf77_status st[30];
  int64_t change = change_utc(2024, 10); /* 2024-10-27 01:00 UTC: 03:00 CEST -> 02:00 CET */
  dcf77_init(&d);
  run_minutes(&d, change - 20 * 60, 30, 0, false, false, st, &r);
  for (int i = 1; i < 30; i++) CHECK_INT(st[i], DCF77_OK);
  CHECK(!r.tg.cest);
  CHECK_INT(r.tg.hour, 2);
  CHECK_INT(r.tg.utc, change + 9 * 60);
}

static void test_dst_without_a1(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  enum dcf77_status st[30];
  int64_t change = change_utc(2024, 3);
  dcf77_init(&d);
  run_minutes(&d, change - 20 * 60, 30, 0, true, false, st, &r);
  CHECK_INT(st[19], DCF77_OK);
  CHECK_INT(st[20], DCF77_BAD_DST); /* the first CEST minute */
  CHECK_INT(st[21], DCF77_OK);      /* and CEST goes on, confirmed by it */
}

static void test_leap_second(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  enum dcf77_status st[30];
  int64_t leap = civil_to_unix(2017, 1, 1, 0, 0, 0);
  dcf77_init(&d);
  run_minutes(&d, leap - 20 * 60, 30, leap, false, false, st, &r);
  for (int i = 1; i < 30; i++) {
    if (st[i] != DCF77_OK) fprintf(stderr, "  minute %d: %s\n", i, dcf77_status_name(st[i]));
    CHECK_INT(st[i], DCF77_OK);
  }
  CHECK_INT(d.stats.by_status[DCF77_OK], 29);
  CHECK_INT(r.tg.utc, leap + 9 * 60);
}

static void test_leap_unannounced(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  enum dcf77_status st[30];
  int64_t leap = civil_to_unix(2017, 1, 1, 0, 0, 0);
  dcf77_init(&d);
  run_minutes(&d, leap - 20 * 60, 30, leap, false, true, st, &r);
  CHECK_INT(st[20], DCF77_BAD_LEAP);
  CHECK_INT(st[21], DCF77_OK);
  /* announced, but in the middle of a month */
  int64_t mid = T0;
  dcf77_init(&d);
  run_minutes(&d, mid - 20 * 60, 30, mid, false, false, st, &r);
  CHECK_INT(st[20], DCF77_BAD_LEAP);
}

/* A 60-bit minute out of nowhere (a glitch pulse in second 59). */
static void test_sixty_bits_no_announcement(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  uint8_t b[DCF77_MAX_BITS];
  dcf77_init(&d);
  encode(T0, 0, b);
  dcf77_minute(&d, b, 59, 100, &r);
  encode(T0 + 60, 0, b);
  b[59] = 0;
  CHECK_INT(dcf77_minute(&d, b, 60, 161, &r), DCF77_BAD_LEAP);
  CHECK(strstr(r.why, "A2") != NULL);
}

/* ---- one minute's checks ---- */

static void test_parity_errors(void) {
  uint8_t b[DCF77_MAX_BITS];
  struct dcf77_telegram tg;
  char why[96];
  const int flips[3] = {22, 30, 40}; /* a bit in the minute, hour, date */
  const char *names[3] = {"P1", "P2", "P3"};
  for (int i = 0; i < 3; i++) {
    encode(T0, 0, b);
    CHECK_INT(dcf77_parse(b, 59, &tg, why, sizeof why), DCF77_OK);
    b[flips[i]] ^= 1;
    CHECK_INT(dcf77_parse(b, 59, &tg, why, sizeof why), DCF77_PARITY);
    CHECK(strstr(why, names[i]) != NULL);
  }
  struct dcf77_decoder d;
  struct dcf77_result r;
  dcf77_init(&d);
  CHECK_INT(dcf77_minute(&d, b, 59, 0, &r), DCF77_PARITY);
  CHECK_INT(d.stats.parity, 1);
}

static enum dcf77_status parse_legal(struct legal l, char *why) {
  uint8_t b[DCF77_MAX_BITS];
  struct dcf77_telegram tg;
  encode_legal(&l, (struct flags){0}, b);
  return dcf77_parse(b, 59, &tg, why, 96);
}

static void test_impossible_dates(void) {
  char why[96];
  struct legal ok = legal_time(T0);
  CHECK_INT(parse_legal(ok, why), DCF77_OK);
  struct legal l = ok;
  l.day = 32;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_RANGE);
  l = ok, l.month = 13;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_RANGE);
  l = ok, l.month = 2, l.day = 30;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_DATE);
  CHECK(strstr(why, "29 days") != NULL);
  l = ok, l.month = 2, l.day = 29, l.year = 2023, l.weekday = civil_weekday(2023, 3, 1);
  CHECK_INT(parse_legal(l, why), DCF77_BAD_DATE); /* 2023 is no leap year */
  l = ok, l.month = 4, l.day = 31;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_DATE);
  l = ok, l.weekday = ok.weekday % 7 + 1;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_DATE);
  CHECK(strstr(why, "weekday") != NULL);
  l = ok, l.weekday = 0;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_RANGE);
  l = ok, l.hour = 24;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_RANGE);
  l = ok, l.minute = 60;
  CHECK_INT(parse_legal(l, why), DCF77_BAD_RANGE);
  /* a BCD digit over 9 (minute units 0xB), parity made right */
  uint8_t b[DCF77_MAX_BITS];
  struct dcf77_telegram tg;
  encode_legal(&ok, (struct flags){0}, b);
  put_raw(b, 21, 7, 11, 1);
  fix_parity(b);
  CHECK_INT(dcf77_parse(b, 59, &tg, why, sizeof why), DCF77_BAD_RANGE);
}

static void test_markers_and_length(void) {
  uint8_t b[DCF77_MAX_BITS];
  struct dcf77_telegram tg;
  char why[96];
  encode(T0, 0, b);
  b[0] = 1;
  CHECK_INT(dcf77_parse(b, 59, &tg, why, sizeof why), DCF77_BAD_MARKER);
  encode(T0, 0, b);
  b[20] = 0;
  CHECK_INT(dcf77_parse(b, 59, &tg, why, sizeof why), DCF77_BAD_MARKER);
  encode(T0, 0, b);
  b[17] = b[18] = 1;
  CHECK_INT(dcf77_parse(b, 59, &tg, why, sizeof why), DCF77_BAD_MARKER);
  encode(T0, 0, b);
  CHECK_INT(dcf77_parse(b, 58, &tg, why, sizeof why), DCF77_BAD_LENGTH);
  CHECK_INT(dcf77_parse(b, 61, &tg, why, sizeof why), DCF77_BAD_LENGTH);
  CHECK_INT(dcf77_parse(b, 0, &tg, why, sizeof why), DCF77_BAD_LENGTH);
  b[59] = 1;
  CHECK_INT(dcf77_parse(b, 60, &tg, why, sizeof why), DCF77_BAD_MARKER); /* leap bit must be 0 */
}

/* A glitch that inserts a bit shifts everything after it. */
static void test_bit_slip_bits(void) {
  int accepted = 0;
  for (int at = 1; at < 58; at++) {
    struct dcf77_decoder d;
    struct dcf77_result r;
    uint8_t b[DCF77_MAX_BITS], s[DCF77_MAX_BITS];
    dcf77_init(&d);
    encode(T0, 0, b);
    dcf77_minute(&d, b, 59, 100, &r);
    encode(T0 + 60, 0, b);
    memcpy(s, b, (size_t)at);
    s[at] = 1;
    memcpy(s + at + 1, b + at, (size_t)(58 - at)); /* the last bit falls off */
    if (dcf77_minute(&d, s, 59, 160, &r) == DCF77_OK) accepted++;
  }
  CHECK_INT(accepted, 0);
}

static void test_consistency(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  uint8_t b[DCF77_MAX_BITS];
  dcf77_init(&d);
  encode(T0, 0, b);
  CHECK_INT(dcf77_minute(&d, b, 59, 100, &r), DCF77_UNCONFIRMED);
  encode(T0 + 120, 0, b); /* says +2 min after 1 */
  CHECK_INT(dcf77_minute(&d, b, 59, 160, &r), DCF77_INCONSISTENT);
  encode(T0 + 180, 0, b); /* consistent with the one before */
  CHECK_INT(dcf77_minute(&d, b, 59, 220, &r), DCF77_OK);
  encode(T0 + 300, 0, b); /* a minute missed: 2 elapsed, +2 */
  CHECK_INT(dcf77_minute(&d, b, 59, 340, &r), DCF77_OK);
  encode(T0 + 300 + 3600 * 24, 0, b); /* right time of day, wrong date */
  CHECK_INT(dcf77_minute(&d, b, 59, 400, &r), DCF77_INCONSISTENT);
  encode(T0, 0, b); /* two hours after the last: nothing to confirm it */
  CHECK_INT(dcf77_minute(&d, b, 59, 400 + 7200, &r), DCF77_UNCONFIRMED);
}

/* Random minutes, one after another: none is accepted. */
static void test_random_bits(void) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  uint8_t b[DCF77_MAX_BITS];
  dcf77_init(&d);
  for (int i = 0; i < 20000; i++) {
    for (int k = 0; k < DCF77_MAX_BITS; k++) b[k] = (uint8_t)(random() & 1);
    dcf77_minute(&d, b, 59 + (int)(random() % 3 == 0), 60.0 * i, &r);
  }
  CHECK_INT(d.stats.ok, 0);
}

/* ---- pulses ---- */

static double jitter(double amp) { return ((double)random() / 2147483647.0 * 2 - 1) * amp; }

/* Pulses for `minutes` minutes from `utc`: edges at whole seconds (plus
 * jitter), no pulse in second 59 (or 60), widths w0/w1. */
static int play(struct dcf77_decoder *d, int64_t utc, int minutes, double w0, double w1, double *t,
                int *ok, int glitch_minute) {
  int results = 0;
  uint8_t b[DCF77_MAX_BITS];
  for (int m = 0; m < minutes; m++, utc += 60) {
    int n = encode(utc, 0, b);
    for (int s = 0; s < n; s++) {
      struct dcf77_result r;
      double edge = *t + s + jitter(0.005);
      double w = (b[s] ? w1 : w0) + jitter(5);
      if (dcf77_pulse(d, edge, w, &r)) {
        results++;
        if (r.status == DCF77_OK) (*ok)++;
      }
      if (m == glitch_minute && s == 30) dcf77_pulse(d, edge + 0.45, 100, &r);
    }
    *t += n + 1;
  }
  return results;
}

static void test_pulses_50_baud(void) {
  struct dcf77_decoder d;
  double t = 5000.3;
  int ok = 0;
  dcf77_init(&d);
  /* 50 baud: 0xF0 = 100 ms, 0x00 = 180 ms */
  double w0 = dcf77_byte_width_ms(0xF0, 50), w1 = dcf77_byte_width_ms(0x00, 50);
  CHECK_NEAR(w0, 100, 1e-9);
  CHECK_NEAR(w1, 180, 1e-9);
  /* minute 1's end syncs; minute 2 is unconfirmed, 3 and 4 ok; minute
   * 5 never sees its closing mark */
  int results = play(&d, T0, 5, w0, w1, &t, &ok, -1);
  CHECK_INT(results, 3);
  CHECK_INT(ok, 2);
  CHECK_NEAR(dcf77_cutoff(&d), 140, 10);
  CHECK_INT(d.stats.glitches + d.stats.noise, 0);
}

static void test_pulses_75_baud(void) {
  struct dcf77_decoder d;
  double t = 100.0;
  int ok = 0;
  dcf77_init(&d);
  /* 75 baud: a 100 ms drop leaves 6 or 7 zero bits (93 or 107 ms), 200 ms
   * all 8 (120 ms): close together, the cutoff must be learned */
  double w0 = dcf77_byte_width_ms(0xC0, 75), w1 = dcf77_byte_width_ms(0x00, 75);
  CHECK_NEAR(w0, 93.33, 0.01);
  CHECK_NEAR(w1, 120, 1e-9);
  int results = play(&d, T0, 5, w0 + 3, w1, &t, &ok, -1);
  CHECK_INT(results, 3);
  CHECK_INT(ok, 2);
  CHECK(dcf77_cutoff(&d) > w0 + 3 && dcf77_cutoff(&d) < w1);
}

static void test_glitch_pulse(void) {
  struct dcf77_decoder d;
  double t = 100.0;
  int ok = 0;
  dcf77_init(&d);
  /* a glitch 0.45 s after second 30 of the fourth minute: minute 2
   * unconfirmed, 3 ok, 4 rejected, 5 ok (confirmed by 3, two minutes on) */
  play(&d, T0, 6, 100, 200, &t, &ok, 3);
  CHECK_INT(d.stats.by_status[DCF77_GLITCH], 1);
  CHECK_INT(ok, 2);
  CHECK_INT(d.stats.glitches, 1);
}

static void test_hours_of_noise(void) {
  struct dcf77_decoder d;
  int ok = 0, results = 0;
  dcf77_init(&d);
  double t = 0;
  for (int i = 0; i < 3 * 3600 * 2; i++) { /* 3 h, two pulses a second on average */
    struct dcf77_result r;
    t += (double)random() / 2147483647.0;
    double w = 20 + (double)(random() % 250);
    if (dcf77_pulse(&d, t, w, &r)) {
      results++;
      if (r.status == DCF77_OK) ok++;
    }
  }
  CHECK_INT(ok, 0);
  /* noise with the right cadence but random bits: still nothing */
  dcf77_init(&d);
  t = 0;
  for (int s = 0; s < 3 * 3600; s++) {
    struct dcf77_result r;
    if (s % 60 == 59) continue;
    if (dcf77_pulse(&d, t + s, random() & 1 ? 100 : 200, &r) && r.status == DCF77_OK) ok++;
  }
  CHECK_INT(ok, 0);
  CHECK(d.stats.minutes > 100);
}

int main(void) {
  unit_init();
  RUN(test_valid_sequence);
  RUN(test_cet_to_cest);
  RUN(test_cest_to_cet);
  RUN(test_dst_without_a1);
  RUN(test_leap_second);
  RUN(test_leap_unannounced);
  RUN(test_sixty_bits_no_announcement);
  RUN(test_parity_errors);
  RUN(test_impossible_dates);
  RUN(test_markers_and_length);
  RUN(test_bit_slip_bits);
  RUN(test_consistency);
  RUN(test_random_bits);
  RUN(test_pulses_50_baud);
  RUN(test_pulses_75_baud);
  RUN(test_glitch_pulse);
  RUN(test_hours_of_noise);
  return unit_done();
}
