/* `vettime decode` (see decode.h): reads a recorded file, feeds the
 * daemon's pure decoders (probes/nmea.h, probes/gpsd_json.h,
 * probes/dcf77.h, probes/meinberg.h) and prints each decoded time and each
 * rejection. Text: one line each, then "summary: ...". JSON (--json):
 *   {"kind": K, "file": F, "times": [...], "rejected": [...], "summary": {...}}
 * where a time has at least "line", "time" (ISO 8601 UTC), "utc" (Unix s),
 * "trusted" and "why" (null when trusted), and a rejection "line",
 * "status", "why" (and "text" for NMEA). */
#include "cli/decode.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sysexits.h>
#include <time.h>

#include "probes/dcf77.h"
#include "probes/gpsd_json.h"
#include "probes/meinberg.h"
#include "probes/nmea.h"

#define MAX_LINE 20000 /* longer input lines are cut (the decoders see the pieces) */

struct dec {
  bool json;
  int line;              /* 1-based line being decoded */
  json_object *times, *rejected, *summary;
  unsigned long n_times, n_trusted, n_rejected;
};

/* ---- output ---- */

static void iso_time(int64_t utc, double frac, char *buf, size_t len) {
  time_t t = (time_t)utc;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    snprintf(buf, len, "(%lld)", (long long)utc);
    return;
  }
  snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(frac * 1000 + 0.5) % 1000);
}

static void put(json_object *o, const char *key, json_object *v) { json_object_object_add(o, key, v); }
static json_object *str_or_null(const char *s) { return s && *s ? json_object_new_string(s) : NULL; }

