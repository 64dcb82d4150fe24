/* The daemon's HTTP server: libmicrohttpd in external epoll mode, driven by
 * our event loop (lib/sched.h) rather than by threads of its own. MHD's
 * epoll descriptor is watched like any other descriptor; a timer re-armed
 * from MHD_get_timeout() after every run closes idle connections on time.
 *
 * What it serves: GET/HEAD of web/api.h's /api/v1/ documents, as
 * application/json; GET/HEAD /metrics (web/metrics.h); and the
 * state-changing POST endpoints of web/access.h behind a bearer token. Anything else is answered and forgotten: unknown paths 404, other methods 405 (with Allow), requests
 * with a body 413; every error body is {"error":"..."}. Resource limits:
 * HTTP_MAX_CONNECTIONS at once, HTTP_MAX_PER_IP from one address, an idle
 * connection is closed after HTTP_CONN_TIMEOUT seconds, and each connection
 * has HTTP_CONN_MEMORY bytes for its request line and headers (MHD answers
 * larger ones itself with 414/431). */
#ifndef VT_HTTP_H
#define VT_HTTP_H

#include <stddef.h>

#include <stdint.h>

/* A slow or hostile client (slowloris: a header byte a second keeps a
 * connection from ever being idle) holds at most HTTP_MAX_PER_IP
 * connections; the other HTTP_MAX_CONNECTIONS - HTTP_MAX_PER_IP stay free
 * for other addresses. Each costs at most HTTP_CONN_MEMORY, and MHD works
 * on it only when its socket is ready, so the loop keeps its pace
 * (tests/system/test_http_access.sh measures it). */
#define HTTP_MAX_CONNECTIONS 64
#define HTTP_MAX_PER_IP 8
#define HTTP_CONN_TIMEOUT 10 /* seconds */
#define HTTP_CONN_MEMORY (256 * 1024)
/* libmicrohttpd (0.9.75) files every query argument in the connection's
 * memory pool before the request reaches vettime (about 56 bytes each):
 * with a 32 kB pool 500 arguments (a 3.4 kB request) exhausted it and the
 * connection was closed without an answer (issue 13). The pool grows the
 * read buffer in small steps (HTTP_CONN_MEMORY_STEP) and is large enough
 * for a few thousand arguments, which are then refused with 400 above
 * HTTP_MAX_QUERY_ARGS (no endpoint takes more than 6). The pool's pages
 * are touched only as they are used. */
#define HTTP_CONN_MEMORY_STEP 1024
#define HTTP_MAX_QUERY_ARGS 32

/* Room for a token of web/web_config.h (256 characters) and its NUL. */
#define WEB_TOKEN_BUF 257

/* The state-changing actions, set by the daemon's main (alerting's
 * alert_test and alert_retry); NULL: answered 503. Each returns a count or
 * -1, and a one-line message in msg. */
struct http_actions {
  int (*alert_test)(const char *channel, char *msg, size_t msglen);
  int (*alert_retry)(int64_t id, char *msg, size_t msglen);
};
void http_set_actions(const struct http_actions *a);

/* The bearer token of the state-changing endpoints ("" or NULL: none, they
 * answer 403). Copied. */
void http_set_token(const char *token);

/* Starts listening on address (an IPv4 or IPv6 literal such as "127.0.0.1"
 * or "::1"; host names are refused, so the daemon never binds somewhere
 * its operator did not write) and port, and registers with the event loop.
 * sched_init() must have been called. Returns 0, or -1 with a one-line
 * message in err (bad address, port in use, ...). Only one server exists. */
int http_start(const char *address, int port, char *err, size_t errlen);

/* The history's read side for /api/v1/history and the events and alarms
 * over a range (owned by the caller, who closes it after http_stop());
 * NULL: those answer 503. */
struct history_reader;
void http_set_history(struct history_reader *r);

/* Closes every connection and the listening socket and unregisters from the
 * event loop. Harmless when the server is not running. */
void http_stop(void);

#endif
