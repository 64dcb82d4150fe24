/* The web directives that web/ owns (registered with the configuration
 * parser of monitor/config.h from both programs' mains, like alerting's):
 *
 *   httptoken FILE   the bearer token of the state-changing endpoints
 *   webroot DIR      serve the dashboard's files from DIR (absolute) instead
 *                    of the copies compiled into the binary; for working on
 *                    web/ui/ without rebuilding (web/ui.h). Default: none.
 *
 * FILE is an absolute path to a file holding one token (at least 16
 * printable ASCII characters; surrounding blanks and the final newline are
 * ignored). The file must not be readable by group or others (mode 0600 or
 * 0400, owned by the daemon's user): the daemon refuses to start otherwise.
 * A token in a file of its own rather than in the main configuration, so
 * that vettime.conf can stay world-readable (the CLI reads it) and the
 * token can be rotated with a reload-free restart of its file only. Without
 * the directive, the state-changing endpoints answer 403.
 *
 * Pure: no I/O here; web_token_load() reads the file. */
#ifndef VT_WEB_CONFIG_H
#define VT_WEB_CONFIG_H

#include <stddef.h>

struct vt_config;

#define WEB_TOKEN_MIN 16
#define WEB_TOKEN_MAX 256

struct web_config {
  char token_file[4096]; /* "" : no token, state-changing endpoints off */
  int token_file_id, token_line; /* where the directive is, for messages */
  char webroot[4096];    /* "" : the embedded dashboard */
  int webroot_file_id, webroot_line;
};

/* Registers httptoken with the configuration parser; call from main before
 * the first config_load(). Returns 0, or -1 (a bug). */
int web_config_register(void);

/* The parsed web directives of cfg (web_config_register() must have run
 * before cfg was parsed). */
const struct web_config *web_config_of(const struct vt_config *cfg);

/* Reads the token from path into token[WEB_TOKEN_MAX + 1]. Returns 0, or
 * -1 with the reason in err: cannot open, readable by group or others,
 * empty, too short, too long, not printable ASCII. */
int web_token_load(const char *path, char *token, char *err, size_t errlen);

#endif
