/* vettimed: the vettime daemon's main. Reads the configuration, opens the
 * history, starts the probes and the HTTP API, and runs the event loop
 * until SIGTERM or SIGINT. Runs in the foreground and logs to stderr
 * (systemd style); it never daemonises itself.
 *
 * Start-up order (torn down in reverse): the alert, web, agentx and
 * server directives registered with the configuration parser,
 * configuration and key file (all checked before anything starts), event
 * loop, history, signals, the AgentX subagent, alerting, sources, HTTP
 * API, the NTP server's sockets and threads, then root dropped to `user`
 * and every capability dropped, timers; then, everything bound and open,
 * READY=1 to systemd (Type=notify) and the watchdog's keep-alive timer
 * (lib/sdnotify.h; both are no-ops outside systemd).
 *
 * The one place that knows every module: it wires what flows upward, the
 * round's alarm transitions to alerting (round_on_alarm) and the history's
 * counters and the loop's clock steps into the reports (report.h). */
#include <errno.h>
#include <getopt.h>
#include <sysexits.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <unistd.h>

#include "alerting/alert.h"
#include "alerting/alert_config.h"
#include "lib/caps.h"
#include "lib/log.h"
#include "lib/sched.h"
#include "lib/sdnotify.h"
#include "lib/version.h"
#include "monitor/config.h"
#include "monitor/config_check.h"
#include "monitor/history.h"
#include "monitor/history_read.h"
#include "monitor/keys.h"
#include "monitor/report.h"
#include "monitor/round.h"
#include "monitor/sources.h"
#include "server/ntp_server.h"
#include "server/nts_ke_server.h"
#include "server/server_config.h"
#include "snmp/agentx.h"
#include "snmp/agentx_config.h"
#include "web/http.h"
#include "web/ui.h"
#include "web/web_config.h"

#define ROUND_SECONDS 1.0     /* samples are written once per round */
/* The first round waits this much longer, so that it comes after the
 * sources' first polls (each at a random instant within the first second,
 * probes/ntp_client.c) have been answered. Later answers land at any phase
 * of the round, the poll intervals being jittered: a sample waits at most
 * one round to be judged. */
#define ROUND_PHASE 0.5
#define PRUNE_SECONDS 3600.0  /* old samples are pruned hourly */

static struct vt_config config;
static struct keyring keys;
static bool have_keys;
static struct history *history;
static struct history_reader *history_reader; /* the API's read side */
static int signal_fd = -1;
static double pending_step; /* local clock steps since the last round */

static void usage(FILE *out) {
  fprintf(out,
          "usage: vettimed [-c FILE] [-t] [-d] [-V]\n"
          "  -c FILE  configuration file (default %s)\n"
          "  -t       check everything a start would (configuration, key file,\n"
          "           database, ports, devices), then exit\n"
          "  -d       log at debug level (overrides the `log` directive)\n"
          "  -V       print the version and exit\n"
          "  -h       this help\n"
          "Exit status: 0 stopped cleanly (or -t: the configuration is good), 64 bad\n"
          "option, 78 configuration error, 1 start or run failed (README.md \"Exit\n"
          "status\").\n",
          VT_DEFAULT_CONFIG);
}

/* Loads the configuration and its key file, and checks the keys and the
 * vote's policy (monitor/config_check.h); at start and at every reload.
 * Nothing is started here. */
static int load_config(const char *path, struct vt_config *cfg, struct keyring *kr,
                       bool *has_kr, char *err, size_t errlen) {
  if (config_load(path, cfg, err, errlen)) return -1;
  if (config_check_keys(cfg, kr, has_kr, err, errlen)) {
    config_free(cfg);
    return -1;
  }
  if (config_check_policy(cfg, err, errlen)) {
    if (*has_kr) keyring_free(kr);
    config_free(cfg);
    return -1;
  }
  return 0;
}

/* The history's counters and alerting's outbox depth into the reports,
 * after a flush. */
