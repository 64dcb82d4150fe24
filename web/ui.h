/* The NOC dashboard's static files: what GET / and GET /ui/... answer.
 *
 * By default the files are the ones compiled into the binary at build time
 * (scripts/embed-ui.sh turns web/ui/ and the vendored uPlot into the
 * ui_assets table), so an installed daemon needs no path and no file. The
 * `webroot DIR` directive (web/web_config.h) serves them from DIR instead,
 * read at each request: for working on the page without rebuilding.
 *
 * Paths: "/" is /ui/index.html; /ui/REST is the file REST. Every answer
 * has an ETag (embedded: the SHA-256 of the content; webroot: size and
 * mtime), so a client revalidates with If-None-Match and gets 304. */
#ifndef VT_UI_H
#define VT_UI_H

#include <stdbool.h>
#include <stddef.h>

/* One embedded file (the generated table; path starts with "/ui/"). */
struct ui_asset {
  const char *path;
  const char *type;
  const unsigned char *data;
  size_t len;
  const char *etag; /* with its quotes, as sent */
};
extern const struct ui_asset ui_assets[];
extern const int ui_assets_count;

/* A file found for a request. data is owned by the file when `owned` (a
 * webroot read: release with ui_file_free()), else it is the embedded bytes. */
struct ui_file {
  const char *type;
  const unsigned char *data;
  size_t len;
  char etag[64];
  bool owned;
};

#define UI_MAX_FILE (4u << 20) /* the largest webroot file served */

/* Serves from DIR (an absolute path) instead of the embedded files; NULL or
 * "" goes back to the embedded ones. Returns 0, or -1 with the reason in err
 * when DIR is not a directory the daemon can read (the embedded files stay). */
int ui_set_webroot(const char *dir, char *err, size_t errlen);

/* Whether the path part of url (up to '?') is the dashboard's: "/", or
 * under "/ui/". */
bool ui_is_path(const char *url);

/* Looks the path part of url up. Returns 200 with *out filled, or 404 (no
 * such file; also a path with "..", or a webroot file that cannot be read or
 * is over UI_MAX_FILE). */
int ui_lookup(const char *url, struct ui_file *out);

void ui_file_free(struct ui_file *f);

#endif
