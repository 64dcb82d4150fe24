/* libFuzzer target: the NTP server's responder (server/ntp_respond.c) over
 * arbitrary datagrams, with a key file of the three key kinds, each rate
 * limiter verdict and a refusing clock. Checks the one promise a fuzzer can
 * see: a response is never longer than its request (an amplifier). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/ntp_respond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ntp_key keys[3] = {
    {.id = 1, .alg = MAC_MD5, .key = "0123456789abcdef", .len = 16},
    {.id = 2, .alg = MAC_SHA1, .key = "0123456789abcdef0123", .len = 20},
    {.id = 3, .alg = MAC_AES128_CMAC, .key = "0123456789abcdef", .len = 16},
};

static const struct ntp_key *lookup(const void *ctx, uint32_t id) {
  (void)ctx;
  return id >= 1 && id <= 3 ? &keys[id - 1] : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (int v = 0; v < 6; v++) {
    struct served_time st = {.refusing = v == 5, .unix_ns = 1700000000000000000, .error = 1e-4,
                             .stratum = 2, .leap = 0, .refid = 0x47505300};
    struct respond_params p = {.served = &st, .receive = 1, .transmit = 2, .reference = 3,
                               .precision = -24, .key_lookup = v == 4 ? NULL : lookup,
                               .limit = (enum respond_limit)(v % 3)};
    uint8_t out[NTP_RESPONSE_MAX];
    struct respond_info info;
    enum respond_result r = ntp_respond(data, size, &p, out, sizeof out, &info);
    if (info.len > size || (respond_sends(r) && info.len < NTP_HEADER_LEN)) abort();
    if (respond_sends(r)) ntp_respond_restamp(out, &info, 4);
  }
  return 0;
}
