/* A pure decoder of NMEA 0183 sentences (NMEA 0183 v2.3 to v4.11 as GNSS
 * receivers speak it): bytes in, structs out; no I/O, no clock reads, no
 * globals, every buffer bounded.
 *
 * Three stages, each usable alone (the serial driver, `vettime decode
 * nmea`, the unit tests and the fuzz target all use the same ones):
 *
 *   1. nmea_framer: finds sentences in a byte stream ('$' ... CR/LF) with a
 *      bounded buffer; binary or other garbage between sentences is skipped
 *      and reported once per run; a sentence split over many reads is
 *      reassembled; each sentence carries the local time of its '$'.
 *   2. nmea_parse: checks the checksum (XOR of the bytes between '$' and
 *      '*', two upper-case hex digits, required) and decodes the sentences
 *      vettime uses from a table with minimum field counts: RMC, ZDA, GGA,
 *      GNS (time and fix), GSA (satellites used), GSV (satellites in view).
 *      Every field is range checked; a sentence with a good checksum and
 *      garbage fields is NMEA_BAD_FIELD.
 *   3. nmea_receiver: groups sentences into cycles (one per second: the
 *      sentences naming the same time of day), and yields one time per
 *      cycle with the receiver's satellites per constellation and whether
 *      the time may be trusted.
 *
 * Trust: a time is trusted only when the cycle says the fix is valid (RMC
 * status A and mode not N, GGA quality 1-5, GNS mode A/D/P/R/F), its date
 * is in [2020-01-01, 2100-01-01) (receivers with a week-rollover bug say
 * 1999, 2006, ...), and NMEA_TRUST_CYCLES consecutive cycles did so with
 * the time moving forward by 1 to NMEA_MAX_CYCLE_GAP seconds each. */
#ifndef VT_NMEA_H
#define VT_NMEA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/refclass.h"

/* '$' to the last checksum digit. NMEA 0183 says 82; real receivers send
 * longer (u-blox and Furuno GSV with signal ids), none longer than this. */
#define NMEA_MAX_SENTENCE 160
#define NMEA_MAX_FIELDS 40       /* address field included */
#define NMEA_TRUST_CYCLES 3      /* consecutive good cycles before trust */
#define NMEA_MAX_CYCLE_GAP 10    /* s between cycles that keep a run */
#define NMEA_MIN_YEAR 2020       /* earlier receiver dates are never trusted */
#define NMEA_MAX_YEAR 2099       /* nor later ones */

/* ---- 1. framing ---- */

enum nmea_frame_kind {
  NMEA_FRAME_NONE = 0, /* the bytes given ended inside a sentence or garbage */
  NMEA_FRAME_SENTENCE, /* a complete line from '$', without CR/LF */
  NMEA_FRAME_GARBAGE   /* a run of bytes that is no sentence was skipped */
};

struct nmea_framer {
  char buf[NMEA_MAX_SENTENCE + 1];
  size_t len;
  bool in_sentence;
  bool in_garbage;       /* inside a run of garbage already reported */
  double stamp;          /* arrival of the current sentence's '$' */
};

struct nmea_frame {
  enum nmea_frame_kind kind;
  const char *text;      /* SENTENCE: NUL-terminated, valid until the next
                            push; GARBAGE: a reason ("binary data", ...) */
  size_t len;
  double stamp;          /* SENTENCE: local arrival time of its '$' */
};

void nmea_framer_init(struct nmea_framer *f);

/* Consumes data[0..len) up to and including the end of at most one frame
 * and returns the number of bytes consumed; call again with the rest.
 * `stamp` is the local time at which the last of these bytes arrived and
 * `byte_time` the duration of one character on the line (10/baud for 8N1):
 * the '$' at index i gets stamp - (len - 1 - i) * byte_time. Stamps are
 * opaque seconds to the framer. A sentence longer than NMEA_MAX_SENTENCE,
 * or one interrupted by another '$' or by a control or non-ASCII byte, is
 * reported as GARBAGE. */
size_t nmea_framer_push(struct nmea_framer *f, const uint8_t *data, size_t len,
                        double stamp, double byte_time, struct nmea_frame *out);

/* ---- 2. sentences ---- */

/* Constellations, in NMEA 4.10 system-id order where there is one. */
enum nmea_system {
  NMEA_SYS_GPS = 0, NMEA_SYS_GLO, NMEA_SYS_GAL, NMEA_SYS_BDS, NMEA_SYS_QZSS,
  NMEA_SYS_OTHER, /* SBAS, NavIC, unknown */
  NMEA_SYS_COUNT
};
const char *nmea_system_name(enum nmea_system s); /* "GPS","GLO","GAL","BDS","QZSS","other" */

enum nmea_type {
  NMEA_RMC = 0, NMEA_ZDA, NMEA_GGA, NMEA_GNS, NMEA_GSA, NMEA_GSV,
  NMEA_OTHER /* well-formed, a type vettime does not use (VTG, GLL, $P...) */
};

enum nmea_status {
  NMEA_OK = 0,
  NMEA_IGNORED,       /* checksum good, a type vettime does not use */
  NMEA_BAD_CHECKSUM,  /* wrong, missing or lower-case checksum */
  NMEA_BAD_FORMAT,    /* no '$', bad address field, too few fields */
  NMEA_BAD_FIELD      /* checksum good, a field is garbage or out of range */
};
const char *nmea_status_name(enum nmea_status s);

