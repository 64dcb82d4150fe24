/* A resolver stub for the system tests (tests/system/test_resolver.sh),
 * loaded with LD_PRELOAD into vettimed: it stands in for getaddrinfo()
 * for the names listed in the file named by $VT_SLOW_RESOLVER, one per
 * line:
 *
 *   NAME DELAY_SECONDS ADDRESS      e.g.  slow.vettime.test 8 127.0.0.1
 *
 * A lookup of NAME sleeps DELAY_SECONDS in the calling thread (as a name
 * server that takes its time would) and then answers ADDRESS, or fails
 * with EAI_AGAIN when ADDRESS is "-". The file is read again at every
 * call, so a test can move a name while the daemon runs. Every lookup of
 * a listed name is appended to $VT_SLOW_RESOLVER.log as "NAME ADDRESS
 * START END" (CLOCK_REALTIME, s), so a test can count and time them. Other
 * names, and calls with AI_NUMERICHOST (which never ask a name server),
 * go to the real getaddrinfo().
 *
 * Built by the test: cc -shared -fPIC -o slow_resolver.so slow_resolver.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

static double now_real(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Finds name in the map: 1 with delay and address filled, 0 if absent. */
static int lookup_map(const char *name, double *delay, char *addr, size_t addrlen) {
  const char *path = getenv("VT_SLOW_RESOLVER");
  if (!path || !name) return 0;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[512], n[256], a[128];
  double d;
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%255s %lf %127s", n, &d, a) == 3 && strcmp(n, name) == 0) {
      *delay = d;
      snprintf(addr, addrlen, "%s", a);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
  gai_fn real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
  double delay;
  char addr[128];
  /* AI_NUMERICHOST never asks a name server: the real one answers at once. */
  if ((hints && (hints->ai_flags & AI_NUMERICHOST)) || !lookup_map(node, &delay, addr, sizeof addr))
    return real(node, service, hints, res);
  double start = now_real();
  if (delay > 0) {
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {}
  }
  int rc;
  if (strcmp(addr, "-") == 0) {
    rc = EAI_AGAIN;
  } else {
    struct addrinfo h = hints ? *hints : (struct addrinfo){0};
    h.ai_flags |= AI_NUMERICHOST;
    rc = real(addr, service, &h, res);
  }
  char logpath[4096];
  snprintf(logpath, sizeof logpath, "%s.log", getenv("VT_SLOW_RESOLVER"));
  FILE *log = fopen(logpath, "a");
  if (log) {
    fprintf(log, "%s %s %.6f %.6f\n", node, addr, start, now_real());
    fclose(log);
  }
  return rc;
}
