/* A pure decoder of the gpsd JSON protocol (gpsd_json(5), protocol 3.x as
 * spoken by gpsd 3.2x): one line in, one struct out; no I/O, no clock
 * reads, no globals. The classes vettime needs are decoded (TPV, SKY, PPS,
 * TOFF, VERSION, DEVICES, DEVICE, WATCH, ERROR); every other class is recognised
 * as GPSD_MSG_OTHER and ignored by the caller.
 *
 * Around the decoder, three small pure helpers that the daemon's gpsd
 * driver and `vettime decode gpsd` share:
 *   - gpsd_time_filter: when a receiver's time may be believed (a fix of
 *     mode >= 2, three consecutive epochs, a plausible date, leap seconds
 *     known where the receiver can report them);
 *   - gpsd_sky_window: satellites used per constellation over one epoch
 *     (gpsd reports NMEA receivers' SKY piecewise, one GSV group at a time);
 *   - gpsd_health: the receiver's health, its one-line text and the
 *     "sudden degradation" test.
 *
 * Hostile or broken input is reported as an enum gpsd_error; the decoder
 * never crashes and never reads past `len`. */
#ifndef VT_GPSD_JSON_H
#define VT_GPSD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/refclass.h"

#define GPSD_MAX_LINE 16384 /* longest line the decoder accepts, bytes */
#define GPSD_DEVICE_MAX 128 /* a device path, with its NUL */
#define GPSD_MAX_DEVICES 8  /* DEVICES entries kept */
#define GPSD_GNSS_IDS 8     /* gnssid 0..7 (u-blox numbering, as gpsd uses) */

/* gnssid values (gpsd_json(5), SKY satellites[]). */
enum gpsd_gnss {
  GNSS_GPS = 0, GNSS_SBAS = 1, GNSS_GAL = 2, GNSS_BDS = 3,
  GNSS_IMES = 4, GNSS_QZSS = 5, GNSS_GLO = 6, GNSS_IRNSS = 7
};

enum gpsd_msg_class {
  GPSD_MSG_NONE = 0, GPSD_MSG_TPV, GPSD_MSG_SKY, GPSD_MSG_PPS, GPSD_MSG_TOFF,
  GPSD_MSG_VERSION, GPSD_MSG_DEVICES, GPSD_MSG_WATCH, GPSD_MSG_ERROR,
  GPSD_MSG_DEVICE,  /* one device, sent when gpsd activates or identifies it */
  GPSD_MSG_OTHER /* well-formed, a class vettime does not use (GST, ATT, ...) */
};
const char *gpsd_msg_class_name(enum gpsd_msg_class c);

enum gpsd_error {
  GPSD_OK = 0,
  GPSD_ERR_EMPTY,     /* nothing but blanks */
  GPSD_ERR_TOO_LONG,  /* longer than GPSD_MAX_LINE */
  GPSD_ERR_SYNTAX,    /* not one complete, strict JSON value */
  GPSD_ERR_NOT_OBJECT,/* valid JSON, but not an object */
  GPSD_ERR_NO_CLASS,  /* no "class" string */
  GPSD_ERR_TYPE,      /* a known field has the wrong JSON type */
  GPSD_ERR_RANGE,     /* a known field is out of range (or NaN/inf) */
  GPSD_ERR_MISSING,   /* a field the class needs is absent */
  GPSD_ERR_TIME,      /* a time string that is not ISO 8601 UTC */
  GPSD_ERR_COUNT
};
const char *gpsd_error_name(enum gpsd_error e);

/* Seconds and nanoseconds since 1970-01-01 UTC (POSIX, no leap seconds). */
struct gpsd_time {
  int64_t sec;
  int32_t nsec;
};

/* Antenna state (TPV/SKY "ant", u-blox MON-HW aStatus as gpsd reports it). */
enum gpsd_antenna { GPSD_ANT_UNKNOWN = 0, GPSD_ANT_OK, GPSD_ANT_OPEN, GPSD_ANT_SHORT };