static void publish_history(void) {
  struct history_stats hs = {0};
  if (history) history_get_stats(history, &hs);
  report_publish_history(hs.written, hs.errors, hs.buffered, hs.dropped);
  struct outbox_report ob;
  alert_depth(&ob);
  report_publish_outbox(&ob);
}

/* SIGHUP: re-read the file. Sources, key file and log level are applied;
 * the database and http directives take effect at the next restart. A
 * file with an error leaves the running configuration untouched. */
static void reload_config(void) {
  struct vt_config next;
  struct keyring next_keys;
  bool next_has_keys;
  char err[8192];
  if (load_config(config.path, &next, &next_keys, &next_has_keys, err, sizeof err)) {
    LOG_ERROR("reload refused, keeping the running configuration: %s", err);
    return;
  }
  /* A device that is not there would leave the daemon with no source at
   * all once the old ones are stopped: refused before they are. */
  if (config_check_sources(&next, err, sizeof err)) {
    LOG_ERROR("reload refused, keeping the running configuration: %s", err);
    if (next_has_keys) keyring_free(&next_keys);
    config_free(&next);
    return;
  }
  if (strcmp(next.database, config.database) || strcmp(next.http_address, config.http_address) ||
      next.http_port != config.http_port || next.http_enabled != config.http_enabled)
    LOG_WARN("reload: database and http changes take effect at the next restart");
  if (memcmp(alert_config_of(&next), alert_config_of(&config), sizeof(struct alert_config)))
    LOG_WARN("reload: alert directive changes take effect at the next restart");
  if (memcmp(agentx_config_of(&next), agentx_config_of(&config), sizeof(struct agentx_config)) ||
      memcmp(web_config_of(&next), web_config_of(&config), sizeof(struct web_config)))
    LOG_WARN("reload: agentx, httptoken and webroot changes take effect at the next restart");
  if (memcmp(server_config_of(&next), server_config_of(&config), sizeof(struct server_config)))
    LOG_WARN("reload: serve, allow, deny, ratelimit and nts* changes take effect at the next restart "
             "(the sockets stay bound as they are)");
  if (strcmp(next.user, config.user))
    LOG_WARN("reload: a user change takes effect at the next restart");
  history_flush(history);
  publish_history();
  round_stop();
  sources_stop();
  snprintf(next.database, sizeof next.database, "%s", config.database);
  if (have_keys) keyring_free(&keys);
  config_free(&config);
  config = next;
  keys = next_keys;
  have_keys = next_has_keys;
  log_set_level(config.log_level);
  if (ntp_server_set_keys(have_keys ? &keys : NULL))
    LOG_ERROR("reload: the NTP server keeps its old keys (out of memory, or 64 reloads since "
              "the start: restart to take the new ones)");
  if (sources_start(&config, have_keys ? &keys : NULL, history, err, sizeof err) ||
      round_start(&config, history, err, sizeof err)) {
    LOG_ERROR("reload: %s; no sources are polled until the next good reload", err);
    return;
  }
  LOG_INFO("reloaded %s: %d sources", config.path, config.n_sources);
}

/* The reload between RELOADING=1 and READY=1, so that `systemctl reload`
 * and the unit's state say what is going on; refused or not, the daemon
 * runs on. */
static void reload(void) {
  sdn_reloading();
  reload_config();
  char status[128];
  snprintf(status, sizeof status, "running: %d sources", config.n_sources);
  sdn_reloaded(status);
}

static void on_signal(int fd, short revents, void *arg) {
  (void)revents, (void)arg;
  struct signalfd_siginfo si;
  while (read(fd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGHUP) {
      reload();
    } else {
      LOG_INFO("signal %d: stopping", (int)si.ssi_signo);
      sdn_stopping();
      sched_quit();
    }
  }
}

static int setup_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, NULL)) return -1;
  signal(SIGPIPE, SIG_IGN);
  signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) return -1;
  return sched_add_fd(signal_fd, POLLIN, on_signal, NULL);
}

