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
 * "+1000.000ms". A missing value (null or absent) is "-".
 *
 * Times of day are ISO 8601 UTC: "2023-11-14T22:13:20.250Z" (milliseconds)
 * in the status, vote and events renderings, "2023-11-14T22:13:20Z" in the
 * narrower alarms table. */
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

/* An age in whole seconds as `chronyc sources` prints LastRx: "42",
 * "9999", then "166m", "9999h"... , "416d"; "-" for NaN. Into buf (at least
 * 16 bytes); returns buf. */
const char *format_age(double seconds, char *buf, size_t len);

/* The /api/v1/sources document as a table in the spirit of `chronyc
 * sources`: a header line, a rule, then one line per source with the
 * columns Name, Class, Str, Refid, Reach, Poll, LastRx, Offset and
 * +/-Bound (the last raw sample's offset and error bound), Vote (the
 * source's state in the last vote round, "-" before the first) and State
 * (the probe's). A configured (not inferred) class is marked with '*'.
 * Reach is the 8-bit register in octal with C's leading zero ("0377": the
 * last eight polls answered; the JSON has the number, 255); LastRx the
 * seconds since the source's last valid sample, against the document's
 * "now" when it has one, else against `now` (Unix s). An empty list is
 * followed by "no sources configured". Returns 0, or -1 if the document
 * does not have the expected shape (nothing is printed then). */
int format_sources_table(json_object *sources_doc, double now, FILE *out);

/* The sources document's per-source statistics (each source's "stats"
 * object) as a table in the spirit of `chronyc sourcestats`: Name, Class,
 * NP (samples behind the estimate), Freq ppm (the source's frequency
 * against the vetted time: the slope of its offset from the vetted offset;
 * "-" until measured), Jitter, Offset (the estimate) and Std Dev (of the
 * estimate). Returns 0, or -1 if the document does not have the expected
 * shape. */
int format_sourcestats(json_object *sources_doc, FILE *out);

/* The status, vote and alarms documents as a short summary, one fact a
 * line, the verdict first:
 *   "Vetted:          yes, offset +12.345us ±250.000us (3 of 4 sources,
 *                     2 of 3 classes)" | "no: <why>" | "no: no vote round yet"
 *   "Alarms:          none open" | "2 open (1 critical, 1 warning)"
 *   "Serving:         serving, stratum 2, ±1.000ms; 5 requests answered,
 *                     0 dropped" | "holdover since <time>, ..." |
 *                     "refusing; ..." | "off (no serve directive)"
 * then Daemon (version, uptime), Time, Sources, Database, Samples written,
 * History errors and Clock steps. vote_doc and alarms_doc may be NULL (their
 * line says "-"). Returns 0, or -1 if status_doc is not an object. */
int format_status(json_object *status_doc, json_object *vote_doc, json_object *alarms_doc,
                  FILE *out);

/* The /api/v1/vote document as a summary. The first line is the verdict:
 *   "Vetted: yes, offset +12.345us ±250.000us, 3 of 4 sources, 2 of 3
 *    classes (GPS GAL), best 127.0.0.1:12301 (GPS), stratum 2"
 *   "Vetted: no: no majority: 2 of 5 sources agree"   (the daemon's why_not)
 *   "Vetted: no: no vote round yet"                   (valid false)
 * then, after a round, "Round: <time>, leap N[ (sources disagree)][, local
 * clock +0.123ppm]". Returns 0, or -1 if the document is not an object. */
int format_vote(json_object *vote_doc, FILE *out);

/* Who an event or alarm is about, as the daemon's log line names it: the
 * source's name; for none, "class DCF" when a class is named (class-lost),
 * else "system". */

/* The /api/v1/events document, one line per event, newest first (oldest
 * first with reverse), whatever the document's order:
 *   "<time> <kind>[ ended] <subject>[: <text>]"
 * e.g. "2023-11-14T22:13:20.250Z quorum-lost ended system: 3 of 4 agree".
 * "no events" for an empty list. Returns 0, or -1 if the document does not
 * have the expected shape (nothing is printed then). */
int format_events(json_object *events_doc, bool reverse, FILE *out);

/* The /api/v1/alarms document as a table: a header line, a rule, then one
 * line per alarm, newest raised first (oldest first with reverse), with
 * the columns Id, Severity, Kind, Source (the subject as above), Raised,
 * Cleared ("-" while active) and Text. "no alarms (none open, none cleared
 * in the last hour)" for an empty list. Returns 0, or -1 if the document
 * does not have the expected shape (nothing is printed then). */
int format_alarms_table(json_object *alarms_doc, bool reverse, FILE *out);

#endif
