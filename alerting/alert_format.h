/* What a notification looks like on each channel: the mail (RFC 5322), the
 * syslog line (RFC 5424 with structured data), the subject. Pure functions
 * over struct alert_note: no I/O, no clock reads, so every format is unit
 * tested (tests/unit/test_alert_format.c). */
#ifndef VT_ALERT_FORMAT_H
#define VT_ALERT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "alerting/outbox.h"

/* The SD-ID of our RFC 5424 structured data: "vettime@32473" (32473 is
 * the documentation PEN of RFC 5612, a placeholder; see VETTIME-MIB). */
#define ALERT_SD_ID "vettime@32473"

/* syslog(3) severity (LOG_CRIT ...) of a notification: a raise or repeat
 * by the alarm's severity (critical LOG_CRIT, warning LOG_WARNING, info
 * LOG_NOTICE), a clear LOG_NOTICE, heartbeat and test LOG_INFO. */
int alert_syslog_severity(const struct alert_note *n);

/* "the subject": "127.0.0.1:12303 (DCF)", "class GPS", "system". */
void alert_subject_of(const struct alert_note *n, char *buf, size_t cap);

/* The mail subject, e.g.
 *   "[vettime CRITICAL] falseticker raised: 127.0.0.1:12303 (DCF) at site1 (alarm 7)"
 *   "[vettime cleared] falseticker: 127.0.0.1:12303 (DCF) at site1 (alarm 7)"
 *   "[vettime CRITICAL] falseticker still raised: ... (alarm 7)"
 *   "[vettime] heartbeat from site1", "[vettime] test notification from site1" */
void alert_mail_subject(const struct alert_note *n, char *buf, size_t cap);

/* The whole RFC 5322 message with CRLF line ends: Date (now_ns), From, To
 * (to_csv: comma-separated), Subject, Message-ID, MIME headers, X-Vettime-*
 * headers, and a body with the alarm line, its fields and the evidence.
 * n > 1 makes a digest: one mail listing every notification, with a
 * Message-ID derived from the first one's and the count. Returns the
 * length (< cap, NUL-terminated), or -1 if cap is too small. */
int alert_mail_message(const struct alert_note *notes, int n, const char *from,
                       const char *to_csv, int64_t now_ns, char *buf, size_t cap);

/* One RFC 5424 message without framing:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [vettime@32473 ...] MSG
 * PRI from facility (LOG_DAEMON ...) and alert_syslog_severity(); TIMESTAMP
 * the event's time (UTC, microseconds); HOSTNAME the site; MSGID the event
 * (raise, clear, repeat, heartbeat, test); structured data seq, event,
 * alarm, kind, severity, source, class, value, threshold (those that
 * apply), escaped as RFC 5424 section 6.3.3 says. Returns the length, or
 * -1 if cap is too small. */
int alert_format_5424(const struct alert_note *n, int facility, const char *app, int pid,
                      char *buf, size_t cap);

/* "2025-11-22T05:30:00.123456Z". */
void alert_iso_time(int64_t ns, char *buf, size_t cap);

#endif