/* The round: analysis of the latest measurements, then one transaction
 * with the round's samples, vote, events and alarms. */
static void on_round(void *arg) {
  (void)arg;
  round_run(pending_step);
  pending_step = 0;
  history_flush(history);
  publish_history();
  sched_add_timer(ROUND_SECONDS, on_round, NULL);
}

static void on_prune(void *arg) {
  (void)arg;
  struct timespec now = sched_real_now();
  int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  int n = history_prune(history, now_ns - (int64_t)(config.retention * 1e9));
  if (n > 0) LOG_INFO("history: pruned %d samples older than %g days", n, config.retention / 86400);
  n = history_prune_rollups(history, now_ns - (int64_t)(config.rollup_minutes * 1e9),
                            now_ns - (int64_t)(config.rollup_hours * 1e9));
  if (n > 0) LOG_INFO("history: pruned %d roll-up buckets", n);
  sched_add_timer(PRUNE_SECONDS, on_prune, NULL);
}

static void on_clock_step(double step, void *arg) {
  (void)arg;
  LOG_WARN("the local clock was stepped by %+.3f s (CLOCK_REALTIME moved against CLOCK_MONOTONIC)", step);
  report_publish_clock_step(step);
  pending_step += step;
}

/* Alarm transitions flow up from the round to alerting. */
static void on_alarm(void *ctx, const struct alarm_transition *t, const char *source_name) {
  (void)ctx;
  alert_transition(t, source_name);
}

/* A failure to start once the configuration passed its checks (exit 1). */
static int fatal(const char *what, const char *msg) {
  fprintf(stderr, "vettimed: %s%s%s\n", what, *what ? ": " : "", msg);
  return 1;
}

/* A configuration that cannot work: "FILE:LINE: message", EX_CONFIG. */
static int config_error(const char *msg) {
  fprintf(stderr, "vettimed: %s\n", msg);
  return EX_CONFIG;
}

/* `user NAME`: once every socket and device is open, give up root for
 * good (the user's groups, gid, uid, in that order: clearing every
 * thread's capabilities), and refuse to run on if any step fails. The
 * history's files are handed to the user first (the database's directory
 * must already be writable by it: SQLite creates its -wal and -shm files
 * there). */
