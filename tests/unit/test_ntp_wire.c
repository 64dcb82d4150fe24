/* Unit tests for probes/ntp_wire.c: header round trips, timestamp and era
 * arithmetic, the on-wire calculations, and every bad response in
 * ../shared/REFERENCE.md's "NTP client" list, each with the exact enum ntp_check.
 * Responses are built by hand with ntp_header_encode. */
#include "probes/ntp_wire.h"
#include "tests/unit/unit.h"

#define NONCE UINT64_C(0x0123456789abcdef)
#define PKT_MAX 256

static struct timespec ts(time_t sec, long nsec) {
  struct timespec t = {sec, nsec};
  return t;
}

static struct ntp_key make_key(uint32_t id, enum mac_alg alg, const char *k) {
  struct ntp_key key = {.id = id, .alg = alg};
  key.len = strlen(k);
  memcpy(key.key, k, key.len);
  return key;
}

/* One exchange and the header of a good answer to it: sent at t1 =
 * 1700000000.000, server 0.25 s ahead, 10 ms each way, 1 ms in the server. */
/* The decoder's key lookup over one key (ctx), as a key file of one line. */
static const struct ntp_key *one_key(const void *ctx, uint32_t keyid) {
  const struct ntp_key *k = ctx;
  return k->id == keyid ? k : NULL;
}

struct fixture {
  struct ntp_exchange x;
  struct ntp_header h;
  struct timespec t4;
};

static void make_ok(struct fixture *f) {
  memset(f, 0, sizeof *f);
  f->x.nonce = NONCE;
  f->x.t1 = ts(1700000000, 0);
  f->x.maxdistance = 1.5;
  f->x.local_precision = 1e-6;
  f->h.version = 4;
  f->h.mode = 4;
  f->h.stratum = 1;
  f->h.poll = 6;
  f->h.precision = -20;
  f->h.root_delay = 0;
  f->h.root_dispersion = 32 / 65536.0;
  f->h.refid = 0x47505300; /* "GPS" */
  f->h.reference = ntp_ts_from_timespec(ts(1699999990, 0));
  f->h.origin = NONCE;
  f->h.receive = ntp_ts_from_timespec(ts(1700000000, 260000000));
  f->h.transmit = ntp_ts_from_timespec(ts(1700000000, 261000000));
  f->t4 = ts(1700000000, 21000000);
}

/* Header, then ext (extension fields, may be NULL), then a MAC under
 * mac_key over all of it when mac_key != NULL. Returns the length. */
static size_t build(const struct ntp_header *h, uint8_t *buf, const uint8_t *ext,
                    size_t extlen, const struct ntp_key *mac_key) {
  ntp_header_encode(h, buf);
  if (extlen) memcpy(buf + 48, ext, extlen);
  size_t len = 48 + extlen;
  if (!mac_key) return len;
  uint8_t digest[NTP_MAX_DIGEST_LEN];
  int n = ntp_mac_compute(mac_key, buf, len, digest);
  buf[len] = (uint8_t)(mac_key->id >> 24);
  buf[len + 1] = (uint8_t)(mac_key->id >> 16);
  buf[len + 2] = (uint8_t)(mac_key->id >> 8);
  buf[len + 3] = (uint8_t)mac_key->id;
  memcpy(buf + len + 4, digest, (size_t)n);
  return len + 4 + (size_t)n;
}

/* Builds f's response (no trailer) and checks it. */
static enum ntp_check run(struct fixture *f, struct ntp_result *r) {
  uint8_t buf[PKT_MAX];
  size_t len = build(&f->h, buf, NULL, 0, NULL);
  return ntp_check_response(&f->x, buf, len, f->t4, r);
}

/* ---- Encoding ---------------------------------------------------------- */

