/* `vettime replay`: re-runs the vote, the detectors and the alarms over
 * samples stored in the history, with the configured policy or another one,
 * and prints what they would have decided: "what if minclasses were 3"
 * against last week's data. Reads the database directly (the daemon may be
 * running: SQLite's WAL lets both work). */
#ifndef VT_REPLAY_H
#define VT_REPLAY_H

#include <stdbool.h>

/* argv[0] is "replay". config_path: the configuration whose database and
 * vote policy are the defaults (config_given: -c was on the command line,
 * so a missing file is an error). Returns the exit status: 0, 64 usage,
 * 66 (EX_NOINPUT) no such database or no samples in the range, 78 config. */
int replay_main(const char *config_path, bool config_given, bool json, int argc, char **argv);

/* Parses a time for --from/--to: Unix seconds ("1763800000"), UTC ISO 8601
 * ("2026-11-22T05:00:00Z", the Z optional), or relative to now ("-90s",
 * "-30m", "-2h", "-7d", "now"). Returns 0 and seconds in *out, or -1. */
int replay_parse_time(const char *text, double now, double *out);

#endif
