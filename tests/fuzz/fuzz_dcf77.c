/* libFuzzer target: the DCF77 decoder (probes/dcf77.c). The first byte
 * chooses a mode: minutes (the rest as bits, cut into minutes of 58..61
 * bits, each judged against the ones before, with marks a minute apart or
 * not) or pulses (pairs of bytes: the gap in 1/64 s and the width in ms,
 * as a raw receiver would deliver them, including serial bytes turned
 * into widths at 50 and 75 baud). */
#include <stdint.h>
#include <string.h>

#include "probes/dcf77.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void minutes(const uint8_t *data, size_t size) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  uint8_t bits[64];
  double mark = 0;
  dcf77_init(&d);
  for (size_t at = 0; at < size;) {
    int n = 58 + data[at] % 4;
    at++;
    for (int i = 0; i < n; i++) bits[i] = at + (size_t)i / 8 < size ? (data[at + (size_t)i / 8] >> (i % 8)) & 1 : 0;
    at += 8;
    mark += (at < size && data[at - 1] & 0x80) ? 120 : 60;
    dcf77_minute(&d, bits, n > 60 ? 60 : n, mark, &r);
    struct dcf77_telegram tg;
    dcf77_parse(bits, n, &tg, r.why, sizeof r.why);
  }
}

static void pulses(const uint8_t *data, size_t size) {
  struct dcf77_decoder d;
  struct dcf77_result r;
  double t = 1e9;
  dcf77_init(&d);
  for (size_t at = 0; at + 1 < size; at += 2) {
    t += data[at] / 64.0;
    double w = (data[at] & 1) ? dcf77_byte_width_ms(data[at + 1], (data[at] & 2) ? 75 : 50) : data[at + 1] * 1.2;
    dcf77_pulse(&d, t, w, &r);
  }
  dcf77_cutoff(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1) minutes(data + 1, size - 1);
  else pulses(data + 1, size - 1);
  return 0;
}
