/* Unit tests of the pure refclock decoders (probes/shm_sock.h): the NTP
 * SHM segment (struct shmTime, modes 0 and 1, the count protocol, the
 * nanosecond fields) and chrony's SOCK datagram (size, magic, sign of the
 * offset, leap, pulse), with hostile values. */
#include "tests/unit/unit.h"

#include <stddef.h>

#include "probes/shm_sock.h"

/* The layout every SHM reader and writer agrees on (ntpd, gpsd, chrony),
 * on an LP64 host. */
static void test_shm_layout(void) {
  if (sizeof(long) != 8) return;
  CHECK_INT(offsetof(struct shm_time, mode), 0);
  CHECK_INT(offsetof(struct shm_time, count), 4);
  CHECK_INT(offsetof(struct shm_time, clock_sec), 8);
  CHECK_INT(offsetof(struct shm_time, clock_usec), 16);
  CHECK_INT(offsetof(struct shm_time, receive_sec), 24);
  CHECK_INT(offsetof(struct shm_time, receive_usec), 32);
  CHECK_INT(offsetof(struct shm_time, leap), 36);
  CHECK_INT(offsetof(struct shm_time, precision), 40);
  CHECK_INT(offsetof(struct shm_time, nsamples), 44);
  CHECK_INT(offsetof(struct shm_time, valid), 48);
  CHECK_INT(offsetof(struct shm_time, clock_nsec), 52);
  CHECK_INT(offsetof(struct shm_time, receive_nsec), 56);
  CHECK_INT(sizeof(struct shm_time), 96);
  CHECK_INT(sizeof(struct sock_sample), 40);
  CHECK_INT(offsetof(struct sock_sample, offset), 16);
  CHECK_INT(offsetof(struct sock_sample, magic), 36);
}

static struct shm_time shm_sample(void) {
  struct shm_time s = {.mode = 1, .count = 7, .clock_sec = 1700000001, .clock_usec = 250000,
                       .receive_sec = 1700000001, .receive_usec = 0, .precision = -20,
                       .valid = 1, .clock_nsec = 250000123, .receive_nsec = 456};
  return s;
}

static void test_shm_good(void) {
  struct shm_time s = shm_sample();
  struct refclock_sample r;
  CHECK_INT(shm_decode(&s, 7, &r), RC_OK);
  CHECK_NEAR(r.offset, 0.25 + (123 - 456) * 1e-9, 1e-12); /* clock - receive, ns fields */
  CHECK_INT(r.local.tv_sec, 1700000001);
  CHECK_INT(r.local.tv_nsec, 456);
  CHECK_NEAR(r.precision, 9.5367431640625e-07, 1e-18);
  CHECK_INT(r.leap, 0);
  /* nanoseconds that disagree with the microseconds are ignored (old writers) */
  s.clock_nsec = 999;
  CHECK_INT(shm_decode(&s, 7, &r), RC_OK);
  CHECK_NEAR(r.offset, 0.25 - 456e-9, 1e-12);
  /* reference behind the local clock, across a second */
  s = shm_sample();
  s.clock_sec = 1700000000;
  s.clock_usec = 900000;
  s.clock_nsec = 900000000;
  s.receive_nsec = 0;
  CHECK_INT(shm_decode(&s, 7, &r), RC_OK);
  CHECK_NEAR(r.offset, -0.1, 1e-12);
  /* mode 0 does not use the count */
  s.mode = 0;
  CHECK_INT(shm_decode(&s, 12345, &r), RC_OK);
  s.leap = 1;
  CHECK_INT(shm_decode(&s, 0, &r), RC_OK);
  CHECK_INT(r.leap, 1);
}

