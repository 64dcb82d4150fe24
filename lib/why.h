/* The reason a pure function gives for refusing its input. The decoders
 * (NMEA, DCF77, Meinberg) and the civil-date checks take an optional
 * buffer `why` of `len` bytes and say in it, in a few words, what was
 * wrong ("RMC date \"310299\""). Writes to the caller's buffer only: no
 * I/O, so a decoder stays pure. */
#ifndef VT_WHY_H
#define VT_WHY_H

#include <stddef.h>

/* Formats into why[len], truncating; does nothing when why is NULL or len
 * is 0. */
void why_set(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
