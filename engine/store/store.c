/* The store's generic layer: picks the backend by URL, validates requests before a backend sees
 * them, owns request initialisers and output cleanup, status names, and ain_store_wait().
 * Relies on: store.h, the backends' ain_store_*_backend tables, libuv. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/nodes.h"
#include "store/source.h"
#include "store/review.h"
#include "store/scripts.h"
#include "store/media.h"
#include "store/purge.h"
#include "store/wedge.h"
#include "store/metrics.h"
#include "obs/obs.h"

/* ---- opening ------------------------------------------------------------------------------- */

static const ain_store_backend_t *backend_for(const char *url, ain_err_t *err) {
  if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
    return &ain_store_postgres_backend;
  }
  if (strncmp(url, "sqlite:", 7) == 0) {
    return &ain_store_sqlite_backend;
  }
  /* Anything that looks like "scheme://" or "scheme:" (letters before the colon, no slash) and is
   * not ours is a mistake, not a file name. */
  size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
  if (n > 1 && url[n] == ':') {
    ain_err_field(err, AIN_ECONFIG, "store.url",
                  "unsupported store URL scheme '%.*s' (want sqlite:PATH or postgres://...)",
                  (int)n, url);
    return NULL;
  }
  return &ain_store_sqlite_backend; /* a bare path */
}

int ain_store_open(const ain_store_config_t *cfg, uv_loop_t *loop, ain_store_t **out,
                   ain_err_t *err) {
  if (out != NULL) {
    *out = NULL;
  }
  if (cfg == NULL || loop == NULL || out == NULL) {
    return ain_err_set(err, AIN_EINVAL, "ain_store_open: cfg, loop and out are required");
  }
  if (cfg->url == NULL || cfg->url[0] == '\0') {
    return ain_err_field(err, AIN_ECONFIG, "store.url", "store URL is empty");
  }
  const ain_store_backend_t *be = backend_for(cfg->url, err);
  if (be == NULL) {
    return AIN_ECONFIG;
  }
  int rc = be->open(cfg, loop, out, err);
  if (rc != 0) {
    return rc;
  }
  (*out)->backend = be;
  (*out)->loop = loop;
  return 0;
}

void ain_store_close(ain_store_t *s, void (*cb)(void *data), void *data) {
  if (s != NULL) {
    s->backend->close(s, cb, data);
  }
}

static const char *const op_names[AIN_STORE_OP_COUNT] = {
    [AIN_STORE_MIGRATE] = "migrate",         [AIN_STORE_ENQUEUE] = "enqueue",
    [AIN_STORE_CLAIM] = "claim",             [AIN_STORE_FINISH] = "finish",
    [AIN_STORE_EXTEND] = "extend",           [AIN_STORE_REAP] = "reap",
    [AIN_STORE_CANCEL] = "cancel",           [AIN_STORE_GET_TASK] = "get_task",
    [AIN_STORE_GET_DAG] = "get_dag",         [AIN_STORE_AUDIT] = "audit",
    [AIN_STORE_STATS] = "stats",             [AIN_STORE_LIST_TASKS] = "list_tasks",
    [AIN_STORE_NODE_BEAT] = "node_beat",     [AIN_STORE_NODES] = "nodes",
    [AIN_STORE_ARCHIVE] = "archive",         [AIN_STORE_KV_GET] = "kv_get",
    [AIN_STORE_KV_PUT] = "kv_put",           [AIN_STORE_KV_DELETE] = "kv_delete",
    [AIN_STORE_ARTIFACT_PUT] = "artifact_put", [AIN_STORE_ARTIFACT_GET] = "artifact_get",
    [AIN_STORE_PLAN_COMMIT] = "plan_commit", [AIN_STORE_PLANNED_LIST] = "planned_list",
    [AIN_STORE_TRENDS_LIST] = "trends_list", [AIN_STORE_SCRIPT_PUT] = "script_put",
    [AIN_STORE_SCRIPT_GET] = "script_get",   [AIN_STORE_SCRIPT_LIST] = "script_list",
    [AIN_STORE_SCRIPT_PIN] = "script_pin",   [AIN_STORE_VIDEO_JUDGED] = "video_judged",
    [AIN_STORE_REVIEW_LIST] = "review_list", [AIN_STORE_REVIEW_DECIDE] = "review_decide",
    [AIN_STORE_RECEIPT_PUT] = "receipt_put", [AIN_STORE_SETTING] = "setting",
    [AIN_STORE_PURGE] = "purge",             [AIN_STORE_WEDGE] = "wedge",
    [AIN_STORE_RETRY] = "retry",             [AIN_STORE_METRICS] = "metrics",
    [AIN_STORE_PUBLISH_GUARD] = "publish_guard", [AIN_STORE_LIST_DAGS] = "list_dags",
    [AIN_STORE_VEC_PUT] = "vec_put",         [AIN_STORE_VEC_LOAD] = "vec_load",
    [AIN_STORE_SOURCE_PUT] = "source_put",   [AIN_STORE_SOURCE_LIST] = "source_list",
};

