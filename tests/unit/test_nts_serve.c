/* Unit tests for the NTS server's pure half: cookies (server/nts_serve.c),
 * the NTS path of the responder (server/ntp_respond.c), the server's side
 * of the NTS-KE records (probes/nts_ke.c) and the cookie key file
 * (server/nts_ke_server.c). The client's cores (probes/nts_ef.c,
 * probes/nts_ke.c) play the client: a request they build is answered, and
 * the answer passes their check. Bad inputs: a forged Authenticator, a
 * cookie of an unknown key or tampered with, two cookies, a placeholder of
 * another length, a field after the Authenticator, a short nonce, no
 * unique identifier, truncation at every length. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probes/nts_ef.h"
#include "probes/nts_ke.h"
#include "server/ntp_respond.h"
#include "server/nts_ke_server.h"
#include "server/nts_serve.h"
#include "tests/unit/unit.h"

static struct nts_keyset keys(void) {
  struct nts_keyset ks;
  memset(&ks, 0, sizeof ks);
  ks.n = 2;
  ks.k[0].id = 0x11223344;
  memset(ks.k[0].key, 0xa5, NTS_KEY_LEN);
  ks.k[1].id = 0x55667788;
  memset(ks.k[1].key, 0x5a, NTS_KEY_LEN);
  return ks;
}

static const uint8_t C2S[NTS_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};
static const uint8_t S2C[NTS_KEY_LEN] = {99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88};
static const uint8_t NONCE[NTS_NONCE_LEN] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
static const uint8_t UID[NTS_UID_LEN] = {42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31};

static void test_cookie_round_trip(void) {
  struct nts_keyset ks = keys();
  struct nts_cookie c;
  uint8_t c2s[NTS_KEY_LEN], s2c[NTS_KEY_LEN];
  for (int k = 0; k < 2; k++) {
    CHECK_INT(nts_cookie_seal(NULL, &ks.k[k], NONCE, C2S, S2C, &c), 0);
    CHECK_INT(c.len, NTS_COOKIE_LEN);
    CHECK_INT(c.len % 4, 0);
    CHECK_INT(nts_cookie_open(NULL, &ks, c.data, c.len, c2s, s2c), NTS_COOKIE_OK);
    CHECK(memcmp(c2s, C2S, NTS_KEY_LEN) == 0 && memcmp(s2c, S2C, NTS_KEY_LEN) == 0);
  }
  /* every byte matters: the key id (unknown), the nonce and the sealed part */
  for (size_t i = 0; i < c.len; i++) {
    struct nts_cookie t = c;
    t.data[i] ^= 0x01;
    CHECK_INT(nts_cookie_open(NULL, &ks, t.data, t.len, c2s, s2c),
              i < 4 ? NTS_COOKIE_UNKNOWN_KEY : NTS_COOKIE_BAD);
  }
  CHECK_INT(nts_cookie_open(NULL, &ks, c.data, c.len - 4, c2s, s2c), NTS_COOKIE_BAD);
  /* the key rotated out */
  struct nts_keyset one = ks;
  one.n = 1;
  CHECK_INT(nts_cookie_open(NULL, &one, c.data, c.len, c2s, s2c), NTS_COOKIE_UNKNOWN_KEY);
  /* the per-thread context gives the same result as the allocating path */
  struct nts_siv_ctx *siv = nts_siv_ctx_new();
  CHECK(siv != NULL);
  struct nts_cookie c2;
  CHECK_INT(nts_cookie_seal(siv, &ks.k[1], NONCE, C2S, S2C, &c2), 0);
  CHECK(memcmp(c.data, c2.data, c.len) == 0);
  CHECK_INT(nts_cookie_open(siv, &ks, c.data, c.len, c2s, s2c), NTS_COOKIE_OK);
  nts_siv_ctx_free(siv);
}

/* The per-thread SIV context (two keys' schedules kept, the key changing
 * every message here) against the context-free path (test_nts.c checks
 * that one against OpenSSL's AES-SIV): the same output for every plaintext
 * length from 1 to 300, both ways, and a flipped bit refused. An empty
 * plaintext (the tag alone, as chrony sends) opens with both. */
