/* The symmetric key file shared by chrony (chrony.keys) and NTPsec
 * (ntp.keys): one key per line, `ID TYPE KEY`, `#` starts a comment. Keys
 * authenticate NTP packets (RFC 5905 §7.3, RFC 8573); see probes/ntp_auth.h.
 *
 * Accepted, so one file serves both daemons and vettime:
 *   ID    decimal 1..4294967295 (0 means "no key" in NTP).
 *   TYPE  MD5 or M; SHA1 or SHA-1; AES-128-CMAC, AES128, AES-128,
 *         AES128CMAC or CMAC (case-insensitive). chrony's `ID KEY` form,
 *         with TYPE omitted, means MD5.
 *   KEY   "HEX:..." or "ASCII:..." (chrony) says how to read it; without a
 *         prefix, NTPsec's rule: more than 20 characters, all hex digits
 *         -> hex, else ASCII. At most 64 bytes; AES-128-CMAC exactly 16.
 *   Fields after KEY (NTPsec's address list) are ignored.
 * Errors are one line, "FILE:LINE: what is wrong". */
#ifndef VT_KEYS_H
#define VT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "probes/ntp_auth.h"

struct keyring {
  struct ntp_key *keys; /* n keys in file order, ids unique */
  size_t n;
};

/* Reads and parses the key file at path (see keyring_parse; path is the
 * FILE in messages). Returns 0, or -1 with err set ("PATH: strerror" when
 * the file cannot be read). out is untouched on error. */
int keyring_load(const char *path, struct keyring *out, char *err,
                 size_t errlen);

/* Parses the key-file text (NUL-terminated); name is the FILE in error
 * messages. On success fills out (free with keyring_free) and returns 0; on
 * the first bad line returns -1, leaves out untouched and writes
 * "NAME:LINE: what is wrong" to err (errlen may be 0). */
int keyring_parse(const char *name, const char *text, struct keyring *out,
                  char *err, size_t errlen);

/* The key with this id, or NULL (also when kr is NULL). */
const struct ntp_key *keyring_find(const struct keyring *kr, uint32_t id);

/* Frees the keys and zeroes them first (they are secrets); leaves an empty
 * keyring. Safe on an empty or already freed keyring. */
void keyring_free(struct keyring *kr);

#endif
