/* libFuzzer target: the history API's parameters (web/api.c, issue 11)
 * over arbitrary text. The input is split at NUL bytes into source, from,
 * to and step (a missing piece is an absent parameter); every answer must
 * be an accepted request within the limits, or a refusal with a reason,
 * never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  const char *part[4] = {NULL, NULL, NULL, NULL};
  size_t at = 0;
  for (int i = 0; i < 4 && at <= size; i++) {
    part[i] = text + at;
    at += strlen(text + at) + 1;
  }
  char why[256] = "";
  struct api_history_request q;
  const int64_t now = 1764460800LL * 1000000000LL;
  if (api_parse_history(part[1], part[2], part[3], now, &q, why, sizeof why) == 0) {
    if (q.from_ns > q.to_ns || q.step_ns <= 0 || q.points < 1 || q.points > HISTORY_MAX_POINTS ||
        q.step_ns % history_resolution_width(q.res) != 0)
      abort();
  } else if (!why[0]) {
    abort(); /* a refusal without its reason */
  }
  why[0] = '\0';
  if (api_check_source(part[0], why, sizeof why) != 0 && !why[0]) abort();
  int64_t t;
  why[0] = '\0';
  if (api_parse_time(part[0] ? part[0] : "", &t, why, sizeof why) != 0 && !why[0]) abort();
  free(text);
  return 0;
}
