/* Unit tests of the alarm table (monitor/alarms.h): raise after raise_after
 * rounds, pulse kinds at once, clear after clear_after, stable increasing
 * ids, one alarm for a flapping condition, deferred transitions, and the
 * exact one-line form. */
#include "monitor/alarms.h"

#include "tests/unit/unit.h"

#define S(x) ((int64_t)(x) * 1000000000LL)

static struct alarm_transition tr[64];

static struct vt_condition cond(enum event_kind k, int source, enum ref_class c,
                                const char *text) {
  struct vt_condition x = {.kind = k, .source = source, .ref_class = c, .value = 1.5,
                           .threshold = 0.001};
  snprintf(x.text, sizeof x.text, "%s", text);
  return x;
}

static struct alarm_table *table(double clear_after, int raise_after, uint64_t first_id) {
  struct alarm_policy p;
  alarm_policy_default(&p);
  p.clear_after = clear_after;
  p.raise_after = raise_after;
  return alarms_new(&p, first_id);
}

static const char *line(const struct alarm_transition *t, const char *name) {
  static char buf[400];
  alarm_format_line(t, name, buf, sizeof buf);
  return buf;
}

static const char *const FT_TEXT =
    "offset +1.500000 s outside the vetted interval [-0.000100, +0.000120] s";

static void test_defaults_and_names(void) {
  struct alarm_policy p;
  alarm_policy_default(&p);
  CHECK_NEAR(p.clear_after, 60.0, 0);
  CHECK_INT(p.raise_after, 2);
  CHECK_STR(alarm_severity_name(SEV_INFO), "info");
  CHECK_STR(alarm_severity_name(SEV_WARNING), "warning");
  CHECK_STR(alarm_severity_name(SEV_CRITICAL), "critical");
  CHECK_INT(alarm_default_severity(EV_QUORUM_LOST), SEV_CRITICAL);
  CHECK_INT(alarm_default_severity(EV_FALSETICKER), SEV_CRITICAL);
  CHECK_INT(alarm_default_severity(EV_DATE_FAR), SEV_CRITICAL);
  CHECK_INT(alarm_default_severity(EV_LOCAL_STEP), SEV_CRITICAL);
  CHECK_INT(alarm_default_severity(EV_REFID_CHANGE), SEV_INFO);
  CHECK_INT(alarm_default_severity(EV_STEP), SEV_WARNING);
  CHECK_INT(alarm_default_severity(EV_CLASS_LOST), SEV_WARNING);
  int pulses = 0;
  for (int k = 0; k < EV_COUNT; k++) pulses += alarm_kind_is_pulse((enum event_kind)k);
  CHECK_INT(pulses, 7); /* step local-step date-far stratum refid degraded witness */
  CHECK(!alarm_kind_is_pulse(EV_KOD)); /* a condition while the server kisses */
  CHECK(!alarm_kind_is_pulse(EV_AUTH_FAIL)); /* ... or its answers fail */
  CHECK_INT(alarm_default_severity(EV_WITNESS), SEV_CRITICAL);
  CHECK(alarm_kind_is_pulse(EV_DATE_FAR));
  CHECK(!alarm_kind_is_pulse(EV_FALSETICKER));
}

/* A continuing condition raises in its second round, clears 60 s after it
 * was last seen, with the exact lines. */
static void test_raise_and_clear(void) {
  struct alarm_table *t = table(60, 2, 7);
  struct vt_condition c = cond(EV_FALSETICKER, 2, CLASS_DCF, FT_TEXT);
  CHECK_INT(alarms_update(t, S(0), &c, 1, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(1), &c, 1, tr, 64), 1);
  CHECK(tr[0].raised);
  CHECK_INT(tr[0].alarm.id, 7);
  CHECK(tr[0].alarm.active);
  CHECK_INT(tr[0].alarm.severity, SEV_CRITICAL);
  CHECK_INT(tr[0].alarm.raised_ns, S(1));
  CHECK_NEAR(tr[0].alarm.value, 1.5, 0);
  CHECK_STR(line(&tr[0], "127.0.0.1:12303"),
            "alarm 7 raised: critical falseticker 127.0.0.1:12303 (DCF): offset +1.500000 s "
            "outside the vetted interval [-0.000100, +0.000120] s");
  for (int s = 2; s <= 4; s++) CHECK_INT(alarms_update(t, S(s), &c, 1, tr, 64), 0);
  struct alarm act[4];
  CHECK_INT(alarms_active(t, act, 4), 1);
  CHECK_INT(act[0].id, 7);
  CHECK_INT(act[0].last_seen_ns, S(4));
  CHECK_INT(act[0].repeats, 0);
  /* Absent from 5 s on: still raised at 63.9 s, cleared at 64 s. */
  CHECK_INT(alarms_update(t, S(5), NULL, 0, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(64) - 100000000, NULL, 0, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(64), NULL, 0, tr, 64), 1);
  CHECK(!tr[0].raised);
  CHECK(!tr[0].alarm.active);
  CHECK_INT(tr[0].alarm.cleared_ns, S(64));
  CHECK_STR(line(&tr[0], "127.0.0.1:12303"),
            "alarm 7 cleared: falseticker 127.0.0.1:12303 (DCF) after 63 s");
  CHECK_INT(alarms_active(t, act, 4), 0);
  /* It comes back: a new alarm with the next id. */
  alarms_update(t, S(100), &c, 1, tr, 64);
  CHECK_INT(alarms_update(t, S(101), &c, 1, tr, 64), 1);
  CHECK_INT(tr[0].alarm.id, 8);
  alarms_free(t);
}

