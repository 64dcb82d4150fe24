/* The Prometheus exposition of the daemon's reports (see metrics.h). The
 * writer (metrics_family, metrics_sample) keeps the format's rules; the
 * render_* functions below say what is exported, one family at a time so
 * that a family's samples stay together (text format 0.0.4: "all lines
 * for a given metric must be provided as one single group"). */
#include "web/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/timeutil.h"
#include "monitor/alarms.h"
#include "monitor/clockmodel.h"
#include "monitor/events.h"
#include "monitor/vote.h"
#include "probes/probe.h"
#include "probes/refclass.h"

/* ---- the writer ------------------------------------------------------- */

static void put_n(struct metrics_buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void put(struct metrics_buf *b, const char *s) { put_n(b, s, strlen(s)); }

bool metrics_valid_name(const char *name) {
  if (!name || !*name) return false;
  for (const char *c = name; *c; c++) {
    bool alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' || *c == ':';
    bool digit = *c >= '0' && *c <= '9';
    if (!alpha && !(digit && c != name)) return false;
  }
  return true;
}

bool metrics_valid_label_name(const char *name) {
  if (!metrics_valid_name(name) || strchr(name, ':')) return false;
  return strncmp(name, "__", 2) != 0; /* reserved for Prometheus itself */
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0 if there is none. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && s[1] < 0xa0) return 0;  /* overlong */
  if (c == 0xed && s[1] > 0x9f) return 0;  /* surrogate */
  if (c == 0xf0 && s[1] < 0x90) return 0;  /* overlong */
  if (c == 0xf4 && s[1] > 0x8f) return 0;  /* past U+10FFFF */
  return n;
}

/* Escapes backslash and newline (HELP), and the double quote as well
 * (label values); invalid UTF-8 becomes U+FFFD. */
static void put_escaped(struct metrics_buf *b, const char *s, bool quote) {
  const unsigned char *u = (const unsigned char *)s;
  while (*u) {
    size_t n = utf8_len(u);
    if (n == 0) {
      put(b, "\xef\xbf\xbd");
      u++;
    } else if (*u == '\\') {
      put(b, "\\\\"), u++;
    } else if (*u == '\n') {
      put(b, "\\n"), u++;
    } else if (*u == '"' && quote) {
      put(b, "\\\""), u++;
    } else {
      put_n(b, (const char *)u, n);
      u += n;
    }
  }
}

void metrics_escape_label(struct metrics_buf *b, const char *s) { put_escaped(b, s, true); }

const char *metrics_format_value(double v, char buf[32]) {
  if (isnan(v)) return strcpy(buf, "NaN");
  if (isinf(v)) return strcpy(buf, v > 0 ? "+Inf" : "-Inf");
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, 32, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  return buf;
}

void metrics_family(struct metrics_buf *b, const char *name, const char *type,
                    const char *help) {
  bool counter = strcmp(type, "counter") == 0;
  size_t n = strlen(name);
  if (!metrics_valid_name(name) || (!counter && strcmp(type, "gauge") != 0) ||
      (counter != (n > 6 && strcmp(name + n - 6, "_total") == 0)) ||
      n >= sizeof b->family || b->n_seen == METRICS_FAMILIES_MAX) {
    b->bad = true;
    return;
  }
  for (int i = 0; i < b->n_seen; i++)
    if (strcmp(b->seen[i], name) == 0) b->bad = true; /* a family twice */
  b->seen[b->n_seen++] = name;
  snprintf(b->family, sizeof b->family, "%s", name);
  put(b, "# HELP ");
  put(b, name);
  put(b, " ");
  put_escaped(b, help, false);
  put(b, "\n# TYPE ");
  put(b, name);
  put(b, " ");
  put(b, type);
  put(b, "\n");
}

