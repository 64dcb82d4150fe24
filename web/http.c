/* The daemon's HTTP server (see http.h): libmicrohttpd 0.9.x in external
 * epoll mode. MHD keeps its listening and connection sockets in an epoll
 * set of its own; we watch that set's descriptor with sched_add_fd() and
 * call MHD_run() when it is readable, then re-arm one timer from
 * MHD_get_timeout() so idle connections are closed and data MHD already
 * buffered is processed even when no descriptor becomes ready.
 *
 * A request announcing a body is refused as soon as its headers are read
 * (MHD then closes the connection instead of reading the body); everything
 * else is routed once the request is complete: /metrics (web/metrics.h),
 * the dashboard's static files (web/ui.h: / and /ui/...), the
 * state-changing POST endpoints behind the bearer token (web/access.h;
 * the actions themselves are callbacks the daemon's main sets, so this
 * face never reaches into alerting), then the JSON API (api_route()). */
#include "web/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/sched.h"
#include "lib/timeutil.h"
#include "monitor/history_read.h"
#include "monitor/report.h"
#include "web/access.h"
#include "web/api.h"
#include "web/metrics.h"
#include "web/ui.h"

static struct MHD_Daemon *daemon_handle;
static int epoll_fd = -1;
static sched_timer_id mhd_timer;
/* The last thing MHD logged, so that a failed start can say why. */
static char mhd_last_error[256];
static char token[WEB_TOKEN_BUF];          /* "" : state-changing endpoints off */
static struct http_actions actions;        /* set by the daemon's main */
static struct metrics_http counters;       /* for /metrics */

/* Counts a response by status code (METRICS_HTTP_CODES; others are not
 * counted: MHD answers those itself). */
static void count_status(unsigned status) {
  static const int codes[] = METRICS_HTTP_CODES;
  for (int i = 0; i < METRICS_HTTP_NCODES; i++)
    if ((unsigned)codes[i] == status) counters.responses[i]++;
}

/* The history's read side (NULL: the history endpoints answer 503). */
static struct history_reader *reader;

void http_set_history(struct history_reader *r) { reader = r; }

/* ---- responses -------------------------------------------------------- */

/* The document as the response body, with a final newline for terminals.
 * Consumes doc. Returns NULL when out of memory. */
static char *body_of(json_object *doc, size_t *len) {
  const char *text = doc ? json_object_to_json_string_ext(
                               doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                         : NULL;
  char *body = text ? malloc(strlen(text) + 2) : NULL;
  if (body) {
    *len = strlen(text);
    memcpy(body, text, *len);
    body[(*len)++] = '\n';
    body[*len] = '\0';
  }
  json_object_put(doc);
  return body;
}

/* Queues doc (consumed) as the answer. MHD_NO makes MHD close the
 * connection, which is all we can do when memory is short. */
static enum MHD_Result send_json_allow(struct MHD_Connection *conn, unsigned status,
                                       json_object *doc, const char *allow) {
  size_t len = 0;
  char *body = body_of(doc, &len);
  if (!body) return MHD_NO;
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow ? allow : API_ALLOW);
  if (status == MHD_HTTP_UNAUTHORIZED) /* RFC 6750 §3 */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vettime\"");
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  count_status(status);
  return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status,
                                 json_object *doc) {
  return send_json_allow(conn, status, doc, NULL);
}

static enum MHD_Result send_error_allow(struct MHD_Connection *conn, unsigned status,
                                        const char *message, const char *method,
                                        const char *url, const char *allow) {
  LOG_RATELIMITED(LOG_LVL_DEBUG, "http: %u for %.16s %.128s", status, method, url);
  return send_json_allow(conn, status, api_error_json(message), allow);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
                                  const char *message, const char *method,
                                  const char *url) {
  return send_error_allow(conn, status, message, method, url, NULL);
}

/* ---- endpoints -------------------------------------------------------- */

static json_object *status_doc(void) {
  struct status_report s;
  memset(&s, 0, sizeof s);
  report_status(&s);
  json_object *doc = api_status_json(&s);
  struct serve_report sr;
  report_serve(&sr);
  if (doc) json_object_object_add(doc, "server", api_serve_json(&sr));
  return doc;
}

