/* The sink registry (see sink.h). */
#include "alerting/sink.h"

const struct sink_ops *sink_ops_for(enum alert_sink_kind kind) {
  switch (kind) {
  case ALERT_SINK_SYSLOG: return &sink_syslog_ops;
  case ALERT_SINK_MAIL: return &sink_mail_ops;
  case ALERT_SINK_SNMP: return &sink_snmp_ops;
  }
  return NULL;
}
