/* Unit tests of probes/rx_continuity.c: a receiver's decoded time against
 * the local oscillator. Minute decodes stand for DCF77 telegrams, 1 Hz
 * decodes for Meinberg strings and NMEA cycles. */
#include "probes/rx_continuity.h"

#include "tests/unit/unit.h"

#define T0 1774828800.0   /* 2026-03-30T00:00:00Z: any whole minute */
#define M0 5000.0         /* the oscillator's reading then */

/* Minute k of a receiver whose time is `shift` s off its start. */
static enum rxc_verdict minute(struct rx_continuity *c, int k, double shift) {
  return rxc_check(c, T0 + 60.0 * k + shift, M0 + 60.0 * k);
}

static enum rxc_verdict second(struct rx_continuity *c, int k, double shift) {
  return rxc_check(c, T0 + k + shift, M0 + k);
}

static void test_steady_minutes_with_jitter(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  for (int k = 0; k < 30; k++) /* edges wander by +-0.2 s: timing, not jumps */
    CHECK_INT(rxc_check(&c, T0 + 60.0 * k, M0 + 60.0 * k + (k % 3 - 1) * 0.2), RXC_TRUSTED);
  CHECK_INT(c.jumps, 0);
  CHECK(!rxc_settling(&c));
  char buf[120];
  CHECK_STR(rxc_describe(&c, buf, sizeof buf), "");
}

static void test_dst_like_hour_jump(void) {
  struct rx_continuity c;
  char buf[120];
  rxc_init(&c, 3);
  for (int k = 0; k < 5; k++) CHECK_INT(minute(&c, k, 0), RXC_TRUSTED);
  CHECK_INT(minute(&c, 5, 3600), RXC_JUMPED);
  CHECK_INT(c.jumps, 1);
  CHECK_NEAR(c.last_jump, 3600, 1e-6);
  CHECK_STR(rxc_describe(&c, buf, sizeof buf),
            "time jumped +3600 s against its previous time; 0 of 3 consistent minutes");
  CHECK_INT(minute(&c, 6, 3600), RXC_SETTLING);
  CHECK_STR(rxc_describe(&c, buf, sizeof buf),
            "time jumped +3600 s against its previous time; 1 of 3 consistent minutes");
  CHECK_INT(minute(&c, 7, 3600), RXC_SETTLING);
  CHECK_INT(c.minutes, 2);
  CHECK_INT(minute(&c, 8, 3600), RXC_TRUSTED); /* the new time is the reference */
  CHECK(!rxc_settling(&c));
  CHECK_INT(minute(&c, 9, 3600), RXC_TRUSTED);
  CHECK_INT(c.jumps, 1);
  CHECK_STR(rxc_describe(&c, buf, sizeof buf), "");
}

/* A 1 Hz receiver counts minutes of consistent seconds, not decodes. */
static void test_minus_one_day_at_1hz(void) {
  struct rx_continuity c;
  char buf[120];
  rxc_init(&c, 3);
  for (int k = 0; k < 100; k++) CHECK_INT(second(&c, k, 0), RXC_TRUSTED);
  CHECK_INT(second(&c, 100, -86400), RXC_JUMPED);
  CHECK_NEAR(c.last_jump, -86400, 1e-6);
  int settling = 0;
  for (int k = 101; k < 280; k++) settling += second(&c, k, -86400) == RXC_SETTLING;
  CHECK_INT(settling, 179);
  CHECK_STR(rxc_describe(&c, buf, sizeof buf),
            "time jumped -86400 s against its previous time; 2 of 3 consistent minutes");
  CHECK_INT(second(&c, 280, -86400), RXC_TRUSTED); /* 180 s after the jump */
  CHECK_INT(c.jumps, 1);
}

static void test_one_second_jump(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  for (int k = 0; k < 10; k++) CHECK_INT(second(&c, k, 0), RXC_TRUSTED);
  CHECK_INT(second(&c, 10, 1), RXC_JUMPED);
  CHECK_NEAR(c.last_jump, 1, 1e-6);
  rxc_init(&c, 3); /* a lost second, minute-granular (DCF77 minute marks 61 s apart) */
  CHECK_INT(minute(&c, 0, 0), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, T0 + 60, M0 + 61), RXC_JUMPED);
  CHECK_NEAR(c.last_jump, -1, 1e-6);
}

