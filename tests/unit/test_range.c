/* Unit tests for cli/range.c: every form of the monitoring-plugins range
 * syntax (guidelines, "Threshold and Ranges") with values on and around
 * its ends, time units, the canonical perfdata form, and every kind of
 * malformed range refused with its reason. */
#include "cli/range.h"

#include <math.h>
#include <string.h>

#include "unit.h"

static struct vt_range parse_ok(const char *text, enum range_unit u) {
  struct vt_range r;
  char err[200] = "";
  int rc = range_parse(text, u, &r, err, sizeof err);
  if (rc != 0) fprintf(stderr, "unexpected refusal of \"%s\": %s\n", text, err);
  CHECK_INT(rc, 0);
  return r;
}

/* "10": alert if < 0 or > 10. */
static void test_plain_end(void) {
  struct vt_range r = parse_ok("10", RANGE_PLAIN);
  CHECK(!r.inside);
  CHECK_NEAR(r.start, 0, 0);
  CHECK_NEAR(r.end, 10, 0);
  CHECK(range_alerts(&r, -1));
  CHECK(range_alerts(&r, -0.001));
  CHECK(!range_alerts(&r, 0));
  CHECK(!range_alerts(&r, 5));
  CHECK(!range_alerts(&r, 10));
  CHECK(range_alerts(&r, 10.001));
  CHECK(range_alerts(&r, 11));
}

/* "10:": alert if < 10. */
static void test_start_only(void) {
  struct vt_range r = parse_ok("10:", RANGE_PLAIN);
  CHECK(isinf(r.end) && r.end > 0);
  CHECK(range_alerts(&r, 9));
  CHECK(range_alerts(&r, -5));
  CHECK(!range_alerts(&r, 10));
  CHECK(!range_alerts(&r, 1e12));
}

/* "~:10": alert if > 10. */
static void test_minus_infinity(void) {
  struct vt_range r = parse_ok("~:10", RANGE_PLAIN);
  CHECK(isinf(r.start) && r.start < 0);
  CHECK(!range_alerts(&r, -1e12));
  CHECK(!range_alerts(&r, 10));
  CHECK(range_alerts(&r, 10.5));
}

/* "10:20": alert outside, the ends are fine. */
static void test_both_ends(void) {
  struct vt_range r = parse_ok("10:20", RANGE_PLAIN);
  CHECK(range_alerts(&r, 9.999));
  CHECK(!range_alerts(&r, 10));
  CHECK(!range_alerts(&r, 15));
  CHECK(!range_alerts(&r, 20));
  CHECK(range_alerts(&r, 20.001));
}

/* "@10:20": alert inside, inclusive. */
static void test_inside(void) {
  struct vt_range r = parse_ok("@10:20", RANGE_PLAIN);
  CHECK(r.inside);
  CHECK(!range_alerts(&r, 9.999));
  CHECK(range_alerts(&r, 10));
  CHECK(range_alerts(&r, 15));
  CHECK(range_alerts(&r, 20));
  CHECK(!range_alerts(&r, 21));
  /* "@10": alert within 0..10 */
  struct vt_range s = parse_ok("@10", RANGE_PLAIN);
  CHECK(range_alerts(&s, 0));
  CHECK(range_alerts(&s, 10));
  CHECK(!range_alerts(&s, 11));
  CHECK(!range_alerts(&s, -1));
  /* "@~:2": alert at 2 or below */
  struct vt_range t = parse_ok("@~:2", RANGE_PLAIN);
  CHECK(range_alerts(&t, -3));
  CHECK(range_alerts(&t, 2));
  CHECK(!range_alerts(&t, 2.5));
  /* "@5:": alert at 5 or more */
  struct vt_range u = parse_ok("@5:", RANGE_PLAIN);
  CHECK(range_alerts(&u, 5));
  CHECK(!range_alerts(&u, 4));
}

/* Negative, fractional and exponent numbers; "~:" never alerts. */
static void test_numbers(void) {
  struct vt_range r = parse_ok("-5:-1", RANGE_PLAIN);
  CHECK(range_alerts(&r, 0));
  CHECK(!range_alerts(&r, -3));
  r = parse_ok("0.5:1e3", RANGE_PLAIN);
  CHECK_NEAR(r.start, 0.5, 0);
  CHECK_NEAR(r.end, 1000, 0);
  r = parse_ok("~:", RANGE_PLAIN);
  CHECK(!range_alerts(&r, -1e300));
  CHECK(!range_alerts(&r, 1e300));
  r = parse_ok("0", RANGE_PLAIN);
  CHECK(!range_alerts(&r, 0));
  CHECK(range_alerts(&r, 1));
  CHECK(!range_alerts(&r, NAN)); /* undetermined values never alert */
}

/* Units on quantities of time; a bare number is seconds. */
static void test_time_units(void) {
  struct vt_range r = parse_ok("100us", RANGE_SECONDS);
  CHECK_NEAR(r.end, 100e-6, 1e-18);
  CHECK(range_alerts(&r, 101e-6));
  CHECK(!range_alerts(&r, 99e-6));
  r = parse_ok("1ms:2ms", RANGE_SECONDS);
  CHECK_NEAR(r.start, 1e-3, 1e-18);
  CHECK_NEAR(r.end, 2e-3, 1e-18);
  r = parse_ok("@~:500ns", RANGE_SECONDS);
  CHECK(r.inside);
  CHECK_NEAR(r.end, 500e-9, 1e-20);
  r = parse_ok("0.5", RANGE_SECONDS);
  CHECK_NEAR(r.end, 0.5, 0);
  r = parse_ok("2s:", RANGE_SECONDS);
  CHECK_NEAR(r.start, 2, 0);
  CHECK_STR(r.text, "2s:");
}

