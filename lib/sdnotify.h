/* Service-manager notifications (systemd's sd_notify protocol, through
 * libsystemd): readiness, reload and stop, a status line, and the
 * watchdog keep-alive sent from the event loop.
 *
 * Every call is harmless when the process was not started by systemd
 * (NOTIFY_SOCKET unset, e.g. `vettimed -t`, the tests, a shell): libsystemd
 * then sends nothing and the calls return at once. */
#ifndef VT_SDNOTIFY_H
#define VT_SDNOTIFY_H

/* READY=1 with a status line: the configuration is read, the sockets are
 * bound and the history is open. systemd's Type=notify waits for it. */
void sdn_ready(const char *status);

/* RELOADING=1 before a SIGHUP re-read, READY=1 after it (done or
 * refused: the daemon runs on in either case). */
void sdn_reloading(void);
void sdn_reloaded(const char *status);

/* STOPPING=1 at the start of a clean stop. */
void sdn_stopping(void);

/* Starts WATCHDOG=1 keep-alives from an event-loop timer at half the
 * interval the service manager asks for (WatchdogSec=, WATCHDOG_USEC):
 * a loop that stops turning stops them, and systemd restarts the daemon.
 * Needs the event loop (sched_init); does nothing without a watchdog.
 * Returns the interval in seconds, or 0 when there is no watchdog. */
double sdn_watchdog_start(void);

#endif