/* report_sources() says how many sources exist; ask again with room for
 * all of them if the first guess was short. */
static json_object *sources_doc(void) {
  int cap = 16;
  for (int attempt = 0; attempt < 3; attempt++) {
    struct source_report *r = calloc((size_t)cap, sizeof *r);
    if (!r) return NULL;
    int n = report_sources(r, cap);
    if (n <= cap) {
      json_object *doc = api_sources_json(r, n < 0 ? 0 : n);
      free(r);
      struct status_report *st = calloc(1, sizeof *st);
      if (doc && st) {
        report_status(st);
        json_object_object_add(doc, "now", api_json_double(timespec_seconds(st->now)));
      }
      free(st);
      return doc;
    }
    free(r);
    cap = n;
  }
  return NULL;
}

/* The vote, events and alarms reports are large (the latter two hold up to
 * REPORT_*_MAX entries of ~0.5-1 KiB each), so they live on the heap, not
 * on the event loop's stack. */
/* A report function's count as an array length: never negative, never
 * past the buffer we gave it. */
static int clamp_count(int n, int max) { return n < 0 ? 0 : n > max ? max : n; }

static json_object *vote_doc(void) {
  struct vote_report *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  report_vote(v);
  json_object *doc = api_vote_json(v);
  free(v);
  return doc;
}

static json_object *events_doc(void) {
  struct event_report *e = calloc(REPORT_EVENTS_MAX, sizeof *e);
  if (!e) return NULL;
  int n = report_events(e, REPORT_EVENTS_MAX);
  json_object *doc = api_events_json(e, clamp_count(n, REPORT_EVENTS_MAX));
  free(e);
  return doc;
}

static json_object *alarms_doc(void) {
  struct alarm_report *a = calloc(REPORT_ALARMS_MAX, sizeof *a);
  if (!a) return NULL;
  int n = report_alarms(a, REPORT_ALARMS_MAX);
  json_object *doc = api_alarms_json(a, clamp_count(n, REPORT_ALARMS_MAX));
  free(a);
  return doc;
}

static json_object *endpoint_doc(enum api_endpoint e) {
  switch (e) {
  case API_STATUS: return status_doc();
  case API_SOURCES: return sources_doc();
  case API_VOTE: return vote_doc();
  case API_EVENTS: return events_doc();
  case API_ALARMS: return alarms_doc();
  case API_HISTORY: case API_HISTORY_VETTED: case API_NONE: break;
  }
  return NULL;
}

/* ---- /metrics ---------------------------------------------------------- */

/* Every report a scrape shows, gathered on the heap (the alarms alone are
 * ~300 KiB) and rendered by web/metrics.c. */
static char *metrics_text(size_t *len) {
  struct status_report *st = calloc(1, sizeof *st);
  struct vote_report *v = calloc(1, sizeof *v);
  struct alarm_report *a = calloc(REPORT_ALARMS_MAX, sizeof *a);
  int cap = 16, n = 0;
  struct source_report *src = NULL;
  for (int attempt = 0; attempt < 3; attempt++) { /* as sources_doc() */
    free(src);
    src = calloc((size_t)cap, sizeof *src);
    if (!src) break;
    n = report_sources(src, cap);
    if (n <= cap) break;
    cap = n;
  }
  char *text = NULL;
  if (st && v && a && src && n <= cap) {
    report_status(st);
    report_vote(v);
    struct clock_snapshot clock;
    report_clock(&clock);
    struct outbox_report outbox;
    report_outbox(&outbox);
    struct serve_report serve;
    report_serve(&serve);
    struct metrics_input in = {
        .status = st, .sources = src, .n_sources = n < 0 ? 0 : n, .vote = v,
        .alarms = a, .n_alarms = clamp_count(report_alarms(a, REPORT_ALARMS_MAX), REPORT_ALARMS_MAX),
        .clock = &clock, .outbox = &outbox, .http = &counters, .serve = &serve};
    text = metrics_render(&in, len);
  }
  free(st);
  free(v);
  free(a);
  free(src);
  return text;
}

