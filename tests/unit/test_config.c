/* Unit tests of the configuration parser (monitor/config.c): every
 * directive, the defaults, and that each kind of mistake is refused with
 * "FILE:LINE: message". */
#include "monitor/config.h"
#include "unit.h"

static struct vt_config cfg;
static char err[600];

static int parse(const char *text) { return config_parse("t.conf", text, &cfg, err, sizeof err); }

static void test_defaults(void) {
  CHECK_INT(parse("# nothing\n\n"), 0);
  CHECK_INT(cfg.n_sources, 0);
  CHECK_STR(cfg.database, VT_DEFAULT_DATABASE);
  CHECK(cfg.http_enabled);
  CHECK_STR(cfg.http_address, "127.0.0.1");
  CHECK_INT(cfg.http_port, 8123);
  CHECK_INT(cfg.log_level, LOG_LVL_INFO);
  CHECK_NEAR(cfg.retention, 30 * 86400.0, 1e-6);
  CHECK_NEAR(cfg.rollup_minutes, 90 * 86400.0, 1e-6);
  CHECK_NEAR(cfg.rollup_hours, 1826 * 86400.0, 1e-6);
  CHECK_NEAR(cfg.maxdistance, 1.5, 1e-9);
  CHECK_STR(cfg.keyfile, "");
  CHECK(!cfg.vote_by_sources);
  CHECK_INT(cfg.minsources, 1);
  CHECK_INT(cfg.minclasses, 1);
  CHECK_NEAR(cfg.alarm_clear, 60, 1e-9);
  config_free(&cfg);
}

static void test_vote_directives(void) {
  CHECK_INT(parse("vote mode sources\nminsources 3\nminclasses 2\nalarmclear 5\n"
                  "server a trust require prefer\n"), 0);
  CHECK(cfg.vote_by_sources);
  CHECK_INT(cfg.minsources, 3);
  CHECK_INT(cfg.minclasses, 2);
  CHECK_NEAR(cfg.alarm_clear, 5, 1e-9);
  CHECK(cfg.sources[0].trust && cfg.sources[0].require && cfg.sources[0].prefer);
  config_free(&cfg);
}

static void test_server_options(void) {
  CHECK_INT(parse("server ntp1.example.net\n"
                  "server 127.0.0.1 port 11123 key 5 class dcf minpoll 0 maxpoll 3 iburst noselect # c\n"
                  "  keyfile /etc/vettime/keys\n"
                  "database /tmp/h.db\nhttp ::1 port 9000\nlog debug\nretention 7\nmaxdistance 0.5\n"
                  "rollupretention 30.5 400\n"),
            0);
  CHECK_INT(cfg.n_sources, 2);
  const struct source_config *a = &cfg.sources[0], *b = &cfg.sources[1];
  CHECK_STR(a->name, "ntp1.example.net");
  CHECK_INT(a->port, 123);
  CHECK_INT(a->minpoll, 6);
  CHECK_INT(a->maxpoll, 10);
  CHECK(!a->has_key && !a->class_set && !a->iburst && !a->noselect);
  CHECK_INT(a->line, 1);
  CHECK_STR(b->name, "127.0.0.1:11123");
  CHECK_INT(b->port, 11123);
  CHECK(b->has_key);
  CHECK_INT(b->key_id, 5);
  CHECK(b->class_set);
  CHECK_INT(b->ref_class, CLASS_DCF);
  CHECK_INT(b->minpoll, 0);
  CHECK_INT(b->maxpoll, 3);
  CHECK(b->iburst && b->noselect);
  CHECK_STR(cfg.keyfile, "/etc/vettime/keys");
  CHECK_STR(cfg.database, "/tmp/h.db");
  CHECK_STR(cfg.http_address, "::1");
  CHECK_INT(cfg.http_port, 9000);
  CHECK_INT(cfg.log_level, LOG_LVL_DEBUG);
  CHECK_NEAR(cfg.retention, 7 * 86400.0, 1e-6);
  CHECK_NEAR(cfg.maxdistance, 0.5, 1e-9);
  CHECK_NEAR(cfg.rollup_minutes, 30.5 * 86400.0, 1e-6);
  CHECK_NEAR(cfg.rollup_hours, 400 * 86400.0, 1e-6);
  config_free(&cfg);
}

