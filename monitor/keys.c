/* Symmetric key file reader: see keys.h. The format is the one chrony
 * (doc/chrony.conf.adoc, "keyfile") and NTPsec (ntp.keys(5)) share; the keys
 * are used for RFC 5905 / RFC 8573 packet MACs. Parsing is line by line
 * over bounded buffers and stops at the first error, naming file and line,
 * so a broken key file refuses to start the daemon with one clear message. */
#include "monitor/keys.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "lib/lineparse.h"

#define KEYS_LINE_MAX 1024          /* longer lines are an error */
#define KEYS_FILE_MAX (1024 * 1024) /* a key file is small */
#define KEYS_TOKENS 3               /* ID TYPE KEY; the words after are ignored */

/* A growing keyring plus the line each key came from (for duplicates). */
struct builder {
  struct ntp_key *keys;
  int *lines;
  size_t n, cap;
};

/* The type names chrony and NTPsec write, folded to our three MACs. */
static const struct { const char *name; enum mac_alg alg; } type_names[] = {
    {"MD5", MAC_MD5},           {"M", MAC_MD5},
    {"SHA1", MAC_SHA1},         {"SHA-1", MAC_SHA1},
    {"AES-128-CMAC", MAC_AES128_CMAC}, {"AES128", MAC_AES128_CMAC},
    {"AES-128", MAC_AES128_CMAC},      {"AES128CMAC", MAC_AES128_CMAC},
    {"CMAC", MAC_AES128_CMAC},
};

static bool parse_type(const char *tok, enum mac_alg *alg) {
  for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
    if (strcasecmp(tok, type_names[i].name) == 0) {
      *alg = type_names[i].alg;
      return true;
    }
  }
  return false;
}

