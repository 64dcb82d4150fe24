/* The durable outbox of alert notifications (schema/003_alert_outbox.sql).
 *
 * Writing: outbox_add() only buffers a notification in memory; the
 * history's flush calls outbox_write() inside its transaction, after the
 * round's alarm rows, and outbox_committed() after COMMIT. So a
 * notification is durable exactly when the alarm transition it announces
 * is, and a failed flush keeps both for the next one.
 *
 * Sending (alerting/alert.c): per channel, the oldest pending row first
 * (outbox_next); the outcome of each attempt (outbox_result) is queued in
 * memory and written by the next flush too, overlaying the stored row
 * until then. A crash between a delivery and that write means the row is
 * sent again after the restart, with the same idempotency key (msgid, and
 * the row id as the sequence number): receivers can recognise the copy.
 *
 * Retry policy: a temporary failure waits
 *   min(retry_max, retry_initial * 2^(attempts-1)) * (0.5 + 0.5 * jitter)
 * (jitter uniform in [0, 1)), then tries again; a permanent failure, or a
 * temporary one past `expire` seconds since the row was created, makes the
 * row dead (logged by the caller at critical level).
 *
 * One outbox per SQLite connection; not thread-safe (the daemon's loop). */
#ifndef VT_OUTBOX_H
#define VT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3;

enum alert_event { ALERT_RAISE = 0, ALERT_CLEAR, ALERT_REPEAT, ALERT_HEARTBEAT, ALERT_TEST,
                   ALERT_EVENT_COUNT };
/* "raise", "clear", "repeat", "heartbeat", "test". */
const char *alert_event_name(enum alert_event e);
int alert_event_parse(const char *name, enum alert_event *out);

enum outbox_state { OUTBOX_PENDING = 0, OUTBOX_SENT, OUTBOX_DEAD };
const char *outbox_state_name(enum outbox_state s); /* "pending", "sent", "dead" */

/* What a delivery attempt came to. */
enum outbox_result { OUTBOX_OK = 0, OUTBOX_TEMPORARY, OUTBOX_PERMANENT };

#define ALERT_TEXT_LEN 512
#define ALERT_EVIDENCE_LEN 4096
#define ALERT_MSGID_LEN 160
/* Notifications buffered for the next flush at most; past it the oldest is
 * dropped and logged (a disk that refuses writes for this long has bigger
 * news than one notification). */
#define OUTBOX_BUFFER_MAX 1024

/* One notification: a row of the outbox. */
struct alert_note {
  int64_t id;                 /* row id = sequence number; 0 until written */
  char channel[32];
  enum alert_event event;
  uint64_t alarm_id;          /* 0 for heartbeat and test */
  char kind[24];              /* alarm kind name; "" for heartbeat and test */
  char severity[12];          /* info, warning, critical */
  char source[300];           /* "" for the system */
  char ref_class[8];
  double value, threshold;
  char text[ALERT_TEXT_LEN];  /* the alarm line */
  char evidence[ALERT_EVIDENCE_LEN];
  char site[64];
  int64_t event_ns, created_ns;
  char msgid[ALERT_MSGID_LEN]; /* "<...@site>": Message-ID, idempotency key */
  enum outbox_state state;
  int attempts;
  int64_t next_ns;            /* pending: not before */
  int64_t done_ns;
  char last_error[256];
};

struct outbox_policy {
  double retry_initial, retry_max, expire; /* s */
};

struct outbox;

/* Prepares the statements on db (the history's connection, migrated to
 * level 3). NULL with a message on failure. */
struct outbox *outbox_new(struct sqlite3 *db, const struct outbox_policy *p, char *err,
                          size_t errlen);
void outbox_free(struct outbox *ob);

/* Buffers n (its id, msgid and state are set when written). Returns 0, or
 * 1 when the buffer was full and its oldest notification was dropped. */
int outbox_add(struct outbox *ob, const struct alert_note *n);
size_t outbox_buffered(const struct outbox *ob);

/* The history hook: inserts the buffered notifications and applies the
 * queued results, inside the caller's transaction. 0, or -1 (the caller
 * rolls back; everything stays queued). */
int outbox_write(struct outbox *ob);
/* After COMMIT: forgets what outbox_write() wrote. */
void outbox_committed(struct outbox *ob);
/* Writes the queued results now, in a transaction of its own (at stop).
 * 0, or -1. */
int outbox_write_now(struct outbox *ob);

/* The oldest pending notification of channel with id > after, as stored
 * with the queued results applied. 1 found, 0 none, -1 error. */
int outbox_next(struct outbox *ob, const char *channel, int64_t after, struct alert_note *out);

/* Records the outcome of an attempt to deliver n at now_ns (jitter in
 * [0, 1)); updates n (state, attempts, next_ns, done_ns, last_error) and
 * queues the same for the next write. Returns the new state. */
enum outbox_state outbox_result(struct outbox *ob, struct alert_note *n, enum outbox_result r,
                                const char *error, int64_t now_ns, double jitter);

/* The wait before retry number `attempts` (>= 1), s; jitter in [0, 1). */
double outbox_backoff(const struct outbox_policy *p, int attempts, double jitter);

/* ---- direct statements (autocommit): start-up, pruning, the CLI ---- */

/* Inserts n now (or inside the caller's transaction), setting n->id and
 * n->msgid. 0, or -1. */
int outbox_insert(struct sqlite3 *db, struct alert_note *n);

/* Marks dead the pending rows whose channel is not among names[n]; returns
 * how many, or -1. */
int outbox_fail_orphans(struct sqlite3 *db, const char *const *names, int n, int64_t now_ns);

/* created_ns of the channel's latest row of `event`, 0 if none, -1 error. */
int64_t outbox_last_created(struct sqlite3 *db, const char *channel, enum alert_event event);

/* Deletes sent and dead rows done before older_than_ns; returns how many,
 * or -1. */
int outbox_prune(struct sqlite3 *db, int64_t older_than_ns);

/* Calls cb for every row in state (or every state when state < 0) of
 * channel (NULL: all), in id order, at most limit rows (0: no limit);
 * returns the number visited or -1. A non-zero return from cb stops. */
typedef int (*outbox_row_cb)(void *ctx, const struct alert_note *n);
int outbox_each(struct sqlite3 *db, int state, const char *channel, int64_t min_id, int limit,
                outbox_row_cb cb, void *ctx);

/* Number of rows in state (< 0: all) of channel (NULL: all), or -1. */
int outbox_count(struct sqlite3 *db, int state, const char *channel);

/* Requeues dead rows (all when id is 0): pending, attempts 0, due now.
 * Returns how many, or -1. */
int outbox_requeue(struct sqlite3 *db, int64_t id, int64_t now_ns);

#endif
