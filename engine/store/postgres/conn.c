/* The Postgres backend's connection: libpq's asynchronous API driven by the handle's uv loop.
 *
 * Connect with PQconnectStartParams + PQconnectPoll on a uv_poll (the socket may change between
 * steps, so the poll is re-created each step), LISTEN ain_ready, then enter pipeline mode. Each
 * request is sent as its prepared statements + PQpipelineSync; requests submitted during one loop
 * turn go out in one write (the kick timer runs the pump off the submit stack), results are read
 * on UV_READABLE and matched to requests in order, and PQflush continues on UV_WRITABLE.
 * Notifications on ain_ready call the handle's wake-up callback. If the connection drops, every
 * queued or in-flight request fails with AIN_ESTORE ("connection lost") and the next request
 * reconnects after a backoff. Callbacks run only from the kick timer or the close callback.
 *
 * Relies on: internal.h (ops.c builds statements and parses rows, migrate.c runs migrations). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/postgres/internal.h"

#define AIN__PG_MAX_INFLIGHT 256
#define AIN__PG_BACKOFF_MIN_MS 50
#define AIN__PG_BACKOFF_MAX_MS 5000

static void pg_on_poll(uv_poll_t *h, int status, int events);
static void pg_pump(ain__pg_t *p);
static void pg_connect(ain__pg_t *p);

/* ---- queues and completion ------------------------------------------------------------------ */

void ain__pg_push(ain_store_req_t **head, ain_store_req_t **tail, ain_store_req_t *req) {
  req->next_ = NULL;
  if (*tail)
    (*tail)->next_ = req;
  else
    *head = req;
  *tail = req;
}

ain_store_req_t *ain__pg_pop(ain_store_req_t **head, ain_store_req_t **tail) {
  ain_store_req_t *req = *head;
  if (!req)
    return NULL;
  *head = req->next_;
  if (!*head)
    *tail = NULL;
  req->next_ = NULL;
  return req;
}

static void pg_deliver(ain__pg_t *p) {
  ain_store_req_t *req;
  /* A callback may submit (appends to pending) or close (appends to done): both are safe here,
   * because the handle is freed only from the close callbacks of its uv handles. */
  while ((req = ain__pg_pop(&p->done_head, &p->done_tail))) {
    req->done = 1;
    ain__store_observe(&p->base, req);
    if (req->cb)
      req->cb(req);
  }
}

static void pg_on_kick(uv_timer_t *t) {
  ain__pg_t *p = t->data;
  pg_deliver(p);
  pg_pump(p);
}

void ain__pg_kick(ain__pg_t *p) {
  if (p->state == AIN__PG_CLOSING || uv_is_active((uv_handle_t *)&p->kick))
    return;
  uv_timer_start(&p->kick, pg_on_kick, 0, 0);
}

void ain__pg_complete(ain__pg_t *p, ain_store_req_t *req) {
  if (req->status && !req->err.code)
    req->err.code = req->status;
  ain__pg_push(&p->done_head, &p->done_tail, req);
  ain__pg_kick(p);
}

static void pg_fail_req(ain__pg_t *p, ain_store_req_t *req, int code, const char *msg) {
  if (req->backend_priv) {
    ain__pg_plan_free(req->backend_priv);
    free(req->backend_priv);
    req->backend_priv = NULL;
  }
  req->status = ain_err_set(&req->err, code, "%s", msg);
  ain__pg_complete(p, req);
}

static void pg_fail_all(ain__pg_t *p, int code, const char *msg) {
  ain_store_req_t *req;
  if (p->mig_req) {
    req = p->mig_req;
    p->mig_req = NULL;
    pg_fail_req(p, req, code, msg);
  }
  ain__pg_migrate_free(p);
  while ((req = ain__pg_pop(&p->inflight_head, &p->inflight_tail)))
    pg_fail_req(p, req, code, msg);
  p->ninflight = 0;
  while ((req = ain__pg_pop(&p->pending_head, &p->pending_tail)))
    pg_fail_req(p, req, code, msg);
}

/* ---- errors --------------------------------------------------------------------------------- */

