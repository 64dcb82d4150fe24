/* Configuration file parser (see config.h). Two tables drive it: the
 * directives, and the options of a `server` line. Each entry names its
 * argument and bounds, so the checks and the error messages are uniform:
 * "FILE:LINE: what is wrong" (lib/lineparse.h). A directive that is not in
 * the table goes to the family registered for it (config_register_family),
 * so a module above this one parses its own directives. */
#include "monitor/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lineparse.h"
#include "monitor/config_files.h"
#include "probes/rx_continuity.h" /* settle bounds and default */

#define MAX_ARGS 32
#define MAX_SOURCES 4096
#define MAX_FILES 1024 /* files read for one configuration, includes and all */
#define POLL_UNSET (-1) /* minpoll, maxpoll before their defaults */
#define DEFAULT_MINPOLL 6
#define DEFAULT_MAXPOLL 10
#define DEFAULT_ROLLUP_HOUR_DAYS 1826 /* 5 years */

/* ---- server options ---- */

typedef int (*server_opt_fn)(struct lp_ctx *c, const char *arg, struct source_config *s);

static int opt_port(struct lp_ctx *c, const char *a, struct source_config *s) {
  long long v;
  if (lp_int(c, "port", a, 1, 65535, &v)) return -1;
  s->port = (int)v;
  s->port_set = true;
  return 0;
}

static int opt_nts(struct lp_ctx *c, const char *a, struct source_config *s) {
  (void)c, (void)a;
  s->nts = true;
  return 0;
}

static int opt_certset(struct lp_ctx *c, const char *a, struct source_config *s) {
  long long v;
  if (lp_int(c, "certset", a, 0, UINT32_MAX, &v)) return -1;
  s->cert_set = (uint32_t)v;
  return 0;
}

static int opt_ntsport(struct lp_ctx *c, const char *a, struct source_config *s) {
  long long v;
  if (lp_int(c, "ntsport", a, 1, 65535, &v)) return -1;
  s->nts_port = (int)v;
  return 0;
}

static int opt_key(struct lp_ctx *c, const char *a, struct source_config *s) {
  long long v;
  if (lp_int(c, "key", a, 1, 65535, &v)) return -1;
  s->has_key = true;
  s->key_id = (uint32_t)v;
  return 0;
}

static int opt_class(struct lp_ctx *c, const char *a, struct source_config *s) {
  if (ref_class_parse(a, &s->ref_class) || s->ref_class == CLASS_UNKNOWN)
    return lp_fail(c, "class: unknown reference class \"%s\" (GPS GAL GLO BDS GNSS DCF MSF WWVB PTP ATOM NTP LOCL)", a);
  s->class_set = true;
  return 0;
}

static int opt_minpoll(struct lp_ctx *c, const char *a, struct source_config *s) {
  long long v;
  if (lp_int(c, "minpoll", a, 0, 17, &v)) return -1;
  s->minpoll = (int)v;
  return 0;
}

static int opt_maxpoll(struct lp_ctx *c, const char *a, struct source_config *s) {
  long long v;
  if (lp_int(c, "maxpoll", a, 0, 17, &v)) return -1;
  s->maxpoll = (int)v;
  return 0;
}

static int opt_iburst(struct lp_ctx *c, const char *a, struct source_config *s) {
  (void)c, (void)a;
  s->iburst = true;
  return 0;
}

static int opt_noselect(struct lp_ctx *c, const char *a, struct source_config *s) {
  (void)c, (void)a;
  s->noselect = true;
  return 0;
}

static int opt_trust(struct lp_ctx *c, const char *a, struct source_config *s) {
  (void)c, (void)a;
  s->trust = true;
  return 0;
}

static int opt_require(struct lp_ctx *c, const char *a, struct source_config *s) {
  (void)c, (void)a;
  s->require = true;
  return 0;
}

static int opt_prefer(struct lp_ctx *c, const char *a, struct source_config *s) {
  (void)c, (void)a;
  s->prefer = true;
  return 0;
}

/* name LABEL: what operators see instead of the address. A word of
 * letters, digits and . _ - : @ +, starting with a letter or a digit, so
 * that it reads the same in a log line, a JSON string, a trap and a URL. */
