/* Files compiled into the binary (cmake/embed_files.cmake writes the tables at build time): the
 * web console's HTML, CSS and JavaScript (web/console/), served by console.c from memory.
 * Relies on: nothing (the generated C includes only this). */
#ifndef AIN_API_ASSETS_H
#define AIN_API_ASSETS_H

#include <stddef.h>

typedef struct {
  const char *name;         /* the file name: "index.html", "app.js" */
  const char *content_type; /* from the extension: "text/javascript; charset=utf-8" */
  const char *etag;         /* "\"<sha256 of the bytes>\"" (quoted: a strong entity tag) */
  const unsigned char *data;
  size_t size;
} ain__api_asset_t;

/* web/console/, sorted by name. */
extern const ain__api_asset_t ain__api_console_assets[];
extern const size_t ain__api_console_assets_count;

/* The asset called name (n bytes, not NUL-terminated), or NULL. */
const ain__api_asset_t *ain__api_asset_find(const ain__api_asset_t *assets, size_t count,
                                            const char *name, size_t n);

#endif