void metrics_sample(struct metrics_buf *b, const char *name, const char *const *labels,
                    double value) {
  if (strcmp(name, b->family) != 0) { /* before its TYPE, or out of its group */
    b->bad = true;
    return;
  }
  put(b, name);
  if (labels && labels[0]) {
    put(b, "{");
    for (int i = 0; labels[i]; i += 2) {
      if (!metrics_valid_label_name(labels[i]) || !labels[i + 1]) {
        b->bad = true;
        return;
      }
      if (i) put(b, ",");
      put(b, labels[i]);
      put(b, "=\"");
      metrics_escape_label(b, labels[i + 1]);
      put(b, "\"");
    }
    put(b, "}");
  }
  char num[32];
  put(b, " ");
  put(b, metrics_format_value(value, num));
  put(b, "\n");
}

/* ---- helpers for the render functions ---------------------------------- */

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static void gauge(struct metrics_buf *b, const char *name, const char *help, double v) {
  metrics_family(b, name, "gauge", help);
  metrics_sample(b, name, NULL, v);
}

static void counter(struct metrics_buf *b, const char *name, const char *help, double v) {
  metrics_family(b, name, "counter", help);
  metrics_sample(b, name, NULL, v);
}

static double ns_seconds(int64_t ns) {
  return (double)(ns / 1000000000) + (double)(ns % 1000000000) * 1e-9;
}

/* ---- status ------------------------------------------------------------ */

static void render_status(struct metrics_buf *b, const struct status_report *s) {
  metrics_family(b, "vettime_build_info", "gauge", "The running vettimed's version (always 1).");
  metrics_sample(b, "vettime_build_info", L("version", s->version), 1);
  gauge(b, "vettime_uptime_seconds", "Seconds since vettimed started.", s->uptime);
  gauge(b, "vettime_sources", "Sources configured.", s->sources);
  gauge(b, "vettime_sources_reachable", "Sources whose reachability register is not 0.",
        s->reachable);
  counter(b, "vettime_history_samples_written_total",
          "Samples written to the history database since start.", (double)s->samples_written);
  counter(b, "vettime_history_write_errors_total",
          "Failed history writes (transactions rolled back) since start.",
          (double)s->history_errors);
  gauge(b, "vettime_history_buffered_samples",
        "Samples waiting in memory for the next history write.", (double)s->history_buffered);
  counter(b, "vettime_history_dropped_total",
          "Rows the history lost since start: samples, votes, events or alarms evicted from a "
          "full buffer while the database could not be written, or refused.",
          (double)s->history_dropped);
  counter(b, "vettime_local_clock_steps_total",
          "Steps of the local clock (CLOCK_REALTIME against CLOCK_MONOTONIC) seen since start.",
          s->clock_steps);
}

/* ---- sources ----------------------------------------------------------- */

typedef bool (*source_value_fn)(const struct source_report *r, const struct status_report *st,
                                double *v);

static bool src_offset(const struct source_report *r, const struct status_report *st, double *v) {
  (void)st;
  *v = r->probe.last.offset;
  return r->probe.have_sample;
}
static bool src_bound(const struct source_report *r, const struct status_report *st, double *v) {
  (void)st;
  *v = r->probe.last.error_bound;
  return r->probe.have_sample;
}
static bool src_delay(const struct source_report *r, const struct status_report *st, double *v) {
  (void)st;
  *v = r->probe.last.delay;
  return r->probe.have_sample;
}
static bool src_root_delay(const struct source_report *r, const struct status_report *st,
                           double *v) {
  (void)st;
  *v = r->probe.last.root_delay;
  return r->probe.have_sample;
}
static bool src_root_disp(const struct source_report *r, const struct status_report *st,
                          double *v) {
  (void)st;
  *v = r->probe.last.root_dispersion;
  return r->probe.have_sample;
}
static bool src_jitter(const struct source_report *r, const struct status_report *st, double *v) {
  (void)st;
  *v = r->probe.jitter;
  return r->probe.have_sample;
}
static bool src_age(const struct source_report *r, const struct status_report *st, double *v) {
  if (!st || !r->probe.have_sample) return false;
  *v = timespec_seconds(st->now) - timespec_seconds(r->probe.last_rx);
  return true;
}
static bool src_stratum(const struct source_report *r, const struct status_report *st, double *v) {
  (void)st;
  *v = r->probe.stratum;
  return r->probe.stratum >= 0;
}
static bool src_reach(const struct source_report *r, const struct status_report *st, double *v) {
  (void)st;
  *v = (double)(r->probe.reach & 0xff);
  return true;
}
static bool src_poll(const struct source_report *r, const struct status_report *st, double *v) {
  (void)st;
  *v = ldexp(1.0, r->probe.poll);
  return r->probe.poll > -32 && r->probe.poll < 32;
}