static void test_header_roundtrip(void) {
  uint8_t in[48], out[48];
  struct ntp_header h;
  for (int round = 0; round < 1000; round++) { /* any 48 bytes survive */
    for (int i = 0; i < 48; i++) in[i] = (uint8_t)random();
    ntp_header_decode(in, &h);
    ntp_header_encode(&h, out);
    CHECK(memcmp(in, out, 48) == 0);
  }
  struct ntp_header a = {.leap = 2, .version = 4, .mode = 4, .stratum = 2,
                         .poll = -3, .precision = -24, .root_delay = 1.5,
                         .root_dispersion = 0.25 + 1 / 65536.0,
                         .refid = 0xc0a80001, .reference = 1, .origin = NONCE,
                         .receive = UINT64_MAX, .transmit = 1ull << 63};
  ntp_header_encode(&a, out);
  CHECK_INT(out[0], 0x80 | 4 << 3 | 4);
  CHECK_INT(out[2], 0xfd);
  CHECK_INT(out[4] << 24 | out[5] << 16 | out[6] << 8 | out[7], 0x00018000);
  ntp_header_decode(out, &h);
  CHECK(h.leap == a.leap && h.version == a.version && h.mode == a.mode);
  CHECK(h.stratum == a.stratum && h.poll == a.poll && h.precision == a.precision);
  CHECK(h.root_delay == a.root_delay && h.root_dispersion == a.root_dispersion);
  CHECK(h.refid == a.refid && h.reference == a.reference);
  CHECK(h.origin == a.origin && h.receive == a.receive && h.transmit == a.transmit);
}

static void test_header_rounding(void) {
  struct ntp_header a = {.root_delay = 1e-9, .root_dispersion = 1e9}, b;
  uint8_t out[48];
  ntp_header_encode(&a, out);
  ntp_header_decode(out, &b);
  CHECK_NEAR(b.root_delay, 1 / 65536.0, 1e-12); /* rounded up, not to 0 */
  CHECK_NEAR(b.root_dispersion, 65535.9999847, 1e-6); /* clamped */
  a.root_delay = -1;
  a.root_dispersion = NAN;
  ntp_header_encode(&a, out);
  ntp_header_decode(out, &b);
  CHECK_INT(b.root_delay, 0);
  CHECK(b.root_dispersion > 65535);
}

static void test_timestamps(void) {
  CHECK(ntp_ts_from_timespec(ts(0, 0)) == (uint64_t)2208988800u << 32);
  CHECK(ntp_ts_from_timespec(ts(0, 500000000)) ==
        ((uint64_t)2208988800u << 32 | 0x80000000u));
  /* 999999999 ns = 2^32 - 4.29 units, rounded to nearest */
  CHECK(ntp_ts_from_timespec(ts(0, 999999999)) ==
        ((uint64_t)2208988800u << 32 | 0xfffffffcu));
  CHECK(ntp_ts_from_timespec(ts(1, -1)) == ntp_ts_from_timespec(ts(0, 999999999)));
  /* 2036-02-07 06:28:16 UTC starts era 1: seconds fold back to 0. */
  CHECK(ntp_ts_from_timespec(ts(2085978496, 0)) == 0);
  CHECK(ntp_ts_from_timespec(ts(2085978495, 0)) == (uint64_t)UINT32_MAX << 32);
  ntp_ts a = ntp_ts_from_timespec(ts(2085978496, 250000000));
  ntp_ts b = ntp_ts_from_timespec(ts(2085978495, 750000000));
  CHECK_NEAR(ntp_ts_diff(a, b), 0.5, 1e-9);
  CHECK_NEAR(ntp_ts_diff(b, a), -0.5, 1e-9);
  CHECK_NEAR(ntp_ts_diff(ntp_ts_from_timespec(ts(1700000000 + 157680000, 0)),
                         ntp_ts_from_timespec(ts(1700000000, 0))),
             157680000.0, 1e-9);
}

static void test_ts_to_timespec(void) {
  struct timespec pivot = ts(2085978490, 0), r;
  r = ntp_ts_to_timespec(ntp_ts_from_timespec(ts(2085978500, 123456789)), pivot);
  CHECK_INT(r.tv_sec, 2085978500); /* era 1, though the wire seconds are 4 */
  CHECK_NEAR(r.tv_nsec, 123456789, 1);
  r = ntp_ts_to_timespec(ntp_ts_from_timespec(ts(1700000000, 999999999)),
                         ts(1700000100, 0));
  CHECK_INT(r.tv_sec, 1700000000);
  CHECK_NEAR(r.tv_nsec, 999999999, 1);
  r = ntp_ts_to_timespec(ntp_ts_from_timespec(ts(1000, 0)), ts(1000, 999999999));
  CHECK_INT(r.tv_sec, 1000);
  CHECK_INT(r.tv_nsec, 0);
}

