/* The NTP server: the sockets and threads that serve the vetted time
 * (issue 10; ../shared/ARCHITECTURE.md, "Serving the vetted time";
 * docs/design.md, "NTP server").
 *
 * One thread per socket, apart from the daemon's loop so that the
 * monitoring never delays an answer and a flood of requests never delays a
 * round. Each thread: recvmmsg a batch (up to 64) with the kernel's receive
 * timestamps (SO_TIMESTAMPNS, CLOCK_REALTIME); read the clock model once
 * (report_clock(), a sequence lock: no lock, no wait) and the difference
 * CLOCK_REALTIME − CLOCK_MONOTONIC once; for each datagram the access list,
 * the rate limiter and the pure responder (server/ntp_respond.c), T2 being
 * the served time at the kernel's receive instant; then the responses go
 * out in chunks (SEND_CHUNK, 1 by default: measured, batching the sends
 * bought no CPU time here and cost T3 tens of microseconds), T3 read
 * right before each chunk's sendmmsg (advanced, within a chunk, by the
 * measured cost of each message sent before it) and the MACs computed
 * over it; then the batch's counters added to the report (relaxed
 * atomics). Nothing on that path allocates or takes a lock. One thread
 * per socket; `serve ... threads N` opens N SO_REUSEPORT sockets on one
 * address (measured: 2.2 times the answers with two clients on this
 * two-core machine, when the kernel hashes them apart; docs/design.md,
 * "NTP server").
 *
 * The served time comes from clock_serve_at() on CLOCK_MONOTONIC
 * (monitor/clockmodel.h): a step of the local clock by chrony or ntpd
 * between two rounds does not move it. */
#ifndef VT_NTP_SERVER_H
#define VT_NTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct server_config;
struct keyring;

/* Binds every `serve` address (before root is dropped: port 123) and
 * starts one thread per socket. keys (may be NULL) are copied. Nothing is
 * started when cfg has no `serve` line. Returns 0, or -1 with the reason in
 * err (an address that cannot be bound: nothing is left running). */
int ntp_server_start(const struct server_config *cfg, const struct keyring *keys, char *err,
                     size_t errlen);

/* A reloaded key file: copied; the threads take it at their next batch.
 * (The old copies are freed when the server stops: a thread may still be
 * reading one.) Returns 0, or -1 when out of memory or after 64 reloads
 * (the old keys stay). */
int ntp_server_set_keys(const struct keyring *keys);

/* Stops the threads and closes the sockets. Safe when not started. */
void ntp_server_stop(void);

/* The local clock's precision as served (log2 s), measured at start. */
int ntp_server_precision(void);

#endif
