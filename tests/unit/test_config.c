/* Unit tests of the configuration parser (monitor/config.c): every
 * directive, the defaults, and that each kind of mistake is refused with
 * "FILE:LINE: message". */
#include "monitor/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/config_check.h"
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

/* A gpsd host and device that fit one by one but not as the source address
 * "gpsd:HOST:PORT/DEVICE": refused with the reason (the name was cut, so
 * two such receivers differing at the end were one "already configured"
 * source, and GCC's -Wformat-truncation said so at -O1). */
static void test_gpsd_name_too_long(void) {
  char host[201], dev[201], text[1200];
  memset(host, 'h', 200); host[200] = '\0';
  memset(dev, 'd', 200); dev[0] = '/'; dev[200] = '\0';
  snprintf(text, sizeof text, "gpsd %s device %sA\ngpsd %s device %sB\n", host, dev, host, dev);
  CHECK_INT(parse(text), -1);
  CHECK_STR(err, "t.conf:1: gpsd: the host and the device together are too long (the source address "
                 "gpsd:HOST:PORT/DEVICE is at most 299 characters)");
  dev[80] = '\0'; /* 5 + 200 + 5 + 80 characters: fits */
  snprintf(text, sizeof text, "gpsd %s device %s\n", host, dev);
  CHECK_INT(parse(text), 0);
  CHECK_INT((long long)strlen(cfg.sources[0].address), 5 + 200 + 5 + 80);
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
    {"server a maxpoll 4\n", "t.conf:1: server: minpoll 6 (the default) is above maxpoll 4"},
    {"server a minpoll 11\n", "t.conf:1: server: minpoll 11 is above maxpoll 10 (the default)"},
    {"http localhost port 8123\n", "t.conf:1: http: \"localhost\" is not an IPv4 or IPv6 address literal (a host name is not accepted: write 127.0.0.1 or ::1 for this machine only)"},
    {"http 127.0.0.256\n", "t.conf:1: http: \"127.0.0.256\" is not an IPv4 or IPv6 address literal (a host name is not accepted: write 127.0.0.1 or ::1 for this machine only)"},
    {"server a name\n", "t.conf:1: server: option name needs a value"},
    {"server a name -x\n", "t.conf:1: name: \"-x\" is not a label (letters, digits and . _ - : @ +, starting with a letter or a digit)"},
    {"server a name a/b\n", "t.conf:1: name: \"a/b\" is not a label (letters, digits and . _ - : @ +, starting with a letter or a digit)"},
    {"shm 1 name 0123456789012345678901234567890123456789012345678901234567890123\n", "t.conf:1: name: \"0123456789012345678901234567890123456789012345678901234567890123\" is too long (at most 63 characters)"},
    {"server a name roof\nnmea /dev/ttyS0 name roof\n", "t.conf:2: nmea /dev/ttyS0: name roof is already configured at line 1"},
    {"server a\nshm 1 name a\n", "t.conf:2: shm shm:1: name a is already configured at line 1"},
    {"shm 1 name b\nserver b\n", "t.conf:2: server b is already configured at line 1"},
    {"server a name x\nserver a name y\n", "t.conf:2: server a is already configured at line 1"},
    {"include\n", "t.conf:1: include: expected \"include FILE\""},
    {"confdir a b\n", "t.conf:1: confdir: expected \"confdir DIR\""},
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
    {"rollupretention 4000\n", "t.conf:1: rollupretention: hour roll-ups (1826 days, the default) must be kept at least as long as minute roll-ups (4000 days)"},
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

/* name LABEL on every kind: the label is the name, the address stays. */
static void test_labels(void) {
  CHECK_INT(parse("server 127.0.0.1 port 1123 name gps-roof\n"
                  "gpsd 127.0.0.1 name gpsd.lab\n"
                  "nmea /dev/ttyS0 name nmea_1 baud 4800\n"
                  "dcf77 /dev/ttyS1 mode raw50 name dcf:attic\n"
                  "shm 2 name shm@2\n"
                  "sock /run/x.sock name Sock+1\n"
                  "server 10.0.0.1\n"), 0);
  CHECK_INT(cfg.n_sources, 7);
  static const char *const names[] = {"gps-roof", "gpsd.lab", "nmea_1", "dcf:attic", "shm@2",
                                      "Sock+1", "10.0.0.1"};
  static const char *const addresses[] = {"127.0.0.1:1123", "gpsd:127.0.0.1:2947",
                                          "/dev/ttyS0", "/dev/ttyS1", "shm:2",
                                          "sock:/run/x.sock", "10.0.0.1"};
  for (int i = 0; i < 7; i++) {
    CHECK_STR(cfg.sources[i].name, names[i]);
    CHECK_STR(cfg.sources[i].address, addresses[i]);
    CHECK(cfg.sources[i].labelled == (i < 6));
    CHECK_INT(cfg.sources[i].line, i + 1);
    CHECK_INT(cfg.sources[i].file, 0);
  }
  CHECK_INT(cfg.sources[2].baud, 4800); /* options after name still apply */
  config_free(&cfg);
}

/* A scratch folder with files for the include tests. */
static char dir[64];

static void put(const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static int load(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return config_load(path, &cfg, err, sizeof err);
}

/* err with every "DIR/" taken out, for messages that name the files. */
static const char *err_rel(void) {
  static char out[sizeof err];
  char pre[80];
  snprintf(pre, sizeof pre, "%s/", dir);
  size_t n = 0, pl = strlen(pre);
  for (const char *p = err; *p && n + 1 < sizeof out;)
    if (strncmp(p, pre, pl) == 0) p += pl;
    else out[n++] = *p++;
  out[n] = '\0';
  return out;
}

static void test_include(void) {
  char sub[128];
  snprintf(sub, sizeof sub, "%s/conf.d", dir);
  CHECK_INT(mkdir(sub, 0755), 0);
  put("conf.d/20-b.conf", "server 127.0.0.2 name b\n");
  put("conf.d/10-a.conf", "server 127.0.0.1 name a\ndatabase /tmp/x.db\n");
  put("conf.d/ignored.txt", "bogus\n");
  put("extra.conf", "shm 3\n");
  put("main.conf", "include extra.conf\nconfdir conf.d\ninclude none-*.conf\nminclasses 2\n");
  CHECK_INT(load("main.conf"), 0);
  CHECK_INT(cfg.n_sources, 3);
  CHECK_INT(cfg.n_files, 4);
  if (cfg.n_sources == 3 && cfg.n_files == 4) {
    CHECK_STR(cfg.sources[0].name, "shm:3");
    CHECK_STR(cfg.sources[1].name, "a"); /* confdir: sorted, 10 before 20 */
    CHECK_STR(cfg.sources[2].name, "b");
    CHECK_INT(cfg.sources[2].line, 1);
    CHECK(strstr(config_file_name(&cfg, cfg.sources[2].file), "/conf.d/20-b.conf") != NULL);
    CHECK(strstr(config_file_name(&cfg, cfg.sources[0].file), "/extra.conf") != NULL);
    CHECK(strstr(cfg.files[0], "/main.conf") != NULL);
    char where[300];
    config_where_text(&cfg, cfg.database_at, where, sizeof where);
    CHECK(strstr(where, "/conf.d/10-a.conf:2") != NULL);
    config_where_text(&cfg, cfg.keyfile_at, where, sizeof where); /* not given: the main file */
    CHECK_STR(where, cfg.path);
    CHECK_STR(cfg.database, "/tmp/x.db");
  }
  char pol[300];
  CHECK_INT(config_check_policy(&cfg, pol, sizeof pol), 0); /* 3 sources, up to 3 classes */
  config_free(&cfg);
  CHECK(cfg.files == NULL && cfg.n_files == 0);

  /* an error inside an included file: its name and line, and the includer's */
  put("conf.d/15-bad.conf", "\nserver 127.0.0.9 maxpoll 99\n");
  CHECK_INT(load("main.conf"), -1);
  CHECK_STR(err_rel(), "conf.d/15-bad.conf:2: maxpoll: 99 is out of range (0 to 17) (included from main.conf:2)");
  CHECK(cfg.sources == NULL && cfg.files == NULL);
  unlink(strcat(strcpy(pol, sub), "/15-bad.conf"));

  /* a duplicate across files names the other file */
  put("dup.conf", "server 127.0.0.1\ninclude conf.d/10-a.conf\n");
  CHECK_INT(load("dup.conf"), -1);
  CHECK_STR(err_rel(), "conf.d/10-a.conf:1: server 127.0.0.1 is already configured at dup.conf:1 (included from dup.conf:2)");

  put("missing.conf", "include nothere.conf\n");
  CHECK_INT(load("missing.conf"), -1);
  CHECK_STR(err_rel(), "missing.conf:1: include nothere.conf: No such file or directory");
  put("nodir.conf", "\nconfdir nodir\n");
  CHECK_INT(load("nodir.conf"), -1);
  CHECK_STR(err_rel(), "nodir.conf:2: confdir nodir: No such file or directory");
  put("notdir.conf", "confdir extra.conf\n");
  CHECK_INT(load("notdir.conf"), -1);
  CHECK_STR(err_rel(), "notdir.conf:1: confdir extra.conf: not a folder");
  put("incdir.conf", "include conf.d\n");
  CHECK_INT(load("incdir.conf"), -1);
  CHECK_STR(err_rel(), "incdir.conf:1: include conf.d: not a regular file");
  /* a FIFO is refused, not waited on */
  char fifo[128];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  CHECK_INT(mkfifo(fifo, 0600), 0);
  put("fifo.conf", "include fifo\n");
  CHECK_INT(load("fifo.conf"), -1);
  CHECK_STR(err_rel(), "fifo.conf:1: include fifo: not a regular file");
}

static void test_include_loops(void) {
  put("self.conf", "server 127.0.0.1\ninclude self.conf\n");
  CHECK_INT(load("self.conf"), -1);
  CHECK_STR(err_rel(), "self.conf:2: include self.conf: an include loop (the file is already being read)");
  put("ping.conf", "include pong.conf\n");
  put("pong.conf", "\ninclude ping.conf\n");
  CHECK_INT(load("ping.conf"), -1);
  CHECK_STR(err_rel(), "pong.conf:2: include ping.conf: an include loop (the file is already being read) (included from ping.conf:1)");
  /* the same file twice, one after the other, is no loop (but here a
   * duplicate source) */
  put("twice.conf", "include extra.conf\ninclude extra.conf\n");
  CHECK_INT(load("twice.conf"), -1);
  CHECK_STR(err_rel(), "extra.conf:1: shm shm:3 is already configured at line 1 (included from twice.conf:2)");
  /* CONFIG_INCLUDE_DEPTH (8) nested includes are fine, one more is not */
  char name[32], text[64];
  for (int i = 0; i < 10; i++) {
    snprintf(name, sizeof name, "d%d.conf", i);
    snprintf(text, sizeof text, "include d%d.conf\n", i + 1);
    put(name, text);
  }
  put("d8.conf", "server 127.0.0.8\n");
  CHECK_INT(load("d0.conf"), 0); /* d0 includes d1 ... d8: 8 deep */
  CHECK_INT(cfg.n_files, 9);
  config_free(&cfg);
  put("d8.conf", "include d9.conf\n");
  CHECK_INT(load("d0.conf"), -1);
  CHECK_STR(err_rel(), "d8.conf:1: include d9.conf: includes nested more than 8 deep (included from d7.conf:1)");
}

/* The policy: pure, over the parsed sources. */
static void test_policy(void) {
  static const struct {
    const char *text, *message; /* NULL: accepted */
  } cases[] = {
      {"log info\n", "t.conf: no sources: the configuration names no server, gpsd, nmea, dcf77, shm or sock source, so there is nothing to watch"},
      {"server a\n", NULL},
      {"server a\nminclasses 2\n", "t.conf:2: minclasses 2 can never be met: the 1 source that can vote gives at most 1 class"},
      {"server a\nserver b\nminclasses 2\n", NULL}, /* each may be a class of its own */
      {"server a class GPS\nserver b class GPS\nminclasses 2\n", "t.conf:3: minclasses 2 can never be met: the 2 sources that can vote give at most 1 class"},
      {"dcf77 /dev/a mode raw50\nserver b class DCF\nminclasses 2\n", "t.conf:3: minclasses 2 can never be met: the 2 sources that can vote give at most 1 class"},
      {"server a class GPS\nserver b class LOCL\nserver c noselect\nminclasses 2\n", "t.conf:4: minclasses 2 can never be met: the 1 source that can vote gives at most 1 class"},
      {"server a class GPS\nserver b class LOCL\nminclasses 2\nvote mode sources\n", NULL}, /* classes not counted */
      {"server a\nserver b noselect\nminsources 2\n", "t.conf:3: minsources 2 can never be met: 1 source can vote (noselect and class LOCL do not)"},
      {"server a noselect\n", "t.conf: minsources 1 (the default) can never be met: 0 sources can vote (noselect and class LOCL do not)"},
      {"server a\nserver b\nminsources 2\nminclasses 2\n", NULL},
      {"server a nts certset 2\n", "t.conf:1: server a: certset 2 has no ntstrustedcerts line"},
      {"ntstrustedcerts 1 /x.pem\nserver a nts certset 2\n", "t.conf:2: server a: certset 2 has no ntstrustedcerts line"},
      {"ntstrustedcerts 2 /x.pem\nserver a nts certset 2\n", NULL},
      {"server a nts\n", NULL}, /* set 0: the system's trust store */
  };
  char msg[400];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_INT(parse(cases[i].text), 0);
    int rc = config_check_policy(&cfg, msg, sizeof msg);
    CHECK_INT(rc, cases[i].message ? -1 : 0);
    if (cases[i].message) CHECK_STR(msg, cases[i].message);
    config_free(&cfg);
  }
}

int main(void) {
  unit_init();
  snprintf(dir, sizeof dir, "/tmp/vettime-unit-config.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  RUN(test_defaults);
  RUN(test_server_options);
  RUN(test_receivers);
  RUN(test_gpsd_name_too_long);
  RUN(test_settle);
  RUN(test_http_off);
  RUN(test_vote_directives);
  RUN(test_errors);
  RUN(test_nts);
  RUN(test_load_missing_file);
  RUN(test_labels);
  RUN(test_include);
  RUN(test_include_loops);
  RUN(test_policy);
  char rm[128];
  snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
  if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return unit_done();
}