static void test_siv_paths_agree(void) {
  struct nts_siv_ctx *c = nts_siv_ctx_new();
  CHECK(c != NULL);
  uint8_t key[NTS_KEY_LEN], ad[333], pt[300], a[320], b[320], back[300];
  for (size_t i = 0; i < sizeof key; i++) key[i] = (uint8_t)(i * 7 + 1);
  for (size_t i = 0; i < sizeof ad; i++) ad[i] = (uint8_t)(i * 13 + 5);
  for (size_t i = 0; i < sizeof pt; i++) pt[i] = (uint8_t)(i * 3 + 11);
  int bad = 0;
  for (size_t n = 1; n <= sizeof pt; n++) {
    size_t ad_len = 1 + (n * 37) % sizeof ad, nonce_len = n % 3 ? 16 : 1 + n % 16;
    key[n % 32] ^= (uint8_t)n;
    int x = nts_siv_encrypt_with(NULL, key, ad, ad_len, NONCE, nonce_len, pt, n, a);
    int y = nts_siv_encrypt_with(c, key, ad, ad_len, NONCE, nonce_len, pt, n, b);
    if (x != (int)n + 16 || y != x || memcmp(a, b, (size_t)x)) bad++;
    if (nts_siv_decrypt_with(c, key, ad, ad_len, NONCE, nonce_len, a, (size_t)x, back) != (int)n ||
        memcmp(back, pt, n))
      bad++;
    a[n % (size_t)x] ^= 4;
    if (nts_siv_decrypt_with(c, key, ad, ad_len, NONCE, nonce_len, a, (size_t)x, back) != -1) bad++;
  }
  CHECK_INT(bad, 0);
  /* empty: the per-thread path's tag opens with both paths */
  CHECK_INT(nts_siv_encrypt_with(c, key, ad, 48, NONCE, 16, pt, 0, a), 16);
  CHECK_INT(nts_siv_decrypt_with(NULL, key, ad, 48, NONCE, 16, a, 16, back), 0);
  CHECK_INT(nts_siv_decrypt_with(c, key, ad, 48, NONCE, 16, a, 16, back), 0);
  a[3] ^= 1;
  CHECK_INT(nts_siv_decrypt_with(NULL, key, ad, 48, NONCE, 16, a, 16, back), -1);
  CHECK_INT(nts_siv_decrypt_with(c, key, ad, 48, NONCE, 16, a, 16, back), -1);
  nts_siv_ctx_free(c);
}

static int fake_random(uint8_t *buf, size_t n) {
  for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 31 + 7);
  return 0;
}

static struct served_time served = {.unix_ns = 1700000000000000000, .error = 1e-4,
                                    .stratum = 2, .refid = 0x47505300};

static enum respond_result respond(const struct nts_keyset *ks, const uint8_t *req, size_t len,
                                   uint8_t *out, struct respond_info *info, bool later) {
  static struct nts_siv_ctx *siv;
  if (!siv) siv = nts_siv_ctx_new(); /* a server thread's; `later` goes without, as tests do */
  struct respond_params p = {.served = &served, .receive = 10, .transmit = 11, .precision = -20,
                             .nts_keys = ks, .nts_random = fake_random,
                             .nts_seal_later = later, .siv = later ? siv : NULL};
  return ntp_respond(req, len, &p, out, NTP_RESPONSE_MAX, info);
}

/* A client's request (probes/nts_ef.c) with a cookie of ks's current key. */
static size_t request(const struct nts_keyset *ks, uint8_t *buf, int placeholders) {
  struct nts_cookie c;
  nts_cookie_seal(NULL, &ks->k[0], NONCE, C2S, S2C, &c);
  memset(buf, 0, NTP_HEADER_LEN);
  buf[0] = 0x23;
  memset(buf + 40, 0x77, 8); /* the client's transmit */
  return nts_build_request(buf, NTS_MAX_PACKET, UID, &c, placeholders, C2S, NONCE);
}

