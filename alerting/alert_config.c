/* The alerting directives (see alert_config.h and docs/alerting.md). One
 * table of channel options, each naming the sink kinds it applies to, like
 * the server options of monitor/config.c; values and messages through the
 * shared toolkit (lib/lineparse.h). */
#include "alerting/alert_config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "lib/lineparse.h"
#include "monitor/alarms.h"
#include "monitor/config_family.h"
#include "monitor/events.h"

#define KINDS_ALL ((uint32_t)((1u << EV_COUNT) - 1))

const char *alert_sink_kind_name(enum alert_sink_kind k) {
  static const char *const names[] = {"syslog", "mail", "snmp"};
  return (unsigned)k < 3 ? names[k] : "?";
}

/* HOST:PORT, [V6]:PORT or HOST (port keeps its default). */
static int host_port(struct lp_ctx *p, const char *what, const char *s, char *host, size_t cap,
                     int *port) {
  char buf[300];
  if (lp_copy(p, what, s, buf, sizeof buf)) return -1;
  char *h = buf, *colon = NULL;
  if (buf[0] == '[') {
    char *close = strchr(buf, ']');
    if (!close) return lp_fail(p, "%s: \"%s\": missing ]", what, s);
    *close = '\0';
    h = buf + 1;
    if (close[1] == ':') colon = close + 1;
    else if (close[1]) return lp_fail(p, "%s: \"%s\": expected [ADDRESS]:PORT", what, s);
  } else if (strchr(buf, ':') == strrchr(buf, ':')) {
    colon = strchr(buf, ':');
  }
  if (colon) {
    double v = 0;
    *colon = '\0';
    if (lp_double(p, what, colon + 1, 1, 65535, &v)) return -1;
    if (v != floor(v)) return lp_fail(p, "%s: port \"%s\" is not a whole number", what, colon + 1);
    *port = (int)v;
  }
  if (!*h) return lp_fail(p, "%s: empty host", what);
  return lp_copy(p, what, h, host, cap);
}

static int hexbytes(struct lp_ctx *p, const char *s, uint8_t *out, int cap, int *len) {
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
  size_t n = strlen(s);
  if (n % 2 || n / 2 < 5 || n / 2 > (size_t)cap)
    return lp_fail(p, "engineid: \"%s\" is not 5 to %d bytes of hex", s, cap);
  for (size_t i = 0; i < n; i += 2) {
    if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
      return lp_fail(p, "engineid: \"%s\" is not hex", s);
    char b[3] = {s[i], s[i + 1], 0};
    out[i / 2] = (uint8_t)strtoul(b, NULL, 16);
  }
  *len = (int)(n / 2);
  return 0;
}

/* ---- channel options ---- */

typedef int (*opt_fn)(struct lp_ctx *p, struct alert_channel_config *ch, char **a);

#define S_SYSLOG (1u << ALERT_SINK_SYSLOG)
#define S_MAIL (1u << ALERT_SINK_MAIL)
#define S_SNMP (1u << ALERT_SINK_SNMP)
#define S_ALL (S_SYSLOG | S_MAIL | S_SNMP)

