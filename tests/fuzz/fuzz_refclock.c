/* libFuzzer target: the two refclock hand-over formats another process
 * writes (probes/shm_sock.h): a chrony SOCK datagram of any length and
 * content, and an NTP shared-memory segment of any content with any count
 * read after the copy. An accepted sample must have a finite offset, a leap
 * of 0..2 and a normalised local time; a refusal is a known check. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/shm_sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void accepted(const struct refclock_sample *s) {
  if (!isfinite(s->offset) || s->leap < 0 || s->leap > 2 || s->local.tv_nsec < 0 ||
      s->local.tv_nsec >= 1000000000L || !isfinite(s->precision))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct refclock_sample out;
  enum refclock_check c = sock_decode(data, size, &out);
  if (c == RC_OK) accepted(&out);
  else if (c >= RC_CHECK_COUNT || !refclock_check_name(c)) abort();

  struct shm_time snap;
  memset(&snap, 0, sizeof snap);
  memcpy(&snap, data, size < sizeof snap ? size : sizeof snap);
  int count_after = snap.count;
  if (size > sizeof snap) count_after += data[sizeof snap] % 3 - 1;
  c = shm_decode(&snap, count_after, &out);
  if (c == RC_OK) accepted(&out);
  else if (c >= RC_CHECK_COUNT) abort();
  return 0;
}
