/* Unit tests for the NTS codecs: the NTS-KE records (probes/nts_ke.c) and
 * the NTS extension fields with AEAD_AES_SIV_CMAC_256 (probes/nts_ef.c).
 * The AEAD is checked against RFC 5297's deterministic test vector; the
 * request builder against the response checker by playing a server here
 * (the real server, chronyd, is in tests/system/test_nts.sh). Bad inputs:
 * truncated records and fields, wrong lengths, an unknown critical record,
 * no End of Message, bytes after it, forged or missing authenticators. */
#include <openssl/evp.h>

#include "probes/nts_ef.h"
#include "probes/nts_ke.h"
#include "probes/ntp_wire.h"
#include "tests/unit/unit.h"

/* ---- NTS-KE records ---- */

static void test_ke_request(void) {
  uint8_t buf[64];
  size_t n = nts_ke_build_request(buf, sizeof buf);
  static const uint8_t want[] = {0x80, 0x01, 0x00, 0x02, 0x00, 0x00,  /* next protocol NTPv4 */
                                 0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,  /* AEAD 15 */
                                 0x80, 0x00, 0x00, 0x00};             /* end */
  CHECK_INT(n, sizeof want);
  CHECK(memcmp(buf, want, sizeof want) == 0);
  CHECK_INT(nts_ke_build_request(buf, 15), 0); /* too small */
  uint8_t ctx[5];
  nts_ke_exporter_context(ctx, NTS_AEAD_AES_SIV_CMAC_256, false);
  CHECK(memcmp(ctx, "\x00\x00\x00\x0f\x00", 5) == 0);
  nts_ke_exporter_context(ctx, NTS_AEAD_AES_SIV_CMAC_256, true);
  CHECK(memcmp(ctx, "\x00\x00\x00\x0f\x01", 5) == 0);
}

/* A server's response: protocol, AEAD, `cookies` cookies of 16 bytes,
 * optional server and port, end. */
static size_t good_response(uint8_t *buf, size_t cap, int cookies, const char *server,
                            int port) {
  size_t len = 0;
  uint8_t proto[2] = {0, 0}, aead[2] = {0, 15}, cookie[16], p[2];
  nts_ke_put_record(buf, cap, &len, true, NTS_KE_NEXT_PROTOCOL, proto, 2);
  nts_ke_put_record(buf, cap, &len, false, NTS_KE_AEAD, aead, 2);
  for (int i = 0; i < cookies; i++) {
    memset(cookie, 'a' + i, sizeof cookie);
    nts_ke_put_record(buf, cap, &len, false, NTS_KE_COOKIE, cookie, sizeof cookie);
  }
  if (server)
    nts_ke_put_record(buf, cap, &len, true, NTS_KE_SERVER, (const uint8_t *)server,
                      strlen(server));
  if (port) {
    p[0] = (uint8_t)(port >> 8);
    p[1] = (uint8_t)port;
    nts_ke_put_record(buf, cap, &len, true, NTS_KE_PORT_REC, p, 2);
  }
  nts_ke_put_record(buf, cap, &len, true, NTS_KE_END, NULL, 0);
  return len;
}

static void test_ke_response_ok(void) {
  uint8_t buf[1024];
  struct nts_ke_response r;
  size_t n = good_response(buf, sizeof buf, 8, "ntp.example", 11123);
  CHECK_INT(nts_ke_parse_response(buf, n, true, &r), NTS_KE_OK);
  CHECK_INT(r.aead, 15);
  CHECK_INT(r.n_cookies, 8);
  CHECK_INT(r.cookies[7].len, 16);
  CHECK_INT(r.cookies[7].data[0], 'h');
  CHECK_STR(r.server, "ntp.example");
  CHECK_INT(r.port, 11123);
  CHECK_INT(r.error_code, -1);
  /* Without server and port: both absent. */
  n = good_response(buf, sizeof buf, 1, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, n, true, &r), NTS_KE_OK);
  CHECK_STR(r.server, "");
  CHECK_INT(r.port, 0);
  /* More than eight cookies: the rest are dropped. */
  n = good_response(buf, sizeof buf, 10, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, n, true, &r), NTS_KE_OK);
  CHECK_INT(r.n_cookies, NTS_MAX_COOKIES);
  /* An unknown record without the critical bit and a warning are passed over. */
  size_t len = 0;
  uint8_t two[2] = {0, 0}, aead[2] = {0, 15}, ck[16] = {0};
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_NEXT_PROTOCOL, two, 2);
  nts_ke_put_record(buf, sizeof buf, &len, false, 0x1234, ck, 5);
  nts_ke_put_record(buf, sizeof buf, &len, false, NTS_KE_WARNING, two, 2);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_AEAD, aead, 2);
  nts_ke_put_record(buf, sizeof buf, &len, false, NTS_KE_COOKIE, ck, sizeof ck);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_END, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, len, true, &r), NTS_KE_OK);
  CHECK_INT(r.warnings, 1);
}

