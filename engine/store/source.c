/* The generic half of the trend-source ops (SOURCE_PUT / SOURCE_LIST): request initialisers, the
 * checks store.c runs before a backend sees a request, and freeing the rows a list returns.
 * Relies on: store.h. */
#include <stdlib.h>
#include <string.h>

#include "store/source.h"

void ain_source_state_free(ain_source_state_t *s) {
  if (s == NULL) {
    return;
  }
  free(s->name);
  free(s->kind);
  free(s->url);
  free(s->etag);
  free(s->last_modified);
  free(s->cursor);
  free(s->last_error);
  memset(s, 0, sizeof *s);
}

void ain_store_req_source_put(ain_store_req_t *req, const ain_source_state_t *in) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_SOURCE_PUT;
  req->u.source.in = in;
}

void ain_store_req_source_list(ain_store_req_t *req) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_SOURCE_LIST;
}

int ain__store_source_check(const ain_store_req_t *req, ain_err_t *err) {
  if (req->op != AIN_STORE_SOURCE_PUT) {
    return 0;
  }
  const ain_source_state_t *in = req->u.source.in;
  if (in == NULL) {
    return ain_err_field(err, AIN_EINVAL, "source", "source put without its row");
  }
  if (in->name == NULL || in->name[0] == '\0' || strlen(in->name) > 64) {
    return ain_err_field(err, AIN_EINVAL, "name", "a source name must be 1 to 64 bytes");
  }
  if (in->kind == NULL || in->kind[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "kind", "source %s has no kind", in->name);
  }
  return 0;
}

void ain__store_source_cleanup(ain_store_req_t *req) {
  for (size_t i = 0; i < req->u.source.nrows; i++) {
    ain_source_state_free(&req->u.source.rows[i]);
  }
  free(req->u.source.rows);
  req->u.source.rows = NULL;
  req->u.source.nrows = 0;
}