static int drop_privileges(const char *user, char *err, size_t errlen) {
  struct passwd *pw = getpwnam(user);
  if (!pw) {
    snprintf(err, errlen, "user %s: no such user", user);
    return -1;
  }
  if (pw->pw_uid == 0) return 0; /* root it stays */
  if (geteuid() != 0) {
    if (geteuid() == pw->pw_uid) return 0;
    snprintf(err, errlen, "user %s: not started as root, cannot become another user", user);
    return -1;
  }
  const char *suffix[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
    char path[sizeof config.database + 8];
    snprintf(path, sizeof path, "%s%s", config.database, suffix[i]);
    if (chown(path, pw->pw_uid, pw->pw_gid) && errno != ENOENT) {
      snprintf(err, errlen, "user %s: chown %s: %s", user, path, strerror(errno));
      return -1;
    }
  }
  /* the user's own groups (initgroups), not none: a reload re-opens the
   * serial receivers, which its group dialout lets it */
  if (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
    snprintf(err, errlen, "user %s: cannot drop root: %s", user, strerror(errno));
    return -1;
  }
  if (setuid(0) == 0) {
    snprintf(err, errlen, "user %s: root could be regained; refusing to run", user);
    return -1;
  }
  char dir[sizeof config.database];
  snprintf(dir, sizeof dir, "%s", config.database);
  char *slash = strrchr(dir, '/');
  if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
  else snprintf(dir, sizeof dir, ".");
  if (access(dir, W_OK | X_OK)) {
    snprintf(err, errlen, "user %s: the database directory %s is not writable by %s (chown it)",
             user, dir, user);
    return -1;
  }
  LOG_INFO("running as user %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
  return 0;
}

/* Once every socket is bound and every device open: no capability is
 * needed any more (a reload re-opens devices and client sockets, which
 * needs none; the NTP server's sockets stay bound), so none is kept, also
 * when the service manager gave some (the unit's CAP_NET_BIND_SERVICE).
 * The NTP server's threads drop theirs when they start. Root without
 * `user` keeps everything, with a warning. */
static int drop_capabilities(char *err, size_t errlen) {
  if (geteuid() == 0) {
    LOG_WARN("running as root with every capability: set `user` (e.g. `user vettime`) to "
             "drop root once the sockets are bound");
    return 0;
  }
  bool had = caps_any();
  if (caps_drop_all(err, errlen)) return -1;
  if (caps_any()) {
    snprintf(err, errlen, "capabilities are still held after dropping them; refusing to run");
    return -1;
  }
  if (had) LOG_INFO("capabilities dropped: none is needed once the sockets are bound");
  return 0;
}

/* The HTTP API, its token (read once at start: a new token takes a
 * restart) and the state-changing actions it may call. */
static int start_http(char *err, size_t errlen) {
  const struct web_config *wc = web_config_of(&config);
  char token[WEB_TOKEN_BUF] = "";
  if (wc->token_file[0] && web_token_load(wc->token_file, token, err, errlen)) return -1;
  if (ui_set_webroot(wc->webroot, err, errlen)) return -1;
  if (wc->webroot[0]) LOG_INFO("http: the dashboard is served from %s", wc->webroot);
  /* The API reads the history on a connection of its own (WAL: it never
   * blocks the writer); without it, only the history endpoints fail. */
  history_reader = history_reader_open(config.database, err, errlen);
  if (!history_reader) LOG_WARN("http: the history endpoints will answer 503: %s", err);
  http_set_history(history_reader);
  if (http_start(config.http_address, config.http_port, err, errlen)) return -1;
  http_set_token(token);
  memset(token, 0, sizeof token);
  struct http_actions a = {alert_test, alert_retry};
  http_set_actions(&a);
  if (!wc->token_file[0])
    LOG_INFO("http: no httptoken: the state-changing endpoints answer 403");
  return 0;
}

/* The NTS-KE server and the cookie keys (before the NTP server, which
 * reads them), kept by default beside the database. */
static int nts_start(char *err, size_t errlen) {
  char dir[sizeof config.database];
  snprintf(dir, sizeof dir, "%s", config.database);
  char *slash = strrchr(dir, '/');
  if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
  else snprintf(dir, sizeof dir, ".");
  return nts_server_start(server_config_of(&config), dir, err, errlen);
}

static int start(void) {
  char err[8192];
  if (sched_init()) return fatal("event loop", "cannot start");
  history = history_open(config.database, err, sizeof err);
  if (!history) return fatal("", err);
  if (setup_signals()) return fatal("signals", strerror(errno));
  /* Before alerting: net-snmp's agent must be set up before the library's
   * first init_snmp(), which the SNMP trap sink calls (snmp/agentx.h). */
  if (agentx_config_of(&config)->enabled && agentx_start(agentx_config_of(&config), err, sizeof err))
    return fatal("", err);
  if (alert_start(&config, history, err, sizeof err)) return fatal("", err);
  round_on_alarm(on_alarm, NULL);
  if (sources_start(&config, have_keys ? &keys : NULL, history, err, sizeof err)) return fatal("", err);
  if (round_start(&config, history, err, sizeof err)) return fatal("", err);
  if (config.http_enabled && start_http(err, sizeof err)) return fatal("", err);
  if (nts_start(err, sizeof err)) return fatal("", err);
  if (ntp_server_start(server_config_of(&config), have_keys ? &keys : NULL, err, sizeof err))
    return fatal("", err);
  if (config.user[0] && drop_privileges(config.user, err, sizeof err)) return fatal("", err);
  if (drop_capabilities(err, sizeof err)) return fatal("", err);
  sched_set_step_handler(on_clock_step, NULL);
  /* Both re-arm themselves from their handlers, which cannot fail
   * (lib/sched.h); only these first registrations can. */
  if (!sched_add_timer(ROUND_SECONDS + ROUND_PHASE, on_round, NULL) ||
      !sched_add_timer(60, on_prune, NULL))
    return fatal("event loop", "out of memory for the round's timers");
  LOG_INFO("vettimed started: %d sources, history %s, API %s%s:%d", config.n_sources,
           config.database, config.http_enabled ? "http://" : "off ", config.http_address,
           config.http_port);
  /* Last: systemd's Type=notify holds its dependants until now, when the
   * configuration is read, the sockets are bound and the history is open. */
  sdn_watchdog_start();
  char status[128];
  snprintf(status, sizeof status, "running: %d sources", config.n_sources);
  sdn_ready(status);
  return 0;
}

static void stop(void) {
  ntp_server_stop();
  nts_server_stop();
  if (config.http_enabled) http_stop();
  http_set_history(NULL);
  history_reader_close(history_reader);
  history_reader = NULL;
  round_stop();
  sources_stop();
  alert_stop(); /* before the history closes */
  agentx_stop();
  struct history_stats hs = {0};
  if (history) history_get_stats(history, &hs);
  history_close(history);
  LOG_INFO("vettimed stopped: %llu samples written, %llu write errors",
           (unsigned long long)hs.written, (unsigned long long)hs.errors);
  if (signal_fd >= 0) close(signal_fd);
  sched_fini();
}

/* The configuration, its key file and every check of config_check.h,
 * before anything is created: a start that cannot work leaves no
 * database, socket or half-started daemon behind. Returns 0 with config
 * and keys loaded, or EX_CONFIG with the message printed. */
static int load_and_check(const char *path, bool check_only, char *note, size_t notelen) {
  char err[8192];
  if (load_config(path, &config, &keys, &have_keys, err, sizeof err)) return config_error(err);
  if (config_check_system(&config, check_only, note, notelen, err, sizeof err) == 0) return 0;
  if (have_keys) keyring_free(&keys);
  config_free(&config);
  return config_error(err);
}

int main(int argc, char **argv) {
  const char *path = VT_DEFAULT_CONFIG;
  bool check_only = false, debug = false;
  int opt;
  static const struct option longopts[] = {
      {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
  while ((opt = getopt_long(argc, argv, "c:tdVh", longopts, NULL)) != -1) {
    switch (opt) {
    case 'c': path = optarg; break;
    case 't': check_only = true; break;
    case 'd': debug = true; break;
    case 'V': puts("vettimed " VT_VERSION); return 0;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return EX_USAGE;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "vettimed: unexpected argument \"%s\"\n", argv[optind]);
    usage(stderr);
    return EX_USAGE;
  }
  if (alert_config_register()) return fatal("alerting", "cannot register the alert directives");
  if (web_config_register()) return fatal("http", "cannot register the web directives");
  if (agentx_config_register()) return fatal("agentx", "cannot register the agentx directive");
  if (server_config_register()) return fatal("serve", "cannot register the server directives");
  char note[512];
  int rc = load_and_check(path, check_only, note, sizeof note);
  if (rc) return rc;
  log_set_level(debug ? LOG_LVL_DEBUG : config.log_level);
  if (check_only) {
    if (note[0]) printf("%s: note: %s\n", path, note);
    printf("%s: configuration OK, %d source%s, %d file%s read\n", path, config.n_sources,
           config.n_sources == 1 ? "" : "s", config.n_files, config.n_files == 1 ? "" : "s");
    if (have_keys) keyring_free(&keys);
    config_free(&config);
    return 0;
  }
  rc = start();
  if (rc == 0) rc = sched_run() ? 1 : 0;
  stop();
  if (have_keys) keyring_free(&keys);
  config_free(&config);
  return rc;
}
