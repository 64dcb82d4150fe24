/* NTS extension fields (RFC 8915 section 5): see nts_ef.h. The AEAD is
 * Nettle's SIV-CMAC (below). */
#include "probes/nts_ef.h"

#include <string.h>

#include <stdbool.h>
#include <stdlib.h>

#include <nettle/siv-cmac.h>
#include <openssl/crypto.h> /* CRYPTO_memcmp, OPENSSL_cleanse */

#include "probes/ntp_wire.h" /* NTP_HEADER_LEN */

#define EF_MIN_LEN 16 /* RFC 7822 */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

const char *nts_check_name(enum nts_check c) {
  static const char *const names[NTS_CHECK_COUNT] = {
      "ok", "bad-field", "no-uid", "bad-uid", "no-auth", "auth-fail"};
  return (unsigned)c < NTS_CHECK_COUNT ? names[c] : "?";
}

/* ---- AEAD_AES_SIV_CMAC_256 ----
 * Nettle's SIV-CMAC (RFC 5297 with one associated-data component and a
 * nonce, the NTS order; chrony uses the same), not OpenSSL's: OpenSSL 3.0's
 * AES-SIV cannot take an empty plaintext (openssl#26580), which chrony's
 * requests carry, and it fetches a CMAC and two ciphers at every key
 * change (4 us a message here; an NTS answer takes five). test_nts checks
 * Nettle's output against OpenSSL's AES-SIV bit for bit. */

#define SIV_SLOTS 2 /* a server thread alternates a cookie key and a C2S/S2C pair */

struct siv_slot {
  bool keyed;
  uint64_t used;
  uint8_t key[NTS_KEY_LEN];
  struct siv_cmac_aes128_ctx ctx;
};

struct nts_siv_ctx {
  struct siv_slot slot[SIV_SLOTS];
  uint64_t clock;
};

struct nts_siv_ctx *nts_siv_ctx_new(void) { return calloc(1, sizeof(struct nts_siv_ctx)); }

