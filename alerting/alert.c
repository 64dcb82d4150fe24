/* Alerting's core (see alert.h): routing, repeats, heartbeats, the
 * history hook that makes the outbox durable with the alarms, and the
 * sender that feeds each channel's sink from the outbox. Knows the sinks
 * only through sink.h. */
#include "alerting/alert.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerting/outbox.h"
#include "alerting/sink.h"
#include "lib/log.h"
#include "monitor/report.h"
#include "lib/sched.h"

#define TICK_SECONDS 1.0
#define PRUNE_SECONDS 3600.0
#define RAISED_MAX 256       /* critical alarms tracked for repeats */
#define DIGEST_MAX 50        /* notifications in one digest mail */
#define EVIDENCE_SOURCES 64  /* sources listed in the evidence */
#define DEPTH_SECONDS 5.0    /* the outbox is counted this often (two COUNTs) */

struct channel {
  struct alert_channel_config cfg;
  struct sink sink;
  bool opened, busy;
  struct alert_note *batch; /* the attempt in flight */
  int n_batch, batch_cap;
  double heartbeat;         /* s, 0 off */
  int64_t next_heartbeat_ns;
};

struct raised {             /* a raised critical alarm, for repeats */
  uint64_t alarm_id;
  int64_t next_ns;
  unsigned count;
};

static struct {
  bool running;
  struct alert_config cfg;
  struct history *h;
  struct sqlite3 *db;
  struct outbox *ob;
  struct channel *ch;
  int n;
  char site[64];
  double retention;
  struct raised raised[RAISED_MAX];
  struct alert_note *raised_note; /* [RAISED_MAX]: the raise, to repeat */
  int n_raised;
  sched_timer_id tick, pump;
  int64_t next_prune_ns;
  uint64_t rng;
  struct outbox_report depth; /* the last count, for alert_depth() */
  int64_t next_depth_ns;
} A;

static struct alert_note scratch; /* big: one notification being built */

