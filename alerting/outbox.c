/* The durable outbox (see outbox.h): SQL over the alert_outbox table of
 * schema/003_alert_outbox.sql, plus two bounded queues in memory, the new
 * notifications and the results of delivery attempts, both written by the
 * history's flush transaction. */
#include "alerting/outbox.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"

/* Results waiting for a flush at most: one attempt in flight per channel,
 * so a handful; generous against a long-failing disk. */
#define RESULTS_MAX 256
/* Channels with pending rows that start-up can declare orphans at once. */
#define ORPHANS_MAX 64
/* Rows outbox_next() reads at a time (the LIMIT of SQL_NEXT). */
#define NEXT_PAGE 16

struct result {
  int64_t id;
  enum outbox_state state;
  int attempts;
  int64_t next_ns, done_ns;
  char error[256];
};

struct outbox {
  sqlite3 *db;
  struct outbox_policy p;
  sqlite3_stmt *next, *update;
  struct alert_note *notes; /* ring of OUTBOX_BUFFER_MAX: n_notes from head */
  size_t head, n_notes, written_notes;
  struct result results[RESULTS_MAX];
  size_t n_results, written_results;
};

static const char *const event_names[] = {"raise", "clear", "repeat", "heartbeat", "test"};
static const char *const state_names[] = {"pending", "sent", "dead"};

const char *alert_event_name(enum alert_event e) {
  return (unsigned)e < ALERT_EVENT_COUNT ? event_names[e] : "?";
}

int alert_event_parse(const char *name, enum alert_event *out) {
  for (int i = 0; i < ALERT_EVENT_COUNT; i++)
    if (strcmp(name, event_names[i]) == 0) {
      *out = (enum alert_event)i;
      return 0;
    }
  return -1;
}

const char *outbox_state_name(enum outbox_state s) {
  return (unsigned)s <= OUTBOX_DEAD ? state_names[s] : "?";
}

static int parse_state(const char *s) {
  for (int i = 0; i <= OUTBOX_DEAD; i++)
    if (s && strcmp(s, state_names[i]) == 0) return i;
  return OUTBOX_PENDING;
}

#define COLUMNS                                                                          \
  "id, channel, event, coalesce(alarm_id, 0), kind, severity, source, class, value,"   \
  " threshold, text, evidence, site, event_ns, created_ns, coalesce(msgid, ''), state," \
  " attempts, next_ns, coalesce(done_ns, 0), coalesce(last_error, '')"

static const char SQL_NEXT[] =
    "SELECT " COLUMNS " FROM alert_outbox WHERE state = 'pending' AND channel = ?1"
    " AND id > ?2 ORDER BY id LIMIT 16"; /* NEXT_PAGE */
static const char SQL_UPDATE[] =
    "UPDATE alert_outbox SET state = ?2, attempts = ?3, next_ns = ?4,"
    " done_ns = nullif(?5, 0), last_error = nullif(?6, '') WHERE id = ?1";
static const char SQL_INSERT[] =
    "INSERT INTO alert_outbox(channel, event, alarm_id, kind, severity, source, class,"
    " value, threshold, text, evidence, site, event_ns, created_ns, next_ns)"
    " VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)";
static const char SQL_MSGID[] = "UPDATE alert_outbox SET msgid = ?2 WHERE id = ?1";