static enum MHD_Result send_metrics(struct MHD_Connection *conn, const char *method,
                                    const char *url) {
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed; use GET or HEAD",
                      method, url);
  size_t len = 0;
  char *text = metrics_text(&len);
  if (!text)
    return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", method, url);
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  count_status(MHD_HTTP_OK);
  return ret;
}

/* ---- the dashboard ------------------------------------------------------ */

/* Whether the client's If-None-Match names etag (or is "*"): RFC 9110
 * §13.1.2, weak comparison, so a "W/" prefix matches too. */
static bool etag_matches(struct MHD_Connection *conn, const char *etag) {
  const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_IF_NONE_MATCH);
  if (!inm) return false;
  if (strcmp(inm, "*") == 0) return true;
  size_t n = strlen(etag);
  for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
    char after = p[n];
    if (after == '\0' || after == ',' || after == ' ') return true;
  }
  return false;
}

/* The page may load only what the daemon serves: scripts and data from
 * here, no inline script; uPlot sets inline styles on its elements. */
#define UI_CSP "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"

/* A static file of the dashboard (web/ui.h). Every file is revalidated
 * (no-cache with an ETag: a 304 costs one round trip and nothing else), so
 * a daemon upgraded under an open wall screen serves the new page at its
 * next load, never a mix of old and new files. */
static enum MHD_Result send_ui(struct MHD_Connection *conn, const char *method,
                               const char *url) {
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed; use GET or HEAD",
                      method, url);
  struct ui_file f;
  if (ui_lookup(url, &f) != 200)
    return send_error(conn, MHD_HTTP_NOT_FOUND, "no such file of the dashboard", method, url);
  bool fresh = etag_matches(conn, f.etag);
  unsigned status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
  struct MHD_Response *resp =
      fresh ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
      : f.owned ? MHD_create_response_from_buffer(f.len, (void *)f.data, MHD_RESPMEM_MUST_FREE)
                : MHD_create_response_from_buffer(f.len, (void *)f.data, MHD_RESPMEM_PERSISTENT);
  if (!resp || fresh) ui_file_free(&f); /* MUST_FREE: the response owns it now */
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f.etag);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  if (!fresh) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f.type);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  if (strncmp(f.type, "text/html", 9) == 0) {
    MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  }
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  count_status(status);
  return ret;
}

/* ---- the state-changing endpoints ------------------------------------- */

struct args_check {
  const char *allowed; /* the one argument name the action takes */
  const char *bad;     /* the first other one */
  int count;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value) {
  (void)kind, (void)value;
  struct args_check *c = cls;
  c->count++;
  if (!c->bad && (!key || strcmp(key, c->allowed) != 0)) c->bad = key ? key : "";
  return MHD_YES;
}

static enum MHD_Result run_action(struct MHD_Connection *conn, enum web_action a,
                                  const char *method, const char *url) {
  struct args_check ac = {a == WA_ALERT_TEST ? "channel" : "id", NULL, 0};
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_arg, &ac);
  char why[160];
  if (ac.bad || ac.count > 1) {
    snprintf(why, sizeof why, "unknown or repeated argument \"%.40s\"; this endpoint takes "
             "only ?%s=", ac.bad ? ac.bad : ac.allowed, ac.allowed);
    return send_error(conn, MHD_HTTP_BAD_REQUEST, why, method, url);
  }
  const char *arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, ac.allowed);
  char msg[200] = "";
  int n;
  if (a == WA_ALERT_TEST) {
    if (!actions.alert_test)
      return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "alerting is not running", method, url);
    n = actions.alert_test(arg, msg, sizeof msg);
  } else {
    long long id;
    if (access_parse_id(arg, &id))
      return send_error(conn, MHD_HTTP_BAD_REQUEST,
                        "id must be a notification id (1, 2, ...) or \"all\"", method, url);
    if (!actions.alert_retry)
      return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "alerting is not running", method, url);
    n = actions.alert_retry((int64_t)id, msg, sizeof msg);
  }
  if (n < 0) return send_error(conn, MHD_HTTP_BAD_REQUEST, msg, method, url);
  json_object *doc = json_object_new_object();
  if (!doc) return MHD_NO;
  json_object_object_add(doc, a == WA_ALERT_TEST ? "queued" : "requeued", json_object_new_int(n));
  json_object_object_add(doc, "message", json_object_new_string(msg));
  LOG_INFO("http: %s %s: %s", method, url, msg);
  return send_json(conn, MHD_HTTP_OK, doc);
}