/* One gauge family with one series per source that has the value; a value
 * that is not finite is left out like one that does not exist. */
static void source_gauge(struct metrics_buf *b, const struct metrics_input *in, const char *name,
                         const char *help, source_value_fn fn) {
  metrics_family(b, name, "gauge", help);
  for (int i = 0; i < in->n_sources; i++) {
    double v;
    if (fn(&in->sources[i], in->status, &v) && isfinite(v))
      metrics_sample(b, name, L("source", in->sources[i].name), v);
  }
}

static void render_source_info(struct metrics_buf *b, const struct metrics_input *in) {
  metrics_family(b, "vettime_source_info", "gauge",
                 "A configured source (always 1): its kind and reference class (configured, "
                 "else inferred from the refid), and the refid of its last valid response.");
  for (int i = 0; i < in->n_sources; i++) {
    const struct source_report *r = &in->sources[i];
    char refid[16] = "";
    if (r->probe.stratum >= 0) refid_format(r->probe.stratum, r->probe.refid, refid);
    metrics_sample(b, "vettime_source_info",
                   L("source", r->name, "kind", r->kind, "class", ref_class_name(r->ref_class),
                     "refid", refid),
                   1);
  }
  metrics_family(b, "vettime_source_state_info", "gauge",
                 "The probe's state of a source (always 1): ok, init, unresolved, unreachable, "
                 "rate, denied, auth-fail, unsync, ...");
  for (int i = 0; i < in->n_sources; i++) {
    const struct source_report *r = &in->sources[i];
    char state[sizeof r->probe.state + 1];
    snprintf(state, sizeof state, "%.*s", (int)sizeof r->probe.state, r->probe.state);
    metrics_sample(b, "vettime_source_state_info", L("source", r->name, "state", state), 1);
  }
  metrics_family(b, "vettime_source_auth_info", "gauge",
                 "How an NTP source's answers are authenticated (always 1): nts (RFC 8915), "
                 "key N (a symmetric key), none (anyone on the path can forge them).");
  for (int i = 0; i < in->n_sources; i++) {
    const struct source_report *r = &in->sources[i];
    if (!r->auth[0]) continue;
    char auth[sizeof r->auth + 1];
    snprintf(auth, sizeof auth, "%.*s", (int)sizeof r->auth, r->auth);
    metrics_sample(b, "vettime_source_auth_info", L("source", r->name, "auth", auth), 1);
  }
}

/* A state set (OpenMetrics' StateSet in the 0.0.4 format): every state a
 * series, 1 for the current one. */
static void render_vote_states(struct metrics_buf *b, const struct metrics_input *in) {
  metrics_family(b, "vettime_source_vote_state", "gauge",
                 "The source's state in the last vote round, one series per state (1: the "
                 "current one): best, combined, outlier and held agree; falseticker, "
                 "class-outvoted, class-split disagree; the others do not vote.");
  for (int i = 0; i < in->n_sources; i++) {
    const struct source_report *r = &in->sources[i];
    if (!r->voted) continue;
    for (int s = 0; s < SS_STATE_COUNT; s++)
      metrics_sample(b, "vettime_source_vote_state",
                     L("source", r->name, "state", source_state_name((enum source_state)s)),
                     r->vote_state == (enum source_state)s);
  }
}

static void render_source_counters(struct metrics_buf *b, const struct metrics_input *in) {
  metrics_family(b, "vettime_source_probe_events_total", "counter",
                 "What a source's probe did and dropped since start, by event (sent, received, "
                 "valid, timeout, bad-length, bogus-origin, kod, bad-checksum, parity, ...).");
  for (int i = 0; i < in->n_sources; i++)
    for (int c = 0; c < PC_COUNT; c++)
      metrics_sample(b, "vettime_source_probe_events_total",
                     L("source", in->sources[i].name, "event",
                       probe_counter_name((enum probe_counter)c)),
                     (double)in->sources[i].probe.counters[c]);
}