/* Every prefix of a good message is incomplete while the stream is open
 * and bad once it ended. */
static void test_ke_truncated(void) {
  uint8_t buf[1024];
  struct nts_ke_response r;
  size_t n = good_response(buf, sizeof buf, 3, "x", 123);
  for (size_t i = 0; i < n; i++) {
    CHECK_INT(nts_ke_parse_response(buf, i, false, &r), NTS_KE_INCOMPLETE);
    CHECK_INT(nts_ke_parse_response(buf, i, true, &r), NTS_KE_BAD_LENGTH);
  }
  CHECK_INT(nts_ke_parse_response(NULL, 0, true, &r), NTS_KE_BAD_LENGTH);
}

static void test_ke_bad_records(void) {
  uint8_t buf[1024];
  struct nts_ke_response r;
  size_t len;
  uint8_t proto[2] = {0, 0}, aead[2] = {0, 15}, ck[16] = {0}, code[2] = {0, 1};

  /* Bytes after End of Message. */
  len = good_response(buf, sizeof buf, 1, NULL, 0);
  buf[len++] = 0;
  CHECK_INT(nts_ke_parse_response(buf, len, true, &r), NTS_KE_TRAILING);

  /* A critical record of an unknown type. */
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_NEXT_PROTOCOL, proto, 2);
  nts_ke_put_record(buf, sizeof buf, &len, true, 0x4321, ck, 4);
  CHECK_INT(nts_ke_parse_response(buf, len, false, &r), NTS_KE_UNKNOWN_CRITICAL);

  /* An Error record, reported with its code. */
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_ERROR, code, 2);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_END, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, len, true, &r), NTS_KE_SERVER_ERROR);
  CHECK_INT(r.error_code, 1);

  /* Next protocol missing, or not NTPv4. */
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_AEAD, aead, 2);
  nts_ke_put_record(buf, sizeof buf, &len, false, NTS_KE_COOKIE, ck, 16);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_END, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, len, true, &r), NTS_KE_BAD_PROTOCOL);
  len = 0;
  uint8_t other[2] = {0x80, 0x01};
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_NEXT_PROTOCOL, other, 2);
  CHECK_INT(nts_ke_parse_response(buf, len, false, &r), NTS_KE_BAD_PROTOCOL);
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_NEXT_PROTOCOL, proto, 1);
  CHECK_INT(nts_ke_parse_response(buf, len, false, &r), NTS_KE_BAD_PROTOCOL);

  /* No common AEAD: missing, empty, or another algorithm. */
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_NEXT_PROTOCOL, proto, 2);
  nts_ke_put_record(buf, sizeof buf, &len, false, NTS_KE_COOKIE, ck, 16);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_END, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, len, true, &r), NTS_KE_NO_AEAD);
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_NEXT_PROTOCOL, proto, 2);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_AEAD, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, len, false, &r), NTS_KE_NO_AEAD);
  uint8_t gcm[2] = {0, 30};
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_AEAD, gcm, 2);
  CHECK_INT(nts_ke_parse_response(buf, len, false, &r), NTS_KE_NO_AEAD);

  /* No cookie (and cookies of a shape that cannot be carried). */
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_NEXT_PROTOCOL, proto, 2);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_AEAD, aead, 2);
  nts_ke_put_record(buf, sizeof buf, &len, false, NTS_KE_COOKIE, ck, 15);
  nts_ke_put_record(buf, sizeof buf, &len, false, NTS_KE_COOKIE, ck, 8);
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_END, NULL, 0);
  CHECK_INT(nts_ke_parse_response(buf, len, true, &r), NTS_KE_NO_COOKIE);

  /* Bad lengths: an End with a body, a port of one byte, an empty server. */
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_END, ck, 2);
  CHECK_INT(nts_ke_parse_response(buf, len, true, &r), NTS_KE_BAD_LENGTH);
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_PORT_REC, ck, 1);
  CHECK_INT(nts_ke_parse_response(buf, len, false, &r), NTS_KE_BAD_LENGTH);
  len = 0;
  nts_ke_put_record(buf, sizeof buf, &len, true, NTS_KE_SERVER, ck, 0);
  CHECK_INT(nts_ke_parse_response(buf, len, false, &r), NTS_KE_BAD_LENGTH);
  /* A body length beyond the message. */
  uint8_t cut[] = {0x80, 0x05, 0xff, 0xff, 1, 2, 3};
  CHECK_INT(nts_ke_parse_response(cut, sizeof cut, false, &r), NTS_KE_INCOMPLETE);
  CHECK_INT(nts_ke_parse_response(cut, sizeof cut, true, &r), NTS_KE_BAD_LENGTH);
  /* Too long a message. */
  static uint8_t big[NTS_KE_MAX_MESSAGE + 1];
  CHECK_INT(nts_ke_parse_response(big, sizeof big, false, &r), NTS_KE_TOO_LONG);
  /* A record that does not fit the buffer is refused by the encoder. */
  len = 0;
  CHECK_INT(nts_ke_put_record(buf, 3, &len, true, NTS_KE_END, NULL, 0), -1);
  CHECK_INT(nts_ke_put_record(buf, 10, &len, true, NTS_KE_COOKIE, ck, 16), -1);
  CHECK_INT(len, 0);
  CHECK_STR(nts_ke_status_name(NTS_KE_NO_AEAD), "no-aead");
  CHECK_STR(nts_ke_status_name(NTS_KE_STATUS_COUNT), "?");
}

