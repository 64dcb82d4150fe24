/* Unit tests for probes/ntp_auth.c: RFC 4493 AES-CMAC vectors, the legacy
 * NTP keyed hashes against independently computed digests, and verify's
 * rejection of flipped bits and truncated digests. */
#include "probes/ntp_auth.h"
#include "tests/unit/unit.h"

/* Parses an even-length hex string into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
  return n;
}

static void tohex(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
  out[2 * n] = '\0';
}

static struct ntp_key make_key(uint32_t id, enum mac_alg alg, const char *k) {
  struct ntp_key key = {.id = id, .alg = alg};
  key.len = strlen(k);
  memcpy(key.key, k, key.len);
  return key;
}

/* RFC 4493 §4 test vectors: message lengths 0, 16, 40 and 64 bytes. */
static void test_rfc4493_vectors(void) {
  static const char msg_hex[] =
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
  static const struct { size_t len; const char *mac; } v[] = {
      {0, "bb1d6929e95937287fa37d129b756746"},
      {16, "070a16b46b4d4144f79bdd9dd04a287c"},
      {40, "dfa66747de9ae63030ca32611497c827"},
      {64, "51f0bebf7e3b9d92fc49741779363cfe"},
  };
  struct ntp_key key = {.id = 1, .alg = MAC_AES128_CMAC};
  uint8_t msg[64], digest[NTP_MAX_DIGEST_LEN];
  char hex[2 * NTP_MAX_DIGEST_LEN + 1];
  key.len = unhex("2b7e151628aed2a6abf7158809cf4f3c", key.key);
  unhex(msg_hex, msg);
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    CHECK_INT(ntp_mac_compute(&key, msg, v[i].len, digest), 16);
    tohex(digest, 16, hex);
    CHECK_STR(hex, v[i].mac);
    uint8_t want[16];
    unhex(v[i].mac, want);
    CHECK(ntp_mac_verify(&key, msg, v[i].len, want, 16));
  }
}

/* Expected digests computed independently at development time with
 *   printf 'vettime-key' > k; printf 'The quick brown fox jumps over the lazy dog' > m
 *   cat k m | openssl dgst -md5      -> 3308d752...
 *   cat k m | openssl dgst -sha1     -> 63507b3b...
 *   printf '0123456789abcdef0123' > k2; 48 bytes of '#' > m2
 *   cat k2 m2 | openssl dgst -md5 / -sha1
 * i.e. H(key || message), the NTP keyed-hash construction. */
static void test_keyed_hashes(void) {
  static const char fox[] = "The quick brown fox jumps over the lazy dog";
  static const struct { enum mac_alg alg; const char *key, *msg, *want; } v[] = {
      {MAC_MD5, "vettime-key", fox, "3308d75204c664d569ff716e84cbb57f"},
      {MAC_SHA1, "vettime-key", fox, "63507b3b0a57de8f0664771f72785c27a9917388"},
      {MAC_MD5, "0123456789abcdef0123", NULL, "57cecd7a380999e8c01aa187286b6b37"},
      {MAC_SHA1, "0123456789abcdef0123", NULL,
       "03283f3f7f572ddd0922b767e8de1a184cabc7b4"},
  };
  uint8_t hashes[48], digest[NTP_MAX_DIGEST_LEN];
  char hex[2 * NTP_MAX_DIGEST_LEN + 1];
  memset(hashes, '#', sizeof hashes);
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    struct ntp_key key = make_key(7, v[i].alg, v[i].key);
    const uint8_t *msg = v[i].msg ? (const uint8_t *)v[i].msg : hashes;
    size_t len = v[i].msg ? strlen(v[i].msg) : sizeof hashes;
    int n = ntp_mac_compute(&key, msg, len, digest);
    CHECK_INT(n, (int)ntp_mac_digest_len(v[i].alg));
    tohex(digest, (size_t)n, hex);
    CHECK_STR(hex, v[i].want);
  }
}

/* verify must reject any change to packet or digest, and short digests. */
static void test_verify_rejects(void) {
  static const enum mac_alg algs[] = {MAC_MD5, MAC_SHA1, MAC_AES128_CMAC};
  uint8_t pkt[48], digest[NTP_MAX_DIGEST_LEN];
  for (size_t i = 0; i < sizeof pkt; i++) pkt[i] = (uint8_t)(i * 7);
  for (size_t a = 0; a < 3; a++) {
    struct ntp_key key = make_key(3, algs[a], "0123456789ABCDEF");
    int n = ntp_mac_compute(&key, pkt, sizeof pkt, digest);
    CHECK_INT(n, (int)ntp_mac_digest_len(algs[a]));
    CHECK(ntp_mac_verify(&key, pkt, sizeof pkt, digest, (size_t)n));
    CHECK(!ntp_mac_verify(&key, pkt, sizeof pkt, digest, (size_t)n - 1));
    CHECK(!ntp_mac_verify(&key, pkt, sizeof pkt, digest, 0));
    digest[5] ^= 0x10;
    CHECK(!ntp_mac_verify(&key, pkt, sizeof pkt, digest, (size_t)n));
    digest[5] ^= 0x10;
    pkt[20] ^= 0x01;
    CHECK(!ntp_mac_verify(&key, pkt, sizeof pkt, digest, (size_t)n));
    pkt[20] ^= 0x01;
    key.key[0] ^= 0x80; /* a different key */
    CHECK(!ntp_mac_verify(&key, pkt, sizeof pkt, digest, (size_t)n));
  }
}

static void test_names_and_bad_keys(void) {
  uint8_t digest[NTP_MAX_DIGEST_LEN];
  CHECK_STR(mac_alg_name(MAC_MD5), "MD5");
  CHECK_STR(mac_alg_name(MAC_SHA1), "SHA1");
  CHECK_STR(mac_alg_name(MAC_AES128_CMAC), "AES128CMAC");
  CHECK_INT(ntp_mac_digest_len(MAC_MD5), 16);
  CHECK_INT(ntp_mac_digest_len(MAC_SHA1), 20);
  CHECK_INT(ntp_mac_digest_len(MAC_AES128_CMAC), 16);
  struct ntp_key bad = make_key(1, MAC_AES128_CMAC, "short");
  CHECK_INT(ntp_mac_compute(&bad, (const uint8_t *)"x", 1, digest), -1);
  CHECK(!ntp_mac_verify(&bad, (const uint8_t *)"x", 1, digest, 16));
  CHECK_INT(ntp_mac_compute(NULL, (const uint8_t *)"x", 1, digest), -1);
}

int main(void) {
  unit_init();
  RUN(test_rfc4493_vectors);
  RUN(test_keyed_hashes);
  RUN(test_verify_rejects);
  RUN(test_names_and_bad_keys);
  return unit_done();
}
