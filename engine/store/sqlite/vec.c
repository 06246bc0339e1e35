/* SQLite embeddings ops: VEC_PUT (INSERT OR REPLACE of every row in one IMMEDIATE transaction, so
 * a replaced row takes a new AUTOINCREMENT seq) and VEC_LOAD (rows after a seq, in seq order), on
 * table embeddings (sql/sqlite/020_vectors.sql). Vectors are float32 little-endian BLOBs.
 * Relies on: internal.h (the locked connection), store.h (byte order helpers). */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

static int vec_put(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  int dims = req->u.vec.dims;
  unsigned char *blob = malloc((size_t)dims * 4);
  sqlite3_stmt *st = NULL;
  if (blob == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    free(blob);
    return rc;
  }
  st = ain__store_sq_prep(c, "INSERT OR REPLACE INTO embeddings "
                             "(kind, model, item_id, dims, vec, label, created_at) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (st == NULL) {
    rc = AIN_ESTORE;
    goto fail;
  }
  for (size_t i = 0; i < req->u.vec.nrows; i++) {
    ain_store_vec_row_t *r = &req->u.vec.rows[i];
    ain__store_vec_to_le(r->vec, dims, blob);
    sqlite3_reset(st);
    ain__store_sq_bind_text(st, 1, req->u.vec.kind);
    ain__store_sq_bind_text(st, 2, req->u.vec.model);
    ain__store_sq_bind_text(st, 3, r->item_id);
    sqlite3_bind_int(st, 4, dims);
    sqlite3_bind_blob(st, 5, blob, dims * 4, SQLITE_STATIC);
    ain__store_sq_bind_text(st, 6, r->label ? r->label : "");
    sqlite3_bind_int64(st, 7, r->created_at != 0 ? r->created_at : c->now);
    if (sqlite3_step(st) != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "storing an embedding");
      goto fail;
    }
    r->seq = sqlite3_last_insert_rowid(c->db->conn);
  }
  rc = ain__store_sq_exec(c, SQ_COMMIT);
fail:
  sqlite3_finalize(st);
  free(blob);
  return rc; /* on failure sqlite.c rolls back */
}

static int vec_load(ain__sq_ctx_t *c) {
  ain_store_req_t *req = c->req;
  int dims = req->u.vec.dims, rc = 0;
  sqlite3_stmt *st =
      ain__store_sq_prep(c, "SELECT seq, item_id, label, created_at, dims, vec FROM embeddings "
                            "WHERE kind = ?1 AND model = ?2 AND (seq > ?3 OR (seq > ?5 AND "
                            "seq <= ?3 AND seq NOT IN (SELECT value FROM json_each(?6)))) "
                            "ORDER BY seq LIMIT ?4");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  /* Late commits cannot happen here (one writer at a time, seq taken under the write lock), but
   * the query is the contract's, the same as Postgres's. */
  char *have = ain__store_vec_have_json(req);
  if (have == NULL) {
    sqlite3_finalize(st);
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  sqlite3_bind_int64(st, 5, req->u.vec.recheck_after);
  sqlite3_bind_text(st, 6, have, -1, free);
  ain__store_sq_bind_text(st, 1, req->u.vec.kind);
  ain__store_sq_bind_text(st, 2, req->u.vec.model);
  sqlite3_bind_int64(st, 3, req->u.vec.after_seq);
  sqlite3_bind_int(st, 4, req->u.vec.limit);
  ain_store_vec_row_t *rows = calloc((size_t)req->u.vec.limit, sizeof *rows);
  req->u.vec.rows = rows;
  req->u.vec.nrows = 0;
  if (rows == NULL) {
    rc = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    goto fail;
  }
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    ain_store_vec_row_t *r = &rows[req->u.vec.nrows];
    if (sqlite3_column_int(st, 4) != dims || sqlite3_column_bytes(st, 5) != dims * 4) {
      rc = ain_err_field(&req->err, AIN_ESTORE, "dims",
                         "embedding seq %lld of %s/%s has %d dimensions, expected %d",
                         (long long)sqlite3_column_int64(st, 0), req->u.vec.kind, req->u.vec.model,
                         sqlite3_column_int(st, 4), dims);
      goto fail;
    }
    r->seq = sqlite3_column_int64(st, 0);
    r->item_id = ain__store_sq_col_dup(st, 1);
    r->label = ain__store_sq_col_dup(st, 2);
    r->created_at = sqlite3_column_int64(st, 3);
    r->vec = malloc((size_t)dims * sizeof *r->vec);
    req->u.vec.nrows++;
    if (r->vec == NULL || r->item_id == NULL) {
      rc = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
      goto fail;
    }
    ain__store_vec_from_le(sqlite3_column_blob(st, 5), dims, r->vec);
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "reading embeddings");
  }
fail:
  sqlite3_finalize(st);
  if (rc != 0) {
    ain__store_vec_cleanup(req);
  }
  return rc;
}

int ain__store_sq_vec(ain__sq_ctx_t *c) {
  return c->req->op == AIN_STORE_VEC_PUT ? vec_put(c) : vec_load(c);
}
