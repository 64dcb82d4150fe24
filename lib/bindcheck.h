/* Whether an address and port can be bound now, tried the way the daemon
 * binds them (and closed at once), and which process holds one that
 * cannot: for `vettimed -t` and the checks before a start
 * (monitor/config_check.h), so that "address already in use" is said
 * with the configuration's FILE:LINE before anything is created. */
#ifndef VT_BINDCHECK_H
#define VT_BINDCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Binds a socket of type (SOCK_STREAM, then listen(); or SOCK_DGRAM) to
 * address (an IPv4 or IPv6 literal; IPv6 sockets are IPV6_V6ONLY) and
 * port with SO_REUSEADDR, as libmicrohttpd and the NTP server do, and
 * SO_REUSEPORT when reuseport; then closes it. Returns 0, or the errno of
 * the step that failed (EINVAL for an address that is not a literal). */
int bindcheck_try(const char *address, int port, int type, bool reuseport);

/* The process holding a listening TCP (type SOCK_STREAM) or a bound UDP
 * socket on port, any address, found through /proc/net and /proc/PID/fd
 * (other users' processes are visible to root only). Returns its pid
 * with its name (comm) in name, or 0 when none is found. */
pid_t bindcheck_owner(int port, int type, char *name, size_t len);

#endif
