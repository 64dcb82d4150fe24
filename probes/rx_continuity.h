/* A receiver's own continuity: does its decoded time still run with the
 * local oscillator? Pure: decoded times and local monotonic times in,
 * verdicts out; no I/O, no clock reads, no globals.
 *
 * A receiver's decoded time minus the local monotonic time of its on-time
 * edge (the DCF77 minute mark, the start bit of Meinberg's STX, the start
 * of an NMEA cycle) is constant while both run at the rate of a second.
 * When it moves by more than RXC_TOLERANCE (plus RXC_RATE times the time
 * between the two decodes) the receiver's time jumped: a wrong DST switch
 * (+/-3600 s), a wrong date (-86400 s), a lost or extra second. The
 * receiver is then untrusted until its decodes have agreed with the new
 * time, every one with the one before, for `settle` minutes of the local
 * clock; then it is trusted again with the new time as the reference.
 *
 * The checks the decoders already make (PTB's DCF77 description: a minute
 * is believed only when the one before confirms it; the Meinberg string:
 * the same for consecutive strings; NMEA 0183: three good cycles) judge a
 * time against its predecessor only; one jump and the next decode confirms
 * the new time. This module keeps the memory: the receiver has to earn its
 * trust again, and every jump is counted (a step event). Feed it only the
 * times the decoder itself trusts.
 *
 * Why these numbers:
 *   - RXC_TOLERANCE 0.5 s: decoded times are whole seconds (DCF77 minutes,
 *     Meinberg seconds, NMEA seconds at 1 Hz), so the smallest jump is 1 s,
 *     while the edges are timed to milliseconds (DCF77 AM edges, 9600-baud
 *     strings) or to a serial output jitter of at most a few hundred ms
 *     (NMEA without PPS). Halfway between the two sees every whole-second
 *     jump and never mistakes timing jitter for one.
 *   - RXC_RATE 500 ppm: how far the local oscillator may run from the
 *     receiver's rate between two decodes (a PC crystal is within 100 ppm;
 *     the margin covers temperature and bad parts). The callers read
 *     CLOCK_MONOTONIC_RAW, the oscillator itself: CLOCK_MONOTONIC follows
 *     NTP's slewing, which chronyd runs at up to 83333 ppm on Linux.
 *   - RXC_MAX_GAP 900 s: decodes further apart are not compared (the
 *     receiver was silent, unplugged); 0.5 s + 900 s x 500 ppm = 0.95 s
 *     keeps the tolerance below a whole second, so a 1 s jump is always
 *     seen. After such a gap the next decode is the new reference: no jump
 *     is counted, and a receiver that was settling starts its count again.
 *   - Leap seconds: a positive one repeats a POSIX second (23:59:60 and
 *     00:00:00 share one), so decoded minus monotonic steps by -1 s at the
 *     end of a UTC month (ITU-R TF.460: leap seconds only there); a step
 *     of +/-1 s between two decodes that span the first midnight of a
 *     month is that, not a jump.
 *
 * Counting: a decode inconsistent with the previous one is a jump (counted
 * in `jumps`, even while settling: a glitch and back are two jumps); the
 * decode that shows it is 0 of `settle` minutes. Trust returns with the
 * first consistent decode `settle` minutes (of the monotonic clock, less
 * RXC_TOLERANCE) after that one. Minutes, not decodes, so the same rule
 * fits a DCF77 minute telegram and a 1 Hz string or NMEA cycle: a 1 Hz
 * receiver shows `settle` minutes of consistent seconds; a missed decode
 * in between is no inconsistency (decodes at most RXC_MAX_GAP apart). */
#ifndef VT_RX_CONTINUITY_H
#define VT_RX_CONTINUITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RXC_TOLERANCE 0.5       /* s */
#define RXC_RATE 500e-6         /* s/s */
#define RXC_MAX_GAP 900.0       /* s */
#define RXC_MINUTE 60.0         /* s */
#define RXC_SETTLE_DEFAULT 3    /* minutes */
#define RXC_SETTLE_MIN 1
#define RXC_SETTLE_MAX 60

enum rxc_verdict {
  RXC_TRUSTED = 0, /* consistent, and not settling: may become a sample */
  RXC_JUMPED,      /* this decode jumped against the previous one */
  RXC_SETTLING     /* consistent, but fewer than `settle` minutes since a jump */
};

struct rx_continuity {
  int settle;          /* minutes of consistent time that restore trust */
  bool have_ref;
  double ref_diff;     /* decoded - monotonic of the previous decode, s */
  double ref_decoded;  /* its decoded time, s since 1970 (POSIX) */
  double ref_mono;     /* its monotonic time, s */
  bool settling;       /* untrusted since a jump */
  double settle_start; /* monotonic s of the decode that showed the jump */
  int minutes;         /* consistent minutes since then (while settling) */
  double last_jump;    /* s: how far the newest jump moved the time; 0 none */
  uint64_t jumps;      /* jumps seen, cumulative */
};

/* Starts with no reference; `settle` is clamped to RXC_SETTLE_MIN..MAX. */
void rxc_init(struct rx_continuity *c, int settle);

/* Judges one decoded time (`decoded`, s since 1970, POSIX: fractions
 * allowed) whose on-time edge was at local monotonic time `mono` (s, any
 * epoch; only differences are used; in time order). The first decode, and
 * one after a gap of more than RXC_MAX_GAP, become the reference. */
enum rxc_verdict rxc_check(struct rx_continuity *c, double decoded, double mono);

/* Whether the receiver is untrusted for a jump now. */
bool rxc_settling(const struct rx_continuity *c);

/* "time jumped +3600 s against its previous time; 1 of 3 consistent
 * minutes" while settling, "" otherwise. Returns buf. */
char *rxc_describe(const struct rx_continuity *c, char *buf, size_t len);

/* A jump as people read it: "+3600 s", "-1 s", "+0.700 s". Returns buf. */
char *rxc_format_jump(double jump, char *buf, size_t len);

#endif