int ain__pg_result_error(const PGresult *r, ain_err_t *err) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  const char *column = r ? PQresultErrorField(r, PG_DIAG_COLUMN_NAME) : NULL;
  int code = AIN_ESTORE;

  if (!msg)
    msg = r ? PQresultErrorMessage(r) : "no result";
  if (state && strncmp(state, "AIN", 3) == 0) {
    /* raised by our SQL functions (sql/postgres/001_init.sql) */
    if (strcmp(state, "AIN01") == 0)
      code = AIN_EINVAL;
    else if (strcmp(state, "AIN04") == 0)
      code = AIN_ENOTFOUND;
    else if (strcmp(state, "AIN05") == 0)
      code = AIN_ECONFLICT;
    else if (strcmp(state, "AIN06") == 0)
      code = AIN_EEXIST;
    return ain_err_field(err, code, column ? column : "", "%s", msg);
  }
  if (state && strcmp(state, "23505") == 0)
    code = AIN_EEXIST;
  return ain_err_set(err, code, "postgres %s: %s", state ? state : "?", msg);
}

/* ---- the socket ----------------------------------------------------------------------------- */

static void pg_on_poll_closed(uv_handle_t *h) {
  ain__pg_t *p = h->data;
  free(h);
  p->handles_open--;
  ain__pg_finalize(p);
}

static void pg_unwatch(ain__pg_t *p) {
  if (!p->poll)
    return;
  uv_poll_stop(p->poll);
  uv_close((uv_handle_t *)p->poll, pg_on_poll_closed);
  p->poll = NULL;
  p->poll_fd = -1;
  p->poll_events = 0;
}

int ain__pg_watch(ain__pg_t *p, int events) {
  int fd = p->conn ? PQsocket(p->conn) : -1;
  int rc;
  if (fd < 0)
    return AIN_ESTORE;
  if (p->poll && p->poll_fd != fd)
    pg_unwatch(p);
  if (!p->poll) {
    p->poll = malloc(sizeof(*p->poll));
    if (!p->poll)
      return AIN_ENOMEM;
    rc = uv_poll_init(p->base.loop, p->poll, fd);
    if (rc < 0) {
      free(p->poll);
      p->poll = NULL;
      return AIN_ESTORE;
    }
    p->poll->data = p;
    p->poll_fd = fd;
    p->handles_open++;
  }
  if (events != p->poll_events) {
    if (uv_poll_start(p->poll, events, pg_on_poll) < 0)
      return AIN_ESTORE;
    p->poll_events = events;
  }
  return 0;
}

void ain__pg_lost(ain__pg_t *p, int code, const char *msg) {
  char buf[768];
  snprintf(buf, sizeof(buf), "%s", msg); /* msg may point into the PGconn we are about to free */
  pg_unwatch(p); /* the poll stops before PQfinish closes its socket */
  if (p->conn)
    PQfinish(p->conn);
  p->conn = NULL;
  p->state = AIN__PG_DOWN;
  memset(p->prepared, 0, sizeof(p->prepared));
  p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : AIN__PG_BACKOFF_MIN_MS;
  if (p->backoff_ms > AIN__PG_BACKOFF_MAX_MS)
    p->backoff_ms = AIN__PG_BACKOFF_MAX_MS;
  pg_fail_all(p, code, buf);
}

static void pg_lost_conn(ain__pg_t *p, const char *what) {
  char msg[768];
  const char *why = p->conn ? PQerrorMessage(p->conn) : "";
  size_t n;
  snprintf(msg, sizeof(msg), "%s: %s", what, why && *why ? why : "no detail");
  n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
    msg[--n] = '\0';
  ain__pg_lost(p, AIN_ESTORE, msg);
}

/* Writes what libpq buffered; keeps watching for writability while it could not write it all. */
static int pg_flush(ain__pg_t *p) {
  int r = PQflush(p->conn);
  if (r < 0) {
    pg_lost_conn(p, "connection lost");
    return -1;
  }
  if (ain__pg_watch(p, UV_READABLE | (r == 1 ? UV_WRITABLE : 0)) < 0) {
    pg_lost_conn(p, "connection lost");
    return -1;
  }
  return 0;
}

/* ---- connecting ----------------------------------------------------------------------------- */

/* Server NOTICEs ("already exists, skipping") go to the debug log, not raw to stderr. */
static void pg_on_notice(void *arg, const char *message) {
  (void)arg;
  ain_log_debug("postgres: %.*s", (int)strcspn(message, "\n"), message);
}

