/* The event loop: see sched.h for the iteration order. Timers are kept in
 * a small binary heap ordered by due time on CLOCK_MONOTONIC; descriptors in
 * a flat array handed to poll(2) as it is. Nothing here allocates per
 * iteration. */
#include "lib/sched.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/timeutil.h"

#define MAX_FDS 1024

struct fd_entry {
  sched_fd_handler handler;
  void *arg;
};

struct timer {
  double due;
  sched_timer_id id;
  sched_timer_handler handler;
  void *arg;
};

static struct pollfd pollfds[MAX_FDS];
static struct fd_entry fd_entries[MAX_FDS];
static int n_fds;

static struct timer *heap;
static size_t heap_len, heap_cap;
static sched_timer_id next_timer_id = 1;

static sched_step_handler step_handler;
static void *step_arg;

static double mono_now;
static struct timespec real_now;
static double real_minus_mono; /* at the previous wake-up */
static bool quit_requested;

static void read_clocks(void) {
  struct timespec m;
  clock_gettime(CLOCK_MONOTONIC, &m);
  clock_gettime(CLOCK_REALTIME, &real_now);
  mono_now = timespec_seconds(m);
}

int sched_init(void) {
  n_fds = 0;
  heap_len = 0;
  quit_requested = false;
  read_clocks();
  real_minus_mono = timespec_seconds(real_now) - mono_now;
  return 0;
}

void sched_fini(void) {
  free(heap);
  heap = NULL;
  heap_len = heap_cap = 0;
  n_fds = 0;
}

double sched_mono_now(void) { return mono_now; }
struct timespec sched_real_now(void) { return real_now; }

/* ---- descriptors ---- */

static int find_fd(int fd) {
  for (int i = 0; i < n_fds; i++)
    if (pollfds[i].fd == fd) return i;
  return -1;
}

int sched_add_fd(int fd, short events, sched_fd_handler handler, void *arg) {
  if (find_fd(fd) >= 0 || n_fds == MAX_FDS) {
    LOG_ERROR("sched: cannot watch fd %d (%s)", fd,
              n_fds == MAX_FDS ? "too many descriptors" : "already watched");
    return -1;
  }
  pollfds[n_fds] = (struct pollfd){.fd = fd, .events = events};
  fd_entries[n_fds] = (struct fd_entry){handler, arg};
  n_fds++;
  return 0;
}

void sched_set_fd_events(int fd, short events) {
  int i = find_fd(fd);
  if (i >= 0) pollfds[i].events = events;
}

/* Keeps registration order, and marks the slot so that a removal during
 * dispatch does not shift entries the dispatch loop has yet to visit. */
void sched_remove_fd(int fd) {
  int i = find_fd(fd);
  if (i < 0) return;
  memmove(&pollfds[i], &pollfds[i + 1], (size_t)(n_fds - i - 1) * sizeof pollfds[0]);
  memmove(&fd_entries[i], &fd_entries[i + 1], (size_t)(n_fds - i - 1) * sizeof fd_entries[0]);
  n_fds--;
}

/* ---- timers (binary min-heap on due time, then id) ---- */

static bool timer_before(const struct timer *a, const struct timer *b) {
  return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static void heap_swap(size_t a, size_t b) {
  struct timer t = heap[a];
  heap[a] = heap[b];
  heap[b] = t;
}

static void heap_up(size_t i) {
  while (i > 0 && timer_before(&heap[i], &heap[(i - 1) / 2])) {
    heap_swap(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void heap_down(size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < heap_len && timer_before(&heap[l], &heap[m])) m = l;
    if (r < heap_len && timer_before(&heap[r], &heap[m])) m = r;
    if (m == i) return;
    heap_swap(i, m);
    i = m;
  }
}

static void heap_remove_at(size_t i) {
  heap[i] = heap[--heap_len];
  if (i < heap_len) {
    heap_up(i);
    heap_down(i);
  }
}

sched_timer_id sched_add_timer(double delay, sched_timer_handler handler, void *arg) {
  if (heap_len == heap_cap) {
    size_t cap = heap_cap ? heap_cap * 2 : 64;
    struct timer *h = realloc(heap, cap * sizeof *h);
    if (!h) {
      LOG_ERROR("sched: out of memory for timers");
      return 0;
    }
    heap = h;
    heap_cap = cap;
  }
  if (!(delay >= 0)) delay = 0;
  sched_timer_id id = next_timer_id++;
  heap[heap_len] = (struct timer){mono_now + delay, id, handler, arg};
  heap_up(heap_len++);
  return id;
}

void sched_cancel_timer(sched_timer_id id) {
  for (size_t i = 0; i < heap_len; i++) {
    if (heap[i].id == id) {
      heap_remove_at(i);
      return;
    }
  }
}

void sched_set_step_handler(sched_step_handler handler, void *arg) {
  step_handler = handler;
  step_arg = arg;
}

void sched_quit(void) { quit_requested = true; }

/* ---- the loop ---- */

static int poll_timeout_ms(void) {
  if (heap_len == 0) return 1000;
  double wait = heap[0].due - mono_now;
  if (wait <= 0) return 0;
  if (wait > 1.0) wait = 1.0; /* wake at least once a second: step detection */
  return (int)ceil(wait * 1000.0);
}

static void detect_step(void) {
  double diff = timespec_seconds(real_now) - mono_now;
  double step = diff - real_minus_mono;
  real_minus_mono = diff;
  if (fabs(step) > SCHED_STEP_THRESHOLD && step_handler) step_handler(step, step_arg);
}

static void dispatch_fds(void) {
  for (int i = 0; i < n_fds; i++) {
    short rev = pollfds[i].revents;
    if (!rev) continue;
    pollfds[i].revents = 0;
    int fd = pollfds[i].fd;
    fd_entries[i].handler(fd, rev, fd_entries[i].arg);
    /* The handler may have removed descriptors: find our place again. */
    int j = find_fd(fd);
    if (j >= 0) i = j;
    else i--;
  }
}

static void run_due_timers(void) {
  while (heap_len > 0 && heap[0].due <= mono_now && !quit_requested) {
    struct timer t = heap[0];
    heap_remove_at(0);
    t.handler(t.arg);
  }
}

int sched_run(void) {
  while (!quit_requested) {
    int n = poll(pollfds, (nfds_t)n_fds, poll_timeout_ms());
    if (n < 0 && errno != EINTR) {
      LOG_ERROR("sched: poll failed: %s", strerror(errno));
      return -1;
    }
    read_clocks();
    detect_step();
    if (n > 0) dispatch_fds();
    run_due_timers();
  }
  quit_requested = false; /* a quit ends one run: a later sched_run() runs */
  return 0;
}
