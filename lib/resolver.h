/* Host names resolved off the event loop.
 *
 * getaddrinfo() blocks for as long as the name servers take (seconds, or
 * the resolver's whole timeout when one does not answer), and the daemon
 * has one loop: a lookup there would stop every poll, every round and the
 * API. So each lookup runs getaddrinfo() in a small detached thread of its
 * own, which hands the finished query back through a pipe watched by the
 * loop (lib/sched.h); the handler then runs on the loop, like every other
 * handler. The thread touches nothing but its query; everything else stays
 * single-threaded.
 *
 * Literal addresses never need a thread: resolver_literal() parses them at
 * once (AI_NUMERICHOST), and callers use it first. */
#ifndef VT_RESOLVER_H
#define VT_RESOLVER_H

#include <stdbool.h>
#include <sys/socket.h>

struct resolver_answer {
  int error;                    /* 0, or getaddrinfo's EAI_* code */
  const char *error_text;       /* gai_strerror(error), "" when 0 */
  struct sockaddr_storage addr; /* the first address, when error is 0 */
  socklen_t addrlen;
  double seconds;               /* how long the lookup took */
};

typedef void (*resolver_handler)(const struct resolver_answer *answer, void *arg);

struct resolver_query;

/* A literal IPv4/IPv6 address with its port, for sockets of `socktype`
 * (SOCK_DGRAM, SOCK_STREAM), parsed without any lookup. Returns 0, or -1
 * when host is a name (or invalid). */
int resolver_literal(const char *host, int port, int socktype,
                     struct sockaddr_storage *addr, socklen_t *addrlen);

/* Starts looking up host:port in a thread; `handler(answer, arg)` runs on
 * the loop once it is done, exactly once unless cancelled first. Returns
 * the query, or NULL with errno set when no thread or pipe could be had
 * (the caller tries again later). */
struct resolver_query *resolver_lookup(const char *host, int port, int socktype,
                                       resolver_handler handler, void *arg);

/* Forgets a query whose handler has not run yet: the handler never runs
 * (the thread finishes on its own and the query is freed when it is back). */
void resolver_cancel(struct resolver_query *q);

/* Lookups started and not yet back (cancelled ones included). */
int resolver_in_flight(void);

#endif