/* ---- AEAD_AES_SIV_CMAC_256 ---- */

/* OpenSSL's AES-SIV (a second, independent implementation) with the same
 * S2V components: the associated data, then the nonce, then the plaintext. */
static int openssl_siv(const uint8_t key[32], const uint8_t *ad, size_t ad_len,
                       const uint8_t *nonce, size_t nonce_len, const uint8_t *pt, size_t n,
                       uint8_t *out) {
  EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-128-SIV", NULL);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl = 0, fin = 0, ok = cipher && ctx && EVP_EncryptInit_ex2(ctx, cipher, key, NULL, NULL) &&
                              EVP_EncryptUpdate(ctx, NULL, &outl, ad, (int)ad_len) &&
                              EVP_EncryptUpdate(ctx, NULL, &outl, nonce, (int)nonce_len) &&
                              EVP_EncryptUpdate(ctx, out + 16, &outl, pt, (int)n) &&
                              EVP_EncryptFinal_ex(ctx, out + 16 + outl, &fin) &&
                              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out) > 0;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  return ok ? (int)n + 16 : -1;
}

/* AEAD_AES_SIV_CMAC_256 (Nettle's SIV-CMAC) against OpenSSL's AES-SIV, bit
 * for bit, for plaintexts of 1 to 300 bytes and nonces of 1 to 16 (OpenSSL
 * 3.0 cannot do an empty plaintext); both ways, with and without a kept
 * context; every flipped bit refused; the empty plaintext (chrony's
 * requests) round trip, and a nonce is required. */
