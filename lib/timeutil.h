/* Time helpers shared by every floor: a struct timespec as seconds in a
 * double, the form the measurements, ages and logs use. A double holds a
 * Unix time to about 0.2 us, so an interval between two readings is taken
 * from the difference of the fields, not of two converted readings. */
#ifndef VT_TIMEUTIL_H
#define VT_TIMEUTIL_H

#include <time.h>

/* t in seconds (since the epoch of its clock). */
static inline double timespec_seconds(struct timespec t) {
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* later - earlier in seconds, exact to the nanosecond before rounding. */
static inline double timespec_diff_seconds(struct timespec later, struct timespec earlier) {
  return (double)(later.tv_sec - earlier.tv_sec) + (later.tv_nsec - earlier.tv_nsec) * 1e-9;
}

/* Whether a kernel packet timestamp (SO_TIMESTAMPNS) can stand for the
 * process's CLOCK_REALTIME: it must not be after `now` (read right after
 * the packet) nor more than a second before it. Otherwise the clock this
 * process reads is not the kernel's (libfaketime shifts clock_gettime but
 * not the kernel's stamps: a daemon under `faketime -f +2` would mix two
 * clocks two seconds apart in one exchange), and `now` is used instead. */
static inline int kernel_stamp_usable(struct timespec kernel, struct timespec now) {
  double d = timespec_diff_seconds(now, kernel);
  return kernel.tv_sec != 0 && d >= 0 && d < 1.0;
}

#endif
