/* Monitoring-plugins ranges: see range.h. */
#include "cli/range.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 4, 5)))
static int refuse(const char *text, char *err, size_t errlen, const char *fmt, ...) {
  char why[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  snprintf(err, errlen, "bad range \"%s\": %s", text, why);
  return -1;
}

static const struct {
  const char *name;
  double scale;
} time_units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1.0}};

/* One number of [p, end), with its unit when unit is RANGE_SECONDS.
 * Returns 0 with *out in the base unit, or -1 with the reason. */
static int parse_number(const char *text, const char *p, const char *end,
                        enum range_unit unit, double *out, char *err, size_t errlen) {
  char buf[48];
  size_t len = (size_t)(end - p);
  if (len == 0) return refuse(text, err, errlen, "a number is missing");
  if (len >= sizeof buf) return refuse(text, err, errlen, "a number is too long");
  memcpy(buf, p, len);
  buf[len] = '\0';
  /* strtod would take "inf", "nan", hex and leading blanks: allow only
   * a sign, digits, one point and an exponent. */
  if (strspn(buf, "+-0123456789.eE") == 0 ||
      !(buf[0] == '-' || buf[0] == '+' || buf[0] == '.' || (buf[0] >= '0' && buf[0] <= '9')))
    return refuse(text, err, errlen, "\"%s\" is not a number", buf);
  const char *digits = buf + (buf[0] == '-' || buf[0] == '+');
  if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
    return refuse(text, err, errlen, "\"%s\" is not a number", buf);
  char *rest;
  double v = strtod(buf, &rest);
  if (rest == buf || !isfinite(v))
    return refuse(text, err, errlen, "\"%s\" is not a number", buf);
  if (*rest == '\0') {
    *out = v;
    return 0;
  }
  if (!((*rest >= 'a' && *rest <= 'z') || (*rest >= 'A' && *rest <= 'Z')))
    return refuse(text, err, errlen, "\"%s\" is not a number", buf);
  if (unit == RANGE_PLAIN)
    return refuse(text, err, errlen, "\"%s\": a count takes no unit", buf);
  for (size_t i = 0; i < sizeof time_units / sizeof time_units[0]; i++)
    if (strcmp(rest, time_units[i].name) == 0) {
      *out = v * time_units[i].scale;
      return 0;
    }
  return refuse(text, err, errlen, "\"%s\": unknown unit \"%s\" (ns, us, ms, s)", buf, rest);
}

int range_parse(const char *text, enum range_unit unit, struct vt_range *out,
                char *err, size_t errlen) {
  if (!text) text = "";
  struct vt_range r = {.start = 0, .end = INFINITY};
  if (strlen(text) >= sizeof r.text) return refuse(text, err, errlen, "too long");
  snprintf(r.text, sizeof r.text, "%s", text);
  const char *p = text;
  if (*p == '\0') return refuse(text, err, errlen, "empty");
  if (strpbrk(p, " \t\n")) return refuse(text, err, errlen, "blanks are not allowed");
  if (*p == '@') {
    r.inside = true;
    p++;
    if (*p == '\0') return refuse(text, err, errlen, "nothing after '@'");
  }
  const char *colon = strchr(p, ':');
  if (colon && strchr(colon + 1, ':')) return refuse(text, err, errlen, "more than one ':'");
  if (!colon) { /* "10": start 0, end 10 */
    if (*p == '~') return refuse(text, err, errlen, "'~' stands only before ':' (\"~:10\")");
    if (parse_number(text, p, p + strlen(p), unit, &r.end, err, errlen)) return -1;
  } else {
    if (colon == p)
      return refuse(text, err, errlen, "the start is empty (write \"0:...\" or \"~:...\")");
    if (colon - p == 1 && *p == '~')
      r.start = -INFINITY;
    else if (parse_number(text, p, colon, unit, &r.start, err, errlen))
      return -1;
    const char *e = colon + 1;
    if (*e == '~') return refuse(text, err, errlen, "'~' means minus infinity and stands only as the start");
    if (*e != '\0' && parse_number(text, e, e + strlen(e), unit, &r.end, err, errlen)) return -1;
  }
  if (r.start > r.end)
    return refuse(text, err, errlen, "the start %g is above the end %g", r.start, r.end);
  *out = r;
  return 0;
}

bool range_alerts(const struct vt_range *r, double v) {
  if (isnan(v)) return false;
  bool within = v >= r->start && v <= r->end;
  return r->inside ? within : !within;
}

const char *range_number(double v, char *buf, size_t len) {
  snprintf(buf, len, "%.9f", v);
  char *dot = strchr(buf, '.');
  if (dot) {
    char *end = buf + strlen(buf);
    while (end > dot + 1 && end[-1] == '0') *--end = '\0';
    if (end == dot + 1) *dot = '\0';
  }
  if (strcmp(buf, "-0") == 0) snprintf(buf, len, "0");
  return buf;
}

const char *range_format(const struct vt_range *r, char *buf, size_t len) {
  char s[48] = "", e[48] = "";
  if (isinf(r->end) == 0) range_number(r->end, e, sizeof e);
  if (r->start == 0 && !isinf(r->end))
    snprintf(buf, len, "%s%s", r->inside ? "@" : "", e);
  else {
    if (isinf(r->start)) snprintf(s, sizeof s, "~");
    else range_number(r->start, s, sizeof s);
    snprintf(buf, len, "%s%s:%s", r->inside ? "@" : "", s, e);
  }
  return buf;
}
