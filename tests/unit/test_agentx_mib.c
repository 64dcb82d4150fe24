/* Unit tests for what the AgentX subagent answers (snmp/agentx_mib.c):
 * nanoseconds saturated into Integer32 and Gauge32, exact decimal
 * seconds, the vtStatus scalars with and without a vetted round, the
 * source table's cells and holes, the vote-state numbering of the MIB;
 * and the agentx and httptoken directives (snmp/agentx_config.c,
 * web/web_config.c) through the configuration parser. */
#include "snmp/agentx_config.h"
#include "snmp/agentx_mib.h"
#include "monitor/config.h"
#include "web/web_config.h"

#include <math.h>
#include <string.h>

#include "unit.h"

static void test_ns_conversions(void) {
  CHECK_INT(agx_ns_integer32(0), 0);
  CHECK_INT(agx_ns_integer32(1.5e-6), 1500);
  CHECK_INT(agx_ns_integer32(-2.5e-8), -25);
  CHECK_INT(agx_ns_integer32(2.147483647), 2147483647L);
  CHECK_INT(agx_ns_integer32(3.0), 2147483647L);             /* saturated */
  CHECK_INT(agx_ns_integer32(-157680000.0), -2147483647L - 1); /* five years back */
  CHECK_INT(agx_ns_integer32(NAN), 0);
  CHECK_INT(agx_ns_gauge32(7.0705e-5), 70705);
  CHECK_INT(agx_ns_gauge32(5.0), 4294967295L);
  CHECK_INT(agx_ns_gauge32(-1.0), 0);
  char buf[40];
  agx_decimal(1.2345e-5, true, buf, sizeof buf);
  CHECK_STR(buf, "+0.000012345");
  agx_decimal(-157680000.000123, true, buf, sizeof buf);
  CHECK_STR(buf, "-157680000.000122994"); /* the double's own digits, to the ns */
  agx_decimal(7.0705e-5, false, buf, sizeof buf);
  CHECK_STR(buf, "0.000070705");
  agx_decimal(INFINITY, true, buf, sizeof buf);
  CHECK_STR(buf, "");
}

static struct source_report sources[2];
static struct vote_report vote;
static struct alarm_report alarms[3];
static struct clock_snapshot clock_s;
static struct outbox_report outbox;
static struct serve_report serve;

static struct agx_view view(void) {
  memset(sources, 0, sizeof sources);
  snprintf(sources[0].name, sizeof sources[0].name, "gps.example:123");
  snprintf(sources[0].kind, sizeof sources[0].kind, "ntp");
  sources[0].ref_class = CLASS_GPS;
  snprintf(sources[0].probe.state, sizeof sources[0].probe.state, "ok");
  sources[0].probe.stratum = 1;
  sources[0].probe.reach = 0x1ff; /* only the low 8 bits are the register */
  sources[0].probe.have_sample = true;
  sources[0].probe.last.offset = -2.5e-5;
  sources[0].probe.last.error_bound = 4e-5;
  sources[0].voted = true;
  sources[0].vote_state = SS_BEST;
  snprintf(sources[1].name, sizeof sources[1].name, "/dev/dcf77");
  sources[1].ref_class = CLASS_DCF;
  sources[1].probe.stratum = -1;
  memset(&vote, 0, sizeof vote);
  vote.valid = true;
  vote.verdict.vetted = true;
  vote.verdict.offset = 1.5e-5;
  vote.verdict.error = 7e-5;
  vote.verdict.agreeing = 1;
  vote.verdict.agreeing_classes = 2;
  vote.verdict.class_mask = (1u << CLASS_GPS) | (1u << CLASS_GAL);
  memset(alarms, 0, sizeof alarms);
  alarms[0].alarm.active = true, alarms[0].alarm.severity = SEV_CRITICAL;
  alarms[1].alarm.active = true, alarms[1].alarm.severity = SEV_WARNING;
  alarms[2].alarm.active = false, alarms[2].alarm.severity = SEV_CRITICAL;
  memset(&clock_s, 0, sizeof clock_s);
  clock_s.state = CLOCK_HOLDOVER;
  outbox = (struct outbox_report){true, 4, 0};
  memset(&serve, 0, sizeof serve);
  serve.enabled = true, serve.sockets = 1;
  serve.counters[SC_RECEIVED] = UINT64_C(5000000000); /* past 32 bits */
  serve.counters[SC_ANSWERED] = 7;
  serve.dropped = 12;
  return (struct agx_view){&vote, sources, 2, alarms, 3, &clock_s, &outbox, &serve};
}

