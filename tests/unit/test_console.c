/* The web console compiled into the binary (cmake/embed_files.cmake -> engine/api/assets.h): every
 * file of web/console/ is in the table byte for byte, with its content type and its sha256 as a
 * strong ETag, and nothing else is; lookups match whole names only; If-None-Match lists are
 * compared weakly (a 304 for "x", W/"x", a list holding it, or *); the routes serve /console and
 * /console/{file} without a caller and refuse other methods and deeper paths. (The HTTP side, the
 * headers and the browser: tests/integration/console_browser.sh.) */
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/assets.h"
#include "api/internal.h"
#include "harness.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  *len = fread(b, 1, (size_t)n, f);
  fclose(f);
  return b;
}

static const char *type_of(const char *name) {
  const char *ext = strrchr(name, '.');
  static const char *const map[][2] = {{".html", "text/html; charset=utf-8"},
                                       {".css", "text/css; charset=utf-8"},
                                       {".js", "text/javascript; charset=utf-8"},
                                       {".svg", "image/svg+xml"},
                                       {".png", "image/png"},
                                       {".json", "application/json"},
                                       {".txt", "text/plain; charset=utf-8"}};
  for (size_t i = 0; ext && i < sizeof map / sizeof map[0]; i++) {
    if (strcmp(ext, map[i][0]) == 0) {
      return map[i][1];
    }
  }
  return "?";
}

TEST(every_file_embedded) {
  const char *dir = ain_test_src("web/console");
  DIR *d = opendir(dir);
  ASSERT_NOT_NULL(d);
  size_t files = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len = 0;
    char *bytes = slurp(path, &len);
    ASSERT_NOT_NULL(bytes);
    const ain__api_asset_t *a = ain__api_asset_find(
        ain__api_console_assets, ain__api_console_assets_count, e->d_name, strlen(e->d_name));
    if (a == NULL) {
      AIN__FAIL("web/console/%s is not in the binary (re-run cmake?)", e->d_name);
    }
    ASSERT_EQ(a->size, len);
    ASSERT_TRUE(memcmp(a->data, bytes, len) == 0);
    ASSERT_STR_EQ(a->content_type, type_of(e->d_name));
    unsigned char md[32];
    unsigned int mdlen = 0;
    ASSERT_TRUE(EVP_Digest(bytes, len, md, &mdlen, EVP_sha256(), NULL) == 1);
    char want[68] = "\"";
    for (unsigned i = 0; i < mdlen; i++) {
      snprintf(want + 1 + 2 * i, 3, "%02x", md[i]);
    }
    strcat(want, "\"");
    ASSERT_STR_EQ(a->etag, want);
    free(bytes);
    files++;
  }
  closedir(d);
  ASSERT_EQ(files, ain__api_console_assets_count);
  ASSERT_NOT_NULL(ain__api_asset_find(ain__api_console_assets, ain__api_console_assets_count,
                                      "index.html", 10));
}

TEST(find_whole_names_only) {
  const ain__api_asset_t *t = ain__api_console_assets;
  size_t n = ain__api_console_assets_count;
  ASSERT_NULL(ain__api_asset_find(t, n, "index.htm", 9));
  ASSERT_NULL(ain__api_asset_find(t, n, "index.html2", 11));
  ASSERT_NULL(ain__api_asset_find(t, n, "", 0));
  ASSERT_NULL(ain__api_asset_find(t, n, "../index.html", 13));
  /* n bytes of a longer buffer: "app.jsX" with n = 6 is app.js */
  ASSERT_NOT_NULL(ain__api_asset_find(t, n, "app.jsX", 6));
}

static int listed(const char *header, const char *etag) {
  return ain__api_etag_listed(h2o_iovec_init(header, strlen(header)), etag);
}

TEST(if_none_match) {
  const char *tag = "\"abc\"";
  ASSERT_TRUE(listed("\"abc\"", tag));
  ASSERT_TRUE(listed("W/\"abc\"", tag));
  ASSERT_TRUE(listed("\"x\", \"abc\"", tag));
  ASSERT_TRUE(listed("\"x\" ,W/\"abc\" ", tag));
  ASSERT_TRUE(listed("*", tag));
  ASSERT_TRUE(!listed("\"abcd\"", tag));
  ASSERT_TRUE(!listed("abc", tag));
  ASSERT_TRUE(!listed("\"ab\", \"bc\"", tag));
  ASSERT_TRUE(!listed("", tag));
  ASSERT_TRUE(!listed(",,", tag));
  ASSERT_TRUE(!listed("W/", tag));
}

static const ain__api_route_t *match(const char *m, const char *p, int *status) {
  h2o_iovec_t params[AIN__API_MAX_PARAMS];
  char allow[128];
  return ain__api_route_match(ain__api_routes, ain__api_nroutes, m, strlen(m), p, strlen(p), params,
                              status, allow, sizeof allow);
}

TEST(routes) {
  int st;
  const ain__api_route_t *r = match("GET", "/console", &st);
  ASSERT_NOT_NULL(r);
  ASSERT_EQ(r->role, AIN_ROLE_NONE);
  ASSERT_TRUE(r->handle == ain__api_console_index);
  ASSERT_NOT_NULL(r = match("GET", "/console/", &st));
  ASSERT_TRUE(r->handle == ain__api_console_index);
  ASSERT_NOT_NULL(r = match("HEAD", "/console/app.js", &st));
  ASSERT_TRUE(r->handle == ain__api_console_file);
  ASSERT_EQ(r->role, AIN_ROLE_NONE);
  ASSERT_NULL(match("GET", "/console/js/app.js", &st));
  ASSERT_EQ(st, 404);
  ASSERT_NULL(match("POST", "/console/app.js", &st));
  ASSERT_EQ(st, 405);
  ASSERT_NULL(match("GET", "/consoles", &st));
  ASSERT_EQ(st, 404);
}

TEST_MAIN(TEST_ENTRY(every_file_embedded), TEST_ENTRY(find_whole_names_only),
          TEST_ENTRY(if_none_match), TEST_ENTRY(routes));