#define NMEA_MAX_PRNS 16

struct nmea_sentence {
  enum nmea_type type;
  char talker[3];            /* "GP", "GN", ...; "P" for proprietary */
  char name[4];              /* "RMC", ... */
  enum ref_class talker_class;
  bool has_time;             /* RMC, ZDA, GGA, GNS: a time of day */
  int hour, minute, second;  /* second may be 60 */
  double frac;               /* fraction of the second, [0, 1) */
  bool has_date;             /* RMC, ZDA */
  int year, month, day;      /* year in full (RMC yy: 80-99 -> 19yy, else 20yy) */
  bool has_validity;         /* RMC status/mode, GGA quality, GNS mode */
  bool valid;                /* ... and it says the fix is good */
  int sats_used;             /* GGA, GNS: -1 if empty */
  int fix;                   /* GSA: 1 none, 2 2D, 3 3D */
  enum nmea_system system;   /* GSA, GSV: the constellation of the PRNs */
  int n_prn;                 /* GSA, GSV: PRNs listed here */
  int prn[NMEA_MAX_PRNS];
  int in_view;               /* GSV: satellites in view (field 3) */
};

/* Checks and decodes one sentence: `line` from '$' to the end of the
 * checksum, NUL-terminated, without CR/LF. On NMEA_OK *out is filled; on
 * any other status `why` (if not NULL) says what was wrong. Pure. */
enum nmea_status nmea_parse(const char *line, struct nmea_sentence *out,
                            char *why, size_t whylen);

/* The class a talker id implies: GP GPS, GA GAL, GL GLO, GB/BD BDS,
 * GN GNSS; anything else CLASS_UNKNOWN. `talker` needs 2 characters. */
enum ref_class nmea_talker_class(const char *talker);

/* ---- 3. the receiver: cycles, times, trust ---- */

struct nmea_time {
  int64_t utc;               /* the second the cycle names, s since 1970 (POSIX) */
  double frac;               /* its fraction (receivers at 1 Hz say 0) */
  double stamp;              /* arrival of the cycle's first sentence's '$' */
  enum ref_class cls;        /* the receiver's class so far */
  bool trusted;
  char why[80];              /* when not trusted: why */
  int fix;                   /* last GSA fix type, 0 unknown */
  int in_view[NMEA_SYS_COUNT]; /* satellites per constellation, last cycle
                                  that listed them (GSV) */
  int used[NMEA_SYS_COUNT];    /* ... used in the solution (GSA) */
};

struct nmea_receiver {
  /* the cycle being collected */
  bool open;
  int32_t tod_ms;            /* its time of day, ms */
  double stamp;
  bool emitted;              /* it has yielded its time */
  bool has_validity, valid;
  bool saw_gsv, saw_gsa;
  uint8_t view_bits[NMEA_SYS_COUNT][32], used_bits[NMEA_SYS_COUNT][32];
  /* what the last complete cycles said */
  int in_view[NMEA_SYS_COUNT], used[NMEA_SYS_COUNT];
  int fix;
  bool prev_has_validity, prev_valid;
  /* trust */
  int run;                   /* consecutive good cycles */
  int64_t last_ms;           /* the last good cycle's time, ms since 1970 */
  unsigned classes_seen;     /* bit per ref_class of the time sentences */
};

void nmea_receiver_init(struct nmea_receiver *r);

/* Feeds one decoded sentence that arrived at `stamp` (the frame's stamp).
 * Returns true when the sentence completed the time of a cycle, which is
 * then in *t (once per cycle: on the first RMC or ZDA of the cycle). */
bool nmea_receiver_update(struct nmea_receiver *r, const struct nmea_sentence *s,
                          double stamp, struct nmea_time *t);

/* The receiver's class: the one class of every time sentence seen, GNSS
 * when they came from more than one (e.g. $GNRMC with $GPZDA), or
 * CLASS_UNKNOWN before any. */
enum ref_class nmea_receiver_class(const struct nmea_receiver *r);

/* ---- PPS (RFC 2783) ---- */

#define NMEA_PPS_MAX_DIFF 0.4 /* s between a PPS edge and the serial time */

/* A kernel PPS edge gives the start of a second, the sentence names which:
 * `utc` is the second the cycle named, `serial_start` the local time the
 * serial line says it began (first byte's start bit minus the configured
 * offset), `edge` the local time of the last PPS assert edge. When the two
 * agree within NMEA_PPS_MAX_DIFF, stores utc - edge in *offset and returns
 * 0; else returns -1 (a mismatch: wrong offset, lost pulses, a stale edge,
 * or a sentence naming the wrong second). Pure. */
int nmea_pps_match(int64_t utc, double serial_start, int64_t edge_sec, long edge_nsec, double *offset);

/* "used GPS 8 GAL 6, in view GPS 11 GAL 9 GLO 7" into buf; returns buf. */
char *nmea_format_sats(const int used[NMEA_SYS_COUNT], const int in_view[NMEA_SYS_COUNT],
                       char *buf, size_t len);

#endif