struct gpsd_tpv {
  int mode;                /* 0 unknown, 1 no fix, 2 2D, 3 3D */
  int status;              /* -1 absent; 0..7 (7: surveyed time) */
  bool has_time;
  struct gpsd_time time;
  double ept;              /* s, estimated time error; NaN if absent */
  bool has_leapseconds;
  int leapseconds;         /* GPS - UTC, s */
  int jam;                 /* 0..255, -1 if absent */
  enum gpsd_antenna ant;
};

struct gpsd_sky {
  bool has_satellites;     /* a satellites[] array was present */
  int n_sat;               /* entries in satellites[] */
  int used[GPSD_GNSS_IDS]; /* satellites used in the solution, per gnssid */
  int seen[GPSD_GNSS_IDS]; /* listed (used or not), per gnssid */
  int used_other;          /* used, constellation unknown */
  int u_sat;               /* "uSat", -1 if absent */
  int jam;                 /* -1 if absent */
};

/* PPS and TOFF: `real` is the receiver's time of an event (a PPS edge, or
 * the second a serial fix names), `clock` the local clock at that event. */
struct gpsd_pps {
  struct gpsd_time real, clock;
  int precision;           /* log2 s; 0 if absent */
  bool has_precision;
  double qerr;             /* PPS quantization error, s (gpsd sends ps); 0 if absent */
};

struct gpsd_version {
  char release[32];
  int proto_major, proto_minor;
};

struct gpsd_device {
  char path[GPSD_DEVICE_MAX];
  char driver[32];
};

struct gpsd_devices {
  int n;                   /* entries kept (at most GPSD_MAX_DEVICES) */
  struct gpsd_device dev[GPSD_MAX_DEVICES];
};

struct gpsd_watch {
  bool enable, json, pps;
};

struct gpsd_errmsg {
  char message[128];
};

struct gpsd_msg {
  enum gpsd_msg_class cls;
  char device[GPSD_DEVICE_MAX]; /* "device" member, "" if absent */
  union {
    struct gpsd_tpv tpv;
    struct gpsd_sky sky;
    struct gpsd_pps pps;        /* PPS and TOFF */
    struct gpsd_version version;
    struct gpsd_devices devices;
    struct gpsd_device device;  /* DEVICE */
    struct gpsd_watch watch;
    struct gpsd_errmsg error;
  } u;
};

/* Decodes one line of gpsd output (without or with its trailing "\r\n";
 * `line` need not be NUL-terminated). On GPSD_OK *out holds the message;
 * on error out->cls says which class was being decoded (GPSD_MSG_NONE if
 * it was not known yet) and nothing else in *out is meaningful. Pure. */
enum gpsd_error gpsd_json_decode_line(const char *line, size_t len, struct gpsd_msg *out);

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff...]Z" (gpsd's `time`). Seconds may be
 * 60 (a leap second, folded into the next second as POSIX does). Returns
 * 0, or -1 if the string is not that form or a field is out of range. */
int gpsd_parse_time(const char *s, struct gpsd_time *out);

/* ---- when to believe a receiver's time ---- */

/* The last GPS week-number rollover (2019-04-07 00:00:00 UTC). A receiver
 * date before it is what a rollover bug produces (1999, 2006, ...). */
#define GPSD_TIME_FLOOR 1554595200LL
#define GPSD_TIME_CEILING 7258118400LL /* 2200-01-01: nothing sane is later */
#define GPSD_TRUST_EPOCHS 3            /* consecutive good fixes needed */
#define GPSD_MAX_EPOCH_GAP 5           /* s between epochs that keep a run */

enum gpsd_leap_policy {
  GPSD_LEAP_AUTO = 0, /* required once the stream has reported it: NMEA
                         receivers never do (gpsd cannot know), binary
                         ones do once they have the UTC offset */
  GPSD_LEAP_REQUIRE   /* required always (a binary-protocol receiver) */
};