static void test_receivers(void) {
  CHECK_INT(parse("gpsd 127.0.0.1:2948 device /dev/ttyS0 class GAL\n"
                  "gpsd localhost\n"
                  "nmea /dev/ttyUSB0 baud 4800 pps /dev/pps0 offset 0.125 class GPS\n"
                  "dcf77 /dev/ttyS1 mode meinberg offset -0.01\n"
                  "shm 2 class GNSS noselect\n"
                  "sock /run/chrony.sock\n"), 0);
  CHECK_INT(cfg.n_sources, 6);
  const struct source_config *s = cfg.sources;
  CHECK_INT(s[0].kind, SOURCE_GPSD);
  CHECK_STR(s[0].host, "127.0.0.1");
  CHECK_INT(s[0].port, 2948);
  CHECK_STR(s[0].device, "/dev/ttyS0");
  CHECK_STR(s[0].name, "gpsd:127.0.0.1:2948/dev/ttyS0");
  CHECK_INT(s[1].port, 2947);
  CHECK_STR(s[1].name, "gpsd:localhost:2947");
  CHECK_INT(s[2].kind, SOURCE_NMEA);
  CHECK_STR(s[2].device, "/dev/ttyUSB0");
  CHECK_INT(s[2].baud, 4800);
  CHECK_STR(s[2].pps, "/dev/pps0");
  CHECK_NEAR(s[2].offset, 0.125, 1e-12);
  CHECK_INT(s[2].ref_class, CLASS_GPS);
  CHECK_STR(s[2].name, "/dev/ttyUSB0");
  CHECK_INT(s[3].kind, SOURCE_DCF77);
  CHECK_INT(s[3].dcf_mode, DCF77_MEINBERG);
  CHECK_NEAR(s[3].offset, -0.01, 1e-12);
  CHECK_INT(s[4].kind, SOURCE_SHM);
  CHECK_INT(s[4].unit, 2);
  CHECK(s[4].noselect);
  CHECK_STR(s[4].name, "shm:2");
  CHECK_INT(s[5].kind, SOURCE_SOCK);
  CHECK_STR(s[5].name, "sock:/run/chrony.sock");
  CHECK_STR(source_kind_name(SOURCE_DCF77), "dcf77");
  config_free(&cfg);
}

/* settle: minutes a receiver's time must stay consistent after a jump. */
static void test_settle(void) {
  CHECK_INT(parse("nmea /dev/ttyS0\n"
                  "dcf77 /dev/ttyS1 mode raw50\n"
                  "nmea /dev/ttyS2 settle 1\n"
                  "dcf77 /dev/ttyS3 mode meinberg settle 60 offset 0.002\n"), 0);
  CHECK_INT(cfg.n_sources, 4);
  CHECK_INT(cfg.sources[0].settle, 3);
  CHECK_INT(cfg.sources[1].settle, 3);
  CHECK_INT(cfg.sources[2].settle, 1);
  CHECK_INT(cfg.sources[3].settle, 60);
  CHECK_NEAR(cfg.sources[3].offset, 0.002, 1e-12);
  config_free(&cfg);
}

static void test_http_off(void) {
  CHECK_INT(parse("http off\n"), 0);
  CHECK(!cfg.http_enabled);
  config_free(&cfg);
}

