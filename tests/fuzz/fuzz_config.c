/* libFuzzer target: the configuration file (monitor/config.c) with every
 * directive family the daemon registers (alerting, web, agentx, server),
 * over arbitrary text as config_load() would read it. Every answer is a
 * configuration (freed) or a refusal that names the line, never a crash or
 * a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerting/alert_config.h"
#include "monitor/config.h"
#include "server/server_config.h"
#include "snmp/agentx_config.h"
#include "web/web_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int registered;
  if (!registered) {
    if (alert_config_register() || web_config_register() || agentx_config_register() ||
        server_config_register())
      abort();
    registered = 1;
  }
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  struct vt_config cfg;
  char err[512] = "";
  if (config_parse("fuzz.conf", text, &cfg, err, sizeof err) == 0)
    config_free(&cfg);
  else if (strncmp(err, "fuzz.conf", 9) != 0)
    abort(); /* a refusal without the file's name */
  free(text);
  return 0;
}
