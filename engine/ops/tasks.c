/* Task operations (tasks.h): enqueue, show, list, retry, cancel, stats.
 * Relies on: ops.h, store/store.h, message/message.h, lua/personas.h, privacy/privacy.h. */
#include "ops/tasks.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "lua/personas.h"
#include "message/message.h"
#include "privacy/privacy.h"
#include "sched/step.h"

/* ---- enqueue --------------------------------------------------------------------------------- */

/* The personas a batch names, each checked once (a check compiles and runs the file). */
typedef struct {
  ain_lua_check_opts_t opts;
  char **ok; /* ids found valid */
  size_t n, cap;
} persona_cache_t;

/* Personas found valid by any batch in this process, with the identity of the file then: a check
 * builds a Lua state, compiles and runs the file, and closes the state (about a millisecond, more
 * than the rest of a 100-task batch), so a file that has not changed since it passed is not
 * checked again. Any change (an edit, a rename over it, a touch) makes the next batch check it.
 * Invalid results are never kept: a refusal is always fresh. */
#define PASSED_MAX 64
static struct {
  char dir[512], id[AIN_MESSAGE_PERSONA_MAX + 1];
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime, ctime;
} passed[PASSED_MAX];
static size_t npassed, passed_next;
static pthread_mutex_t passed_mu = PTHREAD_MUTEX_INITIALIZER;

static int persona_stat(const char *dir, const char *id, struct stat *st) {
  char path[4400];
  if (!ain_message_persona_id_valid(id)) {
    return -1;
  }
  snprintf(path, sizeof path, "%s/personas/%s.lua", dir, id);
  return stat(path, st);
}

