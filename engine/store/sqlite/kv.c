/* SQLite KV ops: KV_GET, KV_PUT, KV_DELETE on table kv (sql/sqlite/003_kv.sql). Each write is one
 * statement, so it is atomic without an explicit transaction; the version check sits in its WHERE
 * or ON CONFLICT clause (OCC), and RETURNING tells us whether it held.
 * Statements are prepared per request rather than added to the shared cache in stmt.c: KV traffic
 * is a few calls per policy run, and keeping the SQL here keeps the op in one file.
 * Relies on: internal.h (sqlite3, the locked connection). */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

static const char *const SQL_GET = "SELECT value, state_version FROM kv WHERE ns = ?1 AND key = ?2";
/* expect_version -1: create or replace */
static const char *const SQL_PUT_ANY =
    "INSERT INTO kv (ns, key, value, state_version, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, 1, ?4, ?4) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
    "state_version = kv.state_version + 1, updated_at = excluded.updated_at "
    "RETURNING state_version";
/* expect_version 0: create only */
static const char *const SQL_PUT_NEW =
    "INSERT INTO kv (ns, key, value, state_version, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, 1, ?4, ?4) ON CONFLICT (ns, key) DO NOTHING RETURNING state_version";
/* expect_version > 0: replace that version only */
static const char *const SQL_PUT_IF =
    "UPDATE kv SET value = ?3, state_version = state_version + 1, updated_at = ?4 "
    "WHERE ns = ?1 AND key = ?2 AND state_version = ?5 RETURNING state_version";
static const char *const SQL_DELETE = "DELETE FROM kv WHERE ns = ?1 AND key = ?2 "
                                      "AND (?3 < 0 OR state_version = ?3) RETURNING state_version";

static int prepare(ain__sq_ctx_t *c, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(c->db->conn, sql, -1, st, NULL) != SQLITE_OK) {
    /* "no such table: kv" on a store that was not migrated names itself here */
    return ain__store_sq_fail(c, "preparing kv statement");
  }
  ain__store_sq_bind_text(*st, 1, c->req->u.kv.ns);
  ain__store_sq_bind_text(*st, 2, c->req->u.kv.key);
  return 0;
}

/* Current version of the key, 0 when absent, or AIN_ESTORE. */
static int64_t current_version(ain__sq_ctx_t *c, int *rc) {
  sqlite3_stmt *st = NULL;
  int64_t v = 0;
  *rc = prepare(c, SQL_GET, &st);
  if (*rc == 0) {
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 1);
    } else if (step != SQLITE_DONE) {
      *rc = ain__store_sq_fail(c, "reading kv");
    }
  }
  sqlite3_finalize(st);
  return v;
}

static int kv_conflict(ain__sq_ctx_t *c, int64_t current) {
  const ain_store_req_t *r = c->req;
  if (current == 0) {
    return ain_err_field(&c->req->err, AIN_ECONFLICT, "expect_version",
                         "%s/%s: expected version %lld, but the key does not exist", r->u.kv.ns,
                         r->u.kv.key, (long long)r->u.kv.expect_version);
  }
  return ain_err_field(&c->req->err, AIN_ECONFLICT, "expect_version",
                       "%s/%s: expected version %lld, found %lld", r->u.kv.ns, r->u.kv.key,
                       (long long)r->u.kv.expect_version, (long long)current);
}

static int kv_get(ain__sq_ctx_t *c) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, SQL_GET, &st);
  if (rc != 0) {
    goto fail;
  }
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    rc = ain_err_field(&c->req->err, AIN_ENOTFOUND, "key", "%s/%s not found", c->req->u.kv.ns,
                       c->req->u.kv.key);
    goto fail;
  }
  if (step != SQLITE_ROW) {
    rc = ain__store_sq_fail(c, "reading kv");
    goto fail;
  }
  c->req->u.kv.out_value = ain__store_sq_col_dup(st, 0);
  c->req->u.kv.version = sqlite3_column_int64(st, 1);
fail:
  sqlite3_finalize(st);
  return rc;
}

static int kv_put(ain__sq_ctx_t *c) {
  int64_t expect = c->req->u.kv.expect_version;
  const char *sql = expect < 0 ? SQL_PUT_ANY : expect == 0 ? SQL_PUT_NEW : SQL_PUT_IF;
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, sql, &st);
  if (rc != 0) {
    goto fail;
  }
  sqlite3_bind_text(st, 3, c->req->u.kv.value, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, c->now);
  if (expect > 0) {
    sqlite3_bind_int64(st, 5, expect);
  }
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    c->req->u.kv.version = sqlite3_column_int64(st, 0);
    step = sqlite3_step(st);
  } else if (step == SQLITE_DONE) {
    sqlite3_finalize(st);
    st = NULL;
    int64_t cur = current_version(c, &rc);
    rc = rc != 0 ? rc : kv_conflict(c, cur);
    goto fail;
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "writing kv");
  }
fail:
  sqlite3_finalize(st);
  return rc;
}

static int kv_delete(ain__sq_ctx_t *c) {
  sqlite3_stmt *st = NULL;
  int rc = prepare(c, SQL_DELETE, &st);
  if (rc != 0) {
    goto fail;
  }
  sqlite3_bind_int64(st, 3, c->req->u.kv.expect_version);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    c->req->u.kv.version = sqlite3_column_int64(st, 0);
    step = sqlite3_step(st);
  } else if (step == SQLITE_DONE) {
    sqlite3_finalize(st);
    st = NULL;
    int64_t cur = current_version(c, &rc);
    if (rc == 0) {
      rc = cur == 0 ? ain_err_field(&c->req->err, AIN_ENOTFOUND, "key", "%s/%s not found",
                                    c->req->u.kv.ns, c->req->u.kv.key)
                    : kv_conflict(c, cur);
    }
    goto fail;
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "deleting kv");
  }
fail:
  sqlite3_finalize(st);
  return rc;
}

int ain__store_sq_kv(ain__sq_ctx_t *c) {
  switch (c->req->op) {
  case AIN_STORE_KV_GET:
    return kv_get(c);
  case AIN_STORE_KV_PUT:
    return kv_put(c);
  case AIN_STORE_KV_DELETE:
    return kv_delete(c);
  default:
    return ain_err_set(&c->req->err, AIN_EINVAL, "not a kv op: %d", (int)c->req->op);
  }
}
