/* `vettime decode`: runs the receivers' pure decoders over recorded input
 * offline and prints what they saw, one line per decoded time and one per
 * rejected sentence, minute or string with the reason, then a summary;
 * with --json one JSON document instead.
 *
 *   vettime decode nmea FILE       a raw NMEA log (gpsd's test logs: lines
 *                                  starting with '#' are comments)
 *   vettime decode gpsd FILE       gpsd JSON, one object a line
 *   vettime decode dcf77 FILE      one minute a line as 59 or 60 '0'/'1'
 *                                  characters, bit 0 first (consecutive
 *                                  lines are consecutive minutes), or
 *                                  pulses "SECONDS WIDTH_MS", one a line
 *   vettime decode meinberg FILE   Meinberg standard time strings, framed
 *                                  by STX/ETX or one body a line (one a
 *                                  second)
 *
 * FILE "-" is standard input. The decoders are the daemon's own, so what
 * this prints is what vettimed would have concluded (without the local
 * clock: no offsets, only the times and the verdicts). */
#ifndef VT_DECODE_H
#define VT_DECODE_H

#include <stdbool.h>

/* argv[0] is "decode"; json: --json was given before the command (it may
 * also follow it). Returns the exit status: 0 decoded (whether or not any
 * time was trusted), 64 (EX_USAGE) bad usage, 66 (EX_NOINPUT) FILE cannot
 * be read. */
int decode_main(int argc, char **argv, bool json);

#endif
