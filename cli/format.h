/* Human-readable renderings of the daemon's JSON API documents (web/api.h)
 * for the `vettime` command-line tool. Pure: parsed JSON in, text out on a
 * FILE*, no I/O of their own, so the exact output is unit tested.
 *
 * Durations are printed with an adaptive unit (format_duration()):
 *   |v| >= 1e10 s      "+1.000e+10s"   centuries, kept narrow
 *   |v| >= 10000 s     "+157680000s"   whole seconds
 *   1 s  <= |v|        "+1.000s"       3 decimals
 *   1 ms <= |v| < 1 s  "+250.000ms"    3 decimals
 *   1 us <= |v| < 1 ms "+250.000us"    3 decimals
 *   |v| < 1 us         "+50ns"         whole nanoseconds
 * The unit is chosen after rounding, so 0.9999996 s is "+1.000s", never
 * "+1000.000ms". A missing value (null or absent) is "-". */
#ifndef VT_FORMAT_H
#define VT_FORMAT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Formats seconds into buf (at least FORMAT_DURATION_LEN bytes) as above,
 * with a leading sign when `sign` is set. Returns buf. */
#define FORMAT_DURATION_LEN 32
const char *format_duration(double seconds, bool sign, char *buf, size_t len);

/* The /api/v1/sources document as a table in the spirit of `chronyc
 * sources`: a header line, a rule, then one line per source with the
 * columns Name, Class, Str, Refid, Reach (octal), Poll, Offset and +/-Bound
 * (the last raw sample's offset and error bound) and State. A configured
 * (not inferred) class is marked with '*'. Returns 0, or -1 if the document
 * does not have the expected shape (nothing is printed then). */
int format_sources_table(json_object *sources_doc, FILE *out);

/* The /api/v1/status document as a short summary, one fact a line.
 * Returns 0, or -1 if the document is not an object. */
int format_status(json_object *status_doc, FILE *out);

#endif