static int opt_name(struct lp_ctx *c, const char *a, struct source_config *s) {
  size_t n = strlen(a);
  if (n > SOURCE_LABEL_MAX)
    return lp_fail(c, "name: \"%s\" is too long (at most %d characters)", a, SOURCE_LABEL_MAX);
  bool ok = isalnum((unsigned char)a[0]);
  for (const char *p = a; ok && *p; p++)
    ok = isalnum((unsigned char)*p) || strchr("._-:@+", *p);
  if (!ok)
    return lp_fail(c, "name: \"%s\" is not a label (letters, digits and . _ - : @ +, "
                   "starting with a letter or a digit)", a);
  memcpy(s->name, a, n + 1);
  s->labelled = true;
  return 0;
}

static int opt_device(struct lp_ctx *c, const char *a, struct source_config *s) {
  return lp_copy(c, "device", a, s->device, sizeof s->device);
}

static int opt_pps(struct lp_ctx *c, const char *a, struct source_config *s) {
  return lp_copy(c, "pps", a, s->pps, sizeof s->pps);
}

static int opt_baud(struct lp_ctx *c, const char *a, struct source_config *s) {
  static const long long rates[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400};
  long long v;
  if (lp_int(c, "baud", a, 50, 230400, &v)) return -1;
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
    if (rates[i] == v) {
      s->baud = (int)v;
      return 0;
    }
  return lp_fail(c, "baud: %lld is not a standard rate (1200 ... 230400)", v);
}

static int opt_offset(struct lp_ctx *c, const char *a, struct source_config *s) {
  return lp_double(c, "offset", a, -1.0, 1.0, &s->offset);
}

/* Minutes a receiver's time must stay consistent after a jump. */
static int opt_settle(struct lp_ctx *c, const char *a, struct source_config *s) {
  long long v;
  if (lp_int(c, "settle", a, RXC_SETTLE_MIN, RXC_SETTLE_MAX, &v)) return -1;
  s->settle = (int)v;
  return 0;
}

static int opt_mode(struct lp_ctx *c, const char *a, struct source_config *s) {
  static const char *const names[] = {"raw50", "raw75", "meinberg"};
  for (int i = 0; i < 3; i++)
    if (strcmp(a, names[i]) == 0) {
      s->dcf_mode = (enum dcf77_mode)i;
      return 0;
    }
  return lp_fail(c, "mode: \"%s\" is not raw50, raw75 or meinberg", a);
}

#define K(kind) (1u << (kind))
#define K_ALL 0xffffu

static const struct {
  const char *name;
  bool has_arg;
  unsigned kinds; /* the directives that take it */
  server_opt_fn fn;
} source_options[] = {
    {"class", true, K_ALL, opt_class},        {"noselect", false, K_ALL, opt_noselect},
    {"trust", false, K_ALL, opt_trust},       {"require", false, K_ALL, opt_require},
    {"prefer", false, K_ALL, opt_prefer},     {"name", true, K_ALL, opt_name},
    {"port", true, K(SOURCE_NTP), opt_port},  {"key", true, K(SOURCE_NTP), opt_key},
    {"nts", false, K(SOURCE_NTP), opt_nts},   {"ntsport", true, K(SOURCE_NTP), opt_ntsport},
    {"certset", true, K(SOURCE_NTP), opt_certset},
    {"minpoll", true, K(SOURCE_NTP), opt_minpoll},
    {"maxpoll", true, K(SOURCE_NTP), opt_maxpoll},
    {"iburst", false, K(SOURCE_NTP), opt_iburst},
    {"device", true, K(SOURCE_GPSD), opt_device},
    {"baud", true, K(SOURCE_NMEA), opt_baud}, {"pps", true, K(SOURCE_NMEA), opt_pps},
    {"offset", true, K(SOURCE_NMEA) | K(SOURCE_DCF77) | K(SOURCE_SHM) | K(SOURCE_SOCK), opt_offset},
    {"mode", true, K(SOURCE_DCF77), opt_mode},
    {"settle", true, K(SOURCE_NMEA) | K(SOURCE_DCF77), opt_settle},
};

static const char *const kind_directives[SOURCE_KIND_COUNT] = {
    "server", "gpsd", "nmea", "dcf77", "shm", "sock"};
static const char *const kind_names[SOURCE_KIND_COUNT] = {
    "ntp", "gpsd", "nmea", "dcf77", "shm", "sock"};

const char *source_kind_name(enum source_kind k) {
  return k >= 0 && k < SOURCE_KIND_COUNT ? kind_names[k] : "unknown";
}

