/* NTS extension fields for NTPv4 (RFC 8915 §5): the client's request
 * fields and the check of the server's response, with
 * AEAD_AES_SIV_CMAC_256 (RFC 5297) through OpenSSL 3's EVP ("AES-128-SIV":
 * no hand-written crypto). Pure code over bytes: no I/O, no clock reads, no
 * randomness (the caller supplies the unique identifier and the nonce), no
 * globals.
 *
 * A request is the 48-byte header, then Unique Identifier, NTS Cookie,
 * Cookie Placeholders (each as long as the cookie), and the NTS
 * Authenticator and Encrypted Extension Fields field, which authenticates
 * everything before it under the client-to-server key and carries one
 * more placeholder encrypted (OpenSSL 3.0's AES-SIV refuses an empty
 * plaintext, so the plaintext is never empty).
 *
 * A response is accepted when its fields are well formed (RFC 7822 shape),
 * exactly one Unique Identifier is ours, an Authenticator follows it, and
 * the SIV tag verifies under the server-to-client key over everything
 * before the Authenticator. The new cookies are the NTS Cookie fields of
 * the decrypted plaintext. Fields after the Authenticator are not
 * authenticated and are ignored. */
#ifndef VT_NTS_EF_H
#define VT_NTS_EF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/nts_ke.h"

#define NTS_EF_UID 0x0104
#define NTS_EF_COOKIE 0x0204
#define NTS_EF_PLACEHOLDER 0x0304
#define NTS_EF_AUTH 0x0404

#define NTS_UID_LEN 32
#define NTS_NONCE_LEN 16
#define NTS_SIV_TAG_LEN 16
/* The largest request the client builds (and so the largest response a
 * well-behaved server sends back). */
#define NTS_MAX_PACKET 1024

/* AEAD_AES_SIV_CMAC_256 (RFC 5297 with a nonce, RFC 5116 interface;
 * Nettle's SIV-CMAC): out = tag (16 bytes) || ciphertext (pt_len bytes,
 * 0 allowed), over the associated data ad and the nonce (at least 1
 * byte: NTS always has one). Returns the output length (pt_len + 16), or
 * -1. */
int nts_siv_encrypt(const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                    const uint8_t *nonce, size_t nonce_len, const uint8_t *pt,
                    size_t pt_len, uint8_t *out);
/* The reverse: in = tag || ciphertext (in_len >= 16; 16 is an empty
 * plaintext, as chrony's requests carry); pt receives in_len - 16 bytes.
 * Returns that length, or -1 when the tag does not verify. */
int nts_siv_decrypt(const uint8_t key[NTS_KEY_LEN], const uint8_t *ad, size_t ad_len,
                    const uint8_t *nonce, size_t nonce_len, const uint8_t *in,
                    size_t in_len, uint8_t *pt);

/* The same with the last two keys' schedules kept (a server thread's: no
 * allocation and no key setup per message for its cookie key). NULL from
 * nts_siv_ctx_new: no memory; a NULL ctx works as the calls above. */
struct nts_siv_ctx;
struct nts_siv_ctx *nts_siv_ctx_new(void);
void nts_siv_ctx_free(struct nts_siv_ctx *c);
int nts_siv_encrypt_with(struct nts_siv_ctx *c, const uint8_t key[NTS_KEY_LEN],
                         const uint8_t *ad, size_t ad_len, const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *pt, size_t pt_len, uint8_t *out);
int nts_siv_decrypt_with(struct nts_siv_ctx *c, const uint8_t key[NTS_KEY_LEN],
                         const uint8_t *ad, size_t ad_len, const uint8_t *nonce,
                         size_t nonce_len, const uint8_t *in, size_t in_len, uint8_t *pt);

/* One RFC 7822 extension field at buf[*pos..len): its type, body and body
 * length, *pos moved past it; -1 for a bad shape (shorter than 16 bytes,
 * a length not a multiple of 4, or past len). Shared by the client's
 * response check and the server's request parser (server/nts_serve.c). */
int nts_ef_next(const uint8_t *buf, size_t len, size_t *pos, uint16_t *type,
                const uint8_t **body, size_t *n);
/* Appends a field of `type` with body (NULL: zeros) of n bytes, padded to
 * a multiple of 4 and to the RFC 7822 minimum of 16. Returns 0, or -1
 * when it does not fit in cap. */
int nts_ef_put(uint8_t *buf, size_t cap, size_t *len, uint16_t type, const uint8_t *body,
               size_t n);

/* Appends the NTS fields of a request to buf, which holds the 48-byte
 * header: the unique identifier, the cookie (12..256 bytes, a multiple of
 * 4), placeholders - 1 placeholders in the clear and the authenticator
 * (nonce, c2s) with the last placeholder encrypted; placeholders is
 * 1..NTS_MAX_COOKIES. Returns the packet's length, or 0 when the cookie or
 * count is out of bounds, the packet would exceed cap, or encryption
 * fails. */
size_t nts_build_request(uint8_t *buf, size_t cap, const uint8_t uid[NTS_UID_LEN],
                         const struct nts_cookie *cookie, int placeholders,
                         const uint8_t c2s[NTS_KEY_LEN], const uint8_t nonce[NTS_NONCE_LEN]);

/* How many placeholders a request carries with `cookies_left` cookies kept
 * after this one is used: enough to get back to NTS_MAX_COOKIES within
 * NTS_MAX_PACKET, and at least 1 (see above). */
int nts_placeholders(const struct nts_cookie *cookie, int cookies_left);

enum nts_check {
  NTS_OK = 0,
  NTS_BAD_FIELD,     /* extension fields of a bad shape or length */
  NTS_NO_UID,        /* no Unique Identifier, or more than one */
  NTS_BAD_UID,       /* a Unique Identifier that is not ours */
  NTS_NO_AUTH,       /* ours, but no Authenticator (e.g. an NTS NAK) */
  NTS_AUTH_FAIL,     /* the Authenticator does not verify */
  NTS_CHECK_COUNT
};
/* "ok", "bad-field", "no-uid", "bad-uid", "no-auth", "auth-fail". */
const char *nts_check_name(enum nts_check c);

/* Checks the NTS fields of the response buf[0..len) (len >= 48). On
 * NTS_OK the new cookies (at most max) are in cookies and their number in
 * *n_cookies. */
enum nts_check nts_check_response(const uint8_t *buf, size_t len,
                                  const uint8_t uid[NTS_UID_LEN],
                                  const uint8_t s2c[NTS_KEY_LEN],
                                  struct nts_cookie *cookies, int max, int *n_cookies);

#endif
