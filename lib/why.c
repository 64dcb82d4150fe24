/* Reasons for refused input: see why.h. */
#include "lib/why.h"

#include <stdarg.h>
#include <stdio.h>

void why_set(char *why, size_t len, const char *fmt, ...) {
  if (!why || !len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
}
