/* SQLite schema migrations: every sql_dir/sqlite/NNN_name.sql not yet recorded in
 * schema_migrations(version, name, applied_at) is applied, in version order, each in its own
 * transaction. "Not yet recorded", not "above the highest": a file merged from a branch with a
 * lower number than one already applied still runs (Postgres does the same). A failing file rolls
 * back and is reported as "file: message"; earlier files stay applied. Runs only on
 * AIN_STORE_MIGRATE.
 * Relies on: internal.h, core/util.h (ain_read_file). Start-up only, so plain file I/O is fine. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/internal.h"

typedef struct {
  int version;
  char *name; /* file name */
} migration_t;

static int cmp_migration(const void *a, const void *b) {
  const migration_t *x = a, *y = b;
  return (x->version > y->version) - (x->version < y->version);
}

/* NNN_name.sql -> NNN, or -1 when the file is not a migration. */
static int parse_version(const char *name) {
  size_t n = strlen(name), digits = strspn(name, "0123456789");
  if (digits == 0 || digits > 6 || name[digits] != '_' || n < 5 ||
      strcmp(name + n - 4, ".sql") != 0) {
    return -1;
  }
  return atoi(name);
}

static void free_list(migration_t *list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(list[i].name);
  }
  free(list);
}

static int list_migrations(ain__sq_ctx_t *c, const char *dir, migration_t **out, size_t *nout) {
  int rc = 0;
  size_t n = 0, cap = 0;
  migration_t *list = NULL;
  DIR *d = opendir(dir);
  if (d == NULL) {
    return ain_err_field(&c->req->err, AIN_ECONFIG, "sql_dir", "migrations folder %s: %s", dir,
                         strerror(errno));
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int v = parse_version(e->d_name);
    if (v < 0) {
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      if (list[i].version == v) {
        rc = ain_err_field(&c->req->err, AIN_ECONFIG, "sql_dir",
                           "migrations %s and %s share version %d", list[i].name, e->d_name, v);
        goto fail;
      }
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      migration_t *grown = realloc(list, cap * sizeof *list);
      if (grown == NULL) {
        rc = ain_err_set(&c->req->err, AIN_ENOMEM, "out of memory");
        goto fail;
      }
      list = grown;
    }
    list[n].version = v;
    list[n].name = ain_strdup(e->d_name);
    n++;
  }
  closedir(d);
  qsort(list, n, sizeof *list, cmp_migration);
  *out = list;
  *nout = n;
  return 0;
fail:
  closedir(d);
  free_list(list, n);
  return rc;
}

static int exec_sql(ain__sq_ctx_t *c, const char *sql, const char *what) {
  char *msg = NULL;
  if (sqlite3_exec(c->db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
    ain_err_set(&c->req->err, AIN_ESTORE, "%s: %s", what, msg ? msg : sqlite3_errmsg(c->db->conn));
    sqlite3_free(msg);
    return AIN_ESTORE;
  }
  return 0;
}

static int current_version(ain__sq_ctx_t *c, int *version) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                         &st, NULL) != SQLITE_OK) {
    return ain__store_sq_fail(c, "reading schema_migrations");
  }
  int rc = sqlite3_step(st);
  *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : ain__store_sq_fail(c, "reading schema_migrations");
}

/* 1 if version is recorded in schema_migrations, 0 if not, or AIN_E*. */
static int is_applied(ain__sq_ctx_t *c, int version) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db->conn, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1, &st,
                         NULL) != SQLITE_OK) {
    return ain__store_sq_fail(c, "reading schema_migrations");
  }
  sqlite3_bind_int(st, 1, version);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return ain__store_sq_fail(c, "reading schema_migrations");
  }
  return rc == SQLITE_ROW;
}

/* 0 applied, 1 already applied by someone else, or AIN_E*. */
static int apply_one(ain__sq_ctx_t *c, const char *dir, const migration_t *m) {
  char path[4096];
  char *sql = NULL;
  sqlite3_stmt *st = NULL;
  int rc;
  snprintf(path, sizeof path, "%s/%s", dir, m->name);
  if ((rc = ain_read_file(path, &sql, NULL)) != 0) {
    return ain_err_field(&c->req->err, AIN_ECONFIG, "sql_dir", "%s: %s", path, strerror(-rc));
  }
  if ((rc = exec_sql(c, "BEGIN IMMEDIATE", m->name)) != 0) {
    goto fail;
  }
  /* Another process may have migrated since we looked: decide under the write lock. */
  if ((rc = is_applied(c, m->version)) < 0) {
    goto fail;
  }
  if (rc == 1) {
    free(sql);
    return exec_sql(c, "COMMIT", m->name) == 0 ? 1 : AIN_ESTORE;
  }
  if ((rc = exec_sql(c, sql, m->name)) != 0) {
    goto fail;
  }
  if (sqlite3_prepare_v2(c->db->conn,
                         "INSERT INTO schema_migrations (version, name, applied_at) "
                         "VALUES (?1, ?2, ?3)",
                         -1, &st, NULL) != SQLITE_OK ||
      (sqlite3_bind_int(st, 1, m->version), ain__store_sq_bind_text(st, 2, m->name),
       sqlite3_bind_int64(st, 3, c->now), sqlite3_step(st)) != SQLITE_DONE) {
    rc = ain_err_set(&c->req->err, AIN_ESTORE, "%s: recording: %s", m->name,
                     sqlite3_errmsg(c->db->conn));
    goto fail;
  }
  sqlite3_finalize(st);
  st = NULL;
  if ((rc = exec_sql(c, "COMMIT", m->name)) != 0) {
    goto fail;
  }
  free(sql);
  return 0;
fail:
  sqlite3_finalize(st);
  ain__store_sq_rollback(c);
  free(sql);
  return rc;
}

int ain__store_sq_migrate(ain__sq_ctx_t *c) {
  int rc, version = 0;
  size_t n = 0;
  migration_t *list = NULL;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/sqlite", c->s->sql_dir);
  if (c->req->u.migrate.check_only) {
    /* Read only: no CREATE, no write lock (a probe must not queue behind the shards). */
    if ((rc = current_version(c, &version)) != 0 ||
        (rc = list_migrations(c, dir, &list, &n)) != 0) {
      goto fail;
    }
    for (size_t i = 0; i < n; i++) {
      if ((rc = is_applied(c, list[i].version)) < 0) {
        goto fail;
      }
      c->req->u.migrate.pending += rc == 0;
    }
    c->req->u.migrate.version = version;
    free_list(list, n);
    return 0;
  }
  rc = exec_sql(c,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                "creating schema_migrations");
  if (rc != 0 || (rc = current_version(c, &version)) != 0 ||
      (rc = list_migrations(c, dir, &list, &n)) != 0) {
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    if ((rc = is_applied(c, list[i].version)) < 0) {
      goto fail;
    }
    if (rc == 1) {
      continue;
    }
    if ((rc = apply_one(c, dir, &list[i])) < 0) {
      goto fail;
    }
    c->req->u.migrate.applied += rc == 0;
    version = list[i].version > version ? list[i].version : version;
    rc = 0;
  }
  c->req->u.migrate.version = version;
  free_list(list, n);
  return 0;
fail:
  c->req->u.migrate.version = version;
  free_list(list, n);
  return rc;
}
