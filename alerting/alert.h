/* Alerting: every alarm transition, on every configured channel, durably
 * (docs/alerting.md).
 *
 *   round (record_alarm) --its alarm handler, which the daemon's main
 *     points at alert_transition()--> outbox buffer
 *   history_flush: alarm rows + outbox rows, one transaction (the hook)
 *   sender, on the loop: per channel, the oldest pending row -> its sink
 *   (sink.h: syslog, mail, SNMP) -> the result, written by the next flush
 *
 * Routing: a channel takes the alarms of its `kinds` at or above its
 * `min-severity`. A critical alarm that stays raised is announced again
 * every `alertrepeat` seconds (same alarm id, new sequence). Every channel
 * gets a heartbeat every `heartbeat` seconds. Per channel, notifications
 * go out one at a time in outbox order, so a clear never overtakes its
 * raise; a channel that fails waits (backoff) with its queue behind it.
 * The loop never waits on a channel: every sink is non-blocking.
 *
 * Start-up order: after history_open(), before the round starts; stopped
 * before history_close(). Single-threaded (the daemon's loop). */
#ifndef VT_ALERT_H
#define VT_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/alarms.h"
#include "monitor/config.h"
#include "monitor/history.h"
#include "monitor/report.h"

/* Copies alert_config_of(cfg), opens every channel's sink (a failure is a broken
 * environment: -1 with "alert CHANNEL (line N): ..." in err), marks dead
 * the pending notifications of channels no longer configured, installs the
 * history hook and the sender's timer. Pending notifications left by an
 * earlier run (a crash, a SIGKILL) are sent from the first round on. */
int alert_start(const struct vt_config *cfg, struct history *h, char *err, size_t errlen);

/* Writes what is queued (through a last history flush), abandons the
 * attempts in flight (their rows stay pending: sent again at the next
 * start, with the same idempotency key) and closes the sinks. Harmless
 * when not started. */
void alert_stop(void);

/* One alarm transition of the round; source_name is the subject's name
 * ("" for the system). Queues one notification per channel that routes it,
 * with the evidence (the last vote and every source's state, read from the
 * published reports, monitor/report.h); they are written by the same flush
 * as the transition. */
void alert_transition(const struct alarm_transition *t, const char *source_name);

/* The outbox's depth as last counted (every few seconds, and at start);
 * invalid when alerting is not running. The daemon's main publishes it
 * (report_publish_outbox) for the faces. */
void alert_depth(struct outbox_report *out);

/* The state-changing actions of `vettime alert`, for the HTTP API (the
 * daemon's main wires them to web/http.h's actions). Each writes a
 * one-line answer for people in msg.
 * alert_test: a test notification on channel (NULL or "": every channel),
 * queued for the next flush; returns how many were queued, or -1 (no
 * channel configured, no channel of that name).
 * alert_retry: requeues the dead notification id (0: all dead ones);
 * returns how many, or -1. */
int alert_test(const char *channel, char *msg, size_t msglen);
int alert_retry(int64_t id, char *msg, size_t msglen);

#endif
