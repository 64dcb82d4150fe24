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
 *      "samples_written":n,"history_errors":n,"history_buffered":n,
 *      "history_dropped":n,"clock_steps":n,"last_clock_step":<s>,
 *      "unauthenticated_sources":n,"unauthenticated":["host",...],
 *      "server":{"enabled":true,"sockets":n,"state":"serving",
 *       "holdover_since":<unix s>|null,"stratum":n,"error":<s>|null,
 *       "answered":n,"dropped":n,"counters":{"received":n,...}}}
 *     history_errors counts failed writes (a locked database: one a
 *     round), history_buffered the samples waiting in memory for the next
 *     write, history_dropped the rows lost since start (a full buffer,
 *     a refused row): 0 unless the history failed for longer than its
 *     buffer holds.
 *     server is the NTP server (issue 10): state is "serving", "holdover"
 *     or "refusing" (the clock model as served now), answered the
 *     responses with the time, dropped the requests left unanswered for any
 *     reason, counters every serve_counter_name() of monitor/report.h.
 *     unauthenticated_sources counts the NTP sources that are neither NTS
 *     nor keyed (anyone on the path can forge their time); unauthenticated
 *     names them (as many as fit in 512 bytes).
 *
 *   GET /api/v1/sources
 *     {"sources":[{"index":0,"name":"host:port","address":"host:port",
 *      "kind":"ntp","class":"GPS",
 *      "class_configured":false,"noselect":false,"state":"ok","stratum":1,
 *      "refid":"GPS","reach":255,"poll":6,"have_sample":true,
 *      "offset":<s>,"error_bound":<s>,"delay":<s>,"dispersion":<s>,
 *      "root_delay":<s>,"root_dispersion":<s>,"leap":0,
 *      "filtered_offset":<s>,"filtered_error":<s>,"jitter":<s>,
 *      "last_rx":<unix s>,"counters":{"sent":n,"received":n,...},
 *      "vote_state":"best","vote_why":"...","trust":false,"require":false,
 *      "prefer":false,"detail":null,"stats":{"samples":n,"offset":<s>,
 *      "sd":<s>,"jitter":<s>,"freq_ppm":<ppm>},"auth":"none"}],"now":<unix s>}
 *     reach is the 8-bit reachability register as a number (255: the last
 *     eight polls answered; `vettime sources` prints it in octal, 0377).
 *     stats are the vote's sample statistics of the source (null before
 *     the first round; a figure not yet measured is null): samples behind
 *     its estimate, the estimate (offset) and its standard deviation (sd),
 *     the jitter, and freq_ppm, its frequency against the vetted time (the
 *     drift detector's slope). now is the daemon's time of the document
 *     (http.c adds it), for the age of last_rx.
 *     detail is a receiver's health text ("3D fix, used GPS 8, PPS"), or
 *     an NTS source's state ("NTS: 7 cookies, NTP host port 123, 1 key
 *     exchange", or why its key exchange failed); null for other NTP
 *     servers. auth: "nts", "key N" or "none" for an NTP source, null for a
 *     receiver. vote_state is source_state_name() of the last vote round ("best",
 *     "combined", "falseticker", "class-outvoted", ...); trust, require
 *     and prefer are the configured vote flags. name is the source's
 *     `name LABEL` when it has one, else its address; address is always
 *     the address (host[:port], device, shm:N, sock:PATH).
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
 *   GET /api/v1/events?from=T&to=T, GET /api/v1/alarms?from=T&to=T
 *     With from or to (either may be left out: to defaults to now, from to
 *     a day before to), the same documents read from the history instead
 *     of the daemon's memory: the events with time in [from, to], oldest
 *     first; the alarms alive at some time in [from, to] (raised at or
 *     before to, not cleared before from), by raise time. At most
 *     HISTORY_LIST_MAX entries, and three more members:
 *     "from":<unix s>,"to":<unix s>,"truncated":false (true: more lie in
 *     the range; ask again from the last one's time).
 *
 *   GET /api/v1/history?source=NAME&from=T&to=T&step=S
 *     {"source":"NAME","from":<unix s>,"to":<unix s>,"step":<s>,
 *      "resolution":"raw|minute|hour","points":{"time":[<unix s>,...],
 *      "count":[n,...],"offset_min":[<s>,...],"offset_mean":[...],
 *      "offset_max":[...],"bound_max":[...],"bound_mean":[...]}}
 *     The points as columns of equal length (what a chart library such as
 *     uPlot takes as it is; 2000 points in ~150 KiB rather than twice that
 *     as objects). The source's samples in points of step seconds: a point covers
 *     [time, time + step), time a multiple of step since the epoch, so the
 *     first point may start before from. Only points with samples are
 *     listed. bound_max is the worst error bound in the point. T is Unix
 *     seconds (a fraction allowed) or an RFC 3339 time
 *     (2026-11-22T05:00:00Z, ...+01:00); to defaults to now, from to an
 *     hour before to. step (whole seconds) is optional: by default the
 *     smallest of 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3,
 *     6, 12 h, 1, 2, 7, 14, 30 d that gives at most HISTORY_MAX_POINTS
 *     points and reads raw samples only up to 6 h. resolution says what was read: raw
 *     samples (step < 60 s, ranges up to 6 h), minute roll-ups (step <
 *     3600 s; step rounded up to whole minutes) or hour roll-ups (whole
 *     hours). Figures are rounded to the nanosecond.
 *
 *   GET /api/v1/history/vetted?from=T&to=T&step=S
 *     The vetted offset and its bound, from the vote of every round:
 *     {"source":"vetted",...,"points":{"time":[...],"rounds":[n,...],
 *      "vetted":[n,...],"offset_min":[...],"offset_mean":[...],
 *      "offset_max":[...],"error_max":[...],"error_mean":[...],
 *      "agreeing_min":[n,...],"classes_min":[n,...]}}
 *     rounds: vote rounds in the point; vetted: those that vetted the time
 *     (the offset and error figures cover them, null when none did);
 *     agreeing_min, classes_min: the fewest agreeing sources and classes of
 *     any round in the point.
 *
 *   Bad parameters of the history and range forms answer 400 with the
 *   reason: a missing or unknown source, a time that is neither Unix
 *   seconds nor RFC 3339, from after to, a range over ~10 years, a step
 *   that is not a positive whole number, a step below 60 s over more than
 *   6 h, more than HISTORY_MAX_POINTS points. 503 when the history cannot
 *   be read or a query ran out of its time budget.
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

#include "monitor/history.h"
#include "monitor/history_read.h"
#include "monitor/report.h"

#define API_VERSION_PREFIX "/api/v1/"

enum api_endpoint {
  API_NONE = 0, /* no endpoint: the status code says why */
  API_STATUS,
  API_SOURCES,
  API_VOTE,
  API_EVENTS,
  API_ALARMS,
  API_HISTORY,        /* /api/v1/history?source=NAME&from&to&step */
  API_HISTORY_VETTED, /* /api/v1/history/vetted?from&to&step */
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

/* ---- history and ranges (issue 11) ---- */

/* The span of a history read when from is left out; of an events or
 * alarms range. */
#define API_HISTORY_DEFAULT_SPAN_NS (3600LL * 1000000000LL)
#define API_LIST_DEFAULT_SPAN_NS (86400LL * 1000000000LL)
#define API_SOURCE_NAME_MAX 300

/* A time parameter: Unix seconds ("1764480000", "1764480000.25") or an
 * RFC 3339 date-time ("2026-11-22T05:00:00Z", "...05:00:00.5+01:00").
 * Returns 0, or -1 with the reason in why. */
int api_parse_time(const char *text, int64_t *out_ns, char *why, size_t whylen);

/* from and to (either NULL: absent; to then is now_ns, from to - span_ns):
 * parsed, from <= to, and no longer than max_range_ns (0: any length; the
 * events and alarms lists are bounded by their count instead). Returns 0,
 * or -1 with the reason (naming the parameter) in why. */
int api_parse_range(const char *from, const char *to, int64_t now_ns, int64_t span_ns,
                    int64_t max_range_ns, int64_t *from_ns, int64_t *to_ns, char *why,
                    size_t whylen);

struct api_history_request {
  int64_t from_ns, to_ns, step_ns;
  enum history_resolution res; /* what step_ns reads */
  int points;                  /* the most points the range can give */
};

/* The parameters of a history read (each NULL when absent), checked
 * against every limit (the document comment above). Returns 0, or -1 with
 * the reason for the 400 answer in why. */
int api_parse_history(const char *from, const char *to, const char *step, int64_t now_ns,
                      struct api_history_request *q, char *why, size_t whylen);

/* The source parameter is present and not absurdly long: 0, or -1 and why.
 * (Whether the history knows it is the caller's question.) */
int api_check_source(const char *source, char *why, size_t whylen);

/* The history document of n points; source NULL: the vetted series. */
json_object *api_history_json(const char *source, const struct api_history_request *q,
                              const struct history_point *p, int n);

/* Adds "from", "to" and "truncated" to an events or alarms document read
 * over a range. Returns doc (NULL stays NULL). */
json_object *api_with_range(json_object *doc, int64_t from_ns, int64_t to_ns, bool truncated);

/* A history row as the report the events and alarms documents are built
 * from. Returns 0, or -1 for a kind this binary does not know (a newer
 * vettimed wrote it): such a row is left out. */
int api_event_from_history(const struct history_event *e, const char *source_name,
                           struct event_report *out);
int api_alarm_from_history(const struct history_alarm *a, const char *source_name,
                           struct alarm_report *out);

/* A JSON number for v that serialises with the shortest round-trip
 * representation; null (NULL, which json-c serialises as null) when v is
 * not finite, since JSON has no NaN or infinity. Shared with other
 * JSON producers (e.g. /metrics helpers, the CLI's own documents). */
json_object *api_json_double(double v);

#endif
