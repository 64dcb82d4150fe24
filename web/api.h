/* The JSON API (version 1): report structs in, json-c objects out, plus the
 * routing decision for a request line. Pure: no I/O, no clock reads, no
 * globals, so that every document shape and every routing answer can be unit
 * tested without a running daemon. web/http.c does the I/O around it.
 *
 * Documents (field names are a contract: system tests and operators' scripts
 * read them; add fields, never rename or remove one):
 *
 *   GET /api/v1/status
 *     {"version":"0.1.0","now":<unix s>,"uptime":<s>,"sources":n,
 *      "reachable":n,"with_sample":n,"database":"path",
 *      "samples_written":n,"history_errors":n,"clock_steps":n,
 *      "last_clock_step":<s>}
 *
 *   GET /api/v1/sources
 *     {"sources":[{"index":0,"name":"host:port","kind":"ntp","class":"GPS",
 *      "class_configured":false,"noselect":false,"state":"ok","stratum":1,
 *      "refid":"GPS","reach":255,"poll":6,"have_sample":true,
 *      "offset":<s>,"error_bound":<s>,"delay":<s>,"dispersion":<s>,
 *      "root_delay":<s>,"root_dispersion":<s>,"leap":0,
 *      "filtered_offset":<s>,"filtered_error":<s>,"jitter":<s>,
 *      "last_rx":<unix s>,"counters":{"sent":n,"received":n,...}}]}
 *
 *   Errors: {"error":"what went wrong"}
 *
 * Times and durations are seconds as JSON numbers, printed with the fewest
 * digits that read back as the same double (so 157680000.000123 stays
 * exact, and 0.1 is not printed as 0.10000000000000001). Values that do not
 * exist yet are null: every sample field while have_sample is false,
 * stratum and refid before the first valid response. */
#ifndef VT_API_H
#define VT_API_H

#include <json-c/json.h>

#include "monitor/report.h"

#define API_VERSION_PREFIX "/api/v1/"

enum api_endpoint {
  API_NONE = 0, /* no endpoint: the status code says why */
  API_STATUS,
  API_SOURCES,
};

/* Decides what a request is for. method is the HTTP method as received
 * (case-sensitive, RFC 9110 §9.1), url the request target; a query string
 * ("?...") is ignored. Returns the HTTP status to answer with: 200 and the
 * endpoint in *out for GET or HEAD of a known path; 404 (API_NONE) for an
 * unknown path, whatever the method; 405 (API_NONE) for another method on
 * a known path (the answer must then carry API_ALLOW in an Allow header). */
int api_route(const char *method, const char *url, enum api_endpoint *out);

/* The value of the Allow header for a 405 answer. */
#define API_ALLOW "GET, HEAD"

/* The status document. Returns a new object (json_object_put() it), or
 * NULL if json-c ran out of memory. */
json_object *api_status_json(const struct status_report *s);

/* The sources document for n reports (n >= 0). Same ownership as above. */
json_object *api_sources_json(const struct source_report *src, int n);

/* {"error": message}. Same ownership as above. */
json_object *api_error_json(const char *message);

/* A JSON number for v that serialises with the shortest round-trip
 * representation; null (NULL, which json-c serialises as null) when v is
 * not finite, since JSON has no NaN or infinity. Shared with other
 * JSON producers (e.g. /metrics helpers, the CLI's own documents). */
json_object *api_json_double(double v);

#endif