static void test_build_request(void) {
  uint8_t buf[PKT_MAX];
  struct ntp_header h;
  CHECK_INT(ntp_build_request(buf, sizeof buf, NONCE, 6, NULL), 48);
  ntp_header_decode(buf, &h);
  CHECK_INT(buf[0], 0x23); /* LI 0, VN 4, mode 3 */
  CHECK_INT(h.poll, 6);
  CHECK(h.transmit == NONCE && h.origin == 0 && h.receive == 0);
  for (int i = 3; i < 40; i++) CHECK_INT(buf[i], 0);
  CHECK_INT(ntp_build_request(buf, 47, NONCE, 6, NULL), 0);
  struct ntp_key md5 = make_key(42, MAC_MD5, "secret");
  struct ntp_key sha1 = make_key(43, MAC_SHA1, "secret");
  struct ntp_key cmac = make_key(44, MAC_AES128_CMAC, "0123456789abcdef");
  CHECK_INT(ntp_build_request(buf, sizeof buf, NONCE, 6, &md5), 68);
  CHECK(buf[48] == 0 && buf[49] == 0 && buf[50] == 0 && buf[51] == 42);
  CHECK(ntp_mac_verify(&md5, buf, 48, buf + 52, 16));
  CHECK_INT(ntp_build_request(buf, sizeof buf, NONCE, 6, &sha1), 72);
  CHECK(ntp_mac_verify(&sha1, buf, 48, buf + 52, 20));
  CHECK_INT(ntp_build_request(buf, 72, NONCE, 6, &cmac), 68);
  CHECK(ntp_mac_verify(&cmac, buf, 48, buf + 52, 16));
  CHECK_INT(ntp_build_request(buf, 71, NONCE, 6, &sha1), 0);
  cmac.len = 12; /* unusable key: no request rather than a bad MAC */
  CHECK_INT(ntp_build_request(buf, sizeof buf, NONCE, 6, &cmac), 0);
}

static void test_check_names(void) {
  CHECK_STR(ntp_check_name(NTP_OK), "ok");
  CHECK_STR(ntp_check_name(NTP_BOGUS), "bogus");
  CHECK_STR(ntp_check_name(NTP_CRYPTO_NAK), "crypto-nak");
  CHECK_STR(ntp_check_name(NTP_BAD_DELAY), "bad-delay");
  CHECK_STR(ntp_check_name(NTP_CHECK_COUNT), "?");
  for (int c = 0; c < NTP_CHECK_COUNT; c++)
    CHECK(strcmp(ntp_check_name((enum ntp_check)c), "?") != 0);
}

/* ---- Good responses ---------------------------------------------------- */

static void test_valid_response(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  CHECK_INT(run(&f, &r), NTP_OK);
  CHECK(f.x.answered);
  CHECK_NEAR(r.offset, 0.25, 1e-9);
  CHECK_NEAR(r.delay, 0.020, 1e-9);
  double eps = ldexp(1, -20) + 1e-6 + 15e-6 * 0.021;
  CHECK_NEAR(r.dispersion, eps, 1e-12);
  CHECK_NEAR(r.root_distance, 0.020 / 2 + eps + 32 / 65536.0, 1e-9);
  CHECK_INT(r.h.stratum, 1);
  CHECK_INT(r.h.refid, 0x47505300);
  CHECK_STR(r.kiss, "");
  CHECK(!r.authenticated);
  make_ok(&f); /* NTPv3 servers are still answered */
  f.h.version = 3;
  CHECK_INT(run(&f, &r), NTP_OK);
  make_ok(&f); /* no max distance configured: only 16 s applies */
  f.x.maxdistance = 0;
  f.h.root_dispersion = 10;
  CHECK_INT(run(&f, &r), NTP_OK);
}

/* A server 5 years ahead (157680000 s): T1 must be the send time, and the
 * differences must not lose the seconds. */