static enum MHD_Result answer_action(struct MHD_Connection *conn, int route, enum web_action a,
                                     const char *method, const char *url) {
  if (route == 405)
    return send_error_allow(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                            "method not allowed; this endpoint changes state: use POST",
                            method, url, ACCESS_ALLOW);
  const char *why = "";
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_AUTHORIZATION);
  int status = access_authorize(token, auth, &why);
  if (status != 200) {
    LOG_RATELIMITED(LOG_LVL_WARN, "http: %d for %.16s %.128s: %s", status, method, url, why);
    return send_error(conn, (unsigned)status, why, method, url);
  }
  return run_action(conn, a, method, url);
}

/* ---- the access handler ----------------------------------------------- */

/* A request has a body when it says so (RFC 9112 §6.3): any
 * Transfer-Encoding, or a Content-Length other than 0. */
static bool announces_body(struct MHD_Connection *conn) {
  if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                  MHD_HTTP_HEADER_TRANSFER_ENCODING))
    return true;
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  return cl && strspn(cl, "0") != strlen(cl);
}

static const char *status_message(int status) {
  switch (status) {
  case 404: return "no such path; the API has /api/v1/status, /api/v1/sources, "
                   "/api/v1/vote, /api/v1/events, /api/v1/alarms, /api/v1/history, "
                   "/api/v1/history/vetted and /metrics "
                   "(POST: /api/v1/alert/test, /api/v1/alert/retry)";
  case 405: return "method not allowed; use GET or HEAD";
  default: return "bad request";
  }
}

/* ---- the history endpoints (issue 11) --------------------------------- */

/* A query parameter's decoded value; NULL when absent (or given without
 * "="). */
