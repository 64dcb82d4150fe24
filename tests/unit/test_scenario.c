/* Unit tests for cli/scenario.{h,c}: the scenario parser (every directive,
 * option, fault and unit; errors with their exact FILE:LINE messages) and
 * the pure model of what a server serves at time t (offsets exact to
 * rounding, fault states), the seeded noise, and probes/ntp_wire's
 * ntp_build_response that the simulator answers with. */
#include "cli/scenario.h"

#include "monitor/keys.h"
#include "probes/ntp_wire.h"
#include "tests/unit/unit.h"

#define EXACT 1e-12 /* s: "exact" up to double rounding */

static struct scenario scn; /* large: not on the stack */
static char err[512];

static int parse(const char *text) {
  err[0] = '\0';
  return scenario_parse("t.scn", text, &scn, err, sizeof err);
}

/* Parses text, which must fail with exactly `expected`. */
static void expect_error(const char *text, const char *expected) {
  CHECK_INT(parse(text), -1);
  CHECK_STR(err, expected);
}

#define HEAD "duration 100\nserver a refid GPS\n"

/* ---- parsing ----------------------------------------------------------- */

static void test_defaults(void) {
  CHECK_INT(parse("duration 10\nserver a refid GPS\nserver b refid GAL\n"), 0);
  CHECK_STR(scn.name, "unnamed");
  CHECK_NEAR(scn.duration, 10, 0);
  CHECK_INT(scn.seed, 1);
  CHECK_INT(scn.minpoll, 0);
  CHECK_INT(scn.maxpoll, 1);
  CHECK_INT(scn.n_servers, 2);
  CHECK_INT(scn.n_events, 0);
  const struct scn_server *a = &scn.servers[0];
  CHECK_STR(a->name, "a");
  CHECK_STR(a->refid, "GPS");
  CHECK_INT(a->stratum, 1);
  CHECK_NEAR(a->offset, 0, 0);
  CHECK_NEAR(a->jitter, 20e-6, EXACT);
  CHECK_NEAR(a->drift, 0, 0);
  CHECK_INT(a->key, 0);
  CHECK_NEAR(a->root_delay, 10e-6, EXACT);
  CHECK_NEAR(a->root_disp, 20e-6, EXACT);
  CHECK_INT(a->port, SCN_DEFAULT_PORT);
  CHECK_INT(scn.servers[1].port, SCN_DEFAULT_PORT + 1);
  CHECK_INT(a->line, 2);
}

static void test_directives(void) {
  CHECK_INT(parse("# a comment line\n"
                  "name  dcf-outvoted   # trailing comment\n"
                  "\n"
                  "duration 2m\n" /* not a unit: must fail, see below */),
            -1);
  CHECK_STR(err, "t.scn:4: bad unit in \"2m\" (s, ms, us or ns)");
  CHECK_INT(parse("name dcf-outvoted\r\nduration 120\r\nseed 42\r\npoll 3 6\r\n"
                  "server gps1 refid GPS stratum 2 offset -1.5ms jitter 50us drift -3ppm "
                  "key 7 rootdelay 1ms rootdisp 2ms port 12345\n"
                  "\tserver  dcf1\trefid DCF offset 1.5s\n"),
            0);
  CHECK_STR(scn.name, "dcf-outvoted");
  CHECK_NEAR(scn.duration, 120, 0);
  CHECK_INT(scn.seed, 42);
  CHECK_INT(scn.minpoll, 3);
  CHECK_INT(scn.maxpoll, 6);
  const struct scn_server *g = &scn.servers[0];
  CHECK_INT(g->stratum, 2);
  CHECK_NEAR(g->offset, -1.5e-3, EXACT);
  CHECK_NEAR(g->jitter, 50e-6, EXACT);
  CHECK_NEAR(g->drift, -3e-6, EXACT);
  CHECK_INT(g->key, 7);
  CHECK_NEAR(g->root_delay, 1e-3, EXACT);
  CHECK_NEAR(g->root_disp, 2e-3, EXACT);
  CHECK_INT(g->port, 12345);
  CHECK_NEAR(scn.servers[1].offset, 1.5, 0);
  CHECK_INT(scn.servers[1].port, SCN_DEFAULT_PORT + 1);
}