enum gpsd_verdict {
  GPSD_TIME_TRUSTED = 0, /* a new epoch, its time may be used */
  GPSD_TIME_REPEAT,      /* the same epoch again (gpsd often sends several
                            TPVs a second): neither good nor bad */
  GPSD_TIME_NO_TIME,     /* no `time` */
  GPSD_TIME_NO_FIX,      /* mode < 2 */
  GPSD_TIME_BAD_DATE,    /* before GPSD_TIME_FLOOR / the given floor, or absurd */
  GPSD_TIME_NO_LEAP,     /* leap seconds not (yet) known */
  GPSD_TIME_BACKWARDS,   /* earlier than the previous epoch, or a jump */
  GPSD_TIME_WARMING,     /* good, but fewer than GPSD_TRUST_EPOCHS in a row */
  GPSD_VERDICT_COUNT
};
const char *gpsd_verdict_name(enum gpsd_verdict v);

struct gpsd_time_filter {
  int64_t not_before;          /* earliest plausible time, s since 1970 */
  enum gpsd_leap_policy leap;
  bool leap_seen;              /* this stream has reported leapseconds */
  int run;                     /* consecutive good epochs */
  bool have_last;
  struct gpsd_time last;       /* the last good epoch */
};

/* not_before: 0 means GPSD_TIME_FLOOR. */
void gpsd_time_filter_init(struct gpsd_time_filter *f, int64_t not_before,
                           enum gpsd_leap_policy leap);
/* Feeds one TPV; says whether its time is to be believed. Any bad TPV
 * (no fix, bad date, no leap seconds, time going backwards) restarts the
 * count; only TRUSTED yields a time. Pure. */
enum gpsd_verdict gpsd_time_filter_tpv(struct gpsd_time_filter *f, const struct gpsd_tpv *t);
/* True while the last epoch fed was trusted (for PPS/TOFF gating). */
bool gpsd_time_filter_trusted(const struct gpsd_time_filter *f);

/* ---- satellites per constellation over one epoch ---- */

/* gpsd sends an NMEA receiver's SKY once per GSV group, each with the
 * satellites known so far; a window keeps the most seen per constellation
 * until the epoch ends. */
struct gpsd_sky_window {
  bool any;                     /* a SKY with satellites since the last close */
  int used[GPSD_GNSS_IDS];
  int used_other;
};

void gpsd_sky_window_add(struct gpsd_sky_window *w, const struct gpsd_sky *s);
/* Ends the epoch: copies the counts to used[] (when any SKY was seen) and
 * empties the window. Returns whether counts were copied. */
bool gpsd_sky_window_close(struct gpsd_sky_window *w, int used[GPSD_GNSS_IDS], int *used_other);

/* The reference class of a receiver using these satellites: the single
 * core constellation (GPS, GAL, GLO, BDS) if only one is used, GNSS when
 * two or more are (one combined solution), CLASS_UNKNOWN when none is.
 * SBAS, QZSS, IMES and IRNSS never decide the class on their own. */
enum ref_class gpsd_class_from_used(const int used[GPSD_GNSS_IDS]);

/* ---- health ---- */

#define GPSD_JAM_THRESHOLD 80 /* jam indicator (0..255) that counts as jammed */

struct gpsd_health {
  int mode;                    /* last TPV mode */
  bool sky_known;              /* used[] came from at least one SKY */
  int used[GPSD_GNSS_IDS];
  int used_other;
  bool pps;                    /* PPS messages are arriving */
  int jam;                     /* -1 unknown */
  enum gpsd_antenna ant;
};

int gpsd_health_used_total(const struct gpsd_health *h);

/* What got suddenly worse from `before` to `after` (a bit each). */
enum {
  GPSD_DROP_SATS = 1 << 0, /* used satellites halved, or fell below 4 */
  GPSD_DROP_FIX = 1 << 1,  /* fix mode fell (3 -> 2, or 2/3 -> 0/1) */
  GPSD_DROP_PPS = 1 << 2,  /* PPS stopped */
  GPSD_DROP_JAM = 1 << 3,  /* jam indicator rose past GPSD_JAM_THRESHOLD */
  GPSD_DROP_ANT = 1 << 4   /* antenna became OPEN or SHORT */
};
unsigned gpsd_health_drops(const struct gpsd_health *before, const struct gpsd_health *after);

/* "3D fix, used GPS 8 GAL 6, PPS, jam 12, ant OK" into buf (always
 * NUL-terminated). Returns buf. */
char *gpsd_health_format(const struct gpsd_health *h, char *buf, size_t len);

#endif
