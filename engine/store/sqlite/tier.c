/* SQLite tiering ops (store/tier.h): TIER_LIST reads the checkpoints' keys with json_each, grouped
 * by key (the newest checkpoint decides a key's age); TIER_MARK upserts object_classes rows in one
 * IMMEDIATE transaction (sql/sqlite/018_tiering.sql). Relies on: internal.h, store/tier.h. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"
#include "store/tier.h"

/* ?1 after_key, ?2 older_than, ?3 storage_class, ?4 limit. A key that a live video names (any
 * status but rejected) stays hot; one already marked in the class since its newest checkpoint is
 * done. */
static const char *const SQL_LIST =
    "WITH k AS (SELECT j.value AS key, max(a.created_at) AS newest "
    "FROM artifacts a, json_each(a.keys) j WHERE j.type = 'text' AND j.value > ?1 "
    "GROUP BY j.value) "
    "SELECT key FROM k WHERE newest < ?2 "
    "AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.video_key = k.key AND v.status <> 'rejected') "
    "AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.thumbnail_key = k.key "
    "AND v.status <> 'rejected') "
    "AND NOT EXISTS (SELECT 1 FROM object_classes o WHERE o.key = k.key "
    "AND o.storage_class = ?3 AND o.updated_at >= k.newest) "
    "ORDER BY key LIMIT ?4";

static const char *const SQL_MARK =
    "INSERT INTO object_classes (key, storage_class, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key) DO UPDATE SET storage_class = excluded.storage_class, "
    "updated_at = excluded.updated_at";

static int tier_list(ain__sq_ctx_t *c) {
  ain_store_tier_t *t = c->req->u.tier;
  int rc = 0, step;
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_LIST);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, t->after_key != NULL ? t->after_key : "");
  sqlite3_bind_int64(st, 2, t->older_than);
  ain__store_sq_bind_text(st, 3, t->storage_class);
  sqlite3_bind_int(st, 4, t->limit);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (ain__store_tier_take(t, (const char *)sqlite3_column_text(st, 0)) != 0) {
      rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
      goto fail;
    }
  }
  if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "listing objects to tier");
  }
fail:
  sqlite3_finalize(st);
  if (rc != 0) {
    ain__store_tier_cleanup(c->req);
  }
  return rc;
}

static int tier_mark(ain__sq_ctx_t *c) {
  ain_store_tier_t *t = c->req->u.tier;
  if (t->nmark == 0) {
    return 0;
  }
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_MARK);
  if (st == NULL) {
    return AIN_ESTORE; /* sqlite.c rolls back */
  }
  for (size_t i = 0; i < t->nmark && rc == 0; i++) {
    sqlite3_reset(st);
    ain__store_sq_bind_text(st, 1, t->mark_keys[i]);
    ain__store_sq_bind_text(st, 2, t->storage_class);
    sqlite3_bind_int64(st, 3, c->now);
    if (sqlite3_step(st) != SQLITE_DONE) {
      rc = ain__store_sq_fail(c, "recording an object's storage class");
    }
  }
  sqlite3_finalize(st);
  return rc == 0 ? ain__store_sq_exec(c, SQ_COMMIT) : rc;
}

int ain__store_sq_tier(ain__sq_ctx_t *c) {
  return c->req->op == AIN_STORE_TIER_LIST ? tier_list(c) : tier_mark(c);
}
