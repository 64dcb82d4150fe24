/* Meinberg standard time string decoder (see meinberg.h): a bounded STX/ETX
 * framer, a template for the 30 characters, a table of numeric fields,
 * and the check against the previous string. Pure. */
#include "lib/civil.h"
#include "lib/why.h"
#include "probes/meinberg.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "probes/dcf77.h" /* civil dates, shared with the DCF77 decoder */

/* '9' stands for a digit; the last four characters are the status. */
static const char template_[] = "D:99.99.99;T:9;U:99.99.99;";
#define STATUS_AT 26

static const struct {
  const char *name;
  uint8_t at, len;
  int lo, hi;
  size_t member;
} fields[] = {
    {"day", 2, 2, 1, 31, offsetof(struct meinberg_time, day)},
    {"month", 5, 2, 1, 12, offsetof(struct meinberg_time, month)},
    {"year", 8, 2, 0, 99, offsetof(struct meinberg_time, year)},
    {"weekday", 13, 1, 1, 7, offsetof(struct meinberg_time, weekday)},
    {"hour", 17, 2, 0, 23, offsetof(struct meinberg_time, hour)},
    {"minute", 20, 2, 0, 59, offsetof(struct meinberg_time, minute)},
    {"second", 23, 2, 0, 60, offsetof(struct meinberg_time, second)},
};

const char *meinberg_status_name(enum meinberg_status s) {
  static const char *const names[MB_STATUS_COUNT] = {
      "ok", "unconfirmed", "unsynchronised", "bad format", "bad range", "bad date", "inconsistent"};
  return s >= 0 && s < MB_STATUS_COUNT ? names[s] : "unknown";
}

/* ---- framing ---- */

void meinberg_framer_init(struct meinberg_framer *f) { memset(f, 0, sizeof *f); }

static size_t garbage(struct meinberg_framer *f, struct meinberg_frame *out, const char *why, size_t used) {
  f->in_frame = false;
  f->in_garbage = true;
  *out = (struct meinberg_frame){MB_FRAME_GARBAGE, why, strlen(why), 0};
  return used;
}

/* One byte inside a frame: true when it ended the frame (out filled). */
static bool frame_byte(struct meinberg_framer *f, uint8_t c, struct meinberg_frame *out) {
  if (c == MEINBERG_ETX) {
    f->buf[f->len] = '\0';
    f->in_frame = false;
    *out = (struct meinberg_frame){MB_FRAME_STRING, f->buf, f->len, f->stamp};
    return true;
  }
  if (f->len >= MEINBERG_BODY_LEN) {
    garbage(f, out, "string longer than the standard time string", 0);
    return true;
  }
  f->buf[f->len++] = (char)c;
  return false;
}

size_t meinberg_framer_push(struct meinberg_framer *f, const uint8_t *data, size_t len,
                            double stamp, double byte_time, struct meinberg_frame *out) {
  *out = (struct meinberg_frame){.kind = MB_FRAME_NONE};
  for (size_t i = 0; i < len; i++) {
    uint8_t c = data[i] & 0x7f;
    if (c == MEINBERG_STX) {
      bool cut = f->in_frame;
      f->in_frame = true;
      f->in_garbage = false;
      f->len = 0;
      f->stamp = stamp - (double)(len - 1 - i) * byte_time;
      if (cut) {
        *out = (struct meinberg_frame){MB_FRAME_GARBAGE, "string cut short by another STX", 31, 0};
        return i + 1;
      }
    } else if (f->in_frame) {
      if (frame_byte(f, c, out)) return i + 1;
    } else if (c != '\r' && c != '\n' && !f->in_garbage) {
      return garbage(f, out, "bytes outside a string", i + 1);
    }
  }
  return len;
}

/* ---- strings ---- */

