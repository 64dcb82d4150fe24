/* A test writer of the two refclock hand-over formats, standing in for
 * gpsd: NTP SHM (struct shmTime in the segment 0x4e545030 + unit, written
 * with the mode-1 count protocol as ntpd's refclock_shm.c describes) and
 * chrony SOCK datagrams (struct sock_sample, chrony refclock_sock.c). Its
 * structs are written out here from the formats, not taken from vettime,
 * so that the test checks the daemon against the format.
 *
 *   refclock_writer shm UNIT OFFSET SECONDS     a sample every 0.5 s
 *   refclock_writer shm-bad UNIT                precision +5, then leap 3
 *   refclock_writer sock PATH OFFSET SECONDS    a sample every 0.5 s
 *   refclock_writer sock-bad PATH               short, long, bad magic, NaN
 *                                               offset, leap 3, pulse
 * A sample says: the reference was OFFSET s ahead of the local clock now.
 * Built by tests/system/test_shm_sock.sh with `cc`. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct shmTime {
  int mode;
  volatile int count;
  time_t clockTimeStampSec;
  int clockTimeStampUSec;
  time_t receiveTimeStampSec;
  int receiveTimeStampUSec;
  int leap;
  int precision;
  int nsamples;
  volatile int valid;
  unsigned clockTimeStampNSec;
  unsigned receiveTimeStampNSec;
  int dummy[8];
};

struct sock_sample {
  struct timeval tv;
  double offset;
  int pulse;
  int leap;
  int _pad;
  int magic;
};

#define SOCK_MAGIC 0x534f434b

static void die(const char *what) {
  perror(what);
  exit(1);
}

static struct shmTime *attach(int unit) {
  int id = shmget((key_t)(0x4e545030 + unit), sizeof(struct shmTime), IPC_CREAT | 0600);
  if (id < 0) die("shmget");
  void *p = shmat(id, NULL, 0);
  if (p == (void *)-1) die("shmat");
  return p;
}

/* One sample with the count protocol: count odd while writing. */
static void shm_put(struct shmTime *s, double offset, int precision, int leap) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double ref = (double)now.tv_sec + now.tv_nsec * 1e-9 + offset;
  time_t ref_sec = (time_t)floor(ref);
  long ref_nsec = lround((ref - (double)ref_sec) * 1e9);
  if (ref_nsec >= 1000000000L) ref_sec++, ref_nsec -= 1000000000L;
  s->mode = 1;
  s->count++;
  __sync_synchronize();
  s->clockTimeStampSec = ref_sec;
  s->clockTimeStampUSec = (int)(ref_nsec / 1000);
  s->clockTimeStampNSec = (unsigned)ref_nsec;
  s->receiveTimeStampSec = now.tv_sec;
  s->receiveTimeStampUSec = (int)(now.tv_nsec / 1000);
  s->receiveTimeStampNSec = (unsigned)now.tv_nsec;
  s->leap = leap;
  s->precision = precision;
  s->nsamples = 3;
  __sync_synchronize();
  s->valid = 1;
  s->count++;
}

static int sock_open(const char *path, struct sockaddr_un *a) {
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
  return fd;
}

static void sock_send(int fd, const struct sockaddr_un *a, const void *buf, size_t len) {
  for (int tries = 0; tries < 50; tries++) {
    if (sendto(fd, buf, len, 0, (const struct sockaddr *)a, sizeof *a) == (ssize_t)len) return;
    if (errno != ENOENT && errno != ECONNREFUSED) die("sendto");
    usleep(100000); /* the daemon is not bound yet */
  }
  die("sendto (nobody listening)");
}

static struct sock_sample sock_now(double offset) {
  struct sock_sample s = {.offset = offset, .magic = SOCK_MAGIC};
  gettimeofday(&s.tv, NULL);
  return s;
}

static void run_sock_bad(const char *path) {
  struct sockaddr_un a;
  int fd = sock_open(path, &a);
  struct sock_sample s = sock_now(0.25);
  char big[sizeof s + 16] = {0};
  memcpy(big, &s, sizeof s);
  sock_send(fd, &a, &s, sizeof s - 4);      /* too short */
  sock_send(fd, &a, big, sizeof big);       /* too long */
  s.magic = 0x12345678;
  sock_send(fd, &a, &s, sizeof s);          /* wrong magic */
  s = sock_now(NAN);
  sock_send(fd, &a, &s, sizeof s);          /* NaN offset */
  s = sock_now(0.25);
  s.leap = 3;
  sock_send(fd, &a, &s, sizeof s);          /* not synchronised */
  s = sock_now(0.25);
  s.pulse = 1;
  sock_send(fd, &a, &s, sizeof s);          /* pulse only */
  close(fd);
}

static void run_sock(const char *path, double offset, double seconds) {
  struct sockaddr_un a;
  int fd = sock_open(path, &a);
  for (double t = 0; t < seconds; t += 0.5) {
    struct sock_sample s = sock_now(offset);
    sock_send(fd, &a, &s, sizeof s);
    usleep(500000);
  }
  close(fd);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "shm") == 0) {
    struct shmTime *s = attach(atoi(argv[2]));
    for (double t = 0; t < atof(argv[4]); t += 0.5) {
      shm_put(s, atof(argv[3]), -20, 0);
      usleep(500000);
    }
  } else if (argc == 3 && strcmp(argv[1], "shm-bad") == 0) {
    struct shmTime *s = attach(atoi(argv[2]));
    shm_put(s, 0.25, 5, 0);
    usleep(1600000);
    shm_put(s, 0.25, -20, 3);
    usleep(1600000);
  } else if (argc == 5 && strcmp(argv[1], "sock") == 0) {
    run_sock(argv[2], atof(argv[3]), atof(argv[4]));
  } else if (argc == 3 && strcmp(argv[1], "sock-bad") == 0) {
    run_sock_bad(argv[2]);
  } else {
    fprintf(stderr, "usage: refclock_writer shm UNIT OFFSET SECONDS | shm-bad UNIT |"
                    " sock PATH OFFSET SECONDS | sock-bad PATH\n");
    return 64;
  }
  return 0;
}