static void test_answer(void) {
  struct nts_keyset ks = keys();
  uint8_t req[NTS_MAX_PACKET], out[NTP_RESPONSE_MAX];
  for (int ph = 1; ph <= NTS_MAX_COOKIES; ph++) {
    for (int later = 0; later < 2; later++) {
      size_t n = request(&ks, req, ph);
      if (n == 0) continue; /* more than NTS_MAX_PACKET: the client sends fewer */
      struct respond_info info;
      CHECK_INT(respond(&ks, req, n, out, &info, later), RESP_ANSWER);
      CHECK(info.nts);
      CHECK(info.len <= n);
      CHECK(info.stamped);
      if (later) ntp_respond_restamp(out, &info, 0x1234567890abcdefULL);
      struct nts_cookie got[NTS_MAX_COOKIES];
      int k = 0;
      CHECK_INT(nts_check_response(out, info.len, UID, S2C, got, NTS_MAX_COOKIES, &k), NTS_OK);
      /* one per cookie and placeholder: the client's builder puts ph - 1
       * in the clear and one inside the Authenticator */
      CHECK_INT(k, ph + 1 > NTS_MAX_COOKIES ? NTS_MAX_COOKIES : ph + 1);
      uint8_t c2s[NTS_KEY_LEN], s2c[NTS_KEY_LEN];
      CHECK_INT(nts_cookie_open(NULL, &ks, got[0].data, got[0].len, c2s, s2c), NTS_COOKIE_OK);
      CHECK(memcmp(c2s, C2S, NTS_KEY_LEN) == 0);
      if (later) CHECK(out[40] == 0x12 && out[47] == 0xef); /* T3 under the Authenticator */
      /* origin = the request's transmit; mode 4 */
      CHECK(memcmp(out + 24, req + 40, 8) == 0);
      CHECK_INT(out[0] & 7, 4);
    }
  }
}

static void test_nak(void) {
  struct nts_keyset ks = keys();
  uint8_t req[NTS_MAX_PACKET], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  size_t n = request(&ks, req, 2);
  /* a forged Authenticator: its last byte */
  req[n - 1] ^= 1;
  CHECK_INT(respond(&ks, req, n, out, &info, false), RESP_NTS_NAK);
  CHECK(!info.nts_unknown_key);
  CHECK_INT(info.len, NTP_HEADER_LEN + 4 + NTS_UID_LEN);
  CHECK_INT(out[1], 0);                      /* stratum 0 */
  CHECK(memcmp(out + 12, "NTSN", 4) == 0);   /* the kiss */
  CHECK(memcmp(out + 52, UID, NTS_UID_LEN) == 0);
  CHECK(!info.stamped);
  int k;
  struct nts_cookie got[1];
  CHECK_INT(nts_check_response(out, info.len, UID, S2C, got, 1, &k), NTS_NO_AUTH);
  /* the header changed under the Authenticator */
  n = request(&ks, req, 2);
  req[40] ^= 1;
  CHECK_INT(respond(&ks, req, n, out, &info, false), RESP_NTS_NAK);
  /* the server restarted without its keys */
  n = request(&ks, req, 2);
  struct nts_keyset other = keys();
  other.k[0].id = 1;
  other.k[1].id = 2;
  CHECK_INT(respond(&other, req, n, out, &info, false), RESP_NTS_NAK);
  CHECK(info.nts_unknown_key);
  /* without NTS keys the server answers the time, fields skipped */
  CHECK_INT(respond(NULL, req, n, out, &info, false), RESP_ANSWER);
  CHECK(!info.nts);
  CHECK_INT(info.len, NTP_HEADER_LEN);
}

/* Appends a field of type with an n-byte body of `fill`. */
static void put(uint8_t *buf, size_t *len, uint16_t type, size_t n, uint8_t fill) {
  buf[*len] = (uint8_t)(type >> 8);
  buf[*len + 1] = (uint8_t)type;
  buf[*len + 2] = (uint8_t)((n + 4) >> 8);
  buf[*len + 3] = (uint8_t)(n + 4);
  memset(buf + *len + 4, fill, n);
  *len += 4 + n;
}

