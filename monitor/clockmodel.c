/* The clock model (clockmodel.h): a line through the recent vetted
 * offsets, the serving/holdover/refusing states, and the snapshot the NTP
 * server reads. The least-squares line is the textbook one (as in
 * monitor/srcfilter.c); the bound's growth follows RFC 5905 §10 (PHI) until
 * the line has measured the frequency itself. */
#include "monitor/clockmodel.h"

#include <math.h>
#include <string.h>

/* RFC 5905's PHI: how fast a bound grows while nothing has measured the
 * frequency (15 ppm, the tolerance it assumes for any clock). */
#define PHI 15e-6
/* A slope is used when it is this many standard errors from zero. */
#define SLOPE_T 4.0
/* The frequency uncertainty is taken as this many standard errors. */
#define FREQ_K 3.0
/* Points needed before the line's slope is trusted at all. */
#define MIN_SLOPE_POINTS 4

const char *clock_state_name(enum clock_state s) {
  switch (s) {
  case CLOCK_REFUSING: return "refusing";
  case CLOCK_SERVING: return "serving";
  case CLOCK_HOLDOVER: return "holdover";
  }
  return "?";
}

void clockmodel_config_default(struct clockmodel_config *c) {
  c->holdover = 3600;
  c->holdover_margin = 1e-6;
}

void clockmodel_init(struct clockmodel *m, const struct clockmodel_config *cfg) {
  memset(m, 0, sizeof *m);
  if (cfg)
    m->cfg = *cfg;
  else
    clockmodel_config_default(&m->cfg);
  m->state = CLOCK_REFUSING;
}

/* The line through the current points: its value and slope at t, the
 * residuals' standard deviation, and the slope's standard error (NaN while
 * the slope is not trusted, the slope 0 then). */
struct line {
  double at, slope, slope_se, sd;
  bool slope_used;
};

static void fit(const struct clockmodel *m, double t, struct line *l) {
  double tm = 0, xm = 0, sxx = 0, sxy = 0, ss = 0;
  int n = m->n;
  for (int i = 0; i < n; i++) {
    tm += m->t[i];
    xm += m->x[i];
  }
  tm /= n;
  xm /= n;
  for (int i = 0; i < n; i++) {
    sxx += (m->t[i] - tm) * (m->t[i] - tm);
    sxy += (m->t[i] - tm) * (m->x[i] - xm);
  }
  double b = sxx > 0 ? sxy / sxx : 0;
  for (int i = 0; i < n; i++) {
    double r = m->x[i] - (xm + b * (m->t[i] - tm));
    ss += r * r;
  }
  l->sd = n > 2 ? sqrt(ss / (n - 2)) : 0;
  l->slope_se = n >= MIN_SLOPE_POINTS && sxx > 0 ? l->sd / sqrt(sxx) : NAN;
  l->slope_used = n >= MIN_SLOPE_POINTS && fabs(b) > SLOPE_T * l->slope_se;
  l->slope = l->slope_used ? b : 0;
  l->at = l->slope_used ? xm + b * (t - tm) : xm;
  /* An unused slope still says how far the mean may lag: keep it in the
   * uncertainty (below) rather than in the line. */
  if (!l->slope_used && n >= MIN_SLOPE_POINTS) l->slope_se = hypot(l->slope_se, b);
}

static void push(struct clockmodel *m, double t, double x, double e) {
  if (m->n == CLOCKMODEL_POINTS) {
    memmove(m->t, m->t + 1, (CLOCKMODEL_POINTS - 1) * sizeof *m->t);
    memmove(m->x, m->x + 1, (CLOCKMODEL_POINTS - 1) * sizeof *m->x);
    memmove(m->e, m->e + 1, (CLOCKMODEL_POINTS - 1) * sizeof *m->e);
    m->n--;
  }
  m->t[m->n] = t;
  m->x[m->n] = x;
  m->e[m->n++] = e;
}

/* How fast the bound grows after the last point: the frequency's
 * uncertainty once the line has measured it, PHI before; plus the margin. */
static double growth(const struct clockmodel *m, const struct line *l) {
  double f = isnan(l->slope_se) ? PHI : FREQ_K * l->slope_se;
  return fmin(f, PHI) + m->cfg.holdover_margin;
}

