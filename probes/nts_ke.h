/* NTS Key Establishment records (RFC 8915 §4): the client's request and
 * the decoder of the server's response. Pure code over bytes: no I/O, no
 * TLS, no clock reads, no globals (the TLS session that carries the records
 * lives in probes/nts_client.c).
 *
 * A record is a 16-bit type whose top bit is the critical bit, a 16-bit
 * body length, and the body. The decoder accepts the records of one
 * message up to its End of Message, and refuses: a truncated record once
 * the stream has ended, an unknown record with the critical bit, a body of
 * the wrong length for its type, anything after End of Message, an Error
 * record, a message without Next Protocol NTPv4 or without AEAD algorithm
 * AEAD_AES_SIV_CMAC_256, and one without a cookie. */
#ifndef VT_NTS_KE_H
#define VT_NTS_KE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NTS_KE_PORT 4460
#define NTS_KE_ALPN "ntske/1"
#define NTS_KE_EXPORTER_LABEL "EXPORTER-network-time-security"

/* Record types (RFC 8915 §7.6) and the critical bit. */
enum {
  NTS_KE_END = 0,
  NTS_KE_NEXT_PROTOCOL = 1,
  NTS_KE_ERROR = 2,
  NTS_KE_WARNING = 3,
  NTS_KE_AEAD = 4,
  NTS_KE_COOKIE = 5,
  NTS_KE_SERVER = 6,
  NTS_KE_PORT_REC = 7,
};
#define NTS_KE_CRITICAL 0x8000u

#define NTS_PROTO_NTPV4 0         /* Next Protocol id */
#define NTS_AEAD_AES_SIV_CMAC_256 15 /* IANA AEAD id */
#define NTS_KEY_LEN 32            /* the AEAD's key: two AES-128 keys */

#define NTS_MAX_COOKIES 8
#define NTS_MAX_COOKIE_LEN 256
#define NTS_MAX_SERVER_LEN 255
/* A response larger than this is refused (8 cookies of the largest size
 * and every other record fit well inside). */
#define NTS_KE_MAX_MESSAGE 4096

struct nts_cookie {
  uint16_t len;
  uint8_t data[NTS_MAX_COOKIE_LEN];
};

/* What the server's message says. */
struct nts_ke_response {
  int aead;                           /* NTS_AEAD_AES_SIV_CMAC_256 */
  int n_cookies;
  struct nts_cookie cookies[NTS_MAX_COOKIES]; /* extra cookies are dropped */
  char server[NTS_MAX_SERVER_LEN + 1]; /* "" when the server sent none */
  int port;                           /* 0 when the server sent none */
  int error_code;                     /* the Error record's code, -1 if none */
  int warnings;                       /* Warning records seen */
};

enum nts_ke_status {
  NTS_KE_OK = 0,
  NTS_KE_INCOMPLETE,     /* no End of Message yet: read more */
  NTS_KE_BAD_LENGTH,     /* a body of the wrong length, or a record cut off
                            by the end of the stream (when final) */
  NTS_KE_UNKNOWN_CRITICAL, /* a critical record of an unknown type */
  NTS_KE_TRAILING,       /* bytes after End of Message */
  NTS_KE_SERVER_ERROR,   /* an Error record (out->error_code) */
  NTS_KE_BAD_PROTOCOL,   /* Next Protocol missing, repeated or not NTPv4 */
  NTS_KE_NO_AEAD,        /* AEAD missing, repeated, or not one we offered */
  NTS_KE_NO_COOKIE,      /* no New Cookie record (or one too long/empty) */
  NTS_KE_TOO_LONG,       /* the message exceeds NTS_KE_MAX_MESSAGE */
  NTS_KE_STATUS_COUNT
};

/* "ok", "incomplete", "bad-length", "unknown-critical", "trailing",
 * "server-error", "bad-protocol", "no-aead", "no-cookie", "too-long";
 * "?" outside the enum. */
const char *nts_ke_status_name(enum nts_ke_status s);

/* Appends one record (type with the critical bit as given) to
 * buf[*len..cap). Returns 0, or -1 when it does not fit or body_len >
 * 65535. */
int nts_ke_put_record(uint8_t *buf, size_t cap, size_t *len, bool critical,
                      uint16_t type, const uint8_t *body, size_t body_len);

/* The client's request: Next Protocol NTPv4, AEAD AES-SIV-CMAC-256 and End
 * of Message, all critical. Returns the length, or 0 if cap is too small. */
size_t nts_ke_build_request(uint8_t *buf, size_t cap);

/* Decodes the server's message in buf[0..len). With final false, a message
 * without End of Message yet is NTS_KE_INCOMPLETE (the caller reads on);
 * with final true (the stream ended) it is NTS_KE_BAD_LENGTH. out is
 * always filled as far as the records were read. */
enum nts_ke_status nts_ke_parse_response(const uint8_t *buf, size_t len, bool final,
                                         struct nts_ke_response *out);

/* ---- the server's side ---- */

/* What a client's request offers. */
struct nts_ke_request {
  bool ntpv4;      /* Next Protocol lists NTPv4 */
  bool siv;        /* AEAD lists AEAD_AES_SIV_CMAC_256 */
};

/* Decodes a client's request in buf[0..len): Next Protocol (once, even
 * length), AEAD (once, even length), End of Message; Server and Port
 * records (a client's wish) and other non-critical records are ignored.
 * Returns NTS_KE_OK; NTS_KE_INCOMPLETE (not final, no End of Message yet);
 * NTS_KE_UNKNOWN_CRITICAL (answered with error 0); NTS_KE_BAD_LENGTH,
 * NTS_KE_TRAILING, NTS_KE_TOO_LONG, NTS_KE_BAD_PROTOCOL (Next Protocol
 * missing or repeated), NTS_KE_NO_AEAD (AEAD missing or repeated), and
 * NTS_KE_SERVER_ERROR for an Error, Warning or New Cookie record a client
 * may not send (all answered with error 1, bad request). An NTPv4 or AEAD
 * not offered is not an error of the request: see out. */
enum nts_ke_status nts_ke_parse_request(const uint8_t *buf, size_t len, bool final,
                                        struct nts_ke_request *out);

/* The NTS-KE error codes (RFC 8915 §4.1.3). */
#define NTS_KE_ERR_UNRECOGNIZED 0
#define NTS_KE_ERR_BAD_REQUEST 1
#define NTS_KE_ERR_INTERNAL 2

/* The server's answer to a request decoded as `status`/req: an Error
 * record (error 0 or 1) when status is not NTS_KE_OK; else Next Protocol
 * (NTPv4, or empty when the client did not offer it), AEAD 15 when offered
 * (omitted otherwise: the client finds no common algorithm), then, when
 * both are agreed, the n cookies and a Port record when port > 0; End of
 * Message last, every record but the cookies and Port critical (RFC 8915
 * §4.1). Returns the length, or 0 when cap is too small. */
size_t nts_ke_build_response(uint8_t *buf, size_t cap, enum nts_ke_status status,
                             const struct nts_ke_request *req, const struct nts_cookie *cookies,
                             int n, int port);

/* The exporter context (RFC 8915 §5.1): protocol id, AEAD id, and 0x00
 * for the client-to-server key or 0x01 for server-to-client. */
void nts_ke_exporter_context(uint8_t out[5], int aead, bool s2c);

#endif
