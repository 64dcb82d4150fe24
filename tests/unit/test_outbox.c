/* Unit tests of the durable outbox (alerting/outbox.c) on a real SQLite
 * history: rows are written only by the flush transaction (and survive a
 * failed flush), the per-channel order and the overlay of results not yet
 * written, the retry policy against a naive model, expiry, permanent
 * failures, orphans, requeue, pruning, and the idempotency key. */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "alerting/outbox.h"
#include "lib/log.h"
#include "monitor/history.h"
#include "unit.h"

#define S 1000000000LL

static char tmpdir[] = "/tmp/vt_test_outbox.XXXXXX";
static int db_counter;
static struct history *h;
static struct outbox *ob;
static const struct outbox_policy policy = {5, 300, 3600};

static int hook_write(void *ctx, struct sqlite3 *db) {
  (void)ctx, (void)db;
  return outbox_write(ob);
}

static void hook_committed(void *ctx) {
  (void)ctx;
  outbox_committed(ob);
}

static void open_fresh(void) {
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/o%d.db", tmpdir, ++db_counter);
  h = history_open(path, err, sizeof err);
  CHECK(h != NULL);
  ob = outbox_new(history_db(h), &policy, err, sizeof err);
  CHECK(ob != NULL);
  struct history_hook hook = {hook_write, hook_committed, NULL};
  history_set_hook(h, &hook);
}

static void close_all(void) {
  outbox_free(ob);
  history_close(h);
  ob = NULL;
  h = NULL;
}

static struct alert_note note(const char *channel, enum alert_event ev, uint64_t alarm, int64_t t) {
  struct alert_note n;
  memset(&n, 0, sizeof n);
  snprintf(n.channel, sizeof n.channel, "%s", channel);
  n.event = ev;
  n.alarm_id = alarm;
  snprintf(n.kind, sizeof n.kind, "falseticker");
  snprintf(n.severity, sizeof n.severity, "critical");
  snprintf(n.source, sizeof n.source, "127.0.0.1:12303");
  snprintf(n.ref_class, sizeof n.ref_class, "DCF");
  n.value = 0.5;
  n.threshold = NAN;
  snprintf(n.text, sizeof n.text, "alarm %" PRIu64 " %s", alarm, alert_event_name(ev));
  snprintf(n.site, sizeof n.site, "site one");
  n.event_ns = n.created_ns = t;
  return n;
}

static int count(int state, const char *channel) { return outbox_count(history_db(h), state, channel); }

static void test_written_only_by_the_flush(void) {
  open_fresh();
  struct alert_note a = note("mail", ALERT_RAISE, 7, 100 * S), b = note("snmp", ALERT_RAISE, 7, 100 * S);
  CHECK_INT(outbox_add(ob, &a), 0);
  CHECK_INT(outbox_add(ob, &b), 0);
  CHECK_INT(outbox_buffered(ob), 2);
  CHECK_INT(count(-1, NULL), 0);
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(outbox_buffered(ob), 0);
  CHECK_INT(count(OUTBOX_PENDING, NULL), 2);
  struct alert_note n;
  CHECK_INT(outbox_next(ob, "mail", 0, &n), 1);
  CHECK_INT(n.id, 1);
  CHECK_INT(n.alarm_id, 7);
  CHECK_STR(n.source, "127.0.0.1:12303");
  CHECK(isnan(n.threshold));
  CHECK_NEAR(n.value, 0.5, 0);
  /* The key: row id, event, alarm, creation time, site made a dot-atom. */
  CHECK_STR(n.msgid, "<vettime.1.raise.7.100000000000@site-one>");
  CHECK_INT(outbox_next(ob, "snmp", 0, &n), 1);
  CHECK_STR(n.msgid, "<vettime.2.raise.7.100000000000@site-one>");
  CHECK_INT(outbox_next(ob, "syslog", 0, &n), 0);
  close_all();
}

/* A flush that fails (another connection holds the write lock) writes
 * nothing and keeps the notifications for the next one: they are written
 * once, with the alarm rows of the same transaction. */
