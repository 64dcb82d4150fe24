/* The SNMP sink (sink.h): SNMPv2c traps and informs, and SNMPv3 (USM
 * authPriv) traps and informs, with net-snmp's single-session API
 * (snmp_sess_*), non-blocking: the session's socket is watched by the
 * daemon's loop and net-snmp's timeouts run on a loop timer.
 *
 * The notifications are those of schema/VETTIME-MIB.txt: sysUpTime.0,
 * snmpTrapOID.0 (vtHeartbeat, vtTestNotification, or the kind's
 * vt<Kind>Raised / vt<Kind>Cleared), then the vtNotifVars objects with
 * instance .0, vtNotifSequence first (the outbox row id: the same on a
 * resend).
 *
 * Outcome: a TRAP is done when sent (SNMP gives no acknowledgement: a trap
 * receiver that is down loses it; use `inform` where that matters). An
 * INFORM is done when its Response arrives; a timeout is temporary, a
 * Report (wrong user, key or engine id) or an error-status is permanent.
 *
 * SNMPv3: the session's security engine is given, so net-snmp never
 * probes for one (which would block): for traps it is ours (engineid, or
 * 0x80007ed904 + "vettime:" + site), with engine boots taken from the
 * real-time clock at start (seconds since 2000, so it grows across
 * restarts as receivers demand); for informs it is the receiver's
 * (engineid, required), and net-snmp learns the receiver's boots and time
 * from its notInTimeWindow Report and resends once by itself. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "alerting/sink.h"
#include "lib/sched.h"
#include "monitor/events.h"

/* VETTIME-MIB::vettimeMIB, under the placeholder enterprise 32473. */
#define VT_MIB_ROOT 1, 3, 6, 1, 4, 1, 32473, 7
#define REOPEN_SECONDS 60.0