static void test_siv(void) {
  uint8_t key[32], ad[333], pt[300], a[320], b[320], back[300];
  for (size_t i = 0; i < sizeof key; i++) key[i] = (uint8_t)(i * 7 + 1);
  for (size_t i = 0; i < sizeof ad; i++) ad[i] = (uint8_t)(i * 13 + 5);
  for (size_t i = 0; i < sizeof pt; i++) pt[i] = (uint8_t)(i * 3 + 11);
  struct nts_siv_ctx *c = nts_siv_ctx_new();
  CHECK(c != NULL);
  int bad = 0;
  for (size_t n = 1; n <= sizeof pt; n++) {
    size_t ad_len = (n * 37) % sizeof ad, nonce_len = 1 + n % 16;
    key[n % 32] ^= (uint8_t)n;
    int x = openssl_siv(key, ad, ad_len, key + 8, nonce_len, pt, n, a);
    int y = nts_siv_encrypt_with(n % 2 ? c : NULL, key, ad, ad_len, key + 8, nonce_len, pt, n, b);
    if (x != (int)n + 16 || y != x || memcmp(a, b, (size_t)x)) bad++;
    if (nts_siv_decrypt_with(n % 3 ? c : NULL, key, ad, ad_len, key + 8, nonce_len, a, (size_t)x,
                             back) != (int)n ||
        memcmp(back, pt, n))
      bad++;
    a[(n * 11) % (size_t)x] ^= (uint8_t)(1 << n % 8);
    if (nts_siv_decrypt_with(c, key, ad, ad_len, key + 8, nonce_len, a, (size_t)x, back) != -1)
      bad++;
  }
  CHECK_INT(bad, 0);
  CHECK_INT(nts_siv_encrypt(key, ad, 48, key, 16, pt, 0, a), 16);
  CHECK_INT(nts_siv_decrypt(key, ad, 48, key, 16, a, 16, back), 0);
  CHECK_INT(nts_siv_decrypt_with(c, key, ad, 48, key, 16, a, 16, back), 0);
  a[3] ^= 1;
  CHECK_INT(nts_siv_decrypt(key, ad, 48, key, 16, a, 16, back), -1);
  CHECK_INT(nts_siv_decrypt(key, ad, 48, key, 16, a, 15, back), -1); /* shorter than a tag */
  CHECK_INT(nts_siv_encrypt(key, ad, 48, NULL, 0, pt, 4, a), -1);  /* no nonce */
  nts_siv_ctx_free(c);
}

/* ---- extension fields ---- */

struct fixture {
  uint8_t c2s[32], s2c[32], uid[32], nonce[16];
  struct nts_cookie cookie;
};