static void test_time_units(void) {
  static const struct {
    const char *text;
    double seconds;
  } cases[] = {
      {"1.5", 1.5},      {"+2", 2},           {"-3", -3},       {"0", 0},
      {"1.5s", 1.5},     {"-250ms", -0.25},   {"+1ms", 1e-3},   {"20us", 20e-6},
      {"20\xc2\xb5s", 20e-6}, {"750ns", 750e-9}, {".5s", 0.5},  {"619315200s", 619315200},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[160];
    snprintf(text, sizeof text, "duration 10\nserver a refid GPS offset %s\n", cases[i].text);
    CHECK_INT(parse(text), 0);
    CHECK_NEAR(scn.servers[0].offset, cases[i].seconds, EXACT);
  }
}

static void test_rate_units(void) {
  CHECK_INT(parse(HEAD "server b refid GAL drift 5ppm\nserver c refid DCF drift -200ppb\n"
                       "at 1 a walk 20us/s\nat 2 a walk -3ns/s\nat 3 a walk 1ms/s\n"
                       "at 4 a walk 7\xc2\xb5s/s\n"),
            0);
  CHECK_NEAR(scn.servers[1].drift, 5e-6, EXACT);
  CHECK_NEAR(scn.servers[2].drift, -200e-9, EXACT);
  CHECK_NEAR(scn.events[0].value, 20e-6, EXACT);
  CHECK_NEAR(scn.events[1].value, -3e-9, EXACT);
  CHECK_NEAR(scn.events[2].value, 1e-3, EXACT);
  CHECK_NEAR(scn.events[3].value, 7e-6, EXACT);
}

static void test_every_fault(void) {
  CHECK_INT(parse("duration 100\nserver gps1 refid GPS key 1\nserver gal1 refid GAL\n"
                  "at 30 gps1 step +1ms\n"
                  "at 30 gal1 walk 20us/s\n"
                  "at 40 gps1 silent\n"
                  "at 60 gps1 resume\n"
                  "at 50 gal1 kod RATE\n"
                  "at 50 gal1 leap 1\n"
                  "at 50 gps1 badmac\n"
                  "at 51 gps1 goodmac\n"
                  "at 50 gal1 stratum 16\n"
                  "at 50 gal1 date +619315200s\n"
                  "at 50 gal1 refid LOCL\n"
                  "at 50 gal1 drift 5ppm\n"
                  "at 50 gal1 jitter 200us\n"),
            0);
  CHECK_INT(scn.n_events, 13);
  /* Sorted by time, file order among equal times. */
  static const enum scn_fault order[] = {
      SCN_STEP, SCN_WALK, SCN_SILENT, SCN_KOD, SCN_LEAP, SCN_BADMAC, SCN_STRATUM,
      SCN_DATE, SCN_REFID, SCN_DRIFT, SCN_JITTER, SCN_GOODMAC, SCN_RESUME};
  for (int i = 0; i < 13; i++) CHECK_INT(scn.events[i].fault, order[i]);
  CHECK_NEAR(scn.events[0].t, 30, 0);
  CHECK_INT(scn.events[0].server, 0);
  CHECK_INT(scn.events[0].line, 4);
  CHECK_STR(scn.events[3].code, "RATE");
  CHECK_INT(scn.events[4].ivalue, 1);
  CHECK_INT(scn.events[6].ivalue, 16);
  CHECK_NEAR(scn.events[7].value, 619315200, 0);
  CHECK_STR(scn.events[8].code, "LOCL");
  CHECK_NEAR(scn.events[9].value, 5e-6, EXACT);
  CHECK_NEAR(scn.events[10].value, 200e-6, EXACT);
  CHECK_NEAR(scn.events[12].t, 60, 0);
  for (int f = 0; f < SCN_FAULT_COUNT; f++)
    CHECK(strcmp(scenario_fault_name((enum scn_fault)f), "?") != 0);
  CHECK_STR(scenario_fault_name(SCN_FAULT_COUNT), "?");
}

