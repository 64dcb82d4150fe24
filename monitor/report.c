/* The published snapshots (see report.h): what the daemon's state modules
 * last published, copied out to whoever asks. */
#include "monitor/report.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sched.h"

#define RECENT_CLEARED 64

static struct source_report *sources; /* [n_sources], owned */
static int n_sources;
static struct status_report status;   /* as published with the sources */
static double status_mono;            /* when it was published (monotonic s) */
static uint64_t samples_written, history_errors, history_buffered, history_dropped;
static int clock_steps;
static double last_clock_step;
static struct vote_report vote;
static struct outbox_report outbox;
static struct event_report events[REPORT_EVENTS_MAX]; /* ring */
static int events_head, events_len;
static struct alarm_report active[REPORT_ALARMS_MAX];
static int n_active;
static struct alarm_report cleared[RECENT_CLEARED];   /* ring */
static int cleared_head, cleared_len;

/* ---- reading ---- */

void report_status(struct status_report *out) {
  *out = status;
  out->now = sched_real_now();
  out->uptime = status.uptime + (sched_mono_now() - status_mono);
  out->samples_written = samples_written;
  out->history_errors = history_errors;
  out->history_buffered = history_buffered;
  out->history_dropped = history_dropped;
  out->clock_steps = clock_steps;
  out->last_clock_step = last_clock_step;
}

int report_sources(struct source_report *out, int max) {
  for (int i = 0; i < n_sources && i < max; i++) out[i] = sources[i];
  return n_sources;
}

void report_vote(struct vote_report *out) { *out = vote; }

void report_outbox(struct outbox_report *out) { *out = outbox; }

int report_events(struct event_report *out, int max) {
  int n = events_len < max ? events_len : max;
  int skip = events_len - n;
  for (int i = 0; i < n; i++) out[i] = events[(events_head + skip + i) % REPORT_EVENTS_MAX];
  return n;
}

/* Active alarms (newest first), then the recently cleared (newest first). */
int report_alarms(struct alarm_report *out, int max) {
  int n = 0;
  for (int i = 0; i < n_active && n < max; i++, n++) out[n] = active[i];
  for (int i = cleared_len - 1; i >= 0 && n < max; i--, n++)
    out[n] = cleared[(cleared_head + i) % RECENT_CLEARED];
  return n;
}

/* ---- publishing ---- */

void report_publish_sources(const struct source_report *r, int n,
                            const struct status_report *st) {
  if (n > n_sources || n == 0) {
    free(sources);
    sources = n > 0 ? malloc((size_t)n * sizeof *sources) : NULL;
  }
  n_sources = sources ? n : 0;
  if (n_sources) memcpy(sources, r, (size_t)n_sources * sizeof *sources);
  status = *st;
  status_mono = sched_mono_now();
}

void report_publish_vote(const struct vote_report *v) { vote = *v; }

/* The clock snapshot behind a sequence lock (one writer: the daemon's
 * loop). The writer makes the count odd, copies, makes it even; a reader
 * copies between two equal even counts. The copy is made word by word
 * through relaxed atomics, so the racing reads are defined behaviour. */
#define CLOCK_WORDS ((sizeof(struct clock_snapshot) + sizeof(uint64_t) - 1) / sizeof(uint64_t))
static _Atomic uint64_t clock_seq;
static _Atomic uint64_t clock_words[CLOCK_WORDS];

