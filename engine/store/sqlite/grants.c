/* SQLite GRANTS op (store/grants.h) on tables publish_grants and quota_buckets
 * (sql/sqlite/024_publish_trust.sql). A bucket write is one statement whose WHERE (or ON
 * CONFLICT DO NOTHING) holds the version check, and RETURNING says whether it held. Statements
 * are prepared per call: a publish makes a handful. Relies on: internal.h, store/grants.h. */
#include <stdlib.h>
#include <string.h>

#include "store/grants.h"
#include "store/sqlite/internal.h"

#define GRANT_COLS                                                                                 \
  "jti, video_id, channel, token, granted_by, reason, generation, exp, created_at, "               \
  "coalesce(used_at, 0), state_version"
#define BUCKET_COLS "account, units_mu, requests_mu, updated_at, blocked_until, taken, state_version"

static const char *const SQL_GRANT_PUT =
    "INSERT INTO publish_grants (jti, video_id, channel, token, granted_by, reason, exp, "
    "created_at, generation, state_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, 1) "
    "ON CONFLICT (jti) DO UPDATE SET token = excluded.token, granted_by = excluded.granted_by, "
    "reason = excluded.reason, exp = excluded.exp, created_at = excluded.created_at, "
    "generation = publish_grants.generation + 1, "
    "state_version = publish_grants.state_version + 1 RETURNING " GRANT_COLS;
static const char *const SQL_GRANT_GET = "SELECT " GRANT_COLS " FROM publish_grants WHERE jti = ?1";
static const char *const SQL_GRANT_USE =
    "UPDATE publish_grants SET used_at = coalesce(used_at, ?2), "
    "state_version = state_version + (used_at IS NULL) WHERE jti = ?1 RETURNING " GRANT_COLS;
static const char *const SQL_BUCKET_GET =
    "SELECT " BUCKET_COLS " FROM quota_buckets WHERE account = ?1";
static const char *const SQL_BUCKET_NEW =
    "INSERT INTO quota_buckets (" BUCKET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) "
    "ON CONFLICT (account) DO NOTHING RETURNING state_version";
static const char *const SQL_BUCKET_IF =
    "UPDATE quota_buckets SET units_mu = ?2, requests_mu = ?3, updated_at = ?4, "
    "blocked_until = ?5, taken = ?6, state_version = state_version + 1 "
    "WHERE account = ?1 AND state_version = ?7 RETURNING state_version";
static const char *const SQL_BUCKET_LIST =
    "SELECT " BUCKET_COLS " FROM quota_buckets ORDER BY account";

static void read_grant(sqlite3_stmt *st, ain_store_grant_t *g) {
  char **texts[] = {&g->jti, &g->video_id, &g->channel, &g->token, &g->granted_by, &g->reason};
  for (int i = 0; i < 6; i++) {
    *texts[i] = ain__store_sq_col_dup(st, i);
  }
  int64_t *ints[] = {&g->generation, &g->exp, &g->created_at, &g->used_at, &g->state_version};
  for (int i = 0; i < 5; i++) {
    *ints[i] = sqlite3_column_int64(st, 6 + i);
  }
}

static void read_bucket(sqlite3_stmt *st, ain_store_bucket_t *b) {
  b->account = ain__store_sq_col_dup(st, 0);
  int64_t *ints[] = {&b->units_mu,      &b->requests_mu, &b->updated_at,
                     &b->blocked_until, &b->taken,       &b->state_version};
  for (int i = 0; i < 6; i++) {
    *ints[i] = sqlite3_column_int64(st, 1 + i);
  }
}

/* Appends the rows st returns to g->grants. */
static int collect_grants(ain__sq_ctx_t *c, sqlite3_stmt *st, ain_store_grants_t *g) {
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    ain_store_grant_t *n = realloc(g->grants, (g->ngrants + 1) * sizeof *n);
    if (n == NULL) {
      return ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
    }
    g->grants = n;
    memset(&n[g->ngrants], 0, sizeof *n);
    read_grant(st, &n[g->ngrants++]);
  }
  return step == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "reading publish grants");
}

