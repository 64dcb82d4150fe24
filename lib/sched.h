/* The event loop: one thread, poll(2), file-descriptor handlers and timers.
 *
 * Timers run on CLOCK_MONOTONIC. CLOCK_REALTIME is read once per wake-up,
 * together with CLOCK_MONOTONIC, and everything measured during that wake-up
 * uses those two readings. If the real-time clock moved by more than
 * SCHED_STEP_THRESHOLD against the monotonic clock between two wake-ups, the
 * local clock was stepped: the step handler is told by how much.
 *
 * One iteration, in this order:
 *   1. poll() until the earliest timer is due or a descriptor is ready;
 *   2. read both clocks, detect a step of the real-time clock;
 *   3. run the handlers of ready descriptors, in registration order;
 *   4. run every timer that is due, earliest first.
 */
#ifndef VT_SCHED_H
#define VT_SCHED_H

#include <stdint.h>
#include <time.h>

#define SCHED_STEP_THRESHOLD 0.1 /* seconds */

typedef void (*sched_fd_handler)(int fd, short revents, void *arg);
typedef void (*sched_timer_handler)(void *arg);
typedef void (*sched_step_handler)(double step_seconds, void *arg);
typedef uint64_t sched_timer_id; /* 0 is never a valid id */

int sched_init(void);
void sched_fini(void);

/* Watches fd for `events` (POLLIN, POLLOUT). One handler per fd. Returns
 * 0, or -1 (logged) when fd is already watched or 1024 are: the caller
 * checks, or the descriptor would never be read. */
int sched_add_fd(int fd, short events, sched_fd_handler handler, void *arg);
void sched_set_fd_events(int fd, short events);
void sched_remove_fd(int fd);

/* Calls handler once, `delay` seconds (>= 0) from the current wake-up.
 * Returns 0 when the timer heap cannot grow (out of memory): the caller
 * checks. A handler that adds one timer (re-arms itself) cannot fail: its
 * own timer left the heap before it ran, and the heap never shrinks. */
sched_timer_id sched_add_timer(double delay, sched_timer_handler handler, void *arg);
/* Cancelling an id that already ran or was cancelled is harmless. */
void sched_cancel_timer(sched_timer_id id);

void sched_set_step_handler(sched_step_handler handler, void *arg);

/* The readings of the current wake-up. */
double sched_mono_now(void);
struct timespec sched_real_now(void);

/* Runs until sched_quit() (which then ends only this run: a later
 * sched_run() runs again). Returns 0, or -1 if poll() failed for good. */
int sched_run(void);
void sched_quit(void);

#endif