static void test_scalars_vetted(void) {
  struct agx_view v = view();
  struct agx_value x;
  CHECK(agx_scalar(&v, AGX_VETTED, &x) && x.type == AGX_INTEGER && x.number == 1);
  CHECK(agx_scalar(&v, AGX_VETTED_OFFSET_NS, &x) && x.number == 15000);
  CHECK(agx_scalar(&v, AGX_VETTED_BOUND_NS, &x) && x.type == AGX_GAUGE && x.number == 70000);
  CHECK(agx_scalar(&v, AGX_VETTED_OFFSET, &x) && strcmp(x.text, "+0.000015000") == 0);
  CHECK(agx_scalar(&v, AGX_VETTED_BOUND, &x) && strcmp(x.text, "0.000070000") == 0);
  CHECK(agx_scalar(&v, AGX_WHY_NOT_VETTED, &x) && x.text[0] == '\0');
  CHECK(agx_scalar(&v, AGX_AGREEING_CLASS_NAMES, &x) && strcmp(x.text, "GPS,GAL") == 0);
  CHECK(agx_scalar(&v, AGX_OPEN_ALARMS, &x) && x.number == 2);
  CHECK(agx_scalar(&v, AGX_OPEN_CRITICAL, &x) && x.number == 1);
  CHECK(agx_scalar(&v, AGX_CLOCK_STATE, &x) && x.number == 2); /* holdover(2) */
  CHECK(agx_scalar(&v, AGX_OUTBOX_PENDING, &x) && x.number == 4);
  /* the NTP server's counters, Counter64 */
  CHECK(agx_scalar(&v, AGX_SERVER_REQUESTS, &x) && x.type == AGX_COUNTER64 &&
        x.counter == UINT64_C(5000000000));
  CHECK(agx_scalar(&v, AGX_SERVER_ANSWERED, &x) && x.counter == 7);
  CHECK(agx_scalar(&v, AGX_SERVER_DROPPED, &x) && x.counter == 12);
  v.serve = NULL;
  CHECK(!agx_scalar(&v, AGX_SERVER_REQUESTS, &x));
  CHECK(!agx_scalar(&v, 0, &x));
  CHECK(!agx_scalar(&v, AGX_SCALAR_LAST + 1, &x));
}

static void test_scalars_not_vetted(void) {
  struct agx_view v = view();
  struct agx_value x;
  vote.verdict.vetted = false;
  snprintf(vote.verdict.why_not, sizeof vote.verdict.why_not, "no majority among 3 classes");
  CHECK(agx_scalar(&v, AGX_VETTED, &x) && x.number == 2); /* TruthValue false(2) */
  CHECK(!agx_scalar(&v, AGX_VETTED_OFFSET_NS, &x));       /* no instance */
  CHECK(!agx_scalar(&v, AGX_VETTED_BOUND_NS, &x));
  CHECK(agx_scalar(&v, AGX_VETTED_OFFSET, &x) && x.text[0] == '\0');
  CHECK(agx_scalar(&v, AGX_WHY_NOT_VETTED, &x) && strstr(x.text, "no majority"));
  vote.valid = false; /* before the first round */
  CHECK(agx_scalar(&v, AGX_VETTED, &x) && x.number == 2);
  CHECK(agx_scalar(&v, AGX_WHY_NOT_VETTED, &x) && strcmp(x.text, "no vote round yet") == 0);
  CHECK(agx_scalar(&v, AGX_AGREEING_SOURCES, &x) && x.number == 0);
  outbox.valid = false;
  CHECK(!agx_scalar(&v, AGX_OUTBOX_PENDING, &x));
  v.clock = NULL; /* never published: refusing(3) */
  CHECK(agx_scalar(&v, AGX_CLOCK_STATE, &x) && x.number == 3);
}

