/* The daemon's round (see round.h). */
#include "monitor/round.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/analysis.h"
#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "monitor/report.h"
#include "monitor/sources.h"

static struct analysis *analysis;
static struct analysis_source *inputs;
static struct analysis_source_stats *stats; /* [n_sources], published with the sources */
static int n_sources;
static struct history *history;
static struct clockmodel kept_clock; /* across a reload (round_stop/round_start) */
static bool have_kept_clock;
static round_alarm_fn *alarm_handler; /* set once by main; kept across reloads */
static void *alarm_ctx;

void round_on_alarm(round_alarm_fn *fn, void *ctx) {
  alarm_handler = fn;
  alarm_ctx = ctx;
}

static void publish_active_alarms(void);

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

void round_analysis_config(const struct vt_config *cfg, struct analysis_config *c) {
  analysis_config_default(c);
  c->vote.mode = cfg->vote_by_sources ? VOTE_MODE_SOURCES : VOTE_MODE_CLASSES;
  c->vote.minsources = cfg->minsources;
  c->vote.minclasses = cfg->minclasses;
  c->vote.maxdistance = cfg->maxdistance;
  c->alarm.clear_after = cfg->alarm_clear;
  c->clock.holdover = cfg->holdover;
  c->clock.holdover_margin = cfg->holdover_margin;
}

int round_start(const struct vt_config *cfg, struct history *h, char *err, size_t errlen) {
  struct analysis_config ac;
  round_analysis_config(cfg, &ac);
  history = h;
  n_sources = sources_count();
  int64_t max_id = history_max_alarm_id(h);
  analysis = analysis_new(n_sources, &ac, (uint64_t)(max_id > 0 ? max_id : 0) + 1);
  inputs = calloc((size_t)n_sources + 1, sizeof *inputs);
  stats = calloc((size_t)n_sources + 1, sizeof *stats);
  if (!analysis || !inputs || !stats) {
    snprintf(err, errlen, "out of memory for the analysis of %d sources", n_sources);
    round_stop();
    return -1;
  }
  if (have_kept_clock) analysis_restore_clock(analysis, &kept_clock);
  struct vote_report none;
  memset(&none, 0, sizeof none);
  report_publish_vote(&none);
  struct timespec rt = sched_real_now();
  double now = timespec_seconds(rt);
  history_each_open_alarm(h, restore_alarm, &now);
  publish_active_alarms();
  return 0;
}

