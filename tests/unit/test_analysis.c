/* Unit tests of the analysis round (monitor/analysis.c): the round
 * detectors and how conditions become events and alarms, on synthetic
 * rounds. The vote, the sample detectors and the alarm table have their own
 * tests; these check the glue and the decisions made here. */
#include <math.h>

#include "monitor/analysis.h"
#include "monitor/srcfilter.h"
#include "unit.h"

#define N 3

static struct analysis_source src[N];

/* Three healthy stratum-1 sources, GPS, GAL and DCF, answering every poll. */
static void healthy(double t) {
  static const enum ref_class cls[N] = {CLASS_GPS, CLASS_GAL, CLASS_DCF};
  for (int i = 0; i < N; i++) {
    double off = 1e-5 * (i - 1) + 2e-6 * ((random() % 100) - 50) / 50.0;
    src[i] = (struct analysis_source){
        .vote = {.ref_class = cls[i], .have_sample = true, .reachable = true,
                 .offset = off, .error = 1e-4, .stratum = 1, .leap = 0},
        .new_sample = true, .sample_time = t, .sample_offset = off, .sample_error = 1e-4,
        .stratum = 1, .refid = 0x47505300, .reach = 0xff};
  }
}

static int count_events(const struct analysis_result *r, enum event_kind k, int source, bool ended) {
  int n = 0;
  for (int i = 0; i < r->n_events; i++)
    if (r->events[i].kind == k && r->events[i].source == source && r->events[i].ended == ended) n++;
  return n;
}

static int count_raised(const struct analysis_result *r, enum event_kind k) {
  int n = 0;
  for (int i = 0; i < r->n_transitions; i++)
    if (r->transitions[i].raised && r->transitions[i].alarm.kind == k) n++;
  return n;
}

static struct analysis *fresh(void) {
  struct analysis_config c;
  analysis_config_default(&c);
  c.alarm.clear_after = 10;
  return analysis_new(N, &c, 1);
}

/* A source 0.5 s off: a falseticker condition, one start event, one alarm,
 * and when it comes back, an end event and (after clear_after) a clear. */
static void test_falseticker_lifecycle(void) {
  struct analysis *a = fresh();
  double t = 1000;
  int raised = 0, started = 0, ended = 0, cleared = 0;
  for (int r = 0; r < 60; r++, t += 1) {
    healthy(t);
    if (r >= 10 && r < 30) src[2].vote.offset = src[2].sample_offset = 0.5;
    const struct analysis_result *res = analysis_round(a, t, 0, src);
    CHECK(res->verdict.vetted);
    raised += count_raised(res, EV_FALSETICKER);
    started += count_events(res, EV_FALSETICKER, 2, false);
    ended += count_events(res, EV_FALSETICKER, 2, true);
    for (int i = 0; i < res->n_transitions; i++)
      if (!res->transitions[i].raised && res->transitions[i].alarm.kind == EV_FALSETICKER) cleared++;
  }
  CHECK_INT(raised, 1);
  CHECK_INT(started, 1);
  CHECK_INT(ended, 1);
  CHECK_INT(cleared, 1);
  analysis_free(a);
}

/* One noisy sample of a noisy source (8 of its deviations out, 1.2 ms on a
 * source that alternates +-100 us) takes it out of the vote for a round,
 * but names no falseticker and loses no class: the next sample is back.
 * The same 1.2 ms held for two samples is named at the second; a 0.5 s
 * jump (test_falseticker_lifecycle) is named at the first. */
static void test_noisy_sample_confirmed(void) {
  for (int confirm = 0; confirm < 2; confirm++) {
    struct analysis *a = fresh();
    double t = 1000;
    int started = 0, class_lost = 0, out_rounds = 0, first_named = -1;
    for (int r = 0; r < 40; r++, t += 1) {
      healthy(t);
      for (int i = 0; i < 2; i++) /* GPS and GAL: a few us of noise around 0 */
        src[i].vote.offset = src[i].sample_offset = 1e-6 * ((r + i) % 3 - 1);
      for (int i = 0; i < N; i++) src[i].vote.error = src[i].sample_error = 1e-6;
      double dcf = (r % 2 ? 1e-4 : -1e-4);
      if (r == 30 || (confirm && r == 31)) dcf = 1.2e-3;
      src[2].vote.offset = src[2].sample_offset = dcf;
      const struct analysis_result *res = analysis_round(a, t, 0, src);
      if (r >= 25) CHECK(res->verdict.vetted);
      if (r == 30 && res->per_source[2].state != SS_COMBINED) out_rounds++;
      int s = count_events(res, EV_FALSETICKER, 2, false);
      if (s && first_named < 0) first_named = r;
      started += s;
      class_lost += count_events(res, EV_CLASS_LOST, SUBJECT_SYSTEM, false);
    }
    CHECK_INT(out_rounds, 1);
    CHECK_INT(started, confirm ? 1 : 0);
    CHECK_INT(class_lost, confirm ? 1 : 0);
    if (confirm) CHECK_INT(first_named, 31);
    analysis_free(a);
  }
}