static void test_kiss_codes(void) {
  CHECK_INT(parse(HEAD "at 1 a kod DENY\nat 2 a kod RSTR\nat 3 a kod RATE\n"), 0);
  CHECK_STR(scn.events[0].code, "DENY");
  CHECK_STR(scn.events[1].code, "RSTR");
  expect_error(HEAD "at 1 a kod NOPE\n",
               "t.scn:3: unknown kiss code \"NOPE\" (e.g. RATE, DENY, RSTR)");
}

/* ---- errors ------------------------------------------------------------ */

static void test_required_errors(void) {
  expect_error(HEAD "frobnicate 3\n", "t.scn:3: unknown directive \"frobnicate\"");
  expect_error(HEAD "at 10 gal1 step 1ms\n", "t.scn:3: unknown server \"gal1\"");
  expect_error(HEAD "at 10 a step 1xs\n", "t.scn:3: bad unit in \"1xs\" (s, ms, us or ns)");
  expect_error(HEAD "server b refid GAL drift 5\n",
               "t.scn:3: bad unit in \"5\" (ppm or ppb)");
  expect_error(HEAD "at 1 a walk 20us\n",
               "t.scn:3: bad unit in \"20us\" (ms/s, us/s or ns/s)");
  expect_error(HEAD "server a refid GAL\n", "t.scn:3: duplicate server name \"a\"");
  expect_error(HEAD "at 130 a silent\n",
               "t.scn:3: time 130 s is beyond the duration (100 s)");
  /* The duration may come after the `at` lines; the check still names the line. */
  expect_error("server a refid GPS\nat 5s a silent\nat 2m a resume\nduration 3\n",
               "t.scn:3: bad unit in \"2m\" (s, ms, us or ns)");
  expect_error("server a refid GPS\nat 5s a silent\nduration 3\n",
               "t.scn:2: time 5 s is beyond the duration (3 s)");
}

static void test_other_errors(void) {
  expect_error("server a refid GPS\n", "t.scn: no `duration` line");
  expect_error("duration 5\n", "t.scn: no `server` line");
  expect_error("duration 0\n", "t.scn:1: the duration must be more than 0 s");
  expect_error("duration -5\n", "t.scn:1: \"-5\" must not be negative");
  expect_error("duration abc\n", "t.scn:1: bad number \"abc\"");
  expect_error("duration 1e3\n", "t.scn:1: bad unit in \"1e3\" (s, ms, us or ns)");
  expect_error("duration\n", "t.scn:1: `duration` takes 1 value");
  expect_error("poll 4 2\n", "t.scn:1: minpoll 4 is above maxpoll 2");
  expect_error("poll 0 18\n", "t.scn:1: bad maxpoll \"18\" (an integer from 0 to 17)");
  expect_error("seed -1\n", "t.scn:1: bad seed \"-1\" (a non-negative integer)");
  expect_error("name a/b\n", "t.scn:1: bad name \"a/b\" (1-31 letters, digits, '_', '.', '-')");
  expect_error("duration 5\nserver a\n", "t.scn:2: server \"a\" has no refid");
  expect_error("duration 5\nserver a refid TOOLONG\n",
               "t.scn:2: bad refid \"TOOLONG\" (1 to 4 ASCII characters)");
  expect_error("duration 5\nserver a refid GPS colour red\n",
               "t.scn:2: unknown server option \"colour\"");
  expect_error("duration 5\nserver a refid GPS offset\n", "t.scn:2: \"offset\" needs a value");
  expect_error("duration 5\nserver a refid GPS stratum 16\n",
               "t.scn:2: bad stratum \"16\" (an integer from 1 to 15)");
  expect_error("duration 5\nserver a refid GPS jitter -1us\n",
               "t.scn:2: \"-1us\" must not be negative");
  expect_error("duration 5\nserver a refid GPS key 0\n",
               "t.scn:2: bad key id \"0\" (an integer from 1 to 4294967295)");
  expect_error("duration 5\nserver a refid GPS port 40000\nserver b refid GAL port 40000\n",
               "t.scn:3: server \"b\" has the address and port 127.0.0.1:40000 of \"a\"");
  expect_error(HEAD "at 1 a leap 4\n",
               "t.scn:3: bad leap indicator \"4\" (an integer from 0 to 3)");
  expect_error(HEAD "at 1 a stratum 0\n",
               "t.scn:3: bad stratum \"0\" (an integer from 1 to 16)");
  expect_error(HEAD "at 1 a melt\n", "t.scn:3: unknown fault \"melt\"");
  expect_error(HEAD "at 1 a silent now\n", "t.scn:3: `silent` takes no value");
  expect_error(HEAD "at 1 a step\n", "t.scn:3: `step` takes one value");
  expect_error(HEAD "at -1 a silent\n", "t.scn:3: \"-1\" must not be negative");
  expect_error(HEAD "at 1 a badmac\n",
               "t.scn:3: `badmac` needs a server with a key (\"a\" has none)");
}

