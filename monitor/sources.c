/* The source table (see sources.h); publishes its reports (report.h). */
#include "monitor/sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "lib/version.h"
#include "monitor/analysis.h"
#include "monitor/report.h"
#include "probes/probe.h"

struct source {
  struct source_config cfg;
  const struct probe_ops *ops;
  struct probe *probe;
  int64_t db_ref;               /* its history_source_ref() */
  enum ref_class stored_class;  /* the class last given to the history */
  struct vt_sample latest;      /* the newest sample */
  bool fresh;                   /* latest arrived since the last round */
  char detail[200];             /* the probe's health text, for the round */
};

static struct source *table;
static struct source_report *reports; /* [n_sources]: what is published */
static int n_sources;
static struct history *history;
static char database_path[4096];
static double started_mono;

static enum ref_class effective_class(const struct source *s) {
  if (s->cfg.class_set) return s->cfg.ref_class;
  struct probe_report r;
  s->ops->report(s->probe, &r);
  return r.inferred_class;
}

/* The history names each source; its class follows what the refid says
 * unless the configuration fixed it. No SQL runs here: the history writes
 * the source's row with its next flush, so a locked database delays it and
 * never costs a sample (issue 13). */
static void store_source(struct source *s, enum ref_class c) {
  const char *cname = c == CLASS_UNKNOWN ? NULL : ref_class_name(c);
  s->db_ref = history_source_ref(history, s->cfg.name, source_kind_name(s->cfg.kind), cname);
  s->stored_class = c;
}

static void on_sample(void *ctx, const struct vt_sample *sample) {
  struct source *s = ctx;
  enum ref_class c = effective_class(s);
  if (c != s->stored_class) store_source(s, c);
  history_add_sample(history, s->db_ref, sample);
  s->latest = *sample;
  s->fresh = true;
}

