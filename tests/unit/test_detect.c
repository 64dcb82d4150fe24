/* Unit tests for monitor/detect.c: each detector on synthetic series with
 * realistic noise (Gaussian source jitter, occasional 5-sigma spikes, a
 * vetted offset with its own noise, a local clock with a frequency error),
 * seeded through unit.h so a failure can be replayed with UNIT_SEED. */
#include <stdbool.h>

#include "monitor/detect.h"
#include "tests/unit/unit.h"

#define T0 1767225600.0 /* 2026-01-01, a Unix time like the daemon's */
#define MAX_EV 64

/* A Gaussian deviate (Box-Muller over random(), seeded by unit_init). */
static double gauss(void) {
  double u = (random() + 1.0) / 2147483649.0;
  double v = (random() + 1.0) / 2147483649.0;
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* A simulated source: fault(dt, p) is its error dt s after the onset
 * (dt < 0 before it). */
struct scen {
  double poll, jitter, vote_noise, spike_p, local_ppm;
  double onset, length;
  bool vetted;
  double (*fault)(double dt, const double *p);
  double p[2];
};

/* What the detector said: events before the onset (false alarms) and the
 * first events after it, with the faulty sample (1 = first) they came at. */
struct outcome {
  int before, n;
  struct vt_event ev[MAX_EV];
  int poll[MAX_EV];
};

static double f_none(double dt, const double *p) { (void)dt, (void)p; return 0; }
static double f_step(double dt, const double *p) { return dt >= 0 ? p[0] : 0; }
static double f_spike(double dt, const double *p) {
  return dt >= 0 && dt < 1 ? p[0] : 0;
}
static double f_ramp(double dt, const double *p) {
  return dt < 0 ? 0 : p[0] * fmin(dt / p[1], 1);
}
static double f_drift(double dt, const double *p) {
  if (dt < 0) return 0;
  return p[0] * 1e-6 * fmin(dt, p[1]); /* p[0] ppm for p[1] s, then level */
}

static struct scen scen_default(void) {
  struct scen s = {16, 50e-6, 20e-6, 0.01, 3, 3600, 7200, true, f_none,
                   {0, 0}};
  return s;
}

/* Feeds one sample of s at index i to d; returns the events. */
static int feed(struct source_detector *d, const struct detect_config *c,
                const struct scen *s, long i, struct vt_event *ev, int max) {
  double t = T0 + i * s->poll, dt = i * s->poll - s->onset;
  double local = s->local_ppm * 1e-6 * (t - T0); /* local clock error */
  double noise = gauss() * s->jitter;
  if (random() < s->spike_p * 2147483648.0)
    noise += (random() & 1 ? 5 : -5) * s->jitter;
  double offset = s->fault(dt, s->p) + noise - local;
  double vo = -local + gauss() * s->vote_noise;
  return detector_sample(d, c, t, offset, 200e-6, s->vetted, vo, ev, max);
}

static void run(const struct scen *s, const struct detect_config *c,
                struct source_detector *d, struct outcome *o) {
  memset(o, 0, sizeof *o);
  detector_init(d);
  long polls = (long)(s->length / s->poll);
  for (long i = 0; i < polls; i++) {
    struct vt_event ev[8];
    int n = feed(d, c, s, i, ev, 8);
    long after = i - (long)ceil(s->onset / s->poll) + 1;
    for (int k = 0; k < n; k++) {
      if (after <= 0) { o->before++; continue; }
      if (o->n == MAX_EV) continue;
      o->poll[o->n] = (int)after;
      o->ev[o->n++] = ev[k];
    }
  }
}

static bool starts_with(const char *s, const char *p) {
  return strncmp(s, p, strlen(p)) == 0;
}

static void test_defaults(void) {
  struct detect_config c;
  detect_config_default(&c);
  CHECK_NEAR(c.step_k, 8, 0);
  CHECK_NEAR(c.step_min, 200e-6, 1e-12);
  CHECK_NEAR(c.drift_ppm, 0.25, 0);
  CHECK_NEAR(c.drift_window, 900, 0);
  CHECK_NEAR(c.date_far, 1000, 0);
  CHECK_NEAR(c.local_freq_ppm, 100, 0);
  CHECK(c.walk_k > 0 && c.walk_h > c.walk_k);
}

/* A 1 ms step on a 50 us-jitter source: reported at the second sample
 * after the step, with its size, and as a condition in that round only. */
static void test_step_1ms(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  for (int seed = 0; seed < 5; seed++) {
    struct scen s = scen_default();
    s.fault = f_step, s.p[0] = 1e-3, s.length = s.onset + 2 * 16;
    struct outcome o;
    run(&s, &c, &d, &o);
    CHECK_INT(o.before, 0);
    CHECK_INT(o.n, 1);
    CHECK_INT(o.ev[0].kind, EV_STEP);
    CHECK_INT(o.poll[0], 2);
    CHECK_NEAR(o.ev[0].value, 1e-3, 3e-4); /* the mean of two, a spike in one */
    CHECK(o.ev[0].threshold >= 8 * 45e-6 && o.ev[0].threshold < 8 * 80e-6);
    CHECK(starts_with(o.ev[0].text, "offset stepped by +"));
    CHECK(strstr(o.ev[0].text, "s (jitter ") != NULL);
    CHECK(strstr(o.ev[0].text, " us, threshold ") != NULL);
    CHECK_INT(o.ev[0].source, SUBJECT_SYSTEM);
    CHECK_INT(o.ev[0].time_ns, (int64_t)llround((T0 + s.onset + 16) * 1e9));
    struct vt_condition k[4];
    CHECK_INT(detector_conditions(&d, k, 4), 1);
    CHECK_INT(k[0].kind, EV_STEP);
    struct vt_event ev[8];
    CHECK_INT(feed(&d, &c, &s, (long)(s.length / s.poll), ev, 8), 0);
    CHECK_INT(detector_conditions(&d, k, 4), 0);
  }
}

/* One 1 ms spike is not a step, nor a walk, nor a drift. */
static void test_spike_not_step(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  for (int seed = 0; seed < 5; seed++) {
    struct scen s = scen_default();
    s.fault = f_spike, s.p[0] = 1e-3;
    struct outcome o;
    run(&s, &c, &d, &o);
    CHECK_INT(o.before, 0);
    CHECK_INT(o.n, 0);
  }
  /* The spike was seen (a step candidate) and then set aside. */
  int outliers = 0;
  for (int i = 0; i < d.count; i++) outliers += (d.ring[i].flags & 4) != 0;
  CHECK(outliers >= 1);
}

/* A five-year jump: date far at once, the step at the next sample. */
static void test_five_year_jump(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  struct scen s = scen_default();
  s.fault = f_step, s.p[0] = 157680000, s.length = s.onset + 3600;
  struct outcome o;
  run(&s, &c, &d, &o);
  CHECK_INT(o.before, 0);
  CHECK_INT(o.n, 2);
  CHECK_INT(o.ev[0].kind, EV_DATE_FAR);
  CHECK_INT(o.poll[0], 1);
  CHECK(starts_with(o.ev[0].text, "date far from the vote: offset "
                                  "+157680000.0"));
  CHECK_INT(o.ev[1].kind, EV_STEP);
  CHECK_INT(o.poll[1], 2);
  CHECK_NEAR(o.ev[1].value, 157680000, 1e-3);
  CHECK(strstr(o.ev[1].text, "(1825.0 days)") != NULL);
  /* The new level is the new normal for the step detector: an hour on,
   * only the date is still far. */
  struct vt_condition k[4];
  CHECK_INT(detector_conditions(&d, k, 4), 1);
  CHECK_INT(k[0].kind, EV_DATE_FAR);
}

static void test_250ms_jump(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  struct scen s = scen_default();
  s.fault = f_step, s.p[0] = -0.25, s.length = s.onset + 3600;
  struct outcome o;
  run(&s, &c, &d, &o);
  CHECK_INT(o.before, 0);
  CHECK_INT(o.n, 1);
  CHECK_INT(o.ev[0].kind, EV_STEP);
  CHECK_INT(o.poll[0], 2);
  CHECK_NEAR(o.ev[0].value, -0.25, 3e-4);
  CHECK(starts_with(o.ev[0].text, "offset stepped by -2"));
  CHECK(strstr(o.ev[0].text, " ms (jitter ") != NULL);
}

/* A step and the step back an hour later are both steps; nothing else. */
static void test_step_and_back(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  detector_init(&d);
  struct scen s = scen_default();
  s.fault = f_step, s.p[0] = 2e-3;
  int steps = 0, other = 0;
  for (long i = 0; i < 3 * 3600 / 16; i++) {
    struct vt_event ev[8];
    if (i == 2 * 3600 / 16) s.p[0] = 0;
    int n = feed(&d, &c, &s, i, ev, 8);
    for (int k = 0; k < n; k++) ev[k].kind == EV_STEP ? steps++ : other++;
  }
  CHECK_INT(steps, 2);
  CHECK_INT(other, 0);
}

/* A relative drift of 0.5 ppm at 16 s polling: within 15 minutes. */
static void test_drift_half_ppm(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  for (int seed = 0; seed < 5; seed++) {
    struct scen s = scen_default();
    s.fault = f_drift, s.p[0] = 0.5, s.p[1] = 1e9, s.length = s.onset + 1800;
    struct outcome o;
    run(&s, &c, &d, &o);
    CHECK_INT(o.before, 0);
    int i = 0;
    while (i < o.n && o.ev[i].kind != EV_DRIFT) i++;
    CHECK(i < o.n);
    if (i == o.n) continue;
    CHECK((o.poll[i] - 1) * 16 <= 900);
    CHECK(o.ev[i].value > 0.25 && o.ev[i].value < 1.0);
    CHECK(starts_with(o.ev[i].text, "drifting +0."));
    CHECK(strstr(o.ev[i].text, "ppm against the vote over") != NULL);
  }
}

/* A slow walk: 300 us pushed in over 10 minutes on a 50 us source, seen
 * by the CUSUM within those 10 minutes, and never as a step. */
static void test_slow_walk(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  for (int seed = 0; seed < 5; seed++) {
    struct scen s = scen_default();
    s.fault = f_ramp, s.p[0] = 300e-6, s.p[1] = 600, s.length = s.onset + 3600;
    struct outcome o;
    run(&s, &c, &d, &o);
    CHECK_INT(o.before, 0);
    int i = 0;
    while (i < o.n && o.ev[i].kind != EV_SLOW_WALK) i++;
    CHECK(i < o.n);
    if (i == o.n) continue;
    CHECK((o.poll[i] - 1) * 16 <= 600);
    CHECK(starts_with(o.ev[i].text, "slow walk: offset moved +"));
    for (int k = 0; k < o.n; k++) CHECK(o.ev[k].kind != EV_STEP);
    struct vt_condition k[4];
    int n = detector_conditions(&d, k, 4);
    CHECK(n >= 1 && k[n - 1].kind == EV_SLOW_WALK);
  }
}

/* The slow spoof: 300 us over 30 minutes (0.17 ppm, under the drift
 * threshold): the CUSUM is the first to see it, within 20 minutes (~11 typical). */
static void test_slow_spoof(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  for (int seed = 0; seed < 5; seed++) {
    struct scen s = scen_default();
    s.fault = f_ramp, s.p[0] = 300e-6, s.p[1] = 1800;
    s.length = s.onset + 1800;
    struct outcome o;
    run(&s, &c, &d, &o);
    CHECK_INT(o.before, 0);
    CHECK(o.n >= 1);
    if (o.n < 1) continue;
    CHECK_INT(o.ev[0].kind, EV_SLOW_WALK);
    CHECK((o.poll[0] - 1) * 16 <= 1200);
  }
}

/* A GNSS week rollover (1024 weeks): date far at the very first sample,
 * against the vote, or against the local clock when the vote is lost. */
static void test_date_far(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  struct scen s = scen_default();
  s.fault = f_step, s.p[0] = -619315200, s.length = s.onset + 16;
  struct outcome o;
  run(&s, &c, &d, &o);
  CHECK_INT(o.n, 1);
  CHECK_INT(o.ev[0].kind, EV_DATE_FAR);
  CHECK_INT(o.poll[0], 1);
  CHECK_NEAR(o.ev[0].value, -619315200, 1e-3);
  CHECK_NEAR(o.ev[0].threshold, 1000, 0);

  detector_init(&d);
  struct vt_event ev[4];
  CHECK_INT(detector_sample(&d, &c, T0, 31536000, 1e-3, false, 0, ev, 4), 1);
  CHECK_INT(ev[0].kind, EV_DATE_FAR);
  CHECK(starts_with(ev[0].text, "date far from the local clock: offset "
                                "+31536000.000 s (365.0 days)"));
  CHECK_INT(detector_sample(&d, &c, T0 + 16, 31536000, 1e-3, false, 0, ev, 4),
            0);
  CHECK_INT(detector_sample(&d, &c, T0 + 32, 0, 1e-3, false, 0, ev, 4), 0);
  struct vt_condition k[4];
  CHECK_INT(detector_conditions(&d, k, 4), 0);
}

/* Twenty-four hours of clean data, several seeds: not one event. */
static void test_clean_24h(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  for (int seed = 0; seed < 5; seed++) {
    struct scen s = scen_default();
    s.onset = 86400, s.length = 86400;
    struct outcome o;
    run(&s, &c, &d, &o);
    CHECK_INT(o.before, 0);
    struct detector_report r;
    detector_report(&d, &r);
    CHECK(!r.learning);
    /* 54 us of Gaussian noise, a little more with the spikes. */
    CHECK(r.jitter > 40e-6 && r.jitter < 75e-6);
  }
}

/* Without a vote the step detector still works, on the raw offset with a
 * linear prediction through the local clock's 12 ppm wander; the drift and
 * walk detectors stay quiet. */
static void test_unvetted_step(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  struct scen s = scen_default();
  s.vetted = false, s.local_ppm = 12;
  s.fault = f_step, s.p[0] = 1e-3, s.length = s.onset + 3600;
  struct outcome o;
  run(&s, &c, &d, &o);
  CHECK_INT(o.before, 0);
  CHECK_INT(o.n, 1);
  CHECK_INT(o.ev[0].kind, EV_STEP);
  CHECK_INT(o.poll[0], 2);
  CHECK_NEAR(o.ev[0].value, 1e-3, 3e-4);
}

/* A 1 ppm drift for 30 minutes, then none: the drift condition holds while
 * it lasts and clears after it stops. */
static void test_drift_condition_clears(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  detector_init(&d);
  struct scen s = scen_default();
  s.fault = f_drift, s.p[0] = 1, s.p[1] = 1800;
  int held = 0, drift_events = 0;
  bool held_at_end_of_drift = false, held_at_end = true;
  for (long i = 0; i < (3600 + 1800 + 2400) / 16; i++) {
    struct vt_event ev[8];
    int n = feed(&d, &c, &s, i, ev, 8);
    for (int k = 0; k < n; k++) drift_events += ev[k].kind == EV_DRIFT;
    struct vt_condition k[4];
    int m = detector_conditions(&d, k, 4);
    bool drift = false;
    for (int j = 0; j < m; j++) {
      if (k[j].kind != EV_DRIFT) continue;
      drift = true;
      CHECK(k[j].value > 0.75 * 0.25);
      CHECK(starts_with(k[j].text, "drifting +"));
    }
    held += drift;
    if (i == (3600 + 1800) / 16 - 1) held_at_end_of_drift = drift;
    held_at_end = drift;
  }
  CHECK_INT(drift_events, 1);
  CHECK(held > 30);
  CHECK(held_at_end_of_drift);
  CHECK(!held_at_end);
  struct detector_report r;
  detector_report(&d, &r);
  CHECK(r.slope_ok);
  CHECK(fabs(r.slope_ppm) < 0.2);
}

/* The local clock's frequency error: within 0.1 ppm of 12 ppm, no event;
 * 150 ppm raises EV_LOCAL_FREQ once. */
static void test_local_clock(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct local_clock_detector l;
  local_clock_init(&l);
  CHECK(isnan(local_clock_freq_ppm(&l)));
  int events = 0;
  for (int i = 0; i < 200; i++) {
    double t = T0 + i * 16.0;
    struct vt_event ev[4];
    events += local_clock_sample(&l, &c, t, 12e-6 * i * 16 + gauss() * 20e-6,
                                 ev, 4);
  }
  CHECK_INT(events, 0);
  CHECK_NEAR(local_clock_freq_ppm(&l), 12, 0.1);

  local_clock_init(&l);
  struct vt_event ev[4];
  for (int i = 0; i < 200; i++) {
    double t = T0 + i * 16.0;
    int n = local_clock_sample(&l, &c, t, 150e-6 * i * 16 + gauss() * 20e-6,
                               ev, 4);
    if (n) CHECK(ev[0].kind == EV_LOCAL_FREQ && fabs(ev[0].value - 150) < 2);
    events += n;
  }
  CHECK_INT(events, 1);
  CHECK(starts_with(ev[0].text, "local clock frequency error +1"));
  CHECK(strstr(ev[0].text, " ppm against the vote over ") != NULL);
  struct vt_condition k[2];
  CHECK_INT(local_clock_conditions(&l, k, 2), 1);
  CHECK_INT(k[0].kind, EV_LOCAL_FREQ);
  CHECK_INT(k[0].source, SUBJECT_SYSTEM);
}

/* Hostile input is dropped; a full output array is never overrun. */
static void test_bad_input(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  detector_init(&d);
  struct vt_event ev[1];
  CHECK_INT(detector_sample(&d, &c, NAN, 0, 1e-3, true, 0, ev, 1), 0);
  CHECK_INT(detector_sample(&d, &c, T0, INFINITY, 1e-3, true, 0, ev, 1), 0);
  CHECK_INT(detector_sample(&d, &c, T0, 0, 1e-3, true, NAN, ev, 1), 0);
  CHECK_INT(d.count, 0);
  CHECK_INT(detector_sample(&d, &c, T0, 0, 1e-3, true, 0, ev, 1), 0);
  CHECK_INT(detector_sample(&d, &c, T0, 0, 1e-3, true, 0, ev, 1), 0);
  CHECK_INT(d.count, 1);
  /* Date far and nowhere to put it: no write, no crash. */
  CHECK_INT(detector_sample(&d, &c, T0 + 16, 5000, 1e-3, true, 0, NULL, 0), 0);
  struct vt_condition k[4];
  CHECK_INT(detector_conditions(&d, k, 0), 0);
  CHECK_INT(detector_conditions(&d, k, 4), 1);
}

/* The report: learning until the jitter and the walk baseline are known. */
static void test_report(void) {
  struct detect_config c;
  detect_config_default(&c);
  static struct source_detector d;
  detector_init(&d);
  struct detector_report r;
  detector_report(&d, &r);
  CHECK(r.learning);
  CHECK(!r.slope_ok);
  struct scen s = scen_default();
  struct vt_event ev[8];
  for (long i = 0; i < DETECT_LEARN + 10; i++) feed(&d, &c, &s, i, ev, 8);
  detector_report(&d, &r);
  CHECK(!r.learning);
  CHECK(r.jitter > 20e-6 && r.jitter < 100e-6);
  CHECK(r.cusum_pos >= 0 && r.cusum_neg >= 0);
}

int main(void) {
  unit_init();
  RUN(test_defaults);
  RUN(test_step_1ms);
  RUN(test_spike_not_step);
  RUN(test_five_year_jump);
  RUN(test_250ms_jump);
  RUN(test_step_and_back);
  RUN(test_drift_half_ppm);
  RUN(test_slow_walk);
  RUN(test_slow_spoof);
  RUN(test_date_far);
  RUN(test_clean_24h);
  RUN(test_unvetted_step);
  RUN(test_drift_condition_clears);
  RUN(test_local_clock);
  RUN(test_bad_input);
  RUN(test_report);
  return unit_done();
}