/* A decoded time: the JSON object in --json mode, else the text line. */
__attribute__((format(printf, 5, 6)))
static void emit_time(struct dec *d, int64_t utc, double frac, json_object *o, const char *fmt, ...) {
  char when[80];
  iso_time(utc, frac, when, sizeof when);
  json_object *trusted = json_object_object_get(o, "trusted");
  d->n_times++;
  if (json_object_get_boolean(trusted)) d->n_trusted++;
  if (d->json) {
    put(o, "line", json_object_new_int(d->line));
    put(o, "time", json_object_new_string(when));
    put(o, "utc", json_object_new_double((double)utc + frac));
    json_object_array_add(d->times, o);
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  printf("line %d: %s ", d->line, when);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
  json_object_put(o);
}

static void emit_reject(struct dec *d, const char *status, const char *why, const char *text) {
  d->n_rejected++;
  if (d->json) {
    json_object *o = json_object_new_object();
    put(o, "line", json_object_new_int(d->line));
    put(o, "status", json_object_new_string(status));
    put(o, "why", str_or_null(why));
    if (text) put(o, "text", json_object_new_string(text));
    json_object_array_add(d->rejected, o);
    return;
  }
  printf("line %d: rejected (%s)%s%s%s%s\n", d->line, status, why && *why ? ": " : "", why ? why : "",
         text ? ": " : "", text ? text : "");
}

static void sum_int(struct dec *d, const char *key, long long v) {
  put(d->summary, key, json_object_new_int64(v));
}

static void print_summary(struct dec *d) {
  sum_int(d, "times", (long long)d->n_times);
  sum_int(d, "trusted", (long long)d->n_trusted);
  sum_int(d, "rejected", (long long)d->n_rejected);
  if (d->json) return;
  printf("summary:");
  const char *sep = " ";
  json_object_object_foreach(d->summary, key, val) {
    printf("%s%s %s", sep, key, json_object_get_string(val));
    sep = ", ";
  }
  putchar('\n');
}

/* ---- input ---- */

/* Calls fn for every line (without its '\n', '\r' kept), lines cut at
 * MAX_LINE. Comment lines ('#' first) are skipped when skip_comments. */
typedef void (*line_fn)(struct dec *d, const char *line, size_t len, bool ended, void *ctx);

static void for_each_line(FILE *in, struct dec *d, bool skip_comments, line_fn fn, void *ctx) {
  static char buf[MAX_LINE];
  size_t n = 0;
  int c;
  d->line = 1;
  while ((c = getc(in)) != EOF) {
    if (c != '\n') buf[n++] = (char)c;
    if (c == '\n' || n == sizeof buf) {
      if (!(skip_comments && n && buf[0] == '#')) fn(d, buf, n, c == '\n', ctx);
      n = 0;
      if (c == '\n') d->line++;
    }
  }
  if (n && !(skip_comments && buf[0] == '#')) fn(d, buf, n, false, ctx);
}

/* ---- nmea ---- */

struct nmea_ctx {
  struct nmea_framer framer;
  struct nmea_receiver rx;
  unsigned long sentences, counts[NMEA_BAD_FIELD + 1], garbage;
  int max_used[NMEA_SYS_COUNT], max_view[NMEA_SYS_COUNT];
};

static json_object *sats_json(const int n[NMEA_SYS_COUNT]) {
  json_object *o = json_object_new_object();
  for (int s = 0; s < NMEA_SYS_COUNT; s++)
    if (n[s]) put(o, nmea_system_name((enum nmea_system)s), json_object_new_int(n[s]));
  return o;
}

static void nmea_time_out(struct dec *d, struct nmea_ctx *c, const struct nmea_time *t) {
  char sats[160];
  for (int s = 0; s < NMEA_SYS_COUNT; s++) {
    if (t->used[s] > c->max_used[s]) c->max_used[s] = t->used[s];
    if (t->in_view[s] > c->max_view[s]) c->max_view[s] = t->in_view[s];
  }
  json_object *o = json_object_new_object();
  put(o, "class", json_object_new_string(ref_class_name(t->cls)));
  put(o, "trusted", json_object_new_boolean(t->trusted));
  put(o, "why", t->trusted ? NULL : json_object_new_string(t->why));
  put(o, "fix", json_object_new_int(t->fix));
  put(o, "used", sats_json(t->used));
  put(o, "in_view", sats_json(t->in_view));
  nmea_format_sats(t->used, t->in_view, sats, sizeof sats);
  emit_time(d, t->utc, t->frac, o, "%s %s%s%s%s", ref_class_name(t->cls), t->trusted ? "trusted" : "untrusted: ",
            t->trusted ? "" : t->why, sats[0] ? "; " : "", sats);
}

static void nmea_sentence_in(struct dec *d, struct nmea_ctx *c, const struct nmea_frame *f) {
  struct nmea_sentence s;
  struct nmea_time t;
  char why[120];
  c->sentences++;
  enum nmea_status st = nmea_parse(f->text, &s, why, sizeof why);
  c->counts[st]++;
  if (st == NMEA_OK && nmea_receiver_update(&c->rx, &s, 0, &t)) nmea_time_out(d, c, &t);
  else if (st != NMEA_OK && st != NMEA_IGNORED) emit_reject(d, nmea_status_name(st), why, f->text);
}

static void nmea_line(struct dec *d, const char *line, size_t len, bool ended, void *ctx) {
  struct nmea_ctx *c = ctx;
  char buf[MAX_LINE + 1];
  memcpy(buf, line, len);
  if (ended) buf[len++] = '\n';
  for (size_t at = 0; at < len;) {
    struct nmea_frame f;
    at += nmea_framer_push(&c->framer, (const uint8_t *)buf + at, len - at, 0, 0, &f);
    if (f.kind == NMEA_FRAME_SENTENCE) nmea_sentence_in(d, c, &f);
    else if (f.kind == NMEA_FRAME_GARBAGE) c->garbage++, emit_reject(d, "garbage", f.text, NULL);
  }
}

static void decode_nmea(FILE *in, struct dec *d) {
  static struct nmea_ctx c;
  memset(&c, 0, sizeof c);
  nmea_framer_init(&c.framer);
  nmea_receiver_init(&c.rx);
  for_each_line(in, d, true, nmea_line, &c);
  sum_int(d, "sentences", (long long)c.sentences);
  sum_int(d, "ok", (long long)c.counts[NMEA_OK]);
  sum_int(d, "ignored", (long long)c.counts[NMEA_IGNORED]);
  sum_int(d, "bad_checksum", (long long)c.counts[NMEA_BAD_CHECKSUM]);
  sum_int(d, "bad_format", (long long)c.counts[NMEA_BAD_FORMAT]);
  sum_int(d, "bad_field", (long long)c.counts[NMEA_BAD_FIELD]);
  sum_int(d, "garbage", (long long)c.garbage);
  put(d->summary, "class", json_object_new_string(ref_class_name(nmea_receiver_class(&c.rx))));
  put(d->summary, "max_used", sats_json(c.max_used));
  put(d->summary, "max_in_view", sats_json(c.max_view));
}

/* ---- gpsd ---- */

struct gpsd_ctx {
  struct gpsd_time_filter filter;
  struct gpsd_sky_window window;
  int used[GPSD_GNSS_IDS], used_other;
  unsigned long messages, errors;
};

static void gpsd_tpv_out(struct dec *d, struct gpsd_ctx *c, const struct gpsd_tpv *t) {
  gpsd_sky_window_close(&c->window, c->used, &c->used_other);
  enum gpsd_verdict v = gpsd_time_filter_tpv(&c->filter, t);
  if (!t->has_time || v == GPSD_TIME_REPEAT) return;
  enum ref_class cls = gpsd_class_from_used(c->used);
  json_object *o = json_object_new_object();
  put(o, "class", json_object_new_string(ref_class_name(cls)));
  put(o, "mode", json_object_new_int(t->mode));
  put(o, "trusted", json_object_new_boolean(v == GPSD_TIME_TRUSTED));
  put(o, "why", v == GPSD_TIME_TRUSTED ? NULL : json_object_new_string(gpsd_verdict_name(v)));
  emit_time(d, t->time.sec, t->time.nsec * 1e-9, o, "%s mode %d %s%s", ref_class_name(cls), t->mode,
            v == GPSD_TIME_TRUSTED ? "trusted" : "untrusted: ", v == GPSD_TIME_TRUSTED ? "" : gpsd_verdict_name(v));
}

static void gpsd_line(struct dec *d, const char *line, size_t len, bool ended, void *ctx) {
  struct gpsd_ctx *c = ctx;
  struct gpsd_msg m;
  (void)ended;
  if (len == 0 || (len == 1 && line[0] == '\r')) return;
  c->messages++;
  enum gpsd_error e = gpsd_json_decode_line(line, len, &m);
  if (e != GPSD_OK) {
    c->errors++;
    emit_reject(d, gpsd_error_name(e), m.cls == GPSD_MSG_NONE ? NULL : gpsd_msg_class_name(m.cls), NULL);
  } else if (m.cls == GPSD_MSG_TPV) {
    gpsd_tpv_out(d, c, &m.u.tpv);
  } else if (m.cls == GPSD_MSG_SKY) {
    gpsd_sky_window_add(&c->window, &m.u.sky);
  }
}

static void decode_gpsd(FILE *in, struct dec *d) {
  static struct gpsd_ctx c;
  memset(&c, 0, sizeof c);
  gpsd_time_filter_init(&c.filter, 0, GPSD_LEAP_AUTO);
  for_each_line(in, d, true, gpsd_line, &c);
  sum_int(d, "messages", (long long)c.messages);
  sum_int(d, "errors", (long long)c.errors);
}

/* ---- dcf77 ---- */

struct dcf_ctx {
  struct dcf77_decoder dec;
  double mark;                 /* bit lines: the minute mark of the last line */
  unsigned long minutes, pulses;
};

static void dcf_result(struct dec *d, const struct dcf77_result *r) {
  if (r->status > DCF77_UNCONFIRMED) {
    emit_reject(d, dcf77_status_name(r->status), r->why, NULL);
    return;
  }
  const struct dcf77_telegram *t = &r->tg;
  bool ok = r->status == DCF77_OK;
  json_object *o = json_object_new_object();
  put(o, "trusted", json_object_new_boolean(ok));
  put(o, "why", ok ? NULL : json_object_new_string("first minute: awaiting confirmation"));
  put(o, "zone", json_object_new_string(t->cest ? "CEST" : "CET"));
  put(o, "a1", json_object_new_boolean(t->a1));
  put(o, "a2", json_object_new_boolean(t->a2));
  put(o, "call", json_object_new_boolean(t->call));
  put(o, "bits", json_object_new_int(t->nbits));
  emit_time(d, t->utc, 0, o, "%s (%04d-%02d-%02d %02d:%02d %s, weekday %d)%s%s%s%s%s", ok ? "ok" : "unconfirmed",
            t->year, t->month, t->day, t->hour, t->minute, t->cest ? "CEST" : "CET", t->weekday,
            t->a1 ? ", A1" : "", t->a2 ? ", A2" : "", t->call ? ", call bit" : "",
            t->nbits == 60 ? ", leap second" : "", ok ? "" : ": awaiting confirmation by the next minute");
}

static bool is_bit_string(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != '0' && s[i] != '1') return false;
  return n > 0;
}