static int same_file(const struct stat *st, size_t i) {
  return passed[i].dev == st->st_dev && passed[i].ino == st->st_ino &&
         passed[i].size == st->st_size && passed[i].mtime.tv_sec == st->st_mtim.tv_sec &&
         passed[i].mtime.tv_nsec == st->st_mtim.tv_nsec &&
         passed[i].ctime.tv_sec == st->st_ctim.tv_sec &&
         passed[i].ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* 1 when dir/personas/id.lua passed a check and is the same file now (stat in *st either way). */
static int passed_before(const char *dir, const char *id, struct stat *st, int *have_st) {
  *have_st = persona_stat(dir, id, st) == 0;
  int hit = 0;
  pthread_mutex_lock(&passed_mu);
  for (size_t i = 0; *have_st && i < npassed && !hit; i++) {
    hit = strcmp(passed[i].id, id) == 0 && strcmp(passed[i].dir, dir) == 0 && same_file(st, i);
  }
  pthread_mutex_unlock(&passed_mu);
  return hit;
}

static void remember_passed(const char *dir, const char *id, const struct stat *st) {
  if (strlen(dir) >= sizeof passed[0].dir || strlen(id) >= sizeof passed[0].id) {
    return;
  }
  pthread_mutex_lock(&passed_mu);
  size_t i = 0;
  while (i < npassed && !(strcmp(passed[i].id, id) == 0 && strcmp(passed[i].dir, dir) == 0)) {
    i++;
  }
  if (i == npassed) {
    i = npassed < PASSED_MAX ? npassed++ : passed_next++ % PASSED_MAX;
  }
  snprintf(passed[i].dir, sizeof passed[i].dir, "%s", dir);
  snprintf(passed[i].id, sizeof passed[i].id, "%s", id);
  passed[i].dev = st->st_dev, passed[i].ino = st->st_ino, passed[i].size = st->st_size;
  passed[i].mtime = st->st_mtim, passed[i].ctime = st->st_ctim;
  pthread_mutex_unlock(&passed_mu);
}

static int check_persona(void *data, const ain_task_t *t, ain_err_t *err) {
  persona_cache_t *pc = data;
  for (size_t i = 0; i < pc->n; i++) {
    if (strcmp(pc->ok[i], t->persona_id) == 0) {
      return 0;
    }
  }
  struct stat st;
  int have_st = 0;
  const char *dir = pc->opts.scripts_dir ? pc->opts.scripts_dir : "";
  if (!passed_before(dir, t->persona_id, &st, &have_st)) {
    /* st was taken before the check: a change while it runs makes the next batch check again */
    int rc = ain_lua_persona_check(NULL, NULL, &pc->opts, t->persona_id, err);
    if (rc != 0) {
      return rc;
    }
    if (have_st) {
      remember_passed(dir, t->persona_id, &st);
    }
  }
  if (pc->n == pc->cap) {
    size_t cap = pc->cap ? pc->cap * 2 : 8;
    char **g = realloc(pc->ok, cap * sizeof *g);
    if (g == NULL) {
      return 0; /* checked already; only the cache did not grow */
    }
    pc->ok = g;
    pc->cap = cap;
  }
  pc->ok[pc->n++] = ain_strdup(t->persona_id);
  return 0;
}

/* Replaces PII in every payload by its token (privacy/privacy.h), before anything is stored. */
static int scrub_payloads(const ain_config_t *cfg, ain_ops_batch_t *b, ain_err_t *err) {
  ain_privacy_t *priv = NULL;
  int rc = ain_privacy_open(cfg->secrets_dir, &priv, err);
  ain_privacy_stats_t st = {0};
  for (size_t i = 0; rc == 0 && i < b->ntasks; i++) {
    rc = ain_privacy_scrub_json(priv, &b->tasks[i].payload, &st, err);
  }
  b->pii_replaced = (long long)st.total;
  b->pii_keyed = priv != NULL && ain_privacy_keyed(priv);
  ain_privacy_free(priv);
  return rc;
}

/* A task id and where it is in the batch, sorted by id then index to find repeats in n log n. */
typedef struct {
  const char *id;
  size_t i;
} id_at_t;

static int cmp_id_at(const void *a, const void *b) {
  const id_at_t *x = a, *y = b;
  int c = strcmp(x->id, y->id);
  return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

/* One task_id twice in a batch would reach the store as a duplicate key (a raw EEXIST, or worse,
 * a message silently merged into another): refuse it first, naming the first repeat in batch
 * order and the message it repeats. */
static int refuse_repeated_ids(const ain_ops_batch_t *b, ain_err_t *err) {
  if (b->ntasks < 2) {
    return 0;
  }
  id_at_t *v = malloc(b->ntasks * sizeof *v);
  if (v == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < b->ntasks; i++) {
    v[i] = (id_at_t){b->tasks[i].id, i};
  }
  qsort(v, b->ntasks, sizeof *v, cmp_id_at);
  size_t first = 0, repeat = SIZE_MAX;
  for (size_t k = 1, start = 0; k < b->ntasks; k++) {
    if (strcmp(v[k].id, v[start].id) != 0) {
      start = k;
    } else if (k == start + 1 && v[k].i < repeat) {
      first = v[start].i; /* the group's first occurrence and its earliest repeat */
      repeat = v[k].i;
    }
  }
  free(v);
  if (repeat == SIZE_MAX) {
    return 0;
  }
  char field[48];
  snprintf(field, sizeof field, "[%zu].task_id", repeat);
  return ain_err_field(err, AIN_EINVAL, field,
                       "message %zu: tasks[%zu].task_id duplicates tasks[%zu] (task_id %s); a "
                       "batch names each task once",
                       repeat, repeat, first, b->tasks[repeat].id);
}

int ain_ops_enqueue_prepare(const ain_config_t *cfg, const char *buf, size_t len,
                            const char *source, ain_ops_batch_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  persona_cache_t pc = {.opts = {.scripts_dir = cfg->scripts_dir,
                                 .mem_limit = (size_t)cfg->lua.mem_limit_mb << 20,
                                 .cpu_budget = (uint64_t)cfg->lua.cpu_budget,
                                 .allow_ffi = cfg->lua.allow_ffi}};
  /* Validate everything before anything is stored: one bad message refuses the input. */
  int rc =
      ain_message_parse_tasks(buf, len, check_persona, &pc, &out->tasks, &out->ntasks, NULL, err);
  for (size_t i = 0; i < pc.n; i++) {
    free(pc.ok[i]);
  }
  free(pc.ok);
  if (rc != 0) {
    goto fail;
  }
  if (out->ntasks == 0) {
    rc = ain_err_set(err, AIN_ESCHEMA, "%s: no task message found", source ? source : "input");
    goto fail;
  }
  if ((rc = refuse_repeated_ids(out, err)) != 0) {
    goto fail;
  }
  for (size_t i = 0; i < out->ntasks; i++) {
    ain_task_defaults(&out->tasks[i], cfg->queue.default_max_attempts);
  }
  if ((rc = scrub_payloads(cfg, out, err)) != 0) {
    goto fail;
  }
  return 0;
fail:
  ain_ops_batch_free(out);
  return rc;
}

/* Same content as far as a sender controls it: what the message said, not what the engine has
 * done with the task since (status, attempts, versions). Payloads compare as JSON values. */
static int same_content(const ain_task_t *a, const ain_task_t *b) {
  if (strcmp(a->type ? a->type : "", b->type ? b->type : "") != 0 ||
      strcmp(a->persona_id ? a->persona_id : "", b->persona_id ? b->persona_id : "") != 0 ||
      a->priority != b->priority || a->max_attempts != b->max_attempts ||
      strcmp(a->dag_id, b->dag_id) != 0 || (a->run_at > 0 && a->run_at != b->run_at)) {
    return 0;
  }
  cJSON *pa = cJSON_Parse(a->payload ? a->payload : "{}");
  cJSON *pb = cJSON_Parse(b->payload ? b->payload : "{}");
  int same = pa != NULL && pb != NULL && cJSON_Compare(pa, pb, 1);
  cJSON_Delete(pa);
  cJSON_Delete(pb);
  return same;
}

/* Marks in fresh[i] the tasks not stored yet; a stored one with other content is a conflict. */
static int sort_existing(ain_ops_t *ops, const ain_ops_batch_t *b, char *fresh, size_t *nfresh,
                         ain_err_t *err) {
  *nfresh = 0;
  for (size_t i = 0; i < b->ntasks; i++) {
    ain_task_t old;
    ain_err_t e;
    ain_err_clear(&e);
    int rc = ain_ops_task_get(ops, b->tasks[i].id, &old, &e);
    if (rc == AIN_ENOTFOUND) {
      fresh[i] = 1;
      (*nfresh)++;
      continue;
    }
    if (rc != 0) {
      *err = e;
      return rc;
    }
    int same = same_content(&b->tasks[i], &old);
    ain_task_free(&old);
    fresh[i] = 0;
    if (!same) {
      char field[48];
      snprintf(field, sizeof field, "[%zu].task_id", i);
      return ain_err_field(err, AIN_ECONFLICT, field,
                           "message %zu: task %s already exists with other content", i,
                           b->tasks[i].id);
    }
  }
  return 0;
}

int ain_ops_enqueue_commit(ain_ops_t *ops, const ain_ops_batch_t *b, const char *actor,
                           size_t *existing, ain_err_t *err) {
  char *fresh = malloc(b->ntasks ? b->ntasks : 1);
  ain_task_t *todo = malloc((b->ntasks ? b->ntasks : 1) * sizeof *todo);
  int rc = 0;
  size_t nfresh = 0;
  if (fresh == NULL || todo == NULL) {
    rc = ain_err_set(err, AIN_ENOMEM, "out of memory");
    goto fail;
  }
  /* First the insert alone: a batch of new ids (the common case) needs no look at each id. The
   * insert is one transaction, so an id already stored refuses all of it (EEXIST) and nothing
   * is stored; only then is each id looked up. */
  {
    ain_store_batch_t batch = {.tasks = b->tasks, .ntasks = b->ntasks};
    ain_store_req_t req;
    ain_store_req_enqueue(&req, &batch);
    ain_err_t e;
    ain_err_clear(&e);
    rc = ain_ops_wait(ops, &req, actor, &e);
    ain_store_req_cleanup(&req);
    if (rc != AIN_EEXIST) {
      if (rc != 0) {
        *err = e;
      }
      nfresh = b->ntasks;
      goto done;
    }
  }
  /* Two tries: a concurrent sender may store one of these ids between the check and the insert
   * (the insert then refuses with EEXIST, and the second look sorts it out). */
  for (int attempt = 0; attempt < 2; attempt++) {
    if ((rc = sort_existing(ops, b, fresh, &nfresh, err)) != 0) {
      goto fail;
    }
    if (nfresh == 0) {
      break;
    }
    size_t k = 0;
    for (size_t i = 0; i < b->ntasks; i++) {
      if (fresh[i]) {
        todo[k++] = b->tasks[i]; /* shallow: the batch keeps owning the strings */
      }
    }
    ain_store_batch_t batch = {.tasks = todo, .ntasks = k};
    ain_store_req_t req;
    ain_store_req_enqueue(&req, &batch);
    rc = ain_ops_wait(ops, &req, actor, err);
    ain_store_req_cleanup(&req);
    if (rc != AIN_EEXIST) {
      break;
    }
  }
done:
  if (rc == 0 && existing != NULL) {
    *existing = b->ntasks - nfresh;
  }
fail:
  free(fresh);
  free(todo);
  return rc;
}

void ain_ops_batch_free(ain_ops_batch_t *b) {
  for (size_t i = 0; b->tasks != NULL && i < b->ntasks; i++) {
    ain_task_free(&b->tasks[i]);
  }
  free(b->tasks);
  b->tasks = NULL;
  b->ntasks = 0;
}

/* ---- one task -------------------------------------------------------------------------------- */

int ain_ops_task_get(ain_ops_t *ops, const char *id, ain_task_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (id == NULL || id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "task_id", "a task id is required");
  }
  ain_store_req_t req;
  ain_store_req_get_task(&req, id);
  int rc = ain_ops_wait(ops, &req, NULL, err);
  if (rc == 0) {
    *out = req.u.get_task.task; /* the request's strings move to the caller */
    memset(&req.u.get_task.task, 0, sizeof req.u.get_task.task);
  }
  ain_store_req_cleanup(&req);
  return rc;
}

char *ain_ops_task_handler(const ain_task_t *t) {
  if (t->handler != NULL) {
    return ain_strdup(t->handler);
  }
  return t->type != NULL ? ain_handler_for_type(t->type) : NULL;
}

/* ---- list ------------------------------------------------------------------------------------ */

int ain_ops_task_list(ain_ops_t *ops, const ain_ops_task_query_t *q, ain_ops_task_page_t *out,
                      ain_err_t *err) {
  memset(out, 0, sizeof *out);
  int status = -1;
  if (q->status != NULL && (status = ain_task_status_parse(q->status)) < 0) {
    return ain_err_field(err, AIN_EINVAL, "status",
                         "unknown task status '%.64s' (pending, ready, running, waiting, "
                         "succeeded, dead, cancelled)",
                         q->status);
  }
  if (q->type != NULL && !ain_ops_filter_ok(q->type)) {
    return ain_err_field(err, AIN_EINVAL, "type",
                         "type must be 1..128 printable characters without spaces");
  }
  if (q->dag_id != NULL && !ain_message_uuid7_valid(q->dag_id)) {
    return ain_err_field(err, AIN_EINVAL, "dag_id",
                         "dag_id must be a DAG id (a UUIDv7), got '%.64s'", q->dag_id);
  }
  if (q->limit < 0 || q->limit > AIN_OPS_LIST_MAX) {
    return ain_err_field(err, AIN_EINVAL, "limit", "limit must be 1..%d, got %d", AIN_OPS_LIST_MAX,
                         q->limit);
  }
  int limit = q->limit > 0 ? q->limit : AIN_OPS_LIST_DEFAULT;
  int64_t after_ts = 0;
  if (q->after != NULL && ain_ops_cursor_parse(q->after, &after_ts, out->after_, err) != 0) {
    return AIN_EINVAL;
  }
  ain_store_req_list(&out->req_, status, q->dag_id, limit);
  out->req_.u.list.type = q->type;
  if (q->after != NULL) {
    out->req_.u.list.after_created_at = after_ts;
    out->req_.u.list.after_id = out->after_;
  }
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc != 0) {
    ain_ops_task_page_free(out);
    return rc;
  }
  out->tasks = out->req_.u.list.tasks;
  out->ntasks = out->req_.u.list.ntasks;
  /* A full page may have a successor; the cursor names its last row. A page that came out
   * exactly full at the end of the table gives one empty page more, which says "" itself. */
  if (out->ntasks == (size_t)limit) {
    const ain_task_t *last = &out->tasks[out->ntasks - 1];
    ain_ops_cursor_format(last->created_at, last->id, out->next);
  }
  return 0;
}