static void pg_on_backoff(uv_timer_t *t) {
  ain__pg_t *p = t->data;
  if (p->state == AIN__PG_DOWN && p->pending_head)
    pg_connect(p);
}

static void pg_connect_with(ain__pg_t *p, const ain__pg_conn_params_t *cp) {
  const char *keys[] = {"dbname", "application_name", "host", "hostaddr", "port", NULL};
  const char *vals[] = {p->url, "ain", cp ? cp->host : NULL, cp ? cp->hostaddr : NULL,
                        cp ? cp->port : NULL, NULL};

  /* Later keywords override what the URL (expanded from dbname) says; NULL ones are ignored. */
  p->conn = PQconnectStartParams(keys, vals, 1);
  if (!p->conn) {
    ain__pg_lost(p, AIN_ENOMEM, "connect: out of memory");
    return;
  }
  if (PQstatus(p->conn) == CONNECTION_BAD) {
    pg_lost_conn(p, "connect failed");
    return;
  }
  PQsetnonblocking(p->conn, 1);
  PQsetNoticeProcessor(p->conn, pg_on_notice, NULL);
  p->state = AIN__PG_CONNECTING;
  /* libpq: behave as if PQconnectPoll had returned PGRES_POLLING_WRITING */
  if (ain__pg_watch(p, UV_WRITABLE) < 0)
    pg_lost_conn(p, "connect failed");
}

/* The URL's host names were looked up (resolve.c); the handle may have been closed meanwhile. */
static void pg_on_resolved(ain__pg_t *p, const ain__pg_conn_params_t *cp, const char *err) {
  p->handles_open--;
  if (p->state == AIN__PG_CLOSING) {
    ain__pg_finalize(p);
    return;
  }
  if (err) {
    char msg[600];
    snprintf(msg, sizeof(msg), "connect failed: %s", err);
    ain__pg_lost(p, AIN_ESTORE, msg);
    return;
  }
  pg_connect_with(p, cp);
}

/* Looks up host names first (never on this loop: libpq would block it in getaddrinfo), then
 * connects; an IP address or a socket path connects at once. */
static void pg_connect(ain__pg_t *p) {
  p->state = AIN__PG_RESOLVING;
  p->handles_open++; /* the lookup keeps the handle alive, as a uv handle would */
  if (ain__pg_resolve_start(p, pg_on_resolved))
    return;
  p->handles_open--;
  pg_connect_with(p, NULL);
}

static void pg_connect_step(ain__pg_t *p) {
  PostgresPollingStatusType st = PQconnectPoll(p->conn);
  if (st == PGRES_POLLING_FAILED) {
    pg_lost_conn(p, "connect failed");
    return;
  }
  /* PQconnectPoll may have moved to another socket (next host, SSL or GSS fallback), and the
   * old descriptor number may have been reused: always start from a fresh poll. */
  pg_unwatch(p);
  if (st == PGRES_POLLING_OK) {
    if (!PQsendQuery(p->conn, "LISTEN ain_ready")) {
      pg_lost_conn(p, "connect failed");
      return;
    }
    p->state = AIN__PG_SETUP;
    pg_flush(p);
    return;
  }
  if (ain__pg_watch(p, st == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE) < 0)
    pg_lost_conn(p, "connect failed");
}

static void pg_setup_step(ain__pg_t *p) {
  PGresult *r;
  if (!PQconsumeInput(p->conn)) {
    pg_lost_conn(p, "connection lost");
    return;
  }
  while (!PQisBusy(p->conn)) {
    r = PQgetResult(p->conn);
    if (!r) {
      if (!PQenterPipelineMode(p->conn)) {
        pg_lost_conn(p, "cannot enter pipeline mode");
        return;
      }
      p->state = AIN__PG_READY;
      p->backoff_ms = 0;
      memset(p->prepared, 0, sizeof(p->prepared));
      pg_pump(p);
      /* Commits made before LISTEN took effect were not announced to us: wake up once. */
      if (p->state == AIN__PG_READY && p->base.wake_cb)
        p->base.wake_cb(p->base.wake_data);
      return;
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      ain_err_t e;
      ain__pg_result_error(r, &e);
      PQclear(r);
      ain__pg_lost(p, AIN_ESTORE, e.msg);
      return;
    }
    PQclear(r);
  }
}

