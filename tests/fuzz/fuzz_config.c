/* libFuzzer target: the configuration file (monitor/config.c) with every
 * directive family the daemon registers (alerting, web, agentx, server),
 * over arbitrary text as config_load() would read it. Every answer is a
 * configuration (freed) or a refusal that names the line (in fuzz.conf, or
 * in a file it includes: "... (included from fuzz.conf:N)"), never a crash
 * or a leak. The text is parsed as the file fuzz.conf of a temporary
 * directory holding two small files (a.conf, b.conf, one including the
 * other), which relative `include` and `confdir` arguments find; input
 * naming an absolute path, or going up with "..", is skipped, so that the
 * fuzzer never reads the machine's own files. (No chdir: libFuzzer's
 * corpus paths are relative.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerting/alert_config.h"
#include "monitor/config.h"
#include "server/server_config.h"
#include "snmp/agentx_config.h"
#include "web/web_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/vettime-fuzz-config-XXXXXX";

static char name[64], a_conf[64], b_conf[64];

static void remove_dir(void) {
  unlink(a_conf);
  unlink(b_conf);
  rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int registered;
  if (!registered) {
    if (alert_config_register() || web_config_register() || agentx_config_register() ||
        server_config_register())
      abort();
    if (!mkdtemp(dir)) abort();
    snprintf(name, sizeof name, "%s/fuzz.conf", dir);
    snprintf(a_conf, sizeof a_conf, "%s/a.conf", dir);
    snprintf(b_conf, sizeof b_conf, "%s/b.conf", dir);
    atexit(remove_dir);
    FILE *f = fopen(a_conf, "w");
    if (!f) abort();
    fputs("server 127.0.0.1 port 12300\ninclude b.conf\n", f);
    fclose(f);
    if (!(f = fopen(b_conf, "w"))) abort();
    fputs("gpsd 127.0.0.1\nminsources 1\n", f);
    fclose(f);
    registered = 1;
  }
  if (memchr(data, '/', size) && (memmem(data, size, "include", 7) || memmem(data, size, "confdir", 7)))
    return 0; /* an absolute path or "..": the machine's files */
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  struct vt_config cfg;
  char err[512] = "";
  char from[96];
  snprintf(from, sizeof from, "(included from %s:", name);
  if (config_parse(name, text, &cfg, err, sizeof err) == 0)
    config_free(&cfg);
  else if (strncmp(err, name, strlen(name)) != 0 && !strstr(err, from))
    abort(); /* a refusal without the file's name */
  free(text);
  return 0;
}