static const char *arg(struct MHD_Connection *conn, const char *name) {
  return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static int64_t now_ns(void) {
  struct timespec t = sched_real_now();
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* What went wrong with a read: HTTP status and message. */
struct failure {
  unsigned status;
  char why[320];
};

static json_object *read_failed(struct failure *f, int rc) {
  f->status = MHD_HTTP_SERVICE_UNAVAILABLE;
  snprintf(f->why, sizeof f->why, "%s",
           rc == HISTORY_READ_SLOW ? "the history query took longer than its budget; "
                                     "ask for a shorter range or a larger step"
                                   : "the history cannot be read");
  return NULL;
}

static json_object *bad_request(struct failure *f) {
  f->status = MHD_HTTP_BAD_REQUEST;
  return NULL;
}

/* /api/v1/history and /api/v1/history/vetted. The query runs here, in the
 * loop, on the reader's own connection: docs/design.md ("The loop stays
 * responsive") has the measurements that keep it to a few ms, and the
 * reader interrupts a query past HISTORY_READ_BUDGET_MS. */
static json_object *history_doc(struct MHD_Connection *conn, bool vetted, struct failure *f) {
  const char *source = vetted ? NULL : arg(conn, "source");
  struct api_history_request q;
  if (!vetted && api_check_source(source, f->why, sizeof f->why) != 0) return bad_request(f);
  if (api_parse_history(arg(conn, "from"), arg(conn, "to"), arg(conn, "step"), now_ns(), &q,
                        f->why, sizeof f->why) != 0)
    return bad_request(f);
  if (!reader) return read_failed(f, -1);
  int64_t id = HISTORY_VETTED;
  if (!vetted) {
    id = history_reader_source(reader, source);
    if (id < 0) return read_failed(f, (int)id);
    if (id == 0) {
      snprintf(f->why, sizeof f->why, "unknown source \"%.200s\": the history has no such source",
               source);
      return bad_request(f);
    }
  }
  struct history_point *p = calloc((size_t)q.points, sizeof *p);
  if (!p) return NULL;
  int n = history_read_series(reader, id, q.from_ns, q.to_ns, q.step_ns, q.res, p, q.points);
  json_object *doc = n < 0 ? read_failed(f, n) : api_history_json(source, &q, p, n);
  free(p);
  return doc;
}

/* Events and alarms over a range, read back from the history. */
struct list_acc {
  void *items;
  int n;
};

static void collect_event(void *ctx, const struct history_event *e, const char *name) {
  struct list_acc *acc = ctx;
  struct event_report *r = acc->items;
  if (api_event_from_history(e, name, &r[acc->n]) == 0) acc->n++;
}

static void collect_alarm(void *ctx, const struct history_alarm *a, const char *name) {
  struct list_acc *acc = ctx;
  struct alarm_report *r = acc->items;
  if (api_alarm_from_history(a, name, &r[acc->n]) == 0) acc->n++;
}

static json_object *range_doc(struct MHD_Connection *conn, bool alarms, struct failure *f) {
  int64_t from, to;
  if (api_parse_range(arg(conn, "from"), arg(conn, "to"), now_ns(), API_LIST_DEFAULT_SPAN_NS, 0,
                      &from, &to, f->why, sizeof f->why) != 0)
    return bad_request(f);
  if (!reader) return read_failed(f, -1);
  size_t size = alarms ? sizeof(struct alarm_report) : sizeof(struct event_report);
  struct list_acc acc = {calloc(HISTORY_LIST_MAX, size), 0};
  if (!acc.items) return NULL;
  bool more = false;
  int rc = alarms ? history_read_alarms(reader, from, to, HISTORY_LIST_MAX, &more,
                                        collect_alarm, &acc)
                  : history_read_events(reader, from, to, HISTORY_LIST_MAX, &more,
                                        collect_event, &acc);
  json_object *doc = rc < 0 ? read_failed(f, rc)
                     : alarms ? api_alarms_json(acc.items, acc.n)
                              : api_events_json(acc.items, acc.n);
  free(acc.items);
  return rc < 0 ? NULL : api_with_range(doc, from, to, more);
}

static bool has_range(struct MHD_Connection *conn) {
  return arg(conn, "from") || arg(conn, "to");
}

static json_object *request_doc(struct MHD_Connection *conn, enum api_endpoint e,
                                struct failure *f) {
  switch (e) {
  case API_HISTORY: return history_doc(conn, false, f);
  case API_HISTORY_VETTED: return history_doc(conn, true, f);
  case API_EVENTS:
  case API_ALARMS:
    if (has_range(conn)) return range_doc(conn, e == API_ALARMS, f);
    return endpoint_doc(e);
  default: return endpoint_doc(e);
  }
}

static enum MHD_Result answer(struct MHD_Connection *conn, const char *url,
                              const char *method) {
  size_t path_len = strcspn(url, "?");
  if (path_len == strlen("/metrics") && strncmp(url, "/metrics", path_len) == 0)
    return send_metrics(conn, method, url);
  if (ui_is_path(url)) return send_ui(conn, method, url);
  enum web_action wa;
  int route = access_route(method, url, &wa);
  if (route) return answer_action(conn, route, wa, method, url);
  enum api_endpoint e;
  int status = api_route(method, url, &e);
  if (status != 200)
    return send_error(conn, (unsigned)status, status_message(status), method, url);
  struct failure f = {0, ""};
  json_object *doc = request_doc(conn, e, &f);
  if (!doc && f.status) return send_error(conn, f.status, f.why, method, url);
  if (!doc)
    return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory",
                      method, url);
  return send_json(conn, MHD_HTTP_OK, doc);
}

/* MHD calls the handler once with the headers, once per piece of body,
 * and once more when the request is complete. A request that announces a
 * body is refused on the first call, so MHD never reads the body and closes
 * the connection. Others are answered on the last call: answering earlier
 * would also make MHD close the connection, losing keep-alive. */
/* Marks for a request's first call, set from its raw URI before MHD
 * unescapes it: MHD turns "%00" into a NUL that cuts the path, so
 * "/api/v1/status%00/../.." was answered as /api/v1/status (issue 13). No
 * path of ours needs an escape, so a path with one is refused whole. */
static int uri_plain, uri_escaped, uri_many_args;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  (void)cls, (void)conn;
  size_t path_len = uri ? strcspn(uri, "?") : 0;
  if (uri && memchr(uri, '%', path_len)) return &uri_escaped;
  int args = 0;
  if (uri && uri[path_len] == '?')
    for (const char *q = uri + path_len; *q; q++) args += *q == '?' || *q == '&';
  return args > HTTP_MAX_QUERY_ARGS ? &uri_many_args : &uri_plain;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
  static int headers_seen, body_seen; /* markers for *req_cls */
  (void)cls;
  (void)version;
  (void)upload_data;
  if (!url) url = "";
  if (!method) method = "";
  if (*req_cls == NULL || *req_cls == &uri_plain || *req_cls == &uri_escaped ||
      *req_cls == &uri_many_args) {
    void *seen = *req_cls;
    *req_cls = &headers_seen;
    if (seen == &uri_escaped)
      return send_error(conn, MHD_HTTP_BAD_REQUEST,
                        "escapes (%XX) are not accepted in the path", method, url);
    if (seen == &uri_many_args) {
      char why[80];
      snprintf(why, sizeof why, "too many query arguments (more than %d)", HTTP_MAX_QUERY_ARGS);
      return send_error(conn, MHD_HTTP_BAD_REQUEST, why, method, url);
    }
    if (!announces_body(conn)) return MHD_YES;
    return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                      "request bodies are not accepted", method, url);
  }
  if (*upload_data_size != 0) { /* a body after all: drop it, refuse below */
    *upload_data_size = 0;
    *req_cls = &body_seen;
    return MHD_YES;
  }
  if (*req_cls == &body_seen)
    return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                      "request bodies are not accepted", method, url);
  return answer(conn, url, method);
}

