/* The files of a configuration: reading one as text, and the list of
 * files an `include PATTERN` or a `confdir DIR` names (as chrony's
 * include and confdir: a glob(7) pattern, or DIR/\*.conf, in sorted
 * order). Relative paths are relative to the folder of the file that
 * holds the directive. I/O only; the parsing is monitor/config.c's. */
#ifndef VT_CONFIG_FILES_H
#define VT_CONFIG_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define CONFIG_FILE_MAX (4 * 1024 * 1024) /* a configuration is small */

/* Opens path, checks that it is a regular file and reads it whole into a
 * NUL-terminated buffer (free it). *st gets its identity (st_dev,
 * st_ino), for include loops. Returns NULL with "cannot open: reason",
 * "not a regular file", "contains a NUL byte (not a text file?)", ... in
 * why. */
char *cfgfile_read(const char *path, struct stat *st, char *why, size_t whylen);

/* The files `include ARG` (confdir false) or `confdir ARG` (true) names,
 * with ARG taken relative to the folder of the file `from` unless it is
 * absolute. include: the glob's matches, sorted; a pattern without
 * wildcards that matches nothing is an error (the file is missing), one
 * with wildcards that matches nothing is no file. confdir: ARG must be a
 * folder; its *.conf files, sorted (none is fine). Returns the number of
 * paths in *paths (free with cfgfile_free_list), or -1 with why set. */
int cfgfile_expand(const char *from, const char *arg, bool confdir, char ***paths,
                   char *why, size_t whylen);

void cfgfile_free_list(char **paths, int n);

#endif
