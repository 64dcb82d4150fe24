/* The NTP server's answer to one request: see ntp_respond.h. Implements the
 * server half of RFC 5905 §8/§9.2 (fast_xmit: mode 4, origin = the
 * request's transmit, the request's version and poll), the crypto-NAK of
 * RFC 5905 Appendix A.5.1.1 (a MAC that fails gets a 4-byte key id 0), the
 * RFC 8573 MACs through probes/ntp_auth, and RFC 7822's rule for telling
 * extension fields from a MAC (probes/ntp_wire's ntp_parse_trailer). */
#include "server/ntp_respond.h"

#include <string.h>

#include <openssl/crypto.h>

/* "RATE" and "NTSN" as refids (RFC 5905 §7.4, RFC 8915 §5.7 kiss codes). */
#define KISS_RATE UINT32_C(0x52415445)
#define KISS_NTSN UINT32_C(0x4e54534e)

const char *respond_result_name(enum respond_result r) {
  static const char *const names[RESP_RESULT_COUNT] = {
      "answer", "crypto-nak", "kod", "nts-nak", "short", "malformed", "version",
      "control", "mode", "auth", "rate", "nts-malformed",
  };
  return (unsigned)r < RESP_RESULT_COUNT ? names[r] : "?";
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* The header fields the server speaks for: the served time's stratum,
 * refid, leap and bound. Refusing (RFC 5905: unsynchronised): LI 3 and
 * stratum 16, which is 0 on the wire. Root delay 0: the bound of the vote
 * already contains every path to the references, so it all goes into the
 * root dispersion (rounded up and saturated by ntp_header_encode). */
static void server_header(const struct respond_params *p, struct ntp_header *h) {
  const struct served_time *s = p->served;
  memset(h, 0, sizeof *h);
  if (s->refusing || s->stratum <= 0 || s->stratum >= 16) {
    h->leap = 3;
    h->stratum = 0;
    h->refid = 0;
  } else {
    h->leap = s->leap & 3;
    h->stratum = s->stratum;
    h->refid = s->refid;
  }
  h->precision = p->precision;
  h->root_delay = 0;
  h->root_dispersion = s->refusing ? 65536.0 : s->error; /* NaN/inf saturate */
  h->reference = s->refusing ? 0 : p->reference;
  h->receive = p->receive;
  h->transmit = p->transmit;
}

/* A kiss: no time (receive and transmit echo the request's transmit, as
 * the reference implementation does, so that a client that ignores the
 * kiss still learns nothing it could set a clock by). */
static void kiss(struct ntp_header *h, const struct ntp_header *rq, uint32_t code) {
  h->leap = 3;
  h->stratum = 0;
  h->refid = code;
  h->reference = 0;
  h->receive = h->transmit = rq->transmit;
}

/* The NTS path (see ntp_respond.h); RESP_RESULT_COUNT when the request
 * carries no NTS field (it goes the plain way). */
static enum respond_result nts_respond(const uint8_t *req, size_t len,
                                       const struct respond_params *p, struct ntp_header *rq,
                                       uint8_t *out, size_t cap, struct respond_info *info) {
  struct nts_request nr;
  enum nts_req_status s = nts_serve_check(p->siv, p->nts_keys, req, len, &nr);
  if (s == NTS_REQ_NONE) return RESP_RESULT_COUNT;
  info->nts = true;
  if (s == NTS_REQ_MALFORMED) return RESP_DROP_NTS;
  if (p->limit != RESPOND_FREE) return RESP_DROP_RATE;
  struct ntp_header h;
  server_header(p, &h);
  rq->mode = 3;
  if (s == NTS_REQ_NAK) kiss(&h, rq, KISS_NTSN);
  if (ntp_build_response(out, cap, rq, &h, NULL) != NTP_HEADER_LEN) return RESP_DROP_MALFORMED;
  size_t n;
  if (s == NTS_REQ_NAK) {
    info->nts_unknown_key = nr.unknown_key;
    n = nts_serve_nak(req, &nr, out, cap);
  } else {
    uint8_t rnd[NTS_SERVE_RANDOM];
    if (!p->nts_random || p->nts_random(rnd, sizeof rnd)) return RESP_DROP_MALFORMED;
    n = nts_serve_answer(p->siv, p->nts_keys, req, &nr, out, cap, len, rnd,
                         !p->nts_seal_later, &info->seal);
  }
  OPENSSL_cleanse(&nr, sizeof nr);
  if (n == 0 || n > len) return RESP_DROP_MALFORMED; /* never an amplifier */
  info->len = n;
  info->siv = p->siv;
  info->stamped = s == NTS_REQ_OK;
  return s == NTS_REQ_OK ? RESP_ANSWER : RESP_NTS_NAK;
}

enum respond_result ntp_respond(const uint8_t *req, size_t len,
                                const struct respond_params *p, uint8_t *out,
                                size_t cap, struct respond_info *info) {
  memset(info, 0, sizeof *info);
  if (len < NTP_HEADER_LEN) return RESP_DROP_SHORT;
  struct ntp_header rq;
  ntp_header_decode(req, &rq);
  if (rq.version < 1 || rq.version > 4) return RESP_DROP_VERSION;
  if (rq.mode == 6 || rq.mode == 7) return RESP_DROP_CONTROL;
  /* NTPv1 (RFC 1059) had no mode field: its requests read as mode 0. */
  if (!(rq.mode == 3 || (rq.mode == 0 && rq.version == 1))) return RESP_DROP_MODE;
  size_t mac_off = 0, mac_len = 0;
  enum ntp_check c = ntp_parse_trailer(req, len, &mac_off, &mac_len);
  if (c == NTP_CRYPTO_NAK) return RESP_DROP_AUTH;
  if (c != NTP_OK || cap < NTP_RESPONSE_MAX) return RESP_DROP_MALFORMED;
  if (mac_len == 0 && p->nts_keys) {
    enum respond_result r = nts_respond(req, len, p, &rq, out, cap, info);
    if (r != RESP_RESULT_COUNT) return r;
  }
  if (p->limit == RESPOND_LIMIT_DROP) return RESP_DROP_RATE;

  /* The MAC, if any: the key id must be in the key file and the digest
   * must verify over everything before the MAC (extension fields too). */
  const struct ntp_key *key = NULL;
  if (mac_len >= 20) {
    info->keyid = get32(req + mac_off);
    if (p->key_lookup) key = p->key_lookup(p->key_ctx, info->keyid);
    info->authenticated = key && ntp_mac_verify_with(p->mac, key, req, mac_off,
                                                     req + mac_off + 4, mac_len - 4);
  }

  struct ntp_header h;
  server_header(p, &h);
  rq.mode = 3; /* a v1 mode-0 request is answered as a client's */
  const struct ntp_key *sign = info->authenticated ? key : NULL;
  enum respond_result r = RESP_ANSWER;
  if (p->limit == RESPOND_LIMIT_KOD) {
    kiss(&h, &rq, KISS_RATE);
    r = RESP_KOD;
  } else if (mac_len >= 20 && !info->authenticated) {
    r = RESP_CRYPTO_NAK;
    sign = NULL;
  }
  size_t n = ntp_build_response(out, cap, &rq, &h, NULL);
  if (n == 0) return RESP_DROP_MALFORMED;
  if (r == RESP_CRYPTO_NAK) {
    memset(out + n, 0, 4); /* key id 0 and no digest */
    n += 4;
  } else if (sign) {
    int d = ntp_mac_compute_with(p->mac, sign, out, NTP_HEADER_LEN, out + n + 4);
    if (d <= 0) return RESP_DROP_MALFORMED; /* a key the MAC code refuses */
    put32(out + n, sign->id);
    n += 4 + (size_t)d;
  }
  if (n > len) return RESP_DROP_MALFORMED; /* never an amplifier */
  info->len = n;
  info->key = sign;
  info->mac = p->mac;
  info->stamped = r != RESP_KOD;
  return r;
}

void ntp_respond_restamp(uint8_t *out, struct respond_info *info, ntp_ts t3) {
  if (!info->stamped || info->len < NTP_HEADER_LEN) return;
  if (info->nts) {
    if (!info->seal.pending) return; /* sealed: the timestamp is covered */
    put64(out + 40, t3);
    nts_serve_seal(info->siv, out, &info->seal); /* once: pending is cleared */
    return;
  }
  put64(out + 40, t3);
  if (!info->key) return;
  uint8_t digest[NTP_MAX_DIGEST_LEN];
  int d = ntp_mac_compute_with(info->mac, info->key, out, NTP_HEADER_LEN, digest);
  if (d > 0 && (size_t)d + 4 + NTP_HEADER_LEN == info->len)
    memcpy(out + NTP_HEADER_LEN + 4, digest, (size_t)d);
}
