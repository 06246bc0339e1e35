/* SQLite half of the script registry ops: SCRIPT_PUT (insert once, keep the first error),
 * SCRIPT_GET (by sha or unique prefix), SCRIPT_LIST (versions newest first, and pins) and
 * SCRIPT_PIN (only a valid version of that module can be pinned; a pin or unpin that changes
 * something writes an operator audit row, "pin:<module>=<old sha>" -> "pin:<module>=<new sha>",
 * in its transaction, as the Postgres statement does).
 * These ops are rare (a reload, an operator command), so their statements are prepared per call
 * rather than added to the shared statement cache.
 * Relies on: internal.h, store/scripts.h. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/scripts.h"
#include "store/sqlite/internal.h"

static void read_version(sqlite3_stmt *st, ain_script_version_t *v, int with_source) {
  memset(v, 0, sizeof *v);
  v->module = ain__store_sq_col_dup(st, 0);
  const unsigned char *sha = sqlite3_column_text(st, 1);
  snprintf(v->sha, sizeof v->sha, "%s", sha ? (const char *)sha : "");
  v->error = ain__store_sq_col_dup(st, 2);
  v->created_at = sqlite3_column_int64(st, 3);
  if (with_source) {
    v->source = ain__store_sq_col_dup(st, 4);
  }
}

static int put(ain__sq_ctx_t *c) {
  ain_store_req_t *r = c->req;
  sqlite3_stmt *st = ain__store_sq_prep(c, "INSERT INTO script_versions (module, sha, source, first_error, "
                             "created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, r->u.script_put.module);
  ain__store_sq_bind_text(st, 2, r->u.script_put.sha);
  ain__store_sq_bind_text(st, 3, r->u.script_put.source);
  ain__store_sq_bind_text(st, 4, r->u.script_put.error);
  sqlite3_bind_int64(st, 5, c->now);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ain__store_sq_fail(c, "script_put");
  r->u.script_put.inserted = rc == 0 && sqlite3_changes(c->db->conn) > 0;
  sqlite3_finalize(st);
  return rc;
}

/* Finds the one version matching module (or any) and a sha prefix. */
static int find(ain__sq_ctx_t *c, const char *module, const char *sha, int with_source,
                ain_script_version_t *out) {
  sqlite3_stmt *st = ain__store_sq_prep(c, "SELECT module, sha, first_error, created_at, source "
                             "FROM script_versions WHERE substr(sha, 1, length(?1)) = ?1 "
                             "AND (?2 IS NULL OR module = ?2) ORDER BY created_at DESC LIMIT 2");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, sha);
  ain__store_sq_bind_text(st, 2, module);
  int rc = 0, n = 0, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n++ == 0) {
      read_version(st, out, with_source);
    } else if (strcmp(out->sha, (const char *)sqlite3_column_text(st, 1)) != 0) {
      rc = ain_err_field(&c->req->err, AIN_EINVAL, "sha", "sha prefix %s is ambiguous", sha);
    }
  }
  if (step != SQLITE_DONE && rc == 0) {
    rc = ain__store_sq_fail(c, "script_get");
  }
  if (n == 0 && rc == 0) {
    rc = ain_err_field(&c->req->err, AIN_ENOTFOUND, "sha", "no version %s%s%s", sha,
                       module ? " of module " : "", module ? module : "");
  }
  sqlite3_finalize(st);
  return rc;
}

static int get(ain__sq_ctx_t *c) {
  ain_store_req_t *r = c->req;
  return find(c, r->u.script_get.module, r->u.script_get.sha, 1, &r->u.script_get.version);
}

static int list(ain__sq_ctx_t *c) {
  ain_store_req_t *r = c->req;
  const char *module = r->u.script_list.module;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_READ);
  if (rc != 0) {
    return rc;
  }
  sqlite3_stmt *st = ain__store_sq_prep(c, "SELECT module, sha, first_error, created_at FROM script_versions "
                             "WHERE (?1 IS NULL OR module = ?1) AND NOT ?2 "
                             "ORDER BY module, created_at DESC, rowid DESC");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, module);
  sqlite3_bind_int(st, 2, r->u.script_list.pins_only != 0);
  size_t n = 0, cap = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      ain_script_version_t *g = realloc(r->u.script_list.versions, cap * sizeof *g);
      if (g == NULL) {
        abort();
      }
      r->u.script_list.versions = g;
    }
    read_version(st, &r->u.script_list.versions[n++], 0);
    r->u.script_list.nversions = n;
  }
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) {
    return ain__store_sq_fail(c, "script_list");
  }
  st = ain__store_sq_prep(c, "SELECT module, sha, updated_at FROM script_pins WHERE ?1 IS NULL OR module = ?1 "
               "ORDER BY module");
  if (st == NULL) {
    return AIN_ESTORE;
  }
  ain__store_sq_bind_text(st, 1, module);
  n = cap = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      ain_script_pin_t *g = realloc(r->u.script_list.pins, cap * sizeof *g);
      if (g == NULL) {
        abort();
      }
      r->u.script_list.pins = g;
    }
    ain_script_pin_t *p = &r->u.script_list.pins[n++];
    p->module = ain__store_sq_col_dup(st, 0);
    snprintf(p->sha, sizeof p->sha, "%s", (const char *)sqlite3_column_text(st, 1));
    p->updated_at = sqlite3_column_int64(st, 2);
    r->u.script_list.npins = n;
  }
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) {
    return ain__store_sq_fail(c, "script_list pins");
  }
  return ain__store_sq_exec(c, SQ_COMMIT);
}