/* No quorum-lost alarm during the warm-up of a daemon that never vetted;
 * after the warm-up, one; a vote that was vetted and is lost: at once. */
static void test_quorum_warmup(void) {
  struct analysis *a = fresh();
  double t = 0;
  int raised_early = 0, raised_late = 0;
  for (int r = 0; r < 40; r++, t += 1) {
    healthy(t);
    src[1].vote.offset = src[1].sample_offset = 0.3; /* three classes, three times */
    src[2].vote.offset = src[2].sample_offset = 0.6;
    const struct analysis_result *res = analysis_round(a, t, 0, src);
    CHECK(!res->verdict.vetted);
    if (t < 30) raised_early += count_raised(res, EV_QUORUM_LOST);
    else raised_late += count_raised(res, EV_QUORUM_LOST);
  }
  CHECK_INT(raised_early, 0);
  CHECK_INT(raised_late, 1);
  analysis_free(a);
}

/* A class that agreed and stops agreeing is lost; a source that stops
 * answering is unreachable; a stratum change is a pulse. A KoD is a
 * condition: a server that kisses on every poll (rounds 20-29: a new KoD
 * each round, the probe in state "rate") writes one event when it starts
 * and one when it ends (round 30: answering again), not one a poll. */
static void test_class_reach_pulses(void) {
  struct analysis *a = fresh();
  double t = 0;
  int class_lost = 0, unreachable = 0, stratum = 0, kod = 0, kod_ended = 0;
  for (int r = 0; r < 34; r++, t += 1) {
    healthy(t);
    if (r >= 10) {
      src[1].vote.reachable = false;
      src[1].reach = 0;
      src[1].new_sample = false;
    }
    if (r >= 20) src[0].stratum = src[0].vote.stratum = 2;
    src[0].kod = r < 20 ? 0 : r < 30 ? (uint64_t)(r - 19) : 10;
    snprintf(src[0].kiss, sizeof src[0].kiss, "%s", r >= 20 && r < 30 ? "rate" : "");
    const struct analysis_result *res = analysis_round(a, t, 0, src);
    for (int i = 0; i < res->n_events; i++) {
      const struct vt_event *e = &res->events[i];
      if (e->ended) {
        kod_ended += e->kind == EV_KOD && e->source == 0 && r == 30;
        continue;
      }
      class_lost += e->kind == EV_CLASS_LOST && e->ref_class == CLASS_GAL;
      unreachable += e->kind == EV_UNREACHABLE && e->source == 1;
      stratum += e->kind == EV_STRATUM_CHANGE && e->source == 0;
      kod += e->kind == EV_KOD && e->source == 0 && r == 20;
      kod += (e->kind == EV_KOD) * 100 * (r != 20); /* never again */
    }
  }
  CHECK_INT(class_lost, 1);
  CHECK_INT(unreachable, 1);
  CHECK_INT(stratum, 1);
  CHECK_INT(kod, 1);
  CHECK_INT(kod_ended, 1);
  analysis_free(a);
}

/* The vote is lost after 20 vetted rounds: holdover (a warning alarm)
 * with the served correction still the last vetted one and its bound
 * growing, then, past `holdover` (10 s), refusing (a critical alarm,
 * stratum 16, LI 3). */
