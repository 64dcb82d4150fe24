/* The alarm table (alarms.h): conditions in, raise/clear transitions out,
 * with hysteresis. Conditions live in a fixed array of ALARMS_MAX slots
 * allocated once by alarms_new; a slot is PENDING while its condition has
 * not yet held raise_after rounds, ACTIVE once raised, and freed when the
 * condition has been absent for clear_after seconds (an ACTIVE slot emits
 * its clear then). Lookups are linear: a round carries tens of conditions,
 * and a few thousand at worst still cost well under a millisecond. */
#include "monitor/alarms.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_ACTIVE };

struct slot {
  enum slot_state state;
  struct alarm a;  /* kind, source, ref_class are the key; last_seen_ns always set */
  int held;        /* PENDING: rounds held since it was first seen */
  bool seen;       /* held in the current round */
  bool was_seen;   /* held in the previous round */
};

struct alarm_table {
  struct alarm_policy p;
  uint64_t next_id;
  unsigned long dropped;
  int used;                 /* slots [0, used) are in use (compacted each round) */
  struct slot s[ALARMS_MAX];
};

const char *alarm_severity_name(enum alarm_severity s) {
  static const char *const names[] = {"info", "warning", "critical"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

enum alarm_severity alarm_default_severity(enum event_kind k) {
  switch (k) {
  case EV_QUORUM_LOST: case EV_FALSETICKER: case EV_DATE_FAR: case EV_LOCAL_STEP:
  case EV_WITNESS: case EV_REFUSING:
    return SEV_CRITICAL;
  case EV_REFID_CHANGE:
    return SEV_INFO;
  default:
    return SEV_WARNING;
  }
}

bool alarm_kind_is_pulse(enum event_kind k) {
  switch (k) {
  case EV_STEP: case EV_LOCAL_STEP:
  case EV_DATE_FAR: case EV_STRATUM_CHANGE: case EV_REFID_CHANGE: case EV_DEGRADED:
  case EV_WITNESS:
    return true;
  default:
    return false;
  }
}

void alarm_policy_default(struct alarm_policy *p) {
  *p = (struct alarm_policy){.clear_after = 60.0, .raise_after = 2};
}

struct alarm_table *alarms_new(const struct alarm_policy *p, uint64_t first_id) {
  struct alarm_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (p) t->p = *p;
  else alarm_policy_default(&t->p);
  t->next_id = first_id;
  return t;
}

void alarms_free(struct alarm_table *t) { free(t); }

unsigned long alarms_dropped(const struct alarm_table *t) { return t->dropped; }

/* ------------------------------------------------------------------ */
/* One round                                                           */

static bool same_key(const struct alarm *a, const struct vt_condition *c) {
  return a->kind == c->kind && a->source == c->source && a->ref_class == c->ref_class;
}

static struct slot *find_slot(struct alarm_table *t, const struct vt_condition *c) {
  for (int i = 0; i < t->used; i++)
    if (same_key(&t->s[i].a, c)) return &t->s[i];
  return NULL;
}

static struct slot *new_slot(struct alarm_table *t, const struct vt_condition *c) {
  if (t->used == ALARMS_MAX) {
    t->dropped++;
    return NULL;
  }
  struct slot *s = &t->s[t->used++];
  memset(s, 0, sizeof *s);
  s->state = SLOT_PENDING;
  s->a.kind = c->kind;
  s->a.source = c->source;
  s->a.ref_class = c->ref_class;
  s->a.severity = alarm_default_severity(c->kind);
  return s;
}

static int raise_after(const struct alarm_table *t, enum event_kind k) {
  if (alarm_kind_is_pulse(k) || t->p.raise_after < 1) return 1;
  return t->p.raise_after;
}

static int64_t clear_after_ns(const struct alarm_table *t) {
  return t->p.clear_after > 0 ? (int64_t)(t->p.clear_after * 1e9) : 0;
}

static void raise_alarm(struct alarm_table *t, struct slot *s, int64_t now,
                        const struct vt_condition *c, struct alarm_transition *tr) {
  s->state = SLOT_ACTIVE;
  s->a.id = t->next_id++;
  s->a.active = true;
  s->a.raised_ns = now;
  s->a.cleared_ns = 0;
  s->a.value = c->value;
  s->a.threshold = c->threshold;
  snprintf(s->a.text, sizeof s->a.text, "%.*s", (int)sizeof c->text - 1, c->text);
  s->a.repeats = 0;
  *tr = (struct alarm_transition){.raised = true, .alarm = s->a};
}

/* A condition holding now: count it, raise it when it has held enough. */
static void note_condition(struct alarm_table *t, int64_t now, const struct vt_condition *c,
                           struct alarm_transition *out, int max, int *nout) {
  struct slot *s = find_slot(t, c);
  if (!s && !(s = new_slot(t, c))) return;
  if (s->seen) return; /* the same key twice in one round */
  s->seen = true;
  s->a.last_seen_ns = now;
  if (s->state == SLOT_ACTIVE) {
    if (!s->was_seen) s->a.repeats++;
    return;
  }
  if (++s->held >= raise_after(t, c->kind) && *nout < max)
    raise_alarm(t, s, now, c, &out[(*nout)++]);
}

/* A slot whose condition is absent: forget a pending one, clear a raised
 * one, once it has been absent for clear_after. */
static void note_absence(struct alarm_table *t, struct slot *s, int64_t now,
                         struct alarm_transition *out, int max, int *nout) {
  if (now - s->a.last_seen_ns < clear_after_ns(t)) return;
  if (s->state == SLOT_ACTIVE) {
    if (*nout >= max) return; /* retried next round */
    s->a.active = false;
    s->a.cleared_ns = now;
    out[(*nout)++] = (struct alarm_transition){.raised = false, .alarm = s->a};
  }
  s->state = SLOT_FREE;
}

/* Removes freed slots, moving the last slot into each hole. */
static void compact(struct alarm_table *t) {
  for (int i = 0; i < t->used;) {
    if (t->s[i].state != SLOT_FREE) { i++; continue; }
    t->s[i] = t->s[--t->used];
  }
}

int alarms_update(struct alarm_table *t, int64_t now_ns, const struct vt_condition *conds,
                  int n, struct alarm_transition *out, int max) {
  int nout = 0;
  for (int i = 0; i < t->used; i++) {
    t->s[i].was_seen = t->s[i].seen;
    t->s[i].seen = false;
  }
  for (int k = 0; k < n; k++) note_condition(t, now_ns, &conds[k], out, max, &nout);
  for (int i = 0; i < t->used; i++)
    if (!t->s[i].seen) note_absence(t, &t->s[i], now_ns, out, max, &nout);
  compact(t);
  return nout;
}

int alarms_restore(struct alarm_table *t, const struct alarm *a, int64_t now_ns) {
  struct vt_condition c = {.kind = a->kind, .source = a->source, .ref_class = a->ref_class};
  struct slot *s = find_slot(t, &c);
  if (!s && !(s = new_slot(t, &c))) return -1;
  s->state = SLOT_ACTIVE;
  s->a = *a;
  s->a.active = true;
  s->a.cleared_ns = 0;
  s->a.last_seen_ns = now_ns;
  s->seen = true; /* a condition holding again next round is no repeat */
  if (a->id >= t->next_id) t->next_id = a->id + 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */

/* Heapsort of slot indices by alarm id (ids are unique). */
static void sift_ids(const struct alarm_table *t, int *idx, int root, int n) {
  for (int child; (child = 2 * root + 1) < n; root = child) {
    if (child + 1 < n && t->s[idx[child + 1]].a.id > t->s[idx[child]].a.id) child++;
    if (t->s[idx[root]].a.id >= t->s[idx[child]].a.id) return;
    int tmp = idx[root];
    idx[root] = idx[child];
    idx[child] = tmp;
  }
}

static void sort_by_id(const struct alarm_table *t, int *idx, int n) {
  for (int i = n / 2 - 1; i >= 0; i--) sift_ids(t, idx, i, n);
  for (int end = n - 1; end > 0; end--) {
    int tmp = idx[0];
    idx[0] = idx[end];
    idx[end] = tmp;
    sift_ids(t, idx, 0, end);
  }
}

int alarms_active(const struct alarm_table *t, struct alarm *out, int max) {
  int idx[ALARMS_MAX], n = 0;
  for (int i = 0; i < t->used; i++)
    if (t->s[i].state == SLOT_ACTIVE) idx[n++] = i;
  sort_by_id(t, idx, n);
  if (n > max) n = max < 0 ? 0 : max;
  for (int i = 0; i < n; i++) out[i] = t->s[idx[i]].a;
  return n;
}

static void format_subject(const struct alarm *a, const char *name, char *buf, size_t len) {
  if (a->kind == EV_CLASS_LOST)
    snprintf(buf, len, "class %s", ref_class_name(a->ref_class));
  else if (a->source == SUBJECT_SYSTEM)
    snprintf(buf, len, "system");
  else if (!name)
    snprintf(buf, len, "source %d", a->source);
  else if (a->ref_class == CLASS_UNKNOWN)
    snprintf(buf, len, "%s", name);
  else
    snprintf(buf, len, "%s (%s)", name, ref_class_name(a->ref_class));
}

void alarm_format_line(const struct alarm_transition *tr, const char *source_name, char *buf,
                       size_t len) {
  const struct alarm *a = &tr->alarm;
  char subject[200];
  if (len == 0) return;
  format_subject(a, source_name, subject, sizeof subject);
  if (tr->raised) {
    snprintf(buf, len, "alarm %" PRIu64 " raised: %s %s %s%s%s", a->id,
             alarm_severity_name(a->severity), event_kind_name(a->kind), subject,
             a->text[0] ? ": " : "", a->text);
  } else {
    int64_t d = a->cleared_ns - a->raised_ns;
    long long secs = d > 0 ? (long long)((d + 500000000) / 1000000000) : 0;
    snprintf(buf, len, "alarm %" PRIu64 " cleared: %s %s after %lld s", a->id,
             event_kind_name(a->kind), subject, secs);
  }
}