/* ---- pipeline: results ---------------------------------------------------------------------- */

static void pg_record_error(ain_store_req_t *req, ain__pg_plan_t *plan, const PGresult *r) {
  if (plan->failed)
    return;
  plan->failed = 1;
  req->status = ain__pg_result_error(r, &req->err);
}

static void pg_finish_req(ain__pg_t *p, ain_store_req_t *req, ain__pg_plan_t *plan) {
  int rc;
  if (!plan->failed) {
    rc = ain__pg_parse(p, req, plan);
    if (rc < 0) {
      req->status = rc;
      if (!req->err.code)
        ain_err_set(&req->err, rc, "%s", ain_strerror(rc));
    }
  }
  ain__pg_plan_free(plan);
  free(plan);
  req->backend_priv = NULL;
  ain__pg_complete(p, req);
}

static void pg_read_results(ain__pg_t *p) {
  int nulls = 0;
  for (;;) {
    ain_store_req_t *req = p->inflight_head;
    ain__pg_plan_t *plan;
    ain__pg_expect_t *x;
    PGresult *r;
    ExecStatusType st;

    if (!req || PQisBusy(p->conn))
      break;
    plan = req->backend_priv;
    x = &plan->expect[plan->pos];
    r = PQgetResult(p->conn);
    if (!r) {
      if (x->kind != AIN__PG_X_SYNC && plan->got) {
        plan->got = 0; /* end of this command's results */
        plan->pos++;
        nulls = 0;
        continue;
      }
      if (++nulls > 1)
        break; /* nothing more buffered */
      continue;
    }
    nulls = 0;
    st = PQresultStatus(r);
    if (x->kind == AIN__PG_X_SYNC) {
      PQclear(r);
      if (st != PGRES_PIPELINE_SYNC)
        continue;
      ain__pg_pop(&p->inflight_head, &p->inflight_tail);
      p->ninflight--;
      pg_finish_req(p, req, plan);
      continue;
    }
    plan->got = 1;
    if (x->kind == AIN__PG_X_PREPARE) {
      if (st != PGRES_COMMAND_OK) {
        p->prepared[x->index] = 0; /* prepare again next time (e.g. after a migration) */
        pg_record_error(req, plan, r);
      }
      PQclear(r);
    } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      if (plan->res[x->index])
        PQclear(plan->res[x->index]);
      plan->res[x->index] = r;
    } else {
      if (st == PGRES_PIPELINE_ABORTED && !plan->failed) {
        plan->failed = 1;
        req->status = ain_err_set(&req->err, AIN_ESTORE, "postgres: pipeline aborted");
      } else {
        pg_record_error(req, plan, r);
      }
      PQclear(r);
    }
  }
}

static void pg_read_notifies(ain__pg_t *p) {
  PGnotify *n;
  int woke = 0, self = PQbackendPID(p->conn);
  while ((n = PQnotifies(p->conn))) {
    woke |= n->be_pid != self; /* our own commits do not wake us: we know about them */
    PQfreemem(n);
  }
  if (woke && p->base.wake_cb)
    p->base.wake_cb(p->base.wake_data);
}

/* ---- pipeline: sending ---------------------------------------------------------------------- */

static int pg_send(ain__pg_t *p, ain__pg_plan_t *plan) {
  int i;
  for (i = 0; i < plan->ncmds; i++) {
    ain__pg_cmd_t *c = &plan->cmds[i];
    const ain__pg_stmt_def_t *def = &ain__pg_stmts[c->stmt];
    if (!p->prepared[c->stmt]) {
      if (!PQsendPrepare(p->conn, def->name, def->sql, def->nparams, NULL))
        return -1;
      p->prepared[c->stmt] = 1;
      plan->expect[plan->nexpect++] = (ain__pg_expect_t){AIN__PG_X_PREPARE, (int)c->stmt};
    }
    if (!PQsendQueryPrepared(p->conn, def->name, c->nparams, (const char *const *)c->params, NULL,
                             NULL, 0))
      return -1;
    plan->expect[plan->nexpect++] = (ain__pg_expect_t){AIN__PG_X_EXEC, i};
  }
  if (!PQpipelineSync(p->conn))
    return -1;
  plan->expect[plan->nexpect++] = (ain__pg_expect_t){AIN__PG_X_SYNC, 0};
  return 0;
}

