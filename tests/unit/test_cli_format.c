/* Unit tests for cli/format.c: the sources table and the status summary
 * rendered from JSON text, compared line by line with the exact expected
 * output, and the adaptive duration units. */
#include "cli/format.h"

#include <string.h>

#include "unit.h"

/* Renders a JSON text with fn into a buffer (caller frees). */
static char *render(int (*fn)(json_object *, FILE *), const char *json, int *rc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  json_object *doc = json_tokener_parse(json);
  *rc = fn(doc, out);
  fclose(out);
  json_object_put(doc);
  return buf;
}

/* Line n (0-based) of text, without its newline, in a static buffer. */
static const char *line_of(const char *text, int n) {
  static char line[512];
  for (; n > 0 && text; n--) {
    text = strchr(text, '\n');
    if (text) text++;
  }
  if (!text || !*text) return "(no such line)";
  size_t len = strcspn(text, "\n");
  if (len >= sizeof line) len = sizeof line - 1;
  memcpy(line, text, len);
  line[len] = '\0';
  return line;
}

static int count_lines(const char *text) {
  int n = 0;
  for (; *text; text++) n += *text == '\n';
  return n;
}

/* ---- durations -------------------------------------------------------- */

static const char *dur(double v, bool sign) {
  static char buf[FORMAT_DURATION_LEN];
  return format_duration(v, sign, buf, sizeof buf);
}

static void test_duration_units(void) {
  CHECK_STR(dur(157680000, true), "+157680000s");
  CHECK_STR(dur(10000, true), "+10000s");
  CHECK_STR(dur(9999.9994, true), "+9999.999s");
  CHECK_STR(dur(1.0003, true), "+1.000s");
  CHECK_STR(dur(-1.0003, true), "-1.000s");
  CHECK_STR(dur(0.00025, true), "+250.000us");
  CHECK_STR(dur(0.0015, true), "+1.500ms");
  CHECK_STR(dur(-0.5, true), "-500.000ms");
  CHECK_STR(dur(50e-9, true), "+50ns");
  CHECK_STR(dur(1e-6, true), "+1.000us");
  CHECK_STR(dur(0, true), "+0ns");
  CHECK_STR(dur(-0.0, true), "+0ns");
  CHECK_STR(dur(1e12, true), "+1.000e+12s");
}

static void test_duration_rounding_picks_larger_unit(void) {
  CHECK_STR(dur(0.9999996, true), "+1.000s");
  CHECK_STR(dur(0.0009999996, true), "+1.000ms");
  CHECK_STR(dur(9999.9996, true), "+10000s");
  CHECK_STR(dur(9999.6, true), "+9999.600s");
}

static void test_duration_unsigned_and_missing(void) {
  CHECK_STR(dur(0.0015, false), "1.500ms");
  CHECK_STR(dur(-0.0015, false), "-1.500ms");
  CHECK_STR(dur(NAN, true), "-");
  CHECK_STR(dur(INFINITY, false), "-");
}

/* ---- sources table ---------------------------------------------------- */

static const char sources_json[] =
    "{\"sources\":["
    "{\"index\":0,\"name\":\"127.0.0.1:11123\",\"kind\":\"ntp\",\"class\":\"GPS\","
    "\"class_configured\":false,\"noselect\":false,\"state\":\"ok\",\"stratum\":1,"
    "\"refid\":\"GPS\",\"reach\":255,\"poll\":6,\"have_sample\":true,"
    "\"offset\":157680000,\"error_bound\":0.0015,\"counters\":{\"sent\":3}},"
    "{\"index\":1,\"name\":\"ntp2.example.net\",\"class\":\"DCF\","
    "\"class_configured\":true,\"state\":\"ok\",\"stratum\":2,"
    "\"refid\":\"192.168.1.10\",\"reach\":15,\"poll\":10,\"have_sample\":true,"
    "\"offset\":1.0003,\"error_bound\":1.0003},"
    "{\"index\":2,\"name\":\"gal\",\"class\":\"GAL\",\"state\":\"ok\",\"stratum\":1,"
    "\"refid\":\"GAL\",\"reach\":1,\"poll\":4,\"have_sample\":true,"
    "\"offset\":0.00025,\"error_bound\":5e-8},"
    "{\"index\":3,\"name\":\"gps2\",\"class\":\"GPS\",\"state\":\"ok\",\"stratum\":1,"
    "\"refid\":\"GPS\",\"reach\":255,\"poll\":6,\"have_sample\":true,"
    "\"offset\":-5e-8,\"error_bound\":2.5e-4},"
    "{\"index\":4,\"name\":\"new\",\"class\":\"UNKNOWN\",\"state\":\"init\","
    "\"stratum\":null,\"refid\":null,\"reach\":0,\"poll\":6,\"have_sample\":false,"
    "\"offset\":null,\"error_bound\":null}]}";