static bool status_chars(const char *s, struct meinberg_time *t) {
  if (!strchr("# ", s[0]) || !strchr("* ", s[1]) || !strchr("US ", s[2]) || !strchr("!A ", s[3]))
    return false;
  t->unsynced = s[0] == '#';
  t->freewheel = s[1] == '*';
  t->zone = s[2];
  t->dst_announced = s[3] == '!';
  t->leap_announced = s[3] == 'A';
  return true;
}

static bool matches_template(const char *b) {
  for (size_t i = 0; i < STATUS_AT; i++) {
    if (template_[i] == '9' ? (b[i] < '0' || b[i] > '9') : b[i] != template_[i]) return false;
  }
  return true;
}

static enum meinberg_status decode_fields(const char *b, struct meinberg_time *t, char *why, size_t wl) {
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    int v = 0;
    for (int k = 0; k < fields[i].len; k++) v = v * 10 + (b[fields[i].at + k] - '0');
    if (v < fields[i].lo || v > fields[i].hi)
      return why_set(why, wl, "%s %d out of range %d..%d", fields[i].name, v, fields[i].lo, fields[i].hi),
             MB_BAD_RANGE;
    *(int *)(void *)((char *)t + fields[i].member) = v; /* offsetof an int */
  }
  t->year += 2000;
  return MB_OK;
}

static enum meinberg_status check_date(const struct meinberg_time *t, char *why, size_t wl) {
  return civil_date_consistent(t->year, t->month, t->day, t->weekday, why, wl) ? MB_OK : MB_BAD_DATE;
}

enum meinberg_status meinberg_parse(const char *body, size_t len, struct meinberg_time *t, char *why, size_t wl) {
  memset(t, 0, sizeof *t);
  if (len != MEINBERG_BODY_LEN || strnlen(body, len) != len)
    return why_set(why, wl, "%zu characters, not %d", len, MEINBERG_BODY_LEN), MB_BAD_FORMAT;
  if (!matches_template(body)) return why_set(why, wl, "not D:dd.mm.yy;T:w;U:hh.mm.ss;"), MB_BAD_FORMAT;
  if (!status_chars(body + STATUS_AT, t))
    return why_set(why, wl, "status \"%.4s\"", body + STATUS_AT), MB_BAD_FORMAT;
  enum meinberg_status st = decode_fields(body, t, why, wl);
  if (st == MB_OK) st = check_date(t, why, wl);
  if (st != MB_OK) return st;
  int zone = t->zone == 'U' ? 0 : t->zone == 'S' ? 7200 : 3600;
  t->utc = civil_to_unix(t->year, t->month, t->day, t->hour, t->minute, t->second) - zone;
  if (t->unsynced || t->freewheel)
    return why_set(why, wl, "%s", t->unsynced ? "not synchronised since power-up" : "freewheeling"), MB_UNSYNCED;
  return MB_OK;
}

enum meinberg_status meinberg_judge(struct meinberg_checker *c, const struct meinberg_time *t,
                                    double stamp, char *why, size_t wl) {
  if (t->unsynced || t->freewheel)
    return why_set(why, wl, "%s", t->unsynced ? "not synchronised since power-up" : "freewheeling"), MB_UNSYNCED;
  double elapsed = stamp - c->prev_stamp;
  bool had = c->have_prev && elapsed > 0 && elapsed <= MEINBERG_CONFIRM_WINDOW;
  int64_t prev = c->prev_utc;
  bool prev_leap = c->prev_second == 60; /* 23:59:60 and 00:00:00 share a POSIX second */
  *c = (struct meinberg_checker){true, t->utc, t->second, stamp};
  if (!had) return MB_UNCONFIRMED;
  long secs = lround(elapsed);
  int64_t step = t->utc - prev;
  if (fabs(elapsed - (double)secs) > 0.3 || !(step == secs || (prev_leap && step == secs - 1)))
    return why_set(why, wl, "%+lld s after the previous string, but %.2f s elapsed", (long long)step, elapsed),
           MB_INCONSISTENT;
  return MB_OK;
}
