/* Unit tests for probes/refclass.c: class names, parsing, the refid ->
 * class table and refid formatting. */
#include "probes/refclass.h"
#include "tests/unit/unit.h"

/* A refid from up to four characters, NUL-padded, first in the MSB. */
static uint32_t R(const char *s) {
  size_t n = strlen(s);
  uint32_t v = 0;
  for (size_t i = 0; i < 4; i++) v = v << 8 | (i < n ? (uint8_t)s[i] : 0u);
  return v;
}

static void test_names(void) {
  static const char *const names[] = {"UNKNOWN", "GPS", "GAL", "GLO", "BDS",
                                      "GNSS", "DCF", "MSF", "WWVB", "PTP",
                                      "ATOM", "NTP", "LOCL"};
  for (int c = 0; c < CLASS_COUNT; c++)
    CHECK_STR(ref_class_name((enum ref_class)c), names[c]);
  CHECK_STR(ref_class_name(CLASS_COUNT), "UNKNOWN");
  for (int c = CLASS_GPS; c <= CLASS_LOCL; c++) {
    enum ref_class out = CLASS_UNKNOWN;
    CHECK_INT(ref_class_parse(names[c], &out), 0);
    CHECK_INT(out, c);
  }
  enum ref_class out = CLASS_UNKNOWN;
  CHECK_INT(ref_class_parse("gps", &out), 0);
  CHECK_INT(out, CLASS_GPS);
  CHECK_INT(ref_class_parse("Wwvb", &out), 0);
  CHECK_INT(out, CLASS_WWVB);
  CHECK_INT(ref_class_parse("UNKNOWN", &out), -1);
  CHECK_INT(ref_class_parse("GPSX", &out), -1);
  CHECK_INT(ref_class_parse("", &out), -1);
  CHECK_INT(ref_class_parse(NULL, &out), -1);
}

static void test_refid_table(void) {
  static const struct { const char *refid; enum ref_class c; } v[] = {
      {"GPS", CLASS_GPS},     {"GAL", CLASS_GAL},    {"GLO", CLASS_GLO},
      {"GLON", CLASS_GLO},    {"BDS", CLASS_BDS},    {"BEI", CLASS_BDS},
      {"GNSS", CLASS_GNSS},   {"DCF", CLASS_DCF},    {"PTB", CLASS_DCF},
      {"DCFa", CLASS_DCF},    {"MSF", CLASS_MSF},    {"WWVB", CLASS_WWVB},
      {"PTP", CLASS_PTP},     {"ATOM", CLASS_ATOM},  {"CS", CLASS_ATOM},
      {"RB", CLASS_ATOM},     {"LOCL", CLASS_LOCL},  {"gps", CLASS_GPS},
      {"GPS0", CLASS_GPS},    {"PPS", CLASS_UNKNOWN}, {"PPS0", CLASS_UNKNOWN},
      {"GOES", CLASS_UNKNOWN}, {"IRIG", CLASS_UNKNOWN}, {"HBG", CLASS_UNKNOWN},
      {"JJY", CLASS_UNKNOWN}, {"LORC", CLASS_UNKNOWN}, {"TDF", CLASS_UNKNOWN},
      {"CHU", CLASS_UNKNOWN}, {"WWV", CLASS_UNKNOWN}, {"WWVH", CLASS_UNKNOWN},
      {"NIST", CLASS_UNKNOWN}, {"ACTS", CLASS_UNKNOWN}, {"USNO", CLASS_UNKNOWN},
      {"SHM0", CLASS_UNKNOWN}, {"XYZ", CLASS_UNKNOWN}, {"", CLASS_UNKNOWN},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    enum ref_class c = ref_class_from_refid(1, R(v[i].refid));
    if (c != v[i].c) fprintf(stderr, "refid \"%s\"\n", v[i].refid);
    CHECK_INT(c, v[i].c);
  }
  CHECK_INT(ref_class_from_refid(1, 0x47505320), CLASS_GPS); /* "GPS " */
  CHECK_INT(ref_class_from_refid(0, R("GPS")), CLASS_GPS);   /* a receiver */
  CHECK_INT(ref_class_from_refid(1, 0x7f7f0100), CLASS_LOCL); /* 127.127.1.0 */
  CHECK_INT(ref_class_from_refid(1, 0x7f7f0103), CLASS_LOCL);
  CHECK_INT(ref_class_from_refid(1, 0x7f7f0200), CLASS_UNKNOWN);
  CHECK_INT(ref_class_from_refid(1, 0xc0a80001), CLASS_UNKNOWN);
  CHECK_INT(ref_class_from_refid(1, 0x47005300), CLASS_UNKNOWN); /* G\0S */
  CHECK_INT(ref_class_from_refid(2, R("GPS")), CLASS_NTP);
  CHECK_INT(ref_class_from_refid(2, 0xc0a80001), CLASS_NTP);
  CHECK_INT(ref_class_from_refid(15, 0x7f7f0100), CLASS_NTP);
  CHECK_INT(ref_class_from_refid(-1, R("GPS")), CLASS_UNKNOWN);
}

static void test_refid_format(void) {
  char buf[16];
  CHECK_STR(refid_format(1, R("GPS"), buf), "GPS");
  CHECK_STR(refid_format(1, R("GNSS"), buf), "GNSS");
  CHECK_STR(refid_format(0, R("RATE"), buf), "RATE");
  CHECK_STR(refid_format(1, R("DCFa"), buf), "DCFa");
  CHECK_STR(refid_format(1, 0xc0a80001, buf), "192.168.0.1");
  CHECK_STR(refid_format(1, 0x47005300, buf), "71.0.83.0");
  CHECK_STR(refid_format(1, 0, buf), "0.0.0.0");
  CHECK_STR(refid_format(2, R("GPS"), buf), "71.80.83.0");
  CHECK_STR(refid_format(2, 0xc0a80001, buf), "192.168.0.1");
  CHECK_STR(refid_format(3, 0xffffffff, buf), "255.255.255.255");
  CHECK_STR(refid_format(16, 0x7f7f0100, buf), "127.127.1.0");
  CHECK(refid_format(1, R("GPS"), buf) == buf);
}

int main(void) {
  unit_init();
  RUN(test_names);
  RUN(test_refid_table);
  RUN(test_refid_format);
  return unit_done();
}