static void test_five_years_ahead(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.h.receive = ntp_ts_from_timespec(ts(1700000000 + 157680000, 10000000));
  f.h.transmit = ntp_ts_from_timespec(ts(1700000000 + 157680000, 11000000));
  CHECK_INT(run(&f, &r), NTP_OK);
  CHECK_NEAR(r.offset, 157680000.0, 1e-6);
  CHECK_NEAR(r.delay, 0.020, 1e-6);
  make_ok(&f); /* and 5 years behind */
  f.h.receive = ntp_ts_from_timespec(ts(1700000000 - 157680000, 10000000));
  f.h.transmit = ntp_ts_from_timespec(ts(1700000000 - 157680000, 11000000));
  CHECK_INT(run(&f, &r), NTP_OK);
  CHECK_NEAR(r.offset, -157680000.0, 1e-6);
}

/* T1 just before 2036-02-07 06:28:16 UTC, T2/T3 just after: the wire
 * seconds wrap from 2^32-1 to 0 and nothing may notice. */
static void test_era_boundary(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.x.t1 = ts(2085978495, 900000000);
  f.h.reference = ntp_ts_from_timespec(ts(2085978480, 0));
  f.h.receive = ntp_ts_from_timespec(ts(2085978496, 410000000));
  f.h.transmit = ntp_ts_from_timespec(ts(2085978496, 411000000));
  f.t4 = ts(2085978495, 921000000);
  CHECK(f.h.receive >> 32 == 0 && f.h.receive != 0);
  CHECK_INT(run(&f, &r), NTP_OK);
  CHECK_NEAR(r.offset, 0.5, 1e-9);
  CHECK_NEAR(r.delay, 0.020, 1e-9);
  make_ok(&f); /* local clock past the boundary, server still before it */
  f.x.t1 = ts(2085978496, 100000000);
  f.h.receive = ntp_ts_from_timespec(ts(2085978495, 610000000));
  f.h.transmit = ntp_ts_from_timespec(ts(2085978495, 611000000));
  f.t4 = ts(2085978496, 121000000);
  CHECK_INT(run(&f, &r), NTP_OK);
  CHECK_NEAR(r.offset, -0.5, 1e-9);
  CHECK_NEAR(r.delay, 0.020, 1e-9);
  CHECK(r.root_distance < 0.1);
}

/* ---- Who sent it ------------------------------------------------------- */

static void test_bogus_origin(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.h.origin = NONCE ^ 1;
  CHECK_INT(run(&f, &r), NTP_BOGUS);
  CHECK(!f.x.answered);
  f.h.origin = 0;
  CHECK_INT(run(&f, &r), NTP_BOGUS);
  make_ok(&f); /* unsolicited: the exchange outstanding has another nonce */
  f.x.nonce = UINT64_C(0xfeedfacecafebeef);
  CHECK_INT(run(&f, &r), NTP_BOGUS);
  make_ok(&f); /* a bogus origin is caught before any other defect */
  f.h.origin = 1;
  f.h.version = 7;
  f.h.mode = 6;
  f.h.stratum = 0;
  CHECK_INT(run(&f, &r), NTP_BOGUS);
}

/* A late answer: the previous poll's response arrives after the next
 * request went out with a fresh nonce. */
static void test_late_response(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.x.nonce = NONCE + 1;
  f.x.t1 = ts(1700000064, 0);
  CHECK_INT(run(&f, &r), NTP_BOGUS);
  CHECK(!f.x.answered);
}

static void test_duplicate(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  CHECK_INT(run(&f, &r), NTP_OK);
  CHECK_INT(run(&f, &r), NTP_DUPLICATE);
  f.h.transmit += 1000; /* a second, different, response */
  CHECK_INT(run(&f, &r), NTP_DUPLICATE);
}

static void test_zero_timestamps(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.h.receive = 0;
  CHECK_INT(run(&f, &r), NTP_ZERO_TS);
  CHECK(!f.x.answered);
  make_ok(&f);
  f.h.transmit = 0;
  CHECK_INT(run(&f, &r), NTP_ZERO_TS);
  make_ok(&f);
  f.h.origin = 0;
  CHECK_INT(run(&f, &r), NTP_BOGUS);
}

/* ---- Kiss-o'-Death ----------------------------------------------------- */

