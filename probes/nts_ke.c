/* NTS-KE records: see nts_ke.h. One table-free walk over the records of a
 * message; every length is checked against the bytes present before it is
 * used. */
#include "probes/nts_ke.h"

#include <string.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

const char *nts_ke_status_name(enum nts_ke_status s) {
  static const char *const names[NTS_KE_STATUS_COUNT] = {
      "ok", "incomplete", "bad-length", "unknown-critical", "trailing",
      "server-error", "bad-protocol", "no-aead", "no-cookie", "too-long"};
  return (unsigned)s < NTS_KE_STATUS_COUNT ? names[s] : "?";
}

int nts_ke_put_record(uint8_t *buf, size_t cap, size_t *len, bool critical,
                      uint16_t type, const uint8_t *body, size_t body_len) {
  if (body_len > 0xffff || *len > cap || cap - *len < 4 + body_len) return -1;
  uint16_t t = (uint16_t)((type & 0x7fff) | (critical ? NTS_KE_CRITICAL : 0));
  uint8_t *p = buf + *len;
  p[0] = (uint8_t)(t >> 8);
  p[1] = (uint8_t)t;
  p[2] = (uint8_t)(body_len >> 8);
  p[3] = (uint8_t)body_len;
  if (body_len) memcpy(p + 4, body, body_len);
  *len += 4 + body_len;
  return 0;
}

size_t nts_ke_build_request(uint8_t *buf, size_t cap) {
  static const uint8_t proto[2] = {0, NTS_PROTO_NTPV4};
  static const uint8_t aead[2] = {0, NTS_AEAD_AES_SIV_CMAC_256};
  size_t len = 0;
  if (nts_ke_put_record(buf, cap, &len, true, NTS_KE_NEXT_PROTOCOL, proto, 2) ||
      nts_ke_put_record(buf, cap, &len, true, NTS_KE_AEAD, aead, 2) ||
      nts_ke_put_record(buf, cap, &len, true, NTS_KE_END, NULL, 0))
    return 0;
  return len;
}

void nts_ke_exporter_context(uint8_t out[5], int aead, bool s2c) {
  out[0] = 0;
  out[1] = NTS_PROTO_NTPV4;
  out[2] = (uint8_t)(aead >> 8);
  out[3] = (uint8_t)aead;
  out[4] = s2c ? 1 : 0;
}

/* What the walk has seen so far beyond out's fields. */
struct seen {
  bool protocol, aead;
};

/* One complete record; NTS_KE_OK to go on. */
static enum nts_ke_status take_record(uint16_t type, bool critical, const uint8_t *body,
                                      size_t n, struct seen *seen,
                                      struct nts_ke_response *out) {
  switch (type) {
  case NTS_KE_NEXT_PROTOCOL: {
    if (seen->protocol || n == 0 || n % 2) return NTS_KE_BAD_PROTOCOL;
    seen->protocol = true;
    for (size_t i = 0; i < n; i += 2)
      if (get16(body + i) == NTS_PROTO_NTPV4) return NTS_KE_OK;
    return NTS_KE_BAD_PROTOCOL;
  }
  case NTS_KE_ERROR:
    if (n != 2) return NTS_KE_BAD_LENGTH;
    out->error_code = get16(body);
    return NTS_KE_SERVER_ERROR;
  case NTS_KE_WARNING:
    if (n != 2) return NTS_KE_BAD_LENGTH;
    out->warnings++;
    return NTS_KE_OK;
  case NTS_KE_AEAD:
    /* The server names exactly the one it chose from our offer. */
    if (seen->aead || n != 2 || get16(body) != NTS_AEAD_AES_SIV_CMAC_256) return NTS_KE_NO_AEAD;
    seen->aead = true;
    out->aead = NTS_AEAD_AES_SIV_CMAC_256;
    return NTS_KE_OK;
  case NTS_KE_COOKIE:
    /* As chrony: a cookie of an odd shape is ignored (it could not be
     * carried in an extension field without padding that changes it). */
    if (n < 12 || n > NTS_MAX_COOKIE_LEN || n % 4 || out->n_cookies >= NTS_MAX_COOKIES)
      return NTS_KE_OK;
    out->cookies[out->n_cookies].len = (uint16_t)n;
    memcpy(out->cookies[out->n_cookies].data, body, n);
    out->n_cookies++;
    return NTS_KE_OK;
  case NTS_KE_SERVER:
    if (n == 0 || n > NTS_MAX_SERVER_LEN) return NTS_KE_BAD_LENGTH;
    for (size_t i = 0; i < n; i++)
      if (body[i] <= ' ' || body[i] > '~') return NTS_KE_BAD_LENGTH;
    memcpy(out->server, body, n);
    out->server[n] = '\0';
    return NTS_KE_OK;
  case NTS_KE_PORT_REC:
    if (n != 2 || get16(body) == 0) return NTS_KE_BAD_LENGTH;
    out->port = get16(body);
    return NTS_KE_OK;
  default:
    return critical ? NTS_KE_UNKNOWN_CRITICAL : NTS_KE_OK;
  }
}

