/* libFuzzer target: the NTS-KE record decoder (probes/nts_ke.c) over
 * arbitrary bytes, as a TLS stream hands them over: the whole input with
 * the stream ended and open, then every prefix the way reads could split
 * it (the decoder runs again on each arrival). Whatever it accepts must
 * hold at most NTS_MAX_COOKIES cookies of a carriable size. The server's
 * side too: the request decoder over the same bytes, and the answer the
 * server builds from what it decoded, which the client's decoder must
 * read back as an error or as the records the server meant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/nts_ke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct nts_ke_response r;
  for (int final = 0; final < 2; final++) {
    enum nts_ke_status s = nts_ke_parse_response(data, size, final, &r);
    if (s == NTS_KE_OK) {
      if (r.n_cookies < 1 || r.n_cookies > NTS_MAX_COOKIES || r.aead != NTS_AEAD_AES_SIV_CMAC_256)
        abort();
      for (int i = 0; i < r.n_cookies; i++)
        if (r.cookies[i].len < 12 || r.cookies[i].len > NTS_MAX_COOKIE_LEN || r.cookies[i].len % 4)
          abort();
      if (strlen(r.server) > NTS_MAX_SERVER_LEN || r.port < 0 || r.port > 65535) abort();
    }
    if (final && s == NTS_KE_INCOMPLETE) abort(); /* an ended stream is never incomplete */
  }
  /* The server's side. */
  for (int final = 0; final < 2; final++) {
    struct nts_ke_request rq;
    enum nts_ke_status s = nts_ke_parse_request(data, size, final, &rq);
    if (final && s == NTS_KE_INCOMPLETE) abort();
    if (s == NTS_KE_INCOMPLETE) continue;
    struct nts_cookie c[2] = {{.len = 16}, {.len = 104}};
    uint8_t out[NTS_KE_MAX_MESSAGE];
    size_t n = nts_ke_build_response(out, sizeof out, s, &rq, c, 2, size & 0xffff);
    if (n == 0) abort();
    enum nts_ke_status back = nts_ke_parse_response(out, n, true, &r);
    if (s != NTS_KE_OK && (back != NTS_KE_SERVER_ERROR || r.error_code > 1)) abort();
    if (s == NTS_KE_OK && rq.ntpv4 && rq.siv && (back != NTS_KE_OK || r.n_cookies != 2)) abort();
  }
  /* Arrivals in pieces of the first byte's size (1..256). */
  size_t step = size ? (size_t)data[0] + 1 : 1;
  for (size_t n = step; n < size; n += step) nts_ke_parse_response(data, n, false, &r);
  /* The encoder round-trips a record of the input's bytes. */
  uint8_t buf[512];
  size_t len = 0, body = size > 200 ? 200 : size;
  if (nts_ke_put_record(buf, sizeof buf, &len, size & 1, (uint16_t)(size * 7919), data, body) ||
      len != 4 + body || memcmp(buf + 4, data, body) != 0)
    abort();
  return 0;
}