static void test_holdover_then_refusing(void) {
  struct analysis_config c;
  analysis_config_default(&c);
  c.clock.holdover = 10;
  struct analysis *a = analysis_new(N, &c, 1);
  double t = 1000, vetted_offset = 0, bound_lost = 0, bound_late = 0;
  int holdover = 0, refusing = 0;
  for (int r = 0; r < 40; r++, t += 1) {
    healthy(t);
    if (r >= 20)
      for (int i = 0; i < N; i++) src[i].vote.have_sample = src[i].vote.reachable = false;
    const struct analysis_result *res = analysis_round(a, t, 0, src);
    const struct clockmodel_out *o = &res->clock;
    if (r == 19) vetted_offset = o->offset;
    if (r == 20) bound_lost = o->error + o->error_rate * (t - o->t0);
    if (r == 29) bound_late = o->error + o->error_rate * (t - o->t0);
    if (r >= 20 && r < 30) {
      CHECK_INT(o->state, CLOCK_HOLDOVER);
      CHECK(fabs(o->offset - vetted_offset) < 1e-12);
      CHECK_INT(o->stratum, 2); /* the last vetted round's: stratum 1 + 1 */
    }
    if (r >= 30) {
      CHECK_INT(o->state, CLOCK_REFUSING);
      CHECK_INT(o->stratum, 16);
      CHECK_INT(o->leap, 3);
    }
    for (int i = 0; i < res->n_transitions; i++) {
      const struct alarm_transition *tr = &res->transitions[i];
      if (!tr->raised) continue;
      if (tr->alarm.kind == EV_HOLDOVER && tr->alarm.severity == SEV_WARNING) holdover++;
      if (tr->alarm.kind == EV_REFUSING && tr->alarm.severity == SEV_CRITICAL) refusing++;
    }
  }
  CHECK_INT(holdover, 1);
  CHECK_INT(refusing, 1);
  /* 9 s further into holdover: grown by at least the 1 ppm margin */
  CHECK(bound_late >= bound_lost + 9 * 1e-6 - 1e-12);
  analysis_free(a);
}

/* A local clock step is a pulse of its own; it raises a critical alarm. */
static void test_local_step(void) {
  struct analysis *a = fresh();
  healthy(100);
  const struct analysis_result *res = analysis_round(a, 100, -3.5, src);
  CHECK_INT(count_events(res, EV_LOCAL_STEP, SUBJECT_SYSTEM, false), 1);
  CHECK_INT(count_raised(res, EV_LOCAL_STEP), 1);
  CHECK(res->transitions[0].alarm.severity == SEV_CRITICAL);
  analysis_free(a);
}

/* Failed authentication, like a KoD, is a condition: a server whose every
 * answer fails (rounds 5-14) writes one event when it starts and one when
 * it ends, not one a round; a single failure between good answers writes
 * a start and an end too. */
static void test_auth_fail_edges(void) {
  struct analysis *a = fresh();
  int started = 0, ended = 0;
  for (int r = 0; r < 30; r++) {
    healthy(r);
    src[2].auth_fail = r < 5 ? 0 : r < 15 ? (uint64_t)(r - 4) : r < 20 ? 10 : 11;
    src[2].auth_failing = r >= 5 && r < 15;
    const struct analysis_result *res = analysis_round(a, r, 0, src);
    int s = count_events(res, EV_AUTH_FAIL, 2, false), e = count_events(res, EV_AUTH_FAIL, 2, true);
    started += s;
    ended += e;
    if (r == 5 || r == 20) CHECK_INT(s, 1);
    if (r == 15 || r == 21) CHECK_INT(e, 1);
  }
  CHECK_INT(started, 2);
  CHECK_INT(ended, 2);
  analysis_free(a);
}

/* The statistics `vettime sourcestats` shows: before any sample nothing
 * (samples 0, NaN); then the samples behind the estimate (at most
 * SRCFILTER_WINDOW), the estimate near the source's offset, and the
 * frequency of a source that walks 0.2 ppm against the others, once the
 * drift window holds enough. */
static void test_source_stats(void) {
  struct analysis *a = fresh();
  struct analysis_source_stats st;
  analysis_source_stats(a, 0, 0, &st);
  CHECK_INT(st.samples, 0);
  CHECK(isnan(st.offset) && isnan(st.jitter) && isnan(st.freq_ppm));
  analysis_source_stats(a, N, 0, &st); /* no such source */
  CHECK_INT(st.samples, 0);
  double t = 1000;
  for (int r = 0; r < 300; r++, t += 8) { /* 8 s polls: the window holds 900 s */
    healthy(t);
    src[2].vote.offset = src[2].sample_offset = 1e-5 + 2e-7 * (t - 1000);
    analysis_round(a, t, 0, src);
  }
  analysis_source_stats(a, 0, t, &st);
  CHECK(st.samples >= 2 && st.samples <= SRCFILTER_WINDOW);
  CHECK_NEAR(st.offset, -1e-5, 5e-6);
  CHECK(st.jitter > 0 && st.jitter < 1e-5);
  CHECK_NEAR(st.freq_ppm, 0, 0.5);
  analysis_source_stats(a, 2, t, &st);
  CHECK_NEAR(st.freq_ppm, 0.2, 0.05);
  analysis_free(a);
}

