/* VETTIME-MIB's polled objects from the reports (see agentx_mib.h). */
#include "snmp/agentx_mib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "monitor/alarms.h"
#include "monitor/clockmodel.h"
#include "monitor/vote.h"
#include "probes/refclass.h"

long agx_ns_integer32(double s) {
  if (isnan(s)) return 0;
  double ns = s * 1e9;
  if (ns >= 2147483647.0) return 2147483647L;
  if (ns <= -2147483648.0) return -2147483647L - 1;
  return lround(ns);
}

long agx_ns_gauge32(double s) {
  if (isnan(s) || s <= 0) return 0;
  double ns = s * 1e9;
  return ns >= 4294967295.0 ? 4294967295L : lround(ns);
}

/* %.9f keeps nanoseconds, which is what every sample resolves; a larger
 * figure keeps its integer part whole. */
void agx_decimal(double s, bool sign, char *buf, size_t cap) {
  if (!isfinite(s)) {
    snprintf(buf, cap, "%s", "");
    return;
  }
  snprintf(buf, cap, sign ? "%+.9f" : "%.9f", s);
}

static void number(struct agx_value *o, enum agx_type t, long v) {
  o->type = t;
  o->number = v;
  o->text[0] = '\0';
}

static void text(struct agx_value *o, const char *s, size_t max) {
  o->type = AGX_STRING;
  o->number = 0;
  snprintf(o->text, sizeof o->text, "%.*s", (int)(max < sizeof o->text ? max : sizeof o->text - 1), s);
}

static int open_alarms(const struct agx_view *v, bool critical_only) {
  int n = 0;
  for (int i = 0; i < v->n_alarms; i++)
    n += v->alarms[i].alarm.active && (!critical_only || v->alarms[i].alarm.severity == SEV_CRITICAL);
  return n;
}

static void class_names(unsigned mask, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (int c = 0; c < CLASS_COUNT; c++)
    if (mask & (1u << c))
      len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "",
                              ref_class_name((enum ref_class)c));
}

/* The figures of the vote exist while it vets the time. */
static bool vote_scalar(const struct agx_view *v, int s, struct agx_value *o) {
  bool valid = v->vote && v->vote->valid;
  const struct vote_verdict *d = valid ? &v->vote->verdict : NULL;
  bool vetted = d && d->vetted;
  switch (s) {
  case AGX_VETTED: number(o, AGX_INTEGER, vetted ? 1 : 2); return true; /* TruthValue */
  case AGX_VETTED_OFFSET_NS:
    if (!vetted) return false;
    number(o, AGX_INTEGER, agx_ns_integer32(d->offset));
    return true;
  case AGX_VETTED_BOUND_NS:
    if (!vetted) return false;
    number(o, AGX_GAUGE, agx_ns_gauge32(d->error));
    return true;
  case AGX_VETTED_OFFSET:
  case AGX_VETTED_BOUND:
    o->type = AGX_STRING;
    o->text[0] = '\0';
    if (vetted && s == AGX_VETTED_OFFSET) agx_decimal(d->offset, true, o->text, sizeof o->text);
    if (vetted && s == AGX_VETTED_BOUND) agx_decimal(d->error, false, o->text, sizeof o->text);
    return true;
  case AGX_WHY_NOT_VETTED:
    text(o, !valid ? "no vote round yet" : vetted ? "" : d->why_not, sizeof d->why_not);
    return true;
  case AGX_CANDIDATE_SOURCES: number(o, AGX_GAUGE, d ? d->candidates : 0); return true;
  case AGX_AGREEING_SOURCES: number(o, AGX_GAUGE, d ? d->agreeing : 0); return true;
  case AGX_CLASSES: number(o, AGX_GAUGE, d ? d->classes : 0); return true;
  case AGX_AGREEING_CLASSES: number(o, AGX_GAUGE, d ? d->agreeing_classes : 0); return true;
  case AGX_AGREEING_CLASS_NAMES:
    o->type = AGX_STRING;
    class_names(d ? d->class_mask : 0, o->text, sizeof o->text);
    return true;
  default: return false;
  }
}

bool agx_scalar(const struct agx_view *v, int s, struct agx_value *o) {
  switch (s) {
  case AGX_OPEN_ALARMS: number(o, AGX_GAUGE, open_alarms(v, false)); return true;
  case AGX_OPEN_CRITICAL: number(o, AGX_GAUGE, open_alarms(v, true)); return true;
  case AGX_CLOCK_STATE: {
    enum clock_state c = v->clock ? v->clock->state : CLOCK_REFUSING;
    number(o, AGX_INTEGER, c == CLOCK_SERVING ? 1 : c == CLOCK_HOLDOVER ? 2 : 3);
    return true;
  }
  case AGX_OUTBOX_PENDING:
    if (!v->outbox || !v->outbox->valid) return false;
    number(o, AGX_GAUGE, v->outbox->pending < 0 ? 0 : v->outbox->pending);
    return true;
  case AGX_SERVER_REQUESTS:
  case AGX_SERVER_ANSWERED:
  case AGX_SERVER_DROPPED:
    if (!v->serve) return false;
    o->type = AGX_COUNTER64;
    o->counter = s == AGX_SERVER_REQUESTS   ? v->serve->counters[SC_RECEIVED]
                 : s == AGX_SERVER_ANSWERED ? v->serve->counters[SC_ANSWERED]
                                            : v->serve->dropped;
    return true;
  default: return vote_scalar(v, s, o);
  }
}

static bool sample_cell(const struct source_report *r, int col, struct agx_value *o) {
  const struct probe_report *p = &r->probe;
  switch (col) {
  case AGX_COL_OFFSET_NS:
    if (!p->have_sample) return false;
    number(o, AGX_INTEGER, agx_ns_integer32(p->last.offset));
    return true;
  case AGX_COL_BOUND_NS:
    if (!p->have_sample) return false;
    number(o, AGX_GAUGE, agx_ns_gauge32(p->last.error_bound));
    return true;
  case AGX_COL_OFFSET:
    o->type = AGX_STRING;
    o->text[0] = '\0';
    if (p->have_sample) agx_decimal(p->last.offset, true, o->text, sizeof o->text);
    return true;
  case AGX_COL_STRATUM:
    if (p->stratum < 0) return false;
    number(o, AGX_INTEGER, p->stratum);
    return true;
  case AGX_COL_REACH: number(o, AGX_GAUGE, (long)(p->reach & 0xff)); return true;
  default: return false;
  }
}

bool agx_cell(const struct agx_view *v, int col, long row, struct agx_value *o) {
  if (row < 1 || row > v->n_sources) return false;
  const struct source_report *r = &v->sources[row - 1];
  switch (col) {
  case AGX_COL_NAME: text(o, r->name, sizeof r->name); return true;
  case AGX_COL_KIND: text(o, r->kind, sizeof r->kind); return true;
  case AGX_COL_CLASS: text(o, ref_class_name(r->ref_class), 8); return true;
  case AGX_COL_STATE: text(o, r->probe.state, sizeof r->probe.state); return true;
  case AGX_COL_VOTE_STATE:
    if (!r->voted || r->vote_state < 0 || r->vote_state >= SS_STATE_COUNT) return false;
    number(o, AGX_INTEGER, (long)r->vote_state + 1);
    return true;
  default: return sample_cell(r, col, o);
  }
}