static int apply_source_option(struct lp_ctx *c, char **argv, int argc, int *i,
                               struct source_config *s) {
  const char *dir = kind_directives[s->kind];
  for (size_t k = 0; k < sizeof source_options / sizeof source_options[0]; k++) {
    if (strcmp(argv[*i], source_options[k].name) != 0) continue;
    if (!(source_options[k].kinds & K(s->kind)))
      return lp_fail(c, "%s: option %s does not apply to %s sources", dir, argv[*i], dir);
    const char *arg = NULL;
    if (source_options[k].has_arg) {
      if (*i + 1 >= argc) return lp_fail(c, "%s: option %s needs a value", dir, argv[*i]);
      arg = argv[++*i];
    }
    return source_options[k].fn(c, arg, s);
  }
  return lp_fail(c, "%s: unknown option \"%s\"", dir, argv[*i]);
}

static int apply_source_options(struct lp_ctx *c, char **argv, int argc, int first,
                                struct source_config *s) {
  for (int i = first; i < argc; i++)
    if (apply_source_option(c, argv, argc, &i, s)) return -1;
  return 0;
}

/* The source already called name, by its label or its address. */
static const struct source_config *name_taken(const struct vt_config *cfg, const char *name) {
  for (int i = 0; i < cfg->n_sources; i++)
    if (strcmp(cfg->sources[i].name, name) == 0 || strcmp(cfg->sources[i].address, name) == 0)
      return &cfg->sources[i];
  return NULL;
}

static int already(struct lp_ctx *c, const struct vt_config *cfg, const char *what,
                   const struct source_config *prev) {
  if (strcmp(config_file_name(cfg, prev->file), c->file) == 0)
    return lp_fail(c, "%s is already configured at line %d", what, prev->line);
  return lp_fail(c, "%s is already configured at %s:%d", what,
                 config_file_name(cfg, prev->file), prev->line);
}

/* Adds s, its address set, named by its label or else its address. */
static int add_source(struct lp_ctx *c, struct vt_config *cfg, struct source_config *s) {
  const char *dir = kind_directives[s->kind];
  const struct source_config *prev = name_taken(cfg, s->address);
  char what[700];
  snprintf(what, sizeof what, "%s %s", dir, s->address);
  if (prev) return already(c, cfg, what, prev);
  if (s->labelled) {
    if ((prev = name_taken(cfg, s->name))) {
      snprintf(what, sizeof what, "%s %s: name %s", dir, s->address, s->name);
      return already(c, cfg, what, prev);
    }
  } else {
    memcpy(s->name, s->address, sizeof s->name);
  }
  s->file = c->file_id;
  if (cfg->n_sources == MAX_SOURCES) return lp_fail(c, "too many sources (at most %d)", MAX_SOURCES);
  struct source_config *n = realloc(cfg->sources, (size_t)(cfg->n_sources + 1) * sizeof *n);
  if (!n) return lp_fail(c, "out of memory");
  cfg->sources = n;
  cfg->sources[cfg->n_sources++] = *s;
  return 0;
}

/* ---- directives ---- */

/* The poll bounds, defaults filled in; a message that names a default
 * when it is the cause ("minpoll 6 (the default) is above maxpoll 4"). */
static int poll_bounds(struct lp_ctx *c, struct source_config *s) {
  bool min_default = s->minpoll == POLL_UNSET, max_default = s->maxpoll == POLL_UNSET;
  if (min_default) s->minpoll = DEFAULT_MINPOLL;
  if (max_default) s->maxpoll = DEFAULT_MAXPOLL;
  if (s->minpoll <= s->maxpoll) return 0;
  return lp_fail(c, "server: minpoll %d%s is above maxpoll %d%s", s->minpoll,
                 min_default ? " (the default)" : "", s->maxpoll,
                 max_default ? " (the default)" : "");
}