static void text_col(sqlite3_stmt *st, int col, char *dst, size_t cap) {
  const unsigned char *t = sqlite3_column_text(st, col);
  snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void row_to_note(sqlite3_stmt *st, struct alert_note *n) {
  memset(n, 0, sizeof *n);
  n->id = sqlite3_column_int64(st, 0);
  text_col(st, 1, n->channel, sizeof n->channel);
  char ev[16];
  text_col(st, 2, ev, sizeof ev);
  if (alert_event_parse(ev, &n->event)) n->event = ALERT_TEST;
  n->alarm_id = (uint64_t)sqlite3_column_int64(st, 3);
  text_col(st, 4, n->kind, sizeof n->kind);
  text_col(st, 5, n->severity, sizeof n->severity);
  text_col(st, 6, n->source, sizeof n->source);
  text_col(st, 7, n->ref_class, sizeof n->ref_class);
  n->value = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 8);
  n->threshold = sqlite3_column_type(st, 9) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 9);
  text_col(st, 10, n->text, sizeof n->text);
  text_col(st, 11, n->evidence, sizeof n->evidence);
  text_col(st, 12, n->site, sizeof n->site);
  n->event_ns = sqlite3_column_int64(st, 13);
  n->created_ns = sqlite3_column_int64(st, 14);
  text_col(st, 15, n->msgid, sizeof n->msgid);
  char state[16];
  text_col(st, 16, state, sizeof state);
  n->state = (enum outbox_state)parse_state(state);
  n->attempts = sqlite3_column_int(st, 17);
  n->next_ns = sqlite3_column_int64(st, 18);
  n->done_ns = sqlite3_column_int64(st, 19);
  text_col(st, 20, n->last_error, sizeof n->last_error);
}

struct outbox *outbox_new(sqlite3 *db, const struct outbox_policy *p, char *err, size_t errlen) {
  struct outbox *ob = calloc(1, sizeof *ob);
  if (!ob || !(ob->notes = calloc(OUTBOX_BUFFER_MAX, sizeof *ob->notes))) {
    snprintf(err, errlen, "outbox: out of memory");
    free(ob);
    return NULL;
  }
  ob->db = db;
  ob->p = *p;
  if (sqlite3_prepare_v3(db, SQL_NEXT, -1, SQLITE_PREPARE_PERSISTENT, &ob->next, NULL) != SQLITE_OK ||
      sqlite3_prepare_v3(db, SQL_UPDATE, -1, SQLITE_PREPARE_PERSISTENT, &ob->update, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "outbox: cannot prepare a statement: %s", sqlite3_errmsg(db));
    outbox_free(ob);
    return NULL;
  }
  return ob;
}

void outbox_free(struct outbox *ob) {
  if (!ob) return;
  sqlite3_finalize(ob->next);
  sqlite3_finalize(ob->update);
  free(ob->notes);
  free(ob);
}

/* ---- new notifications ---- */

int outbox_add(struct outbox *ob, const struct alert_note *n) {
  int dropped = 0;
  if (ob->n_notes == OUTBOX_BUFFER_MAX) {
    const struct alert_note *old = &ob->notes[ob->head];
    LOG_ERROR("alert: CRITICAL: %d notifications wait for a failing history; dropping the "
              "oldest (%s on %s: %s)", OUTBOX_BUFFER_MAX, alert_event_name(old->event),
              old->channel, old->text);
    ob->head = (ob->head + 1) % OUTBOX_BUFFER_MAX;
    ob->n_notes--;
    if (ob->written_notes) ob->written_notes--;
    dropped = 1;
  }
  ob->notes[(ob->head + ob->n_notes) % OUTBOX_BUFFER_MAX] = *n;
  ob->n_notes++;
  return dropped;
}

size_t outbox_buffered(const struct outbox *ob) { return ob->n_notes; }

/* Characters allowed in the right-hand side of our Message-IDs. */
static void msgid_site(const char *site, char *out, size_t cap) {
  size_t j = 0;
  for (const char *s = site; *s && j + 1 < cap; s++)
    out[j++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                              (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'
                          ? *s : '-');
  out[j] = '\0';
  if (!j) snprintf(out, cap, "localhost");
}

static int bind_insert(sqlite3_stmt *st, const struct alert_note *n) {
  sqlite3_bind_text(st, 1, n->channel, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, alert_event_name(n->event), -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)n->alarm_id);
  sqlite3_bind_text(st, 4, n->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, n->severity, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, n->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, n->ref_class, -1, SQLITE_STATIC);
  if (isfinite(n->value)) sqlite3_bind_double(st, 8, n->value);
  if (isfinite(n->threshold)) sqlite3_bind_double(st, 9, n->threshold);
  sqlite3_bind_text(st, 10, n->text, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 11, n->evidence, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 12, n->site, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 13, n->event_ns);
  sqlite3_bind_int64(st, 14, n->created_ns);
  return sqlite3_step(st);
}

