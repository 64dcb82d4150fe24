/* Unit tests of the clock model (monitor/clockmodel.c): the line through
 * the vetted offsets, its bound, the three states, and the snapshot the
 * NTP server reads. The truth is known in every test: the served
 * correction is checked against it, and the bound must hold it. */
#include <math.h>
#include <stdlib.h>

#include "monitor/clockmodel.h"
#include "unit.h"

#define T0 1.7e9 /* Unix s of the first round */

/* A round whose vetted offset is truth + noise (uniform, +-noise). */
static struct clockmodel_round vetted(double t, double truth, double noise, double error) {
  double u = (double)random() / RAND_MAX * 2 - 1;
  return (struct clockmodel_round){.now = t, .vetted = true, .offset = truth + u * noise,
                                   .error = error, .stratum = 2, .refid = 0x47505300};
}

static struct clockmodel_round lost(double t) {
  return (struct clockmodel_round){.now = t, .vetted = false};
}

/* Before any vetted round: refusing, stratum 16, LI 3, no bound. */
static void test_refusing_until_vetted(void) {
  struct clockmodel m;
  struct clockmodel_out o;
  clockmodel_init(&m, NULL);
  clockmodel_update(&m, &(struct clockmodel_round){.now = T0}, &o);
  CHECK_INT(o.state, CLOCK_REFUSING);
  CHECK_INT(o.stratum, 16);
  CHECK_INT(o.leap, 3);
  CHECK(!o.changed);
  struct clockmodel_round r = vetted(T0 + 1, 0, 0, 5e-5);
  clockmodel_update(&m, &r, &o);
  CHECK_INT(o.state, CLOCK_SERVING);
  CHECK(o.changed);
  CHECK_INT(o.stratum, 2);
  CHECK_INT(o.refid, 0x47505300);
}

/* A local clock 1 ms behind and running 2 ppm slow (the vetted offset
 * grows 2 us/s), vetted each second with 20 us of noise and a 50 us bound:
 * the line finds the frequency, the correction stays within a few us of
 * the truth (much closer than single rounds), and the bound holds it. */
static void test_line_follows_frequency(void) {
  struct clockmodel m;
  struct clockmodel_out o;
  clockmodel_init(&m, NULL);
  double worst = 0, worst_round = 0;
  int outside = 0;
  for (int i = 0; i < 300; i++) {
    double t = T0 + i, truth = 1e-3 + 2e-6 * i;
    struct clockmodel_round r = vetted(t, truth, 20e-6, 50e-6);
    clockmodel_update(&m, &r, &o);
    double served = o.offset + o.freq * (t - o.t0);
    if (fabs(served - truth) > o.error) outside++;
    if (i >= 64) {
      worst = fmax(worst, fabs(served - truth));
      worst_round = fmax(worst_round, fabs(r.offset - truth));
    }
  }
  CHECK_INT(outside, 0);
  CHECK(fabs(o.freq - 2e-6) < 0.3e-6);
  CHECK(worst < 8e-6);
  CHECK(worst < worst_round / 2);
  CHECK_INT(m.restarts, 0);
}

/* The vetted time steps by 1 ms (beyond its 50 us bound): the line starts
 * again, and the very round of the step is served from the new offset. */
static void test_step_restarts_line(void) {
  struct clockmodel m;
  struct clockmodel_out o;
  clockmodel_init(&m, NULL);
  for (int i = 0; i < 40; i++) {
    struct clockmodel_round r = vetted(T0 + i, i < 30 ? 0 : 1e-3, 5e-6, 50e-6);
    clockmodel_update(&m, &r, &o);
    if (i == 30) CHECK(fabs(o.offset - 1e-3) < 6e-6);
  }
  CHECK_INT(m.restarts, 1);
  CHECK(fabs(o.offset - 1e-3) < 5e-6);
}

/* A step of the local clock moves the vetted offset by the opposite
 * amount: the line follows without a restart and without a glitch. */
static void test_local_step_is_no_restart(void) {
  struct clockmodel m;
  struct clockmodel_out o;
  clockmodel_init(&m, NULL);
  for (int i = 0; i < 40; i++) {
    double truth = i < 20 ? 0 : -0.5; /* the local clock stepped +0.5 s */
    struct clockmodel_round r = vetted(T0 + i, truth, 2e-6, 50e-6);
    if (i == 20) r.local_step = 0.5;
    clockmodel_update(&m, &r, &o);
    CHECK(fabs(o.offset - truth) < 5e-6);
  }
  CHECK_INT(m.restarts, 0);
}

/* The vote is lost: holdover from the last line with the bound growing,
 * the old stratum and refid kept; past `holdover` seconds, refusing; a
 * vetted round, serving again. Each change flagged once. */
