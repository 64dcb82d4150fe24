/* GET /metrics: the daemon's reports in the Prometheus text exposition
 * format, version 0.0.4 (https://prometheus.io/docs/instrumenting/
 * exposition_formats/). Pure: report structs in, text out; no I/O, no
 * clock reads, no globals, so every line can be unit tested. web/http.c
 * gathers the reports (monitor/report.h) and serves the text with
 * METRICS_CONTENT_TYPE.
 *
 * Conventions (Prometheus "Metric and label naming"): one `vettime_`
 * prefix; base units (seconds, not ms or ppm) named in the suffix;
 * counters end in `_total`; every family has one HELP and one TYPE line
 * directly before its samples, and its samples are contiguous; a value
 * that does not exist (a source without a sample, the vetted offset while
 * not vetted) is left out rather than written as NaN. Enumerations are
 * state sets (one 0/1 series per possible value, so that a rule such as
 * `vettime_source_vote_state{state="falseticker"} == 1` always has a
 * series); open-ended texts are info metrics (value 1, the text in a
 * label). The full list of names and their chrony_exporter and ntpd-rs
 * counterparts is in docs/design.md ("/metrics"). */
#ifndef VT_METRICS_H
#define VT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/report.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The HTTP server's own counters (web/http.c), by status code. */
#define METRICS_HTTP_CODES {200, 400, 401, 403, 404, 405, 413, 500, 503}
#define METRICS_HTTP_NCODES 9
struct metrics_http {
  uint64_t responses[METRICS_HTTP_NCODES]; /* by METRICS_HTTP_CODES */
  uint64_t connections;                    /* accepted since start */
  int open_connections;                    /* now */
};

/* Everything one scrape shows. Pointers may be NULL (and counts 0) for a
 * part that is not available; that part is then left out. */
struct metrics_input {
  const struct status_report *status;
  const struct source_report *sources;
  int n_sources;
  const struct vote_report *vote;
  const struct alarm_report *alarms; /* active first, then cleared */
  int n_alarms;
  const struct clock_snapshot *clock;
  const struct outbox_report *outbox;
  const struct metrics_http *http;
  const struct serve_report *serve;  /* the NTP server (NULL: left out) */
};

/* The whole exposition. Returns a malloc'ed NUL-terminated text and its
 * length in *len, or NULL when out of memory (or, a bug, when a sample was
 * written outside its family: see struct metrics_buf). */
char *metrics_render(const struct metrics_input *in, size_t *len);

/* ---- the writer, public for the unit tests ---- */

/* A growing text. Every sample must belong to the family most recently
 * begun (its name equal to the family's), and a family may be begun only
 * once: a slip is remembered in `bad` and makes metrics_render() fail
 * instead of serving a document Prometheus would reject. */
#define METRICS_FAMILIES_MAX 128
struct metrics_buf {
  char *p;
  size_t len, cap;
  bool oom, bad;
  char family[96];           /* the family being written, "" before one */
  const char *seen[METRICS_FAMILIES_MAX]; /* families begun (names are literals) */
  int n_seen;
};

/* "# HELP name help" (help escaped: backslash and newline) and
 * "# TYPE name type"; type is "gauge" or "counter". */
void metrics_family(struct metrics_buf *b, const char *name, const char *type,
                    const char *help);
/* One sample: name{k1="v1",...} value. labels is k1, v1, k2, v2, ...,
 * NULL (or NULL for no labels). Label values are escaped (backslash,
 * double quote, newline) and made valid UTF-8 (a byte that is not part of
 * a valid sequence becomes U+FFFD). */
void metrics_sample(struct metrics_buf *b, const char *name, const char *const *labels,
                    double value);
/* A sample value as the format writes it: the shortest text that reads back
 * as the same double, "NaN", "+Inf" or "-Inf". buf holds 32 bytes. */
const char *metrics_format_value(double v, char buf[32]);
/* Appends s escaped as a label value. */
void metrics_escape_label(struct metrics_buf *b, const char *s);
/* Whether name is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), and a
 * valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"). */
bool metrics_valid_name(const char *name);
bool metrics_valid_label_name(const char *name);

#endif
