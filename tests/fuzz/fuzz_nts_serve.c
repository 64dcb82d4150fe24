/* libFuzzer target: the NTS path of the NTP server's responder
 * (server/ntp_respond.c -> server/nts_serve.c) over arbitrary datagrams,
 * with a keyset of two cookie keys. Two shapes per input: the input as the
 * whole datagram, and the input behind a valid prefix (a header, a unique
 * identifier and a cookie that opens) so that the Authenticator and the
 * placeholders are reached. Checks what a fuzzer can see: a response is
 * never longer than its request, a NAK is a header and the unique
 * identifier, a sealed answer passes the client's check only with its
 * keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/ntp_respond.h"
#include "server/nts_serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nts_keyset ks;
static struct nts_siv_ctx *siv; /* a server thread's, for every other call */
static struct nts_cookie cookie;
static const uint8_t c2s[NTS_KEY_LEN] = {1}, s2c[NTS_KEY_LEN] = {2};

static int fake_random(uint8_t *buf, size_t n) {
  memset(buf, 0x3c, n);
  return 0;
}

static void setup(void) {
  if (ks.n) return;
  ks.n = 2;
  ks.k[0].id = 0x01020304;
  memset(ks.k[0].key, 0x11, NTS_KEY_LEN);
  ks.k[1].id = 0x05060708;
  memset(ks.k[1].key, 0x22, NTS_KEY_LEN);
  static const uint8_t nonce[NTS_NONCE_LEN] = {9};
  if (nts_cookie_seal(NULL, &ks.k[0], nonce, c2s, s2c, &cookie)) abort();
  siv = nts_siv_ctx_new();
}

static void one(const uint8_t *req, size_t len, int later) {
  struct served_time st = {.unix_ns = 1700000000000000000, .error = 1e-4, .stratum = 2,
                           .refid = 0x47505300};
  struct respond_params p = {.served = &st, .receive = 1, .transmit = 2, .precision = -24,
                             .nts_keys = &ks, .nts_random = fake_random,
                             .nts_seal_later = later, .siv = later ? siv : NULL};
  static uint8_t out[NTP_RESPONSE_MAX];
  struct respond_info info;
  enum respond_result r = ntp_respond(req, len, &p, out, sizeof out, &info);
  if (info.len > len || (respond_sends(r) && info.len < NTP_HEADER_LEN)) abort();
  if (r == RESP_NTS_NAK && info.len < NTP_HEADER_LEN + 4 + 32) abort();
  if (respond_sends(r)) ntp_respond_restamp(out, &info, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  one(data, size, size & 1);
  /* behind a valid prefix */
  static uint8_t req[2048];
  size_t n = NTP_HEADER_LEN;
  memset(req, 0, n);
  req[0] = 0x23;
  static const uint8_t uid[4 + 32] = {0x01, 0x04, 0x00, 36};
  memcpy(req + n, uid, sizeof uid);
  n += sizeof uid;
  req[n] = 0x02;
  req[n + 1] = 0x04;
  req[n + 2] = (uint8_t)((4 + cookie.len) >> 8);
  req[n + 3] = (uint8_t)(4 + cookie.len);
  memcpy(req + n + 4, cookie.data, cookie.len);
  n += 4 + cookie.len;
  if (size > sizeof req - n) size = sizeof req - n;
  memcpy(req + n, data, size);
  one(req, n + size, 0);
  return 0;
}
