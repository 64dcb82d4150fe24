/* Notification formats (see alert_format.h): RFC 5322 mail, RFC 5424
 * syslog with structured data. Every writer appends to a bounded buffer
 * (struct out) and reports overflow once at the end. */
#include "alerting/alert_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

struct out {
  char *buf;
  size_t cap, len;
  bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...) {
  if (o->overflow) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= o->cap - o->len) {
    o->overflow = true;
    return;
  }
  o->len += (size_t)n;
}

static int finish(struct out *o) {
  if (o->overflow) {
    if (o->cap) o->buf[0] = '\0';
    return -1;
  }
  return (int)o->len;
}

static bool is_alarm(const struct alert_note *n) {
  return n->event == ALERT_RAISE || n->event == ALERT_CLEAR || n->event == ALERT_REPEAT;
}

int alert_syslog_severity(const struct alert_note *n) {
  if (!is_alarm(n)) return LOG_INFO;
  if (n->event == ALERT_CLEAR) return LOG_NOTICE;
  if (strcmp(n->severity, "critical") == 0) return LOG_CRIT;
  if (strcmp(n->severity, "warning") == 0) return LOG_WARNING;
  return LOG_NOTICE;
}

void alert_subject_of(const struct alert_note *n, char *buf, size_t cap) {
  if (strcmp(n->kind, "class-lost") == 0 && n->ref_class[0])
    snprintf(buf, cap, "class %s", n->ref_class);
  else if (!n->source[0])
    snprintf(buf, cap, "system");
  else if (n->ref_class[0])
    snprintf(buf, cap, "%s (%s)", n->source, n->ref_class);
  else
    snprintf(buf, cap, "%s", n->source);
}

static void upper(const char *s, char *out, size_t cap) {
  size_t i = 0;
  for (; s[i] && i + 1 < cap; i++) out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
  out[i] = '\0';
}

void alert_mail_subject(const struct alert_note *n, char *buf, size_t cap) {
  char subj[340], sev[16];
  alert_subject_of(n, subj, sizeof subj);
  upper(n->severity, sev, sizeof sev);
  switch (n->event) {
  case ALERT_RAISE:
    snprintf(buf, cap, "[vettime %s] %s raised: %s at %s (alarm %" PRIu64 ")", sev, n->kind,
             subj, n->site, n->alarm_id);
    break;
  case ALERT_REPEAT:
    snprintf(buf, cap, "[vettime %s] %s still raised: %s at %s (alarm %" PRIu64 ")", sev,
             n->kind, subj, n->site, n->alarm_id);
    break;
  case ALERT_CLEAR:
    snprintf(buf, cap, "[vettime cleared] %s: %s at %s (alarm %" PRIu64 ")", n->kind, subj,
             n->site, n->alarm_id);
    break;
  case ALERT_HEARTBEAT:
    snprintf(buf, cap, "[vettime] heartbeat from %s", n->site);
    break;
  default:
    snprintf(buf, cap, "[vettime] test notification from %s", n->site);
    break;
  }
}

