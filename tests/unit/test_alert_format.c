/* Unit tests of the notification formats (alerting/alert_format.c): the
 * RFC 5424 line with its structured data and escaping, the RFC 5322 mail
 * (headers, CRLF, Message-ID, subjects, digest), the syslog severities. */
#include <math.h>
#include <syslog.h>

#include "alerting/alert_format.h"
#include "unit.h"

#define S 1000000000LL

static struct alert_note note(enum alert_event ev) {
  struct alert_note n;
  memset(&n, 0, sizeof n);
  n.id = 5;
  snprintf(n.channel, sizeof n.channel, "mail");
  n.event = ev;
  n.alarm_id = ev <= ALERT_REPEAT ? 7 : 0;
  snprintf(n.kind, sizeof n.kind, "%s", ev <= ALERT_REPEAT ? "falseticker" : "");
  snprintf(n.severity, sizeof n.severity, "%s", ev <= ALERT_REPEAT ? "critical" : "info");
  snprintf(n.source, sizeof n.source, "%s", ev <= ALERT_REPEAT ? "127.0.0.1:12303" : "");
  snprintf(n.ref_class, sizeof n.ref_class, "%s", ev <= ALERT_REPEAT ? "DCF" : "");
  n.value = ev <= ALERT_REPEAT ? 0.5 : NAN;
  n.threshold = ev <= ALERT_REPEAT ? 0.001 : NAN;
  snprintf(n.text, sizeof n.text, "alarm 7 raised: critical falseticker 127.0.0.1:12303 (DCF): far off");
  snprintf(n.evidence, sizeof n.evidence, "vote: vetted\nsources:\n  a\n");
  snprintf(n.site, sizeof n.site, "site1");
  n.event_ns = 1704164645 * S + 678901000; /* 2024-01-02T03:04:05.678901Z */
  n.created_ns = n.event_ns + 2 * S;
  snprintf(n.msgid, sizeof n.msgid, "<vettime.5.raise.7.1@site1>");
  return n;
}

static void test_5424_raise(void) {
  struct alert_note n = note(ALERT_RAISE);
  char buf[2048];
  int len = alert_format_5424(&n, LOG_DAEMON, "vettimed", 42, buf, sizeof buf);
  CHECK_STR(buf, "<26>1 2024-01-02T03:04:05.678901Z site1 vettimed 42 raise [vettime@32473 "
                 "seq=\"5\" event=\"raise\" alarm=\"7\" kind=\"falseticker\" severity=\"critical\" "
                 "source=\"127.0.0.1:12303\" class=\"DCF\" value=\"0.5\" threshold=\"0.001\" "
                 "site=\"site1\"] alarm 7 raised: critical falseticker 127.0.0.1:12303 (DCF): far off");
  CHECK_INT(len, (int)strlen(buf));
}

static void test_5424_escaping_and_kinds(void) {
  struct alert_note n = note(ALERT_CLEAR);
  char buf[2048];
  snprintf(n.source, sizeof n.source, "a\"b\\c]d");
  snprintf(n.site, sizeof n.site, "my site");
  snprintf(n.text, sizeof n.text, "two\nlines");
  alert_format_5424(&n, LOG_LOCAL3, "", 1, buf, sizeof buf);
  CHECK(strncmp(buf, "<157>1 ", 7) == 0); /* local3, notice */
  CHECK(strstr(buf, " my_site - 1 clear [") != NULL);
  CHECK(strstr(buf, "source=\"a\\\"b\\\\c\\]d\"") != NULL);
  CHECK(strstr(buf, "] two lines") != NULL);
  n = note(ALERT_HEARTBEAT);
  alert_format_5424(&n, LOG_DAEMON, "vettimed", 1, buf, sizeof buf);
  CHECK(strncmp(buf, "<30>1 ", 6) == 0);
  CHECK(strstr(buf, "[vettime@32473 seq=\"5\" event=\"heartbeat\" site=\"site1\"]") != NULL);
  CHECK_INT(alert_format_5424(&n, LOG_DAEMON, "vettimed", 1, buf, 40), -1);
  CHECK_STR(buf, "");
}

static void test_severities(void) {
  struct alert_note n = note(ALERT_RAISE);
  CHECK_INT(alert_syslog_severity(&n), LOG_CRIT);
  n.event = ALERT_REPEAT;
  CHECK_INT(alert_syslog_severity(&n), LOG_CRIT);
  snprintf(n.severity, sizeof n.severity, "warning");
  CHECK_INT(alert_syslog_severity(&n), LOG_WARNING);
  snprintf(n.severity, sizeof n.severity, "info");
  CHECK_INT(alert_syslog_severity(&n), LOG_NOTICE);
  n.event = ALERT_CLEAR;
  CHECK_INT(alert_syslog_severity(&n), LOG_NOTICE);
  n.event = ALERT_TEST;
  CHECK_INT(alert_syslog_severity(&n), LOG_INFO);
}

