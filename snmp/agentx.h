/* SNMP polling: an AgentX subagent (RFC 2741) that serves VETTIME-MIB's
 * vtStatus scalars and vtSourceTable (schema/VETTIME-MIB.txt) through the
 * site's master agent (Debian's snmpd), so that LibreNMS, Zabbix or
 * Observium can poll what the traps announce. A face: every answer is read
 * from the published reports (monitor/report.h), never from another
 * module's state.
 *
 * net-snmp's agent library in subagent mode, driven by the daemon's loop
 * (lib/sched.h) instead of its own: the descriptors snmp_select_info()
 * names are watched with sched_add_fd() and read with snmp_read(); one
 * timer runs net-snmp's timeouts and alarms (run_alarms: the AgentX ping,
 * and the reconnection to a master that went away, every `ping` seconds).
 * net-snmp signals nothing (NETSNMP_DS_LIB_ALARM_DONT_USE_SIG).
 *
 * What can wait: opening the AgentX session and registering the two
 * subtrees are synchronous in net-snmp, each bounded by the directive's
 * timeout (1 s by default, no retries); a master on the same host answers
 * in well under a millisecond. Answering a request reads two or three
 * reports and never waits.
 *
 * Start-up order: before alerting (net-snmp's agent must be initialised
 * before the library's first init_snmp(), which the SNMP trap sink would
 * otherwise call); the configuration is read once (a reload does not
 * change it). Single-threaded (the daemon's loop). */
#ifndef VT_AGENTX_H
#define VT_AGENTX_H

#include <stddef.h>

#include "snmp/agentx_config.h"

/* Starts the subagent (c->enabled must be true): connects to the master
 * (a master that is not there yet is no error: the subagent tries again
 * every ping seconds) and registers with the event loop. Returns 0, or -1
 * with a message in err. */
int agentx_start(const struct agentx_config *c, char *err, size_t errlen);

/* Stops watching the session (the master drops our registrations when the
 * process exits). Harmless when not started. */
void agentx_stop(void);

#endif
