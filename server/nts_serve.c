/* The NTS server's pure half: see nts_serve.h. RFC 8915 §5.7 (the
 * server's processing) and §6 (the cookie, in chrony's layout). */
#include "server/nts_serve.h"

#include <string.h>

#include <openssl/crypto.h>

#include "probes/ntp_wire.h" /* NTP_HEADER_LEN */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}
static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* ---- cookies ---- */

int nts_cookie_seal(struct nts_siv_ctx *siv, const struct nts_cookie_key *key,
                    const uint8_t nonce[NTS_NONCE_LEN], const uint8_t c2s[NTS_KEY_LEN],
                    const uint8_t s2c[NTS_KEY_LEN], struct nts_cookie *out) {
  uint8_t pt[NTS_COOKIE_PT_LEN];
  put16(pt, NTS_AEAD_AES_SIV_CMAC_256);
  put16(pt + 2, 0);
  memcpy(pt + 4, c2s, NTS_KEY_LEN);
  memcpy(pt + 4 + NTS_KEY_LEN, s2c, NTS_KEY_LEN);
  uint8_t *p = out->data;
  put32(p, key->id);
  memcpy(p + 4, nonce, NTS_NONCE_LEN);
  int n = nts_siv_encrypt_with(siv, key->key, p, 4, nonce, NTS_NONCE_LEN, pt, sizeof pt,
                               p + 4 + NTS_NONCE_LEN);
  OPENSSL_cleanse(pt, sizeof pt);
  if (n != NTS_SIV_TAG_LEN + NTS_COOKIE_PT_LEN) return -1;
  out->len = NTS_COOKIE_LEN;
  return 0;
}

enum nts_cookie_status nts_cookie_open(struct nts_siv_ctx *siv, const struct nts_keyset *ks,
                                       const uint8_t *cookie, size_t len,
                                       uint8_t c2s[NTS_KEY_LEN], uint8_t s2c[NTS_KEY_LEN]) {
  if (len != NTS_COOKIE_LEN) return NTS_COOKIE_BAD;
  uint32_t id = get32(cookie);
  const struct nts_cookie_key *key = NULL;
  for (int i = 0; ks && i < ks->n && i < NTS_COOKIE_KEYS; i++)
    if (ks->k[i].id == id) key = &ks->k[i];
  if (!key) return NTS_COOKIE_UNKNOWN_KEY;
  uint8_t pt[NTS_COOKIE_PT_LEN];
  int n = nts_siv_decrypt_with(siv, key->key, cookie, 4, cookie + 4, NTS_NONCE_LEN,
                               cookie + 4 + NTS_NONCE_LEN, len - 4 - NTS_NONCE_LEN, pt);
  enum nts_cookie_status s = NTS_COOKIE_BAD;
  if (n == NTS_COOKIE_PT_LEN && get16(pt) == NTS_AEAD_AES_SIV_CMAC_256) {
    memcpy(c2s, pt + 4, NTS_KEY_LEN);
    memcpy(s2c, pt + 4 + NTS_KEY_LEN, NTS_KEY_LEN);
    s = NTS_COOKIE_OK;
  }
  OPENSSL_cleanse(pt, sizeof pt);
  return s;
}

/* ---- the request ---- */

/* The fields of a request as found by the walk. */
struct walk {
  int uids, cookies, placeholders, auths;
  bool nts, after_auth;
  const uint8_t *cookie;
  size_t auth_off;
  const uint8_t *auth;
  size_t auth_n;
};

/* One field; the placeholders' lengths are checked once the cookie's is
 * known (it may come after them). */