void alert_iso_time(int64_t ns, char *buf, size_t cap) {
  time_t sec = (time_t)(ns / 1000000000);
  long us = (long)((ns % 1000000000) / 1000);
  if (us < 0) {
    sec--;
    us += 1000000;
  }
  struct tm tm;
  gmtime_r(&sec, &tm);
  snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

/* RFC 5322 date-time, UTC. */
static void mail_date(int64_t ns, char *buf, size_t cap) {
  static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t sec = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Header values: printable ASCII only (no CR, LF or 8-bit bytes that
 * would need RFC 2047 encoding). */
static void header(struct out *o, const char *name, const char *value) {
  put(o, "%s: ", name);
  for (const char *s = value; *s && !o->overflow; s++)
    put(o, "%c", *s >= ' ' && *s <= '~' ? *s : '?');
  put(o, "\r\n");
}

/* Body text with CRLF line ends. */
static void body_text(struct out *o, const char *text) {
  for (const char *s = text; *s && !o->overflow; s++) {
    if (*s == '\n') put(o, "\r\n");
    else if (*s != '\r') put(o, "%c", *s);
  }
}

static void fields(struct out *o, const struct alert_note *n) {
  char when[40], subj[340];
  alert_iso_time(n->event_ns, when, sizeof when);
  alert_subject_of(n, subj, sizeof subj);
  body_text(o, n->text);
  put(o, "\r\n\r\n");
  if (is_alarm(n)) {
    put(o, "Alarm:     %" PRIu64 "\r\n", n->alarm_id);
    put(o, "Event:     %s\r\n", alert_event_name(n->event));
    put(o, "Kind:      %s\r\n", n->kind);
    put(o, "Severity:  %s\r\n", n->severity);
    put(o, "Subject:   %s\r\n", subj);
    if (isfinite(n->value)) put(o, "Value:     %+.9g\r\n", n->value);
    if (isfinite(n->threshold)) put(o, "Threshold: %.9g\r\n", n->threshold);
  } else {
    put(o, "Event:     %s\r\n", alert_event_name(n->event));
  }
  put(o, "When:      %s\r\n", when);
  put(o, "Site:      %s\r\n", n->site);
  put(o, "Sequence:  %" PRId64 "\r\n", n->id);
  if (n->evidence[0]) {
    put(o, "\r\nEvidence at the time:\r\n");
    body_text(o, n->evidence);
    if (n->evidence[strlen(n->evidence) - 1] != '\n') put(o, "\r\n");
  }
}

static void digest_msgid(const struct alert_note *notes, int n, char *buf, size_t cap) {
  const char *first = notes[0].msgid;
  if (strncmp(first, "<vettime.", 9) == 0)
    snprintf(buf, cap, "<vettime.digest%d.%s", n, first + 9);
  else
    snprintf(buf, cap, "<vettime.digest%d.%" PRId64 "@localhost>", n, notes[0].id);
}

static void digest_subject(const struct alert_note *notes, int n, char *buf, size_t cap) {
  int count[ALERT_EVENT_COUNT] = {0};
  bool critical = false;
  for (int i = 0; i < n; i++) {
    count[notes[i].event]++;
    critical |= notes[i].event != ALERT_CLEAR && strcmp(notes[i].severity, "critical") == 0;
  }
  snprintf(buf, cap, "[vettime%s] %d notifications at %s: %d raised, %d cleared, %d other",
           critical ? " CRITICAL" : "", n, notes[0].site, count[ALERT_RAISE] + count[ALERT_REPEAT],
           count[ALERT_CLEAR], count[ALERT_HEARTBEAT] + count[ALERT_TEST]);
}

int alert_mail_message(const struct alert_note *notes, int n, const char *from,
                       const char *to_csv, int64_t now_ns, char *buf, size_t cap) {
  struct out o = {buf, cap, 0, false};
  char date[64], subject[512], msgid[ALERT_MSGID_LEN + 32], to[1100];
  if (n < 1 || cap == 0) return -1;
  mail_date(now_ns, date, sizeof date);
  snprintf(to, sizeof to, "%s", to_csv);
  for (char *c = to; (c = strchr(c, ',')) != NULL; c++) *c = '\001'; /* ", " below */
  if (n == 1) {
    alert_mail_subject(&notes[0], subject, sizeof subject);
    snprintf(msgid, sizeof msgid, "%s", notes[0].msgid);
  } else {
    digest_subject(notes, n, subject, sizeof subject);
    digest_msgid(notes, n, msgid, sizeof msgid);
  }
  header(&o, "Date", date);
  put(&o, "From: vettime <%s>\r\n", from);
  put(&o, "To: ");
  for (const char *s = to; *s; s++) {
    if (*s == '\001') put(&o, ", ");
    else put(&o, "%c", *s);
  }
  put(&o, "\r\n");
  header(&o, "Subject", subject);
  header(&o, "Message-ID", msgid);
  put(&o, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
          "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n");
  if (n == 1) {
    if (notes[0].alarm_id) put(&o, "X-Vettime-Alarm: %" PRIu64 "\r\n", notes[0].alarm_id);
    put(&o, "X-Vettime-Event: %s\r\nX-Vettime-Sequence: %" PRId64 "\r\n",
        alert_event_name(notes[0].event), notes[0].id);
  } else {
    put(&o, "X-Vettime-Sequence: %" PRId64 "-%" PRId64 "\r\n", notes[0].id, notes[n - 1].id);
  }
  put(&o, "\r\n");
  for (int i = 0; i < n; i++) {
    if (n > 1) put(&o, "==== %d of %d (Message-ID %s)\r\n", i + 1, n, notes[i].msgid);
    fields(&o, &notes[i]);
    put(&o, "\r\n");
  }
  put(&o, "-- \r\nvettimed at %s. A copy of this mail sent again (after a crash or a lost\r\n"
          "acknowledgement) carries the same Message-ID.\r\n", notes[0].site);
  return finish(&o);
}

/* PARAM-VALUE: escape ", \ and ] (RFC 5424 6.3.3). */
static void sd_param(struct out *o, const char *name, const char *value) {
  put(o, " %s=\"", name);
  for (const char *s = value; *s && !o->overflow; s++) {
    if (*s == '"' || *s == '\\' || *s == ']') put(o, "\\");
    put(o, "%c", *s == '\n' || *s == '\r' ? ' ' : *s);
  }
  put(o, "\"");
}

/* HOSTNAME and APP-NAME: PRINTUSASCII without spaces, or "-". */
static void token(struct out *o, const char *s, size_t max) {
  size_t n = 0;
  for (; s[n] && n < max; n++) put(o, "%c", s[n] > ' ' && s[n] <= '~' ? s[n] : '_');
  if (!n) put(o, "-");
}

int alert_format_5424(const struct alert_note *n, int facility, const char *app, int pid,
                      char *buf, size_t cap) {
  struct out o = {buf, cap, 0, false};
  char when[40], num[48];
  if (cap == 0) return -1;
  alert_iso_time(n->event_ns ? n->event_ns : n->created_ns, when, sizeof when);
  put(&o, "<%d>1 %s ", (facility & ~7) | alert_syslog_severity(n), when);
  token(&o, n->site, 255);
  put(&o, " ");
  token(&o, app, 48);
  put(&o, " %d %s [%s", pid, alert_event_name(n->event), ALERT_SD_ID);
  snprintf(num, sizeof num, "%" PRId64, n->id);
  sd_param(&o, "seq", num);
  sd_param(&o, "event", alert_event_name(n->event));
  if (is_alarm(n)) {
    snprintf(num, sizeof num, "%" PRIu64, n->alarm_id);
    sd_param(&o, "alarm", num);
    sd_param(&o, "kind", n->kind);
    sd_param(&o, "severity", n->severity);
    sd_param(&o, "source", n->source);
    sd_param(&o, "class", n->ref_class);
    if (isfinite(n->value)) {
      snprintf(num, sizeof num, "%.9g", n->value);
      sd_param(&o, "value", num);
    }
    if (isfinite(n->threshold)) {
      snprintf(num, sizeof num, "%.9g", n->threshold);
      sd_param(&o, "threshold", num);
    }
  }
  sd_param(&o, "site", n->site);
  put(&o, "] ");
  for (const char *s = n->text; *s && !o.overflow; s++) put(&o, "%c", *s == '\n' ? ' ' : *s);
  return finish(&o);
}