static int dir_server(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (argc < 2) return lp_fail(c, "server: missing HOST");
  struct source_config s = {.kind = SOURCE_NTP, .port = 123, .nts_port = 4460,
                            .minpoll = POLL_UNSET, .maxpoll = POLL_UNSET, .line = c->line};
  if (lp_copy(c, "server", argv[1], s.host, sizeof s.host) ||
      apply_source_options(c, argv, argc, 2, &s) || poll_bounds(c, &s))
    return -1;
  if (s.nts && s.has_key)
    return lp_fail(c, "server: nts and key exclude each other (NTS brings its own keys)");
  if (s.nts_port != 4460 && !s.nts)
    return lp_fail(c, "server: ntsport needs nts");
  if (s.cert_set != 0 && !s.nts)
    return lp_fail(c, "server: certset needs nts");
  /* The address says where the time comes from: the NTP port when it is
   * not 123, and for NTS the key-establishment port when it is not 4460. */
  int n = s.port == 123 ? snprintf(s.address, sizeof s.address, "%s", s.host)
                        : snprintf(s.address, sizeof s.address, "%s:%d", s.host, s.port);
  if (s.nts && s.nts_port != 4460 && n > 0 && (size_t)n < sizeof s.address)
    snprintf(s.address + n, sizeof s.address - (size_t)n, "/nts:%d", s.nts_port);
  return add_source(c, cfg, &s);
}

/* gpsd HOST[:PORT] [device PATH] [class CLASS] ... */
static int dir_gpsd(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (argc < 2) return lp_fail(c, "gpsd: missing HOST[:PORT]");
  struct source_config s = {.kind = SOURCE_GPSD, .port = 2947, .line = c->line};
  char *colon = strrchr(argv[1], ':');
  if (colon && !strchr(colon + 1, ']') && strchr(argv[1], ':') == colon) {
    long long port;
    *colon = '\0';
    if (lp_int(c, "gpsd port", colon + 1, 1, 65535, &port)) return -1;
    s.port = (int)port;
  }
  if (lp_copy(c, "gpsd", argv[1], s.host, sizeof s.host) ||
      apply_source_options(c, argv, argc, 2, &s))
    return -1;
  /* Host and device fit one by one but not always together: an address
   * cut short would make two receivers one source ("already configured"). */
  if (snprintf(s.address, sizeof s.address, "gpsd:%s:%d%s%s", s.host, s.port,
               s.device[0] && s.device[0] != '/' ? "/" : "", s.device) >= (int)sizeof s.address)
    return lp_fail(c, "gpsd: the host and the device together are too long (the source address "
                   "gpsd:HOST:PORT/DEVICE is at most %zu characters)", sizeof s.address - 1);
  return add_source(c, cfg, &s);
}

/* nmea DEVICE ... / dcf77 DEVICE mode M ... / sock PATH ... */
static int device_source(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc,
                         enum source_kind kind) {
  if (argc < 2) return lp_fail(c, "%s: missing %s", argv[0], kind == SOURCE_SOCK ? "PATH" : "DEVICE");
  struct source_config s = {.kind = kind, .baud = 9600, .dcf_mode = DCF77_RAW50,
                            .settle = RXC_SETTLE_DEFAULT, .line = c->line};
  if (lp_copy(c, argv[0], argv[1], s.device, sizeof s.device)) return -1;
  if (kind == SOURCE_DCF77 && !(argc >= 4 && strcmp(argv[2], "mode") == 0))
    return lp_fail(c, "dcf77: expected \"dcf77 DEVICE mode raw50|raw75|meinberg\"");
  if (apply_source_options(c, argv, argc, 2, &s)) return -1;
  snprintf(s.address, sizeof s.address, "%s%s", kind == SOURCE_SOCK ? "sock:" : "", s.device);
  return add_source(c, cfg, &s);
}

static int dir_nmea(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  return device_source(c, cfg, argv, argc, SOURCE_NMEA);
}

static int dir_dcf77(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  return device_source(c, cfg, argv, argc, SOURCE_DCF77);
}

static int dir_sock(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  return device_source(c, cfg, argv, argc, SOURCE_SOCK);
}

/* shm UNIT ... */
static int dir_shm(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  long long unit;
  if (argc < 2) return lp_fail(c, "shm: missing UNIT");
  struct source_config s = {.kind = SOURCE_SHM, .line = c->line};
  if (lp_int(c, "shm unit", argv[1], 0, 255, &unit) ||
      apply_source_options(c, argv, argc, 2, &s))
    return -1;
  s.unit = (int)unit;
  snprintf(s.address, sizeof s.address, "shm:%lld", unit);
  return add_source(c, cfg, &s);
}

static struct config_where here(const struct lp_ctx *c) {
  return (struct config_where){c->file_id, c->line};
}

static int dir_keyfile(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (lp_one_arg(c, argv, argc)) return -1;
  cfg->keyfile_at = here(c);
  return lp_copy(c, "keyfile", argv[1], cfg->keyfile, sizeof cfg->keyfile);
}