static const oid sys_uptime_oid[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
static const oid trap_oid_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

enum var { V_SEQUENCE = 1, V_ALARM_ID, V_KIND, V_SEVERITY, V_SOURCE, V_CLASS, V_VALUE,
           V_THRESHOLD, V_TEXT, V_TIME, V_SITE };

struct snmp_priv {
  struct sink *sink;
  void *sess;
  int fd;
  sched_timer_id timer;
  double reopen_at;        /* monotonic: a failed open is tried again then */
  bool busy;               /* an INFORM waits for its response */
};

static bool lib_ready;
static double start_mono;

/* net-snmp reads no configuration or persistent files of its own and
 * loads no MIB: vettimed sends numeric OIDs and keeps its state itself. */
static void lib_init(void) {
  if (lib_ready) return;
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
  netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
  netsnmp_set_mib_directory("/nonexistent/vettimed-loads-no-mibs");
  setenv("MIBS", "", 1);
  init_snmp("vettimed");
  start_mono = sched_mono_now();
  lib_ready = true;
}

/* ---- engine id and USM ---- */

static void default_engine_id(const char *site, uint8_t *id, int *len) {
  /* RFC 3411 SnmpEngineID: 0x80 | enterprise 32473, format 4 (text). */
  static const uint8_t prefix[] = {0x80, 0x00, 0x7e, 0xd9, 0x04};
  char text[28];
  snprintf(text, sizeof text, "vettime:%s", site);
  memcpy(id, prefix, sizeof prefix);
  size_t n = strlen(text);
  memcpy(id + sizeof prefix, text, n);
  *len = (int)(sizeof prefix + n);
}

static int set_usm(netsnmp_session *ss, const struct alert_snmp_config *c, char *err,
                   size_t errlen) {
  static oid *const auth_oids[] = {usmHMACMD5AuthProtocol, usmHMACSHA1AuthProtocol,
                                   usmHMAC192SHA256AuthProtocol, usmHMAC384SHA512AuthProtocol};
  ss->securityName = (char *)c->user;
  ss->securityNameLen = strlen(c->user);
  ss->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
  ss->securityAuthProto = auth_oids[c->auth];
  ss->securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
  ss->securityAuthKeyLen = USM_AUTH_KU_LEN;
  ss->securityPrivProto = c->priv == ALERT_PRIV_AES ? usmAESPrivProtocol : usmDESPrivProtocol;
  ss->securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
  ss->securityPrivKeyLen = USM_PRIV_KU_LEN;
  if (generate_Ku(ss->securityAuthProto, (u_int)ss->securityAuthProtoLen,
                  (const u_char *)c->auth_pass, strlen(c->auth_pass), ss->securityAuthKey,
                  &ss->securityAuthKeyLen) != SNMPERR_SUCCESS ||
      generate_Ku(ss->securityAuthProto, (u_int)ss->securityAuthProtoLen,
                  (const u_char *)c->priv_pass, strlen(c->priv_pass), ss->securityPrivKey,
                  &ss->securityPrivKeyLen) != SNMPERR_SUCCESS) {
    snprintf(err, errlen, "snmp: cannot derive the USM keys of user %s", c->user);
    return -1;
  }
  return 0;
}

/* ---- the session on the loop ---- */

static void arm_timer(struct snmp_priv *p);

static void on_timeout(void *arg) {
  struct snmp_priv *p = arg;
  p->timer = 0;
  snmp_sess_timeout(p->sess);
  arm_timer(p);
}

/* The next net-snmp timeout (a retry or an INFORM's deadline), if any. */
static void arm_timer(struct snmp_priv *p) {
  sched_cancel_timer(p->timer);
  p->timer = 0;
  if (!p->sess) return;
  int numfds = 0, block = 1;
  fd_set fds;
  struct timeval tv = {0, 0};
  FD_ZERO(&fds);
  snmp_sess_select_info(p->sess, &numfds, &fds, &tv, &block);
  if (!block) p->timer = sched_add_timer(tv.tv_sec + tv.tv_usec * 1e-6, on_timeout, p);
}

static void on_readable(int fd, short revents, void *arg) {
  struct snmp_priv *p = arg;
  (void)revents;
  fd_set fds;
  FD_ZERO(&fds);
  FD_SET(fd, &fds);
  snmp_sess_read(p->sess, &fds);
  if (p->sess) arm_timer(p);
}

static void finish(struct snmp_priv *p, enum outbox_result r, const char *why) {
  p->busy = false;
  p->sink->done(p->sink->done_ctx, r, why);
}

/* The INFORM's fate. */
static int on_response(int op, netsnmp_session *ss, int reqid, netsnmp_pdu *pdu, void *magic) {
  struct snmp_priv *p = magic;
  (void)ss, (void)reqid;
  if (!p->busy || op == NETSNMP_CALLBACK_OP_RESEND || op == NETSNMP_CALLBACK_OP_CONNECT)
    return 1; /* a resend (after a notInTimeWindow Report) is still waiting */
  char why[160];
  if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE && pdu->command == SNMP_MSG_RESPONSE) {
    if (pdu->errstat == SNMP_ERR_NOERROR) {
      finish(p, OUTBOX_OK, NULL);
    } else {
      snprintf(why, sizeof why, "snmp inform: the receiver answered %s", snmp_errstring(pdu->errstat));
      finish(p, OUTBOX_PERMANENT, why);
    }
  } else if (op == NETSNMP_CALLBACK_OP_SEC_ERROR) {
    snprintf(why, sizeof why, "snmp inform: the receiver refused our USM credentials "
             "(unknown user, wrong pass phrase or engine id)");
    finish(p, OUTBOX_PERMANENT, why);
  } else if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
    snprintf(why, sizeof why, "snmp inform: the receiver sent a Report (%s)",
             snmp_api_errstring(snmpv3_get_report_type(pdu)));
    finish(p, OUTBOX_PERMANENT, why);
  } else {
    snprintf(why, sizeof why, "snmp inform: %s (callback op %d, %s)",
             op == NETSNMP_CALLBACK_OP_TIMED_OUT ? "no acknowledgement" : "sending failed", op,
             snmp_api_errstring(ss->s_snmp_errno));
    finish(p, OUTBOX_TEMPORARY, why);
  }
  return 1;
}

