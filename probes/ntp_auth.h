/* NTP symmetric-key message authentication (RFC 5905 §7.3 MAC field,
 * RFC 8573 AES-128-CMAC, RFC 4493 AES-CMAC). MD5 and SHA1 are the legacy
 * keyed hashes digest = H(key || packet) exactly as ntpd, NTPsec and chrony
 * compute them, so vettime interoperates with their key files; AES-128-CMAC
 * is the MAC RFC 8573 recommends. Pure functions over bytes (libcrypto EVP),
 * no I/O and no state (a server thread may keep its own reusable contexts:
 * struct ntp_mac_ctx below). */
#ifndef VT_NTP_AUTH_H
#define VT_NTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mac_alg { MAC_MD5, MAC_SHA1, MAC_AES128_CMAC };

#define NTP_MAX_KEY_LEN 64
#define NTP_MAX_DIGEST_LEN 20

/* One symmetric key as the key file gives it. len bytes of key[] are used;
 * an AES-128-CMAC key is exactly 16 bytes. */
struct ntp_key {
  uint32_t id;
  enum mac_alg alg;
  uint8_t key[NTP_MAX_KEY_LEN];
  size_t len;
};

/* "MD5", "SHA1" or "AES128CMAC"; "?" for a value outside the enum. */
const char *mac_alg_name(enum mac_alg alg);

/* Digest length in bytes: 16 (MD5), 20 (SHA1), 16 (AES-128-CMAC); 0 for a
 * value outside the enum. The MAC on the wire is 4 bytes of key id plus
 * this. */
size_t ntp_mac_digest_len(enum mac_alg alg);

/* Computes the digest of data[0..len) under key into digest. Returns the
 * digest length, or -1 if the key is unusable (bad algorithm, a CMAC key
 * that is not 16 bytes, len > NTP_MAX_KEY_LEN) or libcrypto fails. */
int ntp_mac_compute(const struct ntp_key *key, const uint8_t *data, size_t len,
                    uint8_t digest[NTP_MAX_DIGEST_LEN]);

/* True when digest[0..digest_len) is the digest of data[0..len) under key.
 * A digest of the wrong length (e.g. truncated) is false. The comparison is
 * constant-time (CRYPTO_memcmp) so a forger learns nothing from timing. */
bool ntp_mac_verify(const struct ntp_key *key, const uint8_t *data, size_t len,
                    const uint8_t *digest, size_t digest_len);

/* A reusable MAC context for one thread (the NTP server's): the
 * algorithms fetched once and the contexts re-initialised for each message,
 * so that a signed answer costs no allocation and no lock of OpenSSL's
 * provider store. Not thread-safe: one per thread. NULL when libcrypto
 * lacks an algorithm or memory. */
struct ntp_mac_ctx;
struct ntp_mac_ctx *ntp_mac_ctx_new(void);
void ntp_mac_ctx_free(struct ntp_mac_ctx *c);
/* ntp_mac_compute and ntp_mac_verify through c (NULL: as they are). */
int ntp_mac_compute_with(struct ntp_mac_ctx *c, const struct ntp_key *key, const uint8_t *data,
                         size_t len, uint8_t digest[NTP_MAX_DIGEST_LEN]);
bool ntp_mac_verify_with(struct ntp_mac_ctx *c, const struct ntp_key *key, const uint8_t *data,
                         size_t len, const uint8_t *digest, size_t digest_len);

#endif
