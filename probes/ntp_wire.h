/* NTPv4 on the wire (RFC 5905 §7.3 header, §8 on-wire protocol and sanity
 * tests; RFC 7822 extension fields; RFC 8573 MACs; RFC 9109 client-port and
 * nonce practice). Pure code over bytes: no I/O, no clock reads, no globals.
 * The 48-byte header encode/decode serves both the client (here) and the
 * server side; ntp_build_request and ntp_check_response are the client. */
#ifndef VT_NTP_WIRE_H
#define VT_NTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "probes/ntp_auth.h"

#define NTP_HEADER_LEN 48
#define NTP_PORT 123
/* Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
#define NTP_UNIX_OFFSET 2208988800u
/* RFC 5905 MAXDISP: root distance / delay beyond this is not time. */
#define NTP_MAXDISP 16.0

typedef uint64_t ntp_ts; /* 32.32 fixed point, host byte order, as on the wire */

/* The fixed header, in host units. refid is as read off the wire in network
 * order (first ASCII character in the most significant byte). */
struct ntp_header {
  int leap, version, mode, stratum, poll, precision;
  double root_delay, root_dispersion; /* seconds */
  uint32_t refid;
  ntp_ts reference, origin, receive, transmit;
};

/* Unix time -> NTP timestamp; the era is folded away (only the low 32 bits
 * of the seconds go on the wire), fraction rounded to the nearest 2^-32 s. */
ntp_ts ntp_ts_from_timespec(struct timespec t);

/* The Unix time of ts in the NTP era that puts it closest to pivot (within
 * 68 years): how a server or a log turns a wire timestamp back into time. */
struct timespec ntp_ts_to_timespec(ntp_ts ts, struct timespec pivot);

/* a - b in seconds, as a signed 64-bit difference: exact across the 2036
 * era boundary for |a-b| < 68 years. */
double ntp_ts_diff(ntp_ts a, ntp_ts b);

/* Header <-> 48 bytes. encode writes the low bits of leap (2), version (3),
 * mode (3), stratum/poll/precision as bytes, and root delay/dispersion as
 * unsigned 16.16 rounded UP (an error bound must never shrink in transit)
 * and clamped to 0..65535.99998 s. decode accepts any 48 bytes. */
void ntp_header_encode(const struct ntp_header *h, uint8_t out[NTP_HEADER_LEN]);
void ntp_header_decode(const uint8_t in[NTP_HEADER_LEN], struct ntp_header *h);

/* A client request (LI 0, version 4, mode 3, every other field zero as the
 * data-minimisation practice asks) whose transmit timestamp is nonce (64
 * random bits chosen by the caller), with poll as given and a MAC (key id +
 * digest of the 48 bytes) appended when key != NULL. Returns the length (48,
 * 68 or 72), or 0 if cap is too small or the key is unusable. */
size_t ntp_build_request(uint8_t *buf, size_t cap, ntp_ts nonce, int poll,
                         const struct ntp_key *key);

/* How the decoder learns a key it was not handed: the key (algorithm and
 * bytes) with this id as ctx knows it, or NULL when there is none. The
 * decoder stays pure and knows nothing of where keys are kept (the daemon
 * looks them up in its key file). */
typedef const struct ntp_key *ntp_key_lookup_fn(const void *ctx, uint32_t keyid);

/* One outstanding request. */
struct ntp_exchange {
  ntp_ts nonce;                  /* what we put in the transmit timestamp */
  struct timespec t1;            /* local CLOCK_REALTIME when it was sent */
  const struct ntp_key *key;     /* the key the server must answer with, or NULL */
  ntp_key_lookup_fn *key_lookup; /* to recognise a key id (may be NULL) */
  const void *key_ctx;           /* passed to key_lookup */
  double maxdistance;            /* seconds, RFC 5905 test 7 limit (e.g. 1.5);
                                    <= 0 means only the 16 s MAXDISP limit */
  double local_precision;        /* seconds, our clock's precision (e.g. 1e-6) */
  bool answered;                 /* set by ntp_check_response on NTP_OK / NTP_KOD */
};

enum ntp_check {
  NTP_OK = 0,
  NTP_SHORT,        /* < 48 bytes */
  NTP_BAD_LENGTH,   /* not a multiple of 4, bad extension field or MAC shape */
  NTP_BOGUS,        /* origin != nonce (includes zero origin, unsolicited,
                       spoofed KoD) */
  NTP_DUPLICATE,    /* origin ok but already answered */
  NTP_BAD_VERSION,  /* 0, 5-7 */
  NTP_BAD_MODE,     /* not 4 */
  NTP_CRYPTO_NAK,   /* 4-byte MAC */
  NTP_AUTH_FAIL,    /* MAC expected but missing, wrong key id, wrong digest */
  NTP_KOD,          /* stratum 0 with an ASCII kiss code; out->kiss set;
                       out->authenticated says whether its MAC was valid */
  NTP_ZERO_TS,      /* receive or transmit zero */
  NTP_UNSYNC,       /* LI=3 */
  NTP_BAD_STRATUM,  /* stratum 0 without a kiss code, or >= 16 */
  NTP_BAD_DISTANCE, /* root_delay/2 + root_dispersion >= 16 s, or root
                       distance >= maxdistance */
  NTP_BAD_DELAY,    /* negative delay, T3 < T2, or delay >= 16 s */
  NTP_CHECK_COUNT
};

