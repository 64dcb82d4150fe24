/* The NTP server's answer to one request (RFC 5905 §8 and §9.2, the
 * reference implementation's fast_xmit; RFC 7822 extension fields; RFC 8573
 * and RFC 5905 §7.3 symmetric-key MACs and the crypto-NAK). Pure: bytes
 * and the times to serve in, the response bytes or the reason to drop out;
 * no I/O, no clock reads, no allocation. The sockets, threads and clocks
 * are server/ntp_server.c's.
 *
 * Rules, in the order they are applied (each drop names its reason):
 *   1 shorter than 48 bytes                           RESP_DROP_SHORT
 *   2 version 0 or 5-7                                 RESP_DROP_VERSION
 *   3 mode 6 or 7 (ntpq/ntpdc control: monlist,
 *     CVE-2013-5211), never answered from the net    RESP_DROP_CONTROL
 *   4 any mode but 3 (client); an NTPv1 request with
 *     mode 0 is a client request (v1 had no modes)    RESP_DROP_MODE
 *   5 the trailer: a length not a multiple of 4, an
 *     extension field of a bad length, a MAC of a
 *     length that is no MAC                          RESP_DROP_MALFORMED
 *   6 a request that itself carries a crypto-NAK
 *     (a 4-byte MAC): RFC 5905 answers it nothing     RESP_DROP_AUTH
 *   7 rate limited without KoD                        RESP_DROP_RATE
 *   8 rate limited with KoD: stratum 0, LI 3, refid
 *     "RATE", no time (receive = transmit = the
 *     request's transmit), signed if the request's
 *     MAC verified                                    RESP_KOD
 *   9 a MAC whose key id the key file lacks, or whose
 *     digest does not verify: a crypto-NAK, the
 *     header followed by a 4-byte key id 0 (RFC 5905
 *     Appendix A.5.1.1, fast_xmit with A_CRYPTO)     RESP_CRYPTO_NAK
 *  10 otherwise the time: mode 4, the request's
 *     version and poll, origin = the request's
 *     transmit verbatim (zero or huge alike), signed
 *     with the request's key when it had a good MAC   RESP_ANSWER
 * NTS (RFC 8915, server/nts_serve.h), for a request with an NTS Cookie
 * or Authenticator field and no MAC, when params->nts_keys is set:
 *   - fields of a bad shape (no or two cookies, a placeholder not as long
 *     as the cookie, a field after the Authenticator...) RESP_DROP_NTS
 *   - rate limited (with or without KoD: a RATE kiss
 *     is not sent to an NTS client)                    RESP_DROP_RATE
 *   - a cookie whose key is unknown or that does not open,
 *     an Authenticator that does not verify: an NTS NAK, a KoD "NTSN"
 *     (no time) with the Unique Identifier field      RESP_NTS_NAK
 *   - otherwise the time with the Unique Identifier and
 *     the Authenticator carrying the new cookies      RESP_ANSWER (info->nts)
 * A request with NTS fields and no keys set is answered as plain NTP
 * (fields skipped) -- the server runs without `ntsservercert`.
 * No allocation: a MAC goes through params->mac when given (a server
 * thread's reusable contexts, probes/ntp_auth.h).
 * Extension fields of a request (RFC 7822) are skipped, never echoed: the
 * response carries none. A response is never longer than its request
 * (checked last; RESP_DROP_MALFORMED if it would be: an amplifier is worse
 * than a silent server). */
#ifndef VT_NTP_RESPOND_H
#define VT_NTP_RESPOND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/clockmodel.h"
#include "probes/ntp_wire.h"
#include "server/nts_serve.h"

/* The longest response: an NTS answer as long as the longest request
 * (a response is never longer than its request). */
#define NTP_RESPONSE_MAX NTS_MAX_PACKET