void nts_siv_ctx_free(struct nts_siv_ctx *c) {
  if (!c) return;
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

/* The slot keyed with key: one that already is, or the least recently
 * used one, keyed now. */
static const struct siv_cmac_aes128_ctx *keyed(struct nts_siv_ctx *c,
                                               const uint8_t key[NTS_KEY_LEN]) {
  struct siv_slot *k = &c->slot[0];
  for (int i = 0; i < SIV_SLOTS; i++) {
    struct siv_slot *x = &c->slot[i];
    if (x->keyed && CRYPTO_memcmp(x->key, key, NTS_KEY_LEN) == 0) {
      x->used = ++c->clock;
      return &x->ctx;
    }
    if (x->used < k->used) k = x;
  }
  siv_cmac_aes128_set_key(&k->ctx, key);
  memcpy(k->key, key, NTS_KEY_LEN);
  k->keyed = true;
  k->used = ++c->clock;
  return &k->ctx;
}

int nts_siv_encrypt_with(struct nts_siv_ctx *c, const uint8_t key[NTS_KEY_LEN],
                         const uint8_t *ad, size_t ad_len, const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *pt, size_t pt_len, uint8_t *out) {
  if (nonce_len < SIV_MIN_NONCE_SIZE || pt_len > INT32_MAX - NTS_SIV_TAG_LEN) return -1;
  struct nts_siv_ctx one = {0};
  const struct siv_cmac_aes128_ctx *k = keyed(c ? c : &one, key);
  siv_cmac_aes128_encrypt_message(k, nonce_len, nonce, ad_len, ad, pt_len + NTS_SIV_TAG_LEN, out,
                                  pt);
  if (!c) OPENSSL_cleanse(&one, sizeof one);
  return (int)pt_len + NTS_SIV_TAG_LEN;
}

int nts_siv_decrypt_with(struct nts_siv_ctx *c, const uint8_t key[NTS_KEY_LEN],
                         const uint8_t *ad, size_t ad_len, const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *in, size_t in_len, uint8_t *pt) {
  if (nonce_len < SIV_MIN_NONCE_SIZE || in_len < NTS_SIV_TAG_LEN || in_len > INT32_MAX) return -1;
  size_t n = in_len - NTS_SIV_TAG_LEN;
  struct nts_siv_ctx one = {0};
  const struct siv_cmac_aes128_ctx *k = keyed(c ? c : &one, key);
  int ok = siv_cmac_aes128_decrypt_message(k, nonce_len, nonce, ad_len, ad, n, pt, in);
  if (!c) OPENSSL_cleanse(&one, sizeof one);
  if (!ok) {
    OPENSSL_cleanse(pt, n);
    return -1;
  }
  return (int)n;
}

int nts_siv_encrypt(const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                    const uint8_t *nonce, size_t nonce_len, const uint8_t *pt,
                    size_t pt_len, uint8_t *out) {
  return nts_siv_encrypt_with(NULL, key, ad, ad_len, nonce, nonce_len, pt, pt_len, out);
}

int nts_siv_decrypt(const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                    const uint8_t *nonce, size_t nonce_len, const uint8_t *in,
                    size_t in_len, uint8_t *pt) {
  return nts_siv_decrypt_with(NULL, key, ad, ad_len, nonce, nonce_len, in, in_len, pt);
}

/* ---- the request ---- */

/* Appends a field of `type` with body (NULL: zeros) of n bytes, padded to
 * a multiple of 4 and to the RFC 7822 minimum. */
int nts_ef_put(uint8_t *buf, size_t cap, size_t *len, uint16_t type, const uint8_t *body,
               size_t n) {
  size_t flen = 4 + pad4(n);
  if (flen < EF_MIN_LEN) flen = EF_MIN_LEN;
  if (flen > 0xffff || *len > cap || cap - *len < flen) return -1;
  uint8_t *p = buf + *len;
  put16(p, type);
  put16(p + 2, flen);
  memset(p + 4, 0, flen - 4);
  if (body && n) memcpy(p + 4, body, n);
  *len += flen;
  return 0;
}

int nts_placeholders(const struct nts_cookie *cookie, int cookies_left) {
  if (!cookie || cookies_left < 0) return 1;
  int want = NTS_MAX_COOKIES - 1 - cookies_left;
  size_t each = 4 + pad4(cookie->len);
  size_t fixed = NTP_HEADER_LEN + (4 + NTS_UID_LEN) + each +
                 (4 + 4 + NTS_NONCE_LEN + NTS_SIV_TAG_LEN);
  int room = fixed >= NTS_MAX_PACKET ? 0 : (int)((NTS_MAX_PACKET - fixed) / each);
  if (want > room) want = room;
  return want < 1 ? 1 : want;
}

size_t nts_build_request(uint8_t *buf, size_t cap, const uint8_t uid[NTS_UID_LEN],
                         const struct nts_cookie *cookie, int placeholders,
                         const uint8_t c2s[NTS_KEY_LEN], const uint8_t nonce[NTS_NONCE_LEN]) {
  size_t len = NTP_HEADER_LEN;
  if (!buf || cap < len || !cookie || cookie->len < 12 || cookie->len > NTS_MAX_COOKIE_LEN ||
      cookie->len % 4 || placeholders < 1 || placeholders > NTS_MAX_COOKIES)
    return 0;
  if (nts_ef_put(buf, cap, &len, NTS_EF_UID, uid, NTS_UID_LEN) ||
      nts_ef_put(buf, cap, &len, NTS_EF_COOKIE, cookie->data, cookie->len))
    return 0;
  for (int i = 1; i < placeholders; i++)
    if (nts_ef_put(buf, cap, &len, NTS_EF_PLACEHOLDER, NULL, cookie->len)) return 0;
  /* One placeholder travels encrypted: OpenSSL 3.0's AES-SIV cannot
   * encrypt an empty plaintext (openssl#26580), and RFC 8915 §5.7 lets the
   * placeholders ride inside the Authenticator. */
  uint8_t pt[4 + NTS_MAX_COOKIE_LEN];
  size_t pt_len = 0;
  if (nts_ef_put(pt, sizeof pt, &pt_len, NTS_EF_PLACEHOLDER, NULL, cookie->len)) return 0;
  /* Authenticator: nonce length, ciphertext length, nonce, ciphertext. */
  size_t ct_len = NTS_SIV_TAG_LEN + pt_len; /* a multiple of 4: no padding */
  size_t body = 4 + NTS_NONCE_LEN + ct_len;
  size_t ad_len = len;
  if (cap - len < 4 + body) return 0;
  uint8_t *p = buf + len;
  put16(p, NTS_EF_AUTH);
  put16(p + 2, 4 + body);
  put16(p + 4, NTS_NONCE_LEN);
  put16(p + 6, ct_len);
  memcpy(p + 8, nonce, NTS_NONCE_LEN);
  if (nts_siv_encrypt(c2s, buf, ad_len, nonce, NTS_NONCE_LEN, pt, pt_len,
                      p + 8 + NTS_NONCE_LEN) != (int)ct_len)
    return 0;
  return len + 4 + body;
}

/* ---- the response ---- */

/* The next RFC 7822 field at buf[*pos..len): its type, body and body
 * length; -1 for a bad shape. */
int nts_ef_next(const uint8_t *buf, size_t len, size_t *pos, uint16_t *type,
                const uint8_t **body, size_t *n) {
  if (len - *pos < EF_MIN_LEN) return -1;
  size_t flen = get16(buf + *pos + 2);
  if (flen < EF_MIN_LEN || flen % 4 || flen > len - *pos) return -1;
  *type = get16(buf + *pos);
  *body = buf + *pos + 4;
  *n = flen - 4;
  *pos += flen;
  return 0;
}

/* The cookies in the decrypted plaintext (itself a list of fields). */
static enum nts_check take_cookies(const uint8_t *pt, size_t len, struct nts_cookie *cookies,
                                   int max, int *n_cookies) {
  for (size_t pos = 0; pos < len;) {
    uint16_t type;
    const uint8_t *body;
    size_t n;
    if (nts_ef_next(pt, len, &pos, &type, &body, &n)) return NTS_BAD_FIELD;
    if (type != NTS_EF_COOKIE || n > NTS_MAX_COOKIE_LEN || *n_cookies >= max) continue;
    cookies[*n_cookies].len = (uint16_t)n;
    memcpy(cookies[*n_cookies].data, body, n);
    ++*n_cookies;
  }
  return NTS_OK;
}

static enum nts_check check_auth(const uint8_t *buf, size_t auth_off, const uint8_t *body,
                                 size_t n, const uint8_t s2c[NTS_KEY_LEN],
                                 struct nts_cookie *cookies, int max, int *n_cookies) {
  if (n < 4) return NTS_BAD_FIELD;
  size_t nonce_len = get16(body), ct_len = get16(body + 2);
  if (nonce_len == 0 || ct_len < NTS_SIV_TAG_LEN ||
      4 + pad4(nonce_len) + pad4(ct_len) > n)
    return NTS_BAD_FIELD;
  const uint8_t *nonce = body + 4, *ct = body + 4 + pad4(nonce_len);
  uint8_t pt[NTS_MAX_PACKET];
  if (ct_len - NTS_SIV_TAG_LEN > sizeof pt) return NTS_BAD_FIELD;
  int m = nts_siv_decrypt(s2c, buf, auth_off, nonce, nonce_len, ct, ct_len, pt);
  if (m < 0) return NTS_AUTH_FAIL;
  return take_cookies(pt, (size_t)m, cookies, max, n_cookies);
}

enum nts_check nts_check_response(const uint8_t *buf, size_t len,
                                  const uint8_t uid[NTS_UID_LEN],
                                  const uint8_t s2c[NTS_KEY_LEN],
                                  struct nts_cookie *cookies, int max, int *n_cookies) {
  *n_cookies = 0;
  if (!buf || len < NTP_HEADER_LEN || len % 4) return NTS_BAD_FIELD;
  int uids = 0;
  bool ours = false;
  for (size_t pos = NTP_HEADER_LEN; pos < len;) {
    size_t off = pos;
    uint16_t type;
    const uint8_t *body;
    size_t n;
    if (nts_ef_next(buf, len, &pos, &type, &body, &n)) return NTS_BAD_FIELD;
    if (type == NTS_EF_UID) {
      uids++;
      ours = n == NTS_UID_LEN && CRYPTO_memcmp(body, uid, NTS_UID_LEN) == 0;
    } else if (type == NTS_EF_AUTH) {
      if (uids != 1) return NTS_NO_UID;
      if (!ours) return NTS_BAD_UID;
      return check_auth(buf, off, body, n, s2c, cookies, max, n_cookies);
    }
  }
  if (uids != 1) return NTS_NO_UID;
  return ours ? NTS_NO_AUTH : NTS_BAD_UID;
}
