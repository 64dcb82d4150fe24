/* Unit tests of lib/bindcheck.c on loopback: a free port binds, a port
 * this process holds does not, and its holder is found through /proc as
 * this very process. */
#include "lib/bindcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

/* A socket of type bound to 127.0.0.1 on a port the kernel picks (and
 * listening, for TCP); its port in *port. */
static int hold(int type, int *port) {
  int fd = socket(AF_INET, type, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  CHECK(fd >= 0);
  CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  if (type == SOCK_STREAM) CHECK_INT(listen(fd, 1), 0);
  CHECK_INT(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

static void test_tcp(void) {
  int port, fd = hold(SOCK_STREAM, &port);
  CHECK_INT(bindcheck_try("127.0.0.1", port, SOCK_STREAM, false), EADDRINUSE);
  char name[64] = "";
  CHECK_INT(bindcheck_owner(port, SOCK_STREAM, name, sizeof name), getpid());
  CHECK_STR(name, "test_bindcheck");
  close(fd);
  CHECK_INT(bindcheck_try("127.0.0.1", port, SOCK_STREAM, false), 0); /* free again */
  CHECK_INT(bindcheck_owner(port, SOCK_STREAM, name, sizeof name), 0);
}

static void test_udp(void) {
  int port, fd = hold(SOCK_DGRAM, &port); /* without SO_REUSEADDR */
  CHECK_INT(bindcheck_try("127.0.0.1", port, SOCK_DGRAM, false), EADDRINUSE);
  char name[64] = "";
  CHECK_INT(bindcheck_owner(port, SOCK_DGRAM, name, sizeof name), getpid());
  close(fd);
  CHECK_INT(bindcheck_try("127.0.0.1", port, SOCK_DGRAM, true), 0);
}

static void test_addresses(void) {
  CHECK_INT(bindcheck_try("localhost", 1234, SOCK_STREAM, false), EINVAL); /* not a literal */
  CHECK_INT(bindcheck_try("192.0.2.1", 0, SOCK_DGRAM, false), EADDRNOTAVAIL); /* not ours */
  int v6 = bindcheck_try("::1", 0, SOCK_STREAM, false);
  if (v6 == EADDRNOTAVAIL || v6 == EAFNOSUPPORT) fprintf(stderr, "no IPv6 loopback: ::1 skipped\n");
  else CHECK_INT(v6, 0);
}

int main(void) {
  unit_init();
  RUN(test_tcp);
  RUN(test_udp);
  RUN(test_addresses);
  return unit_done();
}
