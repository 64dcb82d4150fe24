/* The configuration's files: see config_files.h. */
#include "monitor/config_files.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_all(FILE *f, const char *why_prefix, char *why, size_t whylen) {
  char *text = malloc(CONFIG_FILE_MAX + 1);
  if (!text) {
    snprintf(why, whylen, "%sout of memory", why_prefix);
    return NULL;
  }
  size_t len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
  const char *bad = ferror(f) ? strerror(errno ? errno : EIO)
                    : len > CONFIG_FILE_MAX ? "too large (over 4 MiB)"
                    : memchr(text, '\0', len) ? "contains a NUL byte (not a text file?)"
                    : NULL;
  if (bad) {
    snprintf(why, whylen, "%s%s", why_prefix, bad);
    free(text);
    return NULL;
  }
  text[len] = '\0';
  return text;
}

/* O_NONBLOCK: an include naming a FIFO must not hang the start on its
 * open; it is refused as not a regular file. */
char *cfgfile_read(const char *path, struct stat *st, char *why, size_t whylen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, whylen, "cannot open: %s", strerror(errno));
    return NULL;
  }
  const char *bad = fstat(fd, st) ? strerror(errno)
                    : !S_ISREG(st->st_mode) ? "not a regular file" : NULL;
  if (bad) {
    snprintf(why, whylen, "%s", bad);
    close(fd);
    return NULL;
  }
  FILE *f = fdopen(fd, "r");
  if (!f) {
    snprintf(why, whylen, "cannot open: %s", strerror(errno));
    close(fd);
    return NULL;
  }
  char *text = read_all(f, "read error: ", why, whylen);
  fclose(f);
  return text;
}

/* arg, or arg relative to the folder of `from`, into out. */
static int resolve(const char *from, const char *arg, char *out, size_t len) {
  const char *slash = strrchr(from, '/');
  int n = arg[0] == '/' || !slash ? snprintf(out, len, "%s", arg)
                                  : snprintf(out, len, "%.*s/%s", (int)(slash - from), from, arg);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int copy_matches(const glob_t *g, char ***paths, char *why, size_t whylen) {
  *paths = calloc(g->gl_pathc ? g->gl_pathc : 1, sizeof **paths);
  if (!*paths) goto oom;
  for (size_t i = 0; i < g->gl_pathc; i++)
    if (!((*paths)[i] = strdup(g->gl_pathv[i]))) {
      cfgfile_free_list(*paths, (int)i);
      goto oom;
    }
  return (int)g->gl_pathc;
oom:
  snprintf(why, whylen, "out of memory");
  return -1;
}

int cfgfile_expand(const char *from, const char *arg, bool confdir, char ***paths,
                   char *why, size_t whylen) {
  char path[4096], pattern[4096 + 8];
  if (resolve(from, arg, path, sizeof path)) {
    snprintf(why, whylen, "path too long");
    return -1;
  }
  if (confdir) {
    struct stat st;
    if (stat(path, &st)) {
      snprintf(why, whylen, "%s: %s", path, strerror(errno));
      return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
      snprintf(why, whylen, "%s: not a folder", path);
      return -1;
    }
    snprintf(pattern, sizeof pattern, "%s/*.conf", path);
  } else {
    snprintf(pattern, sizeof pattern, "%s", path);
  }
  glob_t g;
  int rc = glob(pattern, GLOB_ERR, NULL, &g);
  if (rc == GLOB_NOMATCH) {
    globfree(&g);
    if (!confdir && !strpbrk(path, "*?[")) {
      snprintf(why, whylen, "%s: %s", path, strerror(ENOENT));
      return -1;
    }
    *paths = NULL;
    return 0;
  }
  if (rc) {
    globfree(&g);
    snprintf(why, whylen, "%s: %s", pattern, rc == GLOB_NOSPACE ? "out of memory" : "cannot read a folder");
    return -1;
  }
  rc = copy_matches(&g, paths, why, whylen);
  globfree(&g);
  return rc;
}

void cfgfile_free_list(char **paths, int n) {
  for (int i = 0; i < n; i++) free(paths[i]);
  free(paths);
}