const char *ain_store_op_name(ain_store_op_t op) {
  return (unsigned)op < AIN_STORE_OP_COUNT && op_names[op] != NULL ? op_names[op] : "unknown";
}

void ain__store_observe(const ain_store_t *s, const ain_store_req_t *req) {
  if (req->submitted_ns == 0) {
    return;
  }
  const char *labels[2] = {s->backend->name, ain_store_op_name(req->op)};
  ain_obs_observe(AIN_M_STORE_TXN, labels, (double)(ain_mono_ns() - req->submitted_ns) / 1e9);
}

const char *ain_store_backend_name(const ain_store_t *s) {
  return s != NULL ? s->backend->name : "none";
}

void ain_store_on_wakeup(ain_store_t *s, void (*cb)(void *data), void *data) {
  s->wake_cb = cb;
  s->wake_data = data;
}

/* ---- validation ---------------------------------------------------------------------------- */

static int str_empty(const char *s) {
  return s == NULL || s[0] == '\0';
}

int ain_store_batch_check(const ain_store_batch_t *b, ain_err_t *err) {
  if (b == NULL) {
    return ain_err_field(err, AIN_EINVAL, "batch", "batch is NULL");
  }
  if (b->ntasks == 0 || b->tasks == NULL) {
    return ain_err_field(err, AIN_EINVAL, "batch.tasks", "batch has no tasks");
  }
  if (b->ndeps > 0 && b->deps == NULL) {
    return ain_err_field(err, AIN_EINVAL, "batch.deps", "batch.ndeps is %zu but deps is NULL",
                         b->ndeps);
  }
  if (b->dag != NULL && b->dag->id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "batch.dag.id", "DAG row has no id");
  }
  for (size_t i = 0; i < b->ntasks; i++) {
    const ain_task_t *t = &b->tasks[i];
    if (t->id[0] == '\0') {
      return ain_err_field(err, AIN_EINVAL, "tasks[].id", "task %zu has no id", i);
    }
    if (memchr(t->id, '\0', sizeof t->id) == NULL) {
      return ain_err_field(err, AIN_EINVAL, "tasks[].id", "task %zu: id is not terminated", i);
    }
    if (str_empty(t->type)) {
      return ain_err_field(err, AIN_EINVAL, "tasks[].type", "task %s has no type", t->id);
    }
  }
  for (size_t i = 0; i < b->ndeps; i++) {
    const ain_dep_t *d = &b->deps[i];
    if (str_empty(d->task_id) || str_empty(d->depends_on)) {
      return ain_err_field(err, AIN_EINVAL, "deps[]", "edge %zu lacks task_id or depends_on", i);
    }
    if (strcmp(d->task_id, d->depends_on) == 0) {
      return ain_err_field(err, AIN_EINVAL, "deps[]", "task %s depends on itself", d->task_id);
    }
  }
  return 0;
}

