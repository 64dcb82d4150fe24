/* The NTP shared-memory probe (`shm UNIT`): reads `struct shmTime` (ntpd
 * refclock_shm.c, the layout gpsd's include/ntpshm.h writes and chrony's
 * refclock_shm.c reads) from the SysV segment with key 0x4e545030 + UNIT,
 * once a second on a loop timer, with the mode-1 count protocol. Also the
 * pure decoder shm_decode() and the check names shared with sock_driver.c.
 *
 * The segment is created when it does not exist yet (mode 0600, as ntpd
 * does for units 0 and 1 and chrony by default), so the writer may start
 * before or after vettimed. A new sample is taken when `valid` is set;
 * `valid` is then cleared, as every SHM reader does.
 *
 * Sample: offset = clock - receive - `offset` from the config (the fixed
 * delay of the receiver), error bound = 2^precision as the writer states
 * it (at least 1 ns), local time = the receive timestamp. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "monitor/config.h"
#include "probes/driver_util.h"
#include "probes/probe.h"
#include "probes/shm_sock.h"

#define SHM_POLL 1.0         /* s between reads */
#define SHM_PERM 0600
#define READ_ATTEMPTS 3      /* tries when the writer races the reader */
#define MAX_AGE 10.0         /* s: an older (or future) receive time is stale */
#define MIN_BOUND 1e-9       /* s */

static const char *const check_names[RC_CHECK_COUNT] = {
    [RC_OK] = "ok",                   [RC_NOT_VALID] = "no new sample",
    [RC_TORN] = "torn read",          [RC_BAD_MODE] = "bad mode",
    [RC_BAD_TIME] = "bad timestamp",  [RC_BAD_PRECISION] = "bad precision",
    [RC_BAD_LENGTH] = "bad length",   [RC_BAD_MAGIC] = "bad magic",
    [RC_BAD_OFFSET] = "bad offset",   [RC_BAD_LEAP] = "bad leap",
    [RC_UNSYNC] = "unsynchronised",   [RC_PULSE] = "pulse without a second",
};

const char *refclock_check_name(enum refclock_check c) {
  return (unsigned)c < RC_CHECK_COUNT ? check_names[c] : "?";
}

/* ---- the pure decoder ---- */

/* Nanoseconds of a timestamp: nsec when it agrees with usec, else usec. */
static int ts_nsec(int usec, unsigned nsec, long *out) {
  if (usec < 0 || usec >= 1000000) return -1;
  *out = nsec < 1000000000u && nsec / 1000 == (unsigned)usec ? (long)nsec : (long)usec * 1000;
  return 0;
}

enum refclock_check shm_decode(const struct shm_time *s, int count_after,
                               struct refclock_sample *out) {
  long cns, rns;
  if (s->mode != 0 && s->mode != 1) return RC_BAD_MODE;
  if (!s->valid) return RC_NOT_VALID;
  if (s->mode == 1 && s->count != count_after) return RC_TORN;
  if (s->clock_sec <= 0 || s->receive_sec <= 0 || ts_nsec(s->clock_usec, s->clock_nsec, &cns) ||
      ts_nsec(s->receive_usec, s->receive_nsec, &rns))
    return RC_BAD_TIME;
  if (s->leap < 0 || s->leap > 3) return RC_BAD_LEAP;
  if (s->leap == 3) return RC_UNSYNC;
  if (s->precision < -30 || s->precision > 0) return RC_BAD_PRECISION;
  int64_t dsec = (int64_t)s->clock_sec - (int64_t)s->receive_sec;
  out->offset = (double)dsec + (double)(cns - rns) * 1e-9;
  out->local = (struct timespec){.tv_sec = s->receive_sec, .tv_nsec = rns};
  out->precision = ldexp(1.0, s->precision);
  out->leap = s->leap;
  return RC_OK;
}

/* ---- the driver ---- */

struct probe {
  struct source_config cfg;
  int index;
  struct probe_host host;
  struct shm_time *shm;
  sched_timer_id timer;
  bool sampled;                 /* since the last reach shift */
  struct probe_report rep;
};

static void set_state(struct probe *p, const char *state) {
  driver_set_state(&p->rep, "", p->cfg.name, state);
}

/* The configured class's name, else "SHM<unit>", as a refid. */
static uint32_t shm_refid(const struct probe *p) {
  char text[8];
  if (p->cfg.class_set) snprintf(text, sizeof text, "%s", ref_class_name(p->cfg.ref_class));
  else snprintf(text, sizeof text, "SHM%d", p->cfg.unit % 10);
  uint32_t r = 0;
  for (int i = 0; i < 4; i++) r = r << 8 | (uint8_t)(i < (int)strlen(text) ? text[i] : 0);
  return r;
}