static struct fixture fixture(void) {
  struct fixture f;
  for (int i = 0; i < 32; i++) {
    f.c2s[i] = (uint8_t)i;
    f.s2c[i] = (uint8_t)(0x80 + i);
    f.uid[i] = (uint8_t)(0x40 + i);
  }
  for (int i = 0; i < 16; i++) f.nonce[i] = (uint8_t)(0xa0 + i);
  f.cookie.len = 100;
  memset(f.cookie.data, 0xcc, sizeof f.cookie.data);
  return f;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Plays the server: checks the request's fields and authenticator under
 * c2s, and answers with the uid, `cookies` new cookies encrypted under
 * s2c. Returns the response length, 0 if the request did not verify. */
static size_t serve(const struct fixture *f, const uint8_t *req, size_t len, int cookies,
                    uint8_t *resp) {
  size_t pos = NTP_HEADER_LEN, auth = 0;
  int placeholders = 0;
  while (pos < len) {
    uint16_t type = get16(req + pos), flen = get16(req + pos + 2);
    if (flen < 16 || pos + flen > len) return 0;
    if (type == NTS_EF_PLACEHOLDER) placeholders++;
    if (type == NTS_EF_AUTH) auth = pos;
    pos += flen;
  }
  if (!auth) return 0;
  const uint8_t *a = req + auth + 4;
  size_t nl = get16(a), cl = get16(a + 2);
  uint8_t pt[1024];
  int m = nts_siv_decrypt(f->c2s, req, auth, a + 4, nl, a + 4 + nl, cl, pt);
  if (m < 0) return 0;
  if (m != 4 + f->cookie.len || get16(pt) != NTS_EF_PLACEHOLDER) return 0;
  if (placeholders + 1 > NTS_MAX_COOKIES) return 0;
  /* The response: the request's header turned around, the uid, the auth. */
  memcpy(resp, req, NTP_HEADER_LEN);
  resp[0] = 0x24; /* LI 0, v4, mode 4 */
  size_t out = NTP_HEADER_LEN;
  resp[out] = 0x01, resp[out + 1] = 0x04, resp[out + 2] = 0, resp[out + 3] = 36;
  memcpy(resp + out + 4, f->uid, 32);
  out += 36;
  size_t pl = 0;
  for (int i = 0; i < cookies; i++) {
    pt[pl] = 0x02, pt[pl + 1] = 0x04, pt[pl + 2] = 0, pt[pl + 3] = 4 + 16;
    memset(pt + pl + 4, 'A' + i, 16);
    pl += 20;
  }
  uint8_t nonce[16] = {9, 9, 9};
  uint8_t *p = resp + out;
  size_t body = 4 + 16 + 16 + pl;
  p[0] = 0x04, p[1] = 0x04, p[2] = (uint8_t)((4 + body) >> 8), p[3] = (uint8_t)(4 + body);
  p[4] = 0, p[5] = 16, p[6] = (uint8_t)((16 + pl) >> 8), p[7] = (uint8_t)(16 + pl);
  memcpy(p + 8, nonce, 16);
  if (nts_siv_encrypt(f->s2c, resp, out, nonce, 16, pt, pl, p + 24) != (int)(16 + pl)) return 0;
  return out + 4 + body;
}

static size_t request(const struct fixture *f, uint8_t *buf, int placeholders) {
  CHECK_INT(ntp_build_request(buf, NTS_MAX_PACKET, 0x1122334455667788ull, 6, NULL), 48);
  return nts_build_request(buf, NTS_MAX_PACKET, f->uid, &f->cookie, placeholders, f->c2s,
                           f->nonce);
}

static void test_ef_round_trip(void) {
  struct fixture f = fixture();
  uint8_t req[NTS_MAX_PACKET], resp[NTS_MAX_PACKET];
  size_t n = request(&f, req, 3);
  /* header + uid 36 + cookie 104 + 2 placeholders 208 + auth 8+16+16+104 */
  CHECK_INT(n, 48 + 36 + 104 + 208 + 4 + 4 + 16 + 16 + 104);
  CHECK_INT(get16(req + 48), NTS_EF_UID);
  CHECK_INT(get16(req + 84), NTS_EF_COOKIE);
  CHECK(memcmp(req + 88, f.cookie.data, 100) == 0);
  size_t m = serve(&f, req, n, 3, resp);
  CHECK(m > 0);
  struct nts_cookie got[NTS_MAX_COOKIES];
  int k = -1;
  CHECK_INT(nts_check_response(resp, m, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_OK);
  CHECK_INT(k, 3);
  CHECK_INT(got[2].len, 16);
  CHECK_INT(got[2].data[0], 'C');
  /* The checker keeps at most max cookies. */
  CHECK_INT(nts_check_response(resp, m, f.uid, f.s2c, got, 2, &k), NTS_OK);
  CHECK_INT(k, 2);
  /* The response passes the NTP trailer shape too. */
  size_t mo, ml;
  CHECK_INT(ntp_parse_trailer(resp, m, &mo, &ml), NTP_OK);
  CHECK_INT(ml, 0);
}

static void test_ef_forgeries(void) {
  struct fixture f = fixture();
  uint8_t req[NTS_MAX_PACKET], resp[NTS_MAX_PACKET], bad[NTS_MAX_PACKET];
  size_t n = request(&f, req, 1), m = serve(&f, req, n, 1, resp);
  struct nts_cookie got[NTS_MAX_COOKIES];
  int k;
  CHECK(m > 0);
  /* Every single bit flipped in the header, the uid or the authenticator
   * is refused. */
  for (size_t bit = 0; bit < m * 8; bit += 3) {
    memcpy(bad, resp, m);
    bad[bit / 8] ^= (uint8_t)(1 << bit % 8);
    CHECK(nts_check_response(bad, m, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k) != NTS_OK);
  }
  /* The transmit timestamp moved 1000 s, as the on-path forger does. */
  memcpy(bad, resp, m);
  bad[43] = (uint8_t)(bad[43] + 0xe8), bad[42] = (uint8_t)(bad[42] + 3);
  CHECK_INT(nts_check_response(bad, m, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_AUTH_FAIL);
  /* Another request's uid. */
  uint8_t other[32];
  memcpy(other, f.uid, 32);
  other[31] ^= 1;
  CHECK_INT(nts_check_response(resp, m, other, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_BAD_UID);
  /* The wrong key. */
  CHECK_INT(nts_check_response(resp, m, f.uid, f.c2s, got, NTS_MAX_COOKIES, &k), NTS_AUTH_FAIL);
  /* A plain NTP answer: no NTS fields at all. */
  CHECK_INT(nts_check_response(resp, 48, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_NO_UID);
  /* Only the uid (an NTS NAK's shape). */
  CHECK_INT(nts_check_response(resp, 48 + 36, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_NO_AUTH);
  /* Two uids. */
  memcpy(bad, resp, 48 + 36);
  memcpy(bad + 84, resp + 48, m - 48);
  CHECK_INT(nts_check_response(bad, m + 36, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_NO_UID);
  /* Truncated anywhere after the header, or a field length past the end. */
  for (size_t len = 49; len < m; len++)
    CHECK(nts_check_response(resp, len, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k) != NTS_OK);
  memcpy(bad, resp, m);
  bad[48 + 36 + 2] = 0x7f;
  CHECK_INT(nts_check_response(bad, m, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_BAD_FIELD);
  /* Authenticator lengths that do not fit its field. */
  memcpy(bad, resp, m);
  bad[48 + 36 + 6] = 0x7f;
  CHECK_INT(nts_check_response(bad, m, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_BAD_FIELD);
  memcpy(bad, resp, m);
  bad[48 + 36 + 7] = 8, bad[48 + 36 + 6] = 0; /* ciphertext shorter than a tag */
  CHECK_INT(nts_check_response(bad, m, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_BAD_FIELD);
  CHECK_INT(nts_check_response(NULL, 0, f.uid, f.s2c, got, NTS_MAX_COOKIES, &k), NTS_BAD_FIELD);
  CHECK_STR(nts_check_name(NTS_AUTH_FAIL), "auth-fail");
}

static void test_ef_request_bounds(void) {
  struct fixture f = fixture();
  uint8_t buf[NTS_MAX_PACKET];
  CHECK_INT(nts_placeholders(&f.cookie, 7), 1); /* never fewer than one */
  CHECK_INT(nts_placeholders(&f.cookie, 0), 7);
  CHECK_INT(nts_placeholders(&f.cookie, 3), 4);
  struct nts_cookie big = f.cookie;
  big.len = 256; /* 260-byte fields: only two fit besides the cookie */
  CHECK_INT(nts_placeholders(&big, 0), 2);
  CHECK(request(&f, buf, 7) <= NTS_MAX_PACKET);
  CHECK_INT(request(&f, buf, 0), 0);
  CHECK_INT(request(&f, buf, 9), 0);
  struct fixture g = f;
  g.cookie.len = 10; /* not a multiple of 4 */
  CHECK_INT(request(&g, buf, 1), 0);
  g.cookie.len = 0;
  CHECK_INT(request(&g, buf, 1), 0);
  CHECK_INT(nts_build_request(buf, 100, f.uid, &f.cookie, 1, f.c2s, f.nonce), 0); /* too small */
}

int main(void) {
  unit_init();
  RUN(test_ke_request);
  RUN(test_ke_response_ok);
  RUN(test_ke_truncated);
  RUN(test_ke_bad_records);
  RUN(test_siv);
  RUN(test_ef_round_trip);
  RUN(test_ef_forgeries);
  RUN(test_ef_request_bounds);
  return unit_done();
}
