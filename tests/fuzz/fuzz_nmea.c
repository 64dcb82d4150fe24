/* libFuzzer target: the NMEA 0183 decoder (probes/nmea.c) over arbitrary
 * bytes. The input is framed in chunks whose sizes come from the input
 * itself (so split sentences are exercised), every frame is parsed, and
 * every sentence is fed to a receiver; the sentence text is also parsed
 * directly, without the framer's guarantees. */
#include <stdint.h>
#include <string.h>

#include "probes/nmea.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_frame(struct nmea_receiver *r, const struct nmea_frame *f) {
  struct nmea_sentence s;
  struct nmea_time t;
  char why[96];
  char sats[128];
  if (f->kind != NMEA_FRAME_SENTENCE) return;
  if (nmea_parse(f->text, &s, why, sizeof why) == NMEA_OK && nmea_receiver_update(r, &s, f->stamp, &t))
    nmea_format_sats(t.used, t.in_view, sats, sizeof sats);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct nmea_framer f;
  struct nmea_receiver r;
  nmea_framer_init(&f);
  nmea_receiver_init(&r);
  size_t at = 0, step = size ? (size_t)(data[0] % 17) + 1 : 1;
  while (at < size) {
    size_t len = size - at < step ? size - at : step;
    for (size_t used = 0; used < len;) {
      struct nmea_frame fr;
      used += nmea_framer_push(&f, data + at + used, len - used, (double)at, 0.001, &fr);
      use_frame(&r, &fr);
    }
    at += len;
    step = (size_t)(data[at % size] % 61) + 1;
  }
  char line[NMEA_MAX_SENTENCE + 8];
  size_t n = size < sizeof line - 1 ? size : sizeof line - 1;
  memcpy(line, data, n);
  line[n] = '\0';
  struct nmea_sentence s;
  nmea_parse(line, &s, NULL, 0);
  return 0;
}