/* A consistent copy: under mode 1, retried while the writer is busy. */
static enum refclock_check read_segment(struct probe *p, struct refclock_sample *out) {
  enum refclock_check c = RC_TORN;
  for (int i = 0; i < READ_ATTEMPTS && c == RC_TORN; i++) {
    struct shm_time snap;
    atomic_thread_fence(memory_order_acquire);
    memcpy(&snap, (const void *)p->shm, sizeof snap);
    atomic_thread_fence(memory_order_acquire);
    c = shm_decode(&snap, p->shm->count, out);
  }
  if (c != RC_NOT_VALID) p->shm->valid = 0;
  return c;
}

/* A torn read is the writer's timing, not bad input: logged, not counted. */
static void reject(struct probe *p, enum refclock_check c) {
  if (c != RC_TORN) {
    p->rep.counters[PC_RECEIVED]++;
    p->rep.counters[c == RC_UNSYNC ? PC_UNSYNC : PC_BAD_INPUT]++;
  }
  if (c == RC_UNSYNC) set_state(p, "unsync");
  LOG_RATELIMITED(LOG_LVL_INFO, "%s: dropped a sample: %s", p->cfg.name, refclock_check_name(c));
}

static bool is_stale(const struct refclock_sample *s) {
  struct timespec now = sched_real_now();
  double age = timespec_diff_seconds(now, s->local);
  return fabs(age) > MAX_AGE;
}

static void accept_sample(struct probe *p, const struct refclock_sample *r) {
  double bound = r->precision > MIN_BOUND ? r->precision : MIN_BOUND;
  struct vt_sample s = {.source = p->index, .rx_time = r->local,
                        .offset = r->offset - p->cfg.offset, .dispersion = bound,
                        .error_bound = bound, .stratum = 0, .leap = r->leap,
                        .refid = shm_refid(p), .poll = 0};
  p->rep.counters[PC_RECEIVED]++;
  driver_record_sample(&p->rep, &s);
  p->rep.filtered_offset = s.offset;
  p->rep.filtered_error = bound;
  p->sampled = true;
  set_state(p, "ok");
  p->host.on_sample(p->host.ctx, &s);
}

static void on_poll(void *arg) {
  struct probe *p = arg;
  struct refclock_sample r;
  enum refclock_check c = read_segment(p, &r);
  if (c == RC_OK && is_stale(&r)) {
    p->rep.counters[PC_RECEIVED]++;
    p->rep.counters[PC_UNTRUSTED]++;
    LOG_RATELIMITED(LOG_LVL_INFO, "%s: dropped a stale sample", p->cfg.name);
  } else if (c == RC_OK) {
    accept_sample(p, &r);
  } else if (c != RC_NOT_VALID) {
    reject(p, c);
  }
  driver_shift_reach(&p->rep, &p->sampled, "", p->cfg.name);
  p->timer = sched_add_timer(SHM_POLL, on_poll, p);
}

static struct shm_time *attach(key_t key, char *err, size_t errlen) {
  int id = shmget(key, sizeof(struct shm_time), IPC_CREAT | SHM_PERM);
  if (id < 0) {
    snprintf(err, errlen, "cannot get the NTP shared memory segment 0x%08x: %s", (unsigned)key,
             strerror(errno));
    return NULL;
  }
  void *addr = shmat(id, NULL, 0);
  if (addr == (void *)-1) {
    snprintf(err, errlen, "cannot attach the NTP shared memory segment 0x%08x: %s",
             (unsigned)key, strerror(errno));
    return NULL;
  }
  return addr;
}

static void shm_stop(struct probe *p);

static struct probe *shm_start(const struct source_config *cfg, int index,
                               const struct probe_host *host, char *err, size_t errlen) {
  struct shm_time *shm = attach((key_t)(SHM_KEY_BASE + cfg->unit), err, errlen);
  if (!shm) return NULL;
  struct probe *p = calloc(1, sizeof *p);
  if (!p) {
    shmdt(shm);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->cfg = *cfg;
  p->index = index;
  p->host = *host;
  p->shm = shm;
  p->rep.stratum = -1;
  p->rep.poll = 0;
  p->rep.inferred_class = CLASS_UNKNOWN;
  snprintf(p->rep.state, sizeof p->rep.state, "init");
  snprintf(p->rep.detail, sizeof p->rep.detail, "NTP SHM unit %d (key 0x%08x)", cfg->unit,
           (unsigned)(SHM_KEY_BASE + cfg->unit));
  p->timer = sched_add_timer(SHM_POLL, on_poll, p);
  if (!p->timer) {
    snprintf(err, errlen, "shm %d: out of memory for a timer", cfg->unit);
    shm_stop(p);
    return NULL;
  }
  return p;
}

/* The segment stays: the writer may still use it, as with ntpd/chrony. */
static void shm_stop(struct probe *p) {
  sched_cancel_timer(p->timer);
  shmdt(p->shm);
  free(p);
}

static void shm_report(const struct probe *p, struct probe_report *out) { *out = p->rep; }

const struct probe_ops shm_ops = {"shm", shm_start, shm_stop, shm_report};
