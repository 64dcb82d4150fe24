/* NTPv4 packets: see ntp_wire.h. Implements the RFC 5905 §7.3 header
 * format, the §8 on-wire calculations (offset, delay, dispersion, root
 * distance) and the client's sanity tests, the RFC 7822 rule that tells
 * extension fields from a MAC by length, and RFC 8573 MAC checking. Pure:
 * the caller supplies every time (t1 when sent, t4 from the kernel). */
#include "probes/ntp_wire.h"

#include <math.h>
#include <string.h>

#define NTP_PHI 15e-6 /* s/s: RFC 5905 frequency tolerance */

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

/* Two's-complement reading of a wrapped difference, without relying on the
 * implementation-defined unsigned -> signed conversion. */
static int64_t to_signed(uint64_t v) {
  return v <= INT64_MAX ? (int64_t)v : -(int64_t)~v - 1;
}

/* ---- Timestamps -------------------------------------------------------- */

ntp_ts ntp_ts_from_timespec(struct timespec t) {
  int64_t sec = (int64_t)t.tv_sec + t.tv_nsec / 1000000000;
  int64_t nsec = t.tv_nsec % 1000000000;
  if (nsec < 0) {
    nsec += 1000000000;
    sec--;
  }
  /* Only the low 32 bits of the seconds exist on the wire: the era is
   * implied, and differences (ntp_ts_diff) are taken modulo 2^64. */
  uint64_t s = (uint64_t)(sec + NTP_UNIX_OFFSET) & 0xffffffffu;
  uint64_t frac = (((uint64_t)nsec << 32) + 500000000u) / 1000000000u;
  return (s << 32) + frac; /* frac == 2^32 carries into the seconds */
}

struct timespec ntp_ts_to_timespec(ntp_ts ts, struct timespec pivot) {
  struct timespec base = {pivot.tv_sec, 0};
  /* Signed 32.32 distance from the pivot's whole second; split it with a
   * bias of 2^63 so the shift never sees a negative number. */
  uint64_t biased = (uint64_t)to_signed(ts - ntp_ts_from_timespec(base)) +
                    (UINT64_C(1) << 63);
  int64_t whole = (int64_t)(biased >> 32) - (INT64_C(1) << 31);
  uint64_t ns = ((biased & 0xffffffffu) * 1000000000u + (UINT64_C(1) << 31)) >> 32;
  struct timespec r = {(time_t)(pivot.tv_sec + whole), (long)ns};
  if (r.tv_nsec >= 1000000000) {
    r.tv_nsec -= 1000000000;
    r.tv_sec++;
  }
  return r;
}

double ntp_ts_diff(ntp_ts a, ntp_ts b) {
  return (double)to_signed(a - b) / 4294967296.0;
}

/* ---- The 48-byte header ------------------------------------------------ */

/* Seconds -> unsigned 16.16 "NTP short", rounded up so that an error bound
 * never shrinks; NaN becomes the maximum, not zero. */
static uint32_t short_from_seconds(double s) {
  if (isnan(s) || s >= 65536.0) return UINT32_MAX;
  if (s <= 0) return 0;
  double u = ceil(s * 65536.0);
  return u >= 4294967295.0 ? UINT32_MAX : (uint32_t)u;
}

static int signed8(uint8_t b) { return b >= 128 ? (int)b - 256 : (int)b; }

void ntp_header_encode(const struct ntp_header *h, uint8_t out[NTP_HEADER_LEN]) {
  out[0] = (uint8_t)((h->leap & 3) << 6 | (h->version & 7) << 3 | (h->mode & 7));
  out[1] = (uint8_t)(h->stratum & 0xff);
  out[2] = (uint8_t)(h->poll & 0xff);
  out[3] = (uint8_t)(h->precision & 0xff);
  put32(out + 4, short_from_seconds(h->root_delay));
  put32(out + 8, short_from_seconds(h->root_dispersion));
  put32(out + 12, h->refid);
  put64(out + 16, h->reference);
  put64(out + 24, h->origin);
  put64(out + 32, h->receive);
  put64(out + 40, h->transmit);
}

void ntp_header_decode(const uint8_t in[NTP_HEADER_LEN], struct ntp_header *h) {
  h->leap = in[0] >> 6;
  h->version = (in[0] >> 3) & 7;
  h->mode = in[0] & 7;
  h->stratum = in[1];
  h->poll = signed8(in[2]);
  h->precision = signed8(in[3]);
  h->root_delay = get32(in + 4) / 65536.0;
  h->root_dispersion = get32(in + 8) / 65536.0;
  h->refid = get32(in + 12);
  h->reference = get64(in + 16);
  h->origin = get64(in + 24);
  h->receive = get64(in + 32);
  h->transmit = get64(in + 40);
}