/* `bind ADDRESS`: a host address in 127.0.0.0/8, default 127.0.0.1; the
 * same port is fine on two addresses, not on one. */
static void test_bind(void) {
  CHECK_INT(parse("duration 5\nserver a refid GPS bind 127.0.0.2 port 40000\n"
                  "server b refid GAL port 40000 bind 127.0.0.3\nserver c refid DCF\n"
                  "server d refid GPS bind 127.1.2.254\n"),
            0);
  CHECK_INT(scn.servers[0].addr, 0x7f000002u);
  CHECK_INT(scn.servers[1].addr, 0x7f000003u);
  CHECK_INT(scn.servers[1].port, 40000);
  CHECK_INT(scn.servers[2].addr, SCN_DEFAULT_ADDR);
  CHECK_INT(scn.servers[2].addr, 0x7f000001u);
  CHECK_INT(scn.servers[3].addr, 0x7f0102feu);
  char buf[SCN_ADDR_LEN];
  scenario_format_addr(scn.servers[3].addr, buf);
  CHECK_STR(buf, "127.1.2.254");
  scenario_format_addr(0x7ffffffeu, buf);
  CHECK_STR(buf, "127.255.255.254");

  expect_error("duration 5\nserver a refid GPS bind 10.0.0.1\n",
               "t.scn:2: bad bind address \"10.0.0.1\": not a loopback address (127.0.0.0/8)");
  expect_error("duration 5\nserver a refid GPS bind 192.168.1.1\n",
               "t.scn:2: bad bind address \"192.168.1.1\": not a loopback address "
               "(127.0.0.0/8)");
  expect_error("duration 5\nserver a refid GPS bind localhost\n",
               "t.scn:2: bad bind address \"localhost\": not an IPv4 address (a.b.c.d)");
  expect_error("duration 5\nserver a refid GPS bind 127.0.0.256\n",
               "t.scn:2: bad bind address \"127.0.0.256\": not an IPv4 address (a.b.c.d)");
  expect_error("duration 5\nserver a refid GPS bind 127.1\n",
               "t.scn:2: bad bind address \"127.1\": not an IPv4 address (a.b.c.d)");
  expect_error("duration 5\nserver a refid GPS bind ::1\n",
               "t.scn:2: bad bind address \"::1\": not an IPv4 address (a.b.c.d)");
  expect_error("duration 5\nserver a refid GPS bind 127.255.255.255\n",
               "t.scn:2: bad bind address \"127.255.255.255\": 127.0.0.0 and "
               "127.255.255.255 are not host addresses");
  expect_error("duration 5\nserver a refid GPS bind\n", "t.scn:2: \"bind\" needs a value");
  expect_error("duration 5\nserver a refid GPS bind 127.0.0.2 port 40000\n"
               "server b refid GAL port 40000 bind 127.0.0.2\n",
               "t.scn:3: server \"b\" has the address and port 127.0.0.2:40000 of \"a\"");

  uint32_t a = 0;
  const char *why = NULL;
  CHECK_INT(scenario_parse_loopback("127.0.0.11", &a, &why), 0);
  CHECK_INT(a, 0x7f00000bu);
  CHECK_INT(scenario_parse_loopback("128.0.0.1", &a, &why), -1);
  CHECK_STR(why, "not a loopback address (127.0.0.0/8)");
  CHECK_INT(scenario_parse_loopback("127.0.0.0", &a, &why), -1);
  CHECK_INT(scenario_parse_loopback("", &a, &why), -1);
  CHECK_STR(why, "not an IPv4 address (a.b.c.d)");
}

