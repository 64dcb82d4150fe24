/* A receiver's own continuity against the local oscillator (see
 * rx_continuity.h for the rule and why its numbers). */
#include "probes/rx_continuity.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

void rxc_init(struct rx_continuity *c, int settle) {
  *c = (struct rx_continuity){0};
  c->settle = settle < RXC_SETTLE_MIN ? RXC_SETTLE_MIN : settle > RXC_SETTLE_MAX ? RXC_SETTLE_MAX : settle;
}

bool rxc_settling(const struct rx_continuity *c) { return c->settling; }

/* Whether the first midnight of a UTC month lies in [a, b] (s since 1970):
 * where leap seconds go (ITU-R TF.460). At most a few midnights: the
 * callers' span is at most RXC_MAX_GAP. */
static bool month_start_between(double a, double b) {
  for (double day = ceil(a / 86400); day * 86400 <= b; day++) {
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    if (gmtime_r(&t, &tm) && tm.tm_mday == 1) return true;
  }
  return false;
}

/* A step of decoded minus monotonic that is a leap second, not a jump. */
static bool leap_second(const struct rx_continuity *c, double step, double decoded, double tol) {
  if (!(fabs(fabs(step) - 1.0) <= tol)) return false;
  double lo = fmin(c->ref_decoded, decoded), hi = fmax(c->ref_decoded, decoded);
  return month_start_between(lo, hi);
}

static void take_reference(struct rx_continuity *c, double decoded, double mono) {
  c->have_ref = true;
  c->ref_diff = decoded - mono;
  c->ref_decoded = decoded;
  c->ref_mono = mono;
}

static void start_settling(struct rx_continuity *c, double mono) {
  c->settling = true;
  c->settle_start = mono;
  c->minutes = 0;
}

/* A consistent decode while settling: counts the minutes since the jump. */
static enum rxc_verdict settle_on(struct rx_continuity *c, double mono) {
  c->minutes = (int)floor((mono - c->settle_start + RXC_TOLERANCE) / RXC_MINUTE);
  if (c->minutes < c->settle) return RXC_SETTLING;
  c->settling = false;
  c->minutes = 0;
  return RXC_TRUSTED;
}

enum rxc_verdict rxc_check(struct rx_continuity *c, double decoded, double mono) {
  double elapsed = mono - c->ref_mono;
  if (!c->have_ref || !(elapsed >= 0 && elapsed <= RXC_MAX_GAP)) { /* nothing to judge against */
    take_reference(c, decoded, mono);
    if (c->settling) start_settling(c, mono);
    return c->settling ? RXC_SETTLING : RXC_TRUSTED;
  }
  double step = (decoded - mono) - c->ref_diff;
  double tol = RXC_TOLERANCE + RXC_RATE * elapsed;
  bool jumped = fabs(step) > tol && !leap_second(c, step, decoded, tol);
  take_reference(c, decoded, mono);
  if (jumped) {
    c->jumps++;
    c->last_jump = step;
    start_settling(c, mono);
    return RXC_JUMPED;
  }
  return c->settling ? settle_on(c, mono) : RXC_TRUSTED;
}

char *rxc_format_jump(double jump, char *buf, size_t len) {
  if (fabs(jump - nearbyint(jump)) < 0.05) snprintf(buf, len, "%+.0f s", nearbyint(jump));
  else snprintf(buf, len, "%+.3f s", jump);
  return buf;
}

char *rxc_describe(const struct rx_continuity *c, char *buf, size_t len) {
  if (!len) return buf;
  buf[0] = '\0';
  if (!c->settling) return buf;
  char j[32];
  snprintf(buf, len, "time jumped %s against its previous time; %d of %d consistent minute%s",
           rxc_format_jump(c->last_jump, j, sizeof j), c->minutes, c->settle, c->settle == 1 ? "" : "s");
  return buf;
}
