/* Small helpers shared by the receiver drivers (see driver_util.h). */
#include "probes/driver_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

void driver_set_state(struct probe_report *rep, const char *kind, const char *name, const char *state) {
  if (strcmp(rep->state, state) == 0) return;
  LOG_INFO("%s%s%s: state %s -> %s", kind, *kind ? " " : "", name, rep->state, state);
  snprintf(rep->state, sizeof rep->state, "%s", state);
}

void driver_set_detail(struct probe_report *rep, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rep->detail, sizeof rep->detail, fmt, ap);
  va_end(ap);
}

void driver_record_sample(struct probe_report *rep, const struct vt_sample *s) {
  rep->counters[PC_VALID]++;
  rep->stratum = s->stratum;
  rep->refid = s->refid;
  rep->have_sample = true;
  rep->last = *s;
  rep->last_rx = s->rx_time;
}

void median_filter_add(struct median_filter *f, double offset, double bound, struct probe_report *rep) {
  f->offsets[f->next] = offset;
  f->next = (f->next + 1) % MEDIAN_FILTER_LEN;
  if (f->n < MEDIAN_FILTER_LEN) f->n++;
  double s[MEDIAN_FILTER_LEN];
  memcpy(s, f->offsets, sizeof s);
  for (int i = 1; i < f->n; i++)
    for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
      double x = s[j]; s[j] = s[j - 1]; s[j - 1] = x;
    }
  double med = s[f->n / 2], sum = 0;
  for (int i = 0; i < f->n; i++) sum += (s[i] - med) * (s[i] - med);
  rep->jitter = f->n > 1 ? sqrt(sum / (f->n - 1)) : 0;
  rep->filtered_offset = med;
  rep->filtered_error = bound + rep->jitter;
}

void driver_shift_reach(struct probe_report *rep, bool *sampled, const char *kind, const char *name) {
  rep->reach = ((rep->reach << 1) | (*sampled ? 1u : 0u)) & 0xff;
  *sampled = false;
  if (!rep->reach && rep->have_sample) driver_set_state(rep, kind, name, "silent");
}

double jitter_window_add(struct jitter_window *w, double offset, struct probe_report *rep) {
  w->offsets[w->next] = offset;
  w->next = (w->next + 1) % JITTER_WINDOW_LEN;
  if (w->n < JITTER_WINDOW_LEN) w->n++;
  double mean = 0, sum = 0;
  for (int i = 0; i < w->n; i++) mean += w->offsets[i];
  mean /= w->n;
  for (int i = 0; i < w->n; i++) sum += (w->offsets[i] - mean) * (w->offsets[i] - mean);
  rep->jitter = w->n > 1 ? sqrt(sum / (w->n - 1)) : 0;
  return rep->jitter;
}

static void prepend_detail(struct probe_report *rep, const char *why) {
  char old[sizeof rep->detail];
  memcpy(old, rep->detail, sizeof old);
  driver_set_detail(rep, "%s%s%s", why, old[0] ? "; " : "", old);
}

bool driver_continuity(struct rx_continuity *c, struct median_filter *f, struct probe_report *rep,
                       const char *kind, const char *name, double decoded, double osc) {
  bool was_settling = rxc_settling(c);
  enum rxc_verdict v = rxc_check(c, decoded, osc);
  char why[120], jump[32];
  if (v == RXC_TRUSTED) {
    if (was_settling)
      LOG_INFO("%s %s: time consistent for %d minute%s since its jump; trusted again", kind, name,
               c->settle, c->settle == 1 ? "" : "s");
    return true;
  }
  if (v == RXC_JUMPED) {
    rep->counters[PC_JUMPS]++;
    rep->last_jump = c->last_jump;
    *f = (struct median_filter){0};
    LOG_WARN("%s %s: time jumped %s against its previous time on the local clock; untrusted for %d minute%s",
             kind, name, rxc_format_jump(c->last_jump, jump, sizeof jump), c->settle, c->settle == 1 ? "" : "s");
  }
  rep->counters[PC_UNTRUSTED]++;
  driver_set_state(rep, kind, name, "untrusted");
  prepend_detail(rep, rxc_describe(c, why, sizeof why));
  return false;
}
