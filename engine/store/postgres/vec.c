/* Postgres embeddings ops (sql/postgres/020_vectors.sql): VEC_PUT is one statement over a JSON
 * array of rows (json_to_recordset), so a batch of any size is one round trip and one implicit
 * transaction; a replaced row takes a new seq (nextval in ON CONFLICT). Vectors travel as hex of
 * their float32 little-endian bytes (decode/encode 'hex'), since every parameter is text.
 * VEC_LOAD reads rows after a seq in seq order. Relies on: internal.h (the statement table in
 * ops.c, plan/parse split), cJSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/postgres/internal.h"

static char *i64s(int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%" PRId64, v);
  return ain_strdup(b);
}

static void to_hex(const unsigned char *p, size_t n, char *out) {
  static const char hx[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hx[p[i] >> 4];
    out[2 * i + 1] = hx[p[i] & 15];
  }
  out[2 * n] = '\0';
}

static int from_hex(const char *s, unsigned char *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int v = 0;
    for (int j = 0; j < 2; j++) {
      char c = s[2 * i + j];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    out[i] = (unsigned char)v;
  }
  return 0;
}

int ain__pg_plan_vec(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  int dims = req->u.vec.dims;
  if (req->op == AIN_STORE_VEC_LOAD) {
    ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_VEC_LOAD);
    c->params[0] = ain_strdup(req->u.vec.kind);
    c->params[1] = ain_strdup(req->u.vec.model);
    c->params[2] = i64s(req->u.vec.after_seq);
    c->params[3] = i64s(req->u.vec.limit);
    c->params[4] = i64s(req->u.vec.recheck_after);
    c->params[5] = ain__store_vec_have_json(req);
    return c->params[5] != NULL ? 0 : ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  unsigned char *bytes = malloc((size_t)dims * 4);
  char *hex = malloc((size_t)dims * 8 + 1);
  cJSON *arr = cJSON_CreateArray();
  if (bytes == NULL || hex == NULL || arr == NULL) {
    free(bytes);
    free(hex);
    cJSON_Delete(arr);
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < req->u.vec.nrows; i++) {
    const ain_store_vec_row_t *r = &req->u.vec.rows[i];
    ain__store_vec_to_le(r->vec, dims, bytes);
    to_hex(bytes, (size_t)dims * 4, hex);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "i", r->item_id);
    cJSON_AddStringToObject(o, "l", r->label ? r->label : "");
    cJSON_AddNumberToObject(o, "t", (double)(r->created_at != 0 ? r->created_at : now));
    cJSON_AddStringToObject(o, "v", hex);
    cJSON_AddItemToArray(arr, o);
  }
  free(bytes);
  free(hex);
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_VEC_PUT);
  c->params[0] = ain_strdup(req->u.vec.kind);
  c->params[1] = ain_strdup(req->u.vec.model);
  c->params[2] = i64s(dims);
  c->params[3] = cJSON_PrintUnformatted(arr);
  cJSON_Delete(arr);
  return c->params[3] != NULL ? 0 : ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
}

int ain__pg_parse_vec(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  int dims = req->u.vec.dims;
  if (req->op == AIN_STORE_VEC_PUT) {
    /* RETURNING item_id, seq: hand each row its seq */
    for (int i = 0; r != NULL && i < PQntuples(r); i++) {
      for (size_t j = 0; j < req->u.vec.nrows; j++) {
        if (strcmp(req->u.vec.rows[j].item_id, PQgetvalue(r, i, 0)) == 0) {
          req->u.vec.rows[j].seq = strtoll(PQgetvalue(r, i, 1), NULL, 10);
          break;
        }
      }
    }
    return 0;
  }
  int n = r ? PQntuples(r) : 0;
  ain_store_vec_row_t *rows = calloc((size_t)(n ? n : 1), sizeof *rows);
  if (rows == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  req->u.vec.rows = rows;
  req->u.vec.nrows = 0;
  unsigned char *bytes = malloc((size_t)dims * 4);
  int rc = bytes == NULL ? ain_err_set(&req->err, AIN_ENOMEM, "out of memory") : 0;
  for (int i = 0; i < n && rc == 0; i++) {
    /* seq, item_id, label, created_at, dims, hex */
    const char *hex = PQgetvalue(r, i, 5);
    if (atoi(PQgetvalue(r, i, 4)) != dims || strlen(hex) != (size_t)dims * 8 ||
        from_hex(hex, bytes, (size_t)dims * 4) != 0) {
      rc = ain_err_field(
          &req->err, AIN_ESTORE, "dims", "embedding seq %s of %s/%s has %s dimensions, expected %d",
          PQgetvalue(r, i, 0), req->u.vec.kind, req->u.vec.model, PQgetvalue(r, i, 4), dims);
      break;
    }
    ain_store_vec_row_t *row = &rows[req->u.vec.nrows++];
    row->seq = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    row->item_id = ain_strdup(PQgetvalue(r, i, 1));
    row->label = ain_strdup(PQgetvalue(r, i, 2));
    row->created_at = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    row->vec = malloc((size_t)dims * sizeof *row->vec);
    if (row->vec == NULL) {
      rc = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
      break;
    }
    ain__store_vec_from_le(bytes, dims, row->vec);
  }
  free(bytes);
  if (rc != 0) {
    ain__store_vec_cleanup(req);
  }
  return rc;
}
