/* The dashboard's static files (see ui.h): the embedded table, or a
 * webroot directory for development. */
#include "web/ui.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char webroot[4096]; /* "" : the embedded files */

int ui_set_webroot(const char *dir, char *err, size_t errlen) {
  struct stat st;
  webroot[0] = '\0';
  if (!dir || !dir[0]) return 0;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, R_OK | X_OK) != 0) {
    snprintf(err, errlen, "webroot %s: not a directory the daemon can read", dir);
    return -1;
  }
  snprintf(webroot, sizeof webroot, "%s", dir);
  return 0;
}

static size_t path_len(const char *url) { return strcspn(url, "?"); }

bool ui_is_path(const char *url) {
  size_t n = path_len(url);
  return (n == 1 && url[0] == '/') || (n > 4 && strncmp(url, "/ui/", 4) == 0);
}

/* The content type by extension: the same list as scripts/embed-ui.sh. */
static const char *type_of(const char *path) {
  static const struct { const char *ext, *type; } types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".png", "image/png"}};
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0) return types[i].type;
  return "text/plain; charset=utf-8";
}

/* Reads webroot/rel into *out. Only regular files, never through a
 * symlink at the last step, at most UI_MAX_FILE bytes. */
static int read_webroot(const char *rel, struct ui_file *out) {
  char path[sizeof webroot + 256];
  if (snprintf(path, sizeof path, "%s/%s", webroot, rel) >= (int)sizeof path) return 404;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 404;
  struct stat st;
  unsigned char *buf = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (off_t)UI_MAX_FILE)
    buf = malloc((size_t)st.st_size + 1);
  ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
  close(fd);
  if (n != (ssize_t)st.st_size) {
    free(buf);
    return 404;
  }
  *out = (struct ui_file){.type = type_of(rel), .data = buf, .len = (size_t)n, .owned = true};
  snprintf(out->etag, sizeof out->etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
           (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
               (unsigned long long)st.st_mtim.tv_nsec);
  return 200;
}

static int find_embedded(const char *path, size_t len, struct ui_file *out) {
  for (int i = 0; i < ui_assets_count; i++) {
    const struct ui_asset *a = &ui_assets[i];
    if (strlen(a->path) != len || memcmp(a->path, path, len) != 0) continue;
    *out = (struct ui_file){.type = a->type, .data = a->data, .len = a->len};
    snprintf(out->etag, sizeof out->etag, "%s", a->etag);
    return 200;
  }
  return 404;
}

int ui_lookup(const char *url, struct ui_file *out) {
  memset(out, 0, sizeof *out);
  size_t n = path_len(url);
  const char *path = url;
  if (n == 1 && url[0] == '/') {
    path = "/ui/index.html";
    n = strlen(path);
  }
  if (n <= 4 || strncmp(path, "/ui/", 4) != 0) return 404;
  /* Plain names only: no "..", no hidden files, no empty segments. */
  char rel[256];
  if (n - 4 >= sizeof rel) return 404;
  memcpy(rel, path + 4, n - 4);
  rel[n - 4] = '\0';
  if (rel[0] == '/' || strstr(rel, "/.") || rel[0] == '.' || strstr(rel, "//")) return 404;
  return webroot[0] ? read_webroot(rel, out) : find_embedded(path, n, out);
}

void ui_file_free(struct ui_file *f) {
  if (f->owned) free((void *)f->data);
  f->data = NULL;
  f->owned = false;
}
