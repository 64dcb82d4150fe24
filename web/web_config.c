/* The web directives, httptoken and webroot, and the token file (see
 * web_config.h). */
#include "web/web_config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/lineparse.h"
#include "monitor/config_family.h"

static int family_directive(void *state, struct lp_ctx *p, char **argv, int argc) {
  struct web_config *c = state;
  bool root = strcmp(argv[0], "webroot") == 0;
  if (!root && strcmp(argv[0], "httptoken") != 0)
    return lp_fail(p, "unknown directive \"%s\"", argv[0]);
  if (lp_one_arg(p, argv, argc)) return -1;
  if (argv[1][0] != '/')
    return lp_fail(p, "%s: expected an absolute path to the %s, not \"%s\"", argv[0],
                   root ? "dashboard's directory" : "token file", argv[1]);
  if (root) {
    c->webroot_file_id = p->file_id;
    c->webroot_line = p->line;
    return lp_copy(p, "webroot", argv[1], c->webroot, sizeof c->webroot);
  }
  c->token_file_id = p->file_id;
  c->token_line = p->line;
  return lp_copy(p, "httptoken", argv[1], c->token_file, sizeof c->token_file);
}

/* The token file reads as a token (then wiped), the webroot is a folder:
 * what start_http() would otherwise find only after the history is open. */
static int family_check(const void *state, const struct vt_config *cfg, char *err,
                        size_t errlen) {
  const struct web_config *c = state;
  char why[512];
  if (c->token_file[0]) {
    char token[WEB_TOKEN_MAX + 1];
    int rc = web_token_load(c->token_file, token, why, sizeof why);
    memset(token, 0, sizeof token);
    if (rc) {
      snprintf(err, errlen, "%s:%d: %s", config_file_name(cfg, c->token_file_id), c->token_line,
               why);
      return -1;
    }
  }
  if (!c->webroot[0]) return 0;
  struct stat st;
  const char *bad = stat(c->webroot, &st) ? strerror(errno)
                    : !S_ISDIR(st.st_mode) ? "not a folder" : NULL;
  if (!bad) return 0;
  snprintf(err, errlen, "%s:%d: webroot %s: %s", config_file_name(cfg, c->webroot_file_id),
           c->webroot_line, c->webroot, bad);
  return -1;
}

static void family_defaults(void *state) { memset(state, 0, sizeof(struct web_config)); }

static const char *const family_directives[] = {"httptoken", "webroot", NULL};
static const struct config_family family = {
    .directives = family_directives,
    .state_size = sizeof(struct web_config),
    .defaults = family_defaults,
    .directive = family_directive,
    .check = family_check,
};

int web_config_register(void) { return config_register_family(&family); }

const struct web_config *web_config_of(const struct vt_config *cfg) {
  const struct web_config *c = config_family_state(cfg, &family);
  assert(c && "web_config_register() before the configuration is parsed");
  return c;
}

int web_token_load(const char *path, char *token, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    snprintf(err, errlen, "httptoken %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  char buf[WEB_TOKEN_MAX + 64];
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) {
    snprintf(err, errlen, "httptoken %s: not a readable regular file", path);
    return -1;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    snprintf(err, errlen, "httptoken %s: mode %04o lets group or others read it; "
             "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
    return -1;
  }
  buf[n] = '\0';
  char *s = buf, *e = buf + n;
  while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) e--;
  size_t len = (size_t)(e - s);
  for (const char *c = s; c < e; c++)
    if (*c <= ' ' || *c > '~') {
      snprintf(err, errlen, "httptoken %s: the token must be one word of printable ASCII", path);
      return -1;
    }
  if (len < WEB_TOKEN_MIN || len > WEB_TOKEN_MAX) {
    snprintf(err, errlen, "httptoken %s: the token has %zu characters; %d to %d are needed",
             path, len, WEB_TOKEN_MIN, WEB_TOKEN_MAX);
    return -1;
  }
  memcpy(token, s, len);
  token[len] = '\0';
  return 0;
}
