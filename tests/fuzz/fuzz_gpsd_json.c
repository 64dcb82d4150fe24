/* libFuzzer target: the gpsd JSON decoder (probes/gpsd_json.c) over
 * arbitrary bytes. The input is decoded whole (one line, as the driver's
 * bounded line buffer hands it over), then split at newlines and fed line
 * by line through what the driver does with each message: the time filter,
 * the per-epoch satellite window, the class and the health text. */
#include <stdint.h>
#include <string.h>

#include "probes/gpsd_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void feed(const struct gpsd_msg *m, struct gpsd_time_filter *f,
                 struct gpsd_sky_window *w, struct gpsd_health *h) {
  char text[200];
  if (m->cls == GPSD_MSG_SKY) gpsd_sky_window_add(w, &m->u.sky);
  if (m->cls != GPSD_MSG_TPV) return;
  if (gpsd_time_filter_tpv(f, &m->u.tpv) == GPSD_TIME_REPEAT) return;
  struct gpsd_health next = *h;
  next.mode = m->u.tpv.mode;
  next.jam = m->u.tpv.jam;
  next.ant = m->u.tpv.ant;
  next.sky_known = gpsd_sky_window_close(w, next.used, &next.used_other) || h->sky_known;
  (void)gpsd_class_from_used(next.used);
  (void)gpsd_health_drops(h, &next);
  *h = next;
  gpsd_health_format(h, text, sizeof text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct gpsd_msg m;
  const char *text = (const char *)data;
  gpsd_json_decode_line(text, size, &m);

  struct gpsd_time_filter f;
  struct gpsd_sky_window w = {0};
  struct gpsd_health h = {.jam = -1};
  gpsd_time_filter_init(&f, 0, GPSD_LEAP_AUTO);
  size_t start = 0;
  for (size_t i = 0; i <= size; i++) {
    if (i < size && text[i] != '\n') continue;
    if (gpsd_json_decode_line(text + start, i - start, &m) == GPSD_OK) feed(&m, &f, &w, &h);
    start = i + 1;
  }
  return 0;
}