static void pg_start_migration(ain__pg_t *p) {
  ain_store_req_t *req = ain__pg_pop(&p->pending_head, &p->pending_tail);
  /* The migration runner needs the simple query protocol (multi-statement files). */
  if (!PQexitPipelineMode(p->conn)) {
    ain__pg_push(&p->pending_head, &p->pending_tail, req);
    pg_lost_conn(p, "cannot leave pipeline mode");
    return;
  }
  p->state = AIN__PG_EXCLUSIVE;
  p->mig_req = req;
  if (ain__pg_migrate_start(p, req) < 0) {
    p->mig_req = NULL;
    ain__pg_migrate_free(p);
    ain__pg_complete(p, req);
    if (!PQenterPipelineMode(p->conn)) {
      pg_lost_conn(p, "cannot enter pipeline mode");
      return;
    }
    p->state = AIN__PG_READY;
    return;
  }
  pg_flush(p);
}

static void pg_pump(ain__pg_t *p) {
  ain_store_req_t *req;
  int sent = 0;

  if (p->state == AIN__PG_DOWN) {
    if (p->pending_head && !uv_is_active((uv_handle_t *)&p->backoff))
      uv_timer_start(&p->backoff, pg_on_backoff, (uint64_t)p->backoff_ms, 0);
    return;
  }
  while (p->state == AIN__PG_READY && (req = p->pending_head)) {
    ain__pg_plan_t *plan;
    int rc;
    if (req->op == AIN_STORE_MIGRATE) {
      if (p->ninflight > 0)
        break; /* let the pipeline drain first */
      if (sent && pg_flush(p) < 0)
        return;
      pg_start_migration(p);
      return;
    }
    if (p->ninflight >= AIN__PG_MAX_INFLIGHT)
      break;
    ain__pg_pop(&p->pending_head, &p->pending_tail);
    plan = calloc(1, sizeof(*plan));
    if (!plan) {
      req->status = ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
      ain__pg_complete(p, req);
      continue;
    }
    req->backend_priv = plan;
    rc = ain__pg_plan(p, req, plan);
    if (rc < 0) {
      ain__pg_plan_free(plan);
      free(plan);
      req->backend_priv = NULL;
      req->status = rc;
      ain__pg_complete(p, req);
      continue;
    }
    ain__pg_push(&p->inflight_head, &p->inflight_tail, req);
    p->ninflight++;
    if (pg_send(p, plan) < 0) {
      pg_lost_conn(p, "connection lost");
      return;
    }
    sent = 1;
  }
  if (sent)
    pg_flush(p);
}

/* ---- events --------------------------------------------------------------------------------- */

static void pg_on_poll(uv_poll_t *h, int status, int events) {
  ain__pg_t *p = h->data;
  int rc;

  if (p->state == AIN__PG_CLOSING || p->poll != h)
    return;
  /* libuv reports a socket error (EPOLLERR) as UV_EBADF. While connecting that is how a refused
   * or unreachable address looks: libpq reads the real error from the socket and moves on to the
   * host's next address (or the next host), so let it decide. */
  if (status < 0 && p->state == AIN__PG_CONNECTING) {
    pg_connect_step(p);
    return;
  }
  if (status < 0) {
    char msg[256];
    snprintf(msg, sizeof(msg), "connection lost: poll: %s", uv_strerror(status));
    ain__pg_lost(p, AIN_ESTORE, msg);
    return;
  }
  switch (p->state) {
  case AIN__PG_CONNECTING:
    pg_connect_step(p);
    return;
  case AIN__PG_SETUP:
    if ((events & UV_WRITABLE) && pg_flush(p) < 0)
      return;
    if (events & UV_READABLE)
      pg_setup_step(p);
    return;
  case AIN__PG_READY:
    if ((events & UV_WRITABLE) && pg_flush(p) < 0)
      return;
    if (events & UV_READABLE) {
      if (!PQconsumeInput(p->conn)) {
        pg_lost_conn(p, "connection lost");
        return;
      }
      pg_read_results(p);
      if (PQstatus(p->conn) == CONNECTION_BAD) {
        pg_lost_conn(p, "connection lost");
        return;
      }
      pg_pump(p);
      if (p->state == AIN__PG_READY)
        pg_read_notifies(p);
    }
    return;
  case AIN__PG_EXCLUSIVE:
    if ((events & UV_WRITABLE) && pg_flush(p) < 0)
      return;
    if (!(events & UV_READABLE))
      return;
    rc = ain__pg_migrate_on_readable(p);
    if (rc < 0) {
      pg_lost_conn(p, "connection lost");
      return;
    }
    if (rc > 0) {
      pg_flush(p);
      return;
    }
    ain__pg_complete(p, p->mig_req);
    p->mig_req = NULL;
    ain__pg_migrate_free(p);
    memset(p->prepared, 0, sizeof(p->prepared)); /* the schema changed under them */
    if (!PQenterPipelineMode(p->conn)) {
      pg_lost_conn(p, "cannot enter pipeline mode");
      return;
    }
    p->state = AIN__PG_READY;
    pg_pump(p);
    return;
  default:
    return;
  }
}