void round_stop(void) {
  if (analysis) {
    kept_clock = *analysis_clock(analysis);
    have_kept_clock = true;
  }
  analysis_free(analysis);
  analysis = NULL;
  free(inputs);
  inputs = NULL;
  free(stats);
  stats = NULL;
  n_sources = 0;
  publish_active_alarms();
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

static void record_vote(int64_t now_ns, const struct vote_verdict *v, double local_freq_ppm) {
  struct history_vote hv = {
      .time_ns = now_ns, .vetted = v->vetted, .offset = v->offset, .error = v->error,
      .low = v->low, .high = v->high, .candidates = v->candidates, .agreeing = v->agreeing,
      .classes = v->classes, .agreeing_classes = v->agreeing_classes,
      .best_source_id = v->best >= 0 ? subject_db_id(v->best) : 0,
      .stratum = v->stratum, .leap = v->leap};
  snprintf(hv.why_not, sizeof hv.why_not, "%s", v->why_not);
  history_add_vote(history, &hv);
  struct vote_report r = {.valid = true, .time_ns = now_ns, .verdict = *v,
                          .local_freq_ppm = local_freq_ppm};
  snprintf(r.best_name, sizeof r.best_name, "%s", v->best >= 0 ? subject_name(v->best) : "");
  report_publish_vote(&r);
}

static void record_event(const struct vt_event *e) {
  struct history_event he = {.time_ns = e->time_ns, .ended = e->ended,
                             .source_id = subject_db_id(e->source),
                             .value = e->value, .threshold = e->threshold};
  snprintf(he.kind, sizeof he.kind, "%s", event_kind_name(e->kind));
  snprintf(he.ref_class, sizeof he.ref_class, "%s", class_text(e->ref_class));
  snprintf(he.text, sizeof he.text, "%s", e->text);
  history_add_event(history, &he);

  struct event_report r = {.event = *e};
  snprintf(r.source_name, sizeof r.source_name, "%s", subject_name(e->source));
  report_publish_event(&r);
  LOG_INFO("event %s%s %s: %s", event_kind_name(e->kind), e->ended ? " ended" : "",
           e->source >= 0 ? subject_name(e->source) : "system", e->text);
}

/* A raised alarm is logged at its severity's level: critical as an error,
 * warning as a warning, info as info. */
static enum log_level alarm_log_level(enum alarm_severity s) {
  switch (s) {
  case SEV_CRITICAL: return LOG_LVL_ERROR;
  case SEV_WARNING: return LOG_LVL_WARN;
  default: return LOG_LVL_INFO;
  }
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
  /* alerting: its notifications go out with the same flush as the row */
  if (alarm_handler) alarm_handler(alarm_ctx, t, subject_name(a->source));

  char line[400];
  alarm_format_line(t, subject_name(a->source), line, sizeof line);
  if (t->raised) log_msg(alarm_log_level(a->severity), "%s", line);
  else LOG_INFO("%s", line);
  if (t->raised) return;
  struct alarm_report r = {.alarm = *a};
  snprintf(r.source_name, sizeof r.source_name, "%s", subject_name(a->source));
  snprintf(r.line, sizeof r.line, "%s", line);
  report_publish_cleared_alarm(&r);
}

/* The alarms raised now, newest first, each with the line of its raise. */
static void publish_active_alarms(void) {
  static struct alarm active[REPORT_ALARMS_MAX];
  static struct alarm_report out[REPORT_ALARMS_MAX];
  int k = analysis ? analysis_active_alarms(analysis, active, REPORT_ALARMS_MAX) : 0;
  for (int i = k - 1, n = 0; i >= 0; i--, n++) {
    memset(&out[n], 0, sizeof out[n]);
    out[n].alarm = active[i];
    snprintf(out[n].source_name, sizeof out[n].source_name, "%s", subject_name(active[i].source));
    struct alarm_transition t = {true, active[i]};
    alarm_format_line(&t, out[n].source_name, out[n].line, sizeof out[n].line);
  }
  report_publish_active_alarms(out, k);
}

/* The clock model for the NTP server, moved onto CLOCK_MONOTONIC with the
 * two clocks read together now (clockmodel.h says why). */
static void publish_clock(const struct clockmodel_out *o) {
  struct timespec real, mono;
  struct clock_snapshot snap;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_snapshot_make(o, (int64_t)real.tv_sec * 1000000000 + real.tv_nsec,
                      (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec, &snap);
  report_publish_clock(&snap);
  if (o->changed)
    LOG_INFO("clock model: %s", clock_state_name(o->state));
}

/* The vote and the source table are published before the events and
 * alarms, so that an alarm's handler (alerting's evidence) reads this
 * round's vote and sources. */
void round_run(double local_step) {
  if (!analysis) return;
  struct timespec rt = sched_real_now();
  double now = timespec_seconds(rt);
  int64_t now_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
  sources_collect(inputs, now);
  const struct analysis_result *last = analysis_round(analysis, now, local_step, inputs);
  record_vote(now_ns, &last->verdict, last->local_freq_ppm);
  for (int i = 0; i < n_sources; i++) analysis_source_stats(analysis, i, now, &stats[i]);
  sources_publish(last->per_source, stats);
  publish_clock(&last->clock);
  for (int i = 0; i < last->n_events; i++) record_event(&last->events[i]);
  for (int i = 0; i < last->n_transitions; i++) record_alarm(&last->transitions[i]);
  publish_active_alarms();
}
