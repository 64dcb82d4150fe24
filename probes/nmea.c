/* NMEA 0183 decoder (see nmea.h): framing, checksum, a table of sentence
 * handlers with minimum field counts, and the per-receiver cycle tracker.
 * Field layouts follow NMEA 0183 v4.11 (with the v2.3 mode indicator and
 * the v4.10 system/signal ids optional). Pure: no I/O, no clock, no
 * globals; every copy is bounded by NMEA_MAX_SENTENCE. */
#include "probes/nmea.h"

#include "lib/civil.h"
#include "lib/why.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- small helpers ---- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }


/* All digits, 1..maxdigits of them; the value in *out. */
static bool parse_uint(const char *s, int maxdigits, int *out) {
  int n = 0, v = 0;
  for (; s[n]; n++) {
    if (!is_digit(s[n]) || n >= maxdigits) return false;
    v = v * 10 + (s[n] - '0');
  }
  *out = v;
  return n > 0;
}

static bool parse_uint_range(const char *s, int maxdigits, int lo, int hi, int *out) {
  return parse_uint(s, maxdigits, out) && *out >= lo && *out <= hi;
}

/* Empty, or digits with at most one '.' (a number we do not use). */
static bool is_decimal_or_empty(const char *s) {
  int dots = 0;
  for (; *s; s++) {
    if (*s == '.') dots++;
    else if (!is_digit(*s)) return false;
  }
  return dots <= 1;
}

/* ---- 1. framing ---- */

void nmea_framer_init(struct nmea_framer *f) { memset(f, 0, sizeof *f); }

static size_t frame_garbage(struct nmea_framer *f, struct nmea_frame *out,
                            const char *why, size_t consumed) {
  f->in_sentence = false;
  f->in_garbage = true;
  out->kind = NMEA_FRAME_GARBAGE;
  out->text = why;
  out->len = strlen(why);
  return consumed;
}

static void start_sentence(struct nmea_framer *f, double t) {
  f->in_sentence = true;
  f->in_garbage = false;
  f->buf[0] = '$';
  f->len = 1;
  f->stamp = t;
}

/* One byte inside a sentence: 1 when it ended the frame (out filled). */
static int sentence_byte(struct nmea_framer *f, uint8_t c, struct nmea_frame *out) {
  if (c == '\r' || c == '\n') {
    f->buf[f->len] = '\0';
    f->in_sentence = false;
    *out = (struct nmea_frame){NMEA_FRAME_SENTENCE, f->buf, f->len, f->stamp};
    return 1;
  }
  if (c < 0x20 || c > 0x7e) {
    frame_garbage(f, out, "control or non-ASCII byte inside a sentence", 0);
    return 1;
  }
  if (f->len >= NMEA_MAX_SENTENCE) {
    frame_garbage(f, out, "sentence longer than the maximum", 0);
    return 1;
  }
  f->buf[f->len++] = (char)c;
  return 0;
}

size_t nmea_framer_push(struct nmea_framer *f, const uint8_t *data, size_t len,
                        double stamp, double byte_time, struct nmea_frame *out) {
  *out = (struct nmea_frame){.kind = NMEA_FRAME_NONE};
  for (size_t i = 0; i < len; i++) {
    uint8_t c = data[i];
    if (c == '$') {
      bool cut = f->in_sentence;
      start_sentence(f, stamp - (double)(len - 1 - i) * byte_time);
      if (cut) {
        *out = (struct nmea_frame){NMEA_FRAME_GARBAGE, "sentence cut short by another '$'", 33, 0};
        return i + 1;
      }
    } else if (f->in_sentence) {
      if (sentence_byte(f, c, out)) return i + 1;
    } else if (c != '\r' && c != '\n' && !f->in_garbage) {
      return frame_garbage(f, out, "bytes outside a sentence", i + 1);
    }
  }
  return len;
}

/* ---- 2. sentences ---- */

