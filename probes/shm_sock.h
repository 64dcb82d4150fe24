/* The two refclock hand-over formats that GNSS daemons (gpsd, and others)
 * write for NTP daemons, and their pure decoders (no I/O, no clock reads):
 *
 *  - NTP shared memory: `struct shmTime`, the segment with SysV IPC key
 *    0x4e545030 + unit ("NTP0"), as defined by ntpd's refclock_shm.c and
 *    written by gpsd (include/ntpshm.h) and read by chrony (refclock_shm.c).
 *  - chrony SOCK: `struct sock_sample`, one datagram per sample on a Unix
 *    datagram socket, as defined by chrony's refclock_sock.c and written by
 *    gpsd (gpsd/ntpshm.c).
 *
 * The drivers are shm_driver.c (shm_ops) and sock_driver.c (sock_ops). */
#ifndef VT_SHM_SOCK_H
#define VT_SHM_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#define SHM_KEY_BASE 0x4e545030 /* "NTP0": unit N is key SHM_KEY_BASE + N */
#define SOCK_MAGIC 0x534f434b   /* "SOCK" */

/* The shared segment, field for field (ntpd's names in comments). Its
 * layout is the ABI: native int and time_t sizes, as every reader and
 * writer on the host is compiled. */
struct shm_time {
  int mode;                    /* mode: 0 plain, 1 count protocol */
  volatile int count;          /* count: bumped by the writer around a write */
  time_t clock_sec;            /* clockTimeStampSec: the reference's time */
  int clock_usec;              /* clockTimeStampUSec */
  time_t receive_sec;          /* receiveTimeStampSec: local time then */
  int receive_usec;            /* receiveTimeStampUSec */
  int leap;                    /* leap: 0 none, 1 insert, 2 delete, 3 unsync */
  int precision;               /* precision: log2 s */
  int nsamples;                /* nsamples: unused */
  volatile int valid;          /* valid: set by the writer, cleared by the reader */
  unsigned clock_nsec;         /* clockTimeStampNSec (newer writers) */
  unsigned receive_nsec;       /* receiveTimeStampNSec */
  int dummy[8];
};

/* One SOCK datagram (chrony refclock_sock.c). */
struct sock_sample {
  struct timeval tv;           /* local (system) time of the measurement */
  double offset;               /* reference time - system time, s */
  int pulse;                   /* non-zero: a PPS edge, the second unknown */
  int leap;                    /* 0 none, 1 insert, 2 delete (3: unsync) */
  int _pad;
  int magic;                   /* SOCK_MAGIC */
};

enum refclock_check {
  RC_OK = 0,
  RC_NOT_VALID,      /* SHM: no new sample (valid is 0) */
  RC_TORN,           /* SHM mode 1: the writer was writing while we read */
  RC_BAD_MODE,       /* SHM: mode neither 0 nor 1 */
  RC_BAD_TIME,       /* zero or out-of-range timestamps */
  RC_BAD_PRECISION,  /* SHM: precision outside -30 .. 0 */
  RC_BAD_LENGTH,     /* SOCK: not sizeof(struct sock_sample) bytes */
  RC_BAD_MAGIC,      /* SOCK: wrong magic */
  RC_BAD_OFFSET,     /* SOCK: NaN, infinite or absurd offset */
  RC_BAD_LEAP,       /* leap outside 0..3 */
  RC_UNSYNC,         /* leap 3: the writer says it is not synchronised */
  RC_PULSE,          /* SOCK: a pulse-only sample (needs another source
                        for the second; not used on its own) */
  RC_CHECK_COUNT
};
const char *refclock_check_name(enum refclock_check c);

/* A decoded sample: at local time `local` the reference was `offset` s
 * ahead of the local clock (reference - local, the NTP sign). */
struct refclock_sample {
  struct timespec local;
  double offset;
  double precision;  /* s: 2^precision for SHM, 0 for SOCK (not sent) */
  int leap;          /* 0..2 */
};

/* Checks a copy of the segment. count_after is `count` read again after
 * the copy (the mode-1 protocol: equal to snap->count when no write came
 * in between). Nanosecond fields are used when they agree with the
 * microsecond ones (as ntpd decides), else the microseconds. Pure. */
enum refclock_check shm_decode(const struct shm_time *snap, int count_after,
                               struct refclock_sample *out);

/* Checks one received datagram of len bytes. Pure. */
enum refclock_check sock_decode(const void *buf, size_t len, struct refclock_sample *out);

#endif
