/* Roll-up buckets of the history (issue 11): the arithmetic only, no SQL,
 * no clock reads, so that bucket close, merge and restart can be unit
 * tested without a database (monitor/history.c does the writing).
 *
 * A series is the stream of one source's samples, or of the vote's rounds
 * (the vetted series). Per series and per level (minute, hour) one bucket
 * is open in memory at a time: [start, start + width), start a multiple of
 * the width since the Unix epoch. An entry is one sample, or one round:
 * every entry counts in n; an entry with a value (every sample; a vetted
 * round) counts in nv and in the value and bound figures.
 *
 * A bucket closes, and is handed back for writing, when an entry of its
 * series falls in a later bucket, or when the newest entry of any series
 * (the high-water mark) is ROLLUP_GRACE_NS past its end (a source that went
 * silent). An entry older than the open bucket (the local clock stepped
 * back) becomes a bucket of its own, to be merged into the stored one:
 * rollup_merge() is how two pieces of one bucket combine, exactly as if
 * every entry had been added to one. */
#ifndef VT_ROLLUP_H
#define VT_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROLLUP_MINUTE_NS 60000000000LL
#define ROLLUP_HOUR_NS 3600000000000LL
/* How long past its end a bucket stays open for entries of its own
 * series: a round's samples carry receive times up to a poll's timeout
 * apart, and a receiver's time stamps lag by up to a second. */
#define ROLLUP_GRACE_NS 30000000000LL

enum rollup_level { ROLLUP_MINUTE, ROLLUP_HOUR, ROLLUP_LEVELS };

struct rollup_bucket {
  int64_t series;        /* a source's id; 0: the vetted series */
  enum rollup_level level;
  int64_t start_ns;      /* a multiple of the level's width */
  uint32_t n;            /* entries: samples, or vote rounds */
  uint32_t nv;           /* entries with a value: samples, or vetted rounds */
  double vmin, vmax, vmean;  /* the offset, over the nv entries */
  double bmax, bmean;        /* the error bound, over the nv entries */
  int32_t agree_min;     /* vetted series: fewest agreeing sources of a round */
  int32_t classes_min;   /* vetted series: fewest agreeing classes of a round */
};

/* One entry. has_value false: a round that was not vetted (only n and the
 * agreement minima count). */
struct rollup_entry {
  int64_t time_ns;
  bool has_value;
  double value, bound;
  int32_t agree, classes; /* vetted series only; 0 for samples */
};

int64_t rollup_width_ns(enum rollup_level level);
/* The start of the bucket holding t: floor(t / width) * width, also for
 * negative t. */
int64_t rollup_bucket_start(int64_t t_ns, enum rollup_level level);

/* An empty bucket of series at level starting at start_ns. */
void rollup_bucket_init(struct rollup_bucket *b, int64_t series,
                        enum rollup_level level, int64_t start_ns);
/* Adds one entry (which the caller has checked belongs in b). The mean is
 * a running mean (Welford), so a five-year offset keeps its microseconds. */
void rollup_bucket_add(struct rollup_bucket *b, const struct rollup_entry *e);
/* Combines the other piece of the same bucket into into. */
void rollup_merge(struct rollup_bucket *into, const struct rollup_bucket *other);

/* The open buckets of every series, and the closed ones waiting to be
 * written. Grows with the series' ids (source ids are small and dense). */
struct rollup_set;

/* Called with each bucket that closes; the bucket is only borrowed. */
typedef void (*rollup_emit_fn)(void *ctx, const struct rollup_bucket *b);

struct rollup_set *rollup_set_new(rollup_emit_fn emit, void *ctx);
void rollup_set_free(struct rollup_set *s);

/* Adds the entry to the series' open bucket at every level, closing (and
 * emitting) what it supersedes. Returns 0, or -1 when out of memory or
 * the series is out of range (0 .. ROLLUP_SERIES_MAX), nothing added. */
#define ROLLUP_SERIES_MAX (1 << 22)
int rollup_add(struct rollup_set *s, int64_t series, const struct rollup_entry *e);
/* The same, at one level only (the restart: each level is rebuilt from the
 * raw rows its stored buckets do not cover yet). */
int rollup_add_level(struct rollup_set *s, int64_t series, enum rollup_level level,
                     const struct rollup_entry *e);

/* Emits every open bucket whose end + ROLLUP_GRACE_NS is at or before the
 * high-water mark (the newest entry time seen). Called once per flush. */
void rollup_close_idle(struct rollup_set *s);

/* The start of the oldest open bucket (INT64_MAX when none): raw rows at
 * or after it must not be pruned, or a restart could not rebuild it. */
int64_t rollup_oldest_open(const struct rollup_set *s);
/* The start of the series' open bucket at level, or INT64_MIN if none. */
int64_t rollup_open_start(const struct rollup_set *s, int64_t series, enum rollup_level level);
/* The newest entry time seen (INT64_MIN before any). */
int64_t rollup_high_water(const struct rollup_set *s);
/* Open buckets now (for tests and the status). */
int rollup_open_count(const struct rollup_set *s);

/* ---- minute buckets packed per hour ----
 * The minute buckets of one series and one hour are stored as one row
 * (schema/004): a blob of ROLLUP_PACKED_SIZE-byte records, one per minute
 * with entries, in minute order, little-endian whatever the host:
 *   [0] minute of the hour 0..59, [1..3] 0, [4..7] n, [8..11] nv,
 *   [12..51] vmin, vmean, vmax, bmax, bmean (IEEE doubles),
 *   [52..55] agree_min, [56..59] classes_min (signed). */
#define ROLLUP_PACKED_SIZE 60
#define ROLLUP_PACKED_MAX (60 * ROLLUP_PACKED_SIZE)

/* Packs n minute buckets of one hour (any order, distinct minutes) into
 * out (room for ROLLUP_PACKED_MAX bytes), sorted by minute. Returns the
 * length, or 0 if a bucket is not a minute of hour_ns or n > 60. */
size_t rollup_pack(const struct rollup_bucket *b, int n, int64_t hour_ns, unsigned char *out);
/* The minute buckets of series in a packed blob of hour_ns, into out
 * (room for 60). Returns the count, or -1 for a malformed blob. */
int rollup_unpack(const unsigned char *blob, size_t len, int64_t series, int64_t hour_ns,
                  struct rollup_bucket *out);

#endif