const char *nmea_system_name(enum nmea_system s) {
  static const char *const names[NMEA_SYS_COUNT] = {"GPS", "GLO", "GAL", "BDS", "QZSS", "other"};
  return s >= 0 && s < NMEA_SYS_COUNT ? names[s] : "other";
}

const char *nmea_status_name(enum nmea_status s) {
  switch (s) {
  case NMEA_OK: return "ok";
  case NMEA_IGNORED: return "ignored";
  case NMEA_BAD_CHECKSUM: return "bad checksum";
  case NMEA_BAD_FORMAT: return "bad format";
  case NMEA_BAD_FIELD: return "bad field";
  }
  return "unknown";
}

enum ref_class nmea_talker_class(const char *t) {
  static const struct { char id[3]; enum ref_class cls; } talkers[] = {
      {"GP", CLASS_GPS}, {"GA", CLASS_GAL}, {"GL", CLASS_GLO},
      {"GB", CLASS_BDS}, {"BD", CLASS_BDS}, {"GN", CLASS_GNSS},
  };
  for (size_t i = 0; i < sizeof talkers / sizeof talkers[0]; i++)
    if (t[0] == talkers[i].id[0] && t[1] == talkers[i].id[1]) return talkers[i].cls;
  return CLASS_UNKNOWN;
}

/* A sentence split into fields, in its own bounded copy. */
struct fields {
  char buf[NMEA_MAX_SENTENCE + 1];
  const char *f[NMEA_MAX_FIELDS];
  int n;
};

static bool split_fields(const char *body, size_t len, struct fields *fs) {
  memcpy(fs->buf, body, len);
  fs->buf[len] = '\0';
  fs->n = 0;
  char *p = fs->buf;
  for (;;) {
    if (fs->n >= NMEA_MAX_FIELDS) return false;
    fs->f[fs->n++] = p;
    char *comma = strchr(p, ',');
    if (!comma) return true;
    *comma = '\0';
    p = comma + 1;
  }
}

/* "hhmmss" or "hhmmss.fff": false if garbage; empty means no time. */
static bool parse_tod(const char *s, struct nmea_sentence *out) {
  if (!*s) return true;
  for (int i = 0; i < 6; i++)
    if (!is_digit(s[i])) return false;
  int hh = (s[0] - '0') * 10 + s[1] - '0';
  int mm = (s[2] - '0') * 10 + s[3] - '0';
  int ss = (s[4] - '0') * 10 + s[5] - '0';
  if (hh > 23 || mm > 59 || ss > 60) return false;
  double frac = 0, scale = 0.1;
  if (s[6] == '.') {
    int i = 7;
    for (; s[i]; i++, scale /= 10) {
      if (!is_digit(s[i]) || i > 15) return false;
      frac += (s[i] - '0') * scale;
    }
  } else if (s[6]) {
    return false;
  }
  out->has_time = true;
  out->hour = hh, out->minute = mm, out->second = ss, out->frac = frac;
  return true;
}

static bool set_date(struct nmea_sentence *out, int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1 || d > civil_days_in_month(y, m)) return false;
  out->has_date = true;
  out->year = y, out->month = m, out->day = d;
  return true;
}

/* RMC "ddmmyy": two-digit years 80-99 are 19yy, the rest 20yy. */
static bool parse_ddmmyy(const char *s, struct nmea_sentence *out) {
  if (!*s) return true;
  int v;
  if (strlen(s) != 6 || !parse_uint(s, 6, &v)) return false;
  int yy = v % 100;
  return set_date(out, yy >= 80 ? 1900 + yy : 2000 + yy, v / 100 % 100, v / 10000);
}

static void set_validity(struct nmea_sentence *out, bool valid) {
  out->has_validity = true;
  out->valid = valid;
}

/* Mode indicator (RMC field 12, GNS field 6): a fix is A autonomous,
 * D differential, P precise, R RTK, F float RTK; N, E (dead reckoning),
 * M (manual) and S (simulator) are not. */