static void test_tolerance_edges(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  CHECK_INT(rxc_check(&c, T0, M0), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, T0 + 1, M0 + 1.49), RXC_TRUSTED); /* 0.49 s late: jitter */
  CHECK_INT(rxc_check(&c, T0 + 2, M0 + 2.0), RXC_TRUSTED);  /* and back */
  CHECK_INT(rxc_check(&c, T0 + 3, M0 + 3.6), RXC_JUMPED);   /* 0.6 s: not a timing error */
  CHECK_NEAR(c.last_jump, -0.6, 1e-6);
  char buf[32];
  CHECK_STR(rxc_format_jump(-0.6, buf, sizeof buf), "-0.600 s");
  CHECK_STR(rxc_format_jump(3600, buf, sizeof buf), "+3600 s");
  CHECK_STR(rxc_format_jump(-86400.001, buf, sizeof buf), "-86400 s");
}

/* Glitch and back: two jumps, and the return must settle too. */
static void test_glitch_minute_then_back(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  for (int k = 0; k < 5; k++) CHECK_INT(minute(&c, k, 0), RXC_TRUSTED);
  CHECK_INT(minute(&c, 5, 3600), RXC_JUMPED);
  CHECK_INT(minute(&c, 6, 0), RXC_JUMPED);
  CHECK_INT(c.jumps, 2);
  CHECK_NEAR(c.last_jump, -3600, 1e-6);
  CHECK_INT(minute(&c, 7, 0), RXC_SETTLING);
  CHECK_INT(minute(&c, 8, 0), RXC_SETTLING);
  CHECK_INT(minute(&c, 9, 0), RXC_TRUSTED);
}

static void test_jump_while_settling_restarts(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  CHECK_INT(minute(&c, 0, 0), RXC_TRUSTED);
  CHECK_INT(minute(&c, 1, 3600), RXC_JUMPED);
  CHECK_INT(minute(&c, 2, 3600), RXC_SETTLING);
  CHECK_INT(minute(&c, 3, 3600), RXC_SETTLING);
  CHECK_INT(minute(&c, 4, 7200), RXC_JUMPED);
  CHECK_INT(c.minutes, 0);
  for (int k = 5; k < 7; k++) CHECK_INT(minute(&c, k, 7200), RXC_SETTLING);
  CHECK_INT(minute(&c, 7, 7200), RXC_TRUSTED);
  CHECK_INT(c.jumps, 2);
}

static void test_settle_configurable(void) {
  struct rx_continuity c;
  rxc_init(&c, 1);
  CHECK_INT(minute(&c, 0, 0), RXC_TRUSTED);
  CHECK_INT(minute(&c, 1, 3600), RXC_JUMPED);
  CHECK_INT(minute(&c, 2, 3600), RXC_TRUSTED);
  rxc_init(&c, 5);
  CHECK_INT(minute(&c, 0, 0), RXC_TRUSTED);
  CHECK_INT(minute(&c, 1, -60), RXC_JUMPED);
  for (int k = 2; k < 6; k++) CHECK_INT(minute(&c, k, -60), RXC_SETTLING);
  CHECK_INT(minute(&c, 6, -60), RXC_TRUSTED);
  rxc_init(&c, 0);
  CHECK_INT(c.settle, RXC_SETTLE_MIN);
  rxc_init(&c, 99);
  CHECK_INT(c.settle, RXC_SETTLE_MAX);
}

/* Missed minutes are no inconsistency: the oscillator counts them. */
static void test_missed_minutes(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  CHECK_INT(minute(&c, 0, 0), RXC_TRUSTED);
  CHECK_INT(minute(&c, 1, 1800), RXC_JUMPED);
  CHECK_INT(minute(&c, 3, 1800), RXC_SETTLING); /* minute 2 lost to noise */
  CHECK_INT(c.minutes, 2);
  CHECK_INT(minute(&c, 4, 1800), RXC_TRUSTED);
}

/* Decodes more than RXC_MAX_GAP apart are not compared. */
static void test_long_gap(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  CHECK_INT(minute(&c, 0, 0), RXC_TRUSTED);
  CHECK_INT(minute(&c, 16, 3600), RXC_TRUSTED); /* 960 s later: a new reference */
  CHECK_INT(c.jumps, 0);
  CHECK_INT(minute(&c, 17, 3600), RXC_TRUSTED);
  /* a settling receiver silent that long starts its count again */
  CHECK_INT(minute(&c, 18, 0), RXC_JUMPED);
  CHECK_INT(minute(&c, 19, 0), RXC_SETTLING);
  CHECK_INT(minute(&c, 40, 0), RXC_SETTLING);
  CHECK_INT(c.minutes, 0);
  CHECK_INT(minute(&c, 42, 0), RXC_SETTLING);
  CHECK_INT(minute(&c, 43, 0), RXC_TRUSTED);
}