static void test_holdover_then_refusing(void) {
  struct clockmodel_config cfg;
  clockmodel_config_default(&cfg);
  cfg.holdover = 100;
  cfg.holdover_margin = 1e-6;
  struct clockmodel m;
  struct clockmodel_out o;
  clockmodel_init(&m, &cfg);
  for (int i = 0; i < 60; i++) {
    struct clockmodel_round r = vetted(T0 + i, 3e-4, 5e-6, 40e-6);
    clockmodel_update(&m, &r, &o);
  }
  double bound_serving = o.error;
  int changes = 0;
  double bound_at_50 = 0;
  for (int i = 60; i < 200; i++) {
    struct clockmodel_round r = lost(T0 + i);
    clockmodel_update(&m, &r, &o);
    changes += o.changed;
    if (i < 160) {
      CHECK_INT(o.state, CLOCK_HOLDOVER);
      CHECK_INT(o.stratum, 2);
      CHECK(fabs(o.offset - 3e-4) < 5e-6);
      CHECK(o.holdover_since == T0 + 60);
    } else {
      CHECK_INT(o.state, CLOCK_REFUSING);
      CHECK_INT(o.stratum, 16);
      CHECK_INT(o.leap, 3);
    }
    if (i == 110) bound_at_50 = o.error + o.error_rate * (T0 + i - o.t0);
  }
  CHECK_INT(changes, 2);
  /* 51 s after the last vetted round the bound has grown by at least the
   * margin, and by no more than PHI */
  CHECK(bound_at_50 >= bound_serving + 51 * 1e-6 - 1e-9);
  CHECK(bound_at_50 <= bound_serving + 51 * 16e-6);
  struct clockmodel_round r = vetted(T0 + 200, 3e-4, 5e-6, 40e-6);
  clockmodel_update(&m, &r, &o);
  CHECK_INT(o.state, CLOCK_SERVING);
  CHECK(o.changed);
}

/* The vetted time jumps 0.5 s against the local clock (the witness: the
 * one source left was a liar, or a majority moved together): the model
 * does not follow, it holds over on the old line; the jumped time, held,
 * is refused when holdover runs out, and only then starts a new line. A
 * jump that comes back to the line is trusted again at once. */
static void test_witness_holds_over(void) {
  struct clockmodel_config cfg;
  clockmodel_config_default(&cfg);
  cfg.holdover = 30;
  for (int comes_back = 0; comes_back < 2; comes_back++) {
    struct clockmodel m;
    struct clockmodel_out o;
    clockmodel_init(&m, &cfg);
    int serving_jumped = 0;
    for (int i = 0; i < 100; i++) {
      double off = i < 40 ? 1e-4 : 0.5;
      if (comes_back && i >= 45) off = 1e-4;
      struct clockmodel_round r = vetted(T0 + i, off, 5e-6, 40e-6);
      r.witness = i == 40 || (comes_back && i == 45);
      clockmodel_update(&m, &r, &o);
      if (o.state == CLOCK_SERVING && fabs(o.offset - 0.5) < 1e-3) serving_jumped++;
      if (i >= 40 && i < 45) {
        CHECK_INT(o.state, CLOCK_HOLDOVER);
        CHECK(fabs(o.offset - 1e-4) < 5e-6);
      }
      if (!comes_back && i >= 40 && i < 70) CHECK_INT(o.state, CLOCK_HOLDOVER);
      if (!comes_back && i == 70) CHECK_INT(o.state, CLOCK_REFUSING);
      if (comes_back && i >= 45) CHECK_INT(o.state, CLOCK_SERVING);
    }
    /* held: served again only after refusing (from round 71 on) */
    CHECK_INT(serving_jumped, comes_back ? 0 : 29);
  }
}

/* The snapshot: the served time is the local one plus the correction, on
 * CLOCK_MONOTONIC, so a later step of CLOCK_REALTIME does not move it; the
 * bound grows with the time since the snapshot; a stalled daemon cannot
 * keep the server serving past the end of holdover. */
static void test_snapshot_serves(void) {
  struct clockmodel_out o = {.state = CLOCK_SERVING, .t0 = T0, .offset = 2.0,
                             .freq = 1e-6, .error = 5e-5, .error_rate = 2e-6,
                             .refuse_at = T0 + 10, .stratum = 1, .refid = 0x47505300};
  int64_t real_ns = (int64_t)(T0 * 1e9), mono_ns = 1000000000000; /* 1000 s of uptime */
  struct clock_snapshot snap;
  clock_snapshot_make(&o, real_ns, mono_ns, &snap);
  struct served_time st;
  /* 1 s later: local real time + 2 s + 1 us */
  clock_serve_at(&snap, mono_ns + 1000000000, real_ns + 1000000000, &st);
  CHECK(!st.refusing);
  CHECK_INT(st.unix_ns - (real_ns + 1000000000), 2000001000);
  CHECK(fabs(st.error - (5e-5 + 2e-6)) < 1e-12);
  CHECK_INT(st.stratum, 1);
  /* the local clock stepped back an hour: the served time does not move */
  clock_serve_at(&snap, mono_ns + 1000000000, real_ns + 1000000000 - 3600000000000, &st);
  CHECK_INT(st.unix_ns - (real_ns + 1000000000), 2000001000);
  /* the daemon stalls: refusing from refuse_at on */
  clock_serve_at(&snap, mono_ns + 9999000000, real_ns + 9999000000, &st);
  CHECK(!st.refusing);
  clock_serve_at(&snap, mono_ns + 10000000000, real_ns + 10000000000, &st);
  CHECK(st.refusing);
  CHECK_INT(st.stratum, 16);
  CHECK_INT(st.leap, 3);
}

static void test_refid(void) {
  CHECK_INT(clockmodel_refid("GPS", 0), 0x47505300);
  CHECK_INT(clockmodel_refid("DCF", 0), 0x44434600);
  CHECK_INT(clockmodel_refid("GNSS", 0), 0x474e5353);
  CHECK_INT(clockmodel_refid("NTP", 0x7f000001), 0x7f000001);
  CHECK_INT(clockmodel_refid("", 5), 0);
}

int main(void) {
  unit_init();
  RUN(test_refusing_until_vetted);
  RUN(test_line_follows_frequency);
  RUN(test_step_restarts_line);
  RUN(test_local_step_is_no_restart);
  RUN(test_holdover_then_refusing);
  RUN(test_witness_holds_over);
  RUN(test_snapshot_serves);
  RUN(test_refid);
  return unit_done();
}
