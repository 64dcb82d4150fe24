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

#endif