/* ntstrustedcerts [SET] FILE: PEM certificates trusted for NTS-KE
 * (chrony's spelling), besides the system's trust store, for the servers
 * whose certset is SET (default 0). Several lines add up. */
static int dir_ntstrustedcerts(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (argc != 2 && argc != 3) return lp_fail(c, "ntstrustedcerts: expected [SET] FILE");
  if (cfg->n_nts_trust == VT_NTS_TRUST_MAX)
    return lp_fail(c, "ntstrustedcerts: at most %d lines", VT_NTS_TRUST_MAX);
  struct nts_trust *t = &cfg->nts_trust[cfg->n_nts_trust];
  long long set = 0;
  if (argc == 3 && lp_int(c, "ntstrustedcerts set", argv[1], 0, UINT32_MAX, &set)) return -1;
  t->set = (uint32_t)set;
  if (lp_copy(c, "ntstrustedcerts", argv[argc - 1], t->path, sizeof t->path)) return -1;
  t->file = c->file_id;
  t->line = c->line;
  cfg->n_nts_trust++;
  return 0;
}

static int dir_database(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (lp_one_arg(c, argv, argc)) return -1;
  cfg->database_at = here(c);
  return lp_copy(c, "database", argv[1], cfg->database, sizeof cfg->database);
}

/* http ADDRESS [port N] | http off. ADDRESS a literal: the API listens
 * on one address, and a name could resolve to several, or to another one
 * tomorrow. */
static int dir_http(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  cfg->http_at = here(c);
  if (argc == 2 && strcmp(argv[1], "off") == 0) {
    cfg->http_enabled = false;
    return 0;
  }
  if (argc != 2 && !(argc == 4 && strcmp(argv[2], "port") == 0))
    return lp_fail(c, "http: expected \"http ADDRESS [port N]\" or \"http off\"");
  unsigned char bin[16];
  if (inet_pton(AF_INET, argv[1], bin) != 1 && inet_pton(AF_INET6, argv[1], bin) != 1)
    return lp_fail(c, "http: \"%s\" is not an IPv4 or IPv6 address literal (a host name is "
                   "not accepted: write 127.0.0.1 or ::1 for this machine only)", argv[1]);
  cfg->http_enabled = true;
  if (lp_copy(c, "http", argv[1], cfg->http_address, sizeof cfg->http_address)) return -1;
  long long port = VT_DEFAULT_HTTP_PORT;
  if (argc == 4 && lp_int(c, "http port", argv[3], 1, 65535, &port)) return -1;
  cfg->http_port = (int)port;
  return 0;
}

static int dir_log(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (lp_one_arg(c, argv, argc)) return -1;
  if (log_parse_level(argv[1], &cfg->log_level))
    return lp_fail(c, "log: unknown level \"%s\" (error, warning, info, debug)", argv[1]);
  return 0;
}

static int dir_retention(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  double days;
  if (lp_one_arg(c, argv, argc) || lp_double(c, "retention", argv[1], 0.0007, 36500, &days))
    return -1;
  cfg->retention = days * 86400.0;
  return 0;
}

/* rollupretention MINUTE_DAYS [HOUR_DAYS]: how long the roll-ups are kept
 * (issue 11). Hours beyond minutes: a shorter hour retention would leave
 * the long ranges with less than the short ones. */
static int dir_rollupretention(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  double minutes, hours = cfg->rollup_hours / 86400.0;
  if (argc < 2 || argc > 3)
    return lp_fail(c, "rollupretention: expected MINUTE_DAYS [HOUR_DAYS]");
  if (lp_double(c, "rollupretention minutes", argv[1], 1, 36500, &minutes) ||
      (argc == 3 && lp_double(c, "rollupretention hours", argv[2], 1, 36500, &hours)))
    return -1;
  if (hours < minutes)
    return lp_fail(c, "rollupretention: hour roll-ups (%g days%s) must be kept at least as long "
                   "as minute roll-ups (%g days)", hours,
                   argc == 2 && hours == DEFAULT_ROLLUP_HOUR_DAYS ? ", the default" : "", minutes);
  cfg->rollup_minutes = minutes * 86400.0;
  cfg->rollup_hours = hours * 86400.0;
  return 0;
}

static int dir_maxdistance(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (lp_one_arg(c, argv, argc)) return -1;
  return lp_double(c, "maxdistance", argv[1], 0.001, 16, &cfg->maxdistance);
}