static void make_kod(struct fixture *f, const char code[4]) {
  make_ok(f);
  f->h.stratum = 0;
  f->h.leap = 3;
  f->h.refid = (uint32_t)(uint8_t)code[0] << 24 | (uint32_t)(uint8_t)code[1] << 16 |
               (uint32_t)(uint8_t)code[2] << 8 | (uint8_t)code[3];
  f->h.receive = f->h.transmit = 0; /* KoDs often carry no times */
}

static void test_kod(void) {
  static const char *const codes[] = {"RATE", "DENY", "RSTR"};
  struct fixture f;
  struct ntp_result r;
  for (int i = 0; i < 3; i++) {
    make_kod(&f, codes[i]);
    CHECK_INT(run(&f, &r), NTP_KOD);
    CHECK_STR(r.kiss, codes[i]);
    CHECK(!r.authenticated);
    CHECK(f.x.answered);
    CHECK_INT(run(&f, &r), NTP_DUPLICATE);
  }
  make_kod(&f, "RATE"); /* spoofed: wrong origin, never believed */
  f.h.origin = NONCE ^ 0x100;
  CHECK_INT(run(&f, &r), NTP_BOGUS);
  CHECK(!f.x.answered);
  CHECK_STR(r.kiss, "");
  make_kod(&f, "DENY");
  f.h.origin = 0;
  CHECK_INT(run(&f, &r), NTP_BOGUS);
  make_kod(&f, "AB\0\0"); /* short codes are NUL-padded */
  CHECK_INT(run(&f, &r), NTP_KOD);
  CHECK_STR(r.kiss, "AB");
}

static void test_kod_authenticated(void) {
  struct ntp_key key = make_key(9, MAC_AES128_CMAC, "0123456789abcdef");
  struct fixture f;
  struct ntp_result r;
  uint8_t buf[PKT_MAX];
  make_kod(&f, "DENY");
  f.x.key = &key;
  size_t len = build(&f.h, buf, NULL, 0, &key);
  CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_KOD);
  CHECK(r.authenticated);
  make_kod(&f, "DENY"); /* we required a key: an unsigned KoD is refused */
  f.x.key = &key;
  len = build(&f.h, buf, NULL, 0, NULL);
  CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_AUTH_FAIL);
  CHECK(!f.x.answered);
  make_kod(&f, "RSTR"); /* no key required, but one we know signed it */
  f.x.key_lookup = one_key;
  f.x.key_ctx = &key;
  len = build(&f.h, buf, NULL, 0, &key);
  CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_KOD);
  CHECK(r.authenticated);
  make_kod(&f, "RSTR"); /* ... and a forged signature is merely unsigned */
  f.x.key_lookup = one_key;
  f.x.key_ctx = &key;
  len = build(&f.h, buf, NULL, 0, &key);
  buf[len - 1] ^= 1;
  CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_KOD);
  CHECK(!r.authenticated);
}

/* ---- Header sanity ----------------------------------------------------- */

static void test_unsync(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.h.leap = 3;
  CHECK_INT(run(&f, &r), NTP_UNSYNC);
  CHECK(!f.x.answered);
  make_ok(&f); /* chrony unsynchronised: LI 3, stratum 0, refid 0 */
  f.h.leap = 3;
  f.h.stratum = 0;
  f.h.refid = 0;
  CHECK_INT(run(&f, &r), NTP_UNSYNC);
  make_ok(&f); /* leap second warnings are fine */
  f.h.leap = 1;
  CHECK_INT(run(&f, &r), NTP_OK);
}

static void test_bad_stratum(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.h.stratum = 0;
  f.h.refid = 0xc0a80001; /* 192.168.0.1: not ASCII, so not a kiss */
  CHECK_INT(run(&f, &r), NTP_BAD_STRATUM);
  f.h.refid = 0;
  CHECK_INT(run(&f, &r), NTP_BAD_STRATUM);
  f.h.refid = 0x41004200; /* "A\0B\0": embedded NUL */
  CHECK_INT(run(&f, &r), NTP_BAD_STRATUM);
  f.h.refid = 0x52415445;
  f.h.stratum = 16;
  CHECK_INT(run(&f, &r), NTP_BAD_STRATUM);
  f.h.stratum = 255;
  CHECK_INT(run(&f, &r), NTP_BAD_STRATUM);
  f.h.stratum = 15;
  CHECK_INT(run(&f, &r), NTP_OK);
}