static void test_limits(void) {
  static char text[80000];
  size_t n = (size_t)snprintf(text, sizeof text, "duration 10\n");
  for (int i = 0; i <= SCN_MAX_SERVERS; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, "server s%d refid GPS\n", i);
  CHECK_INT(parse(text), -1);
  CHECK_STR(err, "t.scn:66: too many servers (at most 64)");
  n = (size_t)snprintf(text, sizeof text, "duration 10\nserver a refid GPS\n");
  for (int i = 0; i <= SCN_MAX_EVENTS; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, "at 1 a silent\n");
  CHECK_INT(parse(text), -1);
  CHECK_STR(err, "t.scn:1027: too many `at` lines (at most 1024)");
  memset(text, 'x', 2000);
  text[2000] = '\0';
  expect_error(text, "t.scn:1: line longer than 1023 characters");
}

static void test_load(void) {
  CHECK_INT(scenario_load("/nonexistent/x.scn", &scn, err, sizeof err), -1);
  CHECK_STR(err, "/nonexistent/x.scn: No such file or directory");
  char path[] = "/tmp/test_scenario.XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("duration 5\nserver a refid GPS\nat 9 a silent\n", f);
  fclose(f);
  CHECK_INT(scenario_load(path, &scn, err, sizeof err), -1);
  char expected[128];
  snprintf(expected, sizeof expected, "%s:3: time 9 s is beyond the duration (5 s)", path);
  CHECK_STR(err, expected);
  remove(path);
}

/* ---- the model --------------------------------------------------------- */

static void test_offset_model(void) {
  CHECK_INT(parse("duration 1000\n"
                  "server a refid GPS offset 0.5s drift 2ppm\n"
                  "server b refid GAL offset -1ms\n"
                  "at 10 a step +1ms\n"
                  "at 20 a walk 20us/s\n"
                  "at 30 a drift -1ppm\n"
                  "at 40 a walk 0us/s\n"
                  "at 50 a date +157680000s\n"
                  "at 60 a step -250ms\n"),
            0);
  struct scn_state st;
  static const struct {
    double t, offset, rate;
  } want[] = {
      {-5, 0.5, 2e-6},
      {0, 0.5, 2e-6},
      {9.5, 0.5 + 2e-6 * 9.5, 2e-6},
      {10, 0.5 + 2e-5 + 1e-3, 2e-6},
      {20, 0.5 + 4e-5 + 1e-3, 22e-6},
      {25, 0.5 + 4e-5 + 1e-3 + 22e-6 * 5, 22e-6},
      {30, 0.5 + 4e-5 + 1e-3 + 22e-6 * 10, 19e-6},
      {40, 0.5 + 4e-5 + 1e-3 + 22e-5 + 19e-5, -1e-6},
      {50, 157680000 + 0.5 + 4e-5 + 1e-3 + 22e-5 + 19e-5 - 1e-5, -1e-6},
      {70, 157680000 + 0.5 + 4e-5 + 1e-3 + 22e-5 + 19e-5 - 3e-5 - 0.25, -1e-6},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    scenario_state_at(&scn, 0, want[i].t, &st);
    CHECK_NEAR(st.offset, want[i].offset, want[i].offset > 1e6 ? 1e-7 : EXACT);
    CHECK_NEAR(st.rate, want[i].rate, EXACT);
  }
  /* Other servers' events do not touch b. */
  scenario_state_at(&scn, 1, 500, &st);
  CHECK_NEAR(st.offset, -1e-3, 0);
  CHECK_NEAR(st.rate, 0, 0);
}

