/* A pure DCF77 decoder, after PTB's description of the DCF77 time code
 * (PTB, "DCF77 — Zeitsignal- und Normalfrequenzaussendungen"; the bit
 * layout as in NTPsec libparse/clk_rawdcf.c): pulses in, checked minutes
 * out. No I/O, no clock reads, no globals; every buffer bounded.
 *
 * Two levels, usable alone:
 *   - pulses: one carrier drop = one pulse (its falling edge, on time, and
 *     its width: ~100 ms = 0, ~200 ms = 1), classified against a 0/1 cutoff
 *     learned from the recent pulse widths (2-means over the last
 *     DCF77_LEARN pulses; Conrad-style raw receivers at 75 baud make the
 *     two widths close). A missing pulse at second 59 marks the minute.
 *     A pulse off the one-second beat is a glitch: the minute it falls in
 *     is rejected rather than risk a bit slip.
 *   - minutes: the bits of one minute, checked far beyond parity (PTB:
 *     parity is weak): length 59 (60 only for an announced leap second
 *     at the right minute), bit 0 = 0, bit 20 = 1, exactly one of Z1/Z2,
 *     P1/P2/P3 even parity, BCD digits and field ranges, the day against
 *     the days of the month, the weekday against the date; then against
 *     the previous minute: the time advanced by the elapsed minutes, and
 *     CET/CEST changed only at the top of an hour after an A1
 *     announcement. A minute is trusted (DCF77_OK) only when a previous
 *     one confirms it; the first is DCF77_UNCONFIRMED.
 *
 * The telegram sent during a minute names the minute that starts at the
 * next minute mark (the edge of second 0). Times are legal time (CET or
 * CEST); the decoder converts them to UTC. */
#ifndef VT_DCF77_H
#define VT_DCF77_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DCF77_MAX_BITS 60        /* seconds 0..59 of a leap minute */
#define DCF77_LEARN 64           /* pulse widths the cutoff is learned from */
#define DCF77_MIN_WIDTH_MS 40.0  /* narrower or wider pulses are noise */
#define DCF77_MAX_WIDTH_MS 260.0
#define DCF77_BEAT_TOLERANCE 0.15 /* s an edge may be off the 1 s beat */
#define DCF77_CONFIRM_WINDOW 3600.0 /* s: an older minute confirms nothing */

enum dcf77_status {
  DCF77_OK = 0,        /* valid and confirmed by the previous minute */
  DCF77_UNCONFIRMED,   /* valid, but no recent minute to confirm it */
  DCF77_BAD_LENGTH,    /* not 59 bits (or signal lost mid-minute) */
  DCF77_BAD_MARKER,    /* bit 0 not 0, bit 20 not 1, Z1 == Z2 */
  DCF77_PARITY,        /* P1, P2 or P3 wrong */
  DCF77_BAD_RANGE,     /* a BCD digit or field out of range */
  DCF77_BAD_DATE,      /* day past the month's end, weekday not the date's */
  DCF77_BAD_LEAP,      /* a 60-bit minute without an A2 announcement in the
                          previous hour, or not at the end of a UTC month */
  DCF77_BAD_DST,       /* CET/CEST changed without an A1 announcement, or
                          not at the top of an hour */
  DCF77_INCONSISTENT,  /* does not follow from the previous minute */
  DCF77_GLITCH,        /* a pulse off the beat in this minute (bit slip) */
  DCF77_STATUS_COUNT
};
const char *dcf77_status_name(enum dcf77_status s);

struct dcf77_telegram {
  int minute, hour, day, weekday, month, year; /* legal time; weekday 1 = Monday; year in full */
  bool call, a1, cest, a2;  /* bit 15, 16, 17 (Z1), 19 */
  int nbits;                /* 59, or 60 in a leap minute */
  int64_t utc;              /* the minute mark it names, s since 1970 (POSIX) */
};

struct dcf77_result {
  enum dcf77_status status;
  char why[96];             /* for any status but OK/UNCONFIRMED: what was wrong */
  struct dcf77_telegram tg; /* meaningful from DCF77_UNCONFIRMED down to ... OK */
  double mark;              /* local time of the minute mark tg names */
  int nbits;                /* bits the minute had */
  uint8_t bits[DCF77_MAX_BITS];
};

struct dcf77_stats {
  uint64_t pulses, noise, glitches, minutes, ok, unconfirmed, rejected, parity, lost;
  uint64_t by_status[DCF77_STATUS_COUNT];
};

struct dcf77_decoder {
  /* pulse level */
  double widths[DCF77_LEARN];
  int n_widths, next_width;
  double cutoff_ms;          /* 0 until learned */
  bool have_beat;            /* last_edge is on the beat */
  double last_edge;
  int off_beat_run;          /* consecutive pulses off the beat */
  bool synced;               /* a minute mark was seen: bits[] is a minute */
  bool glitched;             /* this minute had a pulse off the beat */
  double width[DCF77_MAX_BITS]; /* this minute's pulse widths, ms */
  int nbits;
  /* minute level */
  bool have_prev;
  struct dcf77_telegram prev;
  double prev_mark;
  int64_t last_a1_utc, last_a2_utc; /* the last minutes with A1/A2 set; 0 none */
  struct dcf77_stats stats;
};

void dcf77_init(struct dcf77_decoder *d);

/* Checks the bits of one minute (bits[0] is second 0; values 0/1), which
 * ended with the minute mark at local time `mark` (s, any epoch: only
 * differences are used). Judges it against the previous minutes fed here
 * and remembers it. Returns the status, also in out->status. */
enum dcf77_status dcf77_minute(struct dcf77_decoder *d, const uint8_t *bits, int n, double mark,
                               struct dcf77_result *out);

/* Feeds one pulse: falling edge at local time `edge` (s), width in ms.
 * Returns true when this pulse's edge was a minute mark that completed a
 * minute (the result in *out); false otherwise (the pulse was a bit, the
 * first mark, or noise). Pulses must come in time order. */
bool dcf77_pulse(struct dcf77_decoder *d, double edge, double width_ms, struct dcf77_result *out);

/* The learned 0/1 cutoff in ms, or 0 before enough pulses. */
double dcf77_cutoff(const struct dcf77_decoder *d);

/* Width of a pulse that a raw serial receiver turned into one character
 * at `baud` (8 data bits, LSB first): the start bit and the zero bits
 * before the first one bit, times the bit time. 0x00 (a pulse longer than
 * the data bits) reads as start + 8 bits. */
double dcf77_byte_width_ms(uint8_t byte, int baud);

/* Checks bits without context: length (59, or 60 with the extra bit 0),
 * markers, parity, ranges, the date. Fills *tg on DCF77_OK. Pure. */
enum dcf77_status dcf77_parse(const uint8_t *bits, int n, struct dcf77_telegram *tg,
                              char *why, size_t whylen);

#endif