int outbox_insert(sqlite3 *db, struct alert_note *n) {
  sqlite3_stmt *ins = NULL, *mid = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(db, SQL_INSERT, -1, &ins, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, SQL_MSGID, -1, &mid, NULL) != SQLITE_OK ||
      bind_insert(ins, n) != SQLITE_DONE)
    goto out;
  n->id = sqlite3_last_insert_rowid(db);
  char site[64];
  msgid_site(n->site, site, sizeof site);
  snprintf(n->msgid, sizeof n->msgid, "<vettime.%" PRId64 ".%s.%" PRIu64 ".%" PRId64 "@%s>",
           n->id, alert_event_name(n->event), n->alarm_id, n->created_ns, site);
  sqlite3_bind_int64(mid, 1, n->id);
  sqlite3_bind_text(mid, 2, n->msgid, -1, SQLITE_STATIC);
  if (sqlite3_step(mid) != SQLITE_DONE) goto out;
  n->state = OUTBOX_PENDING;
  n->next_ns = n->created_ns;
  rc = 0;
out:
  sqlite3_finalize(ins);
  sqlite3_finalize(mid);
  return rc;
}

/* ---- results of attempts ---- */

double outbox_backoff(const struct outbox_policy *p, int attempts, double jitter) {
  double wait = p->retry_initial;
  for (int i = 1; i < attempts && wait < p->retry_max; i++) wait *= 2;
  if (wait > p->retry_max) wait = p->retry_max;
  if (!(jitter >= 0 && jitter < 1)) jitter = 0;
  return wait * (0.5 + 0.5 * jitter);
}

static struct result *find_result(struct outbox *ob, int64_t id) {
  for (size_t i = 0; i < ob->n_results; i++)
    if (ob->results[i].id == id) return &ob->results[i];
  return NULL;
}

static void queue_result(struct outbox *ob, const struct alert_note *n) {
  struct result *r = find_result(ob, n->id);
  if (r && (size_t)(r - ob->results) < ob->written_results) r = NULL; /* being written: add anew */
  if (!r) {
    if (ob->n_results == RESULTS_MAX) {
      /* Only the stored row's state is lost: it is sent again, same key. */
      LOG_RATELIMITED(LOG_LVL_WARN, "alert: %d delivery results wait for the history; "
                      "notification %" PRId64 " may be sent twice", RESULTS_MAX, n->id);
      return;
    }
    r = &ob->results[ob->n_results++];
  }
  *r = (struct result){.id = n->id, .state = n->state, .attempts = n->attempts,
                       .next_ns = n->next_ns, .done_ns = n->done_ns};
  snprintf(r->error, sizeof r->error, "%s", n->last_error);
}

enum outbox_state outbox_result(struct outbox *ob, struct alert_note *n, enum outbox_result r,
                                const char *error, int64_t now_ns, double jitter) {
  n->attempts++;
  snprintf(n->last_error, sizeof n->last_error, "%s", r == OUTBOX_OK || !error ? "" : error);
  if (r == OUTBOX_OK) {
    n->state = OUTBOX_SENT;
    n->done_ns = now_ns;
  } else if (r == OUTBOX_PERMANENT || (now_ns - n->created_ns) / 1e9 >= ob->p.expire) {
    n->state = OUTBOX_DEAD;
    n->done_ns = now_ns;
    if (r == OUTBOX_TEMPORARY) {
      char e[sizeof n->last_error];
      snprintf(e, sizeof e, "%s", n->last_error);
      snprintf(n->last_error, sizeof n->last_error, "expired after %d attempts: %.*s",
               n->attempts, (int)sizeof n->last_error - 40, e);
    }
  } else {
    n->state = OUTBOX_PENDING;
    n->next_ns = now_ns + (int64_t)(outbox_backoff(&ob->p, n->attempts, jitter) * 1e9);
  }
  queue_result(ob, n);
  return n->state;
}

