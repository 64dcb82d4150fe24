/* Who may change state through the HTTP API (issue 11, "Access"). Pure:
 * strings in, decisions out, unit tested without a server.
 *
 * Read-only endpoints (GET/HEAD of /api/v1/..., /metrics) are open to
 * whoever reaches the configured address (127.0.0.1 by default). The
 * state-changing endpoints are POST and need "Authorization: Bearer TOKEN"
 * (RFC 6750 §2.1) with the token of the `httptoken` file:
 *
 *   POST /api/v1/alert/test[?channel=NAME]   a test notification on every
 *        channel (or NAME), through the outbox like `vettime alert test`
 *   POST /api/v1/alert/retry[?id=N|all]      requeue dead notifications,
 *        like `vettime alert retry` (default all)
 *
 * No token configured: 403 (the endpoints are off, whatever is sent).
 * Missing, malformed or wrong Authorization: 401 with
 * WWW-Authenticate: Bearer. Another method on these paths: 405. */
#ifndef VT_ACCESS_H
#define VT_ACCESS_H

#include <stdbool.h>

#define ACCESS_PREFIX "/api/v1/alert/"
#define ACCESS_ALLOW "POST"

enum web_action { WA_NONE = 0, WA_ALERT_TEST, WA_ALERT_RETRY };

/* Whether url (a query string is ignored) is a state-changing endpoint.
 * Returns 0 when it is not one (*out = WA_NONE); else 200 with the action
 * in *out for POST, 405 for another method. */
int access_route(const char *method, const char *url, enum web_action *out);

/* Checks an Authorization header value (NULL when absent) against token
 * (NULL or "" when none is configured). Returns 200 when allowed, 403 when
 * no token is configured, 401 otherwise; *why gets the reason for people.
 * The comparison takes the same time wherever the first difference is. */
int access_authorize(const char *token, const char *authorization, const char **why);

/* Parses the retry action's id argument: NULL or "all" -> 0 (all), else a
 * decimal id 1..2^63-1. Returns 0, or -1 for anything else. */
int access_parse_id(const char *s, long long *out);

#endif
