/* libFuzzer target: the NTS extension fields of a response
 * (probes/nts_ef.c). Two ways in: the input as a whole datagram (what an
 * attacker on the path can send: it must never verify, since it cannot
 * know the key), and the input as the plaintext of a response built and
 * sealed here with the right key and unique identifier, so that the
 * decrypted fields (the new cookies) are fuzzed too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/nts_ef.h"
#include "probes/ntp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t s2c[NTS_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t uid[NTS_UID_LEN] = {0x55, 0xaa, 0x55, 0xaa};

static void put16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct nts_cookie got[NTS_MAX_COOKIES];
  int n;
  /* 1. Arbitrary datagrams: parsed, never authenticated. */
  if (nts_check_response(data, size, uid, s2c, got, NTS_MAX_COOKIES, &n) == NTS_OK) abort();

  /* 2. A sealed response whose plaintext is the input (4-byte aligned). */
  size_t pt_len = size & ~(size_t)3;
  if (pt_len > 700) pt_len = 700;
  static uint8_t pkt[NTS_MAX_PACKET + 64];
  memset(pkt, 0, NTP_HEADER_LEN);
  pkt[0] = 0x24;
  size_t pos = NTP_HEADER_LEN;
  put16(pkt + pos, NTS_EF_UID);
  put16(pkt + pos + 2, 4 + NTS_UID_LEN);
  memcpy(pkt + pos + 4, uid, NTS_UID_LEN);
  pos += 4 + NTS_UID_LEN;
  uint8_t nonce[NTS_NONCE_LEN] = {7};
  size_t ct_len = NTS_SIV_TAG_LEN + pt_len;
  put16(pkt + pos, NTS_EF_AUTH);
  put16(pkt + pos + 2, 4 + 4 + NTS_NONCE_LEN + ct_len);
  put16(pkt + pos + 4, NTS_NONCE_LEN);
  put16(pkt + pos + 6, ct_len);
  memcpy(pkt + pos + 8, nonce, NTS_NONCE_LEN);
  if (pt_len == 0) return 0; /* OpenSSL 3.0's SIV cannot seal nothing */
  if (nts_siv_encrypt(s2c, pkt, pos, nonce, NTS_NONCE_LEN, data, pt_len,
                      pkt + pos + 8 + NTS_NONCE_LEN) != (int)ct_len)
    abort();
  size_t len = pos + 8 + NTS_NONCE_LEN + ct_len;
  enum nts_check c = nts_check_response(pkt, len, uid, s2c, got, NTS_MAX_COOKIES, &n);
  if (c != NTS_OK && c != NTS_BAD_FIELD) abort(); /* sealed right: only the plaintext can be bad */
  if (c == NTS_OK)
    for (int i = 0; i < n; i++)
      if (got[i].len > NTS_MAX_COOKIE_LEN) abort();
  /* One bit flipped in the sealed part: never accepted. */
  pkt[len - 1 - (size % 16)] ^= 0x10;
  if (nts_check_response(pkt, len, uid, s2c, got, NTS_MAX_COOKIES, &n) == NTS_OK) abort();
  return 0;
}
