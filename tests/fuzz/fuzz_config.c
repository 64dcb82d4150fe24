/* libFuzzer target: the configuration file (monitor/config.c) with every
 * directive family the daemon registers (alerting, web, agentx, server),
 * over arbitrary text as config_load() would read it. Every answer is a
 * configuration (freed) or a refusal that names the line (in fuzz.conf, or
 * in a file it includes: "... (included from fuzz.conf:N)"), never a crash
 * or a leak. `include` and `confdir` are fuzzed inside an empty temporary
 * directory holding two small files (a.conf, b.conf, one including the
 * other); input naming an absolute path, or going up with "..", is
 * skipped, so that the fuzzer never reads the machine's own files. */
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

static void remove_dir(void) {
  unlink("a.conf");
  unlink("b.conf");
  if (chdir("/") == 0) rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int registered;
  if (!registered) {
    if (alert_config_register() || web_config_register() || agentx_config_register() ||
        server_config_register())
      abort();
    if (!mkdtemp(dir) || chdir(dir) != 0) abort();
    atexit(remove_dir);
    FILE *f = fopen("a.conf", "w");
    if (!f) abort();
    fputs("server 127.0.0.1 port 12300\ninclude b.conf\n", f);
    fclose(f);
    if (!(f = fopen("b.conf", "w"))) abort();
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
  if (config_parse("fuzz.conf", text, &cfg, err, sizeof err) == 0)
    config_free(&cfg);
  else if (strncmp(err, "fuzz.conf", 9) != 0 && !strstr(err, "(included from fuzz.conf:"))
    abort(); /* a refusal without the file's name */
  free(text);
  return 0;
}
