/* The AgentX subagent (see agentx.h): net-snmp's agent library glued to
 * the daemon's loop, and the two handlers that answer from the reports
 * through snmp/agentx_mib.h. */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "snmp/agentx.h"

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

/* syslog.h (through net-snmp) defines LOG_INFO and LOG_DEBUG as
 * priorities; ours are the logging macros. LOG_ERR stays syslog's. */
#undef LOG_INFO
#undef LOG_DEBUG
#include "lib/log.h"
#include "lib/sched.h"
#include "monitor/report.h"
#include "snmp/agentx_mib.h"

#define APP_NAME "vettimed"
#define MAX_WATCHED 16           /* descriptors of net-snmp's sessions */
#define IDLE_TICK 1.0            /* s: run net-snmp's alarms at least this often */

static const oid status_oid[] = {AGX_MIB_ROOT, AGX_STATUS_ARC};    /* vtStatus */
static const oid entry_oid[] = {AGX_MIB_ROOT, AGX_TABLE_ARC, 1};   /* vtSourceEntry */
#define STATUS_LEN (sizeof status_oid / sizeof status_oid[0])
#define ENTRY_LEN (sizeof entry_oid / sizeof entry_oid[0])

static struct {
  bool running;
  int ping;                /* s, for messages */
  int fds[MAX_WATCHED];
  int n_fds;
  sched_timer_id timer;
  /* The reports one request reads, kept between requests to save the
   * allocations. */
  struct vote_report vote;
  struct source_report *sources;
  int sources_cap;
  struct alarm_report *alarms;
} X;

/* ---- the view: the reports, read once per request --------------------- */

static void load_view(struct agx_view *v, struct clock_snapshot *clock,
                      struct outbox_report *outbox, struct serve_report *serve) {
  memset(v, 0, sizeof *v);
  report_vote(&X.vote);
  v->vote = &X.vote;
  int n = report_sources(X.sources, X.sources_cap);
  if (n > X.sources_cap) {
    struct source_report *s = realloc(X.sources, (size_t)n * sizeof *s);
    if (s) {
      X.sources = s;
      X.sources_cap = n;
      n = report_sources(X.sources, X.sources_cap);
    }
  }
  v->sources = X.sources;
  v->n_sources = n < 0 ? 0 : n > X.sources_cap ? X.sources_cap : n;
  if (!X.alarms) X.alarms = calloc(REPORT_ALARMS_MAX, sizeof *X.alarms);
  if (X.alarms) {
    v->alarms = X.alarms;
    v->n_alarms = report_alarms(X.alarms, REPORT_ALARMS_MAX);
  }
  report_clock(clock);
  v->clock = clock;
  report_outbox(outbox);
  v->outbox = outbox;
  report_serve(serve);
  v->serve = serve;
}

/* ---- answering -------------------------------------------------------- */

static void set_value(netsnmp_variable_list *var, const struct agx_value *val) {
  if (val->type == AGX_STRING) {
    snmp_set_var_typed_value(var, ASN_OCTET_STR, val->text, strlen(val->text));
  } else if (val->type == AGX_COUNTER64) {
    struct counter64 c = {.high = (u_long)(val->counter >> 32), .low = (u_long)(val->counter & 0xffffffffu)};
    snmp_set_var_typed_value(var, ASN_COUNTER64, &c, sizeof c);
  } else if (val->type == AGX_GAUGE) {
    u_long g = (u_long)val->number;
    snmp_set_var_typed_value(var, ASN_GAUGE, &g, sizeof g);
  } else {
    long i = val->number;
    snmp_set_var_typed_value(var, ASN_INTEGER, &i, sizeof i);
  }
}

/* An instance OID: prefix, then a and b (vtStatus.N.0, vtSourceEntry.C.I). */
static size_t instance(oid *out, const oid *prefix, size_t len, oid a, oid b) {
  memcpy(out, prefix, len * sizeof *prefix);
  out[len] = a;
  out[len + 1] = b;
  return len + 2;
}

/* The value at an exact instance OID, for GET. */
static bool get_status(const struct agx_view *v, const oid *name, size_t len,
                       struct agx_value *val) {
  if (len != STATUS_LEN + 2 || name[STATUS_LEN + 1] != 0) return false;
  oid n = name[STATUS_LEN];
  return n >= 1 && n <= AGX_SCALAR_LAST && agx_scalar(v, (int)n, val);
}