static void test_malformed(void) {
  struct nts_keyset ks = keys();
  uint8_t req[NTS_MAX_PACKET], out[NTP_RESPONSE_MAX];
  struct respond_info info;
  struct nts_cookie c;
  nts_cookie_seal(NULL, &ks.k[0], NONCE, C2S, S2C, &c);
  size_t n;
  /* a field after the Authenticator */
  n = request(&ks, req, 1);
  put(req, &n, 0x7777, 12, 0);
  CHECK_INT(respond(&ks, req, n, out, &info, false), RESP_DROP_NTS);
  /* two cookies; a placeholder of another length; no uid; a short uid;
   * a short nonce; no Authenticator */
  for (int kind = 0; kind < 6; kind++) {
    memset(req, 0, NTP_HEADER_LEN);
    req[0] = 0x23;
    n = NTP_HEADER_LEN;
    if (kind != 2) put(req, &n, NTS_EF_UID, kind == 3 ? 16 : 32, 1);
    put(req, &n, NTS_EF_COOKIE, c.len, 0);
    memcpy(req + n - c.len, c.data, c.len);
    if (kind == 0) {
      put(req, &n, NTS_EF_COOKIE, c.len, 0);
      memcpy(req + n - c.len, c.data, c.len);
    }
    if (kind == 1) put(req, &n, NTS_EF_PLACEHOLDER, c.len - 4, 0);
    if (kind != 5) {
      size_t nonce = kind == 4 ? 8 : 16;
      put(req, &n, NTS_EF_AUTH, 4 + nonce + 32, 0);
      size_t a = n - (4 + nonce + 32);
      req[a] = 0;
      req[a + 1] = (uint8_t)nonce;
      req[a + 2] = 0;
      req[a + 3] = 32;
    }
    CHECK_INT(respond(&ks, req, n, out, &info, false), RESP_DROP_NTS);
    CHECK_INT(info.len, 0);
  }
  /* every truncation of a good request: dropped, never answered with
   * more than was asked */
  size_t full = request(&ks, req, 3);
  for (size_t len = NTP_HEADER_LEN; len < full; len++) {
    enum respond_result r = respond(&ks, req, len, out, &info, false);
    /* a cut that leaves 4, 20 or 24 bytes reads as a MAC (RFC 7822):
     * the plain path's crypto-NAK or drop; one that leaves no NTS field
     * (the header, or the unique identifier alone) is plain NTP */
    CHECK(r == RESP_DROP_NTS || r == RESP_DROP_MALFORMED || r == RESP_CRYPTO_NAK ||
          r == RESP_DROP_AUTH || (r == RESP_ANSWER && !info.nts));
    CHECK(info.len <= len);
  }
  /* rate limited: nothing, not even a kiss */
  n = request(&ks, req, 1);
  struct respond_params p = {.served = &served, .nts_keys = &ks, .nts_random = fake_random,
                             .limit = RESPOND_LIMIT_KOD};
  CHECK_INT(ntp_respond(req, n, &p, out, sizeof out, &info), RESP_DROP_RATE);
  CHECK_STR(respond_result_name(RESP_NTS_NAK), "nts-nak");
  CHECK_STR(respond_result_name(RESP_DROP_NTS), "nts-malformed");
}

/* ---- NTS-KE, the server's side ---- */

