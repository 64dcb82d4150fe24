/* Reference classes: see refclass.h. The refid table follows RFC 5905 §7.3
 * (stratum-1 reference identifiers) plus the common non-standard ones seen
 * on real stratum-1 servers (GNSS, GLO/GLON, BDS/BEI, PTP, ATOM, NTPsec's
 * parse-driver DCFa/DCFp, ntpd's 127.127.1.x local clock). A refid that
 * names no independent reference (PPS alone, IRIG, HF radio we have no
 * class for) is CLASS_UNKNOWN: guessing would let one reference vote twice. */
#include "probes/refclass.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const class_names[CLASS_COUNT] = {
    [CLASS_UNKNOWN] = "UNKNOWN", [CLASS_GPS] = "GPS",   [CLASS_GAL] = "GAL",
    [CLASS_GLO] = "GLO",         [CLASS_BDS] = "BDS",   [CLASS_GNSS] = "GNSS",
    [CLASS_DCF] = "DCF",         [CLASS_MSF] = "MSF",   [CLASS_WWVB] = "WWVB",
    [CLASS_PTP] = "PTP",         [CLASS_ATOM] = "ATOM", [CLASS_NTP] = "NTP",
    [CLASS_LOCL] = "LOCL",
};

/* Stratum-0/1 refid strings (compared case-insensitively) and their class.
 * Absent: PPS, GOES, IRIG, HBG, JJY, LORC, TDF, CHU, WWV, WWVH, NIST, ACTS,
 * USNO and anything else -> CLASS_UNKNOWN. */
static const struct { const char *refid; enum ref_class c; } refid_table[] = {
    {"GPS", CLASS_GPS},   {"GAL", CLASS_GAL},   {"GLO", CLASS_GLO},
    {"GLON", CLASS_GLO},  {"BDS", CLASS_BDS},   {"BEI", CLASS_BDS},
    {"GNSS", CLASS_GNSS}, {"DCF", CLASS_DCF},   {"DCFA", CLASS_DCF},
    {"DCFP", CLASS_DCF},  {"PTB", CLASS_DCF},   {"MSF", CLASS_MSF},
    {"WWVB", CLASS_WWVB}, {"PTP", CLASS_PTP},   {"ATOM", CLASS_ATOM},
    {"CS", CLASS_ATOM},   {"RB", CLASS_ATOM},   {"CESM", CLASS_ATOM},
    {"RBDM", CLASS_ATOM}, {"LOCL", CLASS_LOCL},
};

const char *ref_class_name(enum ref_class c) {
  return (unsigned)c < CLASS_COUNT ? class_names[c] : "UNKNOWN";
}

int ref_class_parse(const char *name, enum ref_class *out) {
  if (!name) return -1;
  for (int c = CLASS_GPS; c <= CLASS_LOCL; c++) {
    if (strcasecmp(name, class_names[c]) == 0) {
      *out = (enum ref_class)c;
      return 0;
    }
  }
  return -1;
}

/* The refid's characters with trailing NULs (and blanks, which some
 * servers pad with) dropped; false when it is not printable ASCII (an
 * address or hash, or a NUL in the middle) or nothing is left. */
static bool refid_text(uint32_t refid, char text[5]) {
  int n = 4;
  for (unsigned last; n > 0; n--) {
    last = (refid >> (8 * (4 - n))) & 0xff;
    if (last != 0 && last != ' ') break;
  }
  for (int i = 0; i < n; i++) {
    unsigned ch = (refid >> (24 - 8 * i)) & 0xff;
    if (ch < 0x20 || ch > 0x7e) return false;
    text[i] = (char)ch;
  }
  text[n] = '\0';
  return n > 0;
}

static enum ref_class lookup(const char *text) {
  for (size_t i = 0; i < sizeof refid_table / sizeof refid_table[0]; i++)
    if (strcasecmp(text, refid_table[i].refid) == 0) return refid_table[i].c;
  return CLASS_UNKNOWN;
}

enum ref_class ref_class_from_refid(int stratum, uint32_t refid) {
  if (stratum >= 2) return CLASS_NTP;
  if (stratum < 0) return CLASS_UNKNOWN;
  if ((refid >> 8) == 0x7f7f01) return CLASS_LOCL; /* 127.127.1.x */
  char text[5];
  if (!refid_text(refid, text)) return CLASS_UNKNOWN;
  enum ref_class c = lookup(text);
  /* chrony names refclocks driver + unit ("GPS0"); strip one digit. */
  size_t n = strlen(text);
  if (c == CLASS_UNKNOWN && n >= 3 && text[n - 1] >= '0' && text[n - 1] <= '9') {
    text[n - 1] = '\0';
    c = lookup(text);
  }
  return c;
}

const char *refid_format(int stratum, uint32_t refid, char buf[16]) {
  char text[5];
  if ((stratum == 0 || stratum == 1) && refid_text(refid, text)) {
    memcpy(buf, text, sizeof text);
    return buf;
  }
  snprintf(buf, 16, "%u.%u.%u.%u", refid >> 24, (refid >> 16) & 0xff,
           (refid >> 8) & 0xff, refid & 0xff);
  return buf;
}