/* vote mode classes|sources */
static int dir_vote(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (argc != 3 || strcmp(argv[1], "mode") != 0 ||
      (strcmp(argv[2], "classes") != 0 && strcmp(argv[2], "sources") != 0))
    return lp_fail(c, "vote: expected \"vote mode classes\" or \"vote mode sources\"");
  cfg->vote_by_sources = strcmp(argv[2], "sources") == 0;
  return 0;
}

static int dir_minsources(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  long long v;
  if (lp_one_arg(c, argv, argc) || lp_int(c, "minsources", argv[1], 1, 1000, &v)) return -1;
  cfg->minsources = (int)v;
  cfg->minsources_at = here(c);
  return 0;
}

static int dir_minclasses(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  long long v;
  if (lp_one_arg(c, argv, argc) || lp_int(c, "minclasses", argv[1], 1, CLASS_COUNT, &v)) return -1;
  cfg->minclasses = (int)v;
  cfg->minclasses_at = here(c);
  return 0;
}

static int dir_alarmclear(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (lp_one_arg(c, argv, argc)) return -1;
  return lp_double(c, "alarmclear", argv[1], 0, 86400, &cfg->alarm_clear);
}

/* user NAME: the account vettimed runs as once every socket is bound. */
static int dir_user(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (lp_one_arg(c, argv, argc)) return -1;
  for (const char *s = argv[1]; *s; s++)
    if (*s <= ' ' || *s > '~' || *s == ':' || *s == '/')
      return lp_fail(c, "user: \"%s\" is not a user name", argv[1]);
  cfg->user_at = here(c);
  return lp_copy(c, "user", argv[1], cfg->user, sizeof cfg->user);
}

/* holdover SECONDS: how long the NTP server serves from the clock model
 * once the vote is lost (0: refuse at once; at most a week). */
static int dir_holdover(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  if (lp_one_arg(c, argv, argc)) return -1;
  return lp_double(c, "holdover", argv[1], 0, 7 * 86400, &cfg->holdover);
}

/* holdovermargin PPM: added to the measured frequency uncertainty as the
 * served bound grows in holdover. */
static int dir_holdovermargin(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc) {
  double ppm;
  if (lp_one_arg(c, argv, argc) || lp_double(c, "holdovermargin", argv[1], 0, 500, &ppm)) return -1;
  cfg->holdover_margin = ppm * 1e-6;
  return 0;
}

typedef int (*directive_fn)(struct lp_ctx *c, struct vt_config *cfg, char **argv, int argc);

static const struct {
  const char *name;
  directive_fn fn;
} directives[] = {
    {"server", dir_server},       {"keyfile", dir_keyfile},
    {"ntstrustedcerts", dir_ntstrustedcerts},
    {"gpsd", dir_gpsd},           {"nmea", dir_nmea},
    {"dcf77", dir_dcf77},         {"shm", dir_shm},
    {"sock", dir_sock},
    {"database", dir_database},   {"http", dir_http},
    {"log", dir_log},             {"retention", dir_retention},
    {"rollupretention", dir_rollupretention},
    {"maxdistance", dir_maxdistance},
    {"vote", dir_vote},           {"minsources", dir_minsources},
    {"minclasses", dir_minclasses}, {"alarmclear", dir_alarmclear},
    {"user", dir_user},
    {"holdover", dir_holdover},   {"holdovermargin", dir_holdovermargin},
};

/* ---- directive families registered by their owners ---- */

static const struct config_family *families[CONFIG_FAMILIES_MAX];
static int n_families;

static bool is_core_directive(const char *word) {
  for (size_t k = 0; k < sizeof directives / sizeof directives[0]; k++)
    if (strcmp(word, directives[k].name) == 0) return true;
  return false;
}

/* The index of the family that takes word, or -1. */
static int family_of(const char *word) {
  for (int i = 0; i < n_families; i++)
    for (const char *const *d = families[i]->directives; *d; d++)
      if (strcmp(word, *d) == 0) return i;
  return -1;
}

int config_register_family(const struct config_family *f) {
  for (int i = 0; i < n_families; i++)
    if (families[i] == f) return 0;
  if (n_families == CONFIG_FAMILIES_MAX) return -1;
  for (const char *const *d = f->directives; *d; d++)
    if (is_core_directive(*d) || family_of(*d) >= 0) return -1;
  families[n_families++] = f;
  return 0;
}