static int parse_id(const struct lp_ctx *c, const char *tok, uint32_t *id) {
  for (const char *p = tok; *p; p++)
    if (!isdigit((unsigned char)*p))
      return lp_fail(c, "key id \"%s\" is not a number", tok);
  long long v;
  if (lp_scan_int(tok, 1, UINT32_MAX, &v) != LP_NUM_OK)
    return lp_fail(c, "key id %s out of range (1-4294967295)", tok);
  *id = (uint32_t)v;
  return 0;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static bool all_hex(const char *s) {
  for (; *s; s++)
    if (hexval(*s) < 0) return false;
  return true;
}

static int decode_hex(const struct lp_ctx *c, uint32_t id, const char *hex,
                      struct ntp_key *k) {
  size_t len = strlen(hex);
  for (size_t i = 0; i < len; i++)
    if (hexval(hex[i]) < 0)
      return lp_fail(c, "key %" PRIu32 ": bad hex digit '%c' in key", id, hex[i]);
  if (len % 2) return lp_fail(c, "key %" PRIu32 ": odd number of hex digits", id);
  if (len / 2 > NTP_MAX_KEY_LEN)
    return lp_fail(c, "key %" PRIu32 ": key longer than %d bytes", id,
                NTP_MAX_KEY_LEN);
  for (size_t i = 0; i < len / 2; i++)
    k->key[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  k->len = len / 2;
  return 0;
}

static int copy_ascii(const struct lp_ctx *c, uint32_t id, const char *s,
                      struct ntp_key *k) {
  size_t len = strlen(s);
  if (len > NTP_MAX_KEY_LEN)
    return lp_fail(c, "key %" PRIu32 ": key longer than %d bytes", id,
                NTP_MAX_KEY_LEN);
  memcpy(k->key, s, len);
  k->len = len;
  return 0;
}

/* chrony's explicit prefixes decide; otherwise NTPsec's rule (authreadkeys:
 * up to 20 characters is an ASCII password, longer all-hex is hex). */
static int parse_key(const struct lp_ctx *c, const char *tok,
                     struct ntp_key *k) {
  int rc;
  if (strncasecmp(tok, "HEX:", 4) == 0 && tok[4])
    rc = decode_hex(c, k->id, tok + 4, k);
  else if (strncasecmp(tok, "ASCII:", 6) == 0 && tok[6])
    rc = copy_ascii(c, k->id, tok + 6, k);
  else if (strcasecmp(tok, "HEX:") == 0 || strcasecmp(tok, "ASCII:") == 0)
    return lp_fail(c, "key %" PRIu32 ": missing key", k->id);
  else if (strlen(tok) > 20 && all_hex(tok))
    rc = decode_hex(c, k->id, tok, k);
  else
    rc = copy_ascii(c, k->id, tok, k);
  if (rc == 0 && k->alg == MAC_AES128_CMAC && k->len != 16)
    return lp_fail(c, "key %" PRIu32 ": AES-128-CMAC needs a 16-byte key, got %zu",
                k->id, k->len);
  return rc;
}

/* One non-blank line: `ID TYPE KEY [ignored...]` or chrony's `ID KEY`. */
static int parse_line(const struct lp_ctx *c, char *tok[], size_t ntok,
                      struct ntp_key *k) {
  memset(k, 0, sizeof *k);
  if (parse_id(c, tok[0], &k->id) < 0) return -1;
  if (ntok == 1) return lp_fail(c, "key %" PRIu32 ": missing type and key", k->id);
  if (ntok == 2) {
    /* `ID MD5` is a forgotten key, not the password "MD5". */
    if (parse_type(tok[1], &k->alg))
      return lp_fail(c, "key %" PRIu32 ": missing key", k->id);
    k->alg = MAC_MD5;
    return parse_key(c, tok[1], k);
  }
  if (!parse_type(tok[1], &k->alg))
    return lp_fail(c, "key %" PRIu32 ": unknown type %s", k->id, tok[1]);
  return parse_key(c, tok[2], k);
}

static int builder_add(const struct lp_ctx *c, struct builder *b,
                       const struct ntp_key *k) {
  for (size_t i = 0; i < b->n; i++)
    if (b->keys[i].id == k->id)
      return lp_fail(c, "key %" PRIu32 ": duplicate id (first on line %d)", k->id,
                  b->lines[i]);
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 8;
    struct ntp_key *keys = calloc(cap, sizeof *keys);
    int *lines = realloc(b->lines, cap * sizeof *lines);
    if (!keys || !lines) {
      free(keys);
      if (lines) b->lines = lines;
      return lp_fail(c, "out of memory");
    }
    if (b->n) memcpy(keys, b->keys, b->n * sizeof *keys);
    if (b->keys) OPENSSL_cleanse(b->keys, b->n * sizeof *b->keys);
    free(b->keys);
    b->keys = keys;
    b->lines = lines;
    b->cap = cap;
  }
  b->keys[b->n] = *k;
  b->lines[b->n++] = c->line;
  return 0;
}

static int parse_all(struct lp_ctx *c, const char *text, struct builder *b) {
  char line[KEYS_LINE_MAX], *tok[KEYS_TOKENS];
  struct ntp_key k;
  int rc = 0, n;
  while (rc == 0 && (n = lp_next_line(c, &text, line, sizeof line)) != LP_END) {
    if (n == LP_TOO_LONG) {
      rc = lp_fail(c, "line longer than %d characters", KEYS_LINE_MAX - 1);
      break;
    }
    int ntok = lp_split(line, tok, KEYS_TOKENS);
    if (ntok == 0) continue;
    rc = parse_line(c, tok, ntok < KEYS_TOKENS ? (size_t)ntok : KEYS_TOKENS, &k);
    if (rc == 0) rc = builder_add(c, b, &k);
  }
  OPENSSL_cleanse(line, sizeof line);
  OPENSSL_cleanse(&k, sizeof k);
  return rc;
}

int keyring_parse(const char *name, const char *text, struct keyring *out,
                  char *err, size_t errlen) {
  struct lp_ctx c = {.file = name ? name : "keys", .err = err, .errlen = errlen};
  struct builder b = {0};
  int rc = parse_all(&c, text ? text : "", &b);
  free(b.lines);
  if (rc < 0) {
    struct keyring tmp = {b.keys, b.n};
    keyring_free(&tmp);
    return -1;
  }
  out->keys = b.keys;
  out->n = b.n;
  return 0;
}

/* Reads at most KEYS_FILE_MAX bytes; returns a NUL-terminated buffer. */
/* The file's text, NUL-terminated, with its length in *len; NULL with err
 * set when it cannot be read, is over KEYS_FILE_MAX, or holds a NUL byte
 * (the parser would stop there and silently drop the keys after it). */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errlen) snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(KEYS_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, KEYS_FILE_MAX + 1, f) : 0;
  bool nul = buf && memchr(buf, '\0', n) != NULL;
  bool bad = !buf || ferror(f) || n > KEYS_FILE_MAX || nul;
  if (bad && errlen)
    snprintf(err, errlen, "%s: %s", path,
             !buf ? "out of memory"
                  : ferror(f) ? "read error"
                  : n > KEYS_FILE_MAX ? "file too large (over 1 MiB)"
                                      : "contains a NUL byte (not a text file?)");
  fclose(f);
  if (bad) {
    if (buf) OPENSSL_cleanse(buf, n); /* what was read may be keys */
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

int keyring_load(const char *path, struct keyring *out, char *err,
                 size_t errlen) {
  size_t len = 0;
  char *text = read_file(path, &len, err, errlen);
  if (!text) return -1;
  int rc = keyring_parse(path, text, out, err, errlen);
  OPENSSL_cleanse(text, len);
  free(text);
  return rc;
}

const struct ntp_key *keyring_find(const struct keyring *kr, uint32_t id) {
  if (!kr) return NULL;
  for (size_t i = 0; i < kr->n; i++)
    if (kr->keys[i].id == id) return &kr->keys[i];
  return NULL;
}

void keyring_free(struct keyring *kr) {
  if (!kr) return;
  if (kr->keys) OPENSSL_cleanse(kr->keys, kr->n * sizeof *kr->keys);
  free(kr->keys);
  kr->keys = NULL;
  kr->n = 0;
}
