/* NTS extension fields: see nts_ef.h. The SIV calls follow OpenSSL 3's
 * AES-SIV interface: every EVP_CipherUpdate with a NULL output is one
 * associated-data component of the S2V vector (the packet, then the
 * nonce), the one with an output is the plaintext, and the tag is read
 * (encrypt) or set (decrypt) through the AEAD controls. */
#include "probes/nts_ef.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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

/* ---- AEAD_AES_SIV_CMAC_256 ---- */

static int siv_run(EVP_CIPHER *cipher, EVP_CIPHER_CTX *ctx, bool enc,
                   const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                   const uint8_t *nonce, size_t nonce_len, const uint8_t *in, size_t in_len,
                   uint8_t *out, uint8_t tag[NTS_SIV_TAG_LEN]) {
  int n = 0, ok = cipher && ctx && EVP_CipherInit_ex2(ctx, cipher, key, NULL, enc ? 1 : 0, NULL);
  if (ok && !enc)
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, NTS_SIV_TAG_LEN, tag) > 0;
  if (ok) ok = EVP_CipherUpdate(ctx, NULL, &n, ad, (int)ad_len);
  if (ok && nonce_len) ok = EVP_CipherUpdate(ctx, NULL, &n, nonce, (int)nonce_len);
  /* The plaintext step is where SIV computes (encrypt) or checks
   * (decrypt) the tag; OpenSSL 3.0 skips it for an empty plaintext and
   * then fails in Final (openssl#26580), hence in_len >= 1 (siv). */
  uint8_t sink[1];
  int outl = 0;
  if (ok) ok = EVP_CipherUpdate(ctx, out, &outl, in, (int)in_len);
  int fin = 0;
  if (ok) ok = EVP_CipherFinal_ex(ctx, sink, &fin);
  if (ok && enc)
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, NTS_SIV_TAG_LEN, tag) > 0;
  return ok ? (int)in_len : -1;
}

/* OpenSSL's AES-SIV with a cipher and a context of this call's own. */
static int siv(bool enc, const uint8_t key[NTS_KEY_LEN],
               const uint8_t *ad, size_t ad_len, const uint8_t *nonce, size_t nonce_len,
               const uint8_t *in, size_t in_len, uint8_t *out, uint8_t tag[NTS_SIV_TAG_LEN]) {
  if (in_len == 0 || ad_len > INT32_MAX || nonce_len > INT32_MAX || in_len > INT32_MAX) return -1;
  EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "AES-128-SIV", NULL);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int r = siv_run(cipher, ctx, enc, key, ad, ad_len, nonce, nonce_len, in, in_len, out, tag);
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  return r;
}

/* CMAC-AES-128 (OpenSSL's EVP_MAC) of one S2V component. */
static int cmac(const uint8_t k1[16], const uint8_t *in, size_t len, uint8_t out[16]) {
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
  EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
  char cipher[] = "AES-128-CBC";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
                         OSSL_PARAM_construct_end()};
  size_t n = 0;
  int ok = m && EVP_MAC_init(m, k1, 16, params) && EVP_MAC_update(m, in, len) &&
           EVP_MAC_final(m, out, &n, 16) && n == 16;
  EVP_MAC_CTX_free(m);
  EVP_MAC_free(mac);
  return ok ? 0 : -1;
}

static void dbl(uint8_t d[16]) {
  uint8_t carry = d[0] >> 7;
  for (int i = 0; i < 15; i++) d[i] = (uint8_t)(d[i] << 1 | d[i + 1] >> 7);
  d[15] = (uint8_t)(d[15] << 1);
  if (carry) d[15] ^= 0x87;
}

/* The SIV tag of an empty plaintext (RFC 5297 §2.4, S2V with the empty
 * string last: dbl(D) xor pad("")), computed from OpenSSL's CMAC because
 * OpenSSL 3.0's AES-SIV cannot take an empty plaintext (openssl#26580).
 * chrony sends requests whose Authenticator encrypts nothing. */
static int s2v_empty(const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                     const uint8_t *nonce, size_t nonce_len, uint8_t tag[16]) {
  static const uint8_t zero[16];
  uint8_t d[16], t[16];
  if (cmac(key, zero, 16, d) || cmac(key, ad, ad_len, t)) return -1;
  dbl(d);
  for (int i = 0; i < 16; i++) d[i] ^= t[i];
  if (nonce_len) {
    if (cmac(key, nonce, nonce_len, t)) return -1;
    dbl(d);
    for (int i = 0; i < 16; i++) d[i] ^= t[i];
  }
  dbl(d);
  d[0] ^= 0x80;
  return cmac(key, d, 16, tag);
}