/* ---- Client request ---------------------------------------------------- */

size_t ntp_build_request(uint8_t *buf, size_t cap, ntp_ts nonce, int poll,
                         const struct ntp_key *key) {
  size_t need = NTP_HEADER_LEN + (key ? 4 + ntp_mac_digest_len(key->alg) : 0);
  if (!buf || cap < need) return 0;
  /* Everything but version, mode, poll and the nonce stays zero: a client
   * has nothing to tell the server, and the nonce is all we match on. */
  struct ntp_header h = {.version = 4, .mode = 3, .poll = poll, .transmit = nonce};
  ntp_header_encode(&h, buf);
  if (!key) return need;
  uint8_t digest[NTP_MAX_DIGEST_LEN];
  int n = ntp_mac_compute(key, buf, NTP_HEADER_LEN, digest);
  if (n < 0 || (size_t)n + 4 + NTP_HEADER_LEN != need) return 0;
  put32(buf + NTP_HEADER_LEN, key->id);
  memcpy(buf + NTP_HEADER_LEN + 4, digest, (size_t)n);
  return need;
}

/* ---- Response checks --------------------------------------------------- */

const char *ntp_check_name(enum ntp_check c) {
  static const char *const names[NTP_CHECK_COUNT] = {
      "ok", "short", "bad-length", "bogus", "duplicate", "bad-version",
      "bad-mode", "crypto-nak", "auth-fail", "kod", "zero-ts", "unsync",
      "bad-stratum", "bad-distance", "bad-delay",
  };
  return (unsigned)c < NTP_CHECK_COUNT ? names[c] : "?";
}

/* What follows the header: mac_len 0 (nothing), 4 (crypto-NAK) or 20/24
 * (key id + MD5/CMAC or SHA1 digest) bytes at mac_off. */
struct trailer {
  size_t mac_off, mac_len;
};

/* RFC 7822: a MAC is told from extension fields by the length left over;
 * every field is >= 16 bytes, a multiple of 4, and inside the packet. */
enum ntp_check ntp_parse_trailer(const uint8_t *buf, size_t len, size_t *mac_off,
                                 size_t *mac_len) {
  if (len < NTP_HEADER_LEN || len % 4) return NTP_BAD_LENGTH;
  for (size_t pos = NTP_HEADER_LEN;;) {
    size_t rem = len - pos;
    if (rem == 0 || rem == 4 || rem == 20 || rem == 24) {
      *mac_off = pos;
      *mac_len = rem;
      return rem == 4 ? NTP_CRYPTO_NAK : NTP_OK;
    }
    if (rem < 16) return NTP_BAD_LENGTH;
    size_t field = (size_t)buf[pos + 2] << 8 | buf[pos + 3];
    if (field < 16 || field % 4 || field > rem) return NTP_BAD_LENGTH;
    pos += field;
  }
}

static enum ntp_check parse_trailer(const uint8_t *buf, size_t len,
                                    struct trailer *t) {
  return ntp_parse_trailer(buf, len, &t->mac_off, &t->mac_len);
}

/* With x->key the MAC is mandatory and must be ours; without, a MAC under a
 * key we know only earns the `authenticated` flag (e.g. for a KoD). */
static enum ntp_check check_mac(const struct ntp_exchange *x, const uint8_t *buf,
                                const struct trailer *t, bool *authenticated) {
  *authenticated = false;
  const struct ntp_key *key = x->key;
  if (t->mac_len < 20) return key ? NTP_AUTH_FAIL : NTP_OK;
  uint32_t keyid = get32(buf + t->mac_off);
  if (key && keyid != key->id) return NTP_AUTH_FAIL;
  if (!key && x->key_lookup) key = x->key_lookup(x->key_ctx, keyid);
  if (!key) return NTP_OK;
  *authenticated = ntp_mac_verify(key, buf, t->mac_off, buf + t->mac_off + 4,
                                  t->mac_len - 4);
  return *authenticated || !x->key ? NTP_OK : NTP_AUTH_FAIL;
}

/* A kiss code is 1-4 printable ASCII characters, NUL-padded (RFC 5905
 * §7.4); anything else in a stratum-0 refid is not a kiss. */
static bool kiss_code(uint32_t refid, char kiss[5]) {
  bool ended = false;
  for (int i = 0; i < 4; i++) {
    uint8_t ch = (uint8_t)(refid >> (24 - 8 * i));
    if (ch == 0) ended = true;
    else if (ended || ch < 0x21 || ch > 0x7e) return false;
    kiss[i] = (char)ch;
  }
  kiss[4] = '\0';
  return kiss[0] != '\0';
}

