/* SQLite trend-source ops: SOURCE_PUT (one upsert) and SOURCE_LIST on table sources
 * (sql/sqlite/019_sources.sql). Prepared per call: a source writes its row once per fetch.
 * Relies on: internal.h. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

#define COLS                                                                                       \
  "name, kind, url, etag, last_modified, cursor, last_error, last_success_at, last_error_at, "     \
  "backoff_until, failures, fetches, not_modified, errors, items, refused, updated_at"

static const char *const SQL_PUT =
    "INSERT INTO sources (" COLS ", state_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 1) ON CONFLICT (name) DO UPDATE SET "
    "kind = excluded.kind, url = excluded.url, etag = excluded.etag, "
    "last_modified = excluded.last_modified, cursor = excluded.cursor, "
    "last_error = excluded.last_error, last_success_at = excluded.last_success_at, "
    "last_error_at = excluded.last_error_at, backoff_until = excluded.backoff_until, "
    "failures = excluded.failures, fetches = excluded.fetches, "
    "not_modified = excluded.not_modified, errors = excluded.errors, items = excluded.items, "
    "refused = excluded.refused, updated_at = excluded.updated_at, "
    "state_version = sources.state_version + 1";

static const char *const SQL_LIST = "SELECT " COLS " FROM sources ORDER BY name";

static int source_put(ain__sq_ctx_t *c) {
  const ain_source_state_t *in = c->req->u.source.in;
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_PUT);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  const char *texts[] = {in->name,   in->kind,   in->url ? in->url : "", in->etag,
                         in->last_modified, in->cursor, in->last_error};
  for (int i = 0; i < 7; i++) {
    ain__store_sq_bind_text(st, i + 1, texts[i]);
  }
  const int64_t ints[] = {in->last_success_at, in->last_error_at, in->backoff_until,
                          in->failures,        in->fetches,       in->not_modified,
                          in->errors,          in->items,         in->refused};
  for (int i = 0; i < 9; i++) {
    sqlite3_bind_int64(st, i + 8, ints[i]);
  }
  sqlite3_bind_int64(st, 17, c->now);
  int rc = ain__store_sq_run(c, st, "writing the source row");
  sqlite3_finalize(st);
  return rc;
}

static int source_list(ain__sq_ctx_t *c) {
  ain_source_state_t *rows = NULL;
  size_t n = 0, cap = 0;
  int step, rc = 0;
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_LIST);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      ain_source_state_t *g = realloc(rows, cap * sizeof *rows);
      if (g == NULL) {
        rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
        goto fail;
      }
      rows = g;
    }
    ain_source_state_t *r = &rows[n++];
    memset(r, 0, sizeof *r);
    char **texts[] = {&r->name,          &r->kind,   &r->url,       &r->etag,
                      &r->last_modified, &r->cursor, &r->last_error};
    for (int i = 0; i < 7; i++) {
      *texts[i] = ain__store_sq_col_dup(st, i);
    }
    int64_t *ints[] = {&r->last_success_at, &r->last_error_at, &r->backoff_until,
                       &r->failures,        &r->fetches,       &r->not_modified,
                       &r->errors,          &r->items,         &r->refused,
                       &r->updated_at};
    for (int i = 0; i < 10; i++) {
      *ints[i] = sqlite3_column_int64(st, i + 7);
    }
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "listing sources");
    goto fail;
  }
  sqlite3_finalize(st);
  c->req->u.source.rows = rows;
  c->req->u.source.nrows = n;
  return 0;
fail:
  sqlite3_finalize(st);
  for (size_t i = 0; i < n; i++) {
    ain_source_state_free(&rows[i]);
  }
  free(rows);
  return rc;
}

int ain__store_sq_source(ain__sq_ctx_t *c) {
  return c->req->op == AIN_STORE_SOURCE_PUT ? source_put(c) : source_list(c);
}
