/* Unit tests of the Meinberg standard time string decoder
 * (probes/meinberg.c): the framer (STX/ETX, split writes, garbage, cut and
 * over-long strings, 8-bit bytes, arrival stamps), the fields (CET, CEST
 * and UTC strings to UTC; ranges; days per month; weekday), the status
 * characters (not synchronised, freewheeling, announcements) and the check
 * against the previous string (confirmation, inconsistency, leap second). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/civil.h"
#include "probes/dcf77.h"
#include "probes/meinberg.h"
#include "unit.h"

static enum meinberg_status parse(const char *body, struct meinberg_time *t) {
  char why[96];
  return meinberg_parse(body, strlen(body), t, why, sizeof why);
}

static void test_fields(void) {
  struct meinberg_time t;
  CHECK_INT(parse("D:15.03.24;T:5;U:13.00.00;    ", &t), MB_OK); /* CET */
  CHECK_INT(t.utc, 1710504000);
  CHECK_INT(t.weekday, 5);
  CHECK_INT(t.zone, ' ');
  CHECK_INT(parse("D:15.07.24;T:1;U:14.00.00;  S ", &t), MB_OK); /* CEST */
  CHECK_INT(t.utc, civil_to_unix(2024, 7, 15, 12, 0, 0));
  CHECK_INT(parse("D:15.07.24;T:1;U:12.00.00;  U ", &t), MB_OK); /* UTC */
  CHECK_INT(t.utc, civil_to_unix(2024, 7, 15, 12, 0, 0));
  CHECK_INT(parse("D:31.03.24;T:7;U:01.59.00;   !", &t), MB_OK);
  CHECK(t.dst_announced && !t.leap_announced);
  CHECK_INT(parse("D:31.12.16;T:6;U:00.59.59;   A", &t), MB_OK);
  CHECK(t.leap_announced);
}

static void test_unsynced(void) {
  struct meinberg_time t;
  CHECK_INT(parse("D:15.03.24;T:5;U:13.00.00;#   ", &t), MB_UNSYNCED);
  CHECK(t.unsynced);
  CHECK_INT(parse("D:15.03.24;T:5;U:13.00.00; *  ", &t), MB_UNSYNCED);
  CHECK(t.freewheel);
  struct meinberg_checker c = {0};
  char why[96];
  CHECK_INT(meinberg_judge(&c, &t, 1.0, why, sizeof why), MB_UNSYNCED);
  CHECK(!c.have_prev);
}

static void test_bad_strings(void) {
  struct meinberg_time t;
  const char *format[] = {
      "D:15.03.24;T:5;U:13.00.00;   ",   /* 29 characters */
      "D:15.03.24;T:5;U:13.00.00;     ", /* 31 */
      "D:15-03-24;T:5;U:13.00.00;    ",
      "X:15.03.24;T:5;U:13.00.00;    ",
      "D:1a.03.24;T:5;U:13.00.00;    ",
      "D:15.03.24;T:5;U:13.00.00;?   ", /* status */
      "D:15.03.24;T:5;U:13.00.00;  X ",
      "D:15.03.24;T:5;U:13.00.00;   B",
  };
  for (size_t i = 0; i < sizeof format / sizeof format[0]; i++) CHECK_INT(parse(format[i], &t), MB_BAD_FORMAT);
  CHECK_INT(parse("D:15.13.24;T:5;U:13.00.00;    ", &t), MB_BAD_RANGE);
  CHECK_INT(parse("D:00.03.24;T:5;U:13.00.00;    ", &t), MB_BAD_RANGE);
  CHECK_INT(parse("D:15.03.24;T:8;U:13.00.00;    ", &t), MB_BAD_RANGE);
  CHECK_INT(parse("D:15.03.24;T:5;U:24.00.00;    ", &t), MB_BAD_RANGE);
  CHECK_INT(parse("D:15.03.24;T:5;U:13.60.00;    ", &t), MB_BAD_RANGE);
  CHECK_INT(parse("D:15.03.24;T:5;U:13.00.61;    ", &t), MB_BAD_RANGE);
  CHECK_INT(parse("D:30.02.24;T:5;U:13.00.00;    ", &t), MB_BAD_DATE);
  CHECK_INT(parse("D:31.04.24;T:3;U:13.00.00;    ", &t), MB_BAD_DATE);
  CHECK_INT(parse("D:15.03.24;T:4;U:13.00.00;    ", &t), MB_BAD_DATE); /* a Friday */
  char nul[31] = "D:15.03.24;T:5;U:13.00.00;    ";
  nul[5] = '\0';
  char why[96];
  CHECK_INT(meinberg_parse(nul, 30, &t, why, sizeof why), MB_BAD_FORMAT);
}

static void test_judge(void) {
  struct meinberg_checker c = {0};
  struct meinberg_time t;
  char why[96];
  char body[40];
  for (int s = 0; s < 5; s++) {
    snprintf(body, sizeof body, "D:15.03.24;T:5;U:13.00.%02d;    ", s);
    CHECK_INT(parse(body, &t), MB_OK);
    CHECK_INT(meinberg_judge(&c, &t, 100.0 + s, why, sizeof why), s == 0 ? MB_UNCONFIRMED : MB_OK);
  }
  /* a string missed: 2 s elapsed, +2 s: fine */
  CHECK_INT(parse("D:15.03.24;T:5;U:13.00.06;    ", &t), MB_OK);
  CHECK_INT(meinberg_judge(&c, &t, 106.0, why, sizeof why), MB_OK);
  /* +2 s after 1 s */
  CHECK_INT(parse("D:15.03.24;T:5;U:13.00.08;    ", &t), MB_OK);
  CHECK_INT(meinberg_judge(&c, &t, 107.0, why, sizeof why), MB_INCONSISTENT);
  /* a wrong date with the right time of day */
  CHECK_INT(parse("D:16.03.24;T:6;U:13.00.09;    ", &t), MB_OK);
  CHECK_INT(meinberg_judge(&c, &t, 108.0, why, sizeof why), MB_INCONSISTENT);
  /* long silence: unconfirmed again */
  CHECK_INT(parse("D:15.03.24;T:5;U:13.01.00;    ", &t), MB_OK);
  CHECK_INT(meinberg_judge(&c, &t, 200.0, why, sizeof why), MB_UNCONFIRMED);
}