static void test_fault_states(void) {
  CHECK_INT(parse("duration 100\n"
                  "server a refid GPS key 3 jitter 50us\n"
                  "at 10 a silent\n"
                  "at 20 a resume\n"
                  "at 30 a kod RATE\n"
                  "at 40 a resume\n"
                  "at 50 a leap 1\n"
                  "at 55 a badmac\n"
                  "at 60 a stratum 16\n"
                  "at 65 a goodmac\n"
                  "at 70 a stratum 2\n"
                  "at 75 a refid LOCL\n"
                  "at 80 a jitter 200us\n"
                  "at 85 a silent\n"
                  "at 85 a kod DENY\n"),
            0);
  struct scn_state st;
  scenario_state_at(&scn, 0, 5, &st);
  CHECK(!st.silent && !st.badmac && st.kiss[0] == '\0');
  CHECK_INT(st.stratum, 1);
  CHECK_INT(st.leap, 0);
  CHECK_STR(st.refid, "GPS");
  CHECK_NEAR(st.jitter, 50e-6, EXACT);
  scenario_state_at(&scn, 0, 10, &st);
  CHECK(st.silent);
  scenario_state_at(&scn, 0, 19.999, &st);
  CHECK(st.silent);
  scenario_state_at(&scn, 0, 20, &st);
  CHECK(!st.silent);
  scenario_state_at(&scn, 0, 35, &st);
  CHECK_STR(st.kiss, "RATE");
  scenario_state_at(&scn, 0, 45, &st);
  CHECK_STR(st.kiss, "");
  scenario_state_at(&scn, 0, 52, &st);
  CHECK_INT(st.leap, 1);
  CHECK(!st.badmac);
  scenario_state_at(&scn, 0, 57, &st);
  CHECK(st.badmac);
  scenario_state_at(&scn, 0, 62, &st);
  CHECK_INT(st.stratum, 16);
  CHECK_INT(st.leap, 3); /* unsynchronised */
  CHECK(st.badmac);
  scenario_state_at(&scn, 0, 67, &st);
  CHECK(!st.badmac);
  scenario_state_at(&scn, 0, 72, &st);
  CHECK_INT(st.stratum, 2);
  CHECK_INT(st.leap, 1); /* the leap bits set at 50 again */
  scenario_state_at(&scn, 0, 77, &st);
  CHECK_STR(st.refid, "LOCL");
  scenario_state_at(&scn, 0, 82, &st);
  CHECK_NEAR(st.jitter, 200e-6, EXACT);
  scenario_state_at(&scn, 0, 90, &st);
  CHECK(st.silent);
  CHECK_STR(st.kiss, "DENY");
}

static void test_describe(void) {
  CHECK_INT(parse("duration 100\nserver gps1 refid GPS key 1\n"
                  "at 30 gps1 step +1ms\nat 31 gps1 walk 20us/s\nat 32 gps1 drift -5ppm\n"
                  "at 33 gps1 kod RATE\nat 34 gps1 leap 1\nat 35 gps1 stratum 16\n"
                  "at 36 gps1 date +619315200s\nat 37 gps1 refid LOCL\n"
                  "at 38 gps1 jitter 200us\nat 39 gps1 silent\nat 40 gps1 badmac\n"),
            0);
  static const char *const want[] = {
      "gps1 step +0.001000 s", "gps1 walk +20.000 us/s", "gps1 drift -5.000 ppm",
      "gps1 kod RATE", "gps1 leap 1", "gps1 stratum 16", "gps1 date +619315200.000000 s",
      "gps1 refid LOCL", "gps1 jitter 0.000200 s", "gps1 silent", "gps1 badmac"};
  char buf[100];
  for (int i = 0; i < scn.n_events; i++) {
    scenario_describe_event(&scn, &scn.events[i], buf, sizeof buf);
    CHECK_STR(buf, want[i]);
  }
}

