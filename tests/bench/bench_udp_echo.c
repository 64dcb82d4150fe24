/* The ceiling of the NTP serving benchmark (issue 10, tests/bench/
 * bench_serve.sh): a bare UDP echo, one thread, one socket, that receives a
 * batch of up to 64 datagrams with recvmmsg and sends each back unchanged,
 * to its sender, with one sendmmsg. No clock read, no parsing: what an NTP
 * server on this machine cannot beat, since it does this and more. A 48-byte
 * NTP request comes back as a 48-byte "reply" whose fields are the request's
 * (mode 3, origin zero, the transmit timestamp in place), so the load
 * generator counts it by that transmit timestamp (bench_ntp_load -e).
 *
 *   bench_udp_echo ADDRESS PORT [SECONDS]
 *
 * Runs until SIGTERM or SIGINT, or for SECONDS (default 600) so a forgotten
 * echo does not outlive its benchmark; then prints on stderr how many
 * datagrams it echoed and how many sends failed. Exit 0, or 1 if the socket
 * cannot be bound. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define MAX_LEN 1024 /* an NTP request with extension fields fits */

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* SIGTERM, SIGINT and SIGALRM end the run; without SA_RESTART a blocked
 * recvmmsg returns EINTR, so the loop sees the flag. */
static void catch_signals(unsigned seconds) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);
  alarm(seconds);
}

static int open_socket(const char *address, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  /* Room for every client's in-flight requests; the default buffer holds a
   * few hundred small datagrams, enough for 64 in flight, but a burst must
   * not be what limits the ceiling. */
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* One batch: blocks for the first datagram (MSG_WAITFORONE: then takes what
 * is queued, up to BATCH) and sends them all back. Returns the number
 * echoed, or -1 when interrupted. */
static int echo_batch(int fd, uint64_t *send_errors) {
  static uint8_t buf[BATCH][MAX_LEN];
  static struct sockaddr_in from[BATCH];
  static struct iovec iov[BATCH];
  static struct mmsghdr msg[BATCH];
  static bool ready;
  for (int i = 0; !ready && i < BATCH; i++) {
    iov[i] = (struct iovec){buf[i], MAX_LEN};
    msg[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i],
                                     .msg_iov = &iov[i], .msg_iovlen = 1};
  }
  ready = true;
  int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
  if (n <= 0) return -1;
  for (int i = 0; i < n; i++) iov[i].iov_len = msg[i].msg_len; /* back as it came */
  int sent = 0;
  while (sent < n) {
    int r = sendmmsg(fd, msg + sent, (unsigned)(n - sent), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      /* The first datagram of the rest failed (e.g. ENOBUFS): drop it, go on. */
      (*send_errors)++;
      r = 1;
    }
    sent += r;
  }
  for (int i = 0; i < n; i++) { /* what recvmmsg and the echo changed */
    iov[i].iov_len = MAX_LEN;
    msg[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: bench_udp_echo ADDRESS PORT [SECONDS]\n");
    return 64;
  }
  int fd = open_socket(argv[1], atoi(argv[2]));
  if (fd < 0) {
    fprintf(stderr, "bench_udp_echo: cannot bind %s port %s: %s\n", argv[1], argv[2],
            strerror(errno));
    return 1;
  }
  catch_signals(argc == 4 ? (unsigned)atoi(argv[3]) : 600);
  uint64_t echoed = 0, send_errors = 0;
  while (!stop) {
    int n = echo_batch(fd, &send_errors);
    if (n > 0) echoed += (uint64_t)n;
  }
  fprintf(stderr, "bench_udp_echo: %llu echoed, %llu send errors\n",
          (unsigned long long)echoed, (unsigned long long)send_errors);
  return 0;
}