static void dcf_line(struct dec *d, const char *line, size_t len, bool ended, void *ctx) {
  struct dcf_ctx *c = ctx;
  struct dcf77_result r;
  char buf[128];
  (void)ended;
  while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
  if (!len) return;
  if (is_bit_string(line, len)) {
    uint8_t bits[DCF77_MAX_BITS];
    int n = len > DCF77_MAX_BITS ? DCF77_MAX_BITS + 1 : (int)len; /* too long stays too long */
    for (int i = 0; i < n && i < DCF77_MAX_BITS; i++) bits[i] = line[i] == '1';
    c->mark += n == 60 ? 61 : 60;
    c->minutes++;
    dcf77_minute(&c->dec, bits, n, c->mark, &r);
    dcf_result(d, &r);
    return;
  }
  double sec, width;
  char extra;
  snprintf(buf, sizeof buf, "%.*s", (int)(len < 127 ? len : 127), line);
  if (len >= 127 || sscanf(buf, "%lf %lf %c", &sec, &width, &extra) != 2) {
    emit_reject(d, "bad line", "neither 59/60 bits nor \"SECONDS WIDTH_MS\"", NULL);
    return;
  }
  c->pulses++;
  if (dcf77_pulse(&c->dec, sec, width, &r)) dcf_result(d, &r);
}

