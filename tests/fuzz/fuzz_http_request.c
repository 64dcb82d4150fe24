/* libFuzzer target: what the HTTP server decides from a request's text
 * (web/api.c, web/access.c, web/ui.c), over arbitrary strings. The input
 * is split at NUL bytes into method, URL, a query value, an Authorization
 * header and a token. Checks the promises the server builds on: a known
 * status for every route, an action only for POST, a path with ".." never
 * served, a refusal always with its reason. (The parameters of a history
 * read have their own target, fuzz_history_params.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/access.h"
#include "web/api.h"
#include "web/ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  const char *part[5] = {"GET", "/", NULL, NULL, NULL};
  size_t at = 0;
  for (int i = 0; i < 5 && at <= size; i++) {
    part[i] = text + at;
    at += strlen(text + at) + 1;
  }
  const char *method = part[0], *url = part[1] ? part[1] : "/";

  enum api_endpoint ep;
  int st = api_route(method, url, &ep);
  if (st != 200 && st != 404 && st != 405) abort();
  if ((st == 200) != (ep != API_NONE)) abort();
  if (st == 200 && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) abort();

  enum web_action wa;
  st = access_route(method, url, &wa);
  if (st != 0 && st != 200 && st != 405) abort();
  if ((st == 200) != (wa != WA_NONE) || (st == 200 && strcmp(method, "POST") != 0)) abort();

  long long id;
  if (access_parse_id(part[2], &id) == 0 && id < 0) abort();

  const char *why = NULL;
  st = access_authorize(part[4], part[3], &why);
  if (st != 200 && st != 401 && st != 403) abort();
  if (st != 200 && !why) abort();
  if (st == 200 && (!part[4] || !part[4][0] || !part[3])) abort();

  if (ui_is_path(url)) {
    struct ui_file f;
    const char *q = strchr(url, '?');
    size_t plen = q ? (size_t)(q - url) : strlen(url);
    if (ui_lookup(url, &f) == 200) {
      if (memmem(url, plen, "..", 2)) abort();
      if (!f.type || (!f.data && f.len)) abort();
      ui_file_free(&f);
    }
  }

  char w[256] = "";
  int64_t from, to;
  const int64_t now = 1764460800LL * 1000000000LL;
  if (api_parse_range(part[2], part[3], now, API_LIST_DEFAULT_SPAN_NS, 0, &from, &to, w, sizeof w) == 0) {
    if (from > to) abort();
  } else if (!w[0]) {
    abort();
  }
  free(text);
  return 0;
}