static int open_session(struct snmp_priv *p, char *err, size_t errlen) {
  const struct alert_snmp_config *c = &p->sink->cfg->snmp;
  netsnmp_session ss;
  char peer[300];
  uint8_t engine[32];
  int engine_len = 0;
  bool v6 = strchr(c->host, ':') != NULL;
  snprintf(peer, sizeof peer, "%s:%s%s%s:%d", v6 ? "udp6" : "udp", v6 ? "[" : "", c->host,
           v6 ? "]" : "", c->port);
  snmp_sess_init(&ss);
  ss.peername = peer;
  ss.retries = 0; /* the outbox retries, with backoff */
  ss.timeout = (long)(c->timeout * 1e6);
  ss.callback = on_response;
  ss.callback_magic = p;
  if (c->version == 2) {
    ss.version = SNMP_VERSION_2c;
    ss.community = (u_char *)c->community;
    ss.community_len = strlen(c->community);
  } else {
    ss.version = SNMP_VERSION_3;
    if (set_usm(&ss, c, err, errlen)) return -1;
    if (c->engine_id_len) {
      memcpy(engine, c->engine_id, (size_t)c->engine_id_len);
      engine_len = c->engine_id_len;
    } else {
      default_engine_id(p->sink->site, engine, &engine_len);
    }
    ss.securityEngineID = engine;
    ss.securityEngineIDLen = (size_t)engine_len;
    ss.contextEngineID = engine;
    ss.contextEngineIDLen = (size_t)engine_len;
    ss.flags |= SNMP_FLAGS_DONT_PROBE;
    if (!c->inform) {
      struct timespec rt = sched_real_now();
      ss.engineBoots = (u_int)(rt.tv_sec - 946684800);
      ss.engineTime = 1;
      set_enginetime(engine, (u_int)engine_len, ss.engineBoots, ss.engineTime, TRUE);
    }
  }
  p->sess = snmp_sess_open(&ss);
  if (!p->sess) {
    int liberr = 0, syserr = 0;
    char *msg = NULL;
    snmp_error(&ss, &syserr, &liberr, &msg);
    snprintf(err, errlen, "snmp %s: %s", peer, msg ? msg : "cannot open a session");
    free(msg);
    return -1;
  }
  netsnmp_transport *t = snmp_sess_transport(p->sess);
  p->fd = t ? t->sock : -1;
  if (p->fd < 0 || sched_add_fd(p->fd, POLLIN, on_readable, p)) {
    snprintf(err, errlen, "snmp %s: cannot watch the session's socket", peer);
    snmp_sess_close(p->sess);
    p->sess = NULL;
    return -1;
  }
  return 0;
}

static void close_session(struct snmp_priv *p) {
  sched_cancel_timer(p->timer);
  p->timer = 0;
  if (!p->sess) return;
  sched_remove_fd(p->fd);
  p->busy = false; /* snmp_sess_close calls back pending requests: ignore them */
  snmp_sess_close(p->sess);
  p->sess = NULL;
}

static int sn_open(struct sink *s, char *err, size_t errlen) {
  struct snmp_priv *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "snmp: out of memory");
    return -1;
  }
  p->sink = s;
  p->fd = -1;
  s->priv = p;
  lib_init();
  return open_session(p, err, errlen);
}

/* ---- the notification ---- */

static void add_oid_var(netsnmp_pdu *pdu, enum var v, u_char type, const void *val, size_t len) {
  oid name[] = {VT_MIB_ROOT, 1, 1, (oid)v, 0};
  snmp_pdu_add_variable(pdu, name, sizeof name / sizeof name[0], type, val, len);
}

static void add_string(netsnmp_pdu *pdu, enum var v, const char *s, size_t max) {
  size_t n = strlen(s);
  add_oid_var(pdu, v, ASN_OCTET_STR, s, n > max ? max : n);
}

static void add_unsigned(netsnmp_pdu *pdu, enum var v, uint64_t x) {
  u_long u = (u_long)(x & 0xffffffffu);
  add_oid_var(pdu, v, ASN_UNSIGNED, &u, sizeof u);
}

static void add_number(netsnmp_pdu *pdu, enum var v, double x) {
  char buf[40] = "";
  if (isfinite(x)) snprintf(buf, sizeof buf, "%.9g", x);
  add_string(pdu, v, buf, 32);
}

