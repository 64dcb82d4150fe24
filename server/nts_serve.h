/* The NTS server's pure half (RFC 8915 §5 and §6): cookies sealed under
 * the server's cookie keys, and the NTS extension fields of a client's
 * request checked and answered. Pure: bytes, keys and random bytes in,
 * bytes out; no I/O, no clock reads, no globals, no allocation (the SIV
 * calls go through the caller's struct nts_siv_ctx, probes/nts_ef.h).
 * server/ntp_respond.c calls it for a request that carries NTS fields;
 * server/nts_ke_server.c makes the cookies of an NTS-KE exchange with it.
 *
 * A cookie (chrony's layout, docs/design.md "NTS server"):
 *   key id (4) | nonce (16) | AES-SIV(cookie key, AD = key id, nonce,
 *                                     AEAD id (2) | 0 (2) | C2S (32) | S2C (32))
 * = 4 + 16 + 16 (tag) + 68 = 104 bytes. The key id names one of the
 * keyset's keys; an unknown id (rotated out, or a server restarted without
 * its key file) or a tag that does not verify is an NTS NAK.
 *
 * A request is NTS when it carries an NTS Cookie or an NTS Authenticator
 * field. It is answered when: exactly one Unique Identifier (>= 32 bytes),
 * exactly one Cookie, every Cookie Placeholder as long as the cookie, the
 * Authenticator last (no field after it), its nonce >= 16 bytes, the
 * cookie opens, and the Authenticator verifies under the cookie's C2S key
 * over everything before it. Placeholders inside the encrypted part count
 * too (vettime's client sends one there). The answer: the server's
 * header, the Unique Identifier field verbatim, and an Authenticator
 * under S2C encrypting one new cookie per cookie and placeholder received
 * (at most NTS_MAX_COOKIES, and fewer if the answer would be longer than
 * the request). */
#ifndef VT_NTS_SERVE_H
#define VT_NTS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/nts_ef.h"
#include "probes/nts_ke.h"

#define NTS_COOKIE_KEYS 3          /* the current key and two before it */
#define NTS_COOKIE_PT_LEN 68       /* AEAD id, reserved, C2S, S2C */
#define NTS_COOKIE_LEN (4 + NTS_NONCE_LEN + NTS_SIV_TAG_LEN + NTS_COOKIE_PT_LEN)
/* Random bytes one answer needs: a nonce per cookie and the
 * Authenticator's. */
#define NTS_SERVE_RANDOM (NTS_NONCE_LEN * (NTS_MAX_COOKIES + 1))

struct nts_cookie_key {
  uint32_t id;
  uint8_t key[NTS_KEY_LEN];
  int64_t created;                 /* unix seconds, for the rotation */
};

/* The cookie keys, newest first: k[0] seals, all open. A plain value. */
struct nts_keyset {
  struct nts_cookie_key k[NTS_COOKIE_KEYS];
  int n;
};

/* Seals c2s and s2c into a cookie under key with nonce. Returns 0, or -1
 * when libcrypto fails. */
int nts_cookie_seal(struct nts_siv_ctx *siv, const struct nts_cookie_key *key,
                    const uint8_t nonce[NTS_NONCE_LEN], const uint8_t c2s[NTS_KEY_LEN],
                    const uint8_t s2c[NTS_KEY_LEN], struct nts_cookie *out);

enum nts_cookie_status { NTS_COOKIE_OK = 0, NTS_COOKIE_UNKNOWN_KEY, NTS_COOKIE_BAD };

/* Opens a cookie: the key its id names in ks, then the tag; and the AEAD
 * id must be 15. */
enum nts_cookie_status nts_cookie_open(struct nts_siv_ctx *siv, const struct nts_keyset *ks,
                                       const uint8_t *cookie, size_t len,
                                       uint8_t c2s[NTS_KEY_LEN], uint8_t s2c[NTS_KEY_LEN]);

enum nts_req_status {
  NTS_REQ_NONE = 0,     /* no NTS fields: a plain NTP request */
  NTS_REQ_OK,           /* authenticated: answer with nts_serve_answer */
  NTS_REQ_NAK,          /* cookie key unknown, cookie or Authenticator bad:
                           an NTS NAK (nts_serve_nak) */
  NTS_REQ_MALFORMED,    /* NTS fields of a bad shape: dropped */
};

/* What nts_serve_check learnt of a request. */
struct nts_request {
  size_t uid_off, uid_len;  /* the Unique Identifier field, whole (0: none) */
  size_t cookie_len;        /* the cookie's body length */
  int wanted;               /* cookies to send back: 1 + placeholders */
  bool unknown_key;         /* NAK because of the cookie's key id */
  uint8_t c2s[NTS_KEY_LEN], s2c[NTS_KEY_LEN];
};

/* Checks the NTS fields of req[0..len) (len >= 48, the header already
 * checked by the caller). On NTS_REQ_NAK, out->uid_* is set (the NAK
 * echoes it; a request without one is NTS_REQ_MALFORMED). */
enum nts_req_status nts_serve_check(struct nts_siv_ctx *siv, const struct nts_keyset *ks,
                                    const uint8_t *req, size_t len, struct nts_request *out);

/* An answer waiting for its Authenticator to be computed (after the
 * transmit timestamp is set: the Authenticator covers the header). */
struct nts_seal {
  bool pending;             /* the plaintext is in place, not yet sealed */
  size_t auth_off;          /* where the Authenticator field starts */
  size_t pt_len;            /* the plaintext (cookie fields) length */
  uint8_t s2c[NTS_KEY_LEN];
  uint8_t nonce[NTS_NONCE_LEN];
};

/* Appends to out (the 48-byte response header already in out[0..48)) the
 * Unique Identifier field of req and an Authenticator carrying new cookies
 * sealed under ks->k[0] for r's keys, no longer in all than max_len.
 * rnd holds NTS_SERVE_RANDOM random bytes. With seal_now false the
 * Authenticator is left for nts_serve_seal (seal->pending). Returns the
 * response's length, or 0 when it cannot be built (no key, no room,
 * libcrypto). */
size_t nts_serve_answer(struct nts_siv_ctx *siv, const struct nts_keyset *ks,
                        const uint8_t *req, const struct nts_request *r, uint8_t *out,
                        size_t cap, size_t max_len, const uint8_t rnd[NTS_SERVE_RANDOM],
                        bool seal_now, struct nts_seal *seal);

/* Computes the pending Authenticator of out (over out[0..auth_off)).
 * Returns 0, or -1 (nothing pending, or libcrypto failed). */
int nts_serve_seal(struct nts_siv_ctx *siv, uint8_t *out, struct nts_seal *seal);

/* The NTS NAK's fields after a KoD header in out[0..48): the Unique
 * Identifier field of req. Returns the length (48 + the field), or 0. */
size_t nts_serve_nak(const uint8_t *req, const struct nts_request *r, uint8_t *out, size_t cap);

#endif
