/* The line-parser toolkit: see lineparse.h. */
#include "lib/lineparse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LP_BLANKS " \t\r\n\f\v"

int lp_fail(const struct lp_ctx *c, const char *fmt, ...) {
  if (!c->err || c->errlen == 0) return -1;
  int n;
  if (c->line > 0) n = snprintf(c->err, c->errlen, "%s:%d: ", c->file, c->line);
  else n = snprintf(c->err, c->errlen, "%s: ", c->file);
  if (n < 0 || (size_t)n >= c->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

int lp_next_line(struct lp_ctx *c, const char **text, char *buf, size_t cap) {
  if (!**text) return LP_END;
  const char *start = *text;
  size_t len = strcspn(start, "\n");
  *text = start + len + (start[len] ? 1 : 0);
  c->line++;
  if (len >= cap) {
    if (cap) buf[0] = '\0';
    return LP_TOO_LONG;
  }
  memcpy(buf, start, len);
  buf[len] = '\0';
  return (int)len;
}

int lp_split(char *line, char **argv, int max) {
  char *hash = strchr(line, '#');
  if (hash) *hash = '\0';
  int n = 0;
  char *save = NULL;
  for (char *w = strtok_r(line, LP_BLANKS, &save); w; w = strtok_r(NULL, LP_BLANKS, &save)) {
    if (n < max) argv[n] = w;
    n++;
  }
  return n;
}

enum lp_num lp_scan_int(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end) return LP_NUM_SYNTAX;
  if (errno) return LP_NUM_OVERFLOW;
  *out = v;
  return v < lo || v > hi ? LP_NUM_RANGE : LP_NUM_OK;
}

enum lp_num lp_scan_double(const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || isnan(v)) return LP_NUM_SYNTAX;
  if (errno || !isfinite(v)) return LP_NUM_OVERFLOW;
  *out = v;
  return v < lo || v > hi ? LP_NUM_RANGE : LP_NUM_OK;
}

int lp_int(const struct lp_ctx *c, const char *what, const char *s, long long lo,
           long long hi, long long *out) {
  long long v = 0;
  switch (lp_scan_int(s, lo, hi, &v)) {
  case LP_NUM_OK: *out = v; return 0;
  case LP_NUM_RANGE:
    return lp_fail(c, "%s: %lld is out of range (%lld to %lld)", what, v, lo, hi);
  default: return lp_fail(c, "%s: \"%s\" is not a whole number", what, s);
  }
}

int lp_double(const struct lp_ctx *c, const char *what, const char *s, double lo,
              double hi, double *out) {
  double v = 0;
  switch (lp_scan_double(s, lo, hi, &v)) {
  case LP_NUM_OK: *out = v; return 0;
  case LP_NUM_RANGE: return lp_fail(c, "%s: %g is out of range (%g to %g)", what, v, lo, hi);
  default: return lp_fail(c, "%s: \"%s\" is not a number", what, s);
  }
}

static const struct lp_unit seconds_list[] = {
    {"", 1}, {"s", 1}, {"ms", 1e3}, {"us", 1e6}, {"\xc2\xb5s", 1e6}, {"ns", 1e9}, {NULL, 0}};

const struct lp_units lp_units_seconds = {seconds_list, "s, ms, us or ns"};

/* Reads [+-]?(D+[.D*]|.D+) at the start of tok; returns the characters
 * used, 0 if there is no such number (or it is absurdly long). */
static size_t scan_decimal(const char *tok, double *v) {
  size_t i = (tok[0] == '+' || tok[0] == '-') ? 1 : 0, digits = 0;
  while (tok[i] >= '0' && tok[i] <= '9') i++, digits++;
  if (tok[i] == '.') {
    i++;
    while (tok[i] >= '0' && tok[i] <= '9') i++, digits++;
  }
  if (digits == 0 || i >= 64) return 0;
  char num[64];
  memcpy(num, tok, i);
  num[i] = '\0';
  *v = strtod(num, NULL);
  return i;
}

int lp_quantity(const struct lp_ctx *c, const char *tok, const struct lp_units *u,
                bool allow_negative, double *out) {
  double v;
  size_t n = scan_decimal(tok, &v);
  if (n == 0) return lp_fail(c, "bad number \"%s\"", tok);
  const struct lp_unit *unit = u->units;
  while (unit->suffix && strcmp(unit->suffix, tok + n) != 0) unit++;
  if (!unit->suffix) return lp_fail(c, "bad unit in \"%s\" (%s)", tok, u->help);
  if (!allow_negative && v < 0) return lp_fail(c, "\"%s\" must not be negative", tok);
  *out = v / unit->per;
  return 0;
}

int lp_one_arg(const struct lp_ctx *c, char **argv, int argc) {
  if (argc != 2) return lp_fail(c, "%s takes exactly one argument", argv[0]);
  return 0;
}