static void test_pulse_raises_at_once(void) {
  struct alarm_table *t = table(60, 3, 1);
  struct vt_condition c[2] = {
      cond(EV_LOCAL_STEP, SUBJECT_SYSTEM, CLASS_UNKNOWN, "local clock stepped by +2.000000 s"),
      cond(EV_STEP, 4, CLASS_GPS, "offset stepped by +0.001000 s (jitter 0.000050 s)")};
  CHECK_INT(alarms_update(t, S(0), c, 2, tr, 64), 2);
  CHECK_STR(line(&tr[0], NULL),
            "alarm 1 raised: critical local-step system: local clock stepped by +2.000000 s");
  CHECK_STR(line(&tr[1], "gps0"),
            "alarm 2 raised: warning step gps0 (GPS): offset stepped by +0.001000 s "
            "(jitter 0.000050 s)");
  /* No recurrence: both clear after 60 s. */
  CHECK_INT(alarms_update(t, S(30), NULL, 0, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(60), NULL, 0, tr, 64), 2);
  CHECK_STR(line(&tr[0], NULL), "alarm 1 cleared: local-step system after 60 s");
  alarms_free(t);
}

/* raise_after 3 with a continuing kind: the third round raises. */
static void test_raise_after(void) {
  struct alarm_table *t = table(60, 3, 1);
  struct vt_condition c = cond(EV_UNREACHABLE, 1, CLASS_NTP, "no answer to 8 polls");
  CHECK_INT(alarms_update(t, S(0), &c, 1, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(16), &c, 1, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(32), &c, 1, tr, 64), 1);
  CHECK_STR(line(&tr[0], "ntp1"),
            "alarm 1 raised: warning unreachable ntp1 (NTP): no answer to 8 polls");
  alarms_free(t);
  /* A one-round blip never raises and is forgotten after clear_after. */
  t = table(60, 2, 1);
  CHECK_INT(alarms_update(t, S(0), &c, 1, tr, 64), 0);
  for (int s = 16; s <= 96; s += 16) CHECK_INT(alarms_update(t, S(s), NULL, 0, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(112), &c, 1, tr, 64), 0); /* counts from 1 again */
  CHECK_INT(alarms_update(t, S(128), &c, 1, tr, 64), 1);
  /* The same key twice in one round counts once. */
  struct vt_condition twice[2] = {cond(EV_DRIFT, 3, CLASS_GAL, "drift +0.8 ppm"),
                                  cond(EV_DRIFT, 3, CLASS_GAL, "drift +0.8 ppm")};
  CHECK_INT(alarms_update(t, S(144), twice, 2, tr, 64), 0);
  CHECK_INT(alarms_update(t, S(160), twice, 2, tr, 64), 1);
  CHECK_INT(tr[0].alarm.id, 2);
  alarms_free(t);
}

/* Keys: kind + source + class. Ids follow the order of raising. */
static void test_ids_and_keys(void) {
  struct alarm_table *t = table(60, 1, 1000);
  struct vt_condition c[4] = {cond(EV_CLASS_LOST, SUBJECT_SYSTEM, CLASS_GPS, "no GPS source agrees"),
                              cond(EV_CLASS_LOST, SUBJECT_SYSTEM, CLASS_GAL, "no GAL source agrees"),
                              cond(EV_FALSETICKER, 1, CLASS_GAL, ""),
                              cond(EV_FALSETICKER, 2, CLASS_UNKNOWN, "x")};
  CHECK_INT(alarms_update(t, S(0), c, 2, tr, 64), 2);
  CHECK_INT(tr[0].alarm.id, 1000);
  CHECK_INT(tr[1].alarm.id, 1001);
  CHECK_STR(line(&tr[0], "ignored"),
            "alarm 1000 raised: warning class-lost class GPS: no GPS source agrees");
  CHECK_INT(alarms_update(t, S(1), c, 4, tr, 64), 2);
  CHECK_INT(tr[0].alarm.id, 1002);
  CHECK_INT(tr[1].alarm.id, 1003);
  CHECK_STR(line(&tr[0], "gal0"), "alarm 1002 raised: critical falseticker gal0 (GAL)");
  CHECK_STR(line(&tr[1], "ntp2"), "alarm 1003 raised: critical falseticker ntp2: x");
  CHECK_STR(line(&tr[1], NULL), "alarm 1003 raised: critical falseticker source 2: x");
  struct alarm act[8];
  CHECK_INT(alarms_active(t, act, 8), 4);
  for (int i = 0; i < 4; i++) CHECK_INT(act[i].id, 1000 + i);
  CHECK_INT(alarms_active(t, act, 2), 2);
  CHECK_INT(act[1].id, 1001);
  /* GPS clears first (absent), GAL stays: ids keep their alarms. */
  CHECK_INT(alarms_update(t, S(61), c + 1, 3, tr, 64), 1);
  CHECK_INT(tr[0].alarm.id, 1000);
  CHECK_INT(alarms_update(t, S(62), c, 4, tr, 64), 1);
  CHECK_INT(tr[0].alarm.id, 1004);
  CHECK_INT(alarms_active(t, act, 8), 4);
  CHECK_INT(act[0].id, 1001);
  CHECK_INT(act[3].id, 1004);
  /* Truncated line: always terminated. */
  char small[12];
  alarm_format_line(&tr[0], NULL, small, sizeof small);
  CHECK_STR(small, "alarm 1004 ");
  alarms_free(t);
}

