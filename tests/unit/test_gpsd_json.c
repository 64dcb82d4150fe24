/* Unit tests of the gpsd JSON decoder and its pure helpers (probes/
 * gpsd_json.c): every message class, malformed and hostile lines, the
 * time-trust filter, satellites per constellation, receiver health; and a
 * golden replay of the JSON that gpsd 3.2x printed for real receiver logs
 * (the .chk files in tests/data/gpsd/, from gpsd's regression suite). Run from the
 * repository root (tests/run.sh does). */
#include "tests/unit/unit.h"

#include <stdint.h>

#include "probes/gpsd_json.h"

#define DATA "tests/data/gpsd/"

static enum gpsd_error dec(const char *s, struct gpsd_msg *m) {
  return gpsd_json_decode_line(s, strlen(s), m);
}

/* ---- each class ---- */

static void test_tpv(void) {
  struct gpsd_msg m;
  CHECK_INT(dec("{\"class\":\"TPV\",\"device\":\"/dev/ttyACM0\",\"status\":7,\"mode\":3,"
                "\"time\":\"2021-02-23T18:04:30.250Z\",\"leapseconds\":18,\"ept\":0.005,"
                "\"lat\":44.7,\"jam\":12,\"ant\":1}\r\n", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_TPV);
  CHECK_STR(m.device, "/dev/ttyACM0");
  CHECK_INT(m.u.tpv.mode, 3);
  CHECK_INT(m.u.tpv.status, 7);
  CHECK(m.u.tpv.has_time);
  CHECK_INT(m.u.tpv.time.sec, 1614103470);
  CHECK_INT(m.u.tpv.time.nsec, 250000000);
  CHECK(m.u.tpv.has_leapseconds);
  CHECK_INT(m.u.tpv.leapseconds, 18);
  CHECK_NEAR(m.u.tpv.ept, 0.005, 1e-12);
  CHECK_INT(m.u.tpv.jam, 12);
  CHECK_INT(m.u.tpv.ant, GPSD_ANT_OK);

  CHECK_INT(dec("{\"class\":\"TPV\",\"mode\":1}", &m), GPSD_OK);
  CHECK(!m.u.tpv.has_time && !m.u.tpv.has_leapseconds);
  CHECK_INT(m.u.tpv.status, -1);
  CHECK_INT(m.u.tpv.jam, -1);
  CHECK(isnan(m.u.tpv.ept));
  CHECK_STR(m.device, "");
  /* protocol < 3.10 sent time as seconds since 1970 */
  CHECK_INT(dec("{\"class\":\"TPV\",\"mode\":2,\"time\":1614103470.5}", &m), GPSD_OK);
  CHECK_INT(m.u.tpv.time.sec, 1614103470);
  CHECK_NEAR(m.u.tpv.time.nsec, 500000000, 1000);
}

static void test_sky(void) {
  struct gpsd_msg m;
  CHECK_INT(dec("{\"class\":\"SKY\",\"uSat\":4,\"satellites\":["
                "{\"PRN\":4,\"gnssid\":0,\"svid\":4,\"used\":true},"
                "{\"PRN\":7,\"gnssid\":0,\"used\":false},"
                "{\"PRN\":303,\"gnssid\":2,\"used\":true},"
                "{\"PRN\":68,\"gnssid\":6,\"used\":true},"
                "{\"PRN\":44,\"gnssid\":1,\"used\":true},"
                "{\"PRN\":12,\"used\":true},"          /* no gnssid: PRN 1-63 is GPS */
                "{\"PRN\":999,\"gnssid\":42,\"used\":true}]}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_SKY);
  CHECK(m.u.sky.has_satellites);
  CHECK_INT(m.u.sky.n_sat, 7);
  CHECK_INT(m.u.sky.used[GNSS_GPS], 2);
  CHECK_INT(m.u.sky.seen[GNSS_GPS], 3);
  CHECK_INT(m.u.sky.used[GNSS_GAL], 1);
  CHECK_INT(m.u.sky.used[GNSS_GLO], 1);
  CHECK_INT(m.u.sky.used[GNSS_SBAS], 1);
  CHECK_INT(m.u.sky.used_other, 1);
  CHECK_INT(m.u.sky.u_sat, 4);
  CHECK_INT(dec("{\"class\":\"SKY\",\"hdop\":1.30}", &m), GPSD_OK);
  CHECK(!m.u.sky.has_satellites);
  CHECK_INT(m.u.sky.u_sat, -1);
}

static void test_pps_toff(void) {
  struct gpsd_msg m;
  CHECK_INT(dec("{\"class\":\"PPS\",\"device\":\"/dev/pps0\",\"real_sec\":1700000000,"
                "\"real_nsec\":0,\"clock_sec\":1699999999,\"clock_nsec\":999998000,"
                "\"precision\":-20,\"qErr\":-2500}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_PPS);
  CHECK_INT(m.u.pps.real.sec, 1700000000);
  CHECK_INT(m.u.pps.clock.nsec, 999998000);
  CHECK(m.u.pps.has_precision);
  CHECK_INT(m.u.pps.precision, -20);
  CHECK_NEAR(m.u.pps.qerr, 2.5e-9, 1e-15);
  /* gpsd 3.22 writes a blank after a comma in TOFF */
  CHECK_INT(dec("{\"class\":\"TOFF\",\"device\":\"/dev/pts/1\",\"real_sec\":1795325634, "
                "\"real_nsec\":0,\"clock_sec\":1795325634,\"clock_nsec\":227772299}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_TOFF);
  CHECK(!m.u.pps.has_precision);
  CHECK_INT(m.u.pps.clock.nsec, 227772299);
}

static void test_control_messages(void) {
  struct gpsd_msg m;
  CHECK_INT(dec("{\"class\":\"VERSION\",\"release\":\"3.22\",\"rev\":\"3.22\","
                "\"proto_major\":3,\"proto_minor\":14}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_VERSION);
  CHECK_STR(m.u.version.release, "3.22");
  CHECK_INT(m.u.version.proto_major, 3);
  CHECK_INT(m.u.version.proto_minor, 14);
  CHECK_INT(dec("{\"class\":\"DEVICES\",\"devices\":[{\"class\":\"DEVICE\",\"path\":\"/dev/pts/1\","
                "\"driver\":\"NMEA0183\",\"bps\":115200},{\"class\":\"DEVICE\",\"path\":\"/dev/ttyACM0\","
                "\"driver\":\"u-blox\"}]}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_DEVICES);
  CHECK_INT(m.u.devices.n, 2);
  CHECK_STR(m.u.devices.dev[0].driver, "NMEA0183");
  CHECK_STR(m.u.devices.dev[1].path, "/dev/ttyACM0");
  CHECK_INT(dec("{\"class\":\"DEVICE\",\"path\":\"/dev/pts/1\",\"driver\":\"NMEA0183\","
                "\"activated\":\"2026-11-22T05:33:53.262Z\",\"native\":0,\"bps\":115200}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_DEVICE);
  CHECK_STR(m.u.device.path, "/dev/pts/1");
  CHECK_STR(m.u.device.driver, "NMEA0183");
  CHECK_INT(dec("{\"class\":\"WATCH\",\"enable\":true,\"json\":true,\"nmea\":false,\"pps\":true}", &m),
            GPSD_OK);
  CHECK(m.u.watch.enable && m.u.watch.json && m.u.watch.pps);
  CHECK_INT(dec("{\"class\":\"ERROR\",\"message\":\"Unrecognized request '?FOO'\"}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_ERROR);
  CHECK_STR(m.u.error.message, "Unrecognized request '?FOO'");
  CHECK_INT(dec("{\"class\":\"GST\",\"device\":\"/dev/pts/1\",\"rms\":837.0}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_OTHER);
  CHECK_INT(dec("{\"class\":\"A-VERY-LONG-CLASS-NAME-THAT-IS-NOT-OURS\"}", &m), GPSD_OK);
  CHECK_INT(m.cls, GPSD_MSG_OTHER);
}

/* ---- malformed and hostile input ---- */

static void test_malformed(void) {
  static const struct { const char *line; enum gpsd_error want; } cases[] = {
      {"", GPSD_ERR_EMPTY},
      {" \r\n", GPSD_ERR_EMPTY},
      {"{\"class\":\"TPV\",\"mode\":3", GPSD_ERR_SYNTAX},
      {"{\"class\":\"TPV\",\"mode\":3}}", GPSD_ERR_SYNTAX},
      {"{\"class\":\"TPV\",\"mode\":3} {}", GPSD_ERR_SYNTAX},
      {"{\"class\":\"TPV\",\"mode\":3,}", GPSD_ERR_SYNTAX},
      {"{'class':'TPV','mode':3}", GPSD_ERR_SYNTAX},
      {"$GPRMC,,V,,,,,,,,,,N*53", GPSD_ERR_SYNTAX},
      {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
       GPSD_ERR_SYNTAX},
      {"[1,2,3]", GPSD_ERR_NOT_OBJECT},
      {"\"TPV\"", GPSD_ERR_NOT_OBJECT},
      {"{\"mode\":3}", GPSD_ERR_NO_CLASS},
      {"{\"class\":7,\"mode\":3}", GPSD_ERR_NO_CLASS},
      {"{\"class\":null}", GPSD_ERR_NO_CLASS},
      /* wrong types */
      {"{\"class\":\"TPV\",\"mode\":\"3\"}", GPSD_ERR_TYPE},
      {"{\"class\":\"TPV\",\"mode\":3.0}", GPSD_ERR_TYPE},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":true}", GPSD_ERR_TYPE},
      {"{\"class\":\"TPV\",\"mode\":3,\"ept\":\"NaN\"}", GPSD_ERR_TYPE},
      {"{\"class\":\"TPV\",\"mode\":3,\"leapseconds\":\"18\"}", GPSD_ERR_TYPE},
      {"{\"class\":\"TPV\",\"device\":[],\"mode\":3}", GPSD_ERR_TYPE},
      {"{\"class\":\"SKY\",\"satellites\":{}}", GPSD_ERR_TYPE},
      {"{\"class\":\"SKY\",\"satellites\":[1,2]}", GPSD_ERR_TYPE},
      {"{\"class\":\"SKY\",\"satellites\":[{\"PRN\":1,\"used\":\"yes\"}]}", GPSD_ERR_TYPE},
      {"{\"class\":\"SKY\",\"satellites\":[{\"PRN\":1,\"gnssid\":\"GPS\",\"used\":true}]}", GPSD_ERR_TYPE},
      {"{\"class\":\"PPS\",\"real_sec\":\"1\",\"real_nsec\":0,\"clock_sec\":1,\"clock_nsec\":0}", GPSD_ERR_TYPE},
      {"{\"class\":\"WATCH\",\"enable\":1}", GPSD_ERR_TYPE},
      {"{\"class\":\"DEVICES\",\"devices\":[\"/dev/x\"]}", GPSD_ERR_TYPE},
      {"{\"class\":\"ERROR\",\"message\":42}", GPSD_ERR_TYPE},
      {"{\"class\":\"DEVICE\",\"path\":{}}", GPSD_ERR_TYPE},
      /* missing fields */
      {"{\"class\":\"TPV\"}", GPSD_ERR_MISSING},
      {"{\"class\":\"PPS\",\"real_sec\":1,\"real_nsec\":0,\"clock_sec\":1}", GPSD_ERR_MISSING},
      {"{\"class\":\"TOFF\",\"real_nsec\":0,\"clock_sec\":1,\"clock_nsec\":0}", GPSD_ERR_MISSING},
      {"{\"class\":\"VERSION\",\"proto_major\":3,\"proto_minor\":14}", GPSD_ERR_MISSING},
      {"{\"class\":\"DEVICES\"}", GPSD_ERR_MISSING},
      {"{\"class\":\"ERROR\"}", GPSD_ERR_MISSING},
      /* out of range, huge, NaN-like */
      {"{\"class\":\"TPV\",\"mode\":4}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":-1}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":99999999999999999999999999}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":18446744073709551615}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":-9223372036854775809}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"ept\":NaN}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"ept\":Infinity}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"ept\":-Infinity}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"ept\":1e400}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"ept\":-1}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":1e300}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":-5}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"leapseconds\":100000}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"jam\":256}", GPSD_ERR_RANGE},
      {"{\"class\":\"TPV\",\"mode\":3,\"ant\":9}", GPSD_ERR_RANGE},
      {"{\"class\":\"PPS\",\"real_sec\":1,\"real_nsec\":1000000000,\"clock_sec\":1,\"clock_nsec\":0}", GPSD_ERR_RANGE},
      {"{\"class\":\"PPS\",\"real_sec\":-1,\"real_nsec\":0,\"clock_sec\":1,\"clock_nsec\":0}", GPSD_ERR_RANGE},
      {"{\"class\":\"PPS\",\"real_sec\":9223372036854775807,\"real_nsec\":0,\"clock_sec\":1,\"clock_nsec\":0}", GPSD_ERR_RANGE},
      {"{\"class\":\"VERSION\",\"release\":\"0123456789012345678901234567890123456789\",\"proto_major\":3,\"proto_minor\":1}",
       GPSD_ERR_RANGE},
      /* time strings */
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2021-02-30T18:04:30.000Z\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2021-02-23T18:04:30.000\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2021-02-23T24:00:00Z\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2021-02-23T18:04:30.0000000001Z\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2021-02-23T18:04:30.Z\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"NaN\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"2021-02-23T18:04:30ZZ\"}", GPSD_ERR_TIME},
      {"{\"class\":\"TPV\",\"mode\":3,\"time\":\"1969-12-31T23:59:59Z\"}", GPSD_ERR_TIME},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct gpsd_msg m;
    enum gpsd_error e = dec(cases[i].line, &m);
    if (e != cases[i].want)
      fprintf(stderr, "case %zu: %s -> %s, expected %s\n", i, cases[i].line, gpsd_error_name(e),
              gpsd_error_name(cases[i].want));
    CHECK_INT(e, cases[i].want);
  }
}

static void test_nul_and_length(void) {
  struct gpsd_msg m;
  static const char with_nul[] = "{\"class\":\"TPV\",\0\"mode\":3}";
  CHECK_INT(gpsd_json_decode_line(with_nul, sizeof with_nul - 1, &m), GPSD_ERR_SYNTAX);
  /* not NUL-terminated: only len bytes are read */
  char buf[64];
  memcpy(buf, "{\"class\":\"TPV\",\"mode\":2}XXXXXXXXXXXXXXXXXXXX", 44);
  CHECK_INT(gpsd_json_decode_line(buf, 24, &m), GPSD_OK);
  CHECK_INT(m.u.tpv.mode, 2);
  static char big[GPSD_MAX_LINE + 2];
  memset(big, ' ', sizeof big);
  memcpy(big, "{\"class\":\"TPV\",\"mode\":2}", 24);
  CHECK_INT(gpsd_json_decode_line(big, GPSD_MAX_LINE, &m), GPSD_OK);
  CHECK_INT(gpsd_json_decode_line(big, GPSD_MAX_LINE + 1, &m), GPSD_ERR_TOO_LONG);
}

/* Every proper prefix of a valid line is an error, never a crash. */
static void test_truncated(void) {
  static const char *const lines[] = {
      "{\"class\":\"TPV\",\"device\":\"/dev/pts/1\",\"status\":2,\"mode\":3,\"time\":\"2020-07-11T22:37:45.000Z\",\"ept\":0.005}",
      "{\"class\":\"SKY\",\"satellites\":[{\"PRN\":4,\"gnssid\":0,\"used\":true},{\"PRN\":68,\"gnssid\":6,\"used\":false}]}",
      "{\"class\":\"PPS\",\"real_sec\":1700000000,\"real_nsec\":0,\"clock_sec\":1700000000,\"clock_nsec\":5,\"precision\":-20}",
  };
  for (size_t l = 0; l < sizeof lines / sizeof lines[0]; l++) {
    size_t n = strlen(lines[l]);
    struct gpsd_msg m;
    CHECK_INT(gpsd_json_decode_line(lines[l], n, &m), GPSD_OK);
    int ok = 0;
    for (size_t k = 0; k < n; k++) ok += gpsd_json_decode_line(lines[l], k, &m) == GPSD_OK;
    CHECK_INT(ok, 0);
  }
}

/* Random corruption of valid lines: any result but a crash. */
static void test_random_mutations(void) {
  static const char seed[] =
      "{\"class\":\"SKY\",\"uSat\":2,\"satellites\":[{\"PRN\":4,\"gnssid\":0,\"used\":true},"
      "{\"PRN\":303,\"gnssid\":2,\"used\":true}],\"time\":\"2021-02-23T18:04:30.000Z\"}";
  static const char alphabet[] = "{}[]\",:0123456789eE.-+tfnNaIZT \\u";
  int ok = 0;
  for (int i = 0; i < 20000; i++) {
    char buf[sizeof seed];
    memcpy(buf, seed, sizeof seed);
    int edits = 1 + (int)(random() % 4);
    for (int e = 0; e < edits; e++)
      buf[random() % (sizeof seed - 1)] = alphabet[random() % (sizeof alphabet - 1)];
    struct gpsd_msg m;
    enum gpsd_error r = gpsd_json_decode_line(buf, (size_t)(random() % sizeof seed), &m);
    CHECK(r >= GPSD_OK && r < GPSD_ERR_COUNT);
    ok += r == GPSD_OK;
  }
  CHECK(ok < 20000);
}

static void test_parse_time(void) {
  struct gpsd_time t;
  CHECK_INT(gpsd_parse_time("1970-01-01T00:00:00Z", &t), 0);
  CHECK_INT(t.sec, 0);
  CHECK_INT(gpsd_parse_time("2024-02-29T12:00:00.5Z", &t), 0);
  CHECK_INT(t.sec, 1709208000);
  CHECK_INT(t.nsec, 500000000);
  CHECK_INT(gpsd_parse_time("2023-02-29T12:00:00Z", &t), -1);
  CHECK_INT(gpsd_parse_time("2016-12-31T23:59:60Z", &t), 0); /* leap second */
  CHECK_INT(t.sec, 1483228800);
  CHECK_INT(gpsd_parse_time("2019-04-07T00:00:00.000000001Z", &t), 0);
  CHECK_INT(t.sec, GPSD_TIME_FLOOR);
  CHECK_INT(t.nsec, 1);
  CHECK_INT(gpsd_parse_time("2019-4-07T00:00:00Z", &t), -1);
  CHECK_INT(gpsd_parse_time("2019-04-07 00:00:00Z", &t), -1);
}

/* ---- the time filter ---- */

static struct gpsd_tpv tpv(int mode, int64_t sec, bool leap) {
  return (struct gpsd_tpv){.mode = mode, .status = -1, .has_time = sec != 0,
                           .time = {sec, 0}, .has_leapseconds = leap, .leapseconds = 18,
                           .jam = -1};
}

static void test_filter_three_epochs(void) {
  struct gpsd_time_filter f;
  int64_t t0 = 1700000000;
  gpsd_time_filter_init(&f, 0, GPSD_LEAP_AUTO);
  struct gpsd_tpv a = tpv(3, t0, false), b = tpv(3, t0 + 1, false), c = tpv(2, t0 + 2, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &a), GPSD_TIME_WARMING);
  CHECK_INT(gpsd_time_filter_tpv(&f, &a), GPSD_TIME_REPEAT);
  CHECK_INT(gpsd_time_filter_tpv(&f, &b), GPSD_TIME_WARMING);
  CHECK(!gpsd_time_filter_trusted(&f));
  CHECK_INT(gpsd_time_filter_tpv(&f, &c), GPSD_TIME_TRUSTED);
  CHECK(gpsd_time_filter_trusted(&f));
  CHECK_INT(gpsd_time_filter_tpv(&f, &c), GPSD_TIME_REPEAT);
  CHECK(gpsd_time_filter_trusted(&f));
  struct gpsd_tpv nofix = tpv(1, t0 + 3, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &nofix), GPSD_TIME_NO_FIX);
  CHECK(!gpsd_time_filter_trusted(&f));
  struct gpsd_tpv d = tpv(3, t0 + 4, false), e = tpv(3, t0 + 5, false), g = tpv(3, t0 + 6, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &d), GPSD_TIME_WARMING);
  CHECK_INT(gpsd_time_filter_tpv(&f, &e), GPSD_TIME_WARMING);
  CHECK_INT(gpsd_time_filter_tpv(&f, &g), GPSD_TIME_TRUSTED);
  struct gpsd_tpv notime = tpv(3, 0, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &notime), GPSD_TIME_NO_TIME);
  CHECK(!gpsd_time_filter_trusted(&f));
}

static void test_filter_jumps_and_dates(void) {
  struct gpsd_time_filter f;
  int64_t t0 = 1700000000;
  gpsd_time_filter_init(&f, 0, GPSD_LEAP_AUTO);
  for (int i = 0; i < 3; i++) {
    struct gpsd_tpv t = tpv(3, t0 + i, false);
    gpsd_time_filter_tpv(&f, &t);
  }
  CHECK(gpsd_time_filter_trusted(&f));
  struct gpsd_tpv back = tpv(3, t0 - 10, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &back), GPSD_TIME_BACKWARDS);
  CHECK(!gpsd_time_filter_trusted(&f));
  struct gpsd_tpv n1 = tpv(3, t0 - 9, false), n2 = tpv(3, t0 - 8, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &n1), GPSD_TIME_WARMING);
  CHECK_INT(gpsd_time_filter_tpv(&f, &n2), GPSD_TIME_TRUSTED);
  struct gpsd_tpv leap = tpv(3, t0 - 8 + GPSD_MAX_EPOCH_GAP + 1, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &leap), GPSD_TIME_BACKWARDS);
  /* the 1024-week rollover: 1999-08-22, and a date before the floor */
  gpsd_time_filter_init(&f, 0, GPSD_LEAP_AUTO);
  for (int i = 0; i < 5; i++) {
    struct gpsd_tpv t = tpv(3, 935280000 + i, false);
    CHECK_INT(gpsd_time_filter_tpv(&f, &t), GPSD_TIME_BAD_DATE);
  }
  struct gpsd_tpv far = tpv(3, GPSD_TIME_CEILING + 5, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &far), GPSD_TIME_BAD_DATE);
  /* a caller's own floor */
  gpsd_time_filter_init(&f, t0 + 100, GPSD_LEAP_AUTO);
  struct gpsd_tpv early = tpv(3, t0, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &early), GPSD_TIME_BAD_DATE);
}

static void test_filter_leap_policy(void) {
  struct gpsd_time_filter f;
  int64_t t0 = 1700000000;
  gpsd_time_filter_init(&f, 0, GPSD_LEAP_REQUIRE);
  struct gpsd_tpv a = tpv(3, t0, false);
  CHECK_INT(gpsd_time_filter_tpv(&f, &a), GPSD_TIME_NO_LEAP);
  /* auto: once the stream reported leap seconds, a TPV without them is untrusted */
  gpsd_time_filter_init(&f, 0, GPSD_LEAP_AUTO);
  struct gpsd_tpv b = tpv(3, t0, true), c = tpv(3, t0 + 1, false), d = tpv(3, t0 + 2, true);
  CHECK_INT(gpsd_time_filter_tpv(&f, &b), GPSD_TIME_WARMING);
  CHECK_INT(gpsd_time_filter_tpv(&f, &c), GPSD_TIME_NO_LEAP);
  CHECK_INT(gpsd_time_filter_tpv(&f, &d), GPSD_TIME_WARMING);
  for (int i = 3; i < 5; i++) {
    struct gpsd_tpv t = tpv(3, t0 + i, true);
    gpsd_time_filter_tpv(&f, &t);
  }
  CHECK(gpsd_time_filter_trusted(&f));
}

/* ---- satellites and class ---- */

static void test_sky_window_and_class(void) {
  struct gpsd_sky_window w = {0};
  struct gpsd_sky s1 = {.has_satellites = true}, s2 = {.has_satellites = true}, none = {0};
  s1.used[GNSS_GPS] = 6;
  s2.used[GNSS_GPS] = 5;
  s2.used[GNSS_GAL] = 4;
  gpsd_sky_window_add(&w, &s1);
  gpsd_sky_window_add(&w, &none);
  gpsd_sky_window_add(&w, &s2);
  int used[GPSD_GNSS_IDS] = {0}, other = -1;
  CHECK(gpsd_sky_window_close(&w, used, &other));
  CHECK_INT(used[GNSS_GPS], 6);
  CHECK_INT(used[GNSS_GAL], 4);
  CHECK_INT(other, 0);
  CHECK(!gpsd_sky_window_close(&w, used, &other));
  CHECK_INT(used[GNSS_GPS], 6); /* untouched */

  int u[GPSD_GNSS_IDS] = {0};
  CHECK_INT(gpsd_class_from_used(u), CLASS_UNKNOWN);
  u[GNSS_SBAS] = 2;
  u[GNSS_QZSS] = 1;
  CHECK_INT(gpsd_class_from_used(u), CLASS_UNKNOWN);
  u[GNSS_GPS] = 8;
  CHECK_INT(gpsd_class_from_used(u), CLASS_GPS);
  u[GNSS_GPS] = 0;
  u[GNSS_GAL] = 7;
  CHECK_INT(gpsd_class_from_used(u), CLASS_GAL);
  u[GNSS_GAL] = 0;
  u[GNSS_GLO] = 7;
  CHECK_INT(gpsd_class_from_used(u), CLASS_GLO);
  u[GNSS_GLO] = 0;
  u[GNSS_BDS] = 7;
  CHECK_INT(gpsd_class_from_used(u), CLASS_BDS);
  u[GNSS_GPS] = 1;
  CHECK_INT(gpsd_class_from_used(u), CLASS_GNSS);
}

/* ---- health ---- */

static struct gpsd_health healthy(void) {
  struct gpsd_health h = {.mode = 3, .sky_known = true, .pps = true, .jam = 12, .ant = GPSD_ANT_OK};
  h.used[GNSS_GPS] = 8;
  h.used[GNSS_GAL] = 6;
  return h;
}

static void test_health(void) {
  char buf[200];
  struct gpsd_health a = healthy(), b;
  CHECK_STR(gpsd_health_format(&a, buf, sizeof buf), "3D fix, used GPS 8 GAL 6, PPS, jam 12, ant OK");
  struct gpsd_health empty = {.mode = 1, .jam = -1};
  CHECK_STR(gpsd_health_format(&empty, buf, sizeof buf), "no fix");
  empty.sky_known = true;
  CHECK_STR(gpsd_health_format(&empty, buf, sizeof buf), "no fix, used none");
  CHECK_STR(gpsd_health_format(&a, buf, 8), "3D fix,");
  CHECK_INT(gpsd_health_drops(&a, &a), 0);

  b = a;
  b.used[GNSS_GAL] = 0; /* 14 -> 8: not halved */
  CHECK_INT(gpsd_health_drops(&a, &b), 0);
  b.used[GNSS_GPS] = 7; /* 14 -> 7: halved */
  CHECK_INT(gpsd_health_drops(&a, &b), GPSD_DROP_SATS);
  struct gpsd_health c = b, d = b;
  c.used[GNSS_GPS] = 5;
  d.used[GNSS_GPS] = 3; /* 5 -> 3: below 4 */
  CHECK_INT(gpsd_health_drops(&c, &d), GPSD_DROP_SATS);
  CHECK_INT(gpsd_health_drops(&d, &d), 0);
  b = a;
  b.mode = 2;
  CHECK_INT(gpsd_health_drops(&a, &b), GPSD_DROP_FIX);
  b = a;
  b.pps = false;
  CHECK_INT(gpsd_health_drops(&a, &b), GPSD_DROP_PPS);
  b = a;
  b.jam = GPSD_JAM_THRESHOLD;
  CHECK_INT(gpsd_health_drops(&a, &b), GPSD_DROP_JAM);
  CHECK_INT(gpsd_health_drops(&b, &b), 0); /* once per crossing */
  b = a;
  b.ant = GPSD_ANT_SHORT;
  CHECK_INT(gpsd_health_drops(&a, &b), GPSD_DROP_ANT);
  b.mode = 1;
  b.pps = false;
  CHECK_INT(gpsd_health_drops(&a, &b), GPSD_DROP_ANT | GPSD_DROP_FIX | GPSD_DROP_PPS);
  struct gpsd_health nosky = a;
  nosky.sky_known = false;
  memset(nosky.used, 0, sizeof nosky.used);
  CHECK_INT(gpsd_health_drops(&a, &nosky), 0); /* unknown is not zero */
}

/* ---- golden replay of gpsd's own output ---- */

/* An independent count of used satellites per constellation in a SKY line:
 * a plain text scan, one satellite object at a time. */
static void naive_used(const char *line, int used[GPSD_GNSS_IDS]) {
  memset(used, 0, GPSD_GNSS_IDS * sizeof used[0]);
  const char *p = strstr(line, "\"satellites\":[");
  while (p && (p = strstr(p, "{\"PRN\":"))) {
    const char *end = strchr(p, '}');
    int prn = atoi(p + 7), g = prn <= 63 ? 0 : -1;
    const char *gi = strstr(p, "\"gnssid\":");
    if (gi && gi < end) g = atoi(gi + 9);
    const char *u = strstr(p, "\"used\":true");
    if (u && u < end && g >= 0 && g < GPSD_GNSS_IDS) used[g]++;
    p = end;
  }
}

struct replay {
  int lines, errors, trusted, sky_mismatch, skies;
  int last_used[GPSD_GNSS_IDS];
  enum ref_class cls;
};

static void replay_sky(struct replay *r, const char *line, const struct gpsd_sky *s,
                       struct gpsd_sky_window *w) {
  if (!s->has_satellites) return;
  int want[GPSD_GNSS_IDS];
  naive_used(line, want);
  r->skies++;
  if (memcmp(want, s->used, sizeof want) != 0) r->sky_mismatch++;
  gpsd_sky_window_add(w, s);
}

/* Decodes the JSON lines of a .chk file in order, as the driver would:
 * SKYs between two TPVs of different epochs are one epoch's counts. */
static int replay_chk(const char *name, struct replay *r) {
  char path[256], line[GPSD_MAX_LINE + 2];
  snprintf(path, sizeof path, DATA "%s", name);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s (run from the repository root)\n", path);
    return -1;
  }
  memset(r, 0, sizeof *r);
  struct gpsd_time_filter filt;
  struct gpsd_sky_window w = {0};
  int other;
  gpsd_time_filter_init(&filt, 0, GPSD_LEAP_AUTO);
  while (fgets(line, sizeof line, f)) {
    if (line[0] != '{') continue; /* the NMEA/hex lines gpsd echoed */
    struct gpsd_msg m;
    r->lines++;
    if (gpsd_json_decode_line(line, strlen(line), &m) != GPSD_OK) {
      r->errors++;
      continue;
    }
    if (m.cls == GPSD_MSG_SKY) replay_sky(r, line, &m.u.sky, &w);
    if (m.cls != GPSD_MSG_TPV) continue;
    enum gpsd_verdict v = gpsd_time_filter_tpv(&filt, &m.u.tpv);
    if (v == GPSD_TIME_TRUSTED) r->trusted++;
    if (v != GPSD_TIME_REPEAT && gpsd_sky_window_close(&w, r->last_used, &other))
      r->cls = gpsd_class_from_used(r->last_used);
  }
  fclose(f);
  return 0;
}

static void test_golden_ublox_m8t(void) {
  struct replay r;
  if (replay_chk("u-blox-m8t-time.log.chk", &r)) { CHECK(0); return; }
  CHECK_INT(r.lines, 602);
  CHECK_INT(r.errors, 0);
  CHECK_INT(r.trusted, 148); /* 150 epochs with leapseconds, less two to warm up */
  CHECK(r.skies > 100);
  CHECK_INT(r.sky_mismatch, 0);
  CHECK(r.last_used[GNSS_GPS] >= 4 && r.last_used[GNSS_GLO] >= 4);
  CHECK_INT(r.last_used[GNSS_GAL], 0);
  CHECK_INT(r.cls, CLASS_GNSS); /* GPS + GLONASS */
}

static void test_golden_furuno(void) {
  struct replay r;
  if (replay_chk("furuno_gl_ga.log.chk", &r)) { CHECK(0); return; }
  CHECK_INT(r.lines, 130);
  CHECK_INT(r.errors, 0);
  CHECK_INT(r.trusted, 14); /* 16 epochs; the run starts after the no-fix TPVs */
  CHECK_INT(r.sky_mismatch, 0);
  CHECK_INT(r.last_used[GNSS_GAL], 5); /* $GAGSV and $GLGSV arrive as separate SKYs */
  CHECK_INT(r.last_used[GNSS_GLO], 6);
  CHECK_INT(r.last_used[GNSS_GPS], 0);
  CHECK_INT(r.cls, CLASS_GNSS);
}

static void test_golden_ublox_m9n(void) {
  struct replay r;
  if (replay_chk("ublox-neo-m9n-nmea.log.chk", &r)) { CHECK(0); return; }
  CHECK_INT(r.lines, 677);
  CHECK_INT(r.errors, 0);
  CHECK_INT(r.trusted, 59); /* 61 distinct epochs */
  CHECK_INT(r.sky_mismatch, 0);
  CHECK_INT(r.last_used[GNSS_GPS], 6);
  CHECK_INT(r.last_used[GNSS_SBAS], 2);
  CHECK_INT(r.last_used[GNSS_GAL], 5);
  CHECK_INT(r.last_used[GNSS_BDS], 5);
  CHECK_INT(r.last_used[GNSS_GLO], 7);
  CHECK_INT(r.cls, CLASS_GNSS);
}

static void test_golden_no_trusted_time(void) {
  static const char *const logs[] = {
      "april6_2019.log.chk",                  /* 1999 after the rollover, bad years */
      "gp-320fw-2019-04-07-coldboot.log.chk", /* cold boot: garbage dates, no fix */
      "oncore-binary-no-utc-offset.log.chk",  /* no UTC offset, never a fix */
  };
  for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
    struct replay r;
    if (replay_chk(logs[i], &r)) { CHECK(0); continue; }
    CHECK(r.lines > 0);
    CHECK_INT(r.errors, 0);
    CHECK_INT(r.sky_mismatch, 0);
    if (r.trusted) fprintf(stderr, "%s: %d trusted times\n", logs[i], r.trusted);
    CHECK_INT(r.trusted, 0);
  }
}

int main(void) {
  unit_init();
  RUN(test_tpv);
  RUN(test_sky);
  RUN(test_pps_toff);
  RUN(test_control_messages);
  RUN(test_malformed);
  RUN(test_nul_and_length);
  RUN(test_truncated);
  RUN(test_random_mutations);
  RUN(test_parse_time);
  RUN(test_filter_three_epochs);
  RUN(test_filter_jumps_and_dates);
  RUN(test_filter_leap_policy);
  RUN(test_sky_window_and_class);
  RUN(test_health);
  RUN(test_golden_ublox_m8t);
  RUN(test_golden_furuno);
  RUN(test_golden_ublox_m9n);
  RUN(test_golden_no_trusted_time);
  return unit_done();
}