static int o_name(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  for (const char *s = a[0]; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
      return lp_fail(p, "name: \"%s\": use letters, digits, - and _", a[0]);
  return lp_copy(p, "name", a[0], ch->name, sizeof ch->name);
}

static int o_min_severity(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  for (int s = SEV_INFO; s <= SEV_CRITICAL; s++)
    if (strcmp(a[0], alarm_severity_name((enum alarm_severity)s)) == 0) {
      ch->route.min_severity = s;
      return 0;
    }
  return lp_fail(p, "min-severity: \"%s\" is not info, warning or critical", a[0]);
}

static int o_kinds(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  char buf[512];
  if (lp_copy(p, "kinds", a[0], buf, sizeof buf)) return -1;
  uint32_t mask = 0;
  for (char *save = NULL, *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
    enum event_kind ek;
    if (strcmp(k, "all") == 0) mask = KINDS_ALL;
    else if (event_kind_parse(k, &ek) == 0) mask |= 1u << ek;
    else return lp_fail(p, "kinds: unknown alarm kind \"%s\"", k);
  }
  if (!mask) return lp_fail(p, "kinds: none given");
  ch->route.kinds = mask;
  return 0;
}

static int o_heartbeat(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  return lp_double(p, "heartbeat", a[0], 0, 365 * 86400.0, &ch->heartbeat);
}

static int o_facility(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  static const struct { const char *name; int value; } fac[] = {
      {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
      {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
      {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
      {"local7", LOG_LOCAL7},
  };
  for (size_t i = 0; i < sizeof fac / sizeof fac[0]; i++)
    if (strcmp(a[0], fac[i].name) == 0) {
      ch->syslog.facility = fac[i].value;
      return 0;
    }
  return lp_fail(p, "facility: \"%s\" is not daemon, user or local0 ... local7", a[0]);
}

static int o_ident(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  for (const char *s = a[0]; *s; s++)
    if (*s <= ' ' || *s > '~') return lp_fail(p, "ident: \"%s\": printable ASCII without spaces", a[0]);
  return lp_copy(p, "ident", a[0], ch->syslog.ident, sizeof ch->syslog.ident);
}

static int o_remote(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  struct alert_syslog_config *s = &ch->syslog;
  if (strcmp(a[0], "unix") == 0) {
    s->transport = ALERT_SYSLOG_UNIX;
    return lp_copy(p, "remote unix", a[1], s->path, sizeof s->path);
  }
  if (strcmp(a[0], "udp") == 0) s->transport = ALERT_SYSLOG_UDP;
  else if (strcmp(a[0], "tcp") == 0) s->transport = ALERT_SYSLOG_TCP;
  else return lp_fail(p, "remote: \"%s\" is not udp, tcp or unix", a[0]);
  return host_port(p, "remote", a[1], s->host, sizeof s->host, &s->port);
}

static int o_from(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  if (!strchr(a[0], '@') || strpbrk(a[0], "<>\r\n ,")) return lp_fail(p, "from: \"%s\" is not an address", a[0]);
  return lp_copy(p, "from", a[0], ch->mail.from, sizeof ch->mail.from);
}

static int o_to(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  struct alert_mail_config *m = &ch->mail;
  char buf[1024];
  if (lp_copy(p, "to", a[0], buf, sizeof buf)) return -1;
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!strchr(t, '@') || strpbrk(t, "<>\r\n ")) return lp_fail(p, "to: \"%s\" is not an address", t);
    size_t n = strlen(m->to);
    if (n + strlen(t) + 2 > sizeof m->to) return lp_fail(p, "to: too many recipients");
    snprintf(m->to + n, sizeof m->to - n, "%s%s", n ? "," : "", t);
  }
  return 0;
}

static int o_starttls(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  (void)p, (void)a;
  ch->mail.starttls = true;
  return 0;
}

static int o_user(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  if (ch->kind == ALERT_SINK_SNMP) return lp_copy(p, "user", a[0], ch->snmp.user, sizeof ch->snmp.user);
  return lp_copy(p, "user", a[0], ch->mail.user, sizeof ch->mail.user);
}

static int o_password(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  return lp_copy(p, "password", a[0], ch->mail.password, sizeof ch->mail.password);
}

static int o_cafile(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  return lp_copy(p, "cafile", a[0], ch->mail.cafile, sizeof ch->mail.cafile);
}

static int o_insecure(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  (void)p, (void)a;
  ch->mail.insecure = true;
  return 0;
}

static int o_digest(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  return lp_double(p, "digest", a[0], 0, 86400, &ch->mail.digest);
}

static int o_timeout(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  double *t = ch->kind == ALERT_SINK_MAIL ? &ch->mail.timeout : &ch->snmp.timeout;
  return lp_double(p, "timeout", a[0], 0.1, 600, t);
}

static int o_version(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  if (strcmp(a[0], "2c") == 0) ch->snmp.version = 2;
  else if (strcmp(a[0], "3") == 0) ch->snmp.version = 3;
  else return lp_fail(p, "version: \"%s\" is not 2c or 3", a[0]);
  return 0;
}

static int o_community(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  return lp_copy(p, "community", a[0], ch->snmp.community, sizeof ch->snmp.community);
}

static int o_inform(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  (void)p, (void)a;
  ch->snmp.inform = true;
  return 0;
}

static int pass_ok(struct lp_ctx *p, const char *what, const char *s) {
  if (strlen(s) < 8) return lp_fail(p, "%s: a USM pass phrase has at least 8 characters", what);
  return 0;
}

static int o_auth(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  static const char *const names[] = {"MD5", "SHA", "SHA-256", "SHA-512"};
  for (int i = 0; i < 4; i++)
    if (strcasecmp(a[0], names[i]) == 0) {
      ch->snmp.auth = (enum alert_snmp_auth)i;
      return pass_ok(p, "auth", a[1]) ||
             lp_copy(p, "auth", a[1], ch->snmp.auth_pass, sizeof ch->snmp.auth_pass);
    }
  return lp_fail(p, "auth: \"%s\" is not MD5, SHA, SHA-256 or SHA-512", a[0]);
}

static int o_priv(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  if (strcasecmp(a[0], "AES") == 0) ch->snmp.priv = ALERT_PRIV_AES;
  else if (strcasecmp(a[0], "DES") == 0) ch->snmp.priv = ALERT_PRIV_DES;
  else return lp_fail(p, "priv: \"%s\" is not AES or DES", a[0]);
  return pass_ok(p, "priv", a[1]) ||
         lp_copy(p, "priv", a[1], ch->snmp.priv_pass, sizeof ch->snmp.priv_pass);
}

static int o_engineid(struct lp_ctx *p, struct alert_channel_config *ch, char **a) {
  return hexbytes(p, a[0], ch->snmp.engine_id, (int)sizeof ch->snmp.engine_id,
                  &ch->snmp.engine_id_len);
}

static const struct {
  const char *name;
  int nargs;
  unsigned sinks;
  opt_fn fn;
} options[] = {
    {"name", 1, S_ALL, o_name},
    {"min-severity", 1, S_ALL, o_min_severity},
    {"kinds", 1, S_ALL, o_kinds},
    {"heartbeat", 1, S_ALL, o_heartbeat},
    {"facility", 1, S_SYSLOG, o_facility},
    {"ident", 1, S_SYSLOG, o_ident},
    {"remote", 2, S_SYSLOG, o_remote},
    {"from", 1, S_MAIL, o_from},
    {"to", 1, S_MAIL, o_to},
    {"starttls", 0, S_MAIL, o_starttls},
    {"user", 1, S_MAIL | S_SNMP, o_user},
    {"password", 1, S_MAIL, o_password},
    {"cafile", 1, S_MAIL, o_cafile},
    {"insecure", 0, S_MAIL, o_insecure},
    {"digest", 1, S_MAIL, o_digest},
    {"timeout", 1, S_MAIL | S_SNMP, o_timeout},
    {"version", 1, S_SNMP, o_version},
    {"community", 1, S_SNMP, o_community},
    {"inform", 0, S_SNMP, o_inform},
    {"auth", 2, S_SNMP, o_auth},
    {"priv", 2, S_SNMP, o_priv},
    {"engineid", 1, S_SNMP, o_engineid},
};

static int apply_options(struct lp_ctx *p, struct alert_channel_config *ch, char **argv, int argc,
                         int first) {
  const char *kind = alert_sink_kind_name(ch->kind);
  for (int i = first; i < argc; i++) {
    size_t k = 0;
    while (k < sizeof options / sizeof options[0] && strcmp(argv[i], options[k].name) != 0) k++;
    if (k == sizeof options / sizeof options[0])
      return lp_fail(p, "alert %s: unknown option \"%s\"", kind, argv[i]);
    if (!(options[k].sinks & (1u << ch->kind)))
      return lp_fail(p, "alert %s: option %s does not apply to %s channels", kind, argv[i], kind);
    if (i + options[k].nargs >= argc)
      return lp_fail(p, "alert %s: option %s needs %d value%s", kind, argv[i], options[k].nargs,
                 options[k].nargs > 1 ? "s" : "");
    if (options[k].fn(p, ch, argv + i + 1)) return -1;
    i += options[k].nargs;
  }
  return 0;
}

/* ---- checks after the options ---- */

static int check_mail(struct lp_ctx *p, struct alert_channel_config *ch) {
  struct alert_mail_config *m = &ch->mail;
  if (strncmp(m->url, "smtp://", 7) != 0 && strncmp(m->url, "smtps://", 8) != 0)
    return lp_fail(p, "alert mail: \"%s\" is not an smtp:// or smtps:// URL", m->url);
  if (!m->from[0]) return lp_fail(p, "alert mail: missing \"from ADDRESS\"");
  if (!m->to[0]) return lp_fail(p, "alert mail: missing \"to ADDRESS[,ADDRESS...]\"");
  if (m->password[0] && !m->user[0]) return lp_fail(p, "alert mail: password without user");
  if (m->starttls && strncmp(m->url, "smtps://", 8) == 0)
    return lp_fail(p, "alert mail: starttls is for smtp:// (smtps:// is TLS from the start)");
  return 0;
}

static int check_snmp(struct lp_ctx *p, struct alert_channel_config *ch) {
  struct alert_snmp_config *s = &ch->snmp;
  if (s->version == 2) {
    if (s->user[0] || s->auth_pass[0] || s->priv_pass[0])
      return lp_fail(p, "alert snmp: user, auth and priv need version 3");
    return 0;
  }
  if (s->community[0] && strcmp(s->community, "public") != 0)
    return lp_fail(p, "alert snmp: community is for version 2c");
  if (!s->user[0] || !s->auth_pass[0] || !s->priv_pass[0])
    return lp_fail(p, "alert snmp: version 3 needs \"user U auth PROTO PASS priv PROTO PASS\" (authPriv)");
  if (s->inform && !s->engine_id_len)
    return lp_fail(p, "alert snmp: a version 3 inform needs \"engineid HEX\" of the receiver "
                  "(discovering it would block the daemon's loop)");
  return 0;
}

static void default_name(struct alert_config *c, struct alert_channel_config *ch) {
  const char *kind = alert_sink_kind_name(ch->kind);
  for (int n = 1;; n++) {
    if (n == 1) snprintf(ch->name, sizeof ch->name, "%s", kind);
    else snprintf(ch->name, sizeof ch->name, "%s%d", kind, n);
    if (!alert_config_channel(c, ch->name)) return;
  }
}

static int dir_alert(struct lp_ctx *p, struct alert_config *c, char **argv, int argc) {
  if (argc < 2) return lp_fail(p, "alert: expected \"alert syslog|mail|snmp ...\"");
  if (c->n == ALERT_CHANNELS_MAX) return lp_fail(p, "alert: too many channels (at most %d)", ALERT_CHANNELS_MAX);
  struct alert_channel_config ch;
  memset(&ch, 0, sizeof ch);
  ch.line = p->line;
  ch.file = p->file_id;
  ch.heartbeat = -1;
  ch.route.min_severity = SEV_INFO;
  ch.route.kinds = KINDS_ALL;
  ch.syslog.facility = LOG_DAEMON;
  snprintf(ch.syslog.ident, sizeof ch.syslog.ident, "vettimed");
  ch.syslog.port = 514;
  ch.mail.timeout = 60;
  ch.snmp.port = 162;
  ch.snmp.version = 2;
  ch.snmp.timeout = 5;
  int first = 2;
  if (strcmp(argv[1], "syslog") == 0) {
    ch.kind = ALERT_SINK_SYSLOG;
  } else if (strcmp(argv[1], "mail") == 0) {
    ch.kind = ALERT_SINK_MAIL;
    if (argc < 3) return lp_fail(p, "alert mail: missing smtp://HOST[:PORT] or smtps://HOST[:PORT]");
    if (lp_copy(p, "alert mail", argv[2], ch.mail.url, sizeof ch.mail.url)) return -1;
    first = 3;
  } else if (strcmp(argv[1], "snmp") == 0) {
    ch.kind = ALERT_SINK_SNMP;
    if (argc < 3) return lp_fail(p, "alert snmp: missing HOST[:PORT]");
    if (host_port(p, "alert snmp", argv[2], ch.snmp.host, sizeof ch.snmp.host, &ch.snmp.port))
      return -1;
    first = 3;
  } else {
    return lp_fail(p, "alert: unknown channel kind \"%s\" (syslog, mail, snmp)", argv[1]);
  }
  if (apply_options(p, &ch, argv, argc, first)) return -1;
  if (ch.kind == ALERT_SINK_MAIL && check_mail(p, &ch)) return -1;
  if (ch.kind == ALERT_SINK_SNMP && check_snmp(p, &ch)) return -1;
  if (ch.kind == ALERT_SINK_SNMP && ch.snmp.version == 2 && !ch.snmp.community[0])
    snprintf(ch.snmp.community, sizeof ch.snmp.community, "public");
  if (!ch.name[0]) default_name(c, &ch);
  const struct alert_channel_config *prev = alert_config_channel(c, ch.name);
  if (prev) return lp_fail(p, "alert: a channel named %s is already configured at line %d", ch.name, prev->line);
  c->ch[c->n++] = ch;
  return 0;
}

static int dir_retry(struct lp_ctx *p, struct alert_config *c, char **argv, int argc) {
  if (argc != 3 && !(argc == 5 && strcmp(argv[3], "expire") == 0))
    return lp_fail(p, "alertretry: expected \"alertretry INITIAL MAX [expire SECONDS]\"");
  double ini, max, exp = c->expire;
  if (lp_double(p, "alertretry initial", argv[1], 0.1, 86400, &ini) ||
      lp_double(p, "alertretry max", argv[2], 0.1, 86400, &max) ||
      (argc == 5 && lp_double(p, "alertretry expire", argv[4], 1, 365 * 86400.0, &exp)))
    return -1;
  if (max < ini) return lp_fail(p, "alertretry: MAX %g is below INITIAL %g", max, ini);
  c->retry_initial = ini;
  c->retry_max = max;
  c->expire = exp;
  return 0;
}

static int dir_site(struct lp_ctx *p, struct alert_config *c, char **argv, int argc) {
  if (lp_one_arg(p, argv, argc)) return -1;
  for (const char *s = argv[1]; *s; s++)
    if (*s <= ' ' || *s > '~') return lp_fail(p, "alertsite: printable ASCII without spaces");
  return lp_copy(p, "alertsite", argv[1], c->site, sizeof c->site);
}

/* One line of the family: argv[0] is one of family_directives. */
static int family_directive(void *state, struct lp_ctx *p, char **argv, int argc) {
  struct alert_config *c = state;
  const char *d = argv[0];
  if (strcmp(d, "alert") == 0) return dir_alert(p, c, argv, argc);
  if (strcmp(d, "alertretry") == 0) return dir_retry(p, c, argv, argc);
  if (strcmp(d, "alertsite") == 0) return dir_site(p, c, argv, argc);
  if (strcmp(d, "alertrepeat") == 0)
    return lp_one_arg(p, argv, argc) || lp_double(p, d, argv[1], 0, 30 * 86400.0, &c->repeat) ? -1 : 0;
  if (strcmp(d, "heartbeat") == 0)
    return lp_one_arg(p, argv, argc) || lp_double(p, d, argv[1], 0, 365 * 86400.0, &c->heartbeat) ? -1 : 0;
  return lp_fail(p, "unknown directive \"%s\"", d);
}

/* The defaults (docs/alerting.md). */
static void family_defaults(void *state) {
  struct alert_config *c = state;
  memset(c, 0, sizeof *c);
  c->repeat = 3600;
  c->heartbeat = 86400;
  c->retry_initial = 5;
  c->retry_max = 300;
  c->expire = 7 * 86400.0;
}

/* What a start can know of the channels: a mail channel's cafile is a
 * readable file (else every delivery would fail, found only at the first
 * alarm). Receivers are not tried: one that is down is what the outbox is
 * for (`vettime alert test` tries them). */
static int family_check(const void *state, const struct vt_config *cfg, char *err,
                        size_t errlen) {
  const struct alert_config *c = state;
  for (int i = 0; i < c->n; i++) {
    const struct alert_channel_config *ch = &c->ch[i];
    if (ch->kind != ALERT_SINK_MAIL || !ch->mail.cafile[0]) continue;
    struct stat st;
    FILE *f = NULL;
    const char *bad = stat(ch->mail.cafile, &st) ? strerror(errno)
                      : !S_ISREG(st.st_mode) ? "not a regular file"
                      : !(f = fopen(ch->mail.cafile, "r")) ? strerror(errno) : NULL;
    if (f) fclose(f);
    if (!bad) continue;
    snprintf(err, errlen, "%s:%d: alert mail %s: cafile %s: %s", config_file_name(cfg, ch->file),
             ch->line, ch->name, ch->mail.cafile, bad);
    return -1;
  }
  return 0;
}

static const char *const family_directives[] = {"alert", "alertrepeat", "alertretry",
                                                "alertsite", "heartbeat", NULL};

static const struct config_family family = {
    .directives = family_directives,
    .state_size = sizeof(struct alert_config),
    .defaults = family_defaults,
    .directive = family_directive,
    .check = family_check,
};

int alert_config_register(void) { return config_register_family(&family); }

const struct alert_config *alert_config_of(const struct vt_config *cfg) {
  const struct alert_config *c = config_family_state(cfg, &family);
  assert(c && "alert_config_register() before the configuration is parsed");
  return c;
}

const struct alert_channel_config *alert_config_channel(const struct alert_config *c,
                                                        const char *name) {
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->ch[i].name, name) == 0) return &c->ch[i];
  return NULL;
}