/* "ok", "short", "bad-length", "bogus", "duplicate", "bad-version",
 * "bad-mode", "crypto-nak", "auth-fail", "kod", "zero-ts", "unsync",
 * "bad-stratum", "bad-distance", "bad-delay"; "?" outside the enum. */
const char *ntp_check_name(enum ntp_check c);

struct ntp_result {
  struct ntp_header h;
  double offset;        /* θ = ((T2-T1)+(T3-T4))/2, seconds: server minus local */
  double delay;         /* δ = (T4-T1)-(T3-T2) */
  double dispersion;    /* ε = 2^server_precision + local_precision + 15e-6*(T4-T1) */
  double root_distance; /* λ = (δ + root_delay)/2 + ε + root_dispersion */
  char kiss[5];         /* the kiss code on NTP_KOD, NUL-terminated; else "" */
  bool authenticated;   /* a MAC under a known key verified */
};

/* Checks one received datagram against the exchange, RFC 5905 §8 sanity
 * tests, in this order, returning the first that fails:
 *   1 length >= 48                                   NTP_SHORT
 *   2 origin == nonce (and != 0), before anything
 *     else in the packet is believed, KoD included   NTP_BOGUS
 *   3 not already answered                           NTP_DUPLICATE
 *   4 version 1..4                                   NTP_BAD_VERSION
 *   5 mode 4                                         NTP_BAD_MODE
 *   6 trailer shape: RFC 7822 extension fields, then
 *     nothing, a 4-byte crypto-NAK or a 20/24-byte
 *     MAC                                 NTP_BAD_LENGTH / NTP_CRYPTO_NAK
 *   7 MAC when x->key is set: present, our key id,
 *     valid digest (when x->key is NULL a MAC under a
 *     key x->key_lookup knows only sets
 *     out->authenticated)                            NTP_AUTH_FAIL
 *   8 KoD (stratum 0, ASCII refid)                   NTP_KOD
 *   9 receive and transmit non-zero                  NTP_ZERO_TS
 *  10 LI != 3                                        NTP_UNSYNC
 *  11 stratum 1..15                                  NTP_BAD_STRATUM
 *  12 root_delay/2 + root_dispersion < 16 s          NTP_BAD_DISTANCE
 *  13 T3 >= T2, delay >= -(precisions), delay < 16 s NTP_BAD_DELAY
 *  14 root distance < x->maxdistance and < 16 s      NTP_BAD_DISTANCE
 * (13 comes before 14 so a huge delay is reported as a delay, not as the
 * root distance it inflates.) t4 is the local receive time (kernel
 * timestamp). T1 is x->t1, the real send time, never the nonce; all
 * differences are era-safe (ntp_ts_diff). A delay slightly negative within
 * the two clocks' precisions is clamped to 0. out is always filled as far as
 * the packet was read (out->h from check 2 on). On NTP_OK and NTP_KOD sets
 * x->answered, so a second copy is NTP_DUPLICATE. */
enum ntp_check ntp_check_response(struct ntp_exchange *x, const uint8_t *buf,
                                  size_t len, struct timespec t4,
                                  struct ntp_result *out);

/* What follows the 48-byte header of buf[0..len) (RFC 7822: extension
 * fields are told from a MAC by the length left over; each field >= 16
 * bytes, a multiple of 4, inside the packet): *mac_off and *mac_len = 0
 * (no MAC), 4 (a crypto-NAK: returns NTP_CRYPTO_NAK) or 20/24 (key id +
 * digest: NTP_OK). NTP_BAD_LENGTH for anything else, a length under 48 or
 * not a multiple of 4 included. Both sides use it. */
enum ntp_check ntp_parse_trailer(const uint8_t *buf, size_t len, size_t *mac_off,
                                 size_t *mac_len);

/* Server side (RFC 5905 §9.2, the reference implementation's fast_xmit):
 * the response to client request req. Mode 4; version and poll copied from
 * req; origin = req->transmit verbatim. Every other field comes from srv:
 * leap, stratum, precision, root delay and dispersion, refid (for a KoD:
 * stratum 0 and the kiss code), reference, receive and transmit. With key
 * != NULL a MAC (key id + digest of the 48 bytes under key) follows. The
 * caller must not send more than the request's length (amplification).
 * Returns the length (48, 68 or 72), or 0 if cap is too small or the key is
 * unusable. Pure. */
size_t ntp_build_response(uint8_t *buf, size_t cap, const struct ntp_header *req,
                          const struct ntp_header *srv, const struct ntp_key *key);

#endif
