/* The channel sinks behind one small vtable (in the manner of chrony's
 * refclock.h): syslog (sink_syslog.c), mail (sink_mail.c, libcurl SMTP
 * through the multi interface), SNMP (sink_snmp.c, net-snmp traps and
 * informs). The core (alert.c) knows only this header; sink_ops_for()
 * finds a driver by kind.
 *
 * Contract: a sink never blocks the daemon's loop on its peer. send()
 * starts one delivery attempt of notes[0..n) (n > 1 only for a mail digest)
 * and returns; the sink later calls done() exactly once for that attempt,
 * from the loop (possibly before send() returns, when the attempt is over
 * at once, as a datagram is). The core starts no second attempt on a
 * channel before done(). */
#ifndef VT_SINK_H
#define VT_SINK_H

#include <stddef.h>

#include "alerting/alert_config.h"
#include "alerting/outbox.h"

struct sink;

/* r: OUTBOX_OK delivered (or handed to a transport that gives no
 * acknowledgement: a TRAP, a UDP datagram); OUTBOX_TEMPORARY try again
 * later (peer down, timeout, 4xx); OUTBOX_PERMANENT the peer refused it for
 * good (SMTP 5xx, an SNMPv3 authentication report). error says why. */
typedef void (*sink_done_fn)(void *ctx, enum outbox_result r, const char *error);

struct sink_ops {
  const char *kind; /* "syslog", "mail", "snmp" */
  /* Sets up what needs no peer (sockets, sessions, handles). 0, or -1
   * with a message: the daemon refuses to start. */
  int (*open)(struct sink *s, char *err, size_t errlen);
  /* Starts an attempt (see above). 0 when started; -1 when it could not
   * start (done() is then not called) with why in err. */
  int (*send)(struct sink *s, const struct alert_note *notes, int n, char *err, size_t errlen);
  /* Abandons any attempt in flight (done() is not called) and frees. */
  void (*close)(struct sink *s);
};

struct sink {
  const struct sink_ops *ops;
  const struct alert_channel_config *cfg; /* outlives the sink */
  const char *site;                       /* alertsite or the host name */
  sink_done_fn done;
  void *done_ctx;
  void *priv; /* the driver's */
};

extern const struct sink_ops sink_syslog_ops, sink_mail_ops, sink_snmp_ops;

/* The driver of a channel kind. */
const struct sink_ops *sink_ops_for(enum alert_sink_kind kind);

#endif
