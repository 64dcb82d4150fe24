/* Service-manager notifications (see sdnotify.h). A thin layer over
 * libsystemd's sd_notify(3) and sd_watchdog_enabled(3), so that the daemon
 * says what it means ("ready", "reloading") and the protocol's strings
 * stay in one place. */
#include "lib/sdnotify.h"

#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "lib/log.h"
#include "lib/sched.h"

static double watchdog_half; /* seconds between keep-alives; 0: none */

/* A notification with an optional STATUS= line. sd_notify's result is only
 * logged: a service manager that went away must not stop the daemon. */
static void notify(const char *state, const char *status) {
  char msg[512];
  if (status) snprintf(msg, sizeof msg, "%s\nSTATUS=%s", state, status);
  else snprintf(msg, sizeof msg, "%s", state);
  int rc = sd_notify(0, msg);
  if (rc < 0) LOG_DEBUG("sd_notify %s: error %d", state, -rc);
}

void sdn_ready(const char *status) { notify("READY=1", status); }

void sdn_reloading(void) { notify("RELOADING=1", "reloading the configuration"); }

void sdn_reloaded(const char *status) { notify("READY=1", status); }

void sdn_stopping(void) { notify("STOPPING=1", "stopping"); }

static void on_watchdog(void *arg) {
  (void)arg;
  notify("WATCHDOG=1", NULL);
  sched_add_timer(watchdog_half, on_watchdog, NULL);
}

double sdn_watchdog_start(void) {
  uint64_t usec = 0;
  /* > 0 only when WATCHDOG_USEC is set for this very process (WATCHDOG_PID) */
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return 0;
  watchdog_half = (double)usec / 2e6;
  notify("WATCHDOG=1", NULL);
  if (!sched_add_timer(watchdog_half, on_watchdog, NULL))
    LOG_ERROR("systemd watchdog: no timer for the keep-alive (out of memory): systemd will "
              "stop the daemon");
  LOG_INFO("systemd watchdog: %.1f s, keep-alive every %.1f s", (double)usec / 1e6, watchdog_half);
  return watchdog_half;
}
