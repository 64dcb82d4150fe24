/* Access decisions for the state-changing endpoints (see access.h). */
#include "web/access.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *path;
  enum web_action action;
} actions[] = {
    {ACCESS_PREFIX "test", WA_ALERT_TEST},
    {ACCESS_PREFIX "retry", WA_ALERT_RETRY},
};

int access_route(const char *method, const char *url, enum web_action *out) {
  *out = WA_NONE;
  if (!method || !url) return 0;
  size_t len = strcspn(url, "?");
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
    if (strlen(actions[i].path) != len || memcmp(url, actions[i].path, len) != 0) continue;
    if (strcmp(method, "POST") != 0) return 405;
    *out = actions[i].action;
    return 200;
  }
  return 0;
}

/* Constant time in the contents: every byte of the longer string is
 * looked at whatever the first difference is; only the lengths leak,
 * and the token's length is not the secret. */
static bool same(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
  unsigned char diff = (unsigned char)(la != lb);
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < la ? (unsigned char)a[i] : 0, y = i < lb ? (unsigned char)b[i] : 0;
    diff |= (unsigned char)(x ^ y);
  }
  return diff == 0;
}

int access_authorize(const char *token, const char *authorization, const char **why) {
  if (!token || !token[0]) {
    *why = "state-changing endpoints are off: no httptoken is configured";
    return 403;
  }
  if (!authorization) {
    *why = "an Authorization: Bearer token is required";
    return 401;
  }
  /* RFC 6750 §2.1: "Bearer" (case-insensitive, RFC 9110 §11.1) 1*SP token. */
  if (strncasecmp(authorization, "Bearer ", 7) != 0) {
    *why = "the Authorization header must be \"Bearer TOKEN\"";
    return 401;
  }
  const char *t = authorization + 7;
  while (*t == ' ') t++;
  if (!same(t, token)) {
    *why = "wrong token";
    return 401;
  }
  *why = "";
  return 200;
}

int access_parse_id(const char *s, long long *out) {
  if (!s || strcmp(s, "all") == 0) {
    *out = 0;
    return 0;
  }
  if (*s < '1' || *s > '9' || strlen(s) > 19) return -1;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v <= 0) return -1;
  *out = v;
  return 0;
}