static void render_sources(struct metrics_buf *b, const struct metrics_input *in) {
  render_source_info(b, in);
  source_gauge(b, in, "vettime_source_offset_seconds",
               "Offset of the local clock against the source (source time minus local time, "
               "RFC 5905 theta) in its last valid sample.", src_offset);
  source_gauge(b, in, "vettime_source_error_bound_seconds",
               "Error bound of the last valid sample: its root distance (RFC 5905 lambda) for "
               "NTP, the receiver's bound otherwise.", src_bound);
  source_gauge(b, in, "vettime_source_delay_seconds",
               "Round-trip delay of the last valid sample.", src_delay);
  source_gauge(b, in, "vettime_source_root_delay_seconds",
               "Root delay the source reported in its last valid sample.", src_root_delay);
  source_gauge(b, in, "vettime_source_root_dispersion_seconds",
               "Root dispersion the source reported in its last valid sample.", src_root_disp);
  source_gauge(b, in, "vettime_source_jitter_seconds",
               "RMS jitter of the source's recent samples.", src_jitter);
  source_gauge(b, in, "vettime_source_last_sample_age_seconds",
               "Seconds since the source's last valid sample arrived.", src_age);
  source_gauge(b, in, "vettime_source_stratum",
               "Stratum of the source's last valid response (0 for a receiver).", src_stratum);
  source_gauge(b, in, "vettime_source_reach",
               "The source's 8-bit reachability register (0-255, as ntpq and chronyc show it "
               "in octal).", src_reach);
  source_gauge(b, in, "vettime_source_poll_interval_seconds",
               "The source's current poll interval.", src_poll);
  render_vote_states(b, in);
  render_source_counters(b, in);
}

/* ---- classes ----------------------------------------------------------- */

static void render_classes(struct metrics_buf *b, const struct metrics_input *in) {
  unsigned present = 0;
  for (int i = 0; i < in->n_sources; i++)
    if (in->sources[i].ref_class >= 0 && in->sources[i].ref_class < CLASS_COUNT)
      present |= 1u << in->sources[i].ref_class;
  bool valid = in->vote && in->vote->valid;
  const struct vote_verdict *v = valid ? &in->vote->verdict : NULL;
  metrics_family(b, "vettime_class_sources", "gauge",
                 "Sources configured per reference class.");
  for (int c = 0; c < CLASS_COUNT; c++) {
    if (!(present & (1u << c))) continue;
    int n = 0;
    for (int i = 0; i < in->n_sources; i++) n += in->sources[i].ref_class == (enum ref_class)c;
    metrics_sample(b, "vettime_class_sources", L("class", ref_class_name((enum ref_class)c)), n);
  }
  metrics_family(b, "vettime_class_agreeing", "gauge",
                 "1 when the reference class has a source agreeing with the class majority in "
                 "the last vote round, else 0.");
  for (int c = 0; v && c < CLASS_COUNT; c++)
    if (present & (1u << c))
      metrics_sample(b, "vettime_class_agreeing", L("class", ref_class_name((enum ref_class)c)),
                     (v->class_mask >> c) & 1u);
  metrics_family(b, "vettime_class_offset_seconds", "gauge",
                 "An agreeing reference class's own estimate of the local clock's offset in the "
                 "last vote round.");
  for (int c = 0; v && c < CLASS_COUNT; c++)
    if ((v->class_mask & (1u << c)) && isfinite(v->class_offset[c]))
      metrics_sample(b, "vettime_class_offset_seconds",
                     L("class", ref_class_name((enum ref_class)c)), v->class_offset[c]);
}

/* ---- the vote ---------------------------------------------------------- */

