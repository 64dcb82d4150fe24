/* Civil (proleptic Gregorian) dates for the receiver decoders: GNSS and
 * DCF77 receivers send calendar dates, and checking and converting them is
 * the same arithmetic everywhere. Pure; no time zones, no leap seconds. */
#ifndef VT_CIVIL_H
#define VT_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days from 1970-01-01 to year-month-day (month 1..12), also before 1970:
 * the era / day-of-era computation (H. Hinnant, "chrono-compatible
 * low-level date algorithms"). */
int64_t civil_days(int64_t year, int month, int day);

/* Days in the month (28..31), or 0 for a month outside 1..12. */
int civil_days_in_month(int year, int month);

/* Seconds since 1970-01-01T00:00:00 of a civil date and time. */
int64_t civil_to_unix(int year, int month, int day, int hour, int minute, int second);

/* ISO weekday, 1 Monday .. 7 Sunday. */
int civil_weekday(int year, int month, int day);

/* Whether a broadcast date (day of month already range-checked 1..31,
 * weekday 1..7 as sent) exists and falls on the weekday sent. Returns true,
 * or false with the reason in why ("day 30, but 2026-02 has 28 days"). */
bool civil_date_consistent(int year, int month, int day, int weekday, char *why, size_t whylen);

#endif