static void take_field(struct walk *w, struct nts_request *out, size_t off, uint16_t type,
                       const uint8_t *body, size_t n, size_t placeholder_lens[],
                       int *n_lens) {
  if (w->auths) w->after_auth = true;
  switch (type) {
  case NTS_EF_UID:
    if (w->uids++ == 0 && n >= NTS_UID_LEN) {
      out->uid_off = off;
      out->uid_len = 4 + n;
    }
    break;
  case NTS_EF_COOKIE:
    w->nts = true;
    if (w->cookies++ == 0) {
      w->cookie = body;
      out->cookie_len = n;
    }
    break;
  case NTS_EF_PLACEHOLDER:
    if (*n_lens < NTS_MAX_COOKIES) placeholder_lens[(*n_lens)++] = n;
    w->placeholders++;
    break;
  case NTS_EF_AUTH:
    w->nts = true;
    w->after_auth = false;
    if (w->auths++ == 0) {
      w->auth_off = off;
      w->auth = body;
      w->auth_n = n;
    }
    break;
  default:
    break; /* another extension: not ours to judge */
  }
}

/* The placeholders inside the decrypted Authenticator. -1: a bad shape. */
static int inner_placeholders(const uint8_t *pt, size_t len, size_t cookie_len) {
  int k = 0;
  for (size_t pos = 0; pos < len;) {
    uint16_t type;
    const uint8_t *body;
    size_t n;
    if (nts_ef_next(pt, len, &pos, &type, &body, &n)) return -1;
    if (type == NTS_EF_PLACEHOLDER) {
      if (n != cookie_len) return -1;
      k++;
    }
  }
  return k;
}

/* The Authenticator: nonce length, ciphertext length, nonce, ciphertext,
 * verified under c2s over req[0..auth_off). Returns the placeholders
 * inside, or -1 (bad shape) or -2 (does not verify). */
static int check_auth(struct nts_siv_ctx *siv, const uint8_t *req, const struct walk *w,
                      const uint8_t c2s[NTS_KEY_LEN], size_t cookie_len) {
  const uint8_t *b = w->auth;
  size_t nonce_len = get16(b), ct_len = get16(b + 2);
  if (nonce_len < NTS_NONCE_LEN || ct_len < NTS_SIV_TAG_LEN ||
      4 + pad4(nonce_len) + pad4(ct_len) > w->auth_n)
    return -1;
  uint8_t pt[NTS_MAX_PACKET];
  if (ct_len - NTS_SIV_TAG_LEN > sizeof pt) return -1;
  const uint8_t *ct = b + 4 + pad4(nonce_len);
  int m = nts_siv_decrypt_with(siv, c2s, req, w->auth_off, b + 4, nonce_len, ct, ct_len, pt);
  if (m < 0) return -2;
  return inner_placeholders(pt, (size_t)m, cookie_len); /* -1 on a bad shape */
}

enum nts_req_status nts_serve_check(struct nts_siv_ctx *siv, const struct nts_keyset *ks,
                                    const uint8_t *req, size_t len, struct nts_request *out) {
  memset(out, 0, sizeof *out);
  struct walk w;
  memset(&w, 0, sizeof w);
  size_t lens[NTS_MAX_COOKIES];
  int n_lens = 0;
  bool bad_shape = false;
  if (!req || len < NTP_HEADER_LEN) return NTS_REQ_MALFORMED;
  for (size_t pos = NTP_HEADER_LEN; pos < len && !bad_shape;) {
    size_t off = pos;
    uint16_t type;
    const uint8_t *body;
    size_t n;
    if (nts_ef_next(req, len, &pos, &type, &body, &n)) bad_shape = true;
    else take_field(&w, out, off, type, body, n, lens, &n_lens);
  }
  if (!w.nts) return NTS_REQ_NONE;
  if (bad_shape || w.uids != 1 || !out->uid_len || w.cookies != 1 || w.auths != 1 ||
      w.after_auth || w.auth_off < NTP_HEADER_LEN || w.auth_n < 4 ||
      w.placeholders > NTS_MAX_COOKIES)
    return NTS_REQ_MALFORMED;
  for (int i = 0; i < n_lens; i++)
    if (lens[i] != out->cookie_len) return NTS_REQ_MALFORMED;
  enum nts_cookie_status cs = nts_cookie_open(siv, ks, w.cookie, out->cookie_len, out->c2s,
                                              out->s2c);
  if (cs != NTS_COOKIE_OK) {
    out->unknown_key = cs == NTS_COOKIE_UNKNOWN_KEY;
    return NTS_REQ_NAK;
  }
  int inner = check_auth(siv, req, &w, out->c2s, out->cookie_len);
  if (inner == -1) return NTS_REQ_MALFORMED;
  if (inner == -2) return NTS_REQ_NAK;
  out->wanted = 1 + w.placeholders + inner;
  if (out->wanted > NTS_MAX_COOKIES) out->wanted = NTS_MAX_COOKIES;
  return NTS_REQ_OK;
}