static const struct {
  const char *text, *message;
} bad[] = {
    {"server\n", "t.conf:1: server: missing HOST"},
    {"\nserver a port 0\n", "t.conf:2: port: 0 is out of range (1 to 65535)"},
    {"server a port x\n", "t.conf:1: port: \"x\" is not a whole number"},
    {"server a port\n", "t.conf:1: server: option port needs a value"},
    {"server a frobnicate\n", "t.conf:1: server: unknown option \"frobnicate\""},
    {"server a class XYZ\n", "t.conf:1: class: unknown reference class \"XYZ\" (GPS GAL GLO BDS GNSS DCF MSF WWVB PTP ATOM NTP LOCL)"},
    {"server a minpoll 5 maxpoll 4\n", "t.conf:1: server: minpoll 5 is above maxpoll 4"},
    {"server a maxpoll 18\n", "t.conf:1: maxpoll: 18 is out of range (0 to 17)"},
    {"server a key 70000\n", "t.conf:1: key: 70000 is out of range (1 to 65535)"},
    {"server a\nserver b\nserver a\n", "t.conf:3: server a is already configured at line 1"},
    {"sever a\n", "t.conf:1: unknown directive \"sever\""},
    {"log loud\n", "t.conf:1: log: unknown level \"loud\" (error, warning, info, debug)"},
    {"database\n", "t.conf:1: database takes exactly one argument"},
    {"http 127.0.0.1 port\n", "t.conf:1: http: expected \"http ADDRESS [port N]\" or \"http off\""},
    {"retention -1\n", "t.conf:1: retention: -1 is out of range (0.0007 to 36500)"},
    {"rollupretention\n", "t.conf:1: rollupretention: expected MINUTE_DAYS [HOUR_DAYS]"},
    {"rollupretention 1 2 3\n", "t.conf:1: rollupretention: expected MINUTE_DAYS [HOUR_DAYS]"},
    {"rollupretention 0\n", "t.conf:1: rollupretention minutes: 0 is out of range (1 to 36500)"},
    {"rollupretention 30 x\n", "t.conf:1: rollupretention hours: \"x\" is not a number"},
    {"rollupretention 90 30\n", "t.conf:1: rollupretention: hour roll-ups (30 days) must be kept at least as long as minute roll-ups (90 days)"},
    {"rollupretention 4000\n", "t.conf:1: rollupretention: hour roll-ups (1826 days) must be kept at least as long as minute roll-ups (4000 days)"},
    {"maxdistance nan\n", "t.conf:1: maxdistance: \"nan\" is not a number"},
    {"nmea /dev/ttyS0 key 1\n", "t.conf:1: nmea: option key does not apply to nmea sources"},
    {"nmea /dev/ttyS0 baud 1000\n", "t.conf:1: baud: 1000 is not a standard rate (1200 ... 230400)"},
    {"dcf77 /dev/ttyS0\n", "t.conf:1: dcf77: expected \"dcf77 DEVICE mode raw50|raw75|meinberg\""},
    {"dcf77 /dev/ttyS0 mode raw60\n", "t.conf:1: mode: \"raw60\" is not raw50, raw75 or meinberg"},
    {"shm 300\n", "t.conf:1: shm unit: 300 is out of range (0 to 255)"},
    {"gpsd\n", "t.conf:1: gpsd: missing HOST[:PORT]"},
    {"nmea /dev/ttyS0 offset 2\n", "t.conf:1: offset: 2 is out of range (-1 to 1)"},
    {"shm 1\nshm 1\n", "t.conf:2: shm shm:1 is already configured at line 1"},
    {"vote mode majority\n", "t.conf:1: vote: expected \"vote mode classes\" or \"vote mode sources\""},
    {"minclasses 0\n", "t.conf:1: minclasses: 0 is out of range (1 to 13)"},
    {"nmea /dev/ttyS0\nnmea /dev/ttyS1 settle 0\n", "t.conf:2: settle: 0 is out of range (1 to 60)"},
    {"dcf77 /dev/ttyS0 mode raw50 settle 61\n", "t.conf:1: settle: 61 is out of range (1 to 60)"},
    {"dcf77 /dev/ttyS0 mode meinberg settle 2.5\n", "t.conf:1: settle: \"2.5\" is not a whole number"},
    {"nmea /dev/ttyS0 settle\n", "t.conf:1: nmea: option settle needs a value"},
    {"shm 1 settle 3\n", "t.conf:1: shm: option settle does not apply to shm sources"},
    {"server a settle 3\n", "t.conf:1: server: option settle does not apply to server sources"},
    {"server a nts key 1\n", "t.conf:1: server: nts and key exclude each other (NTS brings its own keys)"},
    {"server a ntsport 4461\n", "t.conf:1: server: ntsport needs nts"},
    {"server a nts ntsport 0\n", "t.conf:1: ntsport: 0 is out of range (1 to 65535)"},
    {"nmea /dev/ttyS0 nts\n", "t.conf:1: nmea: option nts does not apply to nmea sources"},
    {"ntstrustedcerts\n", "t.conf:1: ntstrustedcerts: expected [SET] FILE"},
    {"ntstrustedcerts x /a.pem\n", "t.conf:1: ntstrustedcerts set: \"x\" is not a whole number"},
    {"server a certset 1\n", "t.conf:1: server: certset needs nts"},
};

