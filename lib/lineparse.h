/* The one toolkit for the project's line-oriented text files: the
 * configuration (monitor/config.c, and the directive families registered
 * with it such as alerting/alert_config.c), the key file (monitor/keys.c)
 * and the scenario files (cli/scenario.c).
 *
 * The rules every such file shares:
 *   - one entry a line; a line longer than the caller's buffer is an error;
 *   - `#` starts a comment wherever it stands, to the end of the line;
 *   - words are separated by blanks (space, tab, CR, LF, FF, VT); there is
 *     no quoting: `"a b"` is the two words `"a` and `b"`, as in chrony.conf;
 *   - errors are one line, "FILE:LINE: what is wrong", or "FILE: what is
 *     wrong" for what the file as a whole lacks.
 *
 * Pure: no I/O, no allocation, no globals; the line buffers are the
 * caller's (so a caller holding secrets can wipe them). */
#ifndef VT_LINEPARSE_H
#define VT_LINEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Where a parser is, and where its error message goes. */
struct lp_ctx {
  const char *file; /* FILE in messages */
  int line;         /* LINE, counted from 1; 0 for the file as a whole */
  char *err;        /* the message; NULL or errlen 0: no message */
  size_t errlen;
  int file_id;      /* for a caller that reads several files (the
                       configuration's includes): which one, as it numbers
                       them; 0 for the first */
};

/* Writes "FILE:LINE: message" (line > 0) or "FILE: message" to c->err,
 * truncated to c->errlen. Returns -1, so that `return lp_fail(...)` is the
 * usual way out of a parser. */
int lp_fail(const struct lp_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- lines and words ---- */

#define LP_END (-1)      /* no line left */
#define LP_TOO_LONG (-2) /* the line does not fit; it is skipped */

/* Copies the next line of *text (up to '\n' or the end, without the '\n')
 * into buf as a string, advances *text past it and counts it in c->line.
 * Returns the line's length, LP_END, or LP_TOO_LONG when it has cap or
 * more characters (buf is then ""). */
int lp_next_line(struct lp_ctx *c, const char **text, char *buf, size_t cap);

/* Cuts the comment off line and splits the rest in place into words.
 * Returns the number of words, which may be more than max: argv holds the
 * first max of them (a caller decides whether extra words are an error or
 * ignored). */
int lp_split(char *line, char **argv, int max);

/* ---- numbers ---- */

enum lp_num {
  LP_NUM_OK = 0,
  LP_NUM_SYNTAX,   /* not a number of the kind asked for */
  LP_NUM_OVERFLOW, /* a number, but beyond what the type holds */
  LP_NUM_RANGE,    /* a number outside [lo, hi]; *out holds it */
};

/* A whole decimal integer, all of s (strtoll's syntax: an optional sign,
 * no blanks after it), in [lo, hi]. *out is set unless SYNTAX or
 * OVERFLOW. */
enum lp_num lp_scan_int(const char *s, long long lo, long long hi, long long *out);

/* A finite number, all of s (strtod's syntax), in [lo, hi]. *out is set
 * unless SYNTAX or OVERFLOW. */
enum lp_num lp_scan_double(const char *s, double lo, double hi, double *out);

/* The directive style of the configuration: on a bad value, fail with
 * "WHAT: \"S\" is not a whole number" or "WHAT: V is out of range (LO to
 * HI)". Returns 0 with *out set, or -1. */
int lp_int(const struct lp_ctx *c, const char *what, const char *s, long long lo,
           long long hi, long long *out);

/* The same for any finite number: "WHAT: \"S\" is not a number" or
 * "WHAT: V is out of range (LO to HI)" (%g). */
int lp_double(const struct lp_ctx *c, const char *what, const char *s, double lo,
              double hi, double *out);

/* ---- quantities with a unit ---- */

struct lp_unit {
  const char *suffix; /* written straight after the number; "" for none */
  double per;         /* how many of this unit make the base unit */
};

/* A family of units of one base unit (seconds, seconds per second, ...). */
struct lp_units {
  const struct lp_unit *units; /* ended by a NULL suffix */
  const char *help;            /* for messages: "s, ms, us or ns" */
};

/* Durations and offsets: "", s, ms, us, µs, ns; base unit the second. */
extern const struct lp_units lp_units_seconds;

/* A decimal number [+-]?(D+[.D*]|.D+), without exponent, inf, nan or hex,
 * followed at once by one of the family's suffixes; *out in the base unit.
 * Fails with "bad number \"TOK\"", "bad unit in \"TOK\" (HELP)" or, unless
 * allow_negative, "\"TOK\" must not be negative". */
int lp_quantity(const struct lp_ctx *c, const char *tok, const struct lp_units *u,
                bool allow_negative, double *out);

/* ---- words ---- */

/* Copies s into dst[cap]; fails with "WHAT: too long (at most N
 * characters)". */
static inline int lp_copy(const struct lp_ctx *c, const char *what, const char *s, char *dst,
                          size_t cap) {
  size_t n = strlen(s);
  if (n >= cap) return lp_fail(c, "%s: too long (at most %zu characters)", what, cap - 1);
  memcpy(dst, s, n + 1);
  return 0;
}

/* Fails with "DIRECTIVE takes exactly one argument" unless argc is 2. */
int lp_one_arg(const struct lp_ctx *c, char **argv, int argc);

#endif