static void render_vote(struct metrics_buf *b, const struct metrics_input *in) {
  if (!in->vote || !in->vote->valid) return; /* before the first round */
  const struct vote_report *r = in->vote;
  const struct vote_verdict *v = &r->verdict;
  gauge(b, "vettime_vote_timestamp_seconds",
        "Unix time of the last vote round (one a second while the daemon's loop keeps pace).",
        ns_seconds(r->time_ns));
  gauge(b, "vettime_vetted", "1 when the last vote round vetted the time, else 0.", v->vetted);
  metrics_family(b, "vettime_vetted_offset_seconds", "gauge",
                 "The vetted offset: true time minus the local clock (absent while not vetted).");
  if (v->vetted && isfinite(v->offset))
    metrics_sample(b, "vettime_vetted_offset_seconds", NULL, v->offset);
  metrics_family(b, "vettime_vetted_error_bound_seconds", "gauge",
                 "Bound of the vetted offset's error (absent while not vetted).");
  if (v->vetted && isfinite(v->error))
    metrics_sample(b, "vettime_vetted_error_bound_seconds", NULL, v->error);
  gauge(b, "vettime_vote_candidate_sources", "Sources past the vote's sanity filter.",
        v->candidates);
  gauge(b, "vettime_vote_agreeing_sources", "Sources agreeing with the majority (truechimers).",
        v->agreeing);
  gauge(b, "vettime_vote_classes", "Reference classes with candidates.", v->classes);
  gauge(b, "vettime_vote_agreeing_classes", "Reference classes with an agreeing source.",
        v->agreeing_classes);
  gauge(b, "vettime_vote_stratum",
        "The stratum the vote gives (best agreeing source's + 1; 16 when not vetted).",
        v->stratum);
  gauge(b, "vettime_vote_leap_indicator",
        "Leap indicator held by the majority of the agreeing sources (0-3).", v->leap);
  metrics_family(b, "vettime_local_clock_frequency_error_ratio", "gauge",
                 "The local clock's frequency error against the vote (1e-6 is 1 ppm; absent "
                 "while unknown).");
  if (isfinite(r->local_freq_ppm))
    metrics_sample(b, "vettime_local_clock_frequency_error_ratio", NULL,
                   r->local_freq_ppm * 1e-6);
}

/* ---- alarms, outbox, clock model, server ------------------------------- */

static void render_alarms(struct metrics_buf *b, const struct metrics_input *in) {
  int open[EV_COUNT][SEV_CRITICAL + 1];
  memset(open, 0, sizeof open);
  for (int i = 0; i < in->n_alarms; i++) {
    const struct alarm *a = &in->alarms[i].alarm;
    if (a->active && a->kind >= 0 && a->kind < EV_COUNT && a->severity >= SEV_INFO &&
        a->severity <= SEV_CRITICAL)
      open[a->kind][a->severity]++;
  }
  metrics_family(b, "vettime_alarms_open", "gauge",
                 "Alarms raised and not cleared, by kind and severity.");
  for (int k = 0; k < EV_COUNT; k++)
    for (int s = SEV_INFO; s <= SEV_CRITICAL; s++)
      metrics_sample(b, "vettime_alarms_open",
                     L("kind", event_kind_name((enum event_kind)k), "severity",
                       alarm_severity_name((enum alarm_severity)s)),
                     open[k][s]);
}

static void render_outbox(struct metrics_buf *b, const struct outbox_report *o) {
  if (!o || !o->valid) return;
  gauge(b, "vettime_alert_outbox_pending",
        "Alert notifications waiting to be sent or retried (the outbox's depth).", o->pending);
  gauge(b, "vettime_alert_outbox_dead",
        "Alert notifications given up on (vettime alert retry requeues them).", o->dead);
}

static void render_clock(struct metrics_buf *b, const struct clock_snapshot *c) {
  if (!c) return;
  static const enum clock_state states[] = {CLOCK_SERVING, CLOCK_HOLDOVER, CLOCK_REFUSING};
  metrics_family(b, "vettime_clock_state", "gauge",
                 "The clock model the NTP server serves from, one series per state (1: the "
                 "current one): serving (vetted), holdover (vote lost, bound growing), "
                 "refusing (LI=3, stratum 16).");
  for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
    metrics_sample(b, "vettime_clock_state", L("state", clock_state_name(states[i])),
                   c->state == states[i]);
  metrics_family(b, "vettime_clock_error_bound_seconds", "gauge",
                 "The clock model's error bound at its last update (absent when refusing).");
  if (c->state != CLOCK_REFUSING && isfinite(c->error))
    metrics_sample(b, "vettime_clock_error_bound_seconds", NULL, c->error);
  gauge(b, "vettime_clock_stratum", "The stratum the NTP server would serve (16: refusing).",
        c->stratum);
}