static bool mode_char_ok(char c, bool *fix) {
  if (strchr("ADPRF", c)) *fix = true;
  return c && strchr("ADPRFNEMS", c);
}

typedef bool (*handler_fn)(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl);

static bool h_rmc(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl) {
  const char *status = fs->f[2];
  if (!parse_tod(fs->f[1], out)) return why_set(why, wl, "RMC time \"%s\"", fs->f[1]), false;
  if (strcmp(status, "A") && strcmp(status, "V"))
    return why_set(why, wl, "RMC status \"%s\"", status), false;
  if (!parse_ddmmyy(fs->f[9], out)) return why_set(why, wl, "RMC date \"%s\"", fs->f[9]), false;
  bool mode_fix = false;
  if (fs->n > 12 && *fs->f[12]) {
    if (strlen(fs->f[12]) != 1 || !mode_char_ok(fs->f[12][0], &mode_fix))
      return why_set(why, wl, "RMC mode \"%s\"", fs->f[12]), false;
  } else {
    mode_fix = true; /* before NMEA 2.3: the status alone */
  }
  set_validity(out, status[0] == 'A' && mode_fix);
  return true;
}

static bool h_zda(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl) {
  int d, m, y;
  if (!parse_tod(fs->f[1], out)) return why_set(why, wl, "ZDA time \"%s\"", fs->f[1]), false;
  if (!*fs->f[2] && !*fs->f[3] && !*fs->f[4]) return true;
  if (!parse_uint_range(fs->f[2], 2, 1, 31, &d) || !parse_uint_range(fs->f[3], 2, 1, 12, &m) ||
      strlen(fs->f[4]) != 4 || !parse_uint(fs->f[4], 4, &y) || !set_date(out, y, m, d))
    return why_set(why, wl, "ZDA date \"%s.%s.%s\"", fs->f[2], fs->f[3], fs->f[4]), false;
  return true;
}

static bool parse_sats(const char *s, int *out) {
  *out = -1;
  return !*s || parse_uint_range(s, 2, 0, 99, out);
}

static bool h_gga(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl) {
  int q;
  if (!parse_tod(fs->f[1], out)) return why_set(why, wl, "GGA time \"%s\"", fs->f[1]), false;
  if (*fs->f[6]) {
    if (!parse_uint_range(fs->f[6], 1, 0, 8, &q)) return why_set(why, wl, "GGA quality \"%s\"", fs->f[6]), false;
    set_validity(out, q >= 1 && q <= 5);
  }
  if (!parse_sats(fs->f[7], &out->sats_used)) return why_set(why, wl, "GGA satellites \"%s\"", fs->f[7]), false;
  return true;
}

static bool h_gns(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl) {
  const char *mode = fs->f[6];
  bool fix = false;
  if (!parse_tod(fs->f[1], out)) return why_set(why, wl, "GNS time \"%s\"", fs->f[1]), false;
  size_t n = strlen(mode);
  if (n > 8) return why_set(why, wl, "GNS mode \"%s\"", mode), false;
  for (size_t i = 0; i < n; i++)
    if (!mode_char_ok(mode[i], &fix)) return why_set(why, wl, "GNS mode \"%s\"", mode), false;
  if (n) set_validity(out, fix);
  if (fs->n > 7 && !parse_sats(fs->f[7], &out->sats_used))
    return why_set(why, wl, "GNS satellites \"%s\"", fs->f[7]), false;
  return true;
}

/* NMEA 4.10 system id (GSA field 18, GSV last field is the signal id). */
static enum nmea_system system_from_id(int id) {
  static const enum nmea_system ids[] = {NMEA_SYS_OTHER, NMEA_SYS_GPS, NMEA_SYS_GLO, NMEA_SYS_GAL,
                                         NMEA_SYS_BDS, NMEA_SYS_QZSS};
  return id >= 0 && id < 6 ? ids[id] : NMEA_SYS_OTHER;
}

