/* Logging to stderr, systemd style: one line a message, a level prefix that
 * journald understands (<3> error, <4> warning, <6> info, <7> debug), no
 * timestamps (the journal adds them). Hostile input is logged through
 * LOG_RATELIMITED so that a flood of bad packets cannot flood the log. */
#ifndef VT_LOG_H
#define VT_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Messages above `level` are dropped. Default: LOG_LVL_INFO. */
void log_set_level(enum log_level level);

/* Parses "error", "warning", "info" or "debug"; returns 0, or -1 if unknown. */
int log_parse_level(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define LOG_ERROR(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define LOG_WARN(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define LOG_INFO(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* State of one rate-limited call site: at most one message per 10 s of
 * CLOCK_MONOTONIC; the next message says how many were suppressed. */
struct log_ratelimit {
  double next_allowed;
  unsigned long suppressed;
};

void log_ratelimited(struct log_ratelimit *rl, enum log_level level,
                     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define LOG_RATELIMITED(level, ...)                  \
  do {                                               \
    static struct log_ratelimit log_rl_;             \
    log_ratelimited(&log_rl_, (level), __VA_ARGS__); \
  } while (0)

#endif
