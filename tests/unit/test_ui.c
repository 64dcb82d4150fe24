/* The dashboard's static files (web/ui.c): the paths that are the
 * dashboard's, the embedded table (every file of web/ui/ with its type and
 * ETag), a webroot directory (served, ETag changes with the file, nothing
 * outside it), and the webroot directive. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/config.h"
#include "unit.h"
#include "web/ui.h"
#include "web/web_config.h"

static char err[600];

static void test_paths(void) {
  CHECK(ui_is_path("/"));
  CHECK(ui_is_path("/?x=1"));
  CHECK(ui_is_path("/ui/app.js"));
  CHECK(!ui_is_path("/ui/"));
  CHECK(!ui_is_path("/ui"));
  CHECK(!ui_is_path("/api/v1/status"));
  CHECK(!ui_is_path("/metrics"));
  CHECK(!ui_is_path("/index.html"));
}

/* The page and what it loads are compiled in, with their types. */
static void test_embedded(void) {
  struct ui_file f;
  CHECK_INT(ui_set_webroot(NULL, err, sizeof err), 0);
  CHECK_INT(ui_lookup("/", &f), 200);
  CHECK_STR(f.type, "text/html; charset=utf-8");
  CHECK(f.len > 100 && memmem(f.data, f.len, "/ui/app.js", 10));
  CHECK(f.etag[0] == '"' && strlen(f.etag) == 18);
  CHECK(!f.owned);
  struct ui_file g;
  CHECK_INT(ui_lookup("/ui/index.html?v=2", &g), 200);
  CHECK_STR(g.etag, f.etag);
  CHECK_INT(ui_lookup("/ui/app.js", &f), 200);
  CHECK_STR(f.type, "text/javascript; charset=utf-8");
  CHECK_INT(ui_lookup("/ui/app.css", &f), 200);
  CHECK_STR(f.type, "text/css; charset=utf-8");
  CHECK_INT(ui_lookup("/ui/vendor/uPlot.iife.min.js", &f), 200);
  CHECK(f.len > 10000);
  CHECK_INT(ui_lookup("/ui/vendor/uPlot.min.css", &f), 200);
  CHECK_INT(ui_lookup("/ui/favicon.svg", &f), 200);
  CHECK_STR(f.type, "image/svg+xml");
  CHECK_INT(ui_lookup("/ui/nothing.js", &f), 404);
  CHECK_INT(ui_lookup("/ui/../web/ui.c", &f), 404);
  CHECK_INT(ui_lookup("/api/v1/status", &f), 404);
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  CHECK(fp != NULL);
  if (!fp) return;
  fputs(text, fp);
  fclose(fp);
}

/* A webroot: files read at each request, a new ETag when one changes,
 * nothing outside the directory, no hidden files, no symlinks. */
static void test_webroot(void) {
  char dir[] = "/tmp/vettime-ui-XXXXXX", path[256], outside[256];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/index.html", dir);
  write_file(path, "<p>one</p>");
  snprintf(outside, sizeof outside, "%s.secret", dir);
  write_file(outside, "secret");
  char link[300];
  snprintf(link, sizeof link, "%s/link.js", dir);
  CHECK_INT(symlink(outside, link), 0);
  char hidden[300];
  snprintf(hidden, sizeof hidden, "%s/.hidden.js", dir);
  write_file(hidden, "x");

  CHECK_INT(ui_set_webroot(dir, err, sizeof err), 0);
  struct ui_file f;
  CHECK_INT(ui_lookup("/", &f), 200);
  CHECK_INT((int)f.len, 10);
  CHECK(f.owned && memcmp(f.data, "<p>one</p>", 10) == 0);
  CHECK_STR(f.type, "text/html; charset=utf-8");
  char etag1[64];
  snprintf(etag1, sizeof etag1, "%s", f.etag);
  ui_file_free(&f);
  CHECK(f.data == NULL);
  write_file(path, "<p>two, longer</p>");
  CHECK_INT(ui_lookup("/ui/index.html", &f), 200);
  CHECK(strcmp(f.etag, etag1) != 0);
  ui_file_free(&f);
  CHECK_INT(ui_lookup("/ui/app.js", &f), 404);               /* not there: not embedded either */
  CHECK_INT(ui_lookup("/ui/link.js", &f), 404);              /* a symlink */
  CHECK_INT(ui_lookup("/ui/.hidden.js", &f), 404);
  char up[300];
  snprintf(up, sizeof up, "/ui/../%s.secret", strrchr(dir, '/') + 1);
  CHECK_INT(ui_lookup(up, &f), 404);
  CHECK_INT(ui_lookup("/ui//etc/passwd", &f), 404);

  CHECK_INT(ui_set_webroot("/nonexistent/dir", err, sizeof err), -1);
  CHECK(strstr(err, "webroot /nonexistent/dir: not a directory"));
  CHECK_INT(ui_lookup("/", &f), 200);                         /* back to the embedded page */
  CHECK(!f.owned);
  CHECK_INT(ui_set_webroot("", err, sizeof err), 0);
  unlink(link);
  unlink(hidden);
  unlink(path);
  unlink(outside);
  rmdir(dir);
}

static struct vt_config cfg;
static int parse(const char *text) { return config_parse("t.conf", text, &cfg, err, sizeof err); }

static void test_directive(void) {
  CHECK_INT(parse(""), 0);
  CHECK_STR(web_config_of(&cfg)->webroot, "");
  config_free(&cfg);
  CHECK_INT(parse("webroot /srv/vettime/ui\n"), 0);
  CHECK_STR(web_config_of(&cfg)->webroot, "/srv/vettime/ui");
  config_free(&cfg);
  CHECK_INT(parse("webroot web/ui\n"), -1);
  CHECK(strstr(err, "t.conf:1: webroot: expected an absolute path to the dashboard's directory"));
  CHECK_INT(parse("webroot /a /b\n"), -1);
  CHECK_INT(parse("webroot\n"), -1);
}

int main(void) {
  unit_init();
  if (web_config_register()) {
    fprintf(stderr, "registering the directives failed\n");
    return 1;
  }
  RUN(test_paths);
  RUN(test_embedded);
  RUN(test_webroot);
  RUN(test_directive);
  return unit_done();
}
