/* The chrony SOCK probe (`sock PATH`): a Unix datagram socket bound at PATH
 * that receives `struct sock_sample` datagrams (chrony refclock_sock.c; gpsd
 * writes them to /run/chrony.DEVICE.sock). Also the pure decoder
 * sock_decode().
 *
 * Sign: chrony's refclock_sock.c turns a sample into the reference time
 * ref = tv + offset (UTI_AddDoubleToTimespec(&sys_ts, sample.offset,
 * &ref_ts)), so `offset` is reference - system, the sign of our samples:
 * sample offset = +offset - `offset` from the config (the writer's fixed
 * delay). Local time of the sample = tv.
 *
 * A SOCK sample states no precision: the error bound is SOCK_BOUND plus the
 * jitter of recent samples. That is right for a PPS-backed writer; a writer
 * of serial time has a systematic delay of tens to hundreds of ms that the
 * configured `offset` must remove. Pulse-only samples (pulse != 0) do not
 * name the second and are counted as untrusted; leap 3 as unsynchronised.
 *
 * A stale socket file left at PATH by an earlier run is removed at start
 * (only if it is a socket); the socket file is removed at stop. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "monitor/config.h"
#include "probes/driver_util.h"
#include "probes/probe.h"
#include "probes/shm_sock.h"

#define SOCK_BOUND 1e-3      /* s, assumed precision of a SOCK sample */
#define MAX_OFFSET 2147483648.0 /* s (2^31); beyond it an offset is absurd */
#define TICK 1.0             /* s, the reach register */

/* ---- the pure decoder ---- */

enum refclock_check sock_decode(const void *buf, size_t len, struct refclock_sample *out) {
  struct sock_sample s;
  if (len != sizeof s) return RC_BAD_LENGTH;
  memcpy(&s, buf, sizeof s);
  if (s.magic != SOCK_MAGIC) return RC_BAD_MAGIC;
  if (s.tv.tv_sec <= 0 || s.tv.tv_usec < 0 || s.tv.tv_usec >= 1000000) return RC_BAD_TIME;
  if (!isfinite(s.offset) || fabs(s.offset) >= MAX_OFFSET) return RC_BAD_OFFSET;
  if (s.leap < 0 || s.leap > 3) return RC_BAD_LEAP;
  if (s.leap == 3) return RC_UNSYNC;
  if (s.pulse) return RC_PULSE;
  out->local = (struct timespec){.tv_sec = s.tv.tv_sec, .tv_nsec = s.tv.tv_usec * 1000L};
  out->offset = s.offset;
  out->precision = 0;
  out->leap = s.leap;
  return RC_OK;
}

/* ---- the driver ---- */

struct probe {
  struct source_config cfg;
  int index;
  struct probe_host host;
  int fd;
  sched_timer_id tick;
  bool sampled;
  struct jitter_window jitter;
  struct probe_report rep;
};

static void set_state(struct probe *p, const char *state) {
  driver_set_state(&p->rep, "", p->cfg.name, state);
}

/* The configured class's name, else "SOCK", as a refid. */
static uint32_t sock_refid(const struct probe *p) {
  const char *text = p->cfg.class_set ? ref_class_name(p->cfg.ref_class) : "SOCK";
  uint32_t r = 0;
  for (int i = 0; i < 4; i++) r = r << 8 | (uint8_t)(*text ? *text++ : 0);
  return r;
}

static void accept_sample(struct probe *p, const struct refclock_sample *r) {
  double offset = r->offset - p->cfg.offset;
  double bound = SOCK_BOUND + jitter_window_add(&p->jitter, offset, &p->rep);
  struct vt_sample s = {.source = p->index, .rx_time = r->local, .offset = offset,
                        .dispersion = bound, .error_bound = bound, .stratum = 0,
                        .leap = r->leap, .refid = sock_refid(p), .poll = 0};
  driver_record_sample(&p->rep, &s);
  p->rep.filtered_offset = offset;
  p->rep.filtered_error = bound;
  p->sampled = true;
  set_state(p, "ok");
  p->host.on_sample(p->host.ctx, &s);
}

