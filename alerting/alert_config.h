/* The alerting directives of the configuration file (docs/alerting.md):
 *
 *   alert syslog [facility F] [ident NAME] [remote udp|tcp HOST:PORT | remote unix PATH] ROUTE...
 *   alert mail URL from ADDR to ADDR[,ADDR...] [starttls] [user U password P]
 *              [cafile PATH] [insecure] [digest SECONDS] [timeout SECONDS] ROUTE...
 *   alert snmp HOST[:PORT] [version 2c|3] [community C] [inform]
 *              [user U auth MD5|SHA|SHA-256|SHA-512 PASS priv DES|AES PASS]
 *              [engineid HEX] [timeout SECONDS] ROUTE...
 *   ROUTE: [name NAME] [min-severity info|warning|critical] [kinds K,K,...]
 *          [heartbeat SECONDS]
 *   alertrepeat SECONDS | alertretry INITIAL MAX [expire SECONDS] |
 *   alertsite NAME | heartbeat SECONDS
 *
 * alert_config_register() registers these directives with the
 * configuration parser (monitor/config.h); the parsed result travels in
 * struct vt_config as a plain value (no pointers), so the daemon can copy
 * it and a reload can compare and replace it. Pure: no I/O. */
#ifndef VT_ALERT_CONFIG_H
#define VT_ALERT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALERT_CHANNELS_MAX 16
#define ALERT_NAME_LEN 32

enum alert_sink_kind { ALERT_SINK_SYSLOG = 0, ALERT_SINK_MAIL, ALERT_SINK_SNMP };
/* "syslog", "mail", "snmp". */
const char *alert_sink_kind_name(enum alert_sink_kind k);

enum alert_syslog_transport { ALERT_SYSLOG_LOCAL = 0, ALERT_SYSLOG_UDP, ALERT_SYSLOG_TCP,
                              ALERT_SYSLOG_UNIX };
enum alert_snmp_auth { ALERT_AUTH_MD5 = 0, ALERT_AUTH_SHA, ALERT_AUTH_SHA256, ALERT_AUTH_SHA512 };
enum alert_snmp_priv { ALERT_PRIV_DES = 0, ALERT_PRIV_AES };

/* Which notifications a channel takes. Heartbeat and test notifications
 * always go to their channel. */
struct alert_route {
  int min_severity;      /* enum alarm_severity; default SEV_INFO (all) */
  uint32_t kinds;        /* bit (1 << enum event_kind); default all */
};

struct alert_syslog_config {
  int facility;          /* LOG_DAEMON ... LOG_LOCAL7 (syslog.h values); default LOG_DAEMON */
  char ident[32];        /* APP-NAME / syslog ident; default "vettimed" */
  enum alert_syslog_transport transport; /* default local syslog(3) */
  char host[256];        /* udp, tcp: the collector */
  int port;              /* udp, tcp; default 514 */
  char path[108];        /* unix: a datagram socket */
};

struct alert_mail_config {
  char url[512];         /* smtp://HOST[:PORT] or smtps://HOST[:PORT] */
  char from[256];
  char to[1024];         /* comma-separated, at least one */
  bool starttls;         /* require STARTTLS on smtp:// */
  char user[128], password[128]; /* AUTH when user is set */
  char cafile[256];      /* "" : the system's CA store */
  bool insecure;         /* do not verify the server's certificate (tests) */
  double digest;         /* s to gather notifications into one mail; 0 off */
  double timeout;        /* s for one delivery; default 60 */
};

struct alert_snmp_config {
  char host[256];
  int port;              /* default 162 */
  int version;           /* 2 (v2c) or 3; default 2 */
  char community[64];    /* v2c; default "public" */
  bool inform;           /* INFORM (acknowledged) instead of TRAP */
  char user[64];         /* v3: authPriv */
  enum alert_snmp_auth auth;
  char auth_pass[128];
  enum alert_snmp_priv priv;
  char priv_pass[128];
  uint8_t engine_id[32]; /* v3 trap: our engine id; v3 inform: the receiver's */
  int engine_id_len;     /* 0: traps use one derived from the site name */
  double timeout;        /* s to wait for an INFORM's acknowledgement; default 5 */
};

struct alert_channel_config {
  enum alert_sink_kind kind;
  char name[ALERT_NAME_LEN]; /* unique; default the kind, then kind2, kind3, ... */
  struct alert_route route;
  double heartbeat;      /* s; < 0: the global `heartbeat` */
  int file, line;        /* where it was configured (config_file_name()) */
  struct alert_syslog_config syslog;
  struct alert_mail_config mail;
  struct alert_snmp_config snmp;
};

struct alert_config {
  struct alert_channel_config ch[ALERT_CHANNELS_MAX];
  int n;
  double repeat;         /* s between repeats of a raised critical alarm; 0 off; default 3600 */
  double heartbeat;      /* s between heartbeats on each channel; 0 off; default 86400 */
  double retry_initial;  /* s before the first retry; default 5 */
  double retry_max;      /* s, the longest wait between retries; default 300 */
  double expire;         /* s after which a notification still failing is dead; default 7 days */
  char site[64];         /* "where" in subjects and varbinds; "" = the host name */
};

/* Registers the alerting directives with the configuration parser. Every
 * program that reads vettime.conf calls it from main, before the first
 * config_load(). Returns 0, or -1 (a bug: see config_register_family). */
int alert_config_register(void);

struct vt_config;

/* The alert directives of a configuration parsed after
 * alert_config_register() (asserted): their defaults when it has none. */
const struct alert_config *alert_config_of(const struct vt_config *cfg);

/* The channel called name, or NULL. */
const struct alert_channel_config *alert_config_channel(const struct alert_config *c,
                                                        const char *name);

#endif