static void test_bad_version(void) {
  static const int bad[] = {0, 5, 6, 7};
  struct fixture f;
  struct ntp_result r;
  for (int i = 0; i < 4; i++) {
    make_ok(&f);
    f.h.version = bad[i];
    CHECK_INT(run(&f, &r), NTP_BAD_VERSION);
    CHECK(!f.x.answered);
  }
  for (int v = 1; v <= 4; v++) {
    make_ok(&f);
    f.h.version = v;
    CHECK_INT(run(&f, &r), NTP_OK);
  }
}

static void test_bad_mode(void) {
  static const int bad[] = {0, 1, 2, 3, 5, 6, 7};
  struct fixture f;
  struct ntp_result r;
  for (int i = 0; i < 7; i++) {
    make_ok(&f);
    f.h.mode = bad[i];
    CHECK_INT(run(&f, &r), NTP_BAD_MODE);
    CHECK(!f.x.answered);
  }
}

static void test_bad_distance(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f);
  f.x.maxdistance = 100;
  f.h.root_delay = 32; /* 32/2 = 16 s */
  CHECK_INT(run(&f, &r), NTP_BAD_DISTANCE);
  make_ok(&f);
  f.x.maxdistance = 100;
  f.h.root_dispersion = 16;
  CHECK_INT(run(&f, &r), NTP_BAD_DISTANCE);
  make_ok(&f);
  f.x.maxdistance = 0;
  f.h.root_delay = 20;
  f.h.root_dispersion = 6;
  CHECK_INT(run(&f, &r), NTP_BAD_DISTANCE);
  make_ok(&f); /* under 16 s, but over our limit of 1.5 s */
  f.h.root_dispersion = 1.5;
  CHECK_INT(run(&f, &r), NTP_BAD_DISTANCE);
  CHECK(r.root_distance >= 1.5);
  CHECK(!f.x.answered);
  make_ok(&f);
  f.h.root_delay = 3.0;
  CHECK_INT(run(&f, &r), NTP_BAD_DISTANCE);
  make_ok(&f);
  f.h.root_delay = 2.0;
  f.h.root_dispersion = 0.4;
  CHECK_INT(run(&f, &r), NTP_OK);
}

static void test_bad_delay(void) {
  struct fixture f;
  struct ntp_result r;
  make_ok(&f); /* server "held" the request 0.5 s of our 21 ms round trip */
  f.h.transmit = ntp_ts_from_timespec(ts(1700000000, 760000000));
  CHECK_INT(run(&f, &r), NTP_BAD_DELAY);
  CHECK(r.delay < 0);
  make_ok(&f); /* huge: 20 s round trip */
  f.t4 = ts(1700000020, 0);
  f.x.maxdistance = 0;
  CHECK_INT(run(&f, &r), NTP_BAD_DELAY);
  CHECK_NEAR(r.delay, 19.999, 1e-6);
  make_ok(&f); /* with a max distance it is still reported as a delay */
  f.t4 = ts(1700000017, 0);
  CHECK_INT(run(&f, &r), NTP_BAD_DELAY);
  make_ok(&f); /* T3 < T2 */
  f.h.transmit = ntp_ts_from_timespec(ts(1700000000, 259000000));
  CHECK_INT(run(&f, &r), NTP_BAD_DELAY);
  make_ok(&f); /* local clock stepped back between send and receive */
  f.t4 = ts(1699999999, 0);
  CHECK_INT(run(&f, &r), NTP_BAD_DELAY);
  make_ok(&f); /* loopback: 1 us "negative" delay is clock granularity */
  f.t4 = ts(1700000000, 20000); /* T4-T1 = 20 us */
  f.h.receive = ntp_ts_from_timespec(ts(1700000000, 250000000));
  f.h.transmit = ntp_ts_from_timespec(ts(1700000000, 250021000));
  CHECK_INT(run(&f, &r), NTP_OK);
  CHECK_NEAR(r.delay, 0, 1e-12);
}

/* ---- Lengths, trailers and MACs ---------------------------------------- */

static enum ntp_check run_raw(struct fixture *f, const uint8_t *buf, size_t len) {
  struct ntp_result r;
  return ntp_check_response(&f->x, buf, len, f->t4, &r);
}

