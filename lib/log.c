/* Logging: see log.h. */
#include "lib/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/timeutil.h"

static enum log_level current_level = LOG_LVL_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const int syslog_prefix[] = {3, 4, 6, 7};

void log_set_level(enum log_level level) { current_level = level; }

int log_parse_level(const char *name, enum log_level *out) {
  for (int i = 0; i <= LOG_LVL_DEBUG; i++) {
    if (strcmp(name, level_names[i]) == 0) {
      *out = (enum log_level)i;
      return 0;
    }
  }
  return -1;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap) {
  char line[1024];
  vsnprintf(line, sizeof line, fmt, ap);
  fprintf(stderr, "<%d>%s: %s\n", syslog_prefix[level], level_names[level], line);
}

void log_msg(enum log_level level, const char *fmt, ...) {
  if (level > current_level) return;
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(level, fmt, ap);
  va_end(ap);
}

void log_ratelimited(struct log_ratelimit *rl, enum log_level level,
                     const char *fmt, ...) {
  if (level > current_level) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = timespec_seconds(ts);
  if (now < rl->next_allowed) {
    rl->suppressed++;
    return;
  }
  rl->next_allowed = now + 10.0;
  if (rl->suppressed) {
    log_msg(level, "(%lu similar messages suppressed)", rl->suppressed);
    rl->suppressed = 0;
  }
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(level, fmt, ap);
  va_end(ap);
}