static void test_sources_table_lines(void) {
  int rc;
  char *text = render(format_sources_table, sources_json, &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 7);
  CHECK_STR(line_of(text, 0),
            "Name             Class    Str Refid           Reach Poll      Offset   +/-Bound State");
  CHECK_STR(line_of(text, 1),
            "=====================================================================================");
  CHECK_STR(line_of(text, 2),
            "127.0.0.1:11123  GPS        1 GPS               377    6 +157680000s    1.500ms ok");
  CHECK_STR(line_of(text, 3),
            "ntp2.example.net DCF*       2 192.168.1.10       17   10     +1.000s     1.000s ok");
  CHECK_STR(line_of(text, 4),
            "gal              GAL        1 GAL                 1    4  +250.000us       50ns ok");
  CHECK_STR(line_of(text, 5),
            "gps2             GPS        1 GPS               377    6       -50ns  250.000us ok");
  CHECK_STR(line_of(text, 6),
            "new              UNKNOWN    - -                   0    6           -          - init");
  free(text);
}

static void test_sources_table_empty(void) {
  int rc;
  char *text = render(format_sources_table, "{\"sources\":[]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 2);
  CHECK(strncmp(line_of(text, 0), "Name Class", 10) == 0);
  free(text);
}

static void test_sources_table_bad_documents(void) {
  int rc;
  char *text = render(format_sources_table, "{\"error\":\"x\"}", &rc);
  CHECK_INT(rc, -1);
  CHECK_STR(text, "");
  free(text);
  text = render(format_sources_table, "[1,2]", &rc);
  CHECK_INT(rc, -1);
  free(text);
  /* Wrong types inside a source print as missing, not as garbage. */
  text = render(format_sources_table,
                "{\"sources\":[7,{\"name\":5,\"reach\":\"x\",\"offset\":\"y\"}]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 4);
  CHECK_STR(line_of(text, 3),
            "-    -          - -                   -    -           -          - -");
  free(text);
}

/* ---- status ----------------------------------------------------------- */

static void test_status_summary(void) {
  int rc;
  char *text = render(format_status,
                      "{\"version\":\"0.1.0\",\"now\":1700000000.25,\"uptime\":93784.5,"
                      "\"sources\":3,\"reachable\":2,\"with_sample\":1,"
                      "\"database\":\"/var/lib/vettime/history.db\","
                      "\"samples_written\":12345,\"history_errors\":0,"
                      "\"clock_steps\":1,\"last_clock_step\":-0.5}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 7);
  CHECK_STR(line_of(text, 0), "vettimed 0.1.0, up 1d 02:03:04");
  CHECK_STR(line_of(text, 1), "Time:            2023-11-14T22:13:20.250Z");
  CHECK_STR(line_of(text, 2), "Sources:         3 configured, 2 reachable, 1 with a sample");
  CHECK_STR(line_of(text, 3), "Database:        /var/lib/vettime/history.db");
  CHECK_STR(line_of(text, 4), "Samples written: 12345");
  CHECK_STR(line_of(text, 5), "History errors:  0");
  CHECK_STR(line_of(text, 6), "Clock steps:     1, last -500.000ms");
  free(text);
}

static void test_status_short_uptime_no_steps(void) {
  int rc;
  char *text = render(format_status,
                      "{\"version\":\"0.1.0\",\"uptime\":3725,\"clock_steps\":0,"
                      "\"last_clock_step\":0}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(line_of(text, 0), "vettimed 0.1.0, up 01:02:05");
  CHECK_STR(line_of(text, 1), "Time:            -");
  CHECK_STR(line_of(text, 2), "Sources:         - configured, - reachable, - with a sample");
  CHECK_STR(line_of(text, 6), "Clock steps:     0");
  free(text);
}

static void test_status_not_an_object(void) {
  int rc;
  char *text = render(format_status, "[]", &rc);
  CHECK_INT(rc, -1);
  free(text);
}

int main(void) {
  unit_init();
  RUN(test_duration_units);
  RUN(test_duration_rounding_picks_larger_unit);
  RUN(test_duration_unsigned_and_missing);
  RUN(test_sources_table_lines);
  RUN(test_sources_table_empty);
  RUN(test_sources_table_bad_documents);
  RUN(test_status_summary);
  RUN(test_status_short_uptime_no_steps);
  RUN(test_status_not_an_object);
  return unit_done();
}
