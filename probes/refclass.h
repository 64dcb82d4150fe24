/* Reference classes: the independent reference behind a source. The vote
 * gives each class one vote, so the class must say what the time really
 * comes from (GPS, Galileo, DCF77, ...), not how it reached us. */
#ifndef VT_REFCLASS_H
#define VT_REFCLASS_H

#include <stdint.h>

enum ref_class {
  CLASS_UNKNOWN = 0,
  CLASS_GPS, CLASS_GAL, CLASS_GLO, CLASS_BDS, CLASS_GNSS,
  CLASS_DCF, CLASS_MSF, CLASS_WWVB, CLASS_PTP, CLASS_ATOM,
  CLASS_NTP,  /* an NTP server whose upstream we cannot name */
  CLASS_LOCL, /* free-running oscillator / holdover */
  CLASS_COUNT
};

/* "GPS", "GAL", ...; "UNKNOWN" for CLASS_UNKNOWN. */
const char *ref_class_name(enum ref_class c);
/* Case-insensitive; returns 0, or -1 for a name that is not a class. */
int ref_class_parse(const char *name, enum ref_class *out);

/* The class an NTP server's refid implies (RFC 5905 §7.3 stratum-1 refids
 * and the common non-standard ones): stratum 1 "GPS"/"GPS\0" -> GPS,
 * "GAL" -> GAL, "DCF"/"PTB" -> DCF, "LOCL"/127.127.1.x -> LOCL, ...;
 * stratum >= 2 -> NTP. refid is in network order as read off the wire
 * (first character in the most significant byte). */
enum ref_class ref_class_from_refid(int stratum, uint32_t refid);

/* Formats a refid for people: four printable ASCII characters for stratum
 * 0/1 (trailing NULs dropped), else a dotted IPv4 address (or hash).
 * buf must hold 16 bytes. */
const char *refid_format(int stratum, uint32_t refid, char buf[16]);

#endif