/* ---- the event loop glue ---------------------------------------------- */

static void run_mhd(void);

static void on_timer(void *arg) {
  (void)arg;
  mhd_timer = 0;
  run_mhd();
}

/* MHD is run at least every HTTP_IDLE_RUN seconds, whatever
 * MHD_get_timeout() says. At the connection limit MHD takes its listening
 * socket out of its epoll set; once the idle connections have timed out it
 * puts it back only on a later MHD_run(), but with no connection left
 * MHD_get_timeout() asks for none and the epoll descriptor never becomes
 * readable again: the API was dead for good after 64 idle connections
 * (issue 13). A run with nothing to do costs a few microseconds. */
#define HTTP_IDLE_RUN 0.5

static void rearm_timer(void) {
  if (mhd_timer) sched_cancel_timer(mhd_timer);
  mhd_timer = 0;
  MHD_UNSIGNED_LONG_LONG ms;
  double after = HTTP_IDLE_RUN;
  if (MHD_get_timeout(daemon_handle, &ms) == MHD_YES && (double)ms / 1000.0 < after)
    after = (double)ms / 1000.0;
  mhd_timer = sched_add_timer(after, on_timer, NULL);
  if (!mhd_timer) LOG_RATELIMITED(LOG_LVL_WARN, "http: cannot arm the timer");
}

static void run_mhd(void) {
  if (!daemon_handle) return;
  if (MHD_run(daemon_handle) != MHD_YES)
    LOG_RATELIMITED(LOG_LVL_WARN, "http: MHD_run failed");
  rearm_timer();
}

static void on_epoll_readable(int fd, short revents, void *arg) {
  (void)fd;
  (void)revents;
  (void)arg;
  run_mhd();
}