/* A PRN field: empty (skipped) or 1..3 digits, 1..999. */
static bool add_prn(const char *s, struct nmea_sentence *out) {
  int v;
  if (!*s) return true;
  if (!parse_uint_range(s, 3, 1, 999, &v)) return false;
  if (out->n_prn < NMEA_MAX_PRNS) out->prn[out->n_prn++] = v;
  return true;
}

static bool h_gsa(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl) {
  int id = 0;
  if (strcmp(fs->f[1], "A") && strcmp(fs->f[1], "M")) return why_set(why, wl, "GSA mode \"%s\"", fs->f[1]), false;
  if (!parse_uint_range(fs->f[2], 1, 1, 3, &out->fix)) return why_set(why, wl, "GSA fix \"%s\"", fs->f[2]), false;
  for (int i = 3; i <= 14; i++)
    if (!add_prn(fs->f[i], out)) return why_set(why, wl, "GSA PRN \"%s\"", fs->f[i]), false;
  for (int i = 15; i <= 17; i++)
    if (!is_decimal_or_empty(fs->f[i])) return why_set(why, wl, "GSA DOP \"%s\"", fs->f[i]), false;
  if (fs->n > 18 && *fs->f[18] && !parse_uint_range(fs->f[18], 2, 1, 15, &id))
    return why_set(why, wl, "GSA system id \"%s\"", fs->f[18]), false;
  out->system = id ? system_from_id(id) : NMEA_SYS_COUNT; /* COUNT: by talker and PRN */
  return true;
}

/* One satellite of a GSV: PRN, elevation, azimuth, SNR (each may be empty). */
static bool gsv_sat(const char *const *f, struct nmea_sentence *out) {
  int v;
  if (!add_prn(f[0], out)) return false;
  if (*f[1] && !parse_uint_range(f[1], 3, 0, 90, &v)) {
    if (!(f[1][0] == '-' && parse_uint_range(f[1] + 1, 2, 0, 90, &v))) return false;
  }
  if (*f[2] && !parse_uint_range(f[2], 3, 0, 359, &v)) return false;
  return !*f[3] || parse_uint_range(f[3], 2, 0, 99, &v);
}

static bool h_gsv(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl) {
  int total, num;
  int extra = fs->n - 4;
  if (!parse_uint_range(fs->f[1], 1, 1, 9, &total) || !parse_uint_range(fs->f[2], 1, 1, total, &num) ||
      !parse_uint_range(fs->f[3], 3, 0, 255, &out->in_view))
    return why_set(why, wl, "GSV header \"%s,%s,%s\"", fs->f[1], fs->f[2], fs->f[3]), false;
  if (extra % 4 > 1) return why_set(why, wl, "GSV satellites not in groups of four"), false;
  for (int i = 0; i + 4 <= extra; i += 4)
    if (!gsv_sat(&fs->f[4 + i], out)) return why_set(why, wl, "GSV satellite %d", i / 4 + 1), false;
  out->system = NMEA_SYS_COUNT;
  return true;
}

static const struct {
  char name[4];
  enum nmea_type type;
  int min_fields; /* after the address field */
  handler_fn fn;
} sentence_table[] = {
    {"RMC", NMEA_RMC, 9, h_rmc},  {"ZDA", NMEA_ZDA, 4, h_zda},  {"GGA", NMEA_GGA, 7, h_gga},
    {"GNS", NMEA_GNS, 6, h_gns},  {"GSA", NMEA_GSA, 17, h_gsa}, {"GSV", NMEA_GSV, 3, h_gsv},
};

static int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return -2; /* NMEA 0183 requires upper case */
  return -1;
}

/* The checksum after '*': two upper-case hex digits equal to the XOR of
 * the bytes between '$' and '*'. */