/* One record's framing (RFC 8915 section 4): its type, critical bit and
 * body at *pos, which moves past it. NTS_KE_OK for a record to take,
 * NTS_KE_END_SEEN for a well-placed End of Message, else the fault. */
#define NTS_KE_END_SEEN NTS_KE_STATUS_COUNT
static enum nts_ke_status next_record(const uint8_t *buf, size_t len, bool final, size_t *pos,
                                      uint16_t *type, bool *critical, const uint8_t **body,
                                      size_t *n) {
  if (len - *pos < 4) return final ? NTS_KE_BAD_LENGTH : NTS_KE_INCOMPLETE;
  uint16_t raw = get16(buf + *pos);
  *n = get16(buf + *pos + 2);
  if (len - *pos - 4 < *n) return final ? NTS_KE_BAD_LENGTH : NTS_KE_INCOMPLETE;
  *type = raw & 0x7fff;
  *critical = raw & NTS_KE_CRITICAL;
  *body = buf + *pos + 4;
  *pos += 4 + *n;
  if (*type != NTS_KE_END) return NTS_KE_OK;
  if (*n != 0) return NTS_KE_BAD_LENGTH;
  return *pos == len ? NTS_KE_END_SEEN : NTS_KE_TRAILING;
}

enum nts_ke_status nts_ke_parse_response(const uint8_t *buf, size_t len, bool final,
                                         struct nts_ke_response *out) {
  memset(out, 0, sizeof *out);
  out->error_code = -1;
  if (len > NTS_KE_MAX_MESSAGE) return NTS_KE_TOO_LONG;
  if (!buf) len = 0;
  struct seen seen = {false, false};
  size_t pos = 0, n;
  uint16_t type;
  bool critical;
  const uint8_t *body;
  enum nts_ke_status s;
  while ((s = next_record(buf, len, final, &pos, &type, &critical, &body, &n)) == NTS_KE_OK)
    if ((s = take_record(type, critical, body, n, &seen, out)) != NTS_KE_OK) return s;
  if (s != NTS_KE_END_SEEN) return s;
  if (!seen.protocol) return NTS_KE_BAD_PROTOCOL;
  if (!seen.aead) return NTS_KE_NO_AEAD;
  if (out->n_cookies == 0) return NTS_KE_NO_COOKIE;
  return NTS_KE_OK;
}

/* ---- the server's side ---- */

