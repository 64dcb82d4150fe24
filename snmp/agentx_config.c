/* The agentx directive (see agentx_config.h). */
#include "snmp/agentx_config.h"

#include <assert.h>
#include <string.h>

#include "lib/lineparse.h"
#include "monitor/config_family.h"

/* RFC 2741 transports as net-snmp names them: a Unix socket path, or TCP. */
static bool socket_ok(const char *s) {
  if (s[0] == '/') return true;
  if (strncmp(s, "unix:/", 6) == 0) return true;
  if (strncmp(s, "tcp:", 4) == 0 || strncmp(s, "tcp6:", 5) == 0) {
    const char *port = strrchr(s, ':');
    return port && port[1] && strspn(port + 1, "0123456789") == strlen(port + 1);
  }
  return false;
}

static int family_directive(void *state, struct lp_ctx *p, char **argv, int argc) {
  struct agentx_config *c = state;
  if (strcmp(argv[0], "agentx") != 0) return lp_fail(p, "unknown directive \"%s\"", argv[0]);
  if (argc == 2 && strcmp(argv[1], "off") == 0) {
    c->enabled = false;
    return 0;
  }
  if (argc < 2 || argc % 2 != 0)
    return lp_fail(p, "agentx: expected \"agentx SOCKET [ping SECONDS] [timeout SECONDS]\" "
                      "or \"agentx off\"");
  if (!socket_ok(argv[1]))
    return lp_fail(p, "agentx: \"%s\" is not an AgentX socket (a Unix socket path such as "
                      "/var/agentx/master, or tcp:HOST:PORT)", argv[1]);
  if (lp_copy(p, "agentx socket", argv[1], c->socket, sizeof c->socket)) return -1;
  for (int i = 2; i < argc; i += 2) {
    long long v;
    if (strcmp(argv[i], "ping") == 0) {
      if (lp_int(p, "agentx ping", argv[i + 1], 1, 3600, &v)) return -1;
      c->ping = (int)v;
    } else if (strcmp(argv[i], "timeout") == 0) {
      if (lp_int(p, "agentx timeout", argv[i + 1], 1, 5, &v)) return -1;
      c->timeout = (int)v;
    } else {
      return lp_fail(p, "agentx: unknown option \"%s\" (ping, timeout)", argv[i]);
    }
  }
  c->enabled = true;
  c->line = p->line;
  return 0;
}

static void family_defaults(void *state) {
  struct agentx_config *c = state;
  memset(c, 0, sizeof *c);
  c->ping = 5;
  c->timeout = 1;
}

static const char *const family_directives[] = {"agentx", NULL};
static const struct config_family family = {
    .directives = family_directives,
    .state_size = sizeof(struct agentx_config),
    .defaults = family_defaults,
    .directive = family_directive,
};

int agentx_config_register(void) { return config_register_family(&family); }

const struct agentx_config *agentx_config_of(const struct vt_config *cfg) {
  const struct agentx_config *c = config_family_state(cfg, &family);
  assert(c && "agentx_config_register() before the configuration is parsed");
  return c;
}