static bool checksum_ok(const char *line, size_t n, const char *star, char *why, size_t wl) {
  if (!star) return why_set(why, wl, "no checksum"), false;
  if (line + n - star != 3) return why_set(why, wl, "checksum is not two hex digits"), false;
  int hi = hex_value(star[1]), lo = hex_value(star[2]);
  if (hi == -2 || lo == -2) return why_set(why, wl, "checksum in lower case"), false;
  if (hi < 0 || lo < 0) return why_set(why, wl, "checksum is not hex"), false;
  unsigned x = 0;
  for (const char *p = line + 1; p < star; p++) x ^= (unsigned char)*p;
  if (x != (unsigned)(hi << 4 | lo))
    return why_set(why, wl, "checksum %c%c, computed %02X", star[1], star[2], x), false;
  return true;
}

/* Address field: "ttSSS" (talker, sentence) or proprietary "P...". */
static enum nmea_status parse_address(const char *a, struct nmea_sentence *out, char *why, size_t wl) {
  if (a[0] == 'P') {
    snprintf(out->talker, sizeof out->talker, "P");
    return NMEA_IGNORED;
  }
  if (strlen(a) != 5 || !is_upper(a[0]) || !is_upper(a[1]))
    return why_set(why, wl, "address field \"%.12s\"", a), NMEA_BAD_FORMAT;
  for (int i = 2; i < 5; i++)
    if (!is_upper(a[i]) && !is_digit(a[i])) return why_set(why, wl, "address field \"%.12s\"", a), NMEA_BAD_FORMAT;
  memcpy(out->talker, a, 2);
  memcpy(out->name, a + 2, 3);
  out->talker_class = nmea_talker_class(out->talker);
  return NMEA_OK;
}

static enum nmea_status dispatch(const struct fields *fs, struct nmea_sentence *out, char *why, size_t wl) {
  for (size_t i = 0; i < sizeof sentence_table / sizeof sentence_table[0]; i++) {
    if (strcmp(out->name, sentence_table[i].name) != 0) continue;
    if (fs->n - 1 < sentence_table[i].min_fields)
      return why_set(why, wl, "%s with %d fields, at least %d needed", out->name, fs->n - 1,
                 sentence_table[i].min_fields), NMEA_BAD_FORMAT;
    out->type = sentence_table[i].type;
    return sentence_table[i].fn(fs, out, why, wl) ? NMEA_OK : NMEA_BAD_FIELD;
  }
  return NMEA_IGNORED;
}

enum nmea_status nmea_parse(const char *line, struct nmea_sentence *out, char *why, size_t wl) {
  *out = (struct nmea_sentence){.type = NMEA_OTHER, .sats_used = -1};
  size_t n = strnlen(line, NMEA_MAX_SENTENCE + 1);
  if (n > NMEA_MAX_SENTENCE) return why_set(why, wl, "too long"), NMEA_BAD_FORMAT;
  if (n < 1 || line[0] != '$') return why_set(why, wl, "no '$'"), NMEA_BAD_FORMAT;
  const char *star = memchr(line, '*', n);
  if (!checksum_ok(line, n, star, why, wl)) return NMEA_BAD_CHECKSUM;
  struct fields fs;
  if (!split_fields(line + 1, (size_t)(star - line - 1), &fs))
    return why_set(why, wl, "more than %d fields", NMEA_MAX_FIELDS), NMEA_BAD_FORMAT;
  enum nmea_status st = parse_address(fs.f[0], out, why, wl);
  if (st != NMEA_OK) return st;
  return dispatch(&fs, out, why, wl);
}

/* ---- 3. the receiver ---- */

void nmea_receiver_init(struct nmea_receiver *r) { memset(r, 0, sizeof *r); }

/* The constellation of one PRN listed by a GSA or GSV: the NMEA 4.10
 * system id when given, else the talker, else (GN, or GP carrying other
 * systems as older receivers do) the PRN numbering of NMEA 4.x / gpsd. */