/* The demo's slow walk: GAL, sampled every 4 s, walks away at 10 us/s while
 * GPS and DCF (sampled every round) hold the truth. Between its samples
 * GAL's error bound grows with age, so while it crosses the edge of the
 * vetted interval it touched it again in the seconds before each sample:
 * the events said falseticker / ended / falseticker at every poll. Now an
 * end must be confirmed by a newer sample: one start and no end while it
 * walks on, then one end once its samples agree again. */
static void test_walk_crossing_no_flap(void) {
  struct analysis *a = fresh();
  double t = 1000, gal = 0, gal_t = t;
  int started = 0, ended = 0, ended_after_back = 0, vetted = 0;
  for (int r = 0; r < 260; r++, t += 1) {
    healthy(t);
    src[0].vote.offset = src[0].sample_offset = 1e-6 * (r % 3 - 1);
    src[2].vote.offset = src[2].sample_offset = 2e-6 * ((r + 1) % 3 - 1);
    for (int i = 0; i < N; i++) src[i].vote.error = src[i].sample_error = 2e-5;
    if (r % 4 == 0) { /* GAL's poll */
      gal = r < 60 ? 0 : r < 200 ? 1e-5 * (r - 60) : 0; /* walks, then back at r=200 */
      gal_t = t;
    } else {
      src[1].new_sample = false;
    }
    src[1].vote.offset = src[1].sample_offset = gal;
    src[1].sample_time = gal_t;
    const struct analysis_result *res = analysis_round(a, t, 0, src);
    vetted += res->verdict.vetted;
    started += count_events(res, EV_FALSETICKER, 1, false);
    if (r < 200) ended += count_events(res, EV_FALSETICKER, 1, true);
    else ended_after_back += count_events(res, EV_FALSETICKER, 1, true);
  }
  CHECK_INT(vetted, 260);
  CHECK_INT(started, 1);
  CHECK_INT(ended, 0);
  CHECK_INT(ended_after_back, 1);
  analysis_free(a);
}

/* The liar outlives the honest: DCF is named a falseticker at +0.5 s, then
 * GPS and GAL fall silent while it keeps answering. One class would vet
 * its time alone (minclasses 1); a source named a falseticker stays named
 * and cannot. Once GPS and GAL answer again and DCF is back at the truth,
 * the time is vetted and the falseticker ends, once. */
static void test_named_liar_cannot_vet_alone(void) {
  struct analysis *a = fresh();
  double t = 1000;
  int vetted_alone = 0, said_why = 0, ended = 0, vetted_after = 0;
  for (int r = 0; r < 90; r++, t += 1) {
    healthy(t);
    if (r >= 10 && r < 70) src[2].vote.offset = src[2].sample_offset = 0.5;
    if (r >= 20 && r < 60)
      for (int i = 0; i < 2; i++) {
        src[i].vote.have_sample = src[i].vote.reachable = src[i].new_sample = false;
        src[i].reach = 0;
      }
    const struct analysis_result *res = analysis_round(a, t, 0, src);
    if (r >= 20 && r < 60) {
      vetted_alone += res->verdict.vetted;
      said_why += strstr(res->verdict.why_not, "named falsetickers") != NULL;
    }
    if (r >= 80) vetted_after += res->verdict.vetted;
    ended += count_events(res, EV_FALSETICKER, 2, true);
  }
  CHECK_INT(vetted_alone, 0);
  CHECK(said_why >= 30);
  CHECK_INT(vetted_after, 10);
  CHECK_INT(ended, 1);
  analysis_free(a);
}

int main(void) {
  unit_init();
  RUN(test_source_stats);
  RUN(test_auth_fail_edges);
  RUN(test_falseticker_lifecycle);
  RUN(test_noisy_sample_confirmed);
  RUN(test_walk_crossing_no_flap);
  RUN(test_named_liar_cannot_vet_alone);
  RUN(test_quorum_warmup);
  RUN(test_class_reach_pulses);
  RUN(test_holdover_then_refusing);
  RUN(test_local_step);
  return unit_done();
}
