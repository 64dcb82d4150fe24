/* The daemon's round (see round.h). */
#include "monitor/round.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting/alert.h" /* alerting */
#include "monitor/analysis.h"
#include "lib/log.h"
#include "lib/sched.h"
#include "monitor/sources.h"

#define RECENT_CLEARED 64

static struct analysis *analysis;
static struct analysis_source *inputs;
static const struct analysis_result *last;
static int n_sources;
static struct history *history;
static struct vote_report vote_snapshot;
static struct event_report events[REPORT_EVENTS_MAX]; /* ring */
static int events_head, events_len;
static struct alarm_report cleared[RECENT_CLEARED];   /* ring */
static int cleared_head, cleared_len;

/* An alarm the previous run left open: back into the table under the
 * source's current index (by name), so that it clears, once, when its
 * condition is gone. Alarms of sources no longer configured are closed. */
static void restore_alarm(void *ctx, const struct history_alarm *ha, const char *name) {
  double now = *(const double *)ctx;
  struct alarm a = {.id = ha->id, .source = SUBJECT_SYSTEM, .raised_ns = ha->raised_ns,
                    .value = ha->value, .threshold = ha->threshold, .repeats = ha->repeats,
                    .active = true};
  enum event_kind kind;
  if (event_kind_parse(ha->kind, &kind)) return;
  a.kind = kind;
  a.severity = alarm_default_severity(kind);
  if (ha->ref_class[0]) ref_class_parse(ha->ref_class, &a.ref_class);
  snprintf(a.text, sizeof a.text, "%s", ha->text);
  for (int i = 0; name[0] && i < n_sources; i++)
    if (strcmp(sources_name(i), name) == 0) a.source = i;
  if (name[0] && a.source == SUBJECT_SYSTEM) {
    struct history_alarm closed = *ha;
    closed.cleared_ns = (int64_t)(now * 1e9);
    history_add_alarm(history, &closed);
    LOG_INFO("alarm %llu closed: its source %s is no longer configured",
             (unsigned long long)ha->id, name);
    return;
  }
  analysis_restore_alarm(analysis, &a, now);
  LOG_INFO("alarm %llu (%s %s) is still open from the previous run",
           (unsigned long long)ha->id, ha->kind, name[0] ? name : "system");
}

int round_start(const struct vt_config *cfg, struct history *h, char *err, size_t errlen) {
  struct analysis_config ac;
  analysis_config_from(cfg, &ac);
  history = h;
  n_sources = sources_count();
  int64_t max_id = history_max_alarm_id(h);
  analysis = analysis_new(n_sources, &ac, (uint64_t)(max_id > 0 ? max_id : 0) + 1);
  inputs = calloc((size_t)n_sources + 1, sizeof *inputs);
  if (!analysis || !inputs) {
    snprintf(err, errlen, "out of memory for the analysis of %d sources", n_sources);
    round_stop();
    return -1;
  }
  memset(&vote_snapshot, 0, sizeof vote_snapshot);
  last = NULL;
  struct timespec rt = sched_real_now();
  double now = rt.tv_sec + rt.tv_nsec * 1e-9;
  history_each_open_alarm(h, restore_alarm, &now);
  return 0;
}

void round_stop(void) {
  analysis_free(analysis);
  analysis = NULL;
  free(inputs);
  inputs = NULL;
  last = NULL;
  n_sources = 0;
}

static const char *subject_name(int source) {
  return source >= 0 && source < n_sources ? sources_name(source) : "";
}

static int64_t subject_db_id(int source) {
  return source >= 0 && source < n_sources ? sources_db_id(source) : 0;
}

static const char *class_text(enum ref_class c) {
  return c == CLASS_UNKNOWN ? "" : ref_class_name(c);
}

/* ---- history and snapshots ---- */

static void record_vote(int64_t now_ns, const struct vote_verdict *v) {
  struct history_vote hv = {
      .time_ns = now_ns, .vetted = v->vetted, .offset = v->offset, .error = v->error,
      .low = v->low, .high = v->high, .candidates = v->candidates, .agreeing = v->agreeing,
      .classes = v->classes, .agreeing_classes = v->agreeing_classes,
      .best_source_id = v->best >= 0 ? subject_db_id(v->best) : 0,
      .stratum = v->stratum, .leap = v->leap};
  snprintf(hv.why_not, sizeof hv.why_not, "%s", v->why_not);
  history_add_vote(history, &hv);
  vote_snapshot.valid = true;
  vote_snapshot.time_ns = now_ns;
  vote_snapshot.verdict = *v;
  snprintf(vote_snapshot.best_name, sizeof vote_snapshot.best_name, "%s",
           v->best >= 0 ? subject_name(v->best) : "");
}

