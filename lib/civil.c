/* Civil dates (see civil.h). */
#include "lib/civil.h"

#include "lib/why.h"

int64_t civil_days(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int civil_days_in_month(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

int64_t civil_to_unix(int y, int mo, int d, int h, int mi, int s) {
  return civil_days(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s;
}

int civil_weekday(int y, int m, int d) {
  int64_t days = civil_days(y, m, d); /* 1970-01-01 was a Thursday (4) */
  return (int)((((days % 7) + 7) % 7 + 3) % 7) + 1;
}

bool civil_date_consistent(int y, int m, int d, int weekday, char *why, size_t wl) {
  int dim = civil_days_in_month(y, m);
  if (d > dim) {
    why_set(why, wl, "day %d, but %04d-%02d has %d days", d, y, m, dim);
    return false;
  }
  int wd = civil_weekday(y, m, d);
  if (wd != weekday) {
    why_set(why, wl, "weekday %d, but %04d-%02d-%02d is weekday %d", weekday, y, m, d, wd);
    return false;
  }
  return true;
}
