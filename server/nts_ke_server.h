/* The NTS-KE server (RFC 8915 §4) and the cookie keys (§6) for the served
 * time; docs/design.md, "NTS server".
 *
 * One thread, apart from the daemon's loop like the NTP server's: a poll()
 * loop over a TCP listener per served address (port `ntsport`, 4460) and
 * at most NTS_KE_CONNS connections, NTS_KE_PER_ADDR from one address, each
 * with NTS_KE_TIMEOUT seconds for the whole exchange; the access list
 * (allow/deny) and the rate limiter (`ratelimit`, a table of its own:
 * server/ratelimit.h) apply to each new connection. TLS 1.3 only (libssl,
 * non-blocking), ALPN "ntske/1" or the handshake fails with the
 * no_application_protocol alert. The records: probes/nts_ke.h; the keys
 * exported with SSL_export_keying_material; 8 cookies sealed under the
 * current cookie key (server/nts_serve.h); a Port record when the served
 * NTP port is not 123.
 *
 * The cookie keys: NTS_COOKIE_KEYS of them, newest first, a new one every
 * `ntsrotate` seconds (the oldest dropped: a cookie stays valid for two to
 * three intervals), kept in DIR/ntskeys (mode 0600, written whole and
 * renamed into place) so a restart keeps the cookies the clients hold
 * valid. The NTP server's threads read the current set through
 * nts_server_keys() (a pointer into a ring of copies, swapped atomically:
 * no lock). */
#ifndef VT_NTS_KE_SERVER_H
#define VT_NTS_KE_SERVER_H

#include <stddef.h>

#include "server/nts_serve.h"

#define NTS_KE_CONNS 64
#define NTS_KE_PER_ADDR 4
#define NTS_KE_TIMEOUT 2.0 /* s */
#define NTS_KEYS_FILE "ntskeys"

struct server_config;

/* Checks the NTS directives of cfg (the server family's check:
 * vettimed -t and before a start): both or neither of ntsservercert and
 * ntsserverkey; the certificate and the key readable PEM, and the key the
 * certificate's. cert_at and key_at say where the directives are
 * ("FILE:LINE"). Returns 0, or -1 with "FILE:LINE: ..." in err. */
int nts_server_check(const struct server_config *cfg, const char *cert_at, const char *key_at,
                     char *err, size_t errlen);

/* When cfg serves NTS: loads (or makes) the cookie keys in cfg's
 * ntsdumpdir or else default_dir, binds the NTS-KE listeners (before root
 * is dropped) and starts the thread. Nothing when cfg does not serve NTS.
 * Returns 0, or -1 with the reason in err (nothing left running). */
int nts_server_start(const struct server_config *cfg, const char *default_dir, char *err,
                     size_t errlen);

/* Stops the thread and closes the listeners. Safe when not started. */
void nts_server_stop(void);

/* The cookie keys as they are now, or NULL when NTS is not served. Valid
 * for NTS_COOKIE_KEYS - 1 rotations after the call. */
const struct nts_keyset *nts_server_keys(void);

/* Reads a key file into ks (newest first). Returns 0, or -1 with the
 * reason in err (missing, unreadable, malformed). Exposed for the tests. */
int nts_keys_load(const char *path, struct nts_keyset *ks, char *err, size_t errlen);
/* Writes ks to path (mode 0600, through path.tmp and rename). */
int nts_keys_save(const char *path, const struct nts_keyset *ks, char *err, size_t errlen);

#endif