static void test_ke_server(void) {
  uint8_t req[64], resp[NTS_KE_MAX_MESSAGE];
  size_t n = nts_ke_build_request(req, sizeof req);
  struct nts_ke_request rq;
  CHECK_INT(nts_ke_parse_request(req, n, false, &rq), NTS_KE_OK);
  CHECK(rq.ntpv4 && rq.siv);
  CHECK_INT(nts_ke_parse_request(req, n - 1, false, &rq), NTS_KE_INCOMPLETE);
  CHECK_INT(nts_ke_parse_request(req, n - 1, true, &rq), NTS_KE_BAD_LENGTH);
  /* the server's answer, read by the client's decoder */
  struct nts_cookie cookies[NTS_MAX_COOKIES];
  struct nts_keyset ks = keys();
  for (int i = 0; i < NTS_MAX_COOKIES; i++)
    nts_cookie_seal(NULL, &ks.k[0], NONCE, C2S, S2C, &cookies[i]);
  size_t m = nts_ke_build_response(resp, sizeof resp, NTS_KE_OK, &rq, cookies, 8, 1123);
  struct nts_ke_response r;
  CHECK_INT(nts_ke_parse_response(resp, m, true, &r), NTS_KE_OK);
  CHECK_INT(r.n_cookies, 8);
  CHECK_INT(r.port, 1123);
  CHECK_INT(r.cookies[3].len, NTS_COOKIE_LEN);
  /* no port record for 0 */
  m = nts_ke_build_response(resp, sizeof resp, NTS_KE_OK, &rq, cookies, 8, 0);
  CHECK_INT(nts_ke_parse_response(resp, m, true, &r), NTS_KE_OK);
  CHECK_INT(r.port, 0);
  /* an unknown critical record: error 0; a non-critical one is ignored */
  uint8_t bad[80];
  size_t b = 0;
  nts_ke_put_record(bad, sizeof bad, &b, true, 0x1234, (const uint8_t *)"x", 1);
  memcpy(bad + b, req, n);
  CHECK_INT(nts_ke_parse_request(bad, b + n, true, &rq), NTS_KE_UNKNOWN_CRITICAL);
  m = nts_ke_build_response(resp, sizeof resp, NTS_KE_UNKNOWN_CRITICAL, &rq, NULL, 0, 0);
  CHECK_INT(nts_ke_parse_response(resp, m, true, &r), NTS_KE_SERVER_ERROR);
  CHECK_INT(r.error_code, 0);
  b = 0;
  nts_ke_put_record(bad, sizeof bad, &b, false, 0x1234, (const uint8_t *)"x", 1);
  memcpy(bad + b, req, n);
  CHECK_INT(nts_ke_parse_request(bad, b + n, true, &rq), NTS_KE_OK);
  /* bad requests: error 1 */
  b = 0;
  nts_ke_put_record(bad, sizeof bad, &b, true, NTS_KE_END, NULL, 0);
  CHECK_INT(nts_ke_parse_request(bad, b, true, &rq), NTS_KE_BAD_PROTOCOL);
  m = nts_ke_build_response(resp, sizeof resp, NTS_KE_BAD_PROTOCOL, &rq, NULL, 0, 0);
  CHECK_INT(nts_ke_parse_response(resp, m, true, &r), NTS_KE_SERVER_ERROR);
  CHECK_INT(r.error_code, 1);
  memcpy(bad, req, n);
  bad[n] = 0;
  CHECK_INT(nts_ke_parse_request(bad, n + 1, true, &rq), NTS_KE_TRAILING);
  b = 0;
  static const uint8_t v0[2] = {0, 0}, v30[2] = {0, 30};
  nts_ke_put_record(bad, sizeof bad, &b, true, NTS_KE_NEXT_PROTOCOL, v0, 2);
  nts_ke_put_record(bad, sizeof bad, &b, true, NTS_KE_AEAD, v30, 2);
  nts_ke_put_record(bad, sizeof bad, &b, true, NTS_KE_END, NULL, 0);
  CHECK_INT(nts_ke_parse_request(bad, b, true, &rq), NTS_KE_OK);
  CHECK(rq.ntpv4 && !rq.siv);
  m = nts_ke_build_response(resp, sizeof resp, NTS_KE_OK, &rq, cookies, 8, 0);
  CHECK_INT(nts_ke_parse_response(resp, m, true, &r), NTS_KE_NO_AEAD);
  nts_ke_put_record(bad, sizeof bad, &b, true, NTS_KE_COOKIE, v0, 2);
  CHECK_INT(nts_ke_parse_request(bad, b, true, &rq), NTS_KE_TRAILING);
}

static void test_key_file(void) {
  char dir[] = "/tmp/vt-ntskeys-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[64], err[256];
  snprintf(path, sizeof path, "%s/ntskeys", dir);
  struct nts_keyset ks = keys(), back;
  ks.k[0].created = 1700000000;
  CHECK_INT(nts_keys_save(path, &ks, err, sizeof err), 0);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK_INT(nts_keys_load(path, &back, err, sizeof err), 0);
  CHECK_INT(back.n, 2);
  CHECK(back.k[0].id == ks.k[0].id && back.k[1].id == ks.k[1].id);
  CHECK(memcmp(back.k[1].key, ks.k[1].key, NTS_KEY_LEN) == 0);
  CHECK(back.k[0].created == 1700000000);
  FILE *f = fopen(path, "w");
  fputs("11223344 nothex 5\n", f);
  fclose(f);
  CHECK_INT(nts_keys_load(path, &back, err, sizeof err), -1);
  CHECK(strstr(err, "not a key file") != NULL);
  unlink(path);
  CHECK_INT(nts_keys_load(path, &back, err, sizeof err), -1);
  rmdir(dir);
}

int main(void) {
  unit_init();
  RUN(test_siv_paths_agree);
  RUN(test_cookie_round_trip);
  RUN(test_answer);
  RUN(test_nak);
  RUN(test_malformed);
  RUN(test_ke_server);
  RUN(test_key_file);
  return unit_done();
}