/* The perfdata form: base unit, canonical syntax. */
static void test_format(void) {
  char buf[64];
  struct vt_range r = parse_ok("100us", RANGE_SECONDS);
  CHECK_STR(range_format(&r, buf, sizeof buf), "0.0001");
  r = parse_ok("3:", RANGE_PLAIN);
  CHECK_STR(range_format(&r, buf, sizeof buf), "3:");
  r = parse_ok("~:1ms", RANGE_SECONDS);
  CHECK_STR(range_format(&r, buf, sizeof buf), "~:0.001");
  r = parse_ok("@10:20", RANGE_PLAIN);
  CHECK_STR(range_format(&r, buf, sizeof buf), "@10:20");
  r = parse_ok("@5", RANGE_PLAIN);
  CHECK_STR(range_format(&r, buf, sizeof buf), "@5");
  r = parse_ok("~:", RANGE_PLAIN);
  CHECK_STR(range_format(&r, buf, sizeof buf), "~:");
  r = parse_ok("100ns:1ms", RANGE_SECONDS); /* no exponent: perfdata is [-0-9.] */
  CHECK_STR(range_format(&r, buf, sizeof buf), "0.0000001:0.001");
  CHECK_STR(range_number(-12.345e-6, buf, sizeof buf), "-0.000012345");
  CHECK_STR(range_number(3, buf, sizeof buf), "3");
  CHECK_STR(range_number(-1e-12, buf, sizeof buf), "0");
  CHECK_STR(range_number(157680000.25, buf, sizeof buf), "157680000.25");
}

/* Every malformed range, with the words of its reason. */
static void test_malformed(void) {
  static const struct {
    const char *text;
    enum range_unit unit;
    const char *why;
  } bad[] = {
      {"", RANGE_PLAIN, "empty"},
      {"@", RANGE_PLAIN, "nothing after '@'"},
      {":", RANGE_PLAIN, "the start is empty"},
      {":10", RANGE_PLAIN, "the start is empty"},
      {"@:10", RANGE_PLAIN, "the start is empty"},
      {"20:10", RANGE_PLAIN, "the start 20 is above the end 10"},
      {"-5", RANGE_PLAIN, "the start 0 is above the end -5"},
      {"1:2:3", RANGE_PLAIN, "more than one ':'"},
      {"~", RANGE_PLAIN, "'~' stands only before ':'"},
      {"10:~", RANGE_PLAIN, "'~' means minus infinity"},
      {"~10", RANGE_PLAIN, "'~' stands only before ':'"},
      {"abc", RANGE_PLAIN, "\"abc\" is not a number"},
      {"10x", RANGE_PLAIN, "a count takes no unit"},
      {"10us", RANGE_PLAIN, "a count takes no unit"},
      {"1.2.3", RANGE_PLAIN, "\"1.2.3\" is not a number"},
      {"inf", RANGE_PLAIN, "is not a number"},
      {"nan", RANGE_PLAIN, "is not a number"},
      {"0x10", RANGE_PLAIN, "is not a number"},
      {"1e999", RANGE_PLAIN, "is not a number"},
      {" 10", RANGE_PLAIN, "blanks are not allowed"},
      {"10 ", RANGE_PLAIN, "blanks are not allowed"},
      {"@@10", RANGE_PLAIN, "is not a number"},
      {"10:20x", RANGE_PLAIN, "a count takes no unit"},
      {"100xs", RANGE_SECONDS, "unknown unit \"xs\""},
      {"1min", RANGE_SECONDS, "unknown unit \"min\""},
      {"5ms:1ms", RANGE_SECONDS, "is above the end"},
      {"ms", RANGE_SECONDS, "is not a number"},
      {"1ms:", RANGE_PLAIN, "a count takes no unit"},
      {"12345678901234567890123456789012345678901234567890", RANGE_PLAIN, "too long"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct vt_range r = {.start = 42};
    char err[200] = "";
    int rc = range_parse(bad[i].text, bad[i].unit, &r, err, sizeof err);
    if (rc != -1 || !strstr(err, bad[i].why) || strncmp(err, "bad range \"", 11) != 0)
      fprintf(stderr, "\"%s\": rc %d, reason \"%s\", expected \"%s\"\n", bad[i].text, rc, err,
              bad[i].why);
    CHECK_INT(rc, -1);
    CHECK(strstr(err, bad[i].why) != NULL);
    CHECK_NEAR(r.start, 42, 0); /* *out untouched on refusal */
  }
  struct vt_range r;
  char err[64];
  CHECK_INT(range_parse(NULL, RANGE_PLAIN, &r, err, sizeof err), -1);
}

int main(void) {
  unit_init();
  RUN(test_plain_end);
  RUN(test_start_only);
  RUN(test_minus_infinity);
  RUN(test_both_ends);
  RUN(test_inside);
  RUN(test_numbers);
  RUN(test_time_units);
  RUN(test_format);
  RUN(test_malformed);
  return unit_done();
}