static void test_failed_flush_keeps_them(void) {
  open_fresh();
  char path[128];
  snprintf(path, sizeof path, "%s/o%d.db", tmpdir, db_counter);
  sqlite3 *other;
  CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
  CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  struct alert_note a = note("mail", ALERT_RAISE, 1, 5 * S);
  struct history_alarm ha = {.id = 1, .raised_ns = 5 * S};
  snprintf(ha.kind, sizeof ha.kind, "falseticker");
  snprintf(ha.severity, sizeof ha.severity, "critical");
  history_add_alarm(h, &ha);
  outbox_add(ob, &a);
  log_set_level(LOG_LVL_ERROR);
  CHECK_INT(history_flush(h), -1);
  CHECK_INT(outbox_buffered(ob), 1);
  sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(other);
  CHECK_INT(count(-1, NULL), 0);
  CHECK_INT(history_count_rows(h, "alarms"), 0);
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(count(-1, NULL), 1);
  CHECK_INT(history_count_rows(h, "alarms"), 1);
  CHECK_INT(history_flush(h), 0); /* nothing twice */
  CHECK_INT(count(-1, NULL), 1);
  log_set_level(LOG_LVL_WARN);
  close_all();
}

/* Per channel, oldest first; a result not yet written already hides the
 * row from outbox_next, and the next flush stores it. */
static void test_order_and_overlay(void) {
  open_fresh();
  for (int i = 1; i <= 3; i++) {
    struct alert_note a = note("mail", i == 3 ? ALERT_CLEAR : ALERT_RAISE, (uint64_t)i, i * S);
    outbox_add(ob, &a);
  }
  history_flush(h);
  struct alert_note n;
  CHECK_INT(outbox_next(ob, "mail", 0, &n), 1);
  CHECK_INT(n.id, 1);
  CHECK_INT(outbox_result(ob, &n, OUTBOX_OK, NULL, 10 * S, 0.5), OUTBOX_SENT);
  CHECK_INT(outbox_next(ob, "mail", 0, &n), 1);
  CHECK_INT(n.id, 2);
  CHECK_INT(count(OUTBOX_SENT, "mail"), 0); /* not yet written */
  CHECK_INT(outbox_result(ob, &n, OUTBOX_TEMPORARY, "smtp 451: try later", 11 * S, 0.0), OUTBOX_PENDING);
  CHECK_INT(outbox_next(ob, "mail", 0, &n), 1);
  CHECK_INT(n.id, 2); /* the head waits; the clear behind it too */
  CHECK_INT(n.attempts, 1);
  CHECK_INT(n.next_ns, 11 * S + (int64_t)(2.5 * S));
  CHECK_STR(n.last_error, "smtp 451: try later");
  CHECK_INT(history_flush(h), 0);
  CHECK_INT(count(OUTBOX_SENT, "mail"), 1);
  CHECK_INT(outbox_next(ob, "mail", 0, &n), 1);
  CHECK_INT(n.id, 2);
  CHECK_INT(n.attempts, 1);
  CHECK_INT(n.next_ns, 11 * S + (int64_t)(2.5 * S));
  close_all();
}

/* The backoff against the formula: min(max, initial * 2^(k-1)) scaled
 * into [0.5, 1) by the jitter; randomised. */
static void test_backoff_model(void) {
  struct outbox_policy p = {0.5, 20, 100};
  for (int i = 0; i < 2000; i++) {
    int k = 1 + (int)(random() % 40);
    double j = (double)random() / ((double)RAND_MAX + 1);
    double base = fmin(p.retry_max, p.retry_initial * pow(2, k - 1));
    double got = outbox_backoff(&p, k, j);
    CHECK_NEAR(got, base * (0.5 + 0.5 * j), 1e-9);
    CHECK(got >= base * 0.5 && got < base);
  }
  CHECK_NEAR(outbox_backoff(&policy, 1, 0), 2.5, 1e-12);
  CHECK_NEAR(outbox_backoff(&policy, 100, 0.999999), 300 * 0.9999995, 1e-6);
  CHECK_NEAR(outbox_backoff(&policy, 3, NAN), 10, 1e-12); /* bad jitter: none */
}

