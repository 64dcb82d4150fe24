/* `vettime report [--since 24h | --from T [--to T]] [--json | --html]
 * [-d DATABASE]`: the health report of a period, read from the history
 * directly (no daemon needed; SQLite's WAL lets the daemon write
 * meanwhile). Made for cron, which mails what it prints.
 *
 * Exit status: 0 the period had no critical alarm; 2 it had one (raised
 * in it, or open during it); no report could be made: the table's codes
 * (README.md "Exit status"): 64 bad option or period, 65 not a vettime
 * history, 66 no database, 74 a read or write failed, 78 configuration. */
#ifndef VT_REPORT_CMD_H
#define VT_REPORT_CMD_H

#include <stdbool.h>

/* argv[0] is "report". config_path: whose `database` and `vote mode` are
 * the defaults (config_given: -c was given, so a missing file is an
 * error); json: the global --json. Returns the exit status. */
int report_main(const char *config_path, bool config_given, bool json, int argc, char **argv);

#endif
