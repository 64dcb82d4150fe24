/* Threshold ranges in the monitoring-plugins syntax (Nagios/Icinga plugin
 * guidelines, "Threshold and Ranges",
 * https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT),
 * for `vettime check`. A range says which values are fine; a value outside
 * it raises the alert (or inside it, with '@'):
 *
 *   "10"      alert if v < 0 or v > 10      (start 0, end 10)
 *   "10:"     alert if v < 10               (end +infinity)
 *   "~:10"    alert if v > 10               (start -infinity)
 *   "10:20"   alert if v < 10 or v > 20     (the ends themselves are fine)
 *   "@10:20"  alert if 10 <= v <= 20        (inclusive, inverted)
 *
 * Stricter than the reference C library, which ignores trailing garbage:
 * anything that is not exactly one of these forms is refused with a
 * reason, and so are an empty start (":10": write "0:10" or "~:10"), "~"
 * as an end, non-finite numbers and a start above the end.
 *
 * Quantities of time (RANGE_SECONDS) take a unit on each number: "ns",
 * "us", "ms", "s" ("100us", "1ms:2ms"); a bare number is seconds, as in
 * check_ntp_time. Counts (RANGE_PLAIN) take no unit. Pure: no I/O. */
#ifndef VT_RANGE_H
#define VT_RANGE_H

#include <stdbool.h>
#include <stddef.h>

enum range_unit { RANGE_PLAIN, RANGE_SECONDS };

struct vt_range {
  double start, end; /* in the base unit; -INFINITY / INFINITY when open */
  bool inside;       /* '@': the alert is inside [start, end] */
  char text[48];     /* as written, for messages */
};

/* Parses text into *out. Returns 0, or -1 with the reason in err (e.g.
 * "bad range \"10:5\": start 10 is above end 5"). */
int range_parse(const char *text, enum range_unit unit, struct vt_range *out,
                char *err, size_t errlen);

/* True when v raises the alert under r. A NaN value never does (the
 * caller reports an undetermined value in its own way). */
bool range_alerts(const struct vt_range *r, double v);

/* A number as perfdata wants it, in the class [-0-9.] (no exponent):
 * fixed point to the nanosecond, trailing zeros dropped ("0.0001", "3",
 * "-0.000012345"). Returns buf. */
const char *range_number(double v, char *buf, size_t len);

/* The range in the base unit and the canonical syntax ("0.0001",
 * "2:", "~:0.001", "@10:20"), for the warn and crit fields of perfdata,
 * which must use the value's own unit. Returns buf. */
const char *range_format(const struct vt_range *r, char *buf, size_t len);

#endif