void ain_ops_task_page_free(ain_ops_task_page_t *p) {
  if (p->req_.op != 0) {
    ain_store_req_cleanup(&p->req_);
  }
  memset(p, 0, sizeof *p);
}

cJSON *ain_ops_task_page_json(const ain_ops_task_page_t *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(o, "tasks");
  for (size_t i = 0; i < p->ntasks; i++) {
    const ain_task_t *t = &p->tasks[i];
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "task_id", t->id);
    ain_ops_json_opt_string(r, "type", t->type);
    cJSON_AddStringToObject(r, "status", ain_task_status_name(t->status));
    ain_ops_json_opt_string(r, "dag_id", t->dag_id);
    ain_ops_json_opt_string(r, "step", t->step);
    ain_ops_json_opt_string(r, "persona_id", t->persona_id);
    ain_json_add_int(r, "attempts", t->attempts);
    ain_json_add_int(r, "max_attempts", t->max_attempts);
    ain_json_add_int(r, "priority", t->priority);
    ain_json_add_int(r, "state_version", t->state_version);
    ain_json_add_int(r, "created_at", t->created_at);
    ain_json_add_int(r, "updated_at", t->updated_at);
    ain_ops_json_opt_string(r, "last_error", t->last_error);
    cJSON_AddItemToArray(arr, r);
  }
  ain_ops_json_opt_string(o, "next", p->next);
  return o;
}

