/* libFuzzer target: the NTP client's response check (probes/ntp_wire.c)
 * over arbitrary datagrams. The first 8 bytes of the input choose the
 * nonce (so the origin test can pass and the deeper checks are reached);
 * the rest is the datagram. With and without a key (AES-128-CMAC). */
#include <stdint.h>
#include <string.h>

#include "probes/ntp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 9) return 0;
  ntp_ts nonce;
  memcpy(&nonce, data, sizeof nonce);
  const uint8_t *pkt = data + 8;
  size_t len = size - 8;
  static const struct ntp_key key = {
      .id = 1, .alg = MAC_AES128_CMAC,
      .key = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c},
      .len = 16};
  for (int keyed = 0; keyed < 2; keyed++) {
    struct ntp_exchange x = {.nonce = nonce, .t1 = {1700000000, 0}, .key = keyed ? &key : NULL,
                             .maxdistance = 1.5, .local_precision = 1e-6};
    struct ntp_result r;
    struct timespec t4 = {1700000000, 500000};
    ntp_check_response(&x, pkt, len, t4, &r);
    ntp_check_response(&x, pkt, len, t4, &r); /* the duplicate path */
  }
  return 0;
}
