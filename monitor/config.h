/* The configuration file: chrony.conf style, one directive a line, `#`
 * comments (the rules of lib/lineparse.h). Parsed in full before anything
 * starts; any error stops the daemon with "FILE:LINE: what is wrong". The
 * directives, their arguments, defaults and units are documented in
 * docs/vettime.conf.5 and README.md.
 *
 * The daemon's own directives (sources, database, http, log, the vote) are
 * parsed here. A module above this one registers from main, before the
 * first parse, the family of directives it owns (monitor/config_family.h;
 * alerting: alert, alertrepeat, alertretry, alertsite, heartbeat); its
 * parsed state then travels in struct vt_config without this module
 * knowing its type. */
#ifndef VT_CONFIG_H
#define VT_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"
#include "monitor/config_family.h"
#include "probes/refclass.h"

#define VT_DEFAULT_CONFIG "/etc/vettime/vettime.conf"
#define VT_DEFAULT_DATABASE "/var/lib/vettime/history.db"
#define VT_DEFAULT_HTTP_ADDRESS "127.0.0.1"
#define VT_DEFAULT_HTTP_PORT 8123

/* The directive that configured a source, and so its driver. */
enum source_kind { SOURCE_NTP = 0, SOURCE_GPSD, SOURCE_NMEA, SOURCE_DCF77, SOURCE_SHM,
                   SOURCE_SOCK, SOURCE_KIND_COUNT };
const char *source_kind_name(enum source_kind k); /* "ntp","gpsd","nmea","dcf77","shm","sock" */

enum dcf77_mode { DCF77_RAW50 = 0, DCF77_RAW75, DCF77_MEINBERG };

/* One `ntstrustedcerts [SET] FILE` line: a PEM file of certificates trusted
 * for the NTS-KE of the servers whose `certset` is SET (default 0). */
#define VT_NTS_TRUST_MAX 16
struct nts_trust {
  uint32_t set;
  char path[PATH_MAX];
  int file, line;        /* where the line is (config_file_name()) */
};

#define SOURCE_LABEL_MAX 63 /* characters of a `name LABEL` */

struct source_config {
  enum source_kind kind;
  char name[300];        /* what the source is called everywhere (status,
                            events, alarms, API, the history's row): the
                            `name LABEL` option when given, else address */
  char address[300];     /* ntp: "host" or "host:port" when the port is not
                            123; gpsd: "gpsd:host:port[/device]"; nmea,
                            dcf77: the device path; shm: "shm:N"; sock:
                            "sock:PATH" */
  bool labelled;         /* name is a `name LABEL`, not the address */
  char host[256];        /* ntp, gpsd */
  int port;              /* ntp: default 123; gpsd: default 2947 */
  char device[256];      /* nmea, dcf77: serial device; gpsd: the receiver
                            to watch ("" = any); sock: the socket path */
  char pps[256];         /* nmea: kernel PPS device (RFC 2783), "" if none */
  int baud;              /* nmea: default 9600; dcf77: from the mode */
  double offset;         /* nmea, dcf77, shm, sock: s subtracted from the
                            receiver's time (its fixed delay); default 0 */
  int unit;              /* shm: the segment unit (key 0x4e545030 + unit) */
  enum dcf77_mode dcf_mode;
  int settle;            /* nmea, dcf77: minutes of consistent time after a
                            jump of the receiver's own time before it is
                            trusted again (probes/rx_continuity.h); 1..60,
                            default 3 */
  bool has_key;
  uint32_t key_id;
  bool nts;              /* ntp: `nts`, authenticated with NTS (RFC 8915) */
  int nts_port;          /* ntp: the NTS-KE port, `ntsport`; default 4460 */
  bool port_set;         /* ntp: `port` given: it overrides the NTP port the
                            NTS-KE server negotiates */
  uint32_t cert_set;     /* ntp: `certset`, the ntstrustedcerts set trusted
                            for its NTS-KE; default 0 */
  bool class_set;        /* `class` given: overrides the inferred class */
  enum ref_class ref_class;
  int minpoll, maxpoll;  /* log2 s; default 6 and 10, 0 ..= 17 */
  bool iburst, noselect;
  bool trust, require, prefer; /* vote flags (see the vote directives) */
  int file, line;        /* where it was configured: config_file_name() */
};

/* Where a directive stood: file is an index for config_file_name(), line
 * 0 when the directive was not given (the value is the default). */
struct config_where {
  int file, line;
};

struct vt_config {
  char path[PATH_MAX];
  char **files;               /* every file read, by index: [0] is path, then
                                 the included ones in the order read */
  int n_files;
  struct source_config *sources;
  int n_sources;
  char keyfile[PATH_MAX];     /* "" when none */
  struct config_where keyfile_at, database_at, http_at, minsources_at, minclasses_at, user_at;
  struct nts_trust nts_trust[VT_NTS_TRUST_MAX]; /* `ntstrustedcerts [SET]
                                 FILE` lines: PEM certificates trusted for
                                 NTS-KE besides the system's */
  int n_nts_trust;
  char database[PATH_MAX];
  bool http_enabled;
  char http_address[64];      /* an IPv4 or IPv6 literal (checked) */
  int http_port;
  enum log_level log_level;
  double retention;           /* seconds raw samples are kept; default 30 days */
  double rollup_minutes;      /* seconds minute roll-ups are kept; default 90 days */
  double rollup_hours;        /* seconds hour roll-ups are kept; default 1826 days */
  double maxdistance;         /* s; responses with a larger root distance are
                                 dropped (RFC 5905 test 7); default 1.5 */
  bool vote_by_sources;       /* `vote mode sources`; default: classes */
  int minsources;             /* agreeing sources needed; default 1 */
  int minclasses;             /* agreeing classes needed; default 1 */
  double alarm_clear;         /* s a condition must be gone before its alarm
                                 clears; default 60 */
  char user[64];              /* `user NAME`: drop root to it once every
                                 socket is bound; "" = stay as started */
  double holdover;            /* s served from the clock model once the vote
                                 is lost, before refusing; default 3600 */
  double holdover_margin;     /* s/s added to the bound's growth in holdover;
                                 default 1e-6 (`holdovermargin 1`, in ppm) */
  void *family_state[CONFIG_FAMILIES_MAX]; /* per registered family, in
                                 registration order: config_family_state() */
};

/* Reads and parses the whole file, with the files it includes (`include
 * PATTERN`, `confdir DIR`: at most CONFIG_INCLUDE_DEPTH deep, a file that
 * includes itself is refused). Returns 0, or -1 with "FILE:LINE: message"
 * in err (FILE the file that holds the line). On success free with
 * config_free(). Parsing only: what the file names on the system (ports,
 * database, devices, key file) is checked by config_check.h. */
int config_load(const char *path, struct vt_config *cfg, char *err, size_t errlen);

#define CONFIG_INCLUDE_DEPTH 8

/* Parses text as if it were the file `name` (for tests); its includes are
 * read from the file system, relative to name's folder. */
int config_parse(const char *name, const char *text, struct vt_config *cfg,
                 char *err, size_t errlen);

/* "FILE:LINE" of a directive, or "FILE" (the main file) when it was not
 * given, into buf; returns buf. */
const char *config_where_text(const struct vt_config *cfg, struct config_where at, char *buf,
                              size_t len);

void config_free(struct vt_config *cfg);

#endif
