/* A pure decoder of the Meinberg standard time string (Meinberg Funkuhren,
 * "Meinberg Standard Time String", as DCF77 receivers such as the PZF and
 * AM series send it once a second, 9600 baud 7E2):
 *
 *   <STX>D:dd.mm.yy;T:w;U:hh.mm.ss;uvxy<ETX>
 *
 * dd.mm.yy the date, w the weekday (1 Monday .. 7 Sunday), hh.mm.ss the
 * time, and four status characters: u '#' not synchronised since power-up,
 * v '*' freewheeling on the oscillator, x 'U' UTC, 'S' summer time (CEST),
 * ' ' standard time (CET), y '!' a CET/CEST change next hour, 'A' a leap
 * second next hour (a blank otherwise). The start bit of STX is on the
 * second the string names.
 *
 * Bytes in, structs out: no I/O, no clock reads, no globals; the frame
 * buffer is bounded. A string is trusted only when it is well formed, the
 * receiver is synchronised and not freewheeling, and the previous string
 * confirms it (the time advanced by the seconds that elapsed). */
#ifndef VT_MEINBERG_H
#define VT_MEINBERG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEINBERG_BODY_LEN 30  /* characters between STX and ETX */
#define MEINBERG_STX 0x02
#define MEINBERG_ETX 0x03
#define MEINBERG_CONFIRM_WINDOW 10.0 /* s: an older string confirms nothing */

/* ---- framing ---- */

enum meinberg_frame_kind { MB_FRAME_NONE = 0, MB_FRAME_STRING, MB_FRAME_GARBAGE };

struct meinberg_framer {
  char buf[MEINBERG_BODY_LEN + 1];
  size_t len;
  bool in_frame, in_garbage;
  double stamp;              /* arrival of the current frame's STX */
};

struct meinberg_frame {
  enum meinberg_frame_kind kind;
  const char *text;          /* STRING: the body between STX and ETX, NUL-
                                terminated, valid until the next push;
                                GARBAGE: the reason */
  size_t len;
  double stamp;              /* STRING: local arrival time of its STX */
};

void meinberg_framer_init(struct meinberg_framer *f);

/* As nmea_framer_push: consumes bytes up to and including the end of at
 * most one frame and returns how many; `stamp` is the arrival of the last
 * byte given and `byte_time` one character's duration on the line. Bytes
 * are taken modulo 0x80 (7-bit line). */
size_t meinberg_framer_push(struct meinberg_framer *f, const uint8_t *data, size_t len,
                            double stamp, double byte_time, struct meinberg_frame *out);

/* ---- strings ---- */

enum meinberg_status {
  MB_OK = 0,          /* trusted */
  MB_UNCONFIRMED,     /* good, but no recent string to confirm it */
  MB_UNSYNCED,        /* well formed, but '#' or '*': not to be trusted */
  MB_BAD_FORMAT,      /* not the standard string */
  MB_BAD_RANGE,       /* a field out of range */
  MB_BAD_DATE,        /* day past the month's end, weekday not the date's */
  MB_INCONSISTENT,    /* does not follow from the previous string */
  MB_STATUS_COUNT
};
const char *meinberg_status_name(enum meinberg_status s);

struct meinberg_time {
  int day, month, year, weekday, hour, minute, second; /* year in full */
  char zone;                  /* 'U' UTC, 'S' CEST, ' ' CET */
  bool unsynced, freewheel, dst_announced, leap_announced;
  int64_t utc;                /* the second named, s since 1970 (POSIX) */
};

/* Decodes one body (the 30 characters between STX and ETX). Returns
 * MB_OK or MB_UNSYNCED with *t filled, else the error with `why`. */
enum meinberg_status meinberg_parse(const char *body, size_t len, struct meinberg_time *t,
                                    char *why, size_t whylen);

struct meinberg_checker {
  bool have_prev;
  int64_t prev_utc;
  int prev_second;
  double prev_stamp;
};

/* Judges a parsed string that arrived at `stamp` against the previous
 * one: MB_OK, MB_UNCONFIRMED, MB_INCONSISTENT, or MB_UNSYNCED as parsed.
 * Remembers synchronised strings as the next one's reference. */
enum meinberg_status meinberg_judge(struct meinberg_checker *c, const struct meinberg_time *t,
                                    double stamp, char *why, size_t whylen);

#endif