static int check_req(const ain_store_req_t *req, ain_err_t *err) {
  switch (req->op) {
  case AIN_STORE_MIGRATE:
  case AIN_STORE_REAP:
  case AIN_STORE_STATS:
    return 0;
  case AIN_STORE_ENQUEUE:
    return ain_store_batch_check(req->u.enqueue.batch, err);
  case AIN_STORE_CLAIM:
    if (str_empty(req->u.claim.owner)) {
      return ain_err_field(err, AIN_EINVAL, "owner", "claim needs an owner");
    }
    if (req->u.claim.max <= 0) {
      return ain_err_field(err, AIN_EINVAL, "max", "claim max must be > 0, got %d",
                           req->u.claim.max);
    }
    if (req->u.claim.lease_ms <= 0) {
      return ain_err_field(err, AIN_EINVAL, "lease_ms", "claim lease_ms must be > 0");
    }
    return 0;
  case AIN_STORE_FINISH:
    if (req->u.finish.items == NULL || req->u.finish.nitems == 0) {
      return ain_err_field(err, AIN_EINVAL, "items", "finish needs at least one item");
    }
    for (size_t i = 0; i < req->u.finish.nitems; i++) {
      const ain_finish_item_t *it = &req->u.finish.items[i];
      if (str_empty(it->task_id)) {
        return ain_err_field(err, AIN_EINVAL, "items[].task_id", "finish item %zu has no task_id",
                             i);
      }
      if ((unsigned)it->kind > AIN_FINISH_PARK) {
        return ain_err_field(err, AIN_EINVAL, "items[].kind", "finish item %zu: bad kind %d", i,
                             (int)it->kind);
      }
      if (it->spawn != NULL && it->kind != AIN_FINISH_SUCCEEDED) {
        return ain_err_field(err, AIN_EINVAL, "items[].spawn",
                             "finish item %zu: only a success may spawn work", i);
      }
      if (it->spawn != NULL) {
        int rc = ain_store_batch_check(it->spawn, err);
        if (rc != 0) {
          ain_err_prefix(err, "finish item %zu spawn", i);
          return rc;
        }
      }
    }
    return 0;
  case AIN_STORE_EXTEND:
    if (req->u.extend.items == NULL || req->u.extend.nitems == 0) {
      return ain_err_field(err, AIN_EINVAL, "items", "extend needs at least one item");
    }
    for (size_t i = 0; i < req->u.extend.nitems; i++) {
      if (str_empty(req->u.extend.items[i].task_id) ||
          (!req->u.extend.check_only && req->u.extend.items[i].lease_until <= 0)) {
        return ain_err_field(err, AIN_EINVAL, "items[]",
                             "extend item %zu needs task_id and lease_until", i);
      }
    }
    return 0;
  case AIN_STORE_CANCEL:
    if (str_empty(req->u.cancel.task_id) == str_empty(req->u.cancel.dag_id)) {
      return ain_err_set(err, AIN_EINVAL, "cancel needs exactly one of task_id and dag_id");
    }
    return 0;
  case AIN_STORE_GET_TASK:
    return str_empty(req->u.get_task.id) ? ain_err_field(err, AIN_EINVAL, "id", "task id is empty")
                                         : 0;
  case AIN_STORE_GET_DAG:
    return str_empty(req->u.get_dag.id) ? ain_err_field(err, AIN_EINVAL, "id", "dag id is empty")
                                        : 0;
  case AIN_STORE_AUDIT:
    if (req->u.audit.tail) {
      if (req->u.audit.operator_rows || req->u.audit.handler != NULL ||
          !str_empty(req->u.audit.task_id) || !str_empty(req->u.audit.dag_id)) {
        return ain_err_set(err, AIN_EINVAL, "a tail reads by id alone");
      }
      if (req->u.audit.after_id < 0 || req->u.audit.upto_id < 0 || req->u.audit.limit < 0) {
        return ain_err_field(err, AIN_EINVAL, "after_id",
                             "after_id, upto_id and limit must be >= 0");
      }
      if (req->u.audit.nalso > AIN_STORE_AUDIT_ALSO_MAX ||
          (req->u.audit.nalso > 0 && req->u.audit.also_ids == NULL)) {
        return ain_err_field(err, AIN_EINVAL, "also_ids", "at most %d ids to re-read",
                             AIN_STORE_AUDIT_ALSO_MAX);
      }
      return 0;
    }
    if (req->u.audit.handler != NULL) {
      if (req->u.audit.operator_rows || !str_empty(req->u.audit.task_id) ||
          !str_empty(req->u.audit.dag_id)) {
        return ain_err_set(err, AIN_EINVAL, "decision rows are chosen by handler alone");
      }
      if (str_empty(req->u.audit.handler)) {
        return ain_err_field(err, AIN_EINVAL, "handler", "handler is empty");
      }
      if (req->u.audit.limit < 0) {
        return ain_err_field(err, AIN_EINVAL, "limit", "limit must be >= 0, got %d",
                             req->u.audit.limit);
      }
      return 0;
    }
    if (req->u.audit.operator_rows) {
      if (!str_empty(req->u.audit.task_id) || !str_empty(req->u.audit.dag_id)) {
        return ain_err_set(err, AIN_EINVAL, "operator audit rows belong to no task and no DAG");
      }
      if (req->u.audit.limit < 0) {
        return ain_err_field(err, AIN_EINVAL, "limit", "limit must be >= 0, got %d",
                             req->u.audit.limit);
      }
      return 0;
    }
    if (str_empty(req->u.audit.task_id) == str_empty(req->u.audit.dag_id)) {
      return ain_err_set(err, AIN_EINVAL, "audit needs exactly one of task_id and dag_id");
    }
    return 0;
  case AIN_STORE_LIST_TASKS:
    if (req->u.list.status < -1 || req->u.list.status >= AIN_TASK_STATUS_COUNT) {
      return ain_err_field(err, AIN_EINVAL, "status", "bad status filter %d", req->u.list.status);
    }
    if (req->u.list.limit < 0) {
      return ain_err_field(err, AIN_EINVAL, "limit", "limit must be >= 0, got %d",
                           req->u.list.limit);
    }
    return 0;
  case AIN_STORE_LIST_DAGS:
    if (req->u.list_dags.status < -1 || req->u.list_dags.status >= AIN_DAG_STATUS_COUNT) {
      return ain_err_field(err, AIN_EINVAL, "status", "bad DAG status filter %d",
                           req->u.list_dags.status);
    }
    if (req->u.list_dags.limit < 0) {
      return ain_err_field(err, AIN_EINVAL, "limit", "limit must be >= 0, got %d",
                           req->u.list_dags.limit);
    }
    if (req->u.list_dags.persona_id != NULL && req->u.list_dags.persona_id[0] == '\0') {
      return ain_err_field(err, AIN_EINVAL, "persona_id", "persona_id filter is empty");
    }
    return 0;
  case AIN_STORE_RETRY:
    return str_empty(req->u.retry.task_id)
               ? ain_err_field(err, AIN_EINVAL, "task_id", "retry needs a task id")
               : 0;
  case AIN_STORE_NODE_BEAT:
  case AIN_STORE_NODES:
  case AIN_STORE_ARCHIVE:
    return ain__store_nodes_check(req, err);
  case AIN_STORE_SOURCE_PUT:
  case AIN_STORE_SOURCE_LIST:
    return ain__store_source_check(req, err);
  case AIN_STORE_KV_GET:
  case AIN_STORE_KV_PUT:
  case AIN_STORE_KV_DELETE:
    return ain__store_kv_check(req, err);
  case AIN_STORE_VEC_PUT:
  case AIN_STORE_VEC_LOAD:
    return ain__store_vec_check(req, err);
  case AIN_STORE_VIDEO_JUDGED:
  case AIN_STORE_REVIEW_LIST:
  case AIN_STORE_REVIEW_DECIDE:
  case AIN_STORE_RECEIPT_PUT:
  case AIN_STORE_SETTING:
    return ain__store_review_check(req, err);
  case AIN_STORE_SCRIPT_PUT:
  case AIN_STORE_SCRIPT_GET:
  case AIN_STORE_SCRIPT_LIST:
  case AIN_STORE_SCRIPT_PIN:
    return ain__store_scripts_check(req, err);
  case AIN_STORE_ARTIFACT_PUT:
  case AIN_STORE_ARTIFACT_GET:
  case AIN_STORE_PLAN_COMMIT:
  case AIN_STORE_PLANNED_LIST:
  case AIN_STORE_TRENDS_LIST:
    return ain__store_media_check(req, err);
  case AIN_STORE_PURGE:
    return ain__store_purge_check(req, err);
  case AIN_STORE_WEDGE:
    return ain__store_wedge_check(req, err);
  case AIN_STORE_METRICS:
    return req->u.metrics != NULL
               ? 0
               : ain_err_field(err, AIN_EINVAL, "metrics", "metrics request without its struct");
  case AIN_STORE_PUBLISH_GUARD:
    return ain__store_guard_check(req, err);
  default:
    return ain_err_field(err, AIN_EINVAL, "op", "unknown store op %d", (int)req->op);
  }
}