static enum nmea_system prn_system(const struct nmea_sentence *s, int prn) {
  if (s->system != NMEA_SYS_COUNT) return s->system;
  switch (s->talker_class) {
  case CLASS_GLO: return NMEA_SYS_GLO;
  case CLASS_GAL: return NMEA_SYS_GAL;
  case CLASS_BDS: return NMEA_SYS_BDS;
  default: break;
  }
  if (s->talker[0] == 'G' && s->talker[1] == 'Q') return NMEA_SYS_QZSS;
  if (prn <= 32) return NMEA_SYS_GPS;
  if (prn >= 65 && prn <= 96) return NMEA_SYS_GLO;
  if (prn >= 193 && prn <= 202) return NMEA_SYS_QZSS;
  if ((prn >= 201 && prn <= 263) || (prn >= 401 && prn <= 463)) return NMEA_SYS_BDS;
  if (prn >= 301 && prn <= 336) return NMEA_SYS_GAL;
  return NMEA_SYS_OTHER;
}

static void mark_prns(uint8_t bits[NMEA_SYS_COUNT][32], const struct nmea_sentence *s) {
  for (int i = 0; i < s->n_prn; i++) {
    int prn = s->prn[i] & 0xff; /* the bitmap keys on the low byte: counts only */
    bits[prn_system(s, s->prn[i])][prn >> 3] |= (uint8_t)(1u << (prn & 7));
  }
}

static void count_bits(const uint8_t bits[NMEA_SYS_COUNT][32], int out[NMEA_SYS_COUNT]) {
  for (int sys = 0; sys < NMEA_SYS_COUNT; sys++) {
    out[sys] = 0;
    for (int i = 0; i < 32; i++) out[sys] += __builtin_popcount(bits[sys][i]);
  }
}

/* Ends the cycle: its satellite lists and fix status become "the last".
 * What came while no cycle was open (sentences without a time before the
 * first one that has it) is dropped. */
static void close_cycle(struct nmea_receiver *r) {
  if (r->open && r->saw_gsv) count_bits(r->view_bits, r->in_view);
  if (r->open && r->saw_gsa) count_bits(r->used_bits, r->used);
  if (r->open && r->has_validity) {
    r->prev_has_validity = true;
    r->prev_valid = r->valid;
  }
  memset(r->view_bits, 0, sizeof r->view_bits);
  memset(r->used_bits, 0, sizeof r->used_bits);
  r->saw_gsv = r->saw_gsa = r->has_validity = r->valid = r->emitted = false;
  r->open = false;
}

static int32_t tod_ms(const struct nmea_sentence *s) {
  return ((s->hour * 60 + s->minute) * 60 + s->second) * 1000 + (int32_t)(s->frac * 1000 + 0.5);
}

static void note_sentence(struct nmea_receiver *r, const struct nmea_sentence *s, double stamp) {
  if (s->has_time && (!r->open || tod_ms(s) != r->tod_ms)) {
    close_cycle(r);
    r->open = true;
    r->tod_ms = tod_ms(s);
    r->stamp = stamp;
  }
  if (s->has_time && s->talker_class != CLASS_UNKNOWN) r->classes_seen |= 1u << s->talker_class;
  if (s->has_validity) {
    r->valid = (r->has_validity ? r->valid : true) && s->valid;
    r->has_validity = true;
  }
  if (s->type == NMEA_GSV) r->saw_gsv = true, mark_prns(r->view_bits, s);
  if (s->type == NMEA_GSA) {
    r->saw_gsa = true;
    r->fix = s->fix;
    mark_prns(r->used_bits, s);
  }
}