static void record_event(const struct vt_event *e) {
  struct history_event he = {.time_ns = e->time_ns, .ended = e->ended,
                             .source_id = subject_db_id(e->source),
                             .value = e->value, .threshold = e->threshold};
  snprintf(he.kind, sizeof he.kind, "%s", event_kind_name(e->kind));
  snprintf(he.ref_class, sizeof he.ref_class, "%s", class_text(e->ref_class));
  snprintf(he.text, sizeof he.text, "%s", e->text);
  history_add_event(history, &he);

  struct event_report *r = &events[(events_head + events_len) % REPORT_EVENTS_MAX];
  if (events_len == REPORT_EVENTS_MAX) events_head = (events_head + 1) % REPORT_EVENTS_MAX;
  else events_len++;
  r->event = *e;
  snprintf(r->source_name, sizeof r->source_name, "%s", subject_name(e->source));
  LOG_INFO("event %s%s %s: %s", event_kind_name(e->kind), e->ended ? " ended" : "",
           e->source >= 0 ? subject_name(e->source) : "system", e->text);
}

static void record_alarm(const struct alarm_transition *t) {
  const struct alarm *a = &t->alarm;
  struct history_alarm ha = {.id = a->id, .source_id = subject_db_id(a->source),
                             .raised_ns = a->raised_ns, .cleared_ns = t->raised ? 0 : a->cleared_ns,
                             .value = a->value, .threshold = a->threshold, .repeats = a->repeats};
  snprintf(ha.kind, sizeof ha.kind, "%s", event_kind_name(a->kind));
  snprintf(ha.ref_class, sizeof ha.ref_class, "%s", class_text(a->ref_class));
  snprintf(ha.severity, sizeof ha.severity, "%s", alarm_severity_name(a->severity));
  snprintf(ha.text, sizeof ha.text, "%s", a->text);
  history_add_alarm(history, &ha);
  alert_transition(t, subject_name(a->source)); /* alerting: same flush as the alarm row */

  char line[400];
  alarm_format_line(t, subject_name(a->source), line, sizeof line);
  if (t->raised) log_msg(a->severity == SEV_CRITICAL ? LOG_LVL_ERROR : LOG_LVL_WARN, "%s", line);
  else LOG_INFO("%s", line);
  if (t->raised) return;
  struct alarm_report *r = &cleared[(cleared_head + cleared_len) % RECENT_CLEARED];
  if (cleared_len == RECENT_CLEARED) cleared_head = (cleared_head + 1) % RECENT_CLEARED;
  else cleared_len++;
  r->alarm = *a;
  snprintf(r->source_name, sizeof r->source_name, "%s", subject_name(a->source));
  snprintf(r->line, sizeof r->line, "%s", line);
}

void round_run(double local_step) {
  if (!analysis) return;
  struct timespec rt = sched_real_now();
  double now = rt.tv_sec + rt.tv_nsec * 1e-9;
  int64_t now_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
  sources_collect(inputs, now);
  last = analysis_round(analysis, now, local_step, inputs);
  record_vote(now_ns, &last->verdict);
  vote_snapshot.local_freq_ppm = last->local_freq_ppm;
  for (int i = 0; i < last->n_events; i++) record_event(&last->events[i]);
  for (int i = 0; i < last->n_transitions; i++) record_alarm(&last->transitions[i]);
}

/* ---- reports ---- */

void round_fill_source_vote(int i, struct source_report *r) {
  r->voted = last != NULL && i < n_sources;
  if (!r->voted) return;
  r->vote_state = last->per_source[i].state;
  snprintf(r->vote_why, sizeof r->vote_why, "%s", last->per_source[i].why);
}

void report_vote(struct vote_report *out) { *out = vote_snapshot; }

int report_events(struct event_report *out, int max) {
  int n = events_len < max ? events_len : max;
  int skip = events_len - n;
  for (int i = 0; i < n; i++) out[i] = events[(events_head + skip + i) % REPORT_EVENTS_MAX];
  return n;
}

/* Active alarms (newest first), then the recently cleared (newest first). */
int report_alarms(struct alarm_report *out, int max) {
  int n = 0;
  if (analysis) {
    struct alarm active[REPORT_ALARMS_MAX];
    int k = analysis_active_alarms(analysis, active, REPORT_ALARMS_MAX);
    for (int i = k - 1; i >= 0 && n < max; i--, n++) {
      out[n].alarm = active[i];
      snprintf(out[n].source_name, sizeof out[n].source_name, "%s", subject_name(active[i].source));
      struct alarm_transition t = {true, active[i]};
      alarm_format_line(&t, out[n].source_name, out[n].line, sizeof out[n].line);
    }
  }
  for (int i = cleared_len - 1; i >= 0 && n < max; i--, n++)
    out[n] = cleared[(cleared_head + i) % RECENT_CLEARED];
  return n;
}
