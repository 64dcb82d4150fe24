/* The history's read side for the HTTP API (issue 11): series of one
 * source or of the vetted offset over a range, downsampled server side
 * from the raw rows or the roll-ups (schema/004), and the events and
 * alarms over a range. Every SQL statement the web API needs lives here
 * (docs/design.md, "Layers": a face never runs SQL of its own).
 *
 * A reader is its own read-only SQLite connection to the daemon's
 * database: in WAL mode it neither blocks the writer nor waits for it, and
 * it sees only committed rows. Not thread-safe: one reader per thread.
 *
 * Times are nanoseconds since the Unix epoch. */
#ifndef VT_HISTORY_READ_H
#define VT_HISTORY_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/history.h"

/* The vetted offset as a series (the votes), beside the sources' ids. */
#define HISTORY_VETTED 0

/* Where a series is read from, chosen by the step (history_resolution_for):
 * raw rows below a minute, minute buckets below an hour, hour buckets from
 * an hour up. */
enum history_resolution { HISTORY_RAW, HISTORY_MINUTE, HISTORY_HOUR };

/* Limits of one series read, which keep every answer small and fast
 * (docs/design.md, "History"): at most this many points; raw rows only
 * over a range this short (a range scan of every source's rows on the
 * time index); no range longer than this (the hour roll-ups' retention is
 * 5 years by default). */
#define HISTORY_MAX_POINTS 2000
#define HISTORY_RAW_MAX_RANGE_NS (6 * 3600LL * 1000000000LL)
#define HISTORY_MAX_RANGE_NS (3660LL * 86400 * 1000000000LL) /* ~10 years */
/* Events or alarms in one range answer at most. */
#define HISTORY_LIST_MAX 1000
/* A query running longer than this is interrupted (it would hold up the
 * daemon's loop): history_read_* then return HISTORY_READ_SLOW. */
#define HISTORY_READ_BUDGET_MS 250
#define HISTORY_READ_SLOW (-2)

enum history_resolution history_resolution_for(int64_t step_ns);
/* The bucket width of a resolution (1 ns for raw). */
int64_t history_resolution_width(enum history_resolution r);
/* "raw", "minute", "hour". */
const char *history_resolution_name(enum history_resolution r);

/* One point: the rows whose time lies in [time_ns, time_ns + step). */
struct history_point {
  int64_t time_ns;
  uint32_t n;           /* samples; for the vetted series, vote rounds */
  uint32_t nv;          /* samples; for the vetted series, vetted rounds */
  double offset_min, offset_mean, offset_max; /* NaN when nv is 0 */
  double bound_max, bound_mean;               /* the error bound, s; NaN too */
  int agreeing_min, classes_min; /* vetted series: fewest agreeing sources,
                                    classes of a round; -1 for a source */
};

struct history_reader;

/* Opens the existing database at path read-only. Refuses (NULL, reason in
 * err) a file that cannot be opened or whose schema level has no roll-ups
 * yet (vettimed migrates it at start). */
struct history_reader *history_reader_open(const char *path, char *err, size_t errlen);
void history_reader_close(struct history_reader *r);
/* The time budget of each query, ms (for tests; HISTORY_READ_BUDGET_MS). */
void history_reader_set_budget(struct history_reader *r, int ms);

/* The id of the source called name: > 0, 0 when the history has no such
 * source, -1 on error. */
int64_t history_reader_source(struct history_reader *r, const char *name);

/* The series (a source id, or HISTORY_VETTED) over [from_ns, to_ns] in
 * points of step_ns (> 0, a multiple of the resolution's width) from
 * res: point k covers [origin + k step, origin + (k+1) step), origin =
 * from_ns rounded down to a multiple of step_ns. Only points with rows
 * are returned, in time order, at most max. Bucket resolutions add the
 * raw rows not yet in a stored bucket (the open one), so the newest point
 * is never missing. Returns the number of points, -1 on error, or
 * HISTORY_READ_SLOW. */
int history_read_series(struct history_reader *r, int64_t series, int64_t from_ns,
                        int64_t to_ns, int64_t step_ns, enum history_resolution res,
                        struct history_point *out, int max);

/* The events with time in [from_ns, to_ns], oldest first, at most max: cb
 * gets each with its source's name ("" for the system). *more is set when
 * more events lie in the range. Returns the count, -1, or
 * HISTORY_READ_SLOW. */
typedef void (*history_read_event_cb)(void *ctx, const struct history_event *e,
                                      const char *source_name);
int history_read_events(struct history_reader *r, int64_t from_ns, int64_t to_ns, int max,
                        bool *more, history_read_event_cb cb, void *ctx);

/* The alarms alive at some time in [from_ns, to_ns] (raised at or before
 * to_ns, not cleared before from_ns), by raise time, at most max; as
 * above. */
int history_read_alarms(struct history_reader *r, int64_t from_ns, int64_t to_ns, int max,
                        bool *more, history_alarm_cb cb, void *ctx);

#endif