static void test_subjects(void) {
  char buf[512];
  struct alert_note n = note(ALERT_RAISE);
  alert_mail_subject(&n, buf, sizeof buf);
  CHECK_STR(buf, "[vettime CRITICAL] falseticker raised: 127.0.0.1:12303 (DCF) at site1 (alarm 7)");
  n.event = ALERT_REPEAT;
  alert_mail_subject(&n, buf, sizeof buf);
  CHECK_STR(buf, "[vettime CRITICAL] falseticker still raised: 127.0.0.1:12303 (DCF) at site1 (alarm 7)");
  n.event = ALERT_CLEAR;
  alert_mail_subject(&n, buf, sizeof buf);
  CHECK_STR(buf, "[vettime cleared] falseticker: 127.0.0.1:12303 (DCF) at site1 (alarm 7)");
  snprintf(n.kind, sizeof n.kind, "class-lost");
  snprintf(n.source, sizeof n.source, "%s", "");
  snprintf(n.ref_class, sizeof n.ref_class, "GPS");
  alert_subject_of(&n, buf, sizeof buf);
  CHECK_STR(buf, "class GPS");
  snprintf(n.kind, sizeof n.kind, "quorum-lost");
  snprintf(n.ref_class, sizeof n.ref_class, "%s", "");
  alert_subject_of(&n, buf, sizeof buf);
  CHECK_STR(buf, "system");
  n = note(ALERT_HEARTBEAT);
  alert_mail_subject(&n, buf, sizeof buf);
  CHECK_STR(buf, "[vettime] heartbeat from site1");
  n = note(ALERT_TEST);
  alert_mail_subject(&n, buf, sizeof buf);
  CHECK_STR(buf, "[vettime] test notification from site1");
}

static int bare_lf(const char *s) {
  for (const char *p = strchr(s, '\n'); p; p = strchr(p + 1, '\n'))
    if (p == s || p[-1] != '\r') return 1;
  return 0;
}

static void test_mail_message(void) {
  struct alert_note n = note(ALERT_RAISE);
  static char buf[65536];
  int len = alert_mail_message(&n, 1, "vt@example.net", "a@x.net,b@y.net", 1704164645 * S, buf,
                               sizeof buf);
  CHECK(len > 0);
  CHECK(strncmp(buf, "Date: Tue, 02 Jan 2024 03:04:05 +0000\r\n", 39) == 0);
  CHECK(strstr(buf, "\r\nFrom: vettime <vt@example.net>\r\n") != NULL);
  CHECK(strstr(buf, "\r\nTo: a@x.net, b@y.net\r\n") != NULL);
  CHECK(strstr(buf, "\r\nMessage-ID: <vettime.5.raise.7.1@site1>\r\n") != NULL);
  CHECK(strstr(buf, "\r\nSubject: [vettime CRITICAL] falseticker raised: 127.0.0.1:12303 (DCF) at site1 (alarm 7)\r\n") != NULL);
  CHECK(strstr(buf, "\r\nX-Vettime-Alarm: 7\r\nX-Vettime-Event: raise\r\nX-Vettime-Sequence: 5\r\n\r\n") != NULL);
  CHECK(strstr(buf, "Value:     +0.5\r\nThreshold: 0.001\r\n") != NULL);
  CHECK(strstr(buf, "Evidence at the time:\r\nvote: vetted\r\nsources:\r\n  a\r\n") != NULL);
  CHECK(!bare_lf(buf));
  CHECK_INT(alert_mail_message(&n, 1, "vt@example.net", "a@x.net", 0, buf, 100), -1);
}

static void test_digest(void) {
  struct alert_note n[3] = {note(ALERT_RAISE), note(ALERT_CLEAR), note(ALERT_HEARTBEAT)};
  n[1].id = 6;
  n[2].id = 9;
  static char buf[65536];
  CHECK(alert_mail_message(n, 3, "vt@example.net", "a@x.net", 0, buf, sizeof buf) > 0);
  CHECK(strstr(buf, "\r\nSubject: [vettime CRITICAL] 3 notifications at site1: 1 raised, 1 cleared, 1 other\r\n") != NULL);
  CHECK(strstr(buf, "\r\nMessage-ID: <vettime.digest3.5.raise.7.1@site1>\r\n") != NULL);
  CHECK(strstr(buf, "\r\nX-Vettime-Sequence: 5-9\r\n") != NULL);
  CHECK(strstr(buf, "==== 3 of 3") != NULL);
  CHECK(!bare_lf(buf));
}

int main(void) {
  unit_init();
  RUN(test_5424_raise);
  RUN(test_5424_escaping_and_kinds);
  RUN(test_severities);
  RUN(test_subjects);
  RUN(test_mail_message);
  RUN(test_digest);
  return unit_done();
}