void report_publish_clock(const struct clock_snapshot *c) {
  uint64_t w[CLOCK_WORDS] = {0};
  memcpy(w, c, sizeof *c);
  uint64_t seq = atomic_load_explicit(&clock_seq, memory_order_relaxed);
  atomic_store_explicit(&clock_seq, seq + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  for (size_t i = 0; i < CLOCK_WORDS; i++)
    atomic_store_explicit(&clock_words[i], w[i], memory_order_relaxed);
  atomic_store_explicit(&clock_seq, seq + 2, memory_order_release);
}

void report_clock(struct clock_snapshot *out) {
  uint64_t w[CLOCK_WORDS], before, after;
  do {
    before = atomic_load_explicit(&clock_seq, memory_order_acquire);
    for (size_t i = 0; i < CLOCK_WORDS; i++)
      w[i] = atomic_load_explicit(&clock_words[i], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    after = atomic_load_explicit(&clock_seq, memory_order_relaxed);
  } while (before != after || (before & 1));
  if (before == 0) { /* never published */
    memset(out, 0, sizeof *out);
    out->state = CLOCK_REFUSING;
    out->stratum = 16;
    out->leap = 3;
    return;
  }
  memcpy(out, w, sizeof *out);
}

void report_publish_event(const struct event_report *e) {
  struct event_report *r = &events[(events_head + events_len) % REPORT_EVENTS_MAX];
  if (events_len == REPORT_EVENTS_MAX) events_head = (events_head + 1) % REPORT_EVENTS_MAX;
  else events_len++;
  *r = *e;
}

void report_publish_active_alarms(const struct alarm_report *a, int n) {
  n_active = n < REPORT_ALARMS_MAX ? n : REPORT_ALARMS_MAX;
  for (int i = 0; i < n_active; i++) active[i] = a[i];
}

void report_publish_cleared_alarm(const struct alarm_report *a) {
  struct alarm_report *r = &cleared[(cleared_head + cleared_len) % RECENT_CLEARED];
  if (cleared_len == RECENT_CLEARED) cleared_head = (cleared_head + 1) % RECENT_CLEARED;
  else cleared_len++;
  *r = *a;
}

void report_publish_history(uint64_t written, uint64_t errors, uint64_t buffered,
                            uint64_t dropped) {
  samples_written = written;
  history_errors = errors;
  history_buffered = buffered;
  history_dropped = dropped;
}

void report_publish_outbox(const struct outbox_report *o) { outbox = *o; }

void report_publish_clock_step(double step) {
  clock_steps++;
  last_clock_step = step;
}

/* ---- the NTP server's counters ---- */

static _Atomic uint64_t serve_counters[SC_COUNT];
static _Atomic int serve_sockets;

const char *serve_counter_name(enum serve_counter c) {
  static const char *const names[SC_COUNT] = {
      "received", "answered", "auth_ok", "crypto_nak", "kod", "short", "malformed",
      "version", "control", "mode", "auth", "acl", "rate", "send_errors",
      "nts_answered", "nts_nak", "nts_unknown_key", "nts_malformed", "nts_ke_sessions",
      "nts_ke_failed", "nts_ke_refused",
  };
  return (unsigned)c < SC_COUNT ? names[c] : "?";
}

void report_publish_serve_state(bool enabled, int sockets) {
  atomic_store_explicit(&serve_sockets, enabled ? sockets : 0, memory_order_relaxed);
}

void report_serve_add(const uint64_t delta[SC_COUNT]) {
  for (int i = 0; i < SC_COUNT; i++)
    if (delta[i]) atomic_fetch_add_explicit(&serve_counters[i], delta[i], memory_order_relaxed);
}

void report_serve(struct serve_report *out) {
  memset(out, 0, sizeof *out);
  out->sockets = atomic_load_explicit(&serve_sockets, memory_order_relaxed);
  out->enabled = out->sockets > 0;
  for (int i = 0; i < SC_COUNT; i++) {
    out->counters[i] = atomic_load_explicit(&serve_counters[i], memory_order_relaxed);
    if ((i >= SC_DROP_SHORT && i <= SC_DROP_RATE) || i == SC_DROP_NTS)
      out->dropped += out->counters[i];
  }
  struct clock_snapshot c;
  report_clock(&c);
  struct timespec m, r;
  clock_gettime(CLOCK_MONOTONIC, &m);
  clock_gettime(CLOCK_REALTIME, &r);
  struct served_time st;
  clock_serve_at(&c, (int64_t)m.tv_sec * 1000000000 + m.tv_nsec,
                 (int64_t)r.tv_sec * 1000000000 + r.tv_nsec, &st);
  out->state = st.refusing ? CLOCK_REFUSING : c.state;
  out->holdover_since = out->state == CLOCK_HOLDOVER ? c.holdover_since : 0;
  out->stratum = st.refusing ? 16 : st.stratum;
  out->error = st.error;
}