static void reject(struct probe *p, enum refclock_check c, size_t len) {
  enum probe_counter k = c == RC_UNSYNC ? PC_UNSYNC : c == RC_PULSE ? PC_UNTRUSTED : PC_BAD_INPUT;
  p->rep.counters[k]++;
  if (c == RC_UNSYNC) set_state(p, "unsync");
  LOG_RATELIMITED(LOG_LVL_INFO, "%s: dropped a %zu-byte datagram: %s", p->cfg.name, len,
                  refclock_check_name(c));
}

static void on_readable(int fd, short revents, void *arg) {
  struct probe *p = arg;
  (void)revents;
  for (;;) {
    unsigned char buf[sizeof(struct sock_sample) + 64];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_TRUNC);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e != EAGAIN && e != EWOULDBLOCK)
        LOG_RATELIMITED(LOG_LVL_WARN, "%s: receive: %s", p->cfg.name, strerror(e));
      return;
    }
    p->rep.counters[PC_RECEIVED]++;
    struct refclock_sample r;
    enum refclock_check c = sock_decode(buf, (size_t)n, &r);
    if (c == RC_OK) accept_sample(p, &r);
    else reject(p, c, (size_t)n);
  }
}

static void on_tick(void *arg) {
  struct probe *p = arg;
  driver_shift_reach(&p->rep, &p->sampled, "", p->cfg.name);
  p->tick = sched_add_timer(TICK, on_tick, p);
}

/* Removes what an earlier run left at path, if it is a socket. */
static int clear_stale(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (lstat(path, &st) < 0) return 0;
  if (!S_ISSOCK(st.st_mode)) {
    snprintf(err, errlen, "sock %s: the path exists and is not a socket", path);
    return -1;
  }
  if (unlink(path) < 0) {
    snprintf(err, errlen, "sock %s: cannot remove the stale socket: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

static int open_socket(const char *path, char *err, size_t errlen) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    snprintf(err, errlen, "sock %s: the path is longer than %zu bytes", path, sizeof a.sun_path - 1);
    return -1;
  }
  if (clear_stale(path, err, errlen)) return -1;
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    snprintf(err, errlen, "sock %s: cannot bind: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

static void sock_stop(struct probe *p);

static struct probe *sock_start(const struct source_config *cfg, int index,
                                const struct probe_host *host, char *err, size_t errlen) {
  int fd = open_socket(cfg->device, err, errlen);
  if (fd < 0) return NULL;
  struct probe *p = calloc(1, sizeof *p);
  if (!p) {
    close(fd);
    unlink(cfg->device);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->cfg = *cfg;
  p->index = index;
  p->host = *host;
  p->fd = fd;
  p->rep.stratum = -1;
  p->rep.poll = 0;
  p->rep.inferred_class = CLASS_UNKNOWN;
  snprintf(p->rep.state, sizeof p->rep.state, "init");
  snprintf(p->rep.detail, sizeof p->rep.detail, "chrony SOCK at %.180s", cfg->device);
  if (sched_add_fd(fd, POLLIN, on_readable, p)) {
    snprintf(err, errlen, "sock %s: the event loop cannot watch one more descriptor",
             cfg->device);
    close(fd);
    unlink(cfg->device);
    free(p);
    return NULL;
  }
  p->tick = sched_add_timer(TICK, on_tick, p);
  if (!p->tick) {
    snprintf(err, errlen, "sock %s: out of memory for a timer", cfg->device);
    sock_stop(p);
    return NULL;
  }
  return p;
}

static void sock_stop(struct probe *p) {
  sched_cancel_timer(p->tick);
  sched_remove_fd(p->fd);
  close(p->fd);
  unlink(p->cfg.device);
  free(p);
}

static void sock_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops sock_ops = {"sock", sock_start, sock_stop, sock_report};
