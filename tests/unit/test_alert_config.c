/* Unit tests of the alerting directives (alerting/alert_config.c) through
 * the configuration parser: defaults, every channel kind and option,
 * default names, and that each mistake is refused with FILE:LINE. */
#include "alerting/alert_config.h"
#include "monitor/config.h"
#include "monitor/events.h"
#include "unit.h"

/* syslog.h's facility values (its LOG_INFO clashes with lib/log.h). */
#define FAC_DAEMON (3 << 3)
#define FAC_LOCAL3 (19 << 3)

static struct vt_config cfg;
static char err[600];

static int parse(const char *text) { return config_parse("t.conf", text, &cfg, err, sizeof err); }

static void test_defaults(void) {
  CHECK_INT(parse(""), 0);
  CHECK_INT(alert_config_of(&cfg)->n, 0);
  CHECK_NEAR(alert_config_of(&cfg)->repeat, 3600, 0);
  CHECK_NEAR(alert_config_of(&cfg)->heartbeat, 86400, 0);
  CHECK_NEAR(alert_config_of(&cfg)->retry_initial, 5, 0);
  CHECK_NEAR(alert_config_of(&cfg)->retry_max, 300, 0);
  CHECK_NEAR(alert_config_of(&cfg)->expire, 7 * 86400, 0);
  CHECK_STR(alert_config_of(&cfg)->site, "");
  config_free(&cfg);
}

static void test_channels(void) {
  CHECK_INT(parse("alert syslog\n"
                  "alert syslog facility local3 remote tcp 192.0.2.1:6514 min-severity warning\n"
                  "alert mail smtp://127.0.0.1:2525 from vt@example.net to a@x.net,b@y.net starttls "
                  "user u password p digest 60 kinds falseticker,quorum-lost\n"
                  "alert snmp 127.0.0.1:1162 version 2c community private inform\n"
                  "alert snmp [::1]:1163 version 3 user U auth SHA-256 authpass1 priv AES privpass1 "
                  "engineid 0x80001f8804aabb name noc heartbeat 0\n"
                  "alertrepeat 600\nalertretry 1 60 expire 3600\nalertsite hq-1\nheartbeat 3600\n"), 0);
  const struct alert_config *a = alert_config_of(&cfg);
  CHECK_INT(a->n, 5);
  CHECK_STR(a->ch[0].name, "syslog");
  CHECK_INT(a->ch[0].syslog.transport, ALERT_SYSLOG_LOCAL);
  CHECK_INT(a->ch[0].syslog.facility, FAC_DAEMON);
  CHECK_INT(a->ch[0].route.min_severity, 0);
  CHECK_STR(a->ch[1].name, "syslog2");
  CHECK_INT(a->ch[1].syslog.transport, ALERT_SYSLOG_TCP);
  CHECK_STR(a->ch[1].syslog.host, "192.0.2.1");
  CHECK_INT(a->ch[1].syslog.port, 6514);
  CHECK_INT(a->ch[1].syslog.facility, FAC_LOCAL3);
  CHECK_INT(a->ch[1].route.min_severity, 1);
  CHECK_STR(a->ch[2].name, "mail");
  CHECK_STR(a->ch[2].mail.to, "a@x.net,b@y.net");
  CHECK(a->ch[2].mail.starttls);
  CHECK_STR(a->ch[2].mail.user, "u");
  CHECK_NEAR(a->ch[2].mail.digest, 60, 0);
  CHECK_NEAR(a->ch[2].mail.timeout, 60, 0);
  CHECK_INT(a->ch[2].route.kinds, (1u << EV_FALSETICKER) | (1u << EV_QUORUM_LOST));
  CHECK_STR(a->ch[3].name, "snmp");
  CHECK_INT(a->ch[3].snmp.version, 2);
  CHECK_STR(a->ch[3].snmp.community, "private");
  CHECK(a->ch[3].snmp.inform);
  CHECK_STR(a->ch[4].name, "noc");
  CHECK_STR(a->ch[4].snmp.host, "::1");
  CHECK_INT(a->ch[4].snmp.port, 1163);
  CHECK_INT(a->ch[4].snmp.auth, ALERT_AUTH_SHA256);
  CHECK_INT(a->ch[4].snmp.priv, ALERT_PRIV_AES);
  CHECK_INT(a->ch[4].snmp.engine_id_len, 7);
  CHECK_INT(a->ch[4].snmp.engine_id[6], 0xbb);
  CHECK_NEAR(a->ch[4].heartbeat, 0, 0);
  CHECK_NEAR(a->ch[0].heartbeat, -1, 0); /* the global one */
  CHECK_NEAR(a->repeat, 600, 0);
  CHECK_NEAR(a->retry_initial, 1, 0);
  CHECK_NEAR(a->retry_max, 60, 0);
  CHECK_NEAR(a->expire, 3600, 0);
  CHECK_STR(a->site, "hq-1");
  CHECK_NEAR(a->heartbeat, 3600, 0);
  CHECK(alert_config_channel(a, "noc") == &a->ch[4]);
  config_free(&cfg);
}

static void refused(const char *text, const char *msg) {
  CHECK_INT(parse(text), -1);
  if (!strstr(err, msg)) {
    fprintf(stderr, "for %s: got \"%s\", expected \"%s\"\n", text, err, msg);
    CHECK(0);
  }
}

static void test_errors(void) {
  refused("alert pager x\n", "t.conf:1: alert: unknown channel kind \"pager\"");
  refused("\nalert syslog colour red\n", "t.conf:2: alert syslog: unknown option \"colour\"");
  refused("alert syslog starttls\n", "option starttls does not apply to syslog channels");
  refused("alert mail http://x from a@b to c@d\n", "not an smtp:// or smtps:// URL");
  refused("alert mail smtp://x to c@d\n", "missing \"from ADDRESS\"");
  refused("alert mail smtp://x from a@b to nobody\n", "to: \"nobody\" is not an address");
  refused("alert mail smtps://x from a@b to c@d starttls\n", "starttls is for smtp://");
  refused("alert snmp h version 3 user u auth SHA authpass1\n", "version 3 needs");
  refused("alert snmp h version 3 inform user u auth SHA authpass1 priv AES privpass1\n",
          "a version 3 inform needs \"engineid HEX\"");
  refused("alert snmp h version 3 user u auth SHA short priv AES privpass1\n", "at least 8 characters");
  refused("alert snmp h user u\n", "user, auth and priv need version 3");
  refused("alert snmp h:99999\n", "out of range");
  refused("alert snmp h engineid 0xzz\n", "engineid");
  refused("alert syslog kinds falseticker,nonsense\n", "unknown alarm kind \"nonsense\"");
  refused("alert syslog min-severity loud\n", "is not info, warning or critical");
  refused("alert syslog name a\nalert snmp h name a\n", "t.conf:2: alert: a channel named a is already configured at line 1");
  refused("alert syslog remote\n", "option remote needs 2 values");
  refused("alertretry 10 5\n", "MAX 5 is below INITIAL 10");
  refused("alertrepeat\n", "alertrepeat takes exactly one argument");
  refused("heartbeat -1\n", "out of range");
  refused("alertsite \"a b\"\n", "alertsite takes exactly one argument");
}

int main(void) {
  unit_init();
  if (alert_config_register()) {
    fprintf(stderr, "alert_config_register failed\n");
    return 1;
  }
  RUN(test_defaults);
  RUN(test_channels);
  RUN(test_errors);
  return unit_done();
}