/* The NTP server (issue 10): every request counted once by what became of
 * it, in one family (ntpd-rs splits ntp_server_*_packets_total; chrony's
 * serverstats counts received and dropped), so that
 * sum(vettime_server_requests_total) is what was received and a rate of
 * rate-limited or control requests is one label away. The `result` values
 * are monitor/report.h's serve_counter_name(). Zeros, not absence, while
 * the server is off: `vettime_server_sockets` says whether it runs. */
static void render_server(struct metrics_buf *b, const struct metrics_input *in) {
  const struct serve_report *s = in->serve;
  if (!s) return;
  gauge(b, "vettime_server_sockets", "Sockets the NTP server serves on (0: no serve line).",
        s->sockets);
  counter(b, "vettime_server_received_total", "NTP requests received since start.",
          (double)s->counters[SC_RECEIVED]);
  metrics_family(b, "vettime_server_requests_total", "counter",
                 "NTP requests since start by what became of them: answered (with the time), "
                 "crypto_nak, kod (RATE), or the reason they were dropped.");
  for (int c = SC_ANSWERED; c < SC_COUNT; c++) {
    if (c == SC_AUTH_OK || c == SC_SEND_ERRORS || c == SC_NTS_ANSWERED ||
        c == SC_NTS_UNKNOWN_KEY || c >= SC_NTS_KE)
      continue;
    metrics_sample(b, "vettime_server_requests_total",
                   L("result", serve_counter_name((enum serve_counter)c)), (double)s->counters[c]);
  }
  counter(b, "vettime_server_signed_total",
          "NTP answers signed with the request's key (MD5, SHA1, AES-128-CMAC).",
          (double)s->counters[SC_AUTH_OK]);
  counter(b, "vettime_server_send_errors_total", "NTP responses the kernel refused to send.",
          (double)s->counters[SC_SEND_ERRORS]);
  counter(b, "vettime_server_nts_answered_total",
          "NTP answers authenticated with NTS (RFC 8915) since start.",
          (double)s->counters[SC_NTS_ANSWERED]);
  metrics_family(b, "vettime_server_nts_ke_total", "counter",
                 "NTS-KE connections since start: session (cookies handed out), failed "
                 "(TLS, ALPN, bad request, timeout), refused (acl, rate or connection limits).");
  metrics_sample(b, "vettime_server_nts_ke_total", L("result", "session"),
                 (double)s->counters[SC_NTS_KE]);
  metrics_sample(b, "vettime_server_nts_ke_total", L("result", "failed"),
                 (double)s->counters[SC_NTS_KE_FAILED]);
  metrics_sample(b, "vettime_server_nts_ke_total", L("result", "refused"),
                 (double)s->counters[SC_NTS_KE_REFUSED]);
}

static void render_http(struct metrics_buf *b, const struct metrics_http *h) {
  if (!h) return;
  static const int codes[] = METRICS_HTTP_CODES;
  metrics_family(b, "vettime_http_responses_total", "counter",
                 "HTTP responses of the API since start, by status code.");
  for (int i = 0; i < METRICS_HTTP_NCODES; i++) {
    char code[8];
    snprintf(code, sizeof code, "%d", codes[i]);
    metrics_sample(b, "vettime_http_responses_total", L("code", code), (double)h->responses[i]);
  }
  counter(b, "vettime_http_connections_total", "HTTP connections accepted since start.",
          (double)h->connections);
  gauge(b, "vettime_http_open_connections", "HTTP connections open now.", h->open_connections);
}

char *metrics_render(const struct metrics_input *in, size_t *len) {
  struct metrics_buf b;
  memset(&b, 0, sizeof b);
  if (in->status) render_status(&b, in->status);
  render_sources(&b, in);
  render_classes(&b, in);
  render_vote(&b, in);
  render_alarms(&b, in);
  render_outbox(&b, in->outbox);
  render_clock(&b, in->clock);
  render_server(&b, in);
  render_http(&b, in->http);
  if (b.oom || b.bad || !b.p) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}