/* The pin's operator audit row (no task, no DAG): who moved module from `old` to `now` ("" =
 * unpinned). */
static int audit_pin(ain__sq_ctx_t *c, const char *module, const char *old, const char *now) {
  char from[400], to[400];
  snprintf(from, sizeof from, "pin:%s=%s", module, old);
  snprintf(to, sizeof to, "pin:%s=%s", module, now);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "module", module);
  cJSON_AddItemToObject(o, "sha", now[0] ? cJSON_CreateString(now) : cJSON_CreateNull());
  cJSON_AddItemToObject(o, "previous", old[0] ? cJSON_CreateString(old) : cJSON_CreateNull());
  char *det = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  int rc = ain__store_sq_audit(c, NULL, NULL, from, to, 0, det, NULL);
  free(det);
  return rc;
}

static int pin(ain__sq_ctx_t *c) {
  ain_store_req_t *r = c->req;
  const char *module = r->u.script_pin.module;
  int rc = ain__store_sq_exec(c, SQ_BEGIN_IMMEDIATE);
  if (rc != 0) {
    return rc;
  }
  sqlite3_stmt *st = NULL;
  ain_script_version_t v = {0};
  char old[sizeof r->u.script_pin.pinned] = "";
  r->u.script_pin.pinned[0] = '\0';
  if ((st = ain__store_sq_prep(c, "SELECT sha FROM script_pins WHERE module = ?1")) == NULL) {
    rc = AIN_ESTORE;
    goto fail;
  }
  ain__store_sq_bind_text(st, 1, module);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
    snprintf(old, sizeof old, "%s", (const char *)sqlite3_column_text(st, 0));
  } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "script_pin lookup");
    goto fail;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (r->u.script_pin.sha != NULL) {
    if ((rc = find(c, module, r->u.script_pin.sha, 0, &v)) != 0) {
      goto fail;
    }
    if (v.error != NULL) {
      rc = ain_err_field(&r->err, AIN_EINVAL, "sha",
                         "version %.12s of %s was rejected and cannot be pinned: %s", v.sha, module,
                         v.error);
      goto fail;
    }
    snprintf(r->u.script_pin.pinned, sizeof r->u.script_pin.pinned, "%s", v.sha);
    st = ain__store_sq_prep(c, "INSERT INTO script_pins (module, sha, state_version, updated_at) "
                 "VALUES (?1, ?2, 0, ?3) ON CONFLICT (module) DO UPDATE SET sha = excluded.sha, "
                 "state_version = script_pins.state_version + 1, updated_at = excluded.updated_at "
                 "WHERE script_pins.sha <> excluded.sha");
  } else {
    st = ain__store_sq_prep(c, "DELETE FROM script_pins WHERE module = ?1");
  }
  if (st == NULL) {
    rc = AIN_ESTORE;
    goto fail;
  }
  ain__store_sq_bind_text(st, 1, module);
  if (r->u.script_pin.sha != NULL) {
    ain__store_sq_bind_text(st, 2, v.sha);
    sqlite3_bind_int64(st, 3, c->now);
  }
  if (sqlite3_step(st) != SQLITE_DONE) {
    rc = ain__store_sq_fail(c, "script_pin");
    goto fail;
  }
  r->u.script_pin.changed = sqlite3_changes(c->db->conn) > 0;
  sqlite3_finalize(st);
  st = NULL;
  if (r->u.script_pin.changed && (rc = audit_pin(c, module, old, r->u.script_pin.pinned)) != 0) {
    goto fail;
  }
  free(v.module);
  free(v.error);
  return ain__store_sq_exec(c, SQ_COMMIT);
fail:
  sqlite3_finalize(st);
  free(v.module);
  free(v.error);
  return rc;
}

int ain__store_sq_scripts(ain__sq_ctx_t *c) {
  switch (c->req->op) {
  case AIN_STORE_SCRIPT_PUT:
    return put(c);
  case AIN_STORE_SCRIPT_GET:
    return get(c);
  case AIN_STORE_SCRIPT_LIST:
    return list(c);
  case AIN_STORE_SCRIPT_PIN:
    return pin(c);
  default:
    return ain_err_set(&c->req->err, AIN_EINVAL, "not a script op");
  }
}
