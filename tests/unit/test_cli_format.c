/* Unit tests for cli/format.c: the sources, sourcestats and alarms tables,
 * the status and vote summaries and the event lines, rendered from JSON
 * text and compared line by line with the exact expected output, the
 * order (newest first, --reverse), the empty lists, and the adaptive
 * duration and age units. */
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

/* The renderers that take more than a document, as render() wants them. */
#define NOW 1700000100.0 /* 2023-11-14T22:15:00Z */
static json_object *status_vote, *status_alarms;
static int sources_at_now(json_object *d, FILE *o) { return format_sources_table(d, NOW, o); }
static int events_newest(json_object *d, FILE *o) { return format_events(d, false, o); }
static int events_oldest(json_object *d, FILE *o) { return format_events(d, true, o); }
static int alarms_newest(json_object *d, FILE *o) { return format_alarms_table(d, false, o); }
static int alarms_oldest(json_object *d, FILE *o) { return format_alarms_table(d, true, o); }
static int status_with(json_object *d, FILE *o) {
  return format_status(d, status_vote, status_alarms, o);
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
    "\"offset\":157680000,\"error_bound\":0.0015,\"counters\":{\"sent\":3},"
    "\"last_rx\":1700000058,"
    "\"vote_state\":\"best\",\"vote_why\":\"\",\"trust\":true},"
    "{\"index\":1,\"name\":\"ntp2.example.net\",\"class\":\"DCF\","
    "\"class_configured\":true,\"state\":\"ok\",\"stratum\":2,"
    "\"refid\":\"192.168.1.10\",\"reach\":63,\"poll\":10,\"have_sample\":true,"
    "\"last_rx\":1699900000,"
    "\"offset\":1.0003,\"error_bound\":1.0003,\"vote_state\":\"falseticker\"},"
    "{\"index\":2,\"name\":\"gal\",\"class\":\"GAL\",\"state\":\"ok\",\"stratum\":1,"
    "\"refid\":\"GAL\",\"reach\":1,\"poll\":4,\"have_sample\":true,"
    "\"last_rx\":1700000100.4,"
    "\"offset\":0.00025,\"error_bound\":5e-8,\"vote_state\":\"class-outvoted\"},"
    "{\"index\":3,\"name\":\"gps2\",\"class\":\"GPS\",\"state\":\"ok\",\"stratum\":1,"
    "\"refid\":\"GPS\",\"reach\":255,\"poll\":6,\"have_sample\":true,"
    "\"last_rx\":1699000000,"
    "\"offset\":-5e-8,\"error_bound\":2.5e-4,\"vote_state\":\"combined\",\"auth\":\"nts\"},"
    "{\"index\":4,\"name\":\"new\",\"class\":\"UNKNOWN\",\"state\":\"init\","
    "\"stratum\":null,\"refid\":null,\"reach\":0,\"poll\":6,\"have_sample\":false,"
    "\"offset\":null,\"error_bound\":null,\"vote_state\":null}]}";

static void test_sources_table_lines(void) {
  int rc;
  char *text = render(sources_at_now, sources_json, &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 7);
  CHECK_STR(line_of(text, 0),
            "Name             Class    Str Refid           Reach Poll LastRx      Offset   +/-Bound "
            "Vote           Auth      State");
  CHECK_STR(line_of(text, 1),
            "=================================================="
            "=========================================================" "==========");
  /* Reach in octal with its leading 0 (255 = 0377, 63 = 077); LastRx in
   * s, minutes past 9999 s, hours past 9999 min (as chronyc). */
  CHECK_STR(line_of(text, 2),
            "127.0.0.1:11123  GPS        1 GPS              0377    6     42 +157680000s    1.500ms "
            "best           -         ok");
  CHECK_STR(line_of(text, 3),
            "ntp2.example.net DCF*       2 192.168.1.10      077   10  1668m     +1.000s     1.000s "
            "falseticker    -         ok");
  CHECK_STR(line_of(text, 4),
            "gal              GAL        1 GAL                01    4      0  +250.000us       50ns "
            "class-outvoted -         ok");
  CHECK_STR(line_of(text, 5),
            "gps2             GPS        1 GPS              0377    6   277h       -50ns  250.000us "
            "combined       nts       ok");
  CHECK_STR(line_of(text, 6),
            "new              UNKNOWN    - -                   0    6      -           -          - "
            "-              -         init");
  free(text);
  /* The document's own "now" wins over the caller's clock. */
  char doc[sizeof sources_json + 32];
  snprintf(doc, sizeof doc, "%.*s,\"now\":1700000068}", (int)strlen(sources_json) - 1, sources_json);
  text = render(sources_at_now, doc, &rc);
  CHECK_STR(strstr(line_of(text, 2), "   10 +157680000s") ? "found" : line_of(text, 2), "found");
  free(text);
}

static void test_age_units(void) {
  char buf[16];
  CHECK_STR(format_age(0.4, buf, sizeof buf), "0");
  CHECK_STR(format_age(-3, buf, sizeof buf), "0");
  CHECK_STR(format_age(9999, buf, sizeof buf), "9999");
  CHECK_STR(format_age(10000, buf, sizeof buf), "166m");
  CHECK_STR(format_age(599999, buf, sizeof buf), "9999m");
  CHECK_STR(format_age(600000, buf, sizeof buf), "166h");
  CHECK_STR(format_age(36000000, buf, sizeof buf), "416d");
  CHECK_STR(format_age(NAN, buf, sizeof buf), "-");
}

/* ---- sourcestats ------------------------------------------------------ */

static void test_sourcestats_table(void) {
  int rc;
  char *text = render(format_sourcestats,
                      "{\"sources\":["
                      "{\"name\":\"gps1\",\"class\":\"GPS\",\"stats\":{\"samples\":8,"
                      "\"offset\":-1.5e-6,\"sd\":2e-7,\"jitter\":3.25e-6,\"freq_ppm\":0.0125}},"
                      "{\"name\":\"dcf-long-name\",\"class\":\"DCF\",\"stats\":{\"samples\":2,"
                      "\"offset\":0.0015,\"sd\":null,\"jitter\":null,\"freq_ppm\":null}},"
                      "{\"name\":\"new\",\"class\":\"NTP\",\"stats\":null}]}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 5);
  CHECK_STR(line_of(text, 0),
            "Name          Class     NP   Freq ppm     Jitter      Offset    Std Dev");
  CHECK_STR(line_of(text, 1),
            "=======================================================================");
  CHECK_STR(line_of(text, 2),
            "gps1          GPS        8     +0.013    3.250us    -1.500us      200ns");
  CHECK_STR(line_of(text, 3),
            "dcf-long-name DCF        2          -          -    +1.500ms          -");
  CHECK_STR(line_of(text, 4),
            "new           NTP        -          -          -           -          -");
  free(text);
  text = render(format_sourcestats, "{\"sources\":[]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(line_of(text, 2), "no sources configured");
  free(text);
  text = render(format_sourcestats, "{\"sources\":{}}", &rc);
  CHECK_INT(rc, -1);
  CHECK_STR(text, "");
  free(text);
}

static void test_sources_table_empty(void) {
  int rc;
  char *text = render(sources_at_now, "{\"sources\":[]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 3);
  CHECK(strncmp(line_of(text, 0), "Name Class", 10) == 0);
  CHECK_STR(line_of(text, 2), "no sources configured");
  free(text);
}

static void test_sources_table_bad_documents(void) {
  int rc;
  char *text = render(sources_at_now, "{\"error\":\"x\"}", &rc);
  CHECK_INT(rc, -1);
  CHECK_STR(text, "");
  free(text);
  text = render(sources_at_now, "[1,2]", &rc);
  CHECK_INT(rc, -1);
  free(text);
  /* Wrong types inside a source print as missing, not as garbage. */
  text = render(sources_at_now,
                "{\"sources\":[7,{\"name\":5,\"reach\":\"x\",\"offset\":\"y\",\"last_rx\":\"z\"}]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 4);
  CHECK_STR(line_of(text, 3),
            "-    -          - -                   -    -      -           -          - -              -         -");
  free(text);
}

/* ---- status ----------------------------------------------------------- */

static void test_status_summary(void) {
  int rc;
  status_vote = json_tokener_parse(
      "{\"valid\":true,\"vetted\":true,\"offset\":1.2345e-05,\"error\":0.00025,"
      "\"candidates\":4,\"agreeing\":3,\"classes\":3,\"agreeing_classes\":2}");
  status_alarms = json_tokener_parse(
      "{\"alarms\":[{\"id\":3,\"severity\":\"warning\",\"active\":true},"
      "{\"id\":2,\"severity\":\"critical\",\"active\":true},"
      "{\"id\":1,\"severity\":\"critical\",\"active\":false},"
      "{\"id\":4,\"severity\":\"critical\",\"active\":true}]}");
  char *text = render(status_with,
                      "{\"version\":\"0.1.0\",\"now\":1700000000.25,\"uptime\":93784.5,"
                      "\"sources\":3,\"reachable\":2,\"with_sample\":1,"
                      "\"database\":\"/var/lib/vettime/history.db\","
                      "\"samples_written\":12345,\"history_errors\":0,"
                      "\"clock_steps\":1,\"last_clock_step\":-0.5,"
                      "\"server\":{\"enabled\":true,\"state\":\"holdover\","
                      "\"holdover_since\":1699999990,\"stratum\":2,\"error\":0.001,"
                      "\"answered\":17,\"dropped\":1}}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 10);
  /* the verdict, the open alarms and the serving state lead */
  CHECK_STR(line_of(text, 0),
            "Vetted:          yes, offset +12.345us ±250.000us (3 of 4 sources, 2 of 3 classes)");
  CHECK_STR(line_of(text, 1), "Alarms:          3 open (2 critical, 1 warning)");
  CHECK_STR(line_of(text, 2), "Serving:         holdover since 2023-11-14T22:13:10Z, stratum 2, "
                              "±1.000ms; 17 requests answered, 1 dropped");
  CHECK_STR(line_of(text, 3), "Daemon:          vettimed 0.1.0, up 1d 02:03:04");
  CHECK_STR(line_of(text, 4), "Time:            2023-11-14T22:13:20.250Z");
  CHECK_STR(line_of(text, 5), "Sources:         3 configured, 2 reachable, 1 with a sample");
  CHECK_STR(line_of(text, 6), "Database:        /var/lib/vettime/history.db");
  CHECK_STR(line_of(text, 7), "Samples written: 12345");
  CHECK_STR(line_of(text, 8), "History errors:  0");
  CHECK_STR(line_of(text, 9), "Clock steps:     1, last -500.000ms");
  free(text);
  json_object_put(status_vote);
  json_object_put(status_alarms);
}

/* Not vetted (with the daemon's reason), no alarm open, serving off or
 * refusing; without the vote and alarms documents, "-". */
static void test_status_verdict_variants(void) {
  int rc;
  status_vote = json_tokener_parse("{\"valid\":true,\"vetted\":false,"
                                   "\"why_not\":\"no majority: 2 of 5 sources agree\"}");
  status_alarms = json_tokener_parse("{\"alarms\":[{\"id\":1,\"active\":false}]}");
  char *text = render(status_with, "{\"server\":{\"enabled\":false}}", &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(line_of(text, 0), "Vetted:          no: no majority: 2 of 5 sources agree");
  CHECK_STR(line_of(text, 1), "Alarms:          none open");
  CHECK_STR(line_of(text, 2), "Serving:         off (no serve directive)");
  free(text);
  json_object_put(status_vote);
  json_object_put(status_alarms);
  status_vote = json_tokener_parse("{\"valid\":false}");
  status_alarms = NULL;
  text = render(status_with,
                "{\"server\":{\"enabled\":true,\"state\":\"refusing\",\"error\":null,"
                "\"answered\":0,\"dropped\":4}}", &rc);
  CHECK_STR(line_of(text, 0), "Vetted:          no: no vote round yet");
  CHECK_STR(line_of(text, 1), "Alarms:          -");
  CHECK_STR(line_of(text, 2), "Serving:         refusing; 0 requests answered, 4 dropped");
  free(text);
  /* answers with NTS are said; none, nothing said (above) */
  text = render(status_with,
                "{\"server\":{\"enabled\":true,\"state\":\"refusing\",\"error\":null,"
                "\"answered\":9,\"dropped\":0,\"counters\":{\"nts_answered\":7}}}", &rc);
  CHECK_STR(line_of(text, 2), "Serving:         refusing; 9 requests answered (7 with NTS), 0 dropped");
  free(text);
  json_object_put(status_vote);
  status_vote = json_tokener_parse("{\"valid\":true,\"vetted\":false,\"why_not\":\"\"}");
  text = render(status_with, "{}", &rc);
  CHECK_STR(line_of(text, 0), "Vetted:          no");
  free(text);
  json_object_put(status_vote);
  status_vote = NULL;
  text = render(status_with, "{}", &rc);
  CHECK_STR(line_of(text, 0), "Vetted:          -");
  CHECK_STR(line_of(text, 2), "Serving:         -");
  free(text);
}

/* A daemon that counts its history's losses: the line, and the samples
 * still waiting while the database cannot be written. */
static void test_status_history_lost(void) {
  int rc;
  status_vote = status_alarms = NULL;
  char *text = render(status_with,
                      "{\"version\":\"0.1.0\",\"uptime\":5,\"samples_written\":10,"
                      "\"history_errors\":20,\"history_buffered\":63,\"history_dropped\":0,"
                      "\"clock_steps\":0}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK(strstr(text, "\nHistory errors:  20\nHistory lost:    0 (63 samples waiting for a write)\n") != NULL);
  free(text);
  text = render(status_with, "{\"history_buffered\":0,\"history_dropped\":4}", &rc);
  CHECK(strstr(text, "\nHistory lost:    4\n") != NULL);
  free(text);
}

static void test_status_short_uptime_no_steps(void) {
  int rc;
  status_vote = status_alarms = NULL;
  char *text = render(status_with,
                      "{\"version\":\"0.1.0\",\"uptime\":3725,\"clock_steps\":0,"
                      "\"last_clock_step\":0}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(line_of(text, 3), "Daemon:          vettimed 0.1.0, up 01:02:05");
  CHECK_STR(line_of(text, 4), "Time:            -");
  CHECK_STR(line_of(text, 5), "Sources:         - configured, - reachable, - with a sample");
  CHECK_STR(line_of(text, 9), "Clock steps:     0");
  free(text);
}

/* NTP sources neither NTS nor keyed: one warning line after Sources. */
static void test_status_unauthenticated_warning(void) {
  int rc;
  char *text = render(status_with, "{\"version\":\"0.1.0\",\"uptime\":1,\"sources\":3,"
                             "\"unauthenticated_sources\":3,"
                             "\"unauthenticated\":[\"a.example\",\"127.0.0.1:123\"]}", &rc);
  CHECK_INT(rc, 0);
  CHECK(strstr(text, "\nSources:         3 configured, - reachable, - with a sample\n"
                     "Warning:         3 NTP sources are neither NTS nor keyed: a.example, "
                     "127.0.0.1:123, ...\n") != NULL);
  free(text);
  text = render(status_with, "{\"version\":\"0.1.0\",\"uptime\":1,\"unauthenticated_sources\":1,"
                       "\"unauthenticated\":[\"b\"]}", &rc);
  CHECK(strstr(text, "\nWarning:         1 NTP source is neither NTS nor keyed: b\n") != NULL);
  free(text);
  text = render(status_with, "{\"version\":\"0.1.0\",\"uptime\":1,\"unauthenticated_sources\":0}", &rc);
  CHECK(strstr(text, "Warning:") == NULL);
  free(text);
}

static void test_status_not_an_object(void) {
  int rc;
  status_vote = status_alarms = NULL;
  char *text = render(status_with, "[]", &rc);
  CHECK_INT(rc, -1);
  CHECK_STR(text, "");
  free(text);
}

/* ---- vote ------------------------------------------------------------- */

static const char vote_vetted_json[] =
    "{\"valid\":true,\"time\":1700000000.25,\"vetted\":true,\"why_not\":null,"
    "\"offset\":1.2345e-05,\"error\":0.00025,\"low\":-0.0001,\"high\":0.00012,"
    "\"candidates\":4,\"agreeing\":3,\"classes\":3,\"agreeing_classes\":2,"
    "\"agreeing_class_names\":[\"GPS\",\"GAL\"],\"best\":\"127.0.0.1:12301\","
    "\"best_class\":\"GPS\",\"stratum\":2,\"leap\":0,\"leap_disagree\":false,"
    "\"local_freq_ppm\":-1.25}";

static void test_vote_vetted(void) {
  int rc;
  char *text = render(format_vote, vote_vetted_json, &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 2);
  CHECK_STR(line_of(text, 0),
            "Vetted: yes, offset +12.345us ±250.000us, 3 of 4 sources, "
            "2 of 3 classes (GPS GAL), best 127.0.0.1:12301 (GPS), stratum 2");
  CHECK_STR(line_of(text, 1),
            "Round: 2023-11-14T22:13:20.250Z, leap 0, local clock frequency error -1.250ppm");
  free(text);
}

static void test_vote_not_vetted(void) {
  int rc;
  char *text = render(format_vote,
                      "{\"valid\":true,\"time\":1700000000,\"vetted\":false,"
                      "\"why_not\":\"no majority: 2 of 5 sources agree\",\"offset\":null,"
                      "\"error\":null,\"low\":null,\"high\":null,\"candidates\":5,"
                      "\"agreeing\":2,\"classes\":2,\"agreeing_classes\":0,"
                      "\"agreeing_class_names\":[],\"best\":null,\"best_class\":null,"
                      "\"stratum\":16,\"leap\":1,\"leap_disagree\":true,"
                      "\"local_freq_ppm\":null}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 2);
  CHECK_STR(line_of(text, 0), "Vetted: no: no majority: 2 of 5 sources agree");
  CHECK_STR(line_of(text, 1), "Round: 2023-11-14T22:13:20.000Z, leap 1 (sources disagree)");
  free(text);
}

static void test_vote_before_first_round(void) {
  int rc;
  char *text = render(format_vote,
                      "{\"valid\":false,\"time\":null,\"vetted\":null,\"why_not\":null}",
                      &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(text, "Vetted: no: no vote round yet\n");
  free(text);
}

/* An odd document still yields the verdict line, with "-" for what is
 * missing, and no class list or best source it does not name. */
static void test_vote_sparse_and_bad(void) {
  int rc;
  char *text = render(format_vote, "{\"valid\":true,\"vetted\":true}", &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(line_of(text, 0), "Vetted: yes, offset - ±-, - of - sources, - of - classes, "
                              "stratum -");
  CHECK_STR(line_of(text, 1), "Round: -, leap -");
  free(text);
  text = render(format_vote, "{\"valid\":true,\"vetted\":false,\"why_not\":\"\"}", &rc);
  CHECK_STR(line_of(text, 0), "Vetted: no");
  free(text);
  text = render(format_vote, "[true]", &rc);
  CHECK_INT(rc, -1);
  CHECK_STR(text, "");
  free(text);
}

/* ---- events ----------------------------------------------------------- */

static const char events_json[] =
    "{\"events\":["
    "{\"time\":1700000000.5,\"kind\":\"step\",\"ended\":false,"
    "\"source\":\"127.0.0.1:12303\",\"class\":\"DCF\",\"value\":0.0012,"
    "\"threshold\":0.0001,\"text\":\"offset stepped by +1.200 ms\"},"
    "{\"time\":1700000060,\"kind\":\"quorum-lost\",\"ended\":true,"
    "\"source\":null,\"class\":null,\"value\":null,\"threshold\":null,"
    "\"text\":\"3 of 4 sources agree\"},"
    "{\"time\":1700000061.999,\"kind\":\"class-lost\",\"ended\":false,"
    "\"source\":null,\"class\":\"GAL\",\"text\":\"\"}]}";

/* Newest first whatever the document's order (the API's is oldest first);
 * a class-lost event names its class, as the daemon's log line does. */
static void test_events_lines(void) {
  int rc;
  char *text = render(events_newest, events_json, &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 3);
  CHECK_STR(line_of(text, 0), "2023-11-14T22:14:21.999Z class-lost class GAL");
  CHECK_STR(line_of(text, 1),
            "2023-11-14T22:14:20.000Z quorum-lost ended system: 3 of 4 sources agree");
  CHECK_STR(line_of(text, 2),
            "2023-11-14T22:13:20.500Z step 127.0.0.1:12303: offset stepped by +1.200 ms");
  free(text);
}

static void test_events_reverse(void) {
  int rc;
  char *text = render(events_oldest, events_json, &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 3);
  CHECK_STR(line_of(text, 0),
            "2023-11-14T22:13:20.500Z step 127.0.0.1:12303: offset stepped by +1.200 ms");
  CHECK_STR(line_of(text, 2), "2023-11-14T22:14:21.999Z class-lost class GAL");
  free(text);
  /* Sorted by time, not by position: a document given newest first comes
   * out the same; equal times keep the later entry first. */
  text = render(events_newest,
                "{\"events\":[{\"time\":5,\"kind\":\"b\",\"text\":\"\"},"
                "{\"time\":9,\"kind\":\"c\",\"text\":\"\"},{\"time\":5,\"kind\":\"d\",\"text\":\"\"},"
                "{\"kind\":\"untimed\",\"text\":\"\"}]}", &rc);
  CHECK_STR(line_of(text, 0), "1970-01-01T00:00:09.000Z c system");
  CHECK_STR(line_of(text, 1), "1970-01-01T00:00:05.000Z d system");
  CHECK_STR(line_of(text, 2), "1970-01-01T00:00:05.000Z b system");
  CHECK_STR(line_of(text, 3), "- untimed system");
  free(text);
}

static void test_events_empty_and_bad(void) {
  int rc;
  char *text = render(events_newest, "{\"events\":[]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(text, "no events\n");
  free(text);
  text = render(events_oldest, "{\"events\":[]}", &rc);
  CHECK_STR(text, "no events\n");
  free(text);
  text = render(events_newest, "{\"alarms\":[]}", &rc);
  CHECK_INT(rc, -1);
  CHECK_STR(text, "");
  free(text);
  text = render(events_newest, "{\"events\":[{\"time\":\"x\",\"source\":3}]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(text, "- - -: -\n");
  free(text);
}

/* ---- alarms ----------------------------------------------------------- */

static const char alarms_json[] =
    "{\"alarms\":["
    "{\"id\":12,\"kind\":\"quorum-lost\",\"severity\":\"warning\","
    "\"active\":false,\"source\":null,\"class\":null,"
    "\"raised\":1700000000,\"cleared\":1700000063.25,"
    "\"text\":\"no majority\"},"
    "{\"id\":7,\"kind\":\"falseticker\",\"severity\":\"critical\","
    "\"active\":true,\"source\":\"127.0.0.1:12303\",\"class\":\"DCF\","
    "\"raised\":1700000000.75,\"cleared\":null,\"value\":1.5,"
    "\"threshold\":0.00012,\"repeats\":0,"
    "\"text\":\"offset +1.500000 s outside the vetted interval\"},"
    "{\"id\":13,\"kind\":\"class-lost\",\"severity\":\"warning\","
    "\"active\":true,\"source\":null,\"class\":\"DCF\",\"raised\":1700000100,"
    "\"text\":\"class DCF has no agreeing source\"}]}";

static void test_alarms_table_lines(void) {
  int rc;
  char *text = render(alarms_newest, alarms_json, &rc);
  CHECK_INT(rc, 0);
  CHECK_INT(count_lines(text), 5);
  CHECK_STR(line_of(text, 0), "Id Severity Kind           Source          Raised               "
                              "Cleared              Text");
  CHECK_STR(line_of(text, 1), "=============================================================="
                              "===========================");
  /* the class-lost alarm's source is its class, as in the log line
   * "alarm 13 raised: warning class-lost class DCF: ..." */
  CHECK_STR(line_of(text, 2), "13 warning  class-lost     class DCF       2023-11-14T22:15:00Z "
                              "-                    class DCF has no agreeing source");
  CHECK_STR(line_of(text, 3), " 7 critical falseticker    127.0.0.1:12303 2023-11-14T22:13:20Z "
                              "-                    offset +1.500000 s outside the vetted "
                              "interval");
  CHECK_STR(line_of(text, 4), "12 warning  quorum-lost    system          2023-11-14T22:13:20Z "
                              "2023-11-14T22:14:23Z no majority");
  free(text);
  text = render(alarms_oldest, alarms_json, &rc);
  CHECK_INT(rc, 0);
  CHECK(strncmp(line_of(text, 2), "12 warning  quorum-lost", 23) == 0);
  CHECK(strncmp(line_of(text, 3), " 7 critical", 11) == 0);
  CHECK(strncmp(line_of(text, 4), "13 warning  class-lost", 22) == 0);
  free(text);
}

static void test_alarms_table_empty_and_bad(void) {
  int rc;
  char *text = render(alarms_newest, "{\"alarms\":[]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(text, "no alarms (none open, none cleared in the last hour)\n");
  free(text);
  text = render(alarms_newest, "{\"alarms\":{}}", &rc);
  CHECK_INT(rc, -1);
  CHECK_STR(text, "");
  free(text);
  /* A wide id widens its column; an inactive alarm without a clear time
   * shows "-" rather than inventing one. */
  text = render(alarms_newest,
                "{\"alarms\":[{\"id\":12345678901,\"active\":false,\"raised\":-5}]}", &rc);
  CHECK_INT(rc, 0);
  CHECK_STR(line_of(text, 2), "12345678901 -        -              system -                    "
                              "-                    -");
  free(text);
}

int main(void) {
  unit_init();
  RUN(test_duration_units);
  RUN(test_duration_rounding_picks_larger_unit);
  RUN(test_duration_unsigned_and_missing);
  RUN(test_sources_table_lines);
  RUN(test_age_units);
  RUN(test_sourcestats_table);
  RUN(test_sources_table_empty);
  RUN(test_sources_table_bad_documents);
  RUN(test_status_summary);
  RUN(test_status_history_lost);
  RUN(test_status_verdict_variants);
  RUN(test_status_short_uptime_no_steps);
  RUN(test_status_unauthenticated_warning);
  RUN(test_status_not_an_object);
  RUN(test_vote_vetted);
  RUN(test_vote_not_vetted);
  RUN(test_vote_before_first_round);
  RUN(test_vote_sparse_and_bad);
  RUN(test_events_lines);
  RUN(test_events_reverse);
  RUN(test_events_empty_and_bad);
  RUN(test_alarms_table_lines);
  RUN(test_alarms_table_empty_and_bad);
  return unit_done();
}