/* Holding every other round for ten minutes: one alarm, one clear. */
static void test_flapping(void) {
  struct alarm_table *t = table(60, 2, 1);
  struct vt_condition c = cond(EV_FALSETICKER, 0, CLASS_DCF, FT_TEXT);
  int raised = 0, cleared = 0, last_seen = 0;
  for (int s = 0; s <= 600; s += 16) {
    bool holds = (s / 16) % 2 == 0;
    if (holds) last_seen = s;
    int k = alarms_update(t, S(s), &c, holds ? 1 : 0, tr, 64);
    for (int i = 0; i < k; i++) tr[i].raised ? raised++ : cleared++;
  }
  CHECK_INT(raised, 1);
  CHECK_INT(cleared, 0);
  struct alarm act[2];
  CHECK_INT(alarms_active(t, act, 2), 1);
  CHECK_INT(act[0].repeats, 17); /* came back 17 times after raising at 32 s */
  for (int s = 608; s <= 800; s += 16) {
    int k = alarms_update(t, S(s), NULL, 0, tr, 64);
    for (int i = 0; i < k; i++) {
      tr[i].raised ? raised++ : cleared++;
      CHECK(tr[i].alarm.cleared_ns - S(last_seen) >= S(60));
      CHECK(tr[i].alarm.cleared_ns - S(last_seen) < S(76));
    }
  }
  CHECK_INT(raised, 1);
  CHECK_INT(cleared, 1);
  alarms_free(t);
}

/* Transitions that do not fit in out wait for a later round. */
static void test_deferred(void) {
  struct alarm_table *t = table(10, 1, 1);
  struct vt_condition c[2] = {cond(EV_KOD, 1, CLASS_NTP, "RATE"),
                              cond(EV_KOD, 2, CLASS_NTP, "DENY")};
  CHECK_INT(alarms_update(t, S(0), c, 2, tr, 1), 1);
  CHECK_INT(tr[0].alarm.source, 1);
  CHECK_INT(alarms_update(t, S(1), c, 2, tr, 0), 0);
  CHECK_INT(alarms_update(t, S(2), c, 2, tr, 4), 1);
  CHECK_INT(tr[0].alarm.source, 2);
  CHECK_INT(tr[0].alarm.id, 2);
  CHECK_INT(alarms_update(t, S(20), NULL, 0, tr, 1), 1);
  CHECK_INT(alarms_update(t, S(21), NULL, 0, tr, 1), 1);
  CHECK_INT(alarms_update(t, S(22), NULL, 0, tr, 1), 0);
  CHECK_INT(alarms_dropped(t), 0);
  alarms_free(t);
}

static void test_table_full(void) {
  static struct vt_condition many[ALARMS_MAX + 3];
  static struct alarm_transition out[ALARMS_MAX + 3];
  struct alarm_table *t = table(60, 1, 1);
  for (int i = 0; i < ALARMS_MAX + 3; i++) many[i] = cond(EV_UNREACHABLE, i, CLASS_NTP, "");
  CHECK_INT(alarms_update(t, S(0), many, ALARMS_MAX + 3, out, ALARMS_MAX + 3), ALARMS_MAX);
  CHECK_INT(alarms_dropped(t), 3);
  CHECK_INT(alarms_update(t, S(60), NULL, 0, out, ALARMS_MAX + 3), ALARMS_MAX);
  CHECK_INT(alarms_update(t, S(61), many + ALARMS_MAX, 3, out, 8), 3);
  alarms_free(t);
}

int main(void) {
  unit_init();
  RUN(test_defaults_and_names);
  RUN(test_raise_and_clear);
  RUN(test_pulse_raises_at_once);
  RUN(test_raise_after);
  RUN(test_ids_and_keys);
  RUN(test_flapping);
  RUN(test_deferred);
  RUN(test_table_full);
  return unit_done();
}