static void test_rng(void) {
  struct scn_rng a, b, c;
  scn_rng_init(&a, 42, 0);
  scn_rng_init(&b, 42, 0);
  scn_rng_init(&c, 42, 1);
  bool same = true, differ = false;
  double sum = 0, sum2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; i++) {
    double x = scn_rng_gauss(&a), y = scn_rng_gauss(&b), z = scn_rng_gauss(&c);
    same &= x == y;
    differ |= x != z;
    sum += x;
    sum2 += x * x;
  }
  CHECK(same);
  CHECK(differ);
  CHECK_NEAR(sum / n, 0, 0.05);
  CHECK_NEAR(sqrt(sum2 / n), 1, 0.05);
}

/* ---- the response the simulator sends --------------------------------- */

static void test_build_response(void) {
  struct ntp_header req = {.version = 3, .mode = 3, .poll = 6,
                           .transmit = UINT64_C(0x0123456789abcdef)};
  struct ntp_header srv = {.leap = 1, .version = 4, .mode = 1, .poll = 2, .stratum = 1,
                           .precision = -20, .root_delay = 0.5, .root_dispersion = 0.25,
                           .refid = 0x47505300, .reference = 10, .receive = 11,
                           .transmit = 12, .origin = 99};
  uint8_t buf[100];
  CHECK_INT(ntp_build_response(buf, 47, &req, &srv, NULL), 0);
  CHECK_INT(ntp_build_response(buf, sizeof buf, &req, &srv, NULL), 48);
  struct ntp_header h;
  ntp_header_decode(buf, &h);
  CHECK_INT(h.version, 3);
  CHECK_INT(h.mode, 4);
  CHECK_INT(h.poll, 6);
  CHECK(h.origin == req.transmit);
  CHECK_INT(h.leap, 1);
  CHECK_INT(h.stratum, 1);
  CHECK_INT(h.precision, -20);
  CHECK_NEAR(h.root_delay, 0.5, 0);
  CHECK_NEAR(h.root_dispersion, 0.25, 0);
  CHECK_INT(h.refid, 0x47505300);
  CHECK_INT(h.reference, 10);
  CHECK_INT(h.receive, 11);
  CHECK_INT(h.transmit, 12);

  struct keyring kr;
  CHECK_INT(keyring_parse("k", "5 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n", &kr,
                          err, sizeof err), 0);
  const struct ntp_key *key = keyring_find(&kr, 5);
  CHECK_INT(ntp_build_response(buf, 71, &req, &srv, key), 0);
  CHECK_INT(ntp_build_response(buf, sizeof buf, &req, &srv, key), 72);
  CHECK_INT((uint32_t)buf[48] << 24 | buf[49] << 16 | buf[50] << 8 | buf[51], 5);
  CHECK(ntp_mac_verify(key, buf, 48, buf + 52, 20));
  keyring_free(&kr);
}

int main(void) {
  unit_init();
  RUN(test_defaults);
  RUN(test_directives);
  RUN(test_time_units);
  RUN(test_rate_units);
  RUN(test_every_fault);
  RUN(test_kiss_codes);
  RUN(test_required_errors);
  RUN(test_other_errors);
  RUN(test_bind);
  RUN(test_limits);
  RUN(test_load);
  RUN(test_offset_model);
  RUN(test_fault_states);
  RUN(test_describe);
  RUN(test_rng);
  RUN(test_build_response);
  return unit_done();
}