/* Whether this cycle's time may be believed; updates the run. */
static bool judge(struct nmea_receiver *r, const struct nmea_sentence *s, int64_t ms, char *why, size_t wl) {
  bool has = r->has_validity || r->prev_has_validity;
  bool valid = r->has_validity ? r->valid : r->prev_valid;
  int64_t last = r->last_ms;
  if (!has || !valid) {
    r->run = 0;
    return why_set(why, wl, has ? "receiver reports no valid fix" : "no fix status seen yet"), false;
  }
  if (s->year < NMEA_MIN_YEAR || s->year > NMEA_MAX_YEAR) {
    r->run = 0;
    return why_set(why, wl, "date %04d-%02d-%02d outside %d..%d", s->year, s->month, s->day,
               NMEA_MIN_YEAR, NMEA_MAX_YEAR), false;
  }
  r->last_ms = ms;
  bool step_ok = ms - last > 0 && ms - last <= NMEA_MAX_CYCLE_GAP * 1000;
  r->run = r->run > 0 && step_ok ? r->run + 1 : 1;
  if (r->run < NMEA_TRUST_CYCLES)
    return why_set(why, wl, "settling: %d of %d consecutive good fixes", r->run, NMEA_TRUST_CYCLES), false;
  return true;
}

static void fill_time(struct nmea_receiver *r, const struct nmea_sentence *s, struct nmea_time *t) {
  memset(t, 0, sizeof *t);
  int64_t days = civil_days(s->year, s->month, s->day);
  t->utc = days * 86400 + (s->hour * 60 + s->minute) * 60 + s->second;
  t->frac = s->frac;
  t->stamp = r->stamp;
  t->trusted = judge(r, s, t->utc * 1000 + (int64_t)(s->frac * 1000 + 0.5), t->why, sizeof t->why);
  t->cls = nmea_receiver_class(r);
  t->fix = r->fix;
  memcpy(t->in_view, r->in_view, sizeof t->in_view);
  memcpy(t->used, r->used, sizeof t->used);
}

bool nmea_receiver_update(struct nmea_receiver *r, const struct nmea_sentence *s, double stamp,
                          struct nmea_time *t) {
  note_sentence(r, s, stamp);
  if ((s->type != NMEA_RMC && s->type != NMEA_ZDA) || !s->has_time || !s->has_date) return false;
  if (!r->open || r->emitted) return false;
  r->emitted = true;
  fill_time(r, s, t);
  return true;
}

enum ref_class nmea_receiver_class(const struct nmea_receiver *r) {
  unsigned m = r->classes_seen;
  if (!m) return CLASS_UNKNOWN;
  if (m & (m - 1)) return CLASS_GNSS;
  return (enum ref_class)__builtin_ctz(m);
}

int nmea_pps_match(int64_t utc, double serial_start, int64_t edge_sec, long edge_nsec, double *offset) {
  double edge = (double)edge_sec + edge_nsec * 1e-9;
  if (!(fabs(serial_start - edge) <= NMEA_PPS_MAX_DIFF)) return -1;
  *offset = (double)(utc - edge_sec) - edge_nsec * 1e-9;
  return 0;
}

/* Appends "LABEL GPS 8 GAL 6" (nothing when every count is 0). */
static size_t append_counts(char *buf, size_t len, size_t at, const char *label,
                            const int n[NMEA_SYS_COUNT]) {
  for (int s = 0; s < NMEA_SYS_COUNT && at < len; s++) {
    if (!n[s]) continue;
    const char *name = nmea_system_name((enum nmea_system)s);
    int w = label ? snprintf(buf + at, len - at, "%s%s %s %d", at ? ", " : "", label, name, n[s])
                  : snprintf(buf + at, len - at, " %s %d", name, n[s]);
    if (w > 0) at += (size_t)w;
    label = NULL;
  }
  return at < len ? at : len - 1;
}

char *nmea_format_sats(const int used[NMEA_SYS_COUNT], const int in_view[NMEA_SYS_COUNT], char *buf,
                       size_t len) {
  if (!len) return buf;
  buf[0] = '\0';
  size_t at = append_counts(buf, len, 0, "used", used);
  append_counts(buf, len, at, "in view", in_view);
  return buf;
}