/* One complete record of a client's request; NTS_KE_OK to go on. */
static enum nts_ke_status take_request_record(uint16_t type, bool critical,
                                              const uint8_t *body, size_t n,
                                              struct seen *seen, struct nts_ke_request *out) {
  switch (type) {
  case NTS_KE_NEXT_PROTOCOL:
  case NTS_KE_AEAD: {
    bool proto = type == NTS_KE_NEXT_PROTOCOL;
    bool *have = proto ? &seen->protocol : &seen->aead;
    if (*have || n % 2) return proto ? NTS_KE_BAD_PROTOCOL : NTS_KE_NO_AEAD;
    *have = true;
    uint16_t want = proto ? NTS_PROTO_NTPV4 : NTS_AEAD_AES_SIV_CMAC_256;
    for (size_t i = 0; i < n; i += 2)
      if (get16(body + i) == want) *(proto ? &out->ntpv4 : &out->siv) = true;
    return NTS_KE_OK;
  }
  case NTS_KE_ERROR:
  case NTS_KE_WARNING:
  case NTS_KE_COOKIE:
    return NTS_KE_SERVER_ERROR;
  case NTS_KE_SERVER:
  case NTS_KE_PORT_REC:
    return NTS_KE_OK; /* the client's wish; the server answers with its own */
  default:
    return critical ? NTS_KE_UNKNOWN_CRITICAL : NTS_KE_OK;
  }
}

enum nts_ke_status nts_ke_parse_request(const uint8_t *buf, size_t len, bool final,
                                        struct nts_ke_request *out) {
  memset(out, 0, sizeof *out);
  if (len > NTS_KE_MAX_MESSAGE) return NTS_KE_TOO_LONG;
  if (!buf) len = 0;
  struct seen seen = {false, false};
  enum nts_ke_status first = NTS_KE_OK; /* the first fault; read on to the End */
  size_t pos = 0, n;
  uint16_t type;
  bool critical;
  const uint8_t *body;
  enum nts_ke_status s;
  while ((s = next_record(buf, len, final, &pos, &type, &critical, &body, &n)) == NTS_KE_OK) {
    s = take_request_record(type, critical, body, n, &seen, out);
    if (s != NTS_KE_OK && first == NTS_KE_OK) first = s;
  }
  if (s != NTS_KE_END_SEEN) return s;
  if (first != NTS_KE_OK) return first;
  if (!seen.protocol) return NTS_KE_BAD_PROTOCOL;
  if (!seen.aead) return NTS_KE_NO_AEAD;
  return NTS_KE_OK;
}

size_t nts_ke_build_response(uint8_t *buf, size_t cap, enum nts_ke_status status,
                             const struct nts_ke_request *req, const struct nts_cookie *cookies,
                             int n, int port) {
  size_t len = 0;
  uint8_t v[2];
  if (status != NTS_KE_OK) {
    int code = status == NTS_KE_UNKNOWN_CRITICAL ? NTS_KE_ERR_UNRECOGNIZED : NTS_KE_ERR_BAD_REQUEST;
    v[0] = 0;
    v[1] = (uint8_t)code;
    if (nts_ke_put_record(buf, cap, &len, true, NTS_KE_ERROR, v, 2)) return 0;
  } else {
    v[0] = 0;
    v[1] = NTS_PROTO_NTPV4;
    if (nts_ke_put_record(buf, cap, &len, true, NTS_KE_NEXT_PROTOCOL, v, req->ntpv4 ? 2 : 0))
      return 0;
    if (req->ntpv4 && req->siv) {
      v[1] = NTS_AEAD_AES_SIV_CMAC_256;
      if (nts_ke_put_record(buf, cap, &len, true, NTS_KE_AEAD, v, 2)) return 0;
      for (int i = 0; i < n; i++)
        if (nts_ke_put_record(buf, cap, &len, false, NTS_KE_COOKIE, cookies[i].data,
                              cookies[i].len))
          return 0;
      v[0] = (uint8_t)(port >> 8);
      v[1] = (uint8_t)port;
      if (port > 0 && nts_ke_put_record(buf, cap, &len, true, NTS_KE_PORT_REC, v, 2)) return 0;
    }
  }
  if (nts_ke_put_record(buf, cap, &len, true, NTS_KE_END, NULL, 0)) return 0;
  return len;
}