int sources_start(const struct vt_config *cfg, const struct keyring *keys,
                  struct history *h, char *err, size_t errlen) {
  table = calloc((size_t)cfg->n_sources + 1, sizeof *table);
  reports = calloc((size_t)cfg->n_sources + 1, sizeof *reports);
  if (!table || !reports) {
    free(table);
    free(reports);
    table = NULL;
    reports = NULL;
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  history = h;
  snprintf(database_path, sizeof database_path, "%s", cfg->database);
  started_mono = sched_mono_now();
  for (int i = 0; i < cfg->n_sources; i++) {
    struct source *s = &table[i];
    s->cfg = cfg->sources[i];
    s->ops = probe_ops_for_kind(s->cfg.kind);
    s->stored_class = s->cfg.class_set ? s->cfg.ref_class : CLASS_UNKNOWN;
    store_source(s, s->stored_class);
    struct probe_host host = {on_sample, s, keys, cfg->maxdistance, cfg->nts_trust,
                              cfg->n_nts_trust};
    char msg[400];
    s->probe = s->ops ? s->ops->start(&s->cfg, i, &host, msg, sizeof msg) : NULL;
    if (!s->probe) {
      snprintf(err, errlen, "%s:%d: %s", cfg->path, s->cfg.line, s->ops ? msg : "no driver");
      n_sources = i;
      sources_stop();
      return -1;
    }
    n_sources = i + 1;
  }
  sources_publish(NULL, NULL);
  return 0;
}

void sources_stop(void) {
  for (int i = 0; i < n_sources; i++) table[i].ops->stop(table[i].probe);
  free(table);
  table = NULL;
  n_sources = 0;
  sources_publish(NULL, NULL);
  free(reports);
  reports = NULL;
}

/* ---- the round's view ---- */

int sources_count(void) { return n_sources; }

const char *sources_name(int i) { return table[i].cfg.name; }

int64_t sources_db_id(int i) { return table[i].db_ref; }

unsigned sources_vote_flags(int i) {
  const struct source_config *c = &table[i].cfg;
  return (c->trust ? VOTE_F_TRUST : 0) | (c->require ? VOTE_F_REQUIRE : 0) |
         (c->noselect ? VOTE_F_NOSELECT : 0) | (c->prefer ? VOTE_F_PREFER : 0);
}

/* A sample is stale when four poll intervals (and 5 s) passed without a new
 * one: the reach register says the same more slowly. */
static bool is_stale(const struct probe_report *r, double now) {
  return now - timespec_seconds(r->last_rx) > 4 * ldexp(1.0, r->poll) + 5;
}

static void collect_one(struct source *s, int i, double now, struct analysis_source *out) {
  struct probe_report r;
  s->ops->report(s->probe, &r);
  memset(out, 0, sizeof *out);
  out->vote = (struct vote_input){
      .ref_class = effective_class(s), .flags = sources_vote_flags(i),
      .have_sample = r.have_sample, .reachable = r.reach != 0,
      .stale = r.have_sample && is_stale(&r, now), .offset = s->latest.offset,
      .error = s->latest.error_bound, .stratum = r.stratum, .leap = s->latest.leap};
  out->new_sample = s->fresh;
  out->sample_time = timespec_seconds(s->latest.rx_time);
  out->sample_offset = s->latest.offset;
  out->sample_error = s->latest.error_bound;
  out->stratum = r.stratum;
  out->refid = r.refid;
  out->reach = r.reach;
  out->kod = r.counters[PC_KOD];
  if (strcmp(r.state, "rate") == 0 || strcmp(r.state, "denied") == 0 ||
      strncmp(r.state, "kod-", 4) == 0)
    snprintf(out->kiss, sizeof out->kiss, "%s", r.state);
  out->auth_fail = r.counters[PC_AUTH_FAIL] + r.counters[PC_CRYPTO_NAK];
  out->auth_failing = strcmp(r.state, "auth-fail") == 0;
  out->degraded = r.counters[PC_DEGRADED];
  out->jumps = r.counters[PC_JUMPS];
  out->last_jump = r.last_jump;
  out->peer_ipv4 = r.peer_ipv4;
  snprintf(s->detail, sizeof s->detail, "%s", r.detail);
  out->detail = s->detail;
  s->fresh = false;
}

void sources_collect(struct analysis_source *out, double now) {
  for (int i = 0; i < n_sources; i++) collect_one(&table[i], i, now, &out[i]);
}

/* ---- publishing (report.h) ---- */

static void fill_stats(const struct analysis_source_stats *st, struct source_report *r) {
  r->have_stats = true;
  r->stats.samples = st->samples;
  r->stats.offset = st->offset;
  r->stats.sd = st->sd;
  r->stats.jitter = st->jitter;
  r->stats.freq_ppm = st->freq_ppm;
}

static void fill_report(int i, const struct vote_source_result *votes,
                        const struct analysis_source_stats *stats, struct source_report *r) {
  const struct source *s = &table[i];
  memset(r, 0, sizeof *r);
  r->index = i;
  snprintf(r->name, sizeof r->name, "%s", s->cfg.name);
  snprintf(r->address, sizeof r->address, "%s", s->cfg.address);
  snprintf(r->kind, sizeof r->kind, "%s", source_kind_name(s->cfg.kind));
  s->ops->report(s->probe, &r->probe);
  r->class_configured = s->cfg.class_set;
  r->ref_class = s->cfg.class_set ? s->cfg.ref_class : r->probe.inferred_class;
  r->noselect = s->cfg.noselect;
  if (s->cfg.kind == SOURCE_NTP) {
    if (s->cfg.nts) snprintf(r->auth, sizeof r->auth, "nts");
    else if (s->cfg.has_key) snprintf(r->auth, sizeof r->auth, "key %u", (unsigned)s->cfg.key_id);
    else snprintf(r->auth, sizeof r->auth, "none");
  }
  r->vote_flags = sources_vote_flags(i);
  if (stats) fill_stats(&stats[i], r);
  r->voted = votes != NULL;
  if (!r->voted) return;
  r->vote_state = votes[i].state;
  snprintf(r->vote_why, sizeof r->vote_why, "%s", votes[i].why);
}

void sources_publish(const struct vote_source_result *votes,
                     const struct analysis_source_stats *stats) {
  struct status_report st;
  memset(&st, 0, sizeof st);
  snprintf(st.version, sizeof st.version, "%s", VT_VERSION);
  st.uptime = sched_mono_now() - started_mono;
  st.sources = n_sources;
  for (int i = 0; i < n_sources; i++) {
    fill_report(i, votes, stats, &reports[i]);
    if (reports[i].probe.reach) st.reachable++;
    if (reports[i].probe.have_sample) st.with_sample++;
    if (strcmp(reports[i].auth, "none") == 0) {
      size_t used = strlen(st.unauthenticated_names), need = strlen(reports[i].name) + 1;
      if (used + need < sizeof st.unauthenticated_names)
        snprintf(st.unauthenticated_names + used, sizeof st.unauthenticated_names - used, "%s\n",
                 reports[i].name);
      st.unauthenticated++;
    }
  }
  snprintf(st.database, sizeof st.database, "%s", database_path);
  report_publish_sources(reports, n_sources, &st);
}