static void test_cells(void) {
  struct agx_view v = view();
  struct agx_value x;
  CHECK(agx_cell(&v, AGX_COL_NAME, 1, &x) && strcmp(x.text, "gps.example:123") == 0);
  CHECK(agx_cell(&v, AGX_COL_CLASS, 2, &x) && strcmp(x.text, "DCF") == 0);
  CHECK(agx_cell(&v, AGX_COL_VOTE_STATE, 1, &x) && x.number == 15);   /* best(15) */
  CHECK(agx_cell(&v, AGX_COL_OFFSET_NS, 1, &x) && x.number == -25000);
  CHECK(agx_cell(&v, AGX_COL_BOUND_NS, 1, &x) && x.number == 40000);
  CHECK(agx_cell(&v, AGX_COL_OFFSET, 1, &x) && strcmp(x.text, "-0.000025000") == 0);
  CHECK(agx_cell(&v, AGX_COL_STRATUM, 1, &x) && x.number == 1);
  CHECK(agx_cell(&v, AGX_COL_REACH, 1, &x) && x.number == 255);
  /* holes: no sample, no response, no vote round yet */
  CHECK(!agx_cell(&v, AGX_COL_OFFSET_NS, 2, &x));
  CHECK(!agx_cell(&v, AGX_COL_BOUND_NS, 2, &x));
  CHECK(agx_cell(&v, AGX_COL_OFFSET, 2, &x) && x.text[0] == '\0');
  CHECK(!agx_cell(&v, AGX_COL_STRATUM, 2, &x));
  CHECK(!agx_cell(&v, AGX_COL_VOTE_STATE, 2, &x));
  /* rows and columns that do not exist */
  CHECK(!agx_cell(&v, AGX_COL_NAME, 0, &x));
  CHECK(!agx_cell(&v, AGX_COL_NAME, 3, &x));
  CHECK(!agx_cell(&v, 1, 1, &x)); /* the index column is not-accessible */
  CHECK(!agx_cell(&v, AGX_COL_LAST + 1, 1, &x));
}

/* The MIB's vtSourceVoteState numbering is source_state + 1: pin it. */
static void test_vote_state_numbers(void) {
  CHECK_INT(SS_NO_SAMPLE + 1, 1);
  CHECK_INT(SS_FALSETICKER + 1, 9);
  CHECK_INT(SS_CLASS_OUTVOTED + 1, 10);
  CHECK_INT(SS_BEST + 1, 15);
  CHECK_INT(SS_STATE_COUNT, 15);
}

static struct vt_config cfg;
static char err[600];
static int parse(const char *text) { return config_parse("t.conf", text, &cfg, err, sizeof err); }

static void test_directives(void) {
  CHECK_INT(parse(""), 0);
  CHECK(!agentx_config_of(&cfg)->enabled);
  CHECK_INT(agentx_config_of(&cfg)->ping, 5);
  CHECK_STR(web_config_of(&cfg)->token_file, "");
  config_free(&cfg);
  CHECK_INT(parse("agentx /var/agentx/master\nhttptoken /etc/vettime/http.token\n"), 0);
  CHECK(agentx_config_of(&cfg)->enabled);
  CHECK_STR(agentx_config_of(&cfg)->socket, "/var/agentx/master");
  CHECK_STR(web_config_of(&cfg)->token_file, "/etc/vettime/http.token");
  config_free(&cfg);
  CHECK_INT(parse("agentx tcp:127.0.0.1:705 ping 10 timeout 2\n"), 0);
  CHECK_INT(agentx_config_of(&cfg)->ping, 10);
  CHECK_INT(agentx_config_of(&cfg)->timeout, 2);
  config_free(&cfg);
  CHECK_INT(parse("agentx /x\nagentx off\n"), 0);
  CHECK(!agentx_config_of(&cfg)->enabled);
  config_free(&cfg);
  CHECK_INT(parse("agentx udp:127.0.0.1:705\n"), -1);
  CHECK(strstr(err, "t.conf:1: agentx: \"udp:127.0.0.1:705\" is not an AgentX socket"));
  CHECK_INT(parse("\nagentx /x ping 0\n"), -1);
  CHECK(strstr(err, "t.conf:2:"));
  CHECK_INT(parse("agentx /x timeout 6\n"), -1);
  CHECK_INT(parse("agentx /x bogus 1\n"), -1);
  CHECK(strstr(err, "unknown option \"bogus\""));
  CHECK_INT(parse("agentx\n"), -1);
  CHECK_INT(parse("agentx tcp:127.0.0.1:\n"), -1);
  CHECK_INT(parse("httptoken relative/file\n"), -1);
  CHECK(strstr(err, "absolute path"));
  CHECK_INT(parse("httptoken /a /b\n"), -1);
}

int main(void) {
  unit_init();
  if (agentx_config_register() || web_config_register()) {
    fprintf(stderr, "registering the directives failed\n");
    return 1;
  }
  RUN(test_ns_conversions);
  RUN(test_scalars_vetted);
  RUN(test_scalars_not_vetted);
  RUN(test_cells);
  RUN(test_vote_state_numbers);
  RUN(test_directives);
  return unit_done();
}