static void test_lengths(void) {
  struct fixture f;
  uint8_t buf[PKT_MAX] = {0};
  make_ok(&f);
  build(&f.h, buf, NULL, 0, NULL);
  CHECK_INT(run_raw(&f, buf, 47), NTP_SHORT);
  CHECK_INT(run_raw(&f, buf, 0), NTP_SHORT);
  CHECK_INT(run_raw(&f, buf, 50), NTP_BAD_LENGTH);
  CHECK_INT(run_raw(&f, buf, 49), NTP_BAD_LENGTH);
  CHECK_INT(run_raw(&f, buf, 52), NTP_CRYPTO_NAK);
  CHECK_INT(run_raw(&f, buf, 56), NTP_BAD_LENGTH); /* 8: no field fits */
  CHECK(!f.x.answered);
  struct ntp_key key = make_key(5, MAC_MD5, "k");
  f.x.key = &key; /* a crypto-NAK is a NAK whether or not we signed */
  CHECK_INT(run_raw(&f, buf, 52), NTP_CRYPTO_NAK);
  CHECK_INT(run_raw(&f, buf, 48), NTP_AUTH_FAIL);
}

static void test_mac_valid(void) {
  static const enum mac_alg algs[] = {MAC_MD5, MAC_SHA1, MAC_AES128_CMAC};
  for (int i = 0; i < 3; i++) {
    struct ntp_key key = make_key(1000 + (uint32_t)i, algs[i], "0123456789abcdef");
    struct fixture f;
    struct ntp_result r;
    uint8_t buf[PKT_MAX];
    make_ok(&f);
    f.x.key = &key;
    size_t len = build(&f.h, buf, NULL, 0, &key);
    CHECK_INT(len, algs[i] == MAC_SHA1 ? 72 : 68);
    CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_OK);
    CHECK(r.authenticated);
    CHECK_NEAR(r.offset, 0.25, 1e-9);
  }
}

/* Every wrong MAC shape, under a required MD5 and SHA1 key. */
static void test_mac_wrong(void) {
  struct ntp_key md5 = make_key(7, MAC_MD5, "secret"), other = md5;
  struct ntp_key sha1 = make_key(8, MAC_SHA1, "secret");
  struct fixture f;
  uint8_t buf[PKT_MAX];
  other.id = 77;
  make_ok(&f);
  f.x.key = &md5;
  size_t len = build(&f.h, buf, NULL, 0, &other); /* wrong key id */
  CHECK_INT(run_raw(&f, buf, len), NTP_AUTH_FAIL);
  len = build(&f.h, buf, NULL, 0, &md5);
  buf[len - 3] ^= 0x04; /* one bit of the digest */
  CHECK_INT(run_raw(&f, buf, len), NTP_AUTH_FAIL);
  len = build(&f.h, buf, NULL, 0, &md5);
  buf[10] ^= 0x01; /* one bit of the packet (root dispersion) */
  CHECK_INT(run_raw(&f, buf, len), NTP_AUTH_FAIL);
  len = build(&f.h, buf, NULL, 0, &md5);
  CHECK_INT(run_raw(&f, buf, len - 4), NTP_BAD_LENGTH); /* digest cut to 12 */
  CHECK_INT(run_raw(&f, buf, 48), NTP_AUTH_FAIL);        /* MAC missing */
  CHECK(!f.x.answered);
  f.x.key = &sha1;
  len = build(&f.h, buf, NULL, 0, &sha1);
  CHECK_INT(run_raw(&f, buf, len - 4), NTP_AUTH_FAIL); /* SHA1 cut to 16 */
  len = build(&f.h, buf, NULL, 0, &md5); /* MD5-sized MAC under our id */
  buf[51] = 8;
  CHECK_INT(run_raw(&f, buf, len), NTP_AUTH_FAIL);
  len = build(&f.h, buf, NULL, 0, &sha1);
  CHECK_INT(run_raw(&f, buf, len), NTP_OK);
}