static bool get_cell(const struct agx_view *v, const oid *name, size_t len,
                     struct agx_value *val) {
  if (len != ENTRY_LEN + 2) return false;
  oid col = name[ENTRY_LEN], row = name[ENTRY_LEN + 1];
  return col >= AGX_COL_NAME && col <= AGX_COL_LAST && row >= 1 && row <= 0x7fffffff &&
         agx_cell(v, (int)col, (long)row, val);
}

/* The first instance after name, for GETNEXT (and GETBULK, which net-snmp
 * turns into GETNEXTs for a handler without bulk support). The candidates
 * are tried in OID order, so the first one past name is the answer. */
static bool next_status(const struct agx_view *v, const oid *name, size_t len, oid *out,
                        size_t *out_len, struct agx_value *val) {
  for (oid n = 1; n <= AGX_SCALAR_LAST; n++) {
    size_t l = instance(out, status_oid, STATUS_LEN, n, 0);
    if (snmp_oid_compare(out, l, name, len) > 0 && agx_scalar(v, (int)n, val)) {
      *out_len = l;
      return true;
    }
  }
  return false;
}

static bool next_cell(const struct agx_view *v, const oid *name, size_t len, oid *out,
                      size_t *out_len, struct agx_value *val) {
  for (oid col = AGX_COL_NAME; col <= AGX_COL_LAST; col++)
    for (long row = 1; row <= v->n_sources; row++) {
      size_t l = instance(out, entry_oid, ENTRY_LEN, col, (oid)row);
      if (snmp_oid_compare(out, l, name, len) > 0 && agx_cell(v, (int)col, row, val)) {
        *out_len = l;
        return true;
      }
    }
  return false;
}

static int handle(netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests,
                  bool table) {
  struct agx_view v;
  struct clock_snapshot clock;
  struct outbox_report outbox;
  struct serve_report serve;
  load_view(&v, &clock, &outbox, &serve);
  for (netsnmp_request_info *r = requests; r; r = r->next) {
    if (r->processed) continue;
    netsnmp_variable_list *var = r->requestvb;
    struct agx_value val;
    oid out[MAX_OID_LEN];
    size_t out_len = 0;
    switch (reqinfo->mode) {
    case MODE_GET:
      if (table ? get_cell(&v, var->name, var->name_length, &val)
                : get_status(&v, var->name, var->name_length, &val))
        set_value(var, &val);
      else
        netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
      break;
    case MODE_GETNEXT:
      /* Nothing past it here: leave the varbind alone and the agent
       * moves on to the next subtree. */
      if (table ? next_cell(&v, var->name, var->name_length, out, &out_len, &val)
                : next_status(&v, var->name, var->name_length, out, &out_len, &val)) {
        snmp_set_var_objid(var, out, out_len);
        set_value(var, &val);
      }
      break;
    default: /* read-only: HANDLER_CAN_RONLY makes the agent refuse SETs */
      netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
      break;
    }
  }
  return SNMP_ERR_NOERROR;
}

static int handle_status(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests) {
  (void)h, (void)reg;
  return handle(reqinfo, requests, false);
}

static int handle_table(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
                        netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests) {
  (void)h, (void)reg;
  return handle(reqinfo, requests, true);
}

static int register_subtree(const char *name, Netsnmp_Node_Handler *fn, const oid *root,
                            size_t len) {
  netsnmp_handler_registration *reg =
      netsnmp_create_handler_registration(name, fn, root, len, HANDLER_CAN_RONLY);
  return reg && netsnmp_register_handler(reg) == MIB_REGISTERED_OK ? 0 : -1;
}

/* ---- the loop glue ---------------------------------------------------- */

static void sync_loop(void);

static void after_io(void) {
  run_alarms();
  netsnmp_check_outstanding_agent_requests();
  sync_loop();
}

static void on_readable(int fd, short revents, void *arg) {
  (void)revents, (void)arg;
  fd_set set;
  FD_ZERO(&set);
  FD_SET(fd, &set);
  snmp_read(&set);
  after_io();
}

static void on_timer(void *arg) {
  (void)arg;
  X.timer = 0;
  snmp_timeout();
  after_io();
}

static bool watched(int fd) {
  for (int i = 0; i < X.n_fds; i++)
    if (X.fds[i] == fd) return true;
  return false;
}

/* Watches exactly the descriptors net-snmp names now (a session closed by
 * a master that went away drops out, a reconnection adds its own), and
 * re-arms the timer for net-snmp's next timeout or alarm. */