/* The NULL-context path: OpenSSL's AES-SIV. */
static int evp_encrypt(const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                       const uint8_t *nonce, size_t nonce_len, const uint8_t *pt, size_t pt_len,
                       uint8_t *out) {
  int n = siv(true, key, ad, ad_len, nonce, nonce_len, pt, pt_len, out + NTS_SIV_TAG_LEN, out);
  return n < 0 ? -1 : n + NTS_SIV_TAG_LEN;
}

static int evp_decrypt(const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                       const uint8_t *nonce, size_t nonce_len, const uint8_t *in, size_t in_len,
                       uint8_t *pt) {
  if (in_len < NTS_SIV_TAG_LEN) return -1;
  if (in_len == NTS_SIV_TAG_LEN) { /* nothing encrypted: the tag alone */
    uint8_t want[NTS_SIV_TAG_LEN];
    if (s2v_empty(key, ad, ad_len, nonce, nonce_len, want)) return -1;
    return CRYPTO_memcmp(want, in, NTS_SIV_TAG_LEN) == 0 ? 0 : -1;
  }
  uint8_t tag[NTS_SIV_TAG_LEN];
  memcpy(tag, in, sizeof tag);
  return siv(false, key, ad, ad_len, nonce, nonce_len, in + NTS_SIV_TAG_LEN,
             in_len - NTS_SIV_TAG_LEN, pt, tag);
}

/* ---- the per-thread path: S2V over OpenSSL's CMAC, CTR over its AES ----
 * OpenSSL 3.0's AES-SIV fetches a CMAC and two ciphers at every key
 * change (ossl_siv128_init): 4 us a message here, and an NTS answer takes
 * five. RFC 5297's construction over the same primitives, kept keyed in
 * the context, takes a fraction of that; test_nts_serve checks it against
 * OpenSSL's AES-SIV bit for bit. */
/* One key's contexts: CMAC under K1 (the key's first half) and AES-CTR
 * under K2 (the second half), and S2V's first step (CMAC(K1, 0)), which
 * depends on the key alone. */
struct siv_keyed {
  EVP_MAC_CTX *cmac;
  EVP_CIPHER_CTX *ctr;
  bool keyed;
  uint8_t key[NTS_KEY_LEN];
  uint8_t d0[16];
  uint64_t used;            /* for the least recently used */
};

/* Two keys kept keyed: the server's current cookie key (every cookie
 * sealed or opened) stays, the sessions' keys take turns in the other
 * slot; re-keying is most of a message's cost. */
#define SIV_SLOTS 2
struct nts_siv_ctx {
  EVP_MAC *mac;
  EVP_CIPHER *ctr;
  struct siv_keyed slot[SIV_SLOTS];
  uint64_t clock;
};

struct nts_siv_ctx *nts_siv_ctx_new(void) {
  struct nts_siv_ctx *c = OPENSSL_zalloc(sizeof *c);
  if (!c) return NULL;
  c->mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
  c->ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
  char cipher[] = "AES-128-CBC";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
                         OSSL_PARAM_construct_end()};
  bool ok = c->mac && c->ctr;
  for (int i = 0; ok && i < SIV_SLOTS; i++) {
    struct siv_keyed *k = &c->slot[i];
    k->cmac = EVP_MAC_CTX_new(c->mac);
    k->ctr = EVP_CIPHER_CTX_new();
    ok = k->cmac && k->ctr && EVP_MAC_CTX_set_params(k->cmac, params) &&
         EVP_EncryptInit_ex2(k->ctr, c->ctr, NULL, NULL, NULL);
  }
  if (!ok) {
    nts_siv_ctx_free(c);
    return NULL;
  }
  return c;
}

void nts_siv_ctx_free(struct nts_siv_ctx *c) {
  if (!c) return;
  for (int i = 0; i < SIV_SLOTS; i++) {
    EVP_MAC_CTX_free(c->slot[i].cmac);
    EVP_CIPHER_CTX_free(c->slot[i].ctr);
  }
  EVP_MAC_free(c->mac);
  EVP_CIPHER_free(c->ctr);
  OPENSSL_cleanse(c, sizeof *c);
  OPENSSL_free(c);
}

/* CMAC under the key the context holds, of a || b (either may be empty). */
static int cmac2(struct siv_keyed *k, const uint8_t *a, size_t a_len, const uint8_t *b,
                 size_t b_len, uint8_t out[16]) {
  size_t n = 0;
  return EVP_MAC_init(k->cmac, NULL, 0, NULL) && (!a_len || EVP_MAC_update(k->cmac, a, a_len)) &&
                 (!b_len || EVP_MAC_update(k->cmac, b, b_len)) &&
                 EVP_MAC_final(k->cmac, out, &n, 16) && n == 16
             ? 0
             : -1;
}