enum respond_result {
  RESP_ANSWER = 0,     /* the time, unauthenticated or signed */
  RESP_CRYPTO_NAK,     /* the time header + a 4-byte zero key id */
  RESP_KOD,            /* a kiss-o'-death RATE */
  RESP_NTS_NAK,        /* a kiss-o'-death NTSN with the unique identifier */
  RESP_DROP_SHORT,
  RESP_DROP_MALFORMED,
  RESP_DROP_VERSION,
  RESP_DROP_CONTROL,   /* mode 6, 7 */
  RESP_DROP_MODE,      /* mode 0 (v2+), 1, 2, 4, 5 */
  RESP_DROP_AUTH,      /* the request carried a crypto-NAK */
  RESP_DROP_RATE,
  RESP_DROP_NTS,       /* NTS fields of a bad shape */
  RESP_RESULT_COUNT
};

/* "answer", "crypto-nak", "kod", "nts-nak", "short", "malformed",
 * "version", "control", "mode", "auth", "rate", "nts-malformed"; "?"
 * outside the enum. */
const char *respond_result_name(enum respond_result r);
/* True for the results that send something. */
static inline bool respond_sends(enum respond_result r) { return r <= RESP_NTS_NAK; }

enum respond_limit {
  RESPOND_FREE = 0,    /* not rate limited */
  RESPOND_LIMIT_DROP,  /* rate limited: drop */
  RESPOND_LIMIT_KOD,   /* rate limited: answer with a KoD RATE */
};

struct respond_params {
  const struct served_time *served; /* stratum, refid, leap, bound, refusing */
  ntp_ts receive;             /* T2: the served time when the request arrived */
  ntp_ts transmit;            /* T3: the served time as it leaves (see
                                 ntp_respond_restamp to set it later) */
  ntp_ts reference;           /* when the served time was last set (0: never) */
  int precision;              /* log2 s of the local clock */
  ntp_key_lookup_fn *key_lookup; /* the key file (NULL: no keys) */
  const void *key_ctx;
  enum respond_limit limit;   /* the rate limiter's word on this client */
  struct ntp_mac_ctx *mac;    /* the thread's MAC contexts (NULL: allocate per MAC) */
  /* NTS (NULL nts_keys: NTS fields are skipped like any other) */
  const struct nts_keyset *nts_keys;
  struct nts_siv_ctx *siv;    /* the thread's SIV contexts (NULL: allocate per call) */
  /* Fills buf with n random bytes; 0, or -1 (the request is dropped). */
  int (*nts_random)(uint8_t *buf, size_t n);
  bool nts_seal_later;        /* leave the Authenticator to ntp_respond_restamp */
};

struct respond_info {
  size_t len;                 /* bytes written to out (0 on a drop) */
  const struct ntp_key *key;  /* the key the response is signed with, or NULL */
  uint32_t keyid;             /* the request's key id (0: no MAC) */
  bool authenticated;         /* the request's MAC verified */
  bool stamped;               /* the transmit timestamp is the time (not a
                                 KoD's): ntp_respond_restamp may set it */
  struct ntp_mac_ctx *mac;    /* params->mac, for ntp_respond_restamp */
  bool nts;                   /* an NTS request (answered, NAKed or dropped) */
  bool nts_unknown_key;       /* NAKed for a cookie key it does not know */
  struct nts_siv_ctx *siv;    /* params->siv, for ntp_respond_restamp */
  struct nts_seal seal;       /* the Authenticator, when params->nts_seal_later */
};

/* Answers req[0..len) into out[0..cap) (cap >= NTP_RESPONSE_MAX, else the
 * request is dropped as malformed). Returns what was done; info says how. */
enum respond_result ntp_respond(const uint8_t *req, size_t len,
                                const struct respond_params *p, uint8_t *out,
                                size_t cap, struct respond_info *info);

/* Sets the transmit timestamp of a response that ntp_respond built (when
 * info->stamped) to t3, and signs it again when info->key is set: so the
 * server can take T3 after the whole batch is built, right before it is
 * sent; an NTS answer built with nts_seal_later gets its Authenticator
 * here (without it, the transmit timestamp of an NTS answer stays as
 * built: changing it would break the Authenticator). No-op for a KoD. */
void ntp_respond_restamp(uint8_t *out, struct respond_info *info, ntp_ts t3);

#endif