static void decode_dcf77(FILE *in, struct dec *d) {
  static struct dcf_ctx c;
  memset(&c, 0, sizeof c);
  dcf77_init(&c.dec);
  for_each_line(in, d, true, dcf_line, &c);
  const struct dcf77_stats *s = &c.dec.stats;
  sum_int(d, "minute_lines", (long long)c.minutes);
  sum_int(d, "pulses", (long long)c.pulses);
  sum_int(d, "noise_pulses", (long long)s->noise);
  sum_int(d, "glitches", (long long)s->glitches);
  sum_int(d, "parity_errors", (long long)s->parity);
  sum_int(d, "lost_minutes", (long long)s->lost);
  put(d->summary, "cutoff_ms", json_object_new_double(dcf77_cutoff(&c.dec)));
}

/* ---- meinberg ---- */

struct mb_ctx {
  struct meinberg_framer framer;
  struct meinberg_checker checker;
  double stamp;                /* strings are taken as one a second */
  unsigned long strings;
};

static void mb_string(struct dec *d, struct mb_ctx *c, const char *body, size_t len) {
  struct meinberg_time t;
  char why[120];
  c->strings++;
  c->stamp += 1;
  enum meinberg_status st = meinberg_parse(body, len, &t, why, sizeof why);
  if (st != MB_OK && st != MB_UNSYNCED) {
    emit_reject(d, meinberg_status_name(st), why, NULL);
    return;
  }
  st = meinberg_judge(&c->checker, &t, c->stamp, why, sizeof why);
  if (st == MB_INCONSISTENT) {
    emit_reject(d, meinberg_status_name(st), why, NULL);
    return;
  }
  json_object *o = json_object_new_object();
  const char *reason = st == MB_OK ? NULL : st == MB_UNCONFIRMED ? "awaiting confirmation" : why;
  put(o, "trusted", json_object_new_boolean(st == MB_OK));
  put(o, "why", str_or_null(reason));
  put(o, "zone", json_object_new_string(t.zone == 'U' ? "UTC" : t.zone == 'S' ? "CEST" : "CET"));
  put(o, "dst_announced", json_object_new_boolean(t.dst_announced));
  put(o, "leap_announced", json_object_new_boolean(t.leap_announced));
  emit_time(d, t.utc, 0, o, "%s%s%s%s", st == MB_OK ? "trusted" : "untrusted: ", reason ? reason : "",
            t.dst_announced ? ", DST change next hour" : "", t.leap_announced ? ", leap second next hour" : "");
}

