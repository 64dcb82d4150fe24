/* The serial-device life cycle of the receiver drivers (see serial.h):
 * open and set up the line, the read loop that times each read, the loss
 * of the device and its reopening. */
#include "probes/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "probes/driver_util.h"

/* Raw, with the driver's parameters; a device that is not a terminal is
 * left as it is. */
static void set_line(const struct serial_line *s, int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return;
  cfmakeraw(&t);
  t.c_cflag &= ~s->params.cflag_clear;
  t.c_cflag |= CLOCAL | CREAD | s->params.cflag_set;
  t.c_iflag &= ~s->params.iflag_clear;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  cfsetispeed(&t, s->params.speed);
  cfsetospeed(&t, s->params.speed);
  if (tcsetattr(fd, TCSANOW, &t) < 0)
    LOG_WARN("%s %s: cannot set the line: %s", s->kind, s->name, strerror(errno));
  tcflush(fd, TCIFLUSH);
}

static void device_lost(struct serial_line *s, const char *why) {
  LOG_WARN("%s %s: device lost (%s); reopening every %.0f s", s->kind, s->name, why,
           SERIAL_REOPEN_INTERVAL);
  serial_close(s);
  s->lost_since = sched_mono_now();
  s->on_lost(s->ctx, why);
}

static void on_readable(int fd, short revents, void *arg) {
  struct serial_line *s = arg;
  (void)revents;
  for (;;) {
    uint8_t buf[SERIAL_READ_MAX];
    ssize_t n = read(fd, buf, s->read_size);
    struct timespec now, osc;
    clock_gettime(CLOCK_REALTIME, &now);
    clock_gettime(CLOCK_MONOTONIC_RAW, &osc);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      device_lost(s, n == 0 ? "end of file" : strerror(errno));
      return;
    }
    if (n < 0) return;
    s->on_bytes(s->ctx, buf, (size_t)n, now, timespec_seconds(osc));
  }
}

int serial_open(struct serial_line *s) {
  int fd = open(s->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  set_line(s, fd);
  if (sched_add_fd(fd, POLLIN, on_readable, s)) {
    close(fd);
    errno = EMFILE;
    return -1;
  }
  s->fd = fd;
  return 0;
}

void serial_close(struct serial_line *s) {
  if (s->fd < 0) return;
  sched_remove_fd(s->fd);
  close(s->fd);
  s->fd = -1;
}

bool serial_try_reopen(struct serial_line *s) {
  if (sched_mono_now() - s->lost_since < SERIAL_REOPEN_INTERVAL) return false;
  s->lost_since = sched_mono_now();
  if (serial_open(s) < 0) return false;
  LOG_INFO("%s %s: device reopened", s->kind, s->name);
  return true;
}

void serial_tick(struct serial_line *s, struct probe_report *rep, double last_data, double no_data_after) {
  if (s->fd < 0) {
    if (!serial_try_reopen(s)) return;
    rep->counters[PC_RECONNECT]++;
    driver_set_state(rep, s->kind, s->name, "init");
  } else if (sched_mono_now() - last_data > no_data_after) {
    driver_set_state(rep, s->kind, s->name, "no-data");
  }
}