static int write_result(struct outbox *ob, const struct result *r) {
  sqlite3_stmt *st = ob->update;
  sqlite3_bind_int64(st, 1, r->id);
  sqlite3_bind_text(st, 2, outbox_state_name(r->state), -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, r->attempts);
  sqlite3_bind_int64(st, 4, r->next_ns);
  sqlite3_bind_int64(st, 5, r->done_ns);
  sqlite3_bind_text(st, 6, r->error, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

int outbox_write(struct outbox *ob) {
  for (size_t i = 0; i < ob->n_notes; i++) {
    struct alert_note *n = &ob->notes[(ob->head + i) % OUTBOX_BUFFER_MAX];
    if (outbox_insert(ob->db, n)) {
      LOG_RATELIMITED(LOG_LVL_ERROR, "alert: writing the outbox failed: %s", sqlite3_errmsg(ob->db));
      return -1;
    }
  }
  for (size_t i = 0; i < ob->n_results; i++)
    if (write_result(ob, &ob->results[i])) {
      LOG_RATELIMITED(LOG_LVL_ERROR, "alert: writing a delivery result failed: %s",
                      sqlite3_errmsg(ob->db));
      return -1;
    }
  ob->written_notes = ob->n_notes;
  ob->written_results = ob->n_results;
  return 0;
}

void outbox_committed(struct outbox *ob) {
  ob->head = (ob->head + ob->written_notes) % OUTBOX_BUFFER_MAX;
  ob->n_notes -= ob->written_notes;
  if (ob->n_notes == 0) ob->head = 0;
  memmove(ob->results, ob->results + ob->written_results,
          (ob->n_results - ob->written_results) * sizeof ob->results[0]);
  ob->n_results -= ob->written_results;
  ob->written_notes = ob->written_results = 0;
}

int outbox_write_now(struct outbox *ob) {
  if (!ob->n_results) return 0;
  if (sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return -1;
  for (size_t i = 0; i < ob->n_results; i++)
    if (write_result(ob, &ob->results[i])) {
      sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  if (sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  ob->n_results = ob->written_results = 0;
  return 0;
}

/* ---- reading ---- */

static void overlay(const struct outbox *ob, struct alert_note *n) {
  for (size_t i = ob->n_results; i-- > 0;)
    if (ob->results[i].id == n->id) {
      const struct result *r = &ob->results[i];
      n->state = r->state;
      n->attempts = r->attempts;
      n->next_ns = r->next_ns;
      n->done_ns = r->done_ns;
      snprintf(n->last_error, sizeof n->last_error, "%s", r->error);
      return;
    }
}

int outbox_next(struct outbox *ob, const char *channel, int64_t after, struct alert_note *out) {
  sqlite3_stmt *st = ob->next;
  for (;;) {
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    int rc = SQLITE_DONE, rows = 0, found = 0;
    while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      rows++;
      row_to_note(st, out);
      after = out->id;
      overlay(ob, out);
      found = out->state == OUTBOX_PENDING;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (found) return 1;
    if (rc != SQLITE_DONE) return -1;
    if (rows < NEXT_PAGE) return 0; /* else: a full page of rows done in memory; read on */
  }
}

/* ---- direct statements ---- */

int outbox_fail_orphans(sqlite3 *db, const char *const *names, int n, int64_t now_ns) {
  sqlite3_stmt *sel = NULL, *upd = NULL;
  int count = 0;
  if (sqlite3_prepare_v2(db, "SELECT DISTINCT channel FROM alert_outbox WHERE state = 'pending'",
                         -1, &sel, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE alert_outbox SET state = 'dead', done_ns = ?2,"
                             " last_error = 'channel ' || ?1 || ' is no longer configured'"
                             " WHERE state = 'pending' AND channel = ?1", -1, &upd, NULL) != SQLITE_OK) {
    count = -1;
    goto out;
  }
  char orphans[ORPHANS_MAX][32];
  int n_orphans = 0;
  while (sqlite3_step(sel) == SQLITE_ROW && n_orphans < ORPHANS_MAX) {
    const char *ch = (const char *)sqlite3_column_text(sel, 0);
    bool known = false;
    for (int i = 0; ch && i < n; i++) known |= strcmp(ch, names[i]) == 0;
    if (ch && !known) snprintf(orphans[n_orphans++], sizeof orphans[0], "%s", ch);
  }
  for (int i = 0; i < n_orphans; i++) {
    sqlite3_bind_text(upd, 1, orphans[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(upd, 2, now_ns);
    if (sqlite3_step(upd) != SQLITE_DONE) {
      count = -1;
      goto out;
    }
    int k = sqlite3_changes(db);
    LOG_ERROR("alert: CRITICAL: %d pending notifications of channel %s are dead: the channel "
              "is no longer configured", k, orphans[i]);
    count += k;
    sqlite3_reset(upd);
  }
out:
  sqlite3_finalize(sel);
  sqlite3_finalize(upd);
  return count;
}

int64_t outbox_last_created(sqlite3 *db, const char *channel, enum alert_event event) {
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, "SELECT coalesce(max(created_ns), 0) FROM alert_outbox"
                             " WHERE channel = ?1 AND event = ?2", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, alert_event_name(event), -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

int outbox_prune(sqlite3 *db, int64_t older_than_ns) {
  sqlite3_stmt *st = NULL;
  int n = -1;
  if (sqlite3_prepare_v2(db, "DELETE FROM alert_outbox WHERE state IN ('sent', 'dead')"
                             " AND done_ns < ?1", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, older_than_ns);
    if (sqlite3_step(st) == SQLITE_DONE) n = sqlite3_changes(db);
  }
  sqlite3_finalize(st);
  return n;
}

int outbox_each(sqlite3 *db, int state, const char *channel, int64_t min_id, int limit,
                outbox_row_cb cb, void *ctx) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT " COLUMNS " FROM alert_outbox WHERE (?1 IS NULL OR state = ?1)"
                             " AND (?2 IS NULL OR channel = ?2) AND id >= ?3 ORDER BY id"
                             " LIMIT ?4", -1, &st, NULL) != SQLITE_OK)
    return -1;
  if (state >= 0) sqlite3_bind_text(st, 1, outbox_state_name((enum outbox_state)state), -1, SQLITE_STATIC);
  if (channel) sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, min_id);
  sqlite3_bind_int(st, 4, limit > 0 ? limit : -1);
  int rc, n = 0;
  struct alert_note *note = malloc(sizeof *note);
  if (!note) {
    sqlite3_finalize(st);
    return -1;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_to_note(st, note);
    n++;
    if (cb(ctx, note)) break;
  }
  free(note);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

int outbox_count(sqlite3 *db, int state, const char *channel) {
  sqlite3_stmt *st = NULL;
  int n = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM alert_outbox WHERE (?1 IS NULL OR state = ?1)"
                             " AND (?2 IS NULL OR channel = ?2)", -1, &st, NULL) == SQLITE_OK) {
    if (state >= 0) sqlite3_bind_text(st, 1, outbox_state_name((enum outbox_state)state), -1, SQLITE_STATIC);
    if (channel) sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return n;
}

int outbox_requeue(sqlite3 *db, int64_t id, int64_t now_ns) {
  sqlite3_stmt *st = NULL;
  int n = -1;
  if (sqlite3_prepare_v2(db, "UPDATE alert_outbox SET state = 'pending', attempts = 0,"
                             " next_ns = ?2, done_ns = NULL WHERE state = 'dead'"
                             " AND (?1 = 0 OR id = ?1)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now_ns);
    if (sqlite3_step(st) == SQLITE_DONE) n = sqlite3_changes(db);
  }
  sqlite3_finalize(st);
  return n;
}