/* Without a required key a MAC is ignored, right or wrong. */
static void test_mac_ignored(void) {
  struct ntp_key key = make_key(7, MAC_MD5, "secret");
  struct fixture f;
  struct ntp_result r;
  uint8_t buf[PKT_MAX];
  make_ok(&f);
  size_t len = build(&f.h, buf, NULL, 0, &key);
  buf[len - 1] ^= 1;
  CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_OK);
  CHECK(!r.authenticated);
  make_ok(&f);
  f.x.key_lookup = one_key;
  f.x.key_ctx = &key;
  len = build(&f.h, buf, NULL, 0, &key);
  CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_OK);
  CHECK(r.authenticated);
}

/* An extension field: type, length, then zero value bytes. */
static void put_ext(uint8_t *p, uint16_t type, uint16_t len, size_t size) {
  memset(p, 0, size);
  p[0] = (uint8_t)(type >> 8);
  p[1] = (uint8_t)type;
  p[2] = (uint8_t)(len >> 8);
  p[3] = (uint8_t)len;
}

static void test_extension_fields(void) {
  struct ntp_key key = make_key(3, MAC_AES128_CMAC, "0123456789abcdef");
  struct fixture f;
  uint8_t buf[PKT_MAX], ext[64];
  make_ok(&f);
  put_ext(ext, 0x0104, 0, 16); /* length 0 */
  CHECK_INT(run_raw(&f, buf, build(&f.h, buf, ext, 16, NULL)), NTP_BAD_LENGTH);
  put_ext(ext, 0x0104, 12, 16); /* < 16 */
  CHECK_INT(run_raw(&f, buf, build(&f.h, buf, ext, 16, NULL)), NTP_BAD_LENGTH);
  put_ext(ext, 0x0104, 32, 16); /* past the end */
  CHECK_INT(run_raw(&f, buf, build(&f.h, buf, ext, 16, NULL)), NTP_BAD_LENGTH);
  put_ext(ext, 0x0104, 18, 28); /* not a multiple of 4 */
  CHECK_INT(run_raw(&f, buf, build(&f.h, buf, ext, 28, NULL)), NTP_BAD_LENGTH);
  put_ext(ext, 0x0104, 28, 32); /* a valid field, then a 4-byte NAK */
  CHECK_INT(run_raw(&f, buf, build(&f.h, buf, ext, 32, NULL)), NTP_CRYPTO_NAK);
  CHECK(!f.x.answered);
  put_ext(ext, 0x0104, 28, 28); /* a lone field (RFC 7822: >= 28) */
  CHECK_INT(run_raw(&f, buf, build(&f.h, buf, ext, 28, NULL)), NTP_OK);
  make_ok(&f); /* two fields, then a valid MAC over all of it */
  f.x.key = &key;
  put_ext(ext, 0x0104, 16, 16);
  put_ext(ext + 16, 0x0204, 20, 20);
  struct ntp_result r;
  size_t len = build(&f.h, buf, ext, 36, &key);
  CHECK_INT(len, 48 + 36 + 20);
  CHECK_INT(ntp_check_response(&f.x, buf, len, f.t4, &r), NTP_OK);
  CHECK(r.authenticated);
  make_ok(&f); /* the MAC covers the fields too */
  f.x.key = &key;
  len = build(&f.h, buf, ext, 36, &key);
  buf[60] ^= 1;
  CHECK_INT(run_raw(&f, buf, len), NTP_AUTH_FAIL);
}

int main(void) {
  unit_init();
  RUN(test_header_roundtrip);
  RUN(test_header_rounding);
  RUN(test_timestamps);
  RUN(test_ts_to_timespec);
  RUN(test_build_request);
  RUN(test_check_names);
  RUN(test_valid_response);
  RUN(test_five_years_ahead);
  RUN(test_era_boundary);
  RUN(test_bogus_origin);
  RUN(test_late_response);
  RUN(test_duplicate);
  RUN(test_zero_timestamps);
  RUN(test_kod);
  RUN(test_kod_authenticated);
  RUN(test_unsync);
  RUN(test_bad_stratum);
  RUN(test_bad_version);
  RUN(test_bad_mode);
  RUN(test_bad_distance);
  RUN(test_bad_delay);
  RUN(test_lengths);
  RUN(test_mac_valid);
  RUN(test_mac_wrong);
  RUN(test_mac_ignored);
  RUN(test_extension_fields);
  return unit_done();
}