static int grant_put(ain__sq_ctx_t *c, ain_store_grants_t *g) {
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  for (size_t i = 0; rc == 0 && i < g->nin; i++) {
    const ain_store_grant_t *x = &g->in[i];
    sqlite3_stmt *st = ain__store_sq_prep(c, SQL_GRANT_PUT);
    if (st == NULL) {
      return AIN_ESTORE;
    }
    const char *texts[] = {x->jti, x->video_id, x->channel, x->token, x->granted_by, x->reason};
    for (int k = 0; k < 6; k++) {
      ain__store_sq_bind_text(st, k + 1, texts[k]);
    }
    sqlite3_bind_int64(st, 7, x->exp);
    sqlite3_bind_int64(st, 8, c->now);
    rc = collect_grants(c, st, g);
    sqlite3_finalize(st);
  }
  return rc != 0 ? rc : ain__store_sq_exec(c, SQ_COMMIT);
}

static int grant_one(ain__sq_ctx_t *c, ain_store_grants_t *g, const char *sql) {
  sqlite3_stmt *st = ain__store_sq_prep(c, sql);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, g->jti);
  if (sql == SQL_GRANT_USE) {
    sqlite3_bind_int64(st, 2, c->now);
  }
  int rc = collect_grants(c, st, g);
  sqlite3_finalize(st);
  if (rc == 0 && g->ngrants == 0) {
    return ain_err_field(&c->req->err, AIN_ENOTFOUND, "jti", "no publish grant with that jti");
  }
  return rc;
}

static int bucket_get(ain__sq_ctx_t *c, ain_store_grants_t *g) {
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_BUCKET_GET);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, g->account);
  memset(&g->bucket, 0, sizeof g->bucket);
  int rc = 0, step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    read_bucket(st, &g->bucket);
  } else if (step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "reading a quota bucket");
  }
  sqlite3_finalize(st);
  return rc;
}

static int bucket_put(ain__sq_ctx_t *c, ain_store_grants_t *g) {
  const ain_store_bucket_t *b = &g->bucket;
  sqlite3_stmt *st = ain__store_sq_prep(c, g->expect_version == 0 ? SQL_BUCKET_NEW : SQL_BUCKET_IF);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, b->account);
  sqlite3_bind_int64(st, 2, b->units_mu);
  sqlite3_bind_int64(st, 3, b->requests_mu);
  sqlite3_bind_int64(st, 4, b->updated_at);
  sqlite3_bind_int64(st, 5, b->blocked_until);
  sqlite3_bind_int64(st, 6, b->taken);
  if (g->expect_version != 0) {
    sqlite3_bind_int64(st, 7, g->expect_version);
  }
  int rc = 0, step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    g->bucket.state_version = sqlite3_column_int64(st, 0);
  } else if (step == SQLITE_DONE) {
    rc = ain_err_field(&c->req->err, AIN_ECONFLICT, "state_version",
                       "quota bucket %s changed since version %lld was read", b->account,
                       (long long)g->expect_version);
  } else {
    rc = ain__store_sq_fail(c, "writing a quota bucket");
  }
  sqlite3_finalize(st);
  return rc;
}

static int bucket_list(ain__sq_ctx_t *c, ain_store_grants_t *g) {
  sqlite3_stmt *st = ain__store_sq_prep(c, SQL_BUCKET_LIST);
  if (st == NULL) {
    return AIN_ESTORE;
  }
  int step, rc = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    ain_store_bucket_t *n = realloc(g->buckets, (g->nbuckets + 1) * sizeof *n);
    if (n == NULL) {
      rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
      break;
    }
    g->buckets = n;
    read_bucket(st, &n[g->nbuckets++]);
  }
  if (rc == 0 && step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "listing quota buckets");
  }
  sqlite3_finalize(st);
  return rc;
}

int ain__store_sq_grants(ain__sq_ctx_t *c) {
  ain_store_grants_t *g = c->req->u.grants;
  switch (g->op) {
  case AIN_STORE_GRANT_PUT:
    return grant_put(c, g);
  case AIN_STORE_GRANT_GET:
    return grant_one(c, g, SQL_GRANT_GET);
  case AIN_STORE_GRANT_USE:
    return grant_one(c, g, SQL_GRANT_USE);
  case AIN_STORE_BUCKET_GET:
    return bucket_get(c, g);
  case AIN_STORE_BUCKET_PUT:
    return bucket_put(c, g);
  case AIN_STORE_BUCKET_LIST:
    return bucket_list(c, g);
  }
  return ain_err_set(&c->req->err, AIN_EINVAL, "unknown grants op %d", (int)g->op);
}