/* ---- the answer ---- */

static size_t put_uid(const uint8_t *req, const struct nts_request *r, uint8_t *out,
                      size_t cap) {
  size_t len = NTP_HEADER_LEN;
  if (!r->uid_len || cap < len + r->uid_len) return 0;
  memcpy(out + len, req + r->uid_off, r->uid_len);
  return len + r->uid_len;
}

size_t nts_serve_nak(const uint8_t *req, const struct nts_request *r, uint8_t *out, size_t cap) {
  return put_uid(req, r, out, cap);
}

size_t nts_serve_answer(struct nts_siv_ctx *siv, const struct nts_keyset *ks,
                        const uint8_t *req, const struct nts_request *r, uint8_t *out,
                        size_t cap, size_t max_len, const uint8_t rnd[NTS_SERVE_RANDOM],
                        bool seal_now, struct nts_seal *seal) {
  memset(seal, 0, sizeof *seal);
  size_t len = put_uid(req, r, out, cap);
  if (!len || !ks || ks->n < 1) return 0;
  if (max_len > cap) max_len = cap;
  const size_t each = 4 + NTS_COOKIE_LEN;
  const size_t fixed = 4 + 4 + NTS_NONCE_LEN + NTS_SIV_TAG_LEN;
  int n = r->wanted;
  while (n > 0 && len + fixed + (size_t)n * each > max_len) n--;
  if (n < 1) return 0; /* an empty plaintext cannot be sealed (nts_ef.h) */
  uint8_t *a = out + len;
  size_t pt_off = len + fixed, pt_len = 0;
  for (int i = 0; i < n; i++) {
    struct nts_cookie c;
    if (nts_cookie_seal(siv, &ks->k[0], rnd + NTS_NONCE_LEN * (i + 1), r->c2s, r->s2c, &c) ||
        nts_ef_put(out + pt_off, cap - pt_off, &pt_len, NTS_EF_COOKIE, c.data, c.len))
      return 0;
  }
  put16(a, NTS_EF_AUTH);
  put16(a + 2, fixed + pt_len);
  put16(a + 4, NTS_NONCE_LEN);
  put16(a + 6, NTS_SIV_TAG_LEN + pt_len);
  memcpy(a + 8, rnd, NTS_NONCE_LEN);
  memset(a + 8 + NTS_NONCE_LEN, 0, NTS_SIV_TAG_LEN);
  seal->pending = true;
  seal->auth_off = len;
  seal->pt_len = pt_len;
  memcpy(seal->s2c, r->s2c, NTS_KEY_LEN);
  memcpy(seal->nonce, rnd, NTS_NONCE_LEN);
  if (seal_now && nts_serve_seal(siv, out, seal)) return 0;
  return pt_off + pt_len;
}

int nts_serve_seal(struct nts_siv_ctx *siv, uint8_t *out, struct nts_seal *seal) {
  if (!seal->pending) return -1;
  uint8_t pt[NTS_MAX_PACKET];
  size_t ct_off = seal->auth_off + 8 + NTS_NONCE_LEN;
  if (seal->pt_len > sizeof pt) return -1;
  memcpy(pt, out + ct_off + NTS_SIV_TAG_LEN, seal->pt_len);
  int n = nts_siv_encrypt_with(siv, seal->s2c, out, seal->auth_off, seal->nonce, NTS_NONCE_LEN,
                               pt, seal->pt_len, out + ct_off);
  seal->pending = false;
  return n == (int)(NTS_SIV_TAG_LEN + seal->pt_len) ? 0 : -1;
}
