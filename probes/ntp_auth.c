/* NTP symmetric-key MACs: see ntp_auth.h. Implements the keyed hashes of
 * RFC 5905 (MD5) and their SHA1 variant as ntpd/NTPsec/chrony do them, and
 * AES-128-CMAC (RFC 4493) as RFC 8573 specifies it for NTP, through
 * OpenSSL 3's EVP interfaces. */
#include "probes/ntp_auth.h"

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

const char *mac_alg_name(enum mac_alg alg) {
  switch (alg) {
  case MAC_MD5: return "MD5";
  case MAC_SHA1: return "SHA1";
  case MAC_AES128_CMAC: return "AES128CMAC";
  }
  return "?";
}

size_t ntp_mac_digest_len(enum mac_alg alg) {
  switch (alg) {
  case MAC_MD5: return 16;
  case MAC_SHA1: return 20;
  case MAC_AES128_CMAC: return 16;
  }
  return 0;
}

/* A thread's reusable contexts: the algorithms fetched once (a fetch
 * takes OpenSSL's provider-store lock) and the contexts re-initialised per
 * message instead of allocated (see ntp_auth.h). */
struct ntp_mac_ctx {
  EVP_MD *md5, *sha1;
  EVP_MD_CTX *md;
  EVP_MAC *cmac;
  EVP_MAC_CTX *mac;
};

struct ntp_mac_ctx *ntp_mac_ctx_new(void) {
  struct ntp_mac_ctx *c = OPENSSL_zalloc(sizeof *c);
  if (!c) return NULL;
  c->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
  c->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
  c->md = EVP_MD_CTX_new();
  c->cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
  c->mac = c->cmac ? EVP_MAC_CTX_new(c->cmac) : NULL;
  if (!c->md5 || !c->sha1 || !c->md || !c->mac) {
    ntp_mac_ctx_free(c);
    return NULL;
  }
  return c;
}

void ntp_mac_ctx_free(struct ntp_mac_ctx *c) {
  if (!c) return;
  EVP_MD_free(c->md5);
  EVP_MD_free(c->sha1);
  EVP_MD_CTX_free(c->md);
  EVP_MAC_CTX_free(c->mac);
  EVP_MAC_free(c->cmac);
  OPENSSL_free(c);
}

/* H(key || data): the legacy NTP construction. It is not HMAC, but it is
 * what every NTP implementation puts on the wire, so we must match it. */
static int keyed_hash(EVP_MD_CTX *reuse, const EVP_MD *md, const struct ntp_key *key,
                      const uint8_t *data, size_t len, uint8_t *digest) {
  EVP_MD_CTX *ctx = reuse ? reuse : EVP_MD_CTX_new();
  unsigned int n = 0;
  int ok = ctx && EVP_DigestInit_ex2(ctx, md, NULL) &&
           EVP_DigestUpdate(ctx, key->key, key->len) &&
           EVP_DigestUpdate(ctx, data, len) &&
           EVP_DigestFinal_ex(ctx, digest, &n);
  if (!reuse) EVP_MD_CTX_free(ctx);
  return ok ? (int)n : -1;
}

/* AES-128-CMAC through EVP_MAC (OpenSSL 3); the low-level CMAC_* calls are
 * deprecated there. */
static int aes_cmac(EVP_MAC_CTX *reuse, const struct ntp_key *key, const uint8_t *data,
                    size_t len, uint8_t *digest) {
  char cipher[] = "AES-128-CBC";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
      OSSL_PARAM_construct_end(),
  };
  EVP_MAC *mac = reuse ? NULL : EVP_MAC_fetch(NULL, "CMAC", NULL);
  EVP_MAC_CTX *ctx = reuse ? reuse : mac ? EVP_MAC_CTX_new(mac) : NULL;
  size_t n = 0;
  int ok = ctx && EVP_MAC_init(ctx, key->key, key->len, params) &&
           EVP_MAC_update(ctx, data, len) &&
           EVP_MAC_final(ctx, digest, &n, NTP_MAX_DIGEST_LEN);
  if (!reuse) {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
  return ok && n == 16 ? (int)n : -1;
}

int ntp_mac_compute_with(struct ntp_mac_ctx *c, const struct ntp_key *key, const uint8_t *data,
                         size_t len, uint8_t digest[NTP_MAX_DIGEST_LEN]) {
  if (!key || key->len > NTP_MAX_KEY_LEN || (!data && len > 0)) return -1;
  switch (key->alg) {
  case MAC_MD5: return keyed_hash(c ? c->md : NULL, c ? c->md5 : EVP_md5(), key, data, len, digest);
  case MAC_SHA1: return keyed_hash(c ? c->md : NULL, c ? c->sha1 : EVP_sha1(), key, data, len, digest);
  case MAC_AES128_CMAC:
    if (key->len != 16) return -1;
    return aes_cmac(c ? c->mac : NULL, key, data, len, digest);
  }
  return -1;
}

int ntp_mac_compute(const struct ntp_key *key, const uint8_t *data, size_t len,
                    uint8_t digest[NTP_MAX_DIGEST_LEN]) {
  return ntp_mac_compute_with(NULL, key, data, len, digest);
}

bool ntp_mac_verify_with(struct ntp_mac_ctx *c, const struct ntp_key *key, const uint8_t *data,
                         size_t len, const uint8_t *digest, size_t digest_len) {
  uint8_t want[NTP_MAX_DIGEST_LEN];
  int n = ntp_mac_compute_with(c, key, data, len, want);
  if (n < 0 || !digest || digest_len != (size_t)n) return false;
  return CRYPTO_memcmp(want, digest, digest_len) == 0;
}

bool ntp_mac_verify(const struct ntp_key *key, const uint8_t *data, size_t len,
                    const uint8_t *digest, size_t digest_len) {
  return ntp_mac_verify_with(NULL, key, data, len, digest, digest_len);
}