static void test_leap_second(void) {
  struct meinberg_checker c = {0};
  struct meinberg_time t;
  char why[96];
  const char *seq[] = {"D:01.01.17;T:7;U:00.59.59;   A", "D:01.01.17;T:7;U:00.59.60;   A",
                       "D:01.01.17;T:7;U:01.00.00;    ", "D:01.01.17;T:7;U:01.00.01;    "};
  for (int i = 0; i < 4; i++) {
    CHECK_INT(parse(seq[i], &t), MB_OK);
    CHECK_INT(meinberg_judge(&c, &t, 10.0 + i, why, sizeof why), i == 0 ? MB_UNCONFIRMED : MB_OK);
  }
  CHECK_INT(t.utc, civil_to_unix(2017, 1, 1, 0, 0, 1));
}

/* ---- framing ---- */

struct seen {
  int strings, garbage;
  char last[MEINBERG_BODY_LEN + 1];
  double stamp;
};

static void feed(struct meinberg_framer *f, const void *data, size_t len, double stamp, double bt, struct seen *s) {
  for (size_t at = 0; at < len;) {
    struct meinberg_frame fr;
    at += meinberg_framer_push(f, (const uint8_t *)data + at, len - at, stamp, bt, &fr);
    if (fr.kind == MB_FRAME_STRING) {
      s->strings++;
      snprintf(s->last, sizeof s->last, "%s", fr.text);
      s->stamp = fr.stamp;
    } else if (fr.kind == MB_FRAME_GARBAGE) {
      s->garbage++;
    }
  }
}

static const char framed[] = "\x02" "D:15.03.24;T:5;U:13.00.00;    " "\x03";

static void test_framer(void) {
  struct meinberg_framer f;
  struct seen s = {0};
  meinberg_framer_init(&f);
  size_t n = strlen(framed);
  CHECK_INT(n, 32);
  for (size_t i = 0; i < n; i++) feed(&f, framed + i, 1, 10.0 + (double)i, 0, &s);
  CHECK_INT(s.strings, 1);
  CHECK_NEAR(s.stamp, 10.0, 1e-9);
  CHECK_STR(s.last, "D:15.03.24;T:5;U:13.00.00;    ");
  /* all at once: STX placed 31 characters before the end */
  memset(&s, 0, sizeof s);
  feed(&f, framed, n, 20.0, 0.001, &s);
  CHECK_NEAR(s.stamp, 20.0 - 31 * 0.001, 1e-9);
  /* garbage, a cut string, an over-long one, then a good one */
  memset(&s, 0, sizeof s);
  feed(&f, "noise\r\n\x02" "D:15.03", 15, 0, 0, &s);
  feed(&f, framed, n, 0, 0, &s);
  char longer[80];
  memset(longer, 'x', sizeof longer);
  longer[0] = 0x02;
  feed(&f, longer, sizeof longer, 0, 0, &s);
  feed(&f, "\x03", 1, 0, 0, &s);
  feed(&f, framed, n, 0, 0, &s);
  CHECK_INT(s.strings, 2);
  CHECK_INT(s.garbage, 3); /* the noise, the cut string, the long one */
  /* the parity bit of a 7E2 line, if the UART left it, is ignored */
  uint8_t high[40];
  for (size_t i = 0; i < n; i++) high[i] = (uint8_t)(framed[i] | 0x80);
  memset(&s, 0, sizeof s);
  feed(&f, high, n, 0, 0, &s);
  CHECK_INT(s.strings, 1);
  CHECK_STR(s.last, "D:15.03.24;T:5;U:13.00.00;    ");
}

static void test_noise(void) {
  struct meinberg_framer f;
  struct meinberg_checker c = {0};
  meinberg_framer_init(&f);
  int ok = 0;
  uint8_t buf[4096];
  for (int round = 0; round < 100; round++) {
    for (size_t i = 0; i < sizeof buf; i++) {
      long r = random();
      buf[i] = (uint8_t)(r % 5 == 0 ? "\x02\x03D:;.T U0123456789#*SA!"[r % 25] : r & 0xff);
    }
    for (size_t at = 0; at < sizeof buf;) {
      struct meinberg_frame fr;
      struct meinberg_time t;
      at += meinberg_framer_push(&f, buf + at, sizeof buf - at, round, 0, &fr);
      if (fr.kind == MB_FRAME_STRING && meinberg_parse(fr.text, fr.len, &t, NULL, 0) == MB_OK &&
          meinberg_judge(&c, &t, round, NULL, 0) == MB_OK)
        ok++;
    }
  }
  CHECK_INT(ok, 0);
}

int main(void) {
  unit_init();
  RUN(test_fields);
  RUN(test_unsynced);
  RUN(test_bad_strings);
  RUN(test_judge);
  RUN(test_leap_second);
  RUN(test_framer);
  RUN(test_noise);
  return unit_done();
}