/* The oscillator may be 500 ppm off: 890 s apart, 0.4 s is drift; a whole
 * second is still a jump. */
static void test_oscillator_rate(void) {
  struct rx_continuity c;
  rxc_init(&c, 3);
  CHECK_INT(rxc_check(&c, T0, M0), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, T0 + 890, M0 + 890 * (1 + 450e-6)), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, T0 + 1780 + 1, M0 + 890 * (2 + 450e-6)), RXC_JUMPED);
}

/* Leap seconds: a positive one repeats a POSIX second at the end of a UTC
 * month; the same step elsewhere is a jump. */
static void test_leap_second(void) {
  const double x = 1483228800.0; /* 2017-01-01T00:00:00Z, after 2016-12-31T23:59:60 */
  struct rx_continuity c;
  rxc_init(&c, 3);
  CHECK_INT(rxc_check(&c, x - 2, M0), RXC_TRUSTED);     /* 23:59:58 */
  CHECK_INT(rxc_check(&c, x - 1, M0 + 1), RXC_TRUSTED); /* 23:59:59 */
  CHECK_INT(rxc_check(&c, x, M0 + 2), RXC_TRUSTED);     /* 23:59:60 */
  CHECK_INT(rxc_check(&c, x, M0 + 3), RXC_TRUSTED);     /* 00:00:00 */
  CHECK_INT(rxc_check(&c, x + 1, M0 + 4), RXC_TRUSTED);
  CHECK_INT(c.jumps, 0);
  /* a DCF77 leap minute: 61 s between the marks of 23:59 and 00:00 UTC */
  rxc_init(&c, 3);
  CHECK_INT(rxc_check(&c, x - 60, M0), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, x, M0 + 61), RXC_TRUSTED);
  CHECK_INT(c.jumps, 0);
  /* the same repeated second at a midnight that begins no month */
  rxc_init(&c, 3);
  CHECK_INT(rxc_check(&c, x - 86400 - 1, M0), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, x - 86400, M0 + 1), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, x - 86400, M0 + 2), RXC_JUMPED);
  /* two seconds at the month's end are no leap second */
  rxc_init(&c, 3);
  CHECK_INT(rxc_check(&c, x - 1, M0), RXC_TRUSTED);
  CHECK_INT(rxc_check(&c, x - 1, M0 + 2), RXC_JUMPED);
}

/* Random timing jitter within +-0.25 s never jumps; random whole-second
 * jumps, either sign, always do. */
static void test_random(void) {
  for (int run = 0; run < 200; run++) {
    struct rx_continuity c;
    rxc_init(&c, 1 + (int)(random() % 5));
    double shift = 0, prev_jitter = 0;
    int jumps = 0;
    for (int k = 0; k < 50; k++) {
      double jitter = ((double)random() / RAND_MAX - 0.5) * 0.5, j = 0;
      if (k > 0 && random() % 10 == 0) j = (double)(1 + random() % 100000) * (random() % 2 ? 1 : -1);
      shift += j;
      jumps += j != 0;
      enum rxc_verdict v = rxc_check(&c, T0 + 60.0 * k + shift, M0 + 60.0 * k + jitter);
      CHECK_INT(v == RXC_JUMPED, j != 0);
      if (j != 0) CHECK_NEAR(c.last_jump, j - (jitter - prev_jitter), 1e-6);
      prev_jitter = jitter;
    }
    CHECK_INT(c.jumps, jumps);
  }
}

int main(void) {
  unit_init();
  RUN(test_steady_minutes_with_jitter);
  RUN(test_dst_like_hour_jump);
  RUN(test_minus_one_day_at_1hz);
  RUN(test_one_second_jump);
  RUN(test_tolerance_edges);
  RUN(test_glitch_minute_then_back);
  RUN(test_jump_while_settling_restarts);
  RUN(test_settle_configurable);
  RUN(test_missed_minutes);
  RUN(test_long_gap);
  RUN(test_oscillator_rate);
  RUN(test_leap_second);
  RUN(test_random);
  return unit_done();
}
