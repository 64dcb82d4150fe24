/* Unit tests for server/ntp_respond.c: every rule of the responder and
 * every server-side bad input of ../shared/REFERENCE.md (modes 6/7 and
 * 1/2/4/5, versions 0 and 5-7, NTPv1-v3 requests, short and malformed
 * packets, unknown key ids and bad MACs, zero and huge transmit timestamps
 * echoed, a rate-limited client), with MACs of every kind (MD5, SHA1,
 * AES-128-CMAC) checked by probes/ntp_auth. */
#include "server/ntp_respond.h"
#include "tests/unit/unit.h"

#define NONCE UINT64_C(0x0123456789abcdef)
#define T2 UINT64_C(0xeb00000010000000)
#define T3 UINT64_C(0xeb00000010100000)
#define REF UINT64_C(0xeaffffff00000000)
#define GPS UINT32_C(0x47505300)

static struct ntp_key keys[3];

static const struct ntp_key *lookup(const void *ctx, uint32_t id) {
  (void)ctx;
  for (int i = 0; i < 3; i++)
    if (keys[i].id == id) return &keys[i];
  return NULL;
}

static void make_keys(void) {
  const char *k16 = "0123456789abcdef";
  keys[0] = (struct ntp_key){.id = 1, .alg = MAC_MD5, .len = 16};
  keys[1] = (struct ntp_key){.id = 2, .alg = MAC_SHA1, .len = 16};
  keys[2] = (struct ntp_key){.id = 3, .alg = MAC_AES128_CMAC, .len = 16};
  for (int i = 0; i < 3; i++) memcpy(keys[i].key, k16, 16);
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A request: version, mode, transmit, then ext (may be NULL), then a MAC
 * under key (NULL: none). Returns the length. */
static size_t request(uint8_t *buf, int version, int mode, ntp_ts xmt, const uint8_t *ext,
                      size_t extlen, const struct ntp_key *key) {
  struct ntp_header h = {.version = version, .mode = mode, .poll = 6, .transmit = xmt};
  ntp_header_encode(&h, buf);
  if (extlen) memcpy(buf + 48, ext, extlen);
  size_t len = 48 + extlen;
  if (!key) return len;
  uint8_t d[NTP_MAX_DIGEST_LEN];
  int n = ntp_mac_compute(key, buf, len, d);
  buf[len] = (uint8_t)(key->id >> 24);
  buf[len + 1] = (uint8_t)(key->id >> 16);
  buf[len + 2] = (uint8_t)(key->id >> 8);
  buf[len + 3] = (uint8_t)key->id;
  memcpy(buf + len + 4, d, (size_t)n);
  return len + 4 + (size_t)n;
}

static struct served_time served;
static struct respond_params params;

static void fixture(void) {
  make_keys();
  served = (struct served_time){.refusing = false, .unix_ns = 0, .error = 123e-6,
                                .stratum = 2, .leap = 0, .refid = GPS};
  params = (struct respond_params){.served = &served, .receive = T2, .transmit = T3,
                                   .reference = REF, .precision = -24,
                                   .key_lookup = lookup, .key_ctx = NULL};
}

static enum respond_result answer(const uint8_t *req, size_t len, uint8_t *out,
                                  struct respond_info *info) {
  memset(out, 0xee, NTP_RESPONSE_MAX);
  enum respond_result r = ntp_respond(req, len, &params, out, NTP_RESPONSE_MAX, info);
  CHECK(info->len <= len); /* never an amplifier */
  CHECK((info->len > 0) == respond_sends(r));
  return r;
}

static void test_answer(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  size_t len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  CHECK_INT(info.len, 48);
  struct ntp_header h;
  ntp_header_decode(out, &h);
  CHECK_INT(h.leap, 0);
  CHECK_INT(h.version, 4);
  CHECK_INT(h.mode, 4);
  CHECK_INT(h.stratum, 2);
  CHECK_INT(h.poll, 6);
  CHECK_INT(h.precision, -24);
  CHECK_INT(get32(out + 4), 0);                             /* root delay 0 */
  CHECK_INT(get32(out + 8), 9);                             /* 123 us rounded up: 8.06 -> 9 */
  CHECK(h.refid == GPS);
  CHECK(h.reference == REF);
  CHECK(h.origin == NONCE);
  CHECK(h.receive == T2);
  CHECK(h.transmit == T3);
  CHECK(info.stamped && !info.key && !info.authenticated);
  CHECK_STR(respond_result_name(RESP_ANSWER), "answer");
  CHECK_STR(respond_result_name(RESP_RESULT_COUNT), "?");
}

static void test_leap_passed_on(void) {
  fixture();
  served.leap = 1;
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  size_t len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  CHECK_INT(out[0] >> 6, 1);
}

/* Versions 1-4 are answered with their own version; 0 and 5-7 dropped. */
static void test_versions(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  for (int v = 0; v < 8; v++) {
    size_t len = request(req, v, 3, NONCE, NULL, 0, NULL);
    enum respond_result r = answer(req, len, out, &info);
    if (v >= 1 && v <= 4) {
      CHECK_INT(r, RESP_ANSWER);
      CHECK_INT((out[0] >> 3) & 7, v);
      CHECK_INT(out[0] & 7, 4);
    } else {
      CHECK_INT(r, RESP_DROP_VERSION);
    }
  }
  /* NTPv1 had no mode: its mode-0 request is a client's. */
  size_t len = request(req, 1, 0, NONCE, NULL, 0, NULL);
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  CHECK_INT(out[0] & 7, 4);
  CHECK_INT((out[0] >> 3) & 7, 1);
}

/* Only mode 3: 6 and 7 (ntpq/ntpdc, monlist) are control, the rest mode. */
static void test_modes(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  for (int m = 0; m < 8; m++) {
    size_t len = request(req, 4, m, NONCE, NULL, 0, NULL);
    enum respond_result r = answer(req, len, out, &info);
    if (m == 3) CHECK_INT(r, RESP_ANSWER);
    else if (m == 6 || m == 7) CHECK_INT(r, RESP_DROP_CONTROL);
    else CHECK_INT(r, RESP_DROP_MODE);
    CHECK(m == 3 || info.len == 0);
  }
  /* a mode 7 request as long as ntpdc's monlist (192 bytes) */
  memset(req, 0, sizeof req);
  req[0] = 2 << 3 | 7;
  CHECK_INT(answer(req, 128, out, &info), RESP_DROP_CONTROL);
}

static void test_short_and_malformed(void) {
  fixture();
  uint8_t req[256], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  request(req, 4, 3, NONCE, NULL, 0, NULL);
  CHECK_INT(answer(req, 0, out, &info), RESP_DROP_SHORT);
  CHECK_INT(answer(req, 1, out, &info), RESP_DROP_SHORT);
  CHECK_INT(answer(req, 47, out, &info), RESP_DROP_SHORT);
  memset(req + 48, 0, 64);
  for (size_t len = 49; len < 52; len++) CHECK_INT(answer(req, len, out, &info), RESP_DROP_MALFORMED);
  /* 48 + 4: a request carrying a crypto-NAK is answered nothing */
  CHECK_INT(answer(req, 52, out, &info), RESP_DROP_AUTH);
  CHECK_INT(answer(req, 56, out, &info), RESP_DROP_MALFORMED); /* 8 left: no field, no MAC */
  /* extension fields: length 0, under 16, not a multiple of 4, past the end */
  uint16_t bad[] = {0, 12, 18, 64};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t ext[32] = {0x01, 0x02, (uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
    size_t len = request(req, 4, 3, NONCE, ext, 32, NULL);
    CHECK_INT(answer(req, len, out, &info), RESP_DROP_MALFORMED);
  }
  /* a good extension field is skipped, never echoed */
  uint8_t ext[16] = {0x01, 0x02, 0x00, 0x10};
  size_t len = request(req, 4, 3, NONCE, ext, 16, NULL);
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  CHECK_INT(info.len, 48);
  /* too small an output buffer */
  len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  CHECK_INT(ntp_respond(req, len, &params, out, 47, &info), RESP_DROP_MALFORMED);
  CHECK_STR(respond_result_name(RESP_DROP_MALFORMED), "malformed");
}

/* Whatever the client put in its transmit timestamp comes back verbatim. */
static void test_origin_echoed(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  ntp_ts odd[] = {0, UINT64_MAX, UINT64_C(0x8000000000000000), 1};
  for (size_t i = 0; i < 4; i++) {
    size_t len = request(req, 4, 3, odd[i], NULL, 0, NULL);
    CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
    struct ntp_header h;
    ntp_header_decode(out, &h);
    CHECK(h.origin == odd[i]);
    CHECK(h.transmit == T3 && h.receive == T2);
  }
}

static void test_refusing(void) {
  fixture();
  served.refusing = true;
  served.error = INFINITY;
  served.stratum = 16;
  served.leap = 3;
  served.refid = 0;
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  size_t len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  CHECK_INT(out[0] >> 6, 3);             /* LI alarm */
  CHECK_INT(out[1], 0);                  /* stratum 16 is 0 on the wire */
  CHECK_INT(get32(out + 8), 0xffffffffu); /* no bound */
  CHECK_INT(get32(out + 12), 0);
  CHECK_INT(get32(out + 16), 0);         /* no reference time */
  /* a stratum 16 that is not "refusing" is not served as a stratum either */
  fixture();
  served.stratum = 16;
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  CHECK_INT(out[0] >> 6, 3);
  CHECK_INT(out[1], 0);
}

/* The bound in NTP short format saturates at its maximum. */
static void test_bound_saturates(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  size_t len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  double big[] = {65536.0, 1e12, NAN, INFINITY};
  for (size_t i = 0; i < 4; i++) {
    served.error = big[i];
    CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
    CHECK_INT(get32(out + 8), 0xffffffffu);
  }
  served.error = 1.5;
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  CHECK_INT(get32(out + 8), 0x00018000u);
}

/* A good MAC of each kind: answered, signed with the same key id. */
static void test_auth_each_key(void) {
  fixture();
  for (int k = 0; k < 3; k++) {
    uint8_t req[128], out[NTP_RESPONSE_MAX];
    struct respond_info info;
    size_t len = request(req, 4, 3, NONCE, NULL, 0, &keys[k]);
    CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
    CHECK_INT(info.len, len);
    CHECK(info.authenticated && info.key == &keys[k]);
    CHECK_INT(get32(out + 48), keys[k].id);
    CHECK(ntp_mac_verify(&keys[k], out, 48, out + 52, info.len - 52));
    /* the same with a v3 request */
    len = request(req, 3, 3, NONCE, NULL, 0, &keys[k]);
    CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
    CHECK(ntp_mac_verify(&keys[k], out, 48, out + 52, info.len - 52));
  }
}

/* The same through one thread's reusable MAC contexts, the key kinds
 * interleaved (a context re-initialised from MD5 to CMAC to SHA1 ...), a
 * bad MAC among them, and restamped answers still verifying. */
static void test_auth_reused_contexts(void) {
  fixture();
  struct ntp_mac_ctx *mac = ntp_mac_ctx_new();
  CHECK(mac != NULL);
  params.mac = mac;
  for (int round = 0; round < 30; round++) {
    int k = round % 3;
    uint8_t req[128], out[NTP_RESPONSE_MAX];
    struct respond_info info;
    size_t len = request(req, 4, 3, NONCE + (ntp_ts)round, NULL, 0, &keys[k]);
    if (round % 7 == 6) {
      req[len - 2] ^= 0x80;
      CHECK_INT(answer(req, len, out, &info), RESP_CRYPTO_NAK);
      continue;
    }
    CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
    CHECK(info.mac == mac);
    ntp_respond_restamp(out, &info, T3 + (ntp_ts)round);
    CHECK(ntp_mac_verify(&keys[k], out, 48, out + 52, info.len - 52));
  }
  ntp_mac_ctx_free(mac);
}

/* An unknown key id, a flipped bit, a digest of the wrong kind, and no key
 * file at all: a crypto-NAK (the header, then key id 0 alone). */
static void test_crypto_nak(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  struct ntp_key unknown = keys[0];
  unknown.id = 99;
  size_t len = request(req, 4, 3, NONCE, NULL, 0, &unknown);
  CHECK_INT(answer(req, len, out, &info), RESP_CRYPTO_NAK);
  CHECK_INT(info.len, 52);
  CHECK_INT(get32(out + 48), 0);
  CHECK(!info.authenticated && !info.key && info.keyid == 99);
  struct ntp_header h;
  ntp_header_decode(out, &h);
  CHECK(h.origin == NONCE && h.mode == 4);
  for (int k = 0; k < 3; k++) {
    len = request(req, 4, 3, NONCE, NULL, 0, &keys[k]);
    req[len - 1] ^= 1;
    CHECK_INT(answer(req, len, out, &info), RESP_CRYPTO_NAK);
    CHECK_INT(info.len, 52);
    req[len - 1] ^= 1;
    req[10] ^= 0x40; /* the header itself altered */
    CHECK_INT(answer(req, len, out, &info), RESP_CRYPTO_NAK);
  }
  /* key 2 is SHA1 (20 bytes): an MD5-sized digest under its id */
  struct ntp_key wrong = keys[0];
  wrong.id = 2;
  len = request(req, 4, 3, NONCE, NULL, 0, &wrong);
  CHECK_INT(answer(req, len, out, &info), RESP_CRYPTO_NAK);
  /* no key file */
  params.key_lookup = NULL;
  len = request(req, 4, 3, NONCE, NULL, 0, &keys[0]);
  CHECK_INT(answer(req, len, out, &info), RESP_CRYPTO_NAK);
  /* a truncated MAC is no MAC: malformed */
  fixture();
  len = request(req, 4, 3, NONCE, NULL, 0, &keys[0]);
  CHECK_INT(answer(req, len - 4, out, &info), RESP_DROP_MALFORMED);
  CHECK_STR(respond_result_name(RESP_CRYPTO_NAK), "crypto-nak");
}

static void test_rate_limited(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  size_t len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  params.limit = RESPOND_LIMIT_DROP;
  CHECK_INT(answer(req, len, out, &info), RESP_DROP_RATE);
  /* bad input keeps its own reason even from a limited client */
  req[0] = 4 << 3 | 7;
  CHECK_INT(answer(req, len, out, &info), RESP_DROP_CONTROL);
  params.limit = RESPOND_LIMIT_KOD;
  len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  CHECK_INT(answer(req, len, out, &info), RESP_KOD);
  CHECK_INT(info.len, 48);
  struct ntp_header h;
  ntp_header_decode(out, &h);
  CHECK_INT(h.leap, 3);
  CHECK_INT(h.stratum, 0);
  CHECK(h.refid == UINT32_C(0x52415445)); /* "RATE" */
  CHECK(h.origin == NONCE && h.receive == NONCE && h.transmit == NONCE);
  CHECK(!info.stamped);
  ntp_respond_restamp(out, &info, T3); /* a kiss carries no time */
  ntp_header_decode(out, &h);
  CHECK(h.transmit == NONCE);
  /* an authenticated client's kiss is signed */
  len = request(req, 4, 3, NONCE, NULL, 0, &keys[2]);
  CHECK_INT(answer(req, len, out, &info), RESP_KOD);
  CHECK_INT(info.len, len);
  CHECK(ntp_mac_verify(&keys[2], out, 48, out + 52, 16));
}

/* T3 set after the build, and the MAC made again over it. */
static void test_restamp(void) {
  fixture();
  uint8_t req[128], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  size_t len = request(req, 4, 3, NONCE, NULL, 0, &keys[1]);
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  ntp_ts later = T3 + 12345;
  ntp_respond_restamp(out, &info, later);
  struct ntp_header h;
  ntp_header_decode(out, &h);
  CHECK(h.transmit == later);
  CHECK(ntp_mac_verify(&keys[1], out, 48, out + 52, 20));
  len = request(req, 4, 3, NONCE, NULL, 0, NULL);
  CHECK_INT(answer(req, len, out, &info), RESP_ANSWER);
  ntp_respond_restamp(out, &info, later);
  ntp_header_decode(out, &h);
  CHECK(h.transmit == later && h.origin == NONCE);
}

/* Random datagrams: never a crash, never a reply longer than the request,
 * and nothing but a mode-3 (or v1 mode-0) request of a known version ever
 * answered. */
static void test_random_input(void) {
  fixture();
  uint8_t req[300], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  for (int round = 0; round < 200000; round++) {
    size_t len = (size_t)(random() % 300);
    for (size_t i = 0; i < len; i++) req[i] = (uint8_t)random();
    if (round % 3 == 0 && len >= 48) req[0] = (uint8_t)(req[0] & 0xc0) | 4 << 3 | 3;
    enum respond_result r = answer(req, len, out, &info);
    if (respond_sends(r)) {
      int v = (req[0] >> 3) & 7, m = req[0] & 7;
      CHECK(v >= 1 && v <= 4 && (m == 3 || (m == 0 && v == 1)));
    }
  }
}

int main(void) {
  unit_init();
  RUN(test_answer);
  RUN(test_leap_passed_on);
  RUN(test_versions);
  RUN(test_modes);
  RUN(test_short_and_malformed);
  RUN(test_origin_echoed);
  RUN(test_refusing);
  RUN(test_bound_saturates);
  RUN(test_auth_each_key);
  RUN(test_auth_reused_contexts);
  RUN(test_crypto_nak);
  RUN(test_rate_limited);
  RUN(test_restamp);
  RUN(test_random_input);
  return unit_done();
}