/* ---- the backend ---------------------------------------------------------------------------- */

void ain__pg_finalize(ain__pg_t *p) {
  if (p->state != AIN__PG_CLOSING || p->handles_open > 0)
    return;
  pg_deliver(p); /* the requests failed by close, in order */
  if (p->close_cb)
    p->close_cb(p->close_data);
  free(p->url);
  free(p->sql_dir);
  free(p);
}

static void pg_on_timer_closed(uv_handle_t *h) {
  ain__pg_t *p = h->data;
  p->handles_open--;
  ain__pg_finalize(p);
}

static int pg_open(const ain_store_config_t *cfg, uv_loop_t *loop, ain_store_t **out,
                   ain_err_t *err) {
  ain__pg_t *p = NULL;
  char *perr = NULL;
  PQconninfoOption *opts;

  if (!cfg || !cfg->url)
    return ain_err_field(err, AIN_EINVAL, "url", "no store URL");
  /* Syntax only (no I/O), so that a malformed URL fails at open rather than at the first use. */
  opts = PQconninfoParse(cfg->url, &perr);
  if (!opts) {
    int rc = ain_err_field(err, AIN_ECONFIG, "url", "bad postgres URL: %s",
                           perr ? perr : "out of memory");
    PQfreemem(perr);
    return rc;
  }
  PQconninfoFree(opts);

  p = calloc(1, sizeof(*p));
  if (!p)
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  p->base.backend = &ain_store_postgres_backend;
  p->base.loop = loop;
  p->url = ain_strdup(cfg->url);
  p->sql_dir = ain_strdup(cfg->sql_dir);
  p->poll_fd = -1;
  uv_timer_init(loop, &p->kick);
  uv_timer_init(loop, &p->backoff);
  p->kick.data = p;
  p->backoff.data = p;
  p->handles_open = 2;
  pg_connect(p); /* asynchronous; requests queue until it is ready */
  *out = &p->base;
  return 0;
}

static int pg_submit(ain_store_t *s, ain_store_req_t *req) {
  ain__pg_t *p = (ain__pg_t *)s;
  if (p->state == AIN__PG_CLOSING)
    return ain_err_set(&req->err, AIN_ESHUTDOWN, "store is closing");
  req->status = 0;
  req->done = 0;
  req->backend_priv = NULL;
  ain__pg_push(&p->pending_head, &p->pending_tail, req);
  ain__pg_kick(p);
  return 0;
}

static void pg_close(ain_store_t *s, void (*cb)(void *data), void *data) {
  ain__pg_t *p = (ain__pg_t *)s;
  if (p->state == AIN__PG_CLOSING)
    return;
  p->close_cb = cb;
  p->close_data = data;
  pg_fail_all(p, AIN_ESHUTDOWN, "store closed");
  pg_unwatch(p);
  if (p->conn)
    PQfinish(p->conn);
  p->conn = NULL;
  p->state = AIN__PG_CLOSING;
  uv_timer_stop(&p->kick);
  uv_timer_stop(&p->backoff);
  uv_close((uv_handle_t *)&p->kick, pg_on_timer_closed);
  uv_close((uv_handle_t *)&p->backoff, pg_on_timer_closed);
}

const ain_store_backend_t ain_store_postgres_backend = {
    .name = "postgres",
    .open = pg_open,
    .submit = pg_submit,
    .close = pg_close,
};
