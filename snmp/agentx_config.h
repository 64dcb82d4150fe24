/* The `agentx` directive (registered with the configuration parser of
 * monitor/config.h from both programs' mains, like alerting's):
 *
 *   agentx SOCKET [ping SECONDS] [timeout SECONDS]
 *   agentx off                                   (the default)
 *
 * SOCKET is the AgentX master agent's socket (RFC 2741 §8): a Unix socket
 * path ("/var/agentx/master", net-snmp's default; also "unix:/path") or
 * "tcp:HOST:PORT" (e.g. tcp:127.0.0.1:705). ping (default 5 s) is how often
 * the subagent checks the master and, once it is gone, tries to connect
 * again; timeout (default 1 s, at most 5) bounds each AgentX exchange,
 * which is what the daemon's loop waits at worst while (re)connecting:
 * net-snmp opens the session and registers synchronously.
 *
 * Pure: no I/O. */
#ifndef VT_AGENTX_CONFIG_H
#define VT_AGENTX_CONFIG_H

#include <stdbool.h>

struct vt_config;

struct agentx_config {
  bool enabled;
  char socket[256];
  int ping;              /* s */
  int timeout;           /* s */
  int line;              /* of the directive, for messages */
};

/* Registers the directive; call from main before the first config_load().
 * Returns 0, or -1 (a bug). */
int agentx_config_register(void);

/* The parsed directive of cfg (agentx_config_register() must have run
 * before cfg was parsed). */
const struct agentx_config *agentx_config_of(const struct vt_config *cfg);

#endif