static void sync_loop(void) {
  if (!X.running) return;
  int numfds = 0, block = 1;
  fd_set set;
  FD_ZERO(&set);
  struct timeval tv = {0, 0};
  snmp_select_info(&numfds, &set, &tv, &block);
  int had = X.n_fds;
  for (int i = 0; i < X.n_fds; i++)
    if (X.fds[i] >= numfds || !FD_ISSET(X.fds[i], &set)) {
      sched_remove_fd(X.fds[i]);
      X.fds[i--] = X.fds[--X.n_fds];
    }
  /* Besides the AgentX session net-snmp keeps internal callback
   * sessions open: a descriptor that goes away is the master's. */
  if (X.n_fds < had)
    LOG_WARN("agentx: the session with the master agent closed; trying again every %d s",
             X.ping);
  for (int fd = 0; fd < numfds && fd < FD_SETSIZE; fd++) {
    if (!FD_ISSET(fd, &set) || watched(fd)) continue;
    if (X.n_fds == MAX_WATCHED || sched_add_fd(fd, POLLIN, on_readable, NULL)) {
      LOG_RATELIMITED(LOG_LVL_ERROR, "agentx: cannot watch descriptor %d", fd);
      continue;
    }
    X.fds[X.n_fds++] = fd;
  }
  if (X.n_fds != had) LOG_DEBUG("agentx: watching %d descriptors (was %d)", X.n_fds, had);
  double wait = block ? IDLE_TICK : (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  if (wait > IDLE_TICK) wait = IDLE_TICK;
  if (X.timer) sched_cancel_timer(X.timer);
  X.timer = sched_add_timer(wait, on_timer, NULL);
  if (!X.timer) LOG_RATELIMITED(LOG_LVL_ERROR, "agentx: no timer (out of memory)");
}

/* net-snmp's log lines ("AgentX master agent failed to respond to ping",
 * "NET-SNMP version ... AgentX subagent connected") into ours. */
static int on_snmp_log(int major, int minor, void *server_arg, void *client_arg) {
  (void)major, (void)minor, (void)client_arg;
  const struct snmp_log_message *m = server_arg;
  if (!m || !m->msg) return 0;
  char line[300];
  snprintf(line, sizeof line, "%s", m->msg);
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  if (!n) return 0;
  if (m->priority <= LOG_ERR) LOG_RATELIMITED(LOG_LVL_WARN, "agentx: %s", line);
  else LOG_RATELIMITED(LOG_LVL_INFO, "agentx: %s", line);
  return 0;
}

int agentx_start(const struct agentx_config *c, char *err, size_t errlen) {
  if (X.running) {
    snprintf(err, errlen, "agentx: already running");
    return -1;
  }
  /* As alerting/sink_snmp.c: no configuration or persistent files of
   * net-snmp's own, no MIB files, no signals. */
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
  netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
  netsnmp_set_mib_directory("/nonexistent/vettimed-loads-no-mibs");
  setenv("MIBS", "", 1);
  snmp_enable_calllog();
  snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_snmp_log, NULL);
  /* The subagent role, the master's socket, and how long it may take. */
  netsnmp_enable_subagent();
  netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, c->socket);
  netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, c->ping);
  netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_TIMEOUT,
                     c->timeout * 1000000);
  netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_RETRIES, 0);
  if (init_agent(APP_NAME) != 0) {
    snprintf(err, errlen, "agentx: net-snmp's agent library did not initialise");
    return -1;
  }
  if (register_subtree("vtStatus", handle_status, status_oid, STATUS_LEN) ||
      register_subtree("vtSourceTable", handle_table, entry_oid, ENTRY_LEN)) {
    snprintf(err, errlen, "agentx: cannot register the VETTIME-MIB subtrees");
    return -1;
  }
  X.running = true;
  X.ping = c->ping;
  init_snmp(APP_NAME); /* connects to the master (or schedules the retry) */
  sync_loop();
  LOG_INFO("agentx: subagent for VETTIME-MIB vtStatus and vtSourceTable via %s (ping %d s)",
           c->socket, c->ping);
  return 0;
}

void agentx_stop(void) {
  if (!X.running) return;
  X.running = false;
  sched_cancel_timer(X.timer);
  X.timer = 0;
  for (int i = 0; i < X.n_fds; i++) sched_remove_fd(X.fds[i]);
  X.n_fds = 0;
  free(X.sources);
  free(X.alarms);
  X.sources = NULL;
  X.alarms = NULL;
  X.sources_cap = 0;
}