/* The slot keyed with key: one that already is, or the least recently
 * used one, keyed now (CMAC under K1, CTR under K2, CMAC(K1, 0)). NULL
 * when libcrypto fails. */
static struct siv_keyed *keyed(struct nts_siv_ctx *c, const uint8_t key[NTS_KEY_LEN]) {
  static const uint8_t zero[16];
  struct siv_keyed *k = &c->slot[0];
  for (int i = 0; i < SIV_SLOTS; i++) {
    struct siv_keyed *x = &c->slot[i];
    if (x->keyed && CRYPTO_memcmp(x->key, key, NTS_KEY_LEN) == 0) {
      x->used = ++c->clock;
      return x;
    }
    if (x->used < k->used) k = x;
  }
  k->keyed = false;
  if (!EVP_MAC_init(k->cmac, key, 16, NULL) ||
      !EVP_EncryptInit_ex2(k->ctr, NULL, key + 16, NULL, NULL) ||
      cmac2(k, zero, 16, NULL, 0, k->d0))
    return NULL;
  memcpy(k->key, key, NTS_KEY_LEN);
  k->keyed = true;
  k->used = ++c->clock;
  return k;
}

static void xor16(uint8_t *d, const uint8_t *s) {
  for (int i = 0; i < 16; i++) d[i] ^= s[i];
}

/* S2V (RFC 5297 §2.4) over ad, nonce (when nonce_len) and pt, under K1. */
static int s2v(struct siv_keyed *c, const uint8_t *ad, size_t ad_len, const uint8_t *nonce,
               size_t nonce_len, const uint8_t *pt, size_t pt_len, uint8_t v[16]) {
  uint8_t d[16], t[16];
  memcpy(d, c->d0, 16);
  if (cmac2(c, ad, ad_len, NULL, 0, t)) return -1;
  dbl(d);
  xor16(d, t);
  if (nonce_len) {
    if (cmac2(c, nonce, nonce_len, NULL, 0, t)) return -1;
    dbl(d);
    xor16(d, t);
  }
  if (pt_len >= 16) { /* T = pt xorend D */
    memcpy(t, pt + pt_len - 16, 16);
    xor16(t, d);
    return cmac2(c, pt, pt_len - 16, t, 16, v);
  }
  dbl(d); /* T = dbl(D) xor pad(pt) */
  for (size_t i = 0; i < pt_len; i++) d[i] ^= pt[i];
  d[pt_len] ^= 0x80;
  return cmac2(c, d, 16, NULL, 0, v);
}

/* CTR under K2 from the synthetic IV with bits 31 and 63 cleared. */
static int ctr(struct siv_keyed *c, const uint8_t v[16], const uint8_t *in, size_t len,
               uint8_t *out) {
  uint8_t q[16];
  memcpy(q, v, 16);
  q[8] &= 0x7f;
  q[12] &= 0x7f;
  int n = 0;
  if (!EVP_EncryptInit_ex2(c->ctr, NULL, NULL, q, NULL)) return -1; /* the IV alone */
  return len == 0 || (EVP_EncryptUpdate(c->ctr, out, &n, in, (int)len) && n == (int)len)
             ? 0
             : -1;
}

int nts_siv_encrypt_with(struct nts_siv_ctx *c, const uint8_t key[NTS_KEY_LEN],
                         const uint8_t *ad, size_t ad_len, const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *pt, size_t pt_len, uint8_t *out) {
  if (!c) return evp_encrypt(key, ad, ad_len, nonce, nonce_len, pt, pt_len, out);
  struct siv_keyed *k = pt_len > INT32_MAX ? NULL : keyed(c, key);
  uint8_t v[16];
  if (!k || s2v(k, ad, ad_len, nonce, nonce_len, pt, pt_len, v) ||
      ctr(k, v, pt, pt_len, out + NTS_SIV_TAG_LEN))
    return -1;
  memcpy(out, v, 16);
  return (int)pt_len + NTS_SIV_TAG_LEN;
}

int nts_siv_decrypt_with(struct nts_siv_ctx *c, const uint8_t key[NTS_KEY_LEN],
                         const uint8_t *ad, size_t ad_len, const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *in, size_t in_len, uint8_t *pt) {
  if (!c) return evp_decrypt(key, ad, ad_len, nonce, nonce_len, in, in_len, pt);
  if (in_len < NTS_SIV_TAG_LEN || in_len > INT32_MAX) return -1;
  size_t n = in_len - NTS_SIV_TAG_LEN;
  struct siv_keyed *k = keyed(c, key);
  uint8_t v[16];
  if (!k || ctr(k, in, in + NTS_SIV_TAG_LEN, n, pt) ||
      s2v(k, ad, ad_len, nonce, nonce_len, pt, n, v) ||
      CRYPTO_memcmp(v, in, NTS_SIV_TAG_LEN) != 0) {
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