/* DateAndTime (SNMPv2-TC), UTC, 11 octets. */
static void add_time(netsnmp_pdu *pdu, int64_t ns) {
  time_t sec = (time_t)(ns / 1000000000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  int year = tm.tm_year + 1900;
  u_char d[11] = {(u_char)(year >> 8), (u_char)year, (u_char)(tm.tm_mon + 1), (u_char)tm.tm_mday,
                  (u_char)tm.tm_hour, (u_char)tm.tm_min, (u_char)(tm.tm_sec > 59 ? 59 : tm.tm_sec),
                  (u_char)((ns % 1000000000) / 100000000), '+', 0, 0};
  add_oid_var(pdu, V_TIME, ASN_OCTET_STR, d, sizeof d);
}

/* The notification's OID: 1 heartbeat, 2 test, 100 + k raised, 200 + k
 * cleared (k = event kind + 1). */
static oid notification_number(const struct alert_note *n) {
  enum event_kind k;
  if (n->event == ALERT_HEARTBEAT) return 1;
  if (n->event == ALERT_TEST || event_kind_parse(n->kind, &k)) return 2;
  return (oid)((n->event == ALERT_CLEAR ? 200 : 100) + k + 1);
}

static long severity_number(const char *s) {
  return strcmp(s, "critical") == 0 ? 3 : strcmp(s, "warning") == 0 ? 2 : 1;
}

static netsnmp_pdu *build_pdu(const struct snmp_priv *p, const struct alert_note *n) {
  netsnmp_pdu *pdu = snmp_pdu_create(p->sink->cfg->snmp.inform ? SNMP_MSG_INFORM : SNMP_MSG_TRAP2);
  if (!pdu) return NULL;
  u_long ticks = (u_long)((sched_mono_now() - start_mono) * 100);
  oid trap[] = {VT_MIB_ROOT, 0, notification_number(n)};
  bool alarm = n->event == ALERT_RAISE || n->event == ALERT_CLEAR || n->event == ALERT_REPEAT;
  snmp_pdu_add_variable(pdu, sys_uptime_oid, sizeof sys_uptime_oid / sizeof(oid), ASN_TIMETICKS,
                        &ticks, sizeof ticks);
  snmp_pdu_add_variable(pdu, trap_oid_oid, sizeof trap_oid_oid / sizeof(oid), ASN_OBJECT_ID, trap,
                        sizeof trap);
  add_unsigned(pdu, V_SEQUENCE, (uint64_t)n->id);
  if (alarm) add_unsigned(pdu, V_ALARM_ID, n->alarm_id);
  add_string(pdu, V_KIND, alarm ? n->kind : alert_event_name(n->event), 32);
  long sev = severity_number(n->severity);
  add_oid_var(pdu, V_SEVERITY, ASN_INTEGER, &sev, sizeof sev);
  if (alarm) {
    add_string(pdu, V_SOURCE, n->source, 255);
    add_string(pdu, V_CLASS, n->ref_class, 8);
    add_number(pdu, V_VALUE, n->value);
    add_number(pdu, V_THRESHOLD, n->threshold);
  }
  add_string(pdu, V_TEXT, n->text, 255);
  add_time(pdu, n->event_ns ? n->event_ns : n->created_ns);
  add_string(pdu, V_SITE, n->site, 64);
  return pdu;
}

static int sn_send(struct sink *s, const struct alert_note *notes, int n, char *err,
                   size_t errlen) {
  struct snmp_priv *p = s->priv;
  (void)n;
  if (!p->sess) {
    if (sched_mono_now() < p->reopen_at) {
      snprintf(err, errlen, "snmp: no session (opening failed; tried again in a minute)");
      return -1;
    }
    p->reopen_at = sched_mono_now() + REOPEN_SECONDS;
    if (open_session(p, err, errlen)) return -1;
  }
  netsnmp_pdu *pdu = build_pdu(p, &notes[0]);
  if (!pdu) {
    snprintf(err, errlen, "snmp: out of memory");
    return -1;
  }
  if (!s->cfg->snmp.inform) {
    if (!snmp_sess_send(p->sess, pdu)) {
      snmp_free_pdu(pdu);
      snprintf(err, errlen, "snmp trap: %s", snmp_api_errstring(snmp_errno));
      return -1;
    }
    s->done(s->done_ctx, OUTBOX_OK, NULL);
    return 0;
  }
  p->busy = true;
  if (!snmp_sess_async_send(p->sess, pdu, on_response, p)) {
    p->busy = false;
    snmp_free_pdu(pdu);
    snprintf(err, errlen, "snmp inform: %s", snmp_api_errstring(snmp_errno));
    return -1;
  }
  arm_timer(p);
  return 0;
}

static void sn_close(struct sink *s) {
  struct snmp_priv *p = s->priv;
  if (!p) return;
  close_session(p);
  free(p);
  s->priv = NULL;
}

const struct sink_ops sink_snmp_ops = {"snmp", sn_open, sn_send, sn_close};