/* MHD reports client misbehaviour here as well as its own trouble: keep it
 * quiet (rate-limited debug) and remember the last line for http_start. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  vsnprintf(mhd_last_error, sizeof mhd_last_error, fmt, ap);
  size_t n = strlen(mhd_last_error);
  while (n && (mhd_last_error[n - 1] == '\n' || mhd_last_error[n - 1] == '\r'))
    mhd_last_error[--n] = '\0';
  LOG_RATELIMITED(LOG_LVL_DEBUG, "http: %s", mhd_last_error);
}

/* Counts connections for /metrics (and for the slow-client test). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code) {
  (void)cls, (void)conn, (void)socket_ctx;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    counters.connections++;
    counters.open_connections++;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && counters.open_connections > 0) {
    counters.open_connections--;
  }
}

/* ---- start and stop --------------------------------------------------- */

union sockaddr_any {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
};

/* Parses an address literal; returns its family, or -1. */
static int parse_address(const char *address, int port, union sockaddr_any *out) {
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, address, &out->in4.sin_addr) == 1) {
    out->in4.sin_family = AF_INET;
    out->in4.sin_port = htons((uint16_t)port);
    return AF_INET;
  }
  if (inet_pton(AF_INET6, address, &out->in6.sin6_addr) == 1) {
    out->in6.sin6_family = AF_INET6;
    out->in6.sin6_port = htons((uint16_t)port);
    return AF_INET6;
  }
  return -1;
}

static struct MHD_Daemon *start_daemon(const union sockaddr_any *addr, int family,
                                       int port) {
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  if (family == AF_INET6) flags |= MHD_USE_IPv6;
  return MHD_start_daemon(
      flags, (uint16_t)port, NULL, NULL, on_request, NULL,
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, /* first, to catch all */
      MHD_OPTION_SOCK_ADDR, &addr->sa,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_PER_IP,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
      MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (size_t)HTTP_CONN_MEMORY_STEP,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
      MHD_OPTION_END);
}

static int epoll_fd_of(struct MHD_Daemon *d) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
  return info ? info->epoll_fd : -1;
}

int http_start(const char *address, int port, char *err, size_t errlen) {
  if (daemon_handle) {
    snprintf(err, errlen, "http: the server is already running");
    return -1;
  }
  union sockaddr_any addr;
  int family = parse_address(address, port, &addr);
  if (family < 0) {
    snprintf(err, errlen, "http: \"%s\" is not an IPv4 or IPv6 address literal "
             "(host names are not accepted)", address);
    return -1;
  }
  if (port < 1 || port > 65535) {
    snprintf(err, errlen, "http: port %d is out of range 1..65535", port);
    return -1;
  }
  mhd_last_error[0] = '\0';
  errno = 0;
  daemon_handle = start_daemon(&addr, family, port);
  if (!daemon_handle) {
    snprintf(err, errlen, "http: cannot listen on %s port %d: %s", address, port,
             mhd_last_error[0] ? mhd_last_error : errno ? strerror(errno) : "unknown error");
    return -1;
  }
  epoll_fd = epoll_fd_of(daemon_handle);
  if (epoll_fd < 0 || sched_add_fd(epoll_fd, POLLIN, on_epoll_readable, NULL) < 0) {
    snprintf(err, errlen, "http: cannot register with the event loop");
    http_stop();
    return -1;
  }
  rearm_timer();
  LOG_INFO("http: listening on %s%s%s port %d", family == AF_INET6 ? "[" : "",
           address, family == AF_INET6 ? "]" : "", port);
  return 0;
}

void http_set_token(const char *t) {
  snprintf(token, sizeof token, "%s", t ? t : "");
}

void http_set_actions(const struct http_actions *a) {
  if (a) actions = *a;
  else memset(&actions, 0, sizeof actions);
}

void http_stop(void) {
  if (!daemon_handle) return;
  if (mhd_timer) sched_cancel_timer(mhd_timer);
  mhd_timer = 0;
  if (epoll_fd >= 0) sched_remove_fd(epoll_fd);
  epoll_fd = -1;
  MHD_stop_daemon(daemon_handle);
  daemon_handle = NULL;
  memset(token, 0, sizeof token);
}