/* Checks 1-7: everything that decides whether the packet is ours at all. */
static enum ntp_check check_envelope(const struct ntp_exchange *x,
                                     const uint8_t *buf, size_t len,
                                     struct ntp_result *out) {
  if (len < NTP_HEADER_LEN) return NTP_SHORT;
  ntp_header_decode(buf, &out->h);
  /* Nothing in a packet that does not echo our nonce is believed. */
  if (out->h.origin == 0 || out->h.origin != x->nonce) return NTP_BOGUS;
  if (x->answered) return NTP_DUPLICATE;
  if (out->h.version < 1 || out->h.version > 4) return NTP_BAD_VERSION;
  if (out->h.mode != 4) return NTP_BAD_MODE;
  struct trailer t;
  enum ntp_check c = parse_trailer(buf, len, &t);
  if (c != NTP_OK) return c;
  return check_mac(x, buf, &t, &out->authenticated);
}

/* Checks 12-14 and the on-wire arithmetic (RFC 5905 §8, §10). */
static enum ntp_check check_times(const struct ntp_exchange *x,
                                  struct timespec t4, struct ntp_result *out) {
  const struct ntp_header *h = &out->h;
  ntp_ts T1 = ntp_ts_from_timespec(x->t1), T4 = ntp_ts_from_timespec(t4);
  double d21 = ntp_ts_diff(h->receive, T1), d34 = ntp_ts_diff(h->transmit, T4);
  double d41 = ntp_ts_diff(T4, T1), d32 = ntp_ts_diff(h->transmit, h->receive);
  double precisions = ldexp(1.0, h->precision) + x->local_precision;
  out->offset = (d21 + d34) / 2;
  out->delay = d41 - d32;
  out->dispersion = precisions + NTP_PHI * fmax(d41, 0);
  out->root_distance = (fmax(out->delay, 0) + h->root_delay) / 2 +
                       out->dispersion + h->root_dispersion;
  if (h->root_delay / 2 + h->root_dispersion >= NTP_MAXDISP)
    return NTP_BAD_DISTANCE;
  /* Clock reading granularity can make a tiny round trip look negative;
   * more than that is a server claiming time it cannot have had. */
  if (d32 < 0 || out->delay < -precisions || out->delay >= NTP_MAXDISP)
    return NTP_BAD_DELAY;
  if (out->delay < 0) out->delay = 0;
  if (out->root_distance >= NTP_MAXDISP ||
      (x->maxdistance > 0 && out->root_distance >= x->maxdistance))
    return NTP_BAD_DISTANCE;
  return NTP_OK;
}

enum ntp_check ntp_check_response(struct ntp_exchange *x, const uint8_t *buf,
                                  size_t len, struct timespec t4,
                                  struct ntp_result *out) {
  memset(out, 0, sizeof *out);
  enum ntp_check c = check_envelope(x, buf, len, out);
  if (c != NTP_OK) return c;
  if (out->h.stratum == 0 && kiss_code(out->h.refid, out->kiss)) {
    x->answered = true;
    return NTP_KOD;
  }
  out->kiss[0] = '\0';
  if (out->h.receive == 0 || out->h.transmit == 0) return NTP_ZERO_TS;
  if (out->h.leap == 3) return NTP_UNSYNC;
  if (out->h.stratum == 0 || out->h.stratum >= 16) return NTP_BAD_STRATUM;
  c = check_times(x, t4, out);
  if (c == NTP_OK) x->answered = true;
  return c;
}

/* ---- Server response --------------------------------------------------- */

size_t ntp_build_response(uint8_t *buf, size_t cap, const struct ntp_header *req,
                          const struct ntp_header *srv, const struct ntp_key *key) {
  size_t need = NTP_HEADER_LEN + (key ? 4 + ntp_mac_digest_len(key->alg) : 0);
  if (!buf || cap < need) return 0;
  struct ntp_header h = *srv;
  h.version = req->version;
  h.mode = 4;
  h.poll = req->poll;
  h.origin = req->transmit; /* the client's nonce, whatever it is */
  ntp_header_encode(&h, buf);
  if (!key) return need;
  uint8_t digest[NTP_MAX_DIGEST_LEN];
  int n = ntp_mac_compute(key, buf, NTP_HEADER_LEN, digest);
  if (n < 0 || (size_t)n + 4 + NTP_HEADER_LEN != need) return 0;
  put32(buf + NTP_HEADER_LEN, key->id);
  memcpy(buf + NTP_HEADER_LEN + 4, digest, (size_t)n);
  return need;
}