const void *config_family_state(const struct vt_config *cfg, const struct config_family *f) {
  for (int i = 0; i < n_families; i++)
    if (families[i] == f) return cfg->family_state[i];
  return NULL;
}

/* A fresh state with its defaults for every registered family. */
static int family_defaults(struct vt_config *cfg) {
  for (int i = 0; i < n_families; i++) {
    cfg->family_state[i] = calloc(1, families[i]->state_size);
    if (!cfg->family_state[i]) return -1;
    families[i]->defaults(cfg->family_state[i]);
  }
  return 0;
}

int config_family_count(void) { return n_families; }

const struct config_family *config_family_at(int i) {
  return i >= 0 && i < n_families ? families[i] : NULL;
}

/* ---- files ---- */

const char *config_file_name(const struct vt_config *cfg, int file) {
  if (file > 0 && file < cfg->n_files) return cfg->files[file];
  return cfg->path;
}

const char *config_where_text(const struct vt_config *cfg, struct config_where at, char *buf,
                              size_t len) {
  if (at.line > 0) snprintf(buf, len, "%s:%d", config_file_name(cfg, at.file), at.line);
  else snprintf(buf, len, "%s", cfg->path);
  return buf;
}

/* Numbers a file read for cfg; returns its index, or -1. */
static int add_file(struct vt_config *cfg, const char *path) {
  if (cfg->n_files == MAX_FILES) return -1;
  char **n = realloc(cfg->files, (size_t)(cfg->n_files + 1) * sizeof *n);
  if (!n) return -1;
  cfg->files = n;
  if (!(cfg->files[cfg->n_files] = strdup(path))) return -1;
  return cfg->n_files++;
}

/* One parse: the configuration it fills, and the files being read, from
 * the main one to the innermost include, for loops. */
struct parser {
  struct vt_config *cfg;
  char *err;
  size_t errlen;
  int depth;
  struct stat open[CONFIG_INCLUDE_DEPTH + 1];
};

static int parse_text(struct parser *ps, int file_id, const char *text);

/* The file at path, named by the directive dir (include or confdir) at c,
 * or the main file (c NULL). */
static int parse_file(struct parser *ps, const struct lp_ctx *c, const char *dir,
                      const char *path) {
  char why[PATH_MAX + 128];
  struct stat st;
  char *text = cfgfile_read(path, &st, why, sizeof why);
  if (!text) {
    if (c) return lp_fail(c, "%s %s: %s", dir, path, why);
    snprintf(ps->err, ps->errlen, "%s: %s", path, why);
    return -1;
  }
  int rc = -1, id;
  for (int i = 0; i < ps->depth; i++)
    if (ps->open[i].st_dev == st.st_dev && ps->open[i].st_ino == st.st_ino) {
      lp_fail(c, "%s %s: an include loop (the file is already being read)", dir, path);
      goto out;
    }
  if (ps->depth > CONFIG_INCLUDE_DEPTH) {
    lp_fail(c, "%s %s: includes nested more than %d deep", dir, path, CONFIG_INCLUDE_DEPTH);
    goto out;
  }
  if ((id = add_file(ps->cfg, path)) < 0) {
    snprintf(ps->err, ps->errlen, "%s: out of memory, or more than %d files", path, MAX_FILES);
    goto out;
  }
  ps->open[ps->depth++] = st;
  rc = parse_text(ps, id, text);
  ps->depth--;
out:
  free(text);
  return rc;
}

/* Appends " (included from FILE:LINE)" to the message of an error inside
 * an included file (not to one about the include line itself): the
 * innermost include only, so that the message stays one readable line. */
static void included_from(const struct lp_ctx *c) {
  if (!c->err || !c->errlen) return;
  char self[PATH_MAX + 16];
  snprintf(self, sizeof self, "%s:%d: ", c->file, c->line);
  if (strncmp(c->err, self, strlen(self)) == 0 || strstr(c->err, " (included from "))
    return; /* about this line, or already said by a deeper include */
  size_t n = strlen(c->err);
  snprintf(c->err + n, c->errlen - n, " (included from %s:%d)", c->file, c->line);
}

