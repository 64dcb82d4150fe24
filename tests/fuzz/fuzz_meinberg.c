/* libFuzzer target: the Meinberg standard time string decoder
 * (probes/meinberg.c): the input through the STX/ETX framer in chunks,
 * every frame parsed and judged, and the input parsed directly as a body
 * (any length, not NUL-terminated). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/meinberg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct meinberg_framer f;
  struct meinberg_checker c = {0};
  struct meinberg_time t;
  char why[96];
  meinberg_framer_init(&f);
  for (size_t at = 0; at < size;) {
    size_t len = size - at < 7 ? size - at : 7;
    for (size_t used = 0; used < len;) {
      struct meinberg_frame fr;
      used += meinberg_framer_push(&f, data + at + used, len - used, (double)at, 0.001, &fr);
      if (fr.kind == MB_FRAME_STRING && meinberg_parse(fr.text, fr.len, &t, why, sizeof why) <= MB_UNSYNCED)
        meinberg_judge(&c, &t, (double)at / 30, why, sizeof why);
    }
    at += len;
  }
  char *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees an overread */
  if (!copy) return 0;
  memcpy(copy, data, size);
  meinberg_parse(copy, size, &t, why, sizeof why);
  free(copy);
  return 0;
}
