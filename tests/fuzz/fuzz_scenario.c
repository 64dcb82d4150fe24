/* libFuzzer target: the simulator's scenario files (cli/scenario.c) over
 * arbitrary text. A parsed scenario is then walked the way `vettime
 * simulate` walks it: every server's state at its events' times and at the
 * end, and every event described. The loopback address parser gets the
 * first line too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  static struct scenario s; /* large: kept off the stack */
  char err[512] = "";
  if (scenario_parse("fuzz.scn", text, &s, err, sizeof err) == 0) {
    if (s.n_servers < 1 || s.n_servers > SCN_MAX_SERVERS || s.n_events < 0 ||
        s.n_events > SCN_MAX_EVENTS || !(s.duration > 0))
      abort();
    struct scn_state st;
    char line[256];
    for (int e = 0; e < s.n_events; e++) {
      scenario_describe_event(&s, &s.events[e], line, sizeof line);
      for (int i = 0; i < s.n_servers; i++) scenario_state_at(&s, i, s.events[e].t, &st);
    }
    for (int i = 0; i < s.n_servers; i++) {
      scenario_state_at(&s, i, s.duration, &st);
      if (scenario_find_server(&s, s.servers[i].name) != i) abort();
    }
  } else if (strncmp(err, "fuzz.scn", 8) != 0) {
    abort();
  }
  char *nl = strchr(text, '\n');
  if (nl) *nl = '\0';
  uint32_t addr;
  const char *why = NULL;
  if (scenario_parse_loopback(text, &addr, &why) == 0) {
    if ((addr >> 24) != 127) abort();
    char buf[SCN_ADDR_LEN];
    scenario_format_addr(addr, buf);
    uint32_t again;
    if (scenario_parse_loopback(buf, &again, &why) != 0 || again != addr) abort();
  } else if (!why) {
    abort();
  }
  free(text);
  return 0;
}