static void test_expire_and_permanent(void) {
  open_fresh();
  struct alert_note a = note("snmp", ALERT_RAISE, 1, 0), b = note("mail", ALERT_RAISE, 1, 0);
  outbox_add(ob, &a);
  outbox_add(ob, &b);
  history_flush(h);
  struct alert_note n;
  outbox_next(ob, "snmp", 0, &n);
  CHECK_INT(outbox_result(ob, &n, OUTBOX_TEMPORARY, "timeout", 1000 * S, 0.3), OUTBOX_PENDING);
  CHECK_INT(outbox_result(ob, &n, OUTBOX_TEMPORARY, "timeout", 3600 * S, 0.3), OUTBOX_DEAD);
  CHECK_STR(n.last_error, "expired after 2 attempts: timeout");
  outbox_next(ob, "mail", 0, &n);
  CHECK_INT(outbox_result(ob, &n, OUTBOX_PERMANENT, "smtp 554: no", 1 * S, 0.3), OUTBOX_DEAD);
  CHECK_INT(n.attempts, 1);
  CHECK_INT(outbox_next(ob, "mail", 0, &n), 0);
  history_flush(h);
  CHECK_INT(count(OUTBOX_DEAD, NULL), 2);
  /* Requeue: pending again, attempts from 0, due now. */
  CHECK_INT(outbox_requeue(history_db(h), 0, 50 * S), 2);
  CHECK_INT(outbox_next(ob, "mail", 0, &n), 1);
  CHECK_INT(n.attempts, 0);
  CHECK_INT(n.next_ns, 50 * S);
  close_all();
}

static void test_orphans_prune_last(void) {
  open_fresh();
  struct alert_note a = note("gone", ALERT_RAISE, 1, 10 * S), b = note("mail", ALERT_HEARTBEAT, 0, 20 * S),
                    c = note("mail", ALERT_HEARTBEAT, 0, 30 * S);
  outbox_add(ob, &a);
  outbox_add(ob, &b);
  outbox_add(ob, &c);
  history_flush(h);
  const char *names[] = {"mail"};
  log_set_level(LOG_LVL_ERROR);
  CHECK_INT(outbox_fail_orphans(history_db(h), names, 1, 40 * S), 1);
  log_set_level(LOG_LVL_WARN);
  CHECK_INT(count(OUTBOX_DEAD, "gone"), 1);
  CHECK_INT(outbox_last_created(history_db(h), "mail", ALERT_HEARTBEAT), 30 * S);
  CHECK_INT(outbox_last_created(history_db(h), "mail", ALERT_TEST), 0);
  struct alert_note n;
  outbox_next(ob, "mail", 0, &n);
  outbox_result(ob, &n, OUTBOX_OK, NULL, 45 * S, 0);
  history_flush(h);
  CHECK_INT(outbox_prune(history_db(h), 41 * S), 1); /* the dead orphan (done at 40 s) */
  CHECK_INT(outbox_prune(history_db(h), 50 * S), 1); /* the sent heartbeat */
  CHECK_INT(count(-1, NULL), 1);                      /* pending rows stay */
  /* Ids never come back after pruning (AUTOINCREMENT): a new row is 4. */
  struct alert_note d = note("mail", ALERT_TEST, 0, 60 * S);
  CHECK_INT(outbox_insert(history_db(h), &d), 0);
  CHECK_INT(d.id, 4);
  close_all();
}

int main(void) {
  unit_init();
  log_set_level(LOG_LVL_WARN); /* the migrations' news */
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_written_only_by_the_flush);
  RUN(test_failed_flush_keeps_them);
  RUN(test_order_and_overlay);
  RUN(test_backoff_model);
  RUN(test_expire_and_permanent);
  RUN(test_orphans_prune_last);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return unit_done();
}