void clockmodel_update(struct clockmodel *m, const struct clockmodel_round *r,
                       struct clockmodel_out *out) {
  enum clock_state before = m->state;
  struct line l;
  memset(out, 0, sizeof *out);

  /* A step of the local clock moves every offset measured before it by the
   * opposite amount (offset = true time - local clock). */
  if (r->local_step != 0)
    for (int i = 0; i < m->n; i++) m->x[i] -= r->local_step;

  bool vetted = r->vetted && isfinite(r->offset) && isfinite(r->error) && r->error >= 0;
  if (vetted && r->witness && m->n > 0) m->distrust = true;
  if (vetted && m->distrust) {
    if (m->state == CLOCK_REFUSING) { /* held over to the end: a new line */
      m->distrust = false;
      m->n = 0;
      m->restarts++;
    } else {
      fit(m, r->now, &l);
      double dt = r->now - m->t[m->n - 1];
      if (fabs(r->offset - l.at) <= r->error + m->e[m->n - 1] + growth(m, &l) * dt)
        m->distrust = false; /* back where the line ran on: trusted again */
      else
        vetted = false;      /* the jumped time is not followed */
    }
  }
  if (vetted) {
    if (m->n > 0) {
      fit(m, r->now, &l);
      /* The vetted interval must hold the truth; if it does not hold the
       * line either, the vetted time stepped: a new line from here. */
      if (fabs(r->offset - l.at) > r->error + growth(m, &l) * (r->now - m->t[m->n - 1])) {
        m->n = 0;
        m->restarts++;
      }
    }
    if (m->n == 0 || r->now > m->t[m->n - 1]) push(m, r->now, r->offset, r->error);
    m->last_vetted = r->now;
    m->holdover_since = 0;
    m->state = CLOCK_SERVING;
  } else if (m->last_vetted > 0) {
    if (m->holdover_since == 0) m->holdover_since = r->now;
    m->state = r->now - m->holdover_since < m->cfg.holdover ? CLOCK_HOLDOVER : CLOCK_REFUSING;
  } else {
    m->state = CLOCK_REFUSING;
  }

  out->state = m->state;
  out->changed = m->state != before;
  out->holdover_since = m->holdover_since;
  if (m->n == 0) { /* never vetted */
    out->t0 = r->now;
    out->error = INFINITY;
    out->stratum = 16;
    out->leap = 3;
    out->refuse_at = 0;
    return;
  }

  /* Anchored at the last vetted round: in holdover the line runs on from
   * there, the bound growing since then. */
  double t_last = m->t[m->n - 1];
  fit(m, t_last, &l);
  out->t0 = t_last;
  out->offset = l.at;
  out->freq = l.slope;
  /* The truth is within the last vetted bound of the last vetted offset,
   * so within that bound plus the distance to the line of the line. */
  out->error = m->e[m->n - 1] + fabs(m->x[m->n - 1] - l.at);
  out->error_rate = growth(m, &l);
  out->holdover_since = m->holdover_since;
  out->refuse_at = (m->holdover_since ? m->holdover_since : r->now) + m->cfg.holdover;
  if (m->state == CLOCK_REFUSING) {
    out->stratum = 16;
    out->leap = 3;
    out->refuse_at = 0;
  } else {
    out->stratum = vetted ? r->stratum : m->last_stratum;
    out->refid = vetted ? r->refid : m->last_refid;
    out->leap = vetted ? r->leap : m->last_leap;
  }
  if (vetted) {
    m->last_stratum = r->stratum;
    m->last_refid = r->refid;
    m->last_leap = r->leap;
  }
}

void clock_snapshot_make(const struct clockmodel_out *o, int64_t real_ns, int64_t mono_ns,
                         struct clock_snapshot *out) {
  memset(out, 0, sizeof *out);
  double real = (double)real_ns * 1e-9;
  /* The line's correction now, and the bound grown from t0 to now. */
  double dt = real - o->t0;
  double corr = o->offset + o->freq * dt;
  out->state = o->state;
  out->base_mono_ns = mono_ns;
  out->vetted_minus_mono_ns = real_ns - mono_ns + (int64_t)llround(corr * 1e9);
  out->freq = o->freq;
  out->error = o->error + o->error_rate * fmax(dt, 0);
  out->error_rate = o->error_rate;
  out->refuse_at_mono_ns =
      o->state == CLOCK_REFUSING ? mono_ns : mono_ns + (int64_t)llround((o->refuse_at - real) * 1e9);
  out->holdover_since = o->holdover_since;
  out->stratum = o->stratum;
  out->refid = o->refid;
  out->leap = o->leap;
}

void clock_serve_at(const struct clock_snapshot *s, int64_t mono_ns, int64_t real_ns,
                    struct served_time *out) {
  out->refusing = s->state == CLOCK_REFUSING || mono_ns >= s->refuse_at_mono_ns;
  if (out->refusing) {
    out->unix_ns = real_ns;
    out->error = INFINITY;
    out->stratum = 16;
    out->leap = 3;
    out->refid = 0;
    return;
  }
  double dt = (double)(mono_ns - s->base_mono_ns) * 1e-9;
  out->unix_ns = mono_ns + s->vetted_minus_mono_ns + (int64_t)llround(s->freq * dt * 1e9);
  out->error = s->error + s->error_rate * fmax(dt, 0);
  out->stratum = s->stratum;
  out->leap = s->leap;
  out->refid = s->refid;
}

uint32_t clockmodel_refid(const char *class_name, uint32_t upstream_ipv4) {
  if (!class_name || !*class_name) return 0;
  if (strcmp(class_name, "NTP") == 0) return upstream_ipv4;
  uint32_t id = 0;
  for (int i = 0; i < 4; i++) {
    unsigned char c = (unsigned char)class_name[i];
    id = id << 8 | c;
    if (!c) {
      id <<= 8 * (3 - i); /* pad with NULs, as RFC 5905 §7.3 says */
      break;
    }
  }
  return id;
}