/* include PATTERN | confdir DIR */
static int dir_include(struct parser *ps, struct lp_ctx *c, char **argv, int argc) {
  bool confdir = strcmp(argv[0], "confdir") == 0;
  if (argc != 2) return lp_fail(c, "%s: expected \"%s\"", argv[0], confdir ? "confdir DIR" : "include FILE");
  char **paths, why[PATH_MAX + 128];
  int n = cfgfile_expand(c->file, argv[1], confdir, &paths, why, sizeof why);
  if (n < 0) return lp_fail(c, "%s %s", argv[0], why);
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    rc = parse_file(ps, c, argv[0], paths[i]);
    if (rc) included_from(c);
  }
  cfgfile_free_list(paths, n);
  return rc;
}

/* ---- lines ---- */

static int parse_line(struct parser *ps, struct lp_ctx *c, char *line) {
  struct vt_config *cfg = ps->cfg;
  char *argv[MAX_ARGS];
  int argc = lp_split(line, argv, MAX_ARGS);
  if (argc > MAX_ARGS) return lp_fail(c, "too many words (at most %d)", MAX_ARGS);
  if (argc == 0) return 0;
  if (strcmp(argv[0], "include") == 0 || strcmp(argv[0], "confdir") == 0)
    return dir_include(ps, c, argv, argc);
  for (size_t k = 0; k < sizeof directives / sizeof directives[0]; k++)
    if (strcmp(argv[0], directives[k].name) == 0) return directives[k].fn(c, cfg, argv, argc);
  int f = family_of(argv[0]);
  if (f >= 0) return families[f]->directive(cfg->family_state[f], c, argv, argc);
  return lp_fail(c, "unknown directive \"%s\"", argv[0]);
}

static int parse_text(struct parser *ps, int file_id, const char *text) {
  struct lp_ctx c = {config_file_name(ps->cfg, file_id), 0, ps->err, ps->errlen, file_id};
  char line[4096];
  int n;
  while ((n = lp_next_line(&c, &text, line, sizeof line)) != LP_END) {
    if (n == LP_TOO_LONG)
      return lp_fail(&c, "line too long (at most %zu characters)", sizeof line - 1);
    if (parse_line(ps, &c, line)) return -1;
  }
  return 0;
}

static void set_defaults(struct vt_config *cfg, const char *name) {
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->path, sizeof cfg->path, "%s", name);
  snprintf(cfg->database, sizeof cfg->database, "%s", VT_DEFAULT_DATABASE);
  cfg->http_enabled = true;
  snprintf(cfg->http_address, sizeof cfg->http_address, "%s", VT_DEFAULT_HTTP_ADDRESS);
  cfg->http_port = VT_DEFAULT_HTTP_PORT;
  cfg->log_level = LOG_LVL_INFO;
  cfg->retention = 30 * 86400.0;
  cfg->rollup_minutes = 90 * 86400.0;
  cfg->rollup_hours = DEFAULT_ROLLUP_HOUR_DAYS * 86400.0;
  cfg->maxdistance = 1.5;
  cfg->minsources = 1;
  cfg->minclasses = 1;
  cfg->alarm_clear = 60;
  cfg->holdover = 3600;
  cfg->holdover_margin = 1e-6;
}

/* Defaults, then path's text (NULL: read the file at path). */
static int parse_root(const char *path, const char *text, struct vt_config *cfg, char *err,
                      size_t errlen) {
  set_defaults(cfg, path);
  struct parser ps = {.cfg = cfg, .err = err, .errlen = errlen};
  int rc;
  if (family_defaults(cfg)) {
    snprintf(err, errlen, "%s: out of memory", path);
    rc = -1;
  } else if (text) {
    rc = add_file(cfg, path) < 0 ? -1 : parse_text(&ps, 0, text);
  } else {
    rc = parse_file(&ps, NULL, "", path);
  }
  if (rc) config_free(cfg);
  return rc;
}

int config_parse(const char *name, const char *text, struct vt_config *cfg,
                 char *err, size_t errlen) {
  return parse_root(name, text, cfg, err, errlen);
}

int config_load(const char *path, struct vt_config *cfg, char *err, size_t errlen) {
  return parse_root(path, NULL, cfg, err, errlen);
}

void config_free(struct vt_config *cfg) {
  free(cfg->sources);
  cfg->sources = NULL;
  cfg->n_sources = 0;
  for (int i = 0; i < cfg->n_files; i++) free(cfg->files[i]);
  free(cfg->files);
  cfg->files = NULL;
  cfg->n_files = 0;
  for (int i = 0; i < CONFIG_FAMILIES_MAX; i++) {
    free(cfg->family_state[i]);
    cfg->family_state[i] = NULL;
  }
}
