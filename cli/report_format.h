/* `vettime report` as text (aligned columns, for a mail), JSON (the
 * structure below, stable: fields are only ever added) and HTML (a page
 * with no external resources, its charts inline SVG: report_html.c).
 * Pure: a finished struct report in, text out on a FILE*.
 *
 * JSON, "report_version": 1. Times are Unix seconds (as in the API),
 * durations and offsets seconds, fractions 0..1; a figure without data is
 * null.
 *   { "report_version": 1, "from", "to", "generated", "database",
 *     "status": "ok" | "critical", "exit_status": 0 | 2,
 *     "time": { "observed", "rounds", "vetted_rounds", "vetted_fraction",
 *               "not_vetted", "holdover", "refusing" },
 *     "vetted": { "offset_median", "offset_p99_abs", "offset_max_abs",
 *                 "bound_median", "bound_p99", "bound_max" },
 *     "sources": [ { "name", "kind", "class", "samples", "rounds",
 *                    "fresh_rounds", "availability", "offset_median",
 *                    "offset_p99_abs", "offset_max_abs", "bound_median",
 *                    "bound_max", "steps", "drift_ppm", "drift_events",
 *                    "falseticker", "falseticker_fraction" } ],
 *     "classes": [ { "class", "sources", "availability", "lost" } ],
 *     "classes_note": null | "why the class figures are not derivable",
 *     "alarms": { "count", "raised", "cleared", "open_at_end",
 *                 "critical", "warning", "info",
 *                 "list": [ { "id", "kind", "severity", "source", "class",
 *                             "raised", "cleared", "raised_in_period",
 *                             "cleared_in_period", "open_at_end", "value",
 *                             "threshold", "repeats", "text" } ] } } */
#ifndef VT_REPORT_FORMAT_H
#define VT_REPORT_FORMAT_H

#include <json-c/json.h>
#include <stdio.h>

#include "cli/report.h"

#define REPORT_JSON_VERSION 1
/* The text and the page list at most this many alarms (the critical ones
 * first, then the newest): a source flapping all day must not bury the
 * mail. The JSON lists them all. */
#define REPORT_ALARMS_SHOWN 100

/* Which alarms the text and the page show: fills idx (of REPORT_ALARMS_SHOWN)
 * with indexes into r->alarms, newest first (as `vettime alarms` and
 * `events` list); returns how many. */
size_t report_alarms_shown(const struct report *r, size_t *idx);

/* database: the path shown in the heading. */
void report_print_text(const struct report *r, const char *database, FILE *out);
json_object *report_json(const struct report *r, const char *database);
void report_print_html(const struct report *r, const char *database, FILE *out);

/* Helpers shared by the formats. "2026-11-30T06:00:00Z". */
const char *report_iso_time(int64_t ns, char *buf, size_t len);
/* A length of time for people: "0s", "43s", "12m 05s", "3h 02m 07s",
 * "2d 03h 00m". */
const char *report_human_duration(int64_t ns, char *buf, size_t len);
/* "99.95 %", or "-" for NaN. */
const char *report_percent(double fraction, char *buf, size_t len);
/* The note printed instead of the class figures in sources mode. */
extern const char report_classes_note[];

#endif
