/* The Postgres migration runner: applies sql/postgres/NNN_name.sql files in order, each in one
 * transaction together with its schema_migrations row.
 *
 * Several nodes may start at once, so every step first takes pg_advisory_xact_lock. A migration
 * inserts its schema_migrations row before running the file: a node that lost the race gets a
 * unique violation on that row (the winner committed it), treats the migration as applied by
 * someone else, and its transaction rolls back without touching the schema. Files hold many
 * statements and dollar-quoted bodies, so they go out with the simple query protocol while the
 * connection is out of pipeline mode (conn.c arranges that).
 *
 * The files are small and read once at start-up or from `ain migrate`, so they are read with
 * plain stdio on the loop thread. Relies on: internal.h. */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

/* pg_advisory_xact_lock key: "ain:migrate" folded into 63 bits; any constant all nodes share. */
#define AIN__PG_MIGRATE_LOCK "7305179820196864001"

typedef struct {
  int version;
  char *name; /* file name */
  int applied;
} pg_migfile_t;

struct ain__pg_migration {
  pg_migfile_t *files;
  int nfiles;
  char *dir;
  int step; /* -1 = bootstrap, else index of the file being applied */
  PGresult *rows;  /* the last result with rows of the current step */
  PGresult *error; /* the first error of the current step */
  int applied;
};

static int pg_migfile_cmp(const void *a, const void *b) {
  const pg_migfile_t *x = a, *y = b;
  return (x->version > y->version) - (x->version < y->version);
}

/* NNN_name.sql with a name of [a-z0-9_]. */
static int pg_migfile_version(const char *name) {
  size_t n = strlen(name), i = 0;
  int v = 0;
  if (n < 6 || strcmp(name + n - 4, ".sql") != 0)
    return -1;
  while (i < n && isdigit((unsigned char)name[i]) && i < 9)
    v = v * 10 + (name[i++] - '0');
  if (i == 0 || name[i] != '_')
    return -1;
  for (; i < n - 4; i++)
    if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_'))
      return -1;
  return v;
}

void ain__pg_migrate_free(ain__pg_t *p) {
  ain__pg_migration_t *m = p->mig;
  int i;
  if (!m)
    return;
  for (i = 0; i < m->nfiles; i++)
    free(m->files[i].name);
  free(m->files);
  free(m->dir);
  if (m->rows)
    PQclear(m->rows);
  if (m->error)
    PQclear(m->error);
  free(m);
  p->mig = NULL;
}

static int pg_scan(ain__pg_migration_t *m, ain_err_t *err) {
  DIR *d = opendir(m->dir);
  struct dirent *e;
  int cap = 0, v, i;
  if (!d)
    return ain_err_field(err, AIN_ECONFIG, "sql_dir", "cannot open migrations folder %s", m->dir);
  while ((e = readdir(d))) {
    if ((v = pg_migfile_version(e->d_name)) < 0)
      continue;
    if (m->nfiles == cap) {
      pg_migfile_t *nf = realloc(m->files, sizeof(*nf) * (size_t)(cap = cap ? cap * 2 : 8));
      if (!nf) {
        closedir(d);
        return ain_err_set(err, AIN_ENOMEM, "out of memory");
      }
      m->files = nf;
    }
    m->files[m->nfiles].version = v;
    m->files[m->nfiles].name = ain_strdup(e->d_name);
    m->files[m->nfiles].applied = 0;
    m->nfiles++;
  }
  closedir(d);
  if (m->nfiles == 0)
    return ain_err_field(err, AIN_ECONFIG, "sql_dir", "no NNN_name.sql migrations in %s", m->dir);
  qsort(m->files, (size_t)m->nfiles, sizeof(*m->files), pg_migfile_cmp);
  for (i = 1; i < m->nfiles; i++)
    if (m->files[i].version == m->files[i - 1].version)
      return ain_err_field(err, AIN_ECONFIG, "sql_dir", "migrations %s and %s share version %d",
                           m->files[i - 1].name, m->files[i].name, m->files[i].version);
  return 0;
}

static int pg_send_bootstrap(ain__pg_t *p, int check_only) {
  if (check_only) { /* read only: no lock, no CREATE */
    return PQsendQuery(p->conn, "SELECT version FROM schema_migrations ORDER BY version") ? 0 : -1;
  }
  return PQsendQuery(p->conn,
                     "SELECT pg_advisory_xact_lock(" AIN__PG_MIGRATE_LOCK ");"
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL);"
                     "SELECT version FROM schema_migrations ORDER BY version")
             ? 0
             : -1;
}

/* Sends file i (its row first, see the header). 0, AIN_E* (< 0) with err set, or 1 when the
 * connection failed. */