static void test_errors(void) {
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_INT(parse(bad[i].text), -1);
    CHECK_STR(err, bad[i].message);
    CHECK(cfg.sources == NULL); /* nothing half-configured is left behind */
  }
}

/* NTS: the options, the names they give, and the trusted certificates. */
static void test_nts(void) {
  CHECK_INT(parse("ntstrustedcerts /etc/vettime/ca.pem\n"
                  "server time.example nts\n"
                  "server 127.0.0.1 nts ntsport 4461\n"
                  "server 127.0.0.1 nts ntsport 4461 port 11123\n"
                  "server 127.0.0.1 port 11123\n"),
            0);
  CHECK_INT(cfg.n_nts_trust, 1);
  CHECK_STR(cfg.nts_trust[0].path, "/etc/vettime/ca.pem");
  CHECK_INT(cfg.nts_trust[0].set, 0);
  CHECK_INT(cfg.n_sources, 4);
  const struct source_config *s = cfg.sources;
  CHECK_STR(s[0].name, "time.example");
  CHECK(s[0].nts && !s[0].port_set);
  CHECK_INT(s[0].nts_port, 4460);
  CHECK_INT(s[0].port, 123);
  CHECK_STR(s[1].name, "127.0.0.1/nts:4461");
  CHECK_INT(s[1].nts_port, 4461);
  CHECK_STR(s[2].name, "127.0.0.1:11123/nts:4461");
  CHECK(s[2].port_set);
  CHECK_STR(s[3].name, "127.0.0.1:11123");
  CHECK(!s[3].nts);
  config_free(&cfg);
  CHECK_INT(parse("server a\n"), 0);
  CHECK_INT(cfg.n_nts_trust, 0);
  config_free(&cfg);
  /* Certificate sets: several lines, a server naming its set. */
  CHECK_INT(parse("ntstrustedcerts /a.pem\nntstrustedcerts 2 /b.pem\nntstrustedcerts 2 /c.pem\n"
                  "server x nts certset 2\n"), 0);
  CHECK_INT(cfg.n_nts_trust, 3);
  CHECK_INT(cfg.nts_trust[1].set, 2);
  CHECK_STR(cfg.nts_trust[2].path, "/c.pem");
  CHECK_INT(cfg.sources[0].cert_set, 2);
  config_free(&cfg);
}

static void test_load_missing_file(void) {
  CHECK_INT(config_load("/nonexistent/vettime.conf", &cfg, err, sizeof err), -1);
  CHECK_STR(err, "/nonexistent/vettime.conf: cannot open: No such file or directory");
}

int main(void) {
  unit_init();
  RUN(test_defaults);
  RUN(test_server_options);
  RUN(test_receivers);
  RUN(test_settle);
  RUN(test_http_off);
  RUN(test_vote_directives);
  RUN(test_errors);
  RUN(test_nts);
  RUN(test_load_missing_file);
  return unit_done();
}