int ain_store_submit(ain_store_t *s, ain_store_req_t *req) {
  if (s == NULL || req == NULL) {
    return AIN_EINVAL;
  }
  req->status = 0;
  req->done = 0;
  req->next_ = NULL;
  req->submitted_ns = ain_mono_ns();
  ain_err_clear(&req->err);
  int rc = check_req(req, &req->err);
  if (rc != 0) {
    req->status = rc;
    return rc;
  }
  return s->backend->submit(s, req);
}

int ain_store_snapshot(ain_store_t *s, int hold) {
  if (s == NULL || s->backend->snapshot == NULL) {
    return hold ? 1 : 0;
  }
  return s->backend->snapshot(s, hold);
}

int ain_store_wait(ain_store_t *s, ain_store_req_t *req) {
  int rc = ain_store_submit(s, req);
  if (rc != 0) {
    req->status = rc;
    req->done = 1;
    return rc;
  }
  if (s->backend->deliver_now != NULL) {
    s->backend->deliver_now(s); /* SQLite: done already; no epoll_wait for it */
  }
  while (!req->done) {
    if (uv_run(s->loop, UV_RUN_ONCE) == 0 && !req->done) {
      /* Nothing left that could complete it: report rather than spin. */
      req->status = ain_err_set(&req->err, AIN_EIO, "store loop stopped before the request ended");
      req->done = 1;
    }
  }
  return req->status;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void req_init(ain_store_req_t *req, ain_store_op_t op) {
  memset(req, 0, sizeof *req);
  req->op = op;
}

void ain_store_req_migrate(ain_store_req_t *req) {
  req_init(req, AIN_STORE_MIGRATE);
}

void ain_store_req_migrate_status(ain_store_req_t *req) {
  req_init(req, AIN_STORE_MIGRATE);
  req->u.migrate.check_only = 1;
}

void ain_store_req_enqueue(ain_store_req_t *req, const ain_store_batch_t *batch) {
  req_init(req, AIN_STORE_ENQUEUE);
  req->u.enqueue.batch = batch;
}

void ain_store_req_claim(ain_store_req_t *req, const char *owner, int max, int64_t lease_ms) {
  req_init(req, AIN_STORE_CLAIM);
  req->u.claim.owner = owner;
  req->u.claim.max = max;
  req->u.claim.lease_ms = lease_ms;
}

void ain_store_req_finish(ain_store_req_t *req, ain_finish_item_t *items, size_t n) {
  req_init(req, AIN_STORE_FINISH);
  req->u.finish.items = items;
  req->u.finish.nitems = n;
}

void ain_store_req_extend(ain_store_req_t *req, ain_extend_item_t *items, size_t n) {
  req_init(req, AIN_STORE_EXTEND);
  req->u.extend.items = items;
  req->u.extend.nitems = n;
}

void ain_store_req_lease_check(ain_store_req_t *req, ain_extend_item_t *items, size_t n) {
  ain_store_req_extend(req, items, n);
  req->u.extend.check_only = 1;
}

void ain_store_req_reap(ain_store_req_t *req) {
  req_init(req, AIN_STORE_REAP);
}

void ain_store_req_cancel(ain_store_req_t *req, const char *task_id, const char *dag_id,
                          const char *reason) {
  req_init(req, AIN_STORE_CANCEL);
  req->u.cancel.task_id = task_id;
  req->u.cancel.dag_id = dag_id;
  req->u.cancel.reason = reason;
}

void ain_store_req_get_task(ain_store_req_t *req, const char *id) {
  req_init(req, AIN_STORE_GET_TASK);
  req->u.get_task.id = id;
}

void ain_store_req_get_dag(ain_store_req_t *req, const char *id) {
  req_init(req, AIN_STORE_GET_DAG);
  req->u.get_dag.id = id;
}

void ain_store_req_audit(ain_store_req_t *req, const char *task_id, const char *dag_id) {
  req_init(req, AIN_STORE_AUDIT);
  req->u.audit.task_id = task_id;
  req->u.audit.dag_id = dag_id;
}

void ain_store_req_audit_decisions(ain_store_req_t *req, const char *handler, int64_t since,
                                   int limit) {
  req_init(req, AIN_STORE_AUDIT);
  req->u.audit.handler = handler;
  req->u.audit.since = since;
  req->u.audit.limit = limit;
}

void ain_store_req_audit_tail(ain_store_req_t *req, int64_t after_id, int64_t upto_id,
                              const int64_t *also_ids, size_t nalso, int limit) {
  req_init(req, AIN_STORE_AUDIT);
  req->u.audit.tail = 1;
  req->u.audit.after_id = after_id;
  req->u.audit.upto_id = upto_id;
  req->u.audit.also_ids = also_ids;
  req->u.audit.nalso = nalso;
  req->u.audit.limit = limit;
}

void ain_store_req_audit_newest(ain_store_req_t *req) {
  req_init(req, AIN_STORE_AUDIT);
  req->u.audit.tail = 2;
}

void ain_store_req_audit_operator(ain_store_req_t *req, int limit) {
  req_init(req, AIN_STORE_AUDIT);
  req->u.audit.operator_rows = 1;
  req->u.audit.limit = limit;
}

void ain_store_req_stats(ain_store_req_t *req) {
  req_init(req, AIN_STORE_STATS);
}

void ain_store_req_open_work(ain_store_req_t *req) {
  req_init(req, AIN_STORE_STATS);
  req->u.stats.open_only = 1;
}

void ain_store_req_retry(ain_store_req_t *req, const char *task_id) {
  req_init(req, AIN_STORE_RETRY);
  req->u.retry.task_id = task_id;
}

void ain_store_req_list_dags(ain_store_req_t *req, int status, const char *persona_id, int limit) {
  req_init(req, AIN_STORE_LIST_DAGS);
  req->u.list_dags.status = status;
  req->u.list_dags.persona_id = persona_id;
  req->u.list_dags.limit = limit;
}

void ain_store_req_list(ain_store_req_t *req, int status, const char *dag_id, int limit) {
  req_init(req, AIN_STORE_LIST_TASKS);
  req->u.list.status = status;
  req->u.list.dag_id = dag_id;
  req->u.list.limit = limit;
}

/* ---- ownership ----------------------------------------------------------------------------- */

void ain_dag_free(ain_dag_t *d) {
  if (d == NULL) {
    return;
  }
  free(d->persona_id);
  free(d->last_error);
  d->persona_id = NULL;
  d->last_error = NULL;
}

static void free_tasks(ain_task_t **tasks, size_t *n) {
  for (size_t i = 0; *tasks != NULL && i < *n; i++) {
    ain_task_free(&(*tasks)[i]);
  }
  free(*tasks);
  *tasks = NULL;
  *n = 0;
}

void ain_store_req_cleanup(ain_store_req_t *req) {
  if (req == NULL) {
    return;
  }
  switch (req->op) {
  case AIN_STORE_CLAIM:
    free_tasks(&req->u.claim.tasks, &req->u.claim.ntasks);
    break;
  case AIN_STORE_GET_TASK:
    ain_task_free(&req->u.get_task.task);
    memset(&req->u.get_task.task, 0, sizeof req->u.get_task.task);
    break;
  case AIN_STORE_GET_DAG:
    ain_dag_free(&req->u.get_dag.dag);
    memset(&req->u.get_dag.dag, 0, sizeof req->u.get_dag.dag);
    free_tasks(&req->u.get_dag.tasks, &req->u.get_dag.ntasks);
    for (size_t i = 0; req->u.get_dag.deps != NULL && i < req->u.get_dag.ndeps; i++) {
      /* Output edges own their strings (see store.h): the const is for the input direction. */
      free((char *)req->u.get_dag.deps[i].task_id);
      free((char *)req->u.get_dag.deps[i].depends_on);
    }
    free(req->u.get_dag.deps);
    req->u.get_dag.deps = NULL;
    req->u.get_dag.ndeps = 0;
    break;
  case AIN_STORE_AUDIT:
    for (size_t i = 0; req->u.audit.rows != NULL && i < req->u.audit.nrows; i++) {
      ain_audit_t *a = &req->u.audit.rows[i];
      free(a->task_id);
      free(a->dag_id);
      free(a->actor);
      free(a->from_status);
      free(a->to_status);
      free(a->detail);
      free(a->task_type);
    }
    free(req->u.audit.rows);
    req->u.audit.rows = NULL;
    req->u.audit.nrows = 0;
    break;
  case AIN_STORE_LIST_TASKS:
    free_tasks(&req->u.list.tasks, &req->u.list.ntasks);
    break;
  case AIN_STORE_LIST_DAGS:
    for (size_t i = 0; req->u.list_dags.dags != NULL && i < req->u.list_dags.ndags; i++) {
      ain_dag_free(&req->u.list_dags.dags[i]);
    }
    free(req->u.list_dags.dags);
    req->u.list_dags.dags = NULL;
    req->u.list_dags.ndags = 0;
    break;
  case AIN_STORE_NODES:
    ain__store_nodes_cleanup(req);
    break;
  case AIN_STORE_SOURCE_LIST:
    ain__store_source_cleanup(req);
    break;
  case AIN_STORE_VIDEO_JUDGED:
  case AIN_STORE_REVIEW_LIST:
  case AIN_STORE_REVIEW_DECIDE:
  case AIN_STORE_RECEIPT_PUT:
  case AIN_STORE_SETTING:
    ain__store_review_cleanup(req);
    break;
  case AIN_STORE_SCRIPT_GET:
  case AIN_STORE_SCRIPT_LIST:
    ain__store_scripts_cleanup(req);
    break;
  case AIN_STORE_VEC_LOAD:
    ain__store_vec_cleanup(req);
    break;
  case AIN_STORE_KV_GET:
    free(req->u.kv.out_value);
    req->u.kv.out_value = NULL;
    break;
  case AIN_STORE_ARTIFACT_GET:
  case AIN_STORE_PLANNED_LIST:
  case AIN_STORE_TRENDS_LIST:
    ain__store_media_cleanup(req);
    break;
  case AIN_STORE_PURGE:
    ain__store_purge_cleanup(req);
    break;
  case AIN_STORE_METRICS:
    ain__store_metrics_cleanup(req);
    break;
  default:
    break;
  }
}