static int pg_send_file(ain__pg_t *p, int i, ain_err_t *err) {
  ain__pg_migration_t *m = p->mig;
  char path[4096], head[512], *sql = NULL, *text = NULL, *lit = NULL;
  size_t len = 0;
  int rc;

  snprintf(path, sizeof(path), "%s/%s", m->dir, m->files[i].name);
  if ((rc = ain_read_file(path, &text, &len)) != 0)
    return ain_err_field(err, AIN_ECONFIG, "sql_dir", "cannot read %s", path);
  lit = PQescapeLiteral(p->conn, m->files[i].name, strlen(m->files[i].name));
  if (!lit) {
    free(text);
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  snprintf(head, sizeof(head),
           "SELECT pg_advisory_xact_lock(" AIN__PG_MIGRATE_LOCK ");"
           "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, %s, %" PRId64
           ");\n",
           m->files[i].version, lit, ain_now_ms());
  PQfreemem(lit);
  sql = malloc(strlen(head) + len + 1);
  if (!sql) {
    free(text);
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  memcpy(sql, head, strlen(head));
  memcpy(sql + strlen(head), text, len + 1);
  free(text);
  rc = PQsendQuery(p->conn, sql) ? 0 : 1;
  free(sql);
  m->step = i;
  return rc;
}

static int pg_next_file(ain__pg_migration_t *m, int after) {
  int i;
  for (i = after + 1; i < m->nfiles; i++)
    if (!m->files[i].applied)
      return i;
  return -1;
}

int ain__pg_migrate_start(ain__pg_t *p, ain_store_req_t *req) {
  ain__pg_migration_t *m = calloc(1, sizeof(*m));
  const char *base = p->sql_dir ? p->sql_dir : AIN_SOURCE_DIR "/sql";
  int rc;

  if (!m)
    return req->status = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  p->mig = m;
  m->step = -1;
  m->dir = malloc(strlen(base) + sizeof("/postgres"));
  if (!m->dir)
    return req->status = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  sprintf(m->dir, "%s/postgres", base);
  if ((rc = pg_scan(m, &req->err)) < 0)
    return req->status = rc;
  if (pg_send_bootstrap(p, req->u.migrate.check_only) < 0)
    return req->status = ain_err_set(&req->err, AIN_ESTORE, "migrate: %s", PQerrorMessage(p->conn));
  return 0;
}

/* The current step's results are all in: decide what comes next. 1 = sent the next step,
 * 0 = finished (req->status set), -1 = the connection failed. */
static int pg_step_done(ain__pg_t *p) {
  ain__pg_migration_t *m = p->mig;
  ain_store_req_t *req = p->mig_req;
  int i, j, next, rc;

  if (m->error) {
    const char *state = PQresultErrorField(m->error, PG_DIAG_SQLSTATE);
    const char *cons = PQresultErrorField(m->error, PG_DIAG_CONSTRAINT_NAME);
    if (m->step >= 0 && state && strcmp(state, "23505") == 0 && cons &&
        strcmp(cons, "schema_migrations_pkey") == 0) {
      m->files[m->step].applied = 1; /* another node applied it while we waited for the lock */
    } else {
      ain__pg_result_error(m->error, &req->err);
      req->status = ain_err_field(&req->err, AIN_ESTORE, "sql_dir", "migration %s failed: %s",
                                  m->step >= 0 ? m->files[m->step].name : "bootstrap",
                                  req->err.msg);
      return 0;
    }
    PQclear(m->error);
    m->error = NULL;
  } else if (m->step < 0) {
    for (i = 0; m->rows && i < PQntuples(m->rows); i++) {
      int v = atoi(PQgetvalue(m->rows, i, 0));
      for (j = 0; j < m->nfiles; j++)
        if (m->files[j].version == v)
          m->files[j].applied = 1;
      if (v > req->u.migrate.version)
        req->u.migrate.version = v;
    }
  } else {
    m->files[m->step].applied = 1;
    req->u.migrate.applied++;
  }
  if (m->step >= 0 && m->files[m->step].version > req->u.migrate.version)
    req->u.migrate.version = m->files[m->step].version;
  if (m->rows) {
    PQclear(m->rows);
    m->rows = NULL;
  }
  next = pg_next_file(m, m->step);
  if (req->u.migrate.check_only) {
    for (i = 0; i < m->nfiles; i++)
      req->u.migrate.pending += !m->files[i].applied;
    req->status = 0;
    return 0;
  }
  if (next < 0) {
    req->status = 0;
    return 0;
  }
  rc = pg_send_file(p, next, &req->err);
  if (rc > 0)
    return -1;
  if (rc < 0) {
    req->status = rc;
    return 0;
  }
  return 1;
}

int ain__pg_migrate_on_readable(ain__pg_t *p) {
  ain__pg_migration_t *m = p->mig;
  PGresult *r;
  if (!PQconsumeInput(p->conn))
    return -1;
  while (!PQisBusy(p->conn)) {
    r = PQgetResult(p->conn);
    if (!r)
      return pg_step_done(p);
    switch (PQresultStatus(r)) {
    case PGRES_TUPLES_OK:
      if (m->rows)
        PQclear(m->rows);
      m->rows = r;
      break;
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
      PQclear(r);
      break;
    default:
      if (!m->error)
        m->error = r;
      else
        PQclear(r);
      break;
    }
  }
  return 1; /* more to come */
}