static int64_t now_ns(void) {
  struct timespec t = sched_real_now();
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* xorshift64*: the retries' jitter; no need for more. */
static double jitter(void) {
  A.rng ^= A.rng >> 12;
  A.rng ^= A.rng << 25;
  A.rng ^= A.rng >> 27;
  return (double)((A.rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void schedule_pump(void);

/* ---- routing and evidence ---- */

static bool routes(const struct channel *ch, const struct alarm *a) {
  return (int)a->severity >= ch->cfg.route.min_severity &&
         (ch->cfg.route.kinds & (1u << a->kind)) != 0;
}

static void evidence_vote(char *buf, size_t cap) {
  struct vote_report v;
  report_vote(&v);
  if (!v.valid) {
    snprintf(buf, cap, "vote: no round yet\n");
    return;
  }
  const struct vote_verdict *d = &v.verdict;
  if (d->vetted)
    snprintf(buf, cap, "vote: vetted, offset %+.6f s +/- %.6f s; %d of %d sources and %d of %d "
             "classes agree; best %s, stratum %d\n", d->offset, d->error, d->agreeing,
             d->candidates, d->agreeing_classes, d->classes, v.best_name[0] ? v.best_name : "-",
             d->stratum);
  else
    snprintf(buf, cap, "vote: NOT vetted: %s; %d of %d sources and %d of %d classes agree\n",
             d->why_not, d->agreeing, d->candidates, d->agreeing_classes, d->classes);
}

static void evidence_source(const struct source_report *r, char *buf, size_t cap) {
  const struct probe_report *p = &r->probe;
  char offset[48] = "no sample";
  if (p->have_sample)
    snprintf(offset, sizeof offset, "offset %+.6f s +/- %.6f s", p->last.offset,
             p->last.error_bound);
  snprintf(buf, cap, "  %-24s %-4s %-12s %s, stratum %d, reach %03o, vote %s%s%s\n", r->name,
           r->ref_class == CLASS_UNKNOWN ? "?" : ref_class_name(r->ref_class), p->state, offset,
           p->stratum, p->reach, r->voted ? source_state_name(r->vote_state) : "-",
           r->vote_why[0] ? ": " : "", r->vote_why);
}

/* The last vote and every source's state, for the mail body. */
static void build_evidence(char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  evidence_vote(buf, cap);
  len = strlen(buf);
  struct source_report *r = malloc(EVIDENCE_SOURCES * sizeof *r);
  if (!r) return;
  int total = report_sources(r, EVIDENCE_SOURCES);
  int shown = total < EVIDENCE_SOURCES ? total : EVIDENCE_SOURCES;
  if (shown && len + 10 < cap) len += (size_t)snprintf(buf + len, cap - len, "sources:\n");
  for (int i = 0; i < shown && len + 1 < cap; i++) {
    char line[700];
    evidence_source(&r[i], line, sizeof line);
    if (len + strlen(line) + 40 >= cap) {
      snprintf(buf + len, cap - len, "  ... and %d more\n", total - i);
      break;
    }
    len += (size_t)snprintf(buf + len, cap - len, "%s", line);
  }
  if (total > shown && len + 40 < cap) snprintf(buf + len, cap - len, "  ... and %d more\n", total - shown);
  free(r);
}

static void fill_alarm_note(struct alert_note *n, const struct alarm_transition *t,
                            const char *source_name) {
  const struct alarm *a = &t->alarm;
  memset(n, 0, sizeof *n);
  n->event = t->raised ? ALERT_RAISE : ALERT_CLEAR;
  n->alarm_id = a->id;
  snprintf(n->kind, sizeof n->kind, "%s", event_kind_name(a->kind));
  snprintf(n->severity, sizeof n->severity, "%s", alarm_severity_name(a->severity));
  snprintf(n->source, sizeof n->source, "%s", source_name ? source_name : "");
  snprintf(n->ref_class, sizeof n->ref_class, "%s",
           a->ref_class == CLASS_UNKNOWN ? "" : ref_class_name(a->ref_class));
  n->value = a->value;
  n->threshold = a->threshold;
  alarm_format_line(t, source_name, n->text, sizeof n->text);
  snprintf(n->site, sizeof n->site, "%s", A.site);
  n->event_ns = t->raised ? a->raised_ns : a->cleared_ns;
  n->created_ns = now_ns();
  build_evidence(n->evidence, sizeof n->evidence);
}

static void queue_on(struct channel *ch, struct alert_note *n) {
  snprintf(n->channel, sizeof n->channel, "%s", ch->cfg.name);
  outbox_add(A.ob, n);
}

/* ---- repeats of raised critical alarms ---- */

static void track_raised(const struct alert_note *n, const struct alarm *a) {
  if (a->severity != SEV_CRITICAL || A.cfg.repeat <= 0) return;
  if (A.n_raised == RAISED_MAX) {
    LOG_RATELIMITED(LOG_LVL_WARN, "alert: more than %d critical alarms raised; the newest "
                    "are not repeated", RAISED_MAX);
    return;
  }
  A.raised[A.n_raised] = (struct raised){a->id, n->created_ns + (int64_t)(A.cfg.repeat * 1e9), 0};
  A.raised_note[A.n_raised] = *n;
  A.n_raised++;
}

static void untrack(int i) {
  A.n_raised--;
  A.raised[i] = A.raised[A.n_raised];
  A.raised_note[i] = A.raised_note[A.n_raised];
}

static void forget_raised(uint64_t id) {
  for (int i = 0; i < A.n_raised; i++)
    if (A.raised[i].alarm_id == id) {
      untrack(i);
      return;
    }
}

/* Whether the round still holds alarm id raised (a reload restarts the
 * alarm table, and its old alarms then never clear). */
static bool still_active(uint64_t id) {
  struct alarm_report *r = malloc(REPORT_ALARMS_MAX * sizeof *r);
  if (!r) return true;
  int n = report_alarms(r, REPORT_ALARMS_MAX);
  bool active = false;
  for (int i = 0; i < n && !active; i++) active = r[i].alarm.active && r[i].alarm.id == id;
  free(r);
  return active;
}

static void repeat_one(int i, int64_t now) {
  struct raised *r = &A.raised[i];
  struct alert_note *n = &scratch;
  *n = A.raised_note[i];
  r->count++;
  r->next_ns = now + (int64_t)(A.cfg.repeat * 1e9);
  n->event = ALERT_REPEAT;
  n->created_ns = now;
  snprintf(n->text, sizeof n->text, "still raised (repeat %u): %.*s", r->count,
           (int)sizeof n->text - 40, A.raised_note[i].text);
  build_evidence(n->evidence, sizeof n->evidence);
  struct alarm a = {.severity = SEV_CRITICAL};
  event_kind_parse(n->kind, &a.kind);
  for (int c = 0; c < A.n; c++)
    if (routes(&A.ch[c], &a)) queue_on(&A.ch[c], n);
}

static void run_repeats(int64_t now) {
  for (int i = 0; i < A.n_raised; i++) {
    if (A.raised[i].next_ns > now) continue;
    if (!still_active(A.raised[i].alarm_id)) {
      untrack(i--);
      continue;
    }
    repeat_one(i, now);
  }
}

/* ---- heartbeats and test rows ---- */

static void fill_plain(struct alert_note *n, enum alert_event ev, int64_t now) {
  memset(n, 0, sizeof *n);
  n->event = ev;
  n->value = n->threshold = NAN;
  snprintf(n->severity, sizeof n->severity, "info");
  snprintf(n->site, sizeof n->site, "%s", A.site);
  n->event_ns = n->created_ns = now;
}

static void run_heartbeats(int64_t now) {
  for (int c = 0; c < A.n; c++) {
    struct channel *ch = &A.ch[c];
    if (ch->heartbeat <= 0 || ch->next_heartbeat_ns > now) continue;
    ch->next_heartbeat_ns = now + (int64_t)(ch->heartbeat * 1e9);
    struct alert_note *n = &scratch;
    fill_plain(n, ALERT_HEARTBEAT, now);
    snprintf(n->text, sizeof n->text, "vettimed heartbeat from %s: alive, channel %s works",
             A.site, ch->cfg.name);
    build_evidence(n->evidence, sizeof n->evidence);
    queue_on(ch, n);
  }
}

/* ---- the sender ---- */

static void log_outcome(const struct channel *ch, const struct alert_note *n, int64_t now) {
  char what[96];
  if (n->alarm_id)
    snprintf(what, sizeof what, "%s of alarm %" PRIu64, alert_event_name(n->event), n->alarm_id);
  else
    snprintf(what, sizeof what, "%s", alert_event_name(n->event));
  if (n->state == OUTBOX_SENT)
    LOG_INFO("alert: %s: notification %" PRId64 " (%s) sent %s", ch->cfg.name, n->id, what, n->msgid);
  else if (n->state == OUTBOX_DEAD)
    LOG_ERROR("alert: CRITICAL: %s: notification %" PRId64 " (%s) is dead after %d attempts: %s "
              "(vettime alert status; vettime alert retry)", ch->cfg.name, n->id, what,
              n->attempts, n->last_error);
  else
    LOG_WARN("alert: %s: notification %" PRId64 " (%s) failed (attempt %d): %s; next try in %.1f s",
             ch->cfg.name, n->id, what, n->attempts, n->last_error,
             (double)(n->next_ns - now) / 1e9);
}

static void on_done(void *ctx, enum outbox_result r, const char *error) {
  struct channel *ch = ctx;
  int64_t now = now_ns();
  for (int i = 0; i < ch->n_batch; i++) {
    outbox_result(A.ob, &ch->batch[i], r, error, now, jitter());
    log_outcome(ch, &ch->batch[i], now);
  }
  ch->busy = false;
  ch->n_batch = 0;
  schedule_pump();
}

/* A digest channel waits until its oldest notification is `digest` s old
 * (or was tried already), then takes up to DIGEST_MAX in order. */
static int collect(struct channel *ch, int64_t now) {
  struct alert_note *b = ch->batch;
  int k = 1;
  double digest = ch->cfg.kind == ALERT_SINK_MAIL ? ch->cfg.mail.digest : 0;
  if (digest <= 0) return 1;
  if (b[0].attempts == 0 && now - b[0].created_ns < (int64_t)(digest * 1e9)) return 0;
  while (k < ch->batch_cap && outbox_next(A.ob, ch->cfg.name, b[k - 1].id, &b[k]) == 1 &&
         b[k].next_ns <= now)
    k++;
  return k;
}

static void pump_channel(struct channel *ch, int64_t now) {
  if (!ch->opened || ch->busy) return;
  int found = outbox_next(A.ob, ch->cfg.name, 0, &ch->batch[0]);
  if (found < 0) LOG_RATELIMITED(LOG_LVL_ERROR, "alert: reading the outbox failed");
  if (found != 1 || ch->batch[0].next_ns > now) return;
  int k = collect(ch, now);
  if (!k) return;
  ch->busy = true;
  ch->n_batch = k;
  char err[256] = "";
  if (ch->sink.ops->send(&ch->sink, ch->batch, k, err, sizeof err) != 0)
    on_done(ch, OUTBOX_TEMPORARY, err);
}

static void on_pump(void *arg) {
  (void)arg;
  A.pump = 0;
  int64_t now = now_ns();
  for (int c = 0; c < A.n; c++) pump_channel(&A.ch[c], now);
}

static void schedule_pump(void) {
  if (A.running && !A.pump) A.pump = sched_add_timer(0, on_pump, NULL);
}

/* The outbox's depth: two COUNTs over the (state, channel, id) index,
 * every DEPTH_SECONDS, not on every scrape. Rows still buffered for the
 * next flush count as pending. */
static void count_depth(int64_t now) {
  int pending = outbox_count(A.db, OUTBOX_PENDING, NULL);
  int dead = outbox_count(A.db, OUTBOX_DEAD, NULL);
  A.next_depth_ns = now + (int64_t)(DEPTH_SECONDS * 1e9);
  if (pending < 0 || dead < 0) return; /* keep the last good count */
  A.depth.valid = true;
  A.depth.pending = pending + (A.ob ? (int)outbox_buffered(A.ob) : 0);
  A.depth.dead = dead;
}

static void on_tick(void *arg) {
  (void)arg;
  int64_t now = now_ns();
  run_repeats(now);
  run_heartbeats(now);
  if (now >= A.next_depth_ns) count_depth(now);
  if (now >= A.next_prune_ns) {
    int n = outbox_prune(A.db, now - (int64_t)(A.retention * 1e9));
    if (n > 0) LOG_INFO("alert: pruned %d delivered or dead notifications", n);
    A.next_prune_ns = now + (int64_t)(PRUNE_SECONDS * 1e9);
  }
  on_pump(NULL);
  A.tick = sched_add_timer(TICK_SECONDS, on_tick, NULL);
}

/* ---- the history hook ---- */

static int hook_write(void *ctx, struct sqlite3 *db) {
  (void)ctx, (void)db;
  return outbox_write(A.ob);
}

static void hook_committed(void *ctx) {
  (void)ctx;
  outbox_committed(A.ob);
  schedule_pump();
}

/* ---- start and stop ---- */

void alert_transition(const struct alarm_transition *t, const char *source_name) {
  if (!A.running || A.n == 0) return;
  bool any = false;
  for (int c = 0; c < A.n && !any; c++) any = routes(&A.ch[c], &t->alarm);
  if (!t->raised) forget_raised(t->alarm.id);
  if (!any) return;
  struct alert_note *n = &scratch;
  fill_alarm_note(n, t, source_name);
  if (t->raised) track_raised(n, &t->alarm);
  for (int c = 0; c < A.n; c++)
    if (routes(&A.ch[c], &t->alarm)) queue_on(&A.ch[c], n);
}

static int open_channel(struct channel *ch, char *err, size_t errlen) {
  char msg[400] = "";
  ch->sink.ops = sink_ops_for(ch->cfg.kind);
  ch->sink.cfg = &ch->cfg;
  ch->sink.site = A.site;
  ch->sink.done = on_done;
  ch->sink.done_ctx = ch;
  ch->batch_cap = ch->cfg.kind == ALERT_SINK_MAIL && ch->cfg.mail.digest > 0 ? DIGEST_MAX : 1;
  ch->batch = calloc((size_t)ch->batch_cap, sizeof *ch->batch);
  if (!ch->batch || !ch->sink.ops || ch->sink.ops->open(&ch->sink, msg, sizeof msg)) {
    snprintf(err, errlen, "alert %s (line %d): %s", ch->cfg.name, ch->cfg.line,
             msg[0] ? msg : "out of memory");
    return -1;
  }
  ch->opened = true;
  return 0;
}

static void plan_heartbeat(struct channel *ch, int64_t now) {
  ch->heartbeat = ch->cfg.heartbeat >= 0 ? ch->cfg.heartbeat : A.cfg.heartbeat;
  if (ch->heartbeat <= 0) return;
  int64_t last = outbox_last_created(A.db, ch->cfg.name, ALERT_HEARTBEAT);
  int64_t period = (int64_t)(ch->heartbeat * 1e9);
  ch->next_heartbeat_ns = last > 0 && last + period > now ? last + period : now + period;
  if (last > 0 && last + period <= now) ch->next_heartbeat_ns = now; /* overdue */
}

static void site_name(const struct alert_config *c, char *out, size_t cap) {
  if (c->site[0]) {
    snprintf(out, cap, "%s", c->site);
    return;
  }
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) snprintf(host, sizeof host, "localhost");
  snprintf(out, cap, "%.*s", (int)cap - 1, host);
}

static int start_channels(char *err, size_t errlen) {
  const char *names[ALERT_CHANNELS_MAX];
  int64_t now = now_ns();
  for (int c = 0; c < A.n; c++) names[c] = A.cfg.ch[c].name;
  if (outbox_fail_orphans(A.db, names, A.n, now) < 0)
    LOG_WARN("alert: cannot check the outbox for orphaned notifications");
  for (int c = 0; c < A.n; c++) {
    A.ch[c].cfg = A.cfg.ch[c];
    if (open_channel(&A.ch[c], err, errlen)) return -1;
    plan_heartbeat(&A.ch[c], now);
  }
  return 0;
}

int alert_start(const struct vt_config *cfg, struct history *h, char *err, size_t errlen) {
  memset(&A, 0, sizeof A);
  A.cfg = *alert_config_of(cfg);
  A.h = h;
  A.db = history_db(h);
  A.n = A.cfg.n;
  A.retention = cfg->retention;
  A.rng = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
  site_name(&A.cfg, A.site, sizeof A.site);
  struct outbox_policy pol = {A.cfg.retry_initial, A.cfg.retry_max, A.cfg.expire};
  A.ob = outbox_new(A.db, &pol, err, errlen);
  A.ch = calloc((size_t)(A.n ? A.n : 1), sizeof *A.ch);
  A.raised_note = calloc(RAISED_MAX, sizeof *A.raised_note);
  if (!A.ob || !A.ch || !A.raised_note) {
    if (A.ob) snprintf(err, errlen, "alert: out of memory");
    alert_stop();
    return -1;
  }
  A.running = true;
  if (start_channels(err, errlen)) {
    alert_stop();
    return -1;
  }
  if (A.n) {
    struct history_hook hook = {hook_write, hook_committed, NULL};
    history_set_hook(h, &hook);
    A.tick = sched_add_timer(TICK_SECONDS, on_tick, NULL);
  }
  count_depth(now_ns());
  int pending = A.depth.pending;
  LOG_INFO("alert: %d channel%s, site %s, %d notification%s pending", A.n, A.n == 1 ? "" : "s",
           A.site, pending, pending == 1 ? "" : "s");
  return 0;
}

void alert_depth(struct outbox_report *out) {
  if (A.running) *out = A.depth;
  else memset(out, 0, sizeof *out);
}

/* Like `vettime alert test`, but through the daemon's own outbox buffer:
 * the rows are written by the next round's flush and sent by the sender,
 * so the whole path is tested. */
int alert_test(const char *channel, char *msg, size_t msglen) {
  if (!A.running || A.n == 0) {
    snprintf(msg, msglen, "no alert channel is configured");
    return -1;
  }
  int queued = 0;
  int64_t now = now_ns();
  for (int c = 0; c < A.n; c++) {
    struct channel *ch = &A.ch[c];
    if (channel && channel[0] && strcmp(channel, ch->cfg.name) != 0) continue;
    struct alert_note *n = &scratch;
    fill_plain(n, ALERT_TEST, now);
    snprintf(n->text, sizeof n->text,
             "vettime test notification on channel %s from %s (HTTP API)", ch->cfg.name, A.site);
    build_evidence(n->evidence, sizeof n->evidence);
    queue_on(ch, n);
    queued++;
  }
  if (!queued) {
    snprintf(msg, msglen, "no alert channel named \"%.64s\"", channel);
    return -1;
  }
  snprintf(msg, msglen, "%d test notification%s queued", queued, queued == 1 ? "" : "s");
  return queued;
}

int alert_retry(int64_t id, char *msg, size_t msglen) {
  if (!A.running) {
    snprintf(msg, msglen, "alerting is not running");
    return -1;
  }
  int n = outbox_requeue(A.db, id, now_ns());
  if (n < 0) {
    snprintf(msg, msglen, "cannot requeue: the outbox could not be written");
    return -1;
  }
  snprintf(msg, msglen, "%d dead notification%s requeued", n, n == 1 ? "" : "s");
  count_depth(now_ns());
  schedule_pump();
  return n;
}

void alert_stop(void) {
  if (A.running && A.n) {
    history_flush(A.h); /* writes the queued notifications and results */
    if (outbox_write_now(A.ob) != 0) LOG_WARN("alert: the last delivery results are not stored: "
                                              "those notifications will be sent again");
    history_set_hook(A.h, NULL);
  }
  A.running = false;
  sched_cancel_timer(A.tick);
  sched_cancel_timer(A.pump);
  for (int c = 0; A.ch && c < A.n; c++) {
    if (A.ch[c].opened) A.ch[c].sink.ops->close(&A.ch[c].sink);
    free(A.ch[c].batch);
  }
  free(A.ch);
  free(A.raised_note);
  outbox_free(A.ob);
  memset(&A, 0, sizeof A);
}
