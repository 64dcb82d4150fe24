/* Names of the event kinds (see events.h). The names are a contract: they
 * appear in the history, the API, the logs and the alarm lines. */
#include "monitor/events.h"

#include <string.h>

static const char *const kind_names[EV_COUNT] = {
    [EV_STEP] = "step",
    [EV_DRIFT] = "drift",
    [EV_SLOW_WALK] = "slow-walk",
    [EV_LOCAL_STEP] = "local-step",
    [EV_LOCAL_FREQ] = "local-freq",
    [EV_FALSETICKER] = "falseticker",
    [EV_QUORUM_LOST] = "quorum-lost",
    [EV_CLASS_LOST] = "class-lost",
    [EV_UNREACHABLE] = "unreachable",
    [EV_STRATUM_CHANGE] = "stratum-change",
    [EV_REFID_CHANGE] = "refid-change",
    [EV_LEAP_DISAGREE] = "leap-disagree",
    [EV_KOD] = "kod",
    [EV_AUTH_FAIL] = "auth-fail",
    [EV_DATE_FAR] = "date-far",
    [EV_DEGRADED] = "degraded",
    [EV_WITNESS] = "witness",
    [EV_HOLDOVER] = "holdover",
    [EV_REFUSING] = "refusing",
};

const char *event_kind_name(enum event_kind k) {
  return (k >= 0 && k < EV_COUNT) ? kind_names[k] : "unknown";
}

int event_kind_parse(const char *name, enum event_kind *out) {
  for (int k = 0; k < EV_COUNT; k++) {
    if (strcmp(name, kind_names[k]) == 0) {
      *out = (enum event_kind)k;
      return 0;
    }
  }
  return -1;
}

bool event_kind_is_pulse(enum event_kind k) {
  switch (k) {
  case EV_STEP: case EV_LOCAL_STEP:
  case EV_STRATUM_CHANGE: case EV_REFID_CHANGE: case EV_DEGRADED: case EV_WITNESS:
    return true;
  default:
    return false;
  }
}