static void test_shm_bad(void) {
  struct refclock_sample r;
  struct shm_time s = shm_sample();
  s.valid = 0;
  CHECK_INT(shm_decode(&s, 7, &r), RC_NOT_VALID);
  s = shm_sample();
  CHECK_INT(shm_decode(&s, 8, &r), RC_TORN);
  s.mode = 2;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_MODE);
  s.mode = -1;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_MODE);
  s = shm_sample();
  s.clock_usec = 1000000;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_TIME);
  s = shm_sample();
  s.receive_usec = -1;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_TIME);
  s = shm_sample();
  s.clock_sec = 0;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_TIME);
  s = shm_sample();
  s.receive_sec = -5;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_TIME);
  s = shm_sample();
  s.leap = 3;
  CHECK_INT(shm_decode(&s, 7, &r), RC_UNSYNC);
  s.leap = 7;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_LEAP);
  s = shm_sample();
  s.precision = 5;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_PRECISION);
  s.precision = -1000;
  CHECK_INT(shm_decode(&s, 7, &r), RC_BAD_PRECISION);
  /* huge but valid seconds: no overflow */
  s = shm_sample();
  s.clock_sec = (time_t)INT64_MAX;
  CHECK_INT(shm_decode(&s, 7, &r), RC_OK);
  CHECK(r.offset > 1e18);
}

static struct sock_sample sock_sample(void) {
  return (struct sock_sample){.tv = {1700000000, 500000}, .offset = 0.25, .magic = SOCK_MAGIC};
}

static void test_sock_good(void) {
  struct sock_sample s = sock_sample();
  struct refclock_sample r;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_OK);
  CHECK_NEAR(r.offset, 0.25, 0); /* reference - system, as chrony reads it */
  CHECK_INT(r.local.tv_sec, 1700000000);
  CHECK_INT(r.local.tv_nsec, 500000000);
  s.offset = -1.5;
  s.leap = 2;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_OK);
  CHECK_NEAR(r.offset, -1.5, 0);
  CHECK_INT(r.leap, 2);
}

static void test_sock_bad(void) {
  struct refclock_sample r;
  struct sock_sample s = sock_sample();
  unsigned char big[sizeof s + 8] = {0};
  memcpy(big, &s, sizeof s);
  CHECK_INT(sock_decode(&s, sizeof s - 1, &r), RC_BAD_LENGTH);
  CHECK_INT(sock_decode(big, sizeof big, &r), RC_BAD_LENGTH);
  CHECK_INT(sock_decode(&s, 0, &r), RC_BAD_LENGTH);
  s.magic = 0x4b434f53; /* byte-swapped */
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_BAD_MAGIC);
  s = sock_sample();
  s.offset = NAN;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_BAD_OFFSET);
  s.offset = INFINITY;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_BAD_OFFSET);
  s.offset = -1e300;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_BAD_OFFSET);
  s = sock_sample();
  s.tv.tv_usec = 1000000;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_BAD_TIME);
  s.tv.tv_usec = 0;
  s.tv.tv_sec = 0;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_BAD_TIME);
  s = sock_sample();
  s.leap = 3;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_UNSYNC);
  s.leap = -1;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_BAD_LEAP);
  s = sock_sample();
  s.pulse = 1;
  CHECK_INT(sock_decode(&s, sizeof s, &r), RC_PULSE);
  for (int c = 0; c < RC_CHECK_COUNT; c++) CHECK(strcmp(refclock_check_name(c), "?") != 0);
  CHECK_STR(refclock_check_name(RC_CHECK_COUNT), "?");
}

/* Random bytes: any verdict, never a crash, rarely OK. */
static void test_random_bytes(void) {
  int ok = 0;
  for (int i = 0; i < 100000; i++) {
    unsigned char buf[sizeof(struct shm_time)];
    for (size_t k = 0; k < sizeof buf; k++) buf[k] = (unsigned char)random();
    struct refclock_sample r;
    struct shm_time s;
    memcpy(&s, buf, sizeof s);
    CHECK(shm_decode(&s, s.count, &r) < RC_CHECK_COUNT);
    enum refclock_check c = sock_decode(buf, (size_t)(random() % 2 ? 40 : random() % 64), &r);
    CHECK(c < RC_CHECK_COUNT);
    ok += c == RC_OK;
  }
  CHECK_INT(ok, 0); /* a random 32-bit magic essentially never matches */
}

int main(void) {
  unit_init();
  RUN(test_shm_layout);
  RUN(test_shm_good);
  RUN(test_shm_bad);
  RUN(test_sock_good);
  RUN(test_sock_bad);
  RUN(test_random_bytes);
  return unit_done();
}