static void mb_line(struct dec *d, const char *line, size_t len, bool ended, void *ctx) {
  struct mb_ctx *c = ctx;
  (void)ended;
  if (len && line[len - 1] == '\r') len--;
  if (!len) return;
  if (!memchr(line, MEINBERG_STX, len) && !c->framer.in_frame) {
    mb_string(d, c, line, len);
    return;
  }
  for (size_t at = 0; at < len;) {
    struct meinberg_frame f;
    at += meinberg_framer_push(&c->framer, (const uint8_t *)line + at, len - at, 0, 0, &f);
    if (f.kind == MB_FRAME_STRING) mb_string(d, c, f.text, f.len);
    else if (f.kind == MB_FRAME_GARBAGE) emit_reject(d, "garbage", f.text, NULL);
  }
}

static void decode_meinberg(FILE *in, struct dec *d) {
  static struct mb_ctx c;
  memset(&c, 0, sizeof c);
  meinberg_framer_init(&c.framer);
  for_each_line(in, d, false, mb_line, &c);
  sum_int(d, "strings", (long long)c.strings);
}

/* ---- the command ---- */

static const struct {
  const char *kind;
  void (*run)(FILE *in, struct dec *d);
} decoders[] = {
    {"nmea", decode_nmea}, {"gpsd", decode_gpsd}, {"dcf77", decode_dcf77}, {"meinberg", decode_meinberg},
};

static void decode_help(FILE *out) {
  fputs("usage: vettime decode nmea|gpsd|dcf77|meinberg FILE [--json]\n"
        "\n"
        "Decodes a recorded receiver stream offline (FILE - is stdin): the times it\n"
        "carries, what was rejected and why, a summary. No daemon needed.\n"
        "  -j, --json  a JSON document instead of the text\n"
        "\n"
        "Exit status: 0 decoded, 64 usage, 66 the file cannot be read.\n", out);
}

static int decode_usage(const char *why) {
  fprintf(stderr, "vettime decode: %s\n\n", why);
  decode_help(stderr);
  return EX_USAGE;
}

static int run_decoder(int which, const char *path, bool json) {
  FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!in) {
    fprintf(stderr, "vettime decode: %s: cannot open: %s\n", path, strerror(errno));
    return EX_NOINPUT;
  }
  struct dec d = {.json = json, .times = json_object_new_array(), .rejected = json_object_new_array(),
                  .summary = json_object_new_object()};
  decoders[which].run(in, &d);
  if (in != stdin) fclose(in);
  print_summary(&d);
  json_object *doc = json_object_new_object();
  put(doc, "kind", json_object_new_string(decoders[which].kind));
  put(doc, "file", json_object_new_string(path));
  put(doc, "times", d.times);
  put(doc, "rejected", d.rejected);
  put(doc, "summary", d.summary);
  if (json) puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(doc);
  return 0;
}

int decode_main(int argc, char **argv, bool json) {
  const char *args[2] = {NULL, NULL};
  int n = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
      json = true;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      decode_help(stdout);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "vettime decode: unknown option \"%s\"\n\n", argv[i]);
      decode_help(stderr);
      return EX_USAGE;
    } else if (n < 2) {
      args[n++] = argv[i];
    }
    else return decode_usage("too many arguments");
  }
  if (n < 2) return decode_usage("expected a kind and a file");
  for (size_t k = 0; k < sizeof decoders / sizeof decoders[0]; k++)
    if (strcmp(args[0], decoders[k].kind) == 0) return run_decoder((int)k, args[1], json);
  return decode_usage("unknown kind (nmea, gpsd, dcf77, meinberg)");
}