/* ---- retry, cancel --------------------------------------------------------------------------- */

int ain_ops_task_retry(ain_ops_t *ops, const char *id, const char *actor, ain_ops_retry_t *out,
                       ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (id == NULL || id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "task_id", "a task id is required");
  }
  ain_store_req_t req;
  ain_store_req_retry(&req, id);
  int rc = ain_ops_wait(ops, &req, actor, err);
  if (rc == 0) {
    out->state_version = req.u.retry.new_version;
    out->attempts_before = req.u.retry.attempts_before;
    out->dag_reopened = req.u.retry.dag_reopened;
    out->revived = req.u.retry.revived;
  }
  ain_store_req_cleanup(&req);
  return rc;
}

cJSON *ain_ops_retry_json(const char *id, const ain_ops_retry_t *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "task_id", id);
  cJSON_AddStringToObject(o, "status", "ready");
  cJSON_AddNumberToObject(o, "state_version", (double)r->state_version);
  cJSON_AddNumberToObject(o, "attempts_before", r->attempts_before);
  cJSON_AddBoolToObject(o, "dag_reopened", r->dag_reopened);
  cJSON_AddNumberToObject(o, "revived", r->revived);
  return o;
}

int ain_ops_cancel(ain_ops_t *ops, const char *id, const char *reason, const char *actor,
                   int *cancelled, ain_err_t *err) {
  *cancelled = 0;
  if (id == NULL || id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "id", "a task or DAG id is required");
  }
  if (reason == NULL) {
    reason = "cancelled by operator";
  }
  /* A DAG id first; otherwise a task. */
  ain_store_req_t req;
  ain_store_req_cancel(&req, NULL, id, reason);
  int rc = ain_ops_wait(ops, &req, actor, err);
  if (rc == AIN_ENOTFOUND) {
    ain_store_req_cleanup(&req);
    ain_err_clear(err);
    ain_store_req_cancel(&req, id, NULL, reason);
    rc = ain_ops_wait(ops, &req, actor, err);
  }
  if (rc == 0) {
    *cancelled = req.u.cancel.cancelled;
  }
  ain_store_req_cleanup(&req);
  return rc;
}

/* ---- stats ----------------------------------------------------------------------------------- */

int ain_ops_stats(ain_ops_t *ops, ain_store_stats_t *out, ain_err_t *err) {
  ain_store_req_t req;
  ain_store_req_stats(&req);
  int rc = ain_ops_wait(ops, &req, NULL, err);
  if (rc == 0) {
    *out = req.u.stats.stats;
  }
  ain_store_req_cleanup(&req);
  return rc;
}

cJSON *ain_ops_stats_json(const ain_store_stats_t *s) {
  cJSON *o = cJSON_CreateObject();
  cJSON *t = cJSON_AddObjectToObject(o, "tasks");
  for (int i = 0; i < AIN_TASK_STATUS_COUNT; i++) {
    cJSON_AddNumberToObject(t, ain_task_status_name(i), (double)s->tasks[i]);
  }
  cJSON *d = cJSON_AddObjectToObject(o, "dags");
  for (int i = 0; i < AIN_DAG_STATUS_COUNT; i++) {
    cJSON_AddNumberToObject(d, ain_dag_status_name(i), (double)s->dags[i]);
  }
  return o;
}
