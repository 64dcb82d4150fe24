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
 *      "last_clock_step":<s>,
 *      "server":{"enabled":true,"sockets":n,"state":"serving",
 *       "holdover_since":<unix s>|null,"stratum":n,"error":<s>|null,
 *       "answered":n,"dropped":n,"counters":{"received":n,...}}}
 *     server is the NTP server (issue 10): state is "serving", "holdover"
 *     or "refusing" (the clock model as served now), answered the
 *     responses with the time, dropped the requests left unanswered for any
 *     reason, counters every serve_counter_name() of monitor/report.h.
 *
 *   GET /api/v1/sources
 *     {"sources":[{"index":0,"name":"host:port","kind":"ntp","class":"GPS",
 *      "class_configured":false,"noselect":false,"state":"ok","stratum":1,
 *      "refid":"GPS","reach":255,"poll":6,"have_sample":true,
 *      "offset":<s>,"error_bound":<s>,"delay":<s>,"dispersion":<s>,
 *      "root_delay":<s>,"root_dispersion":<s>,"leap":0,
 *      "filtered_offset":<s>,"filtered_error":<s>,"jitter":<s>,
 *      "last_rx":<unix s>,"counters":{"sent":n,"received":n,...},
 *      "vote_state":"best","vote_why":"...","trust":false,"require":false,
 *      "prefer":false,"detail":null}]}
 *     detail is a receiver's health text ("3D fix, used GPS 8, PPS"), null
 *     for an NTP server. vote_state is source_state_name() of the last vote round ("best",
 *     "combined", "falseticker", "class-outvoted", ...); trust, require
 *     and prefer are the configured vote flags.
 *
 *   GET /api/v1/vote
 *     {"valid":true,"time":<unix s>,"vetted":true,"why_not":null,
 *      "offset":<s>,"error":<s>,"low":<s>,"high":<s>,"candidates":n,
 *      "agreeing":n,"classes":n,"agreeing_classes":n,
 *      "agreeing_class_names":["GPS","GAL"],"best":"host:port",
 *      "best_class":"GPS","stratum":n,"leap":n,"leap_disagree":false,
 *      "local_freq_ppm":<ppm>}
 *     The last vote round. offset is true time minus the local clock, error
 *     its bound, [low, high] the final intersection. why_not is the reason
 *     when vetted is false (null when true).
 *
 *   GET /api/v1/events
 *     {"events":[{"time":<unix s>,"kind":"step","ended":false,
 *      "source":"host:port","class":"GPS","value":x,"threshold":x,
 *      "text":"..."}]}
 *     The daemon's recent events, oldest first. kind is event_kind_name();
 *     ended is true when a condition stopped holding (e.g. quorum regained).
 *     value and threshold are in the kind's unit (s, ppm, count).
 *
 *   GET /api/v1/alarms
 *     {"alarms":[{"id":7,"kind":"falseticker","severity":"critical",
 *      "active":true,"source":"host:port","class":"DCF","raised":<unix s>,
 *      "cleared":<unix s>,"value":x,"threshold":x,"text":"...","repeats":0,
 *      "line":"alarm 7 raised: ..."}]}
 *     Active alarms, then recently cleared ones, newest first. id is the
 *     alarm's id on every channel (syslog, mail, SNMP); line is the one-line
 *     form of its last transition, as logged.
 *
 *   Errors: {"error":"what went wrong"}
 *
 * Times and durations are seconds as JSON numbers, printed with the fewest
 * digits that read back as the same double (so 157680000.000123 stays
 * exact, and 0.1 is not printed as 0.10000000000000001). Values that do not
 * exist yet are null: every sample field while have_sample is false,
 * stratum and refid before the first valid response, vote_state and
 * vote_why before the first vote round; in the vote document everything
 * but "valid" before the first round (valid false), and offset, error, low
 * and high while the time is not vetted; best and best_class without a
 * best source; local_freq_ppm while unknown; an event's or alarm's source
 * when it is about the system as a whole, its class when it has none; an
 * alarm's cleared while it is active; any number that is not finite. */
#ifndef VT_API_H
#define VT_API_H

#include <json-c/json.h>

#include "monitor/report.h"

#define API_VERSION_PREFIX "/api/v1/"

enum api_endpoint {
  API_NONE = 0, /* no endpoint: the status code says why */
  API_STATUS,
  API_SOURCES,
  API_VOTE,
  API_EVENTS,
  API_ALARMS,
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

/* The status document's "server" member. Same ownership as above. */
json_object *api_serve_json(const struct serve_report *s);

/* The sources document for n reports (n >= 0). Same ownership as above. */
json_object *api_sources_json(const struct source_report *src, int n);

/* The vote document for the last round. Same ownership as above. */
json_object *api_vote_json(const struct vote_report *v);

/* The events document for e[n] (n >= 0), in the order given. Same
 * ownership as above. */
json_object *api_events_json(const struct event_report *e, int n);

/* The alarms document for a[n] (n >= 0), in the order given. Same
 * ownership as above. */
json_object *api_alarms_json(const struct alarm_report *a, int n);

/* {"error": message}. Same ownership as above. */
json_object *api_error_json(const char *message);

/* A JSON number for v that serialises with the shortest round-trip
 * representation; null (NULL, which json-c serialises as null) when v is
 * not finite, since JSON has no NaN or infinity. Shared with other
 * JSON producers (e.g. /metrics helpers, the CLI's own documents). */
json_object *api_json_double(double v);

#endif
