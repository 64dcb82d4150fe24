/* Host names resolved off the loop: see resolver.h.
 *
 * One detached thread per lookup. The query is shared with its thread in
 * two halves that never overlap in time: until the thread writes the
 * query's pointer into the pipe, it alone reads the name and writes the
 * answer; the loop reads the answer only after reading that pointer back.
 * The handler, its argument and the cancelled flag are the loop's alone.
 * So no lock is needed, and a cancelled query is simply dropped when it
 * comes back.
 *
 * The pipe is made once and kept for the life of the process, so that a
 * thread still in getaddrinfo() when the daemon stops its sources never
 * writes into a closed (or reused) descriptor. It is watched by the loop
 * only while lookups are in flight. */
#include "lib/resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"

struct resolver_query {
  /* Set before the thread starts; the thread's until it hands back. */
  char host[256];
  char port[8];
  int socktype;
  double started;               /* CLOCK_MONOTONIC, s */
  struct resolver_answer answer;
  /* The loop's. */
  resolver_handler handler;
  void *arg;
  bool cancelled;
  struct resolver_query *next;  /* in flight */
};

static int pipe_rd = -1, pipe_wr = -1;
static bool watching;
static struct resolver_query *in_flight;
static int n_in_flight;

static double mono_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return timespec_seconds(t);
}

int resolver_literal(const char *host, int port, int socktype,
                     struct sockaddr_storage *addr, socklen_t *addrlen) {
  struct addrinfo hints = {.ai_socktype = socktype,
                           .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *res;
  char p[8];
  snprintf(p, sizeof p, "%d", port);
  if (getaddrinfo(host, p, &hints, &res) != 0) return -1;
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  *addrlen = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

/* ---- the thread ---- */

static void *lookup_thread(void *arg) {
  struct resolver_query *q = arg;
  struct addrinfo hints = {.ai_socktype = q->socktype, .ai_flags = AI_NUMERICSERV}, *res = NULL;
  int rc = getaddrinfo(q->host, q->port, &hints, &res);
  if (rc == 0 && res) {
    memcpy(&q->answer.addr, res->ai_addr, res->ai_addrlen);
    q->answer.addrlen = res->ai_addrlen;
  } else if (rc == 0) {
    rc = EAI_NONAME;
  }
  if (res) freeaddrinfo(res);
  q->answer.error = rc;
  q->answer.seconds = mono_seconds() - q->started;
  /* Hand back: from here on the query is the loop's. A pointer is far
   * below PIPE_BUF, so the write is atomic; the write end blocks, which it
   * would only do with thousands of answers unread. */
  ssize_t n;
  do n = write(pipe_wr, &q, sizeof q);
  while (n < 0 && errno == EINTR);
  return NULL;
}

/* ---- the loop's side ---- */

static void unlink_query(struct resolver_query *q) {
  for (struct resolver_query **pp = &in_flight; *pp; pp = &(*pp)->next) {
    if (*pp == q) {
      *pp = q->next;
      n_in_flight--;
      return;
    }
  }
}

static void stop_watching_if_idle(void) {
  if (watching && !in_flight) {
    sched_remove_fd(pipe_rd);
    watching = false;
  }
}

static void on_answers(int fd, short revents, void *arg) {
  (void)revents, (void)arg;
  struct resolver_query *q;
  while (read(fd, &q, sizeof q) == (ssize_t)sizeof q) {
    unlink_query(q);
    if (!q->cancelled) {
      q->answer.error_text = q->answer.error ? gai_strerror(q->answer.error) : "";
      q->handler(&q->answer, q->arg);
    }
    free(q);
  }
  stop_watching_if_idle();
}

static int ensure_pipe(void) {
  if (pipe_rd >= 0) return 0;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC)) return -1;
  if (fcntl(fds[0], F_SETFL, O_NONBLOCK)) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  pipe_rd = fds[0];
  pipe_wr = fds[1];
  return 0;
}

/* The thread gets no signals: they are the loop's (signalfd). */
static int start_thread(struct resolver_query *q) {
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_t t;
  if ((errno = pthread_attr_init(&attr))) return -1;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&t, &attr, lookup_thread, q);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc) {
    errno = rc;
    return -1;
  }
  return 0;
}

struct resolver_query *resolver_lookup(const char *host, int port, int socktype,
                                       resolver_handler handler, void *arg) {
  if (ensure_pipe()) return NULL;
  if (!watching) {
    if (sched_add_fd(pipe_rd, POLLIN, on_answers, NULL)) {
      errno = EMFILE;
      return NULL;
    }
    watching = true;
  }
  struct resolver_query *q = calloc(1, sizeof *q);
  if (!q) {
    stop_watching_if_idle();
    return NULL;
  }
  snprintf(q->host, sizeof q->host, "%s", host);
  snprintf(q->port, sizeof q->port, "%d", port);
  q->socktype = socktype;
  q->started = mono_seconds();
  q->handler = handler;
  q->arg = arg;
  if (start_thread(q)) {
    int e = errno;
    free(q);
    stop_watching_if_idle();
    errno = e;
    return NULL;
  }
  q->next = in_flight;
  in_flight = q;
  n_in_flight++;
  return q;
}

void resolver_cancel(struct resolver_query *q) {
  if (q) q->cancelled = true;
}

int resolver_in_flight(void) { return n_in_flight; }
