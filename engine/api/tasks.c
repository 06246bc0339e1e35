/* Task endpoints: GET /v1/tasks (filters, keyset pages, newest first; a generic ops job of
 * opjob.c, like GET /v1/dags), GET /v1/tasks/{id}, and POST /v1/tasks/{id}/cancel. Each parses
 * its input here (path id, query, body) and runs the ops layer's function (engine/ops/tasks.h, the
 * same one `ain task list|show` and `ain cancel` call) on a worker; the response is sent from the
 * server's loop when it is done.
 * Relies on: internal.h (work.c, respond.c, opjob.c), ops/tasks.h, message/message.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "message/message.h"
#include "ops/tasks.h"

typedef enum { TASK_SHOW, TASK_CANCEL } task_op_t;

typedef struct {
  ain__api_job_t job;
  ain__api_defer_t defer;
  task_op_t op;
  char id[AIN_UUID_LEN + 1];
  char actor[192];
  char reason[512];
  int has_reason;
  int rc;
  ain_err_t err;
  cJSON *out;
  char *text; /* out printed on the worker (TASK_SHOW) */
} task_job_t;

/* A task or DAG id as the store writes them: a UUID (36 of hex digits and dashes). */
static int id_ok(h2o_iovec_t v) {
  if (v.len != AIN_UUID_LEN) {
    return 0;
  }
  for (size_t i = 0; i < v.len; i++) {
    char c = v.base[i];
    if (!(isxdigit((unsigned char)c) || (c == '-' && (i == 8 || i == 13 || i == 18 || i == 23)))) {
      return 0;
    }
  }
  return 1;
}

/* One row as the list shows it (the ops layer's builder), with the task message and handler. */
static cJSON *task_json(const ain_task_t *t, ain_err_t *err) {
  ain_ops_task_page_t one;
  memset(&one, 0, sizeof one);
  one.tasks = t;
  one.ntasks = 1;
  cJSON *page = ain_ops_task_page_json(&one);
  cJSON *row = cJSON_DetachItemFromArray(cJSON_GetObjectItem(page, "tasks"), 0);
  cJSON_Delete(page);
  char *msg = NULL;
  if (row != NULL && ain_message_task_to_json_ex(t, &msg, err) == 0) {
    /* our own serializer's text, valid JSON: printed as it is, not parsed into a tree again */
    cJSON_AddItemToObject(row, "message", cJSON_CreateRaw(msg));
  }
  free(msg);
  char *handler = ain_ops_task_handler(t);
  if (row != NULL) {
    cJSON_AddItemToObject(row, "handler",
                          handler ? cJSON_CreateString(handler) : cJSON_CreateNull());
  }
  free(handler);
  return row;
}

static void task_run(ain__api_job_t *job, ain__api_worker_t *w) {
  task_job_t *j = (task_job_t *)job;
  ain_err_clear(&j->err);
  if (!w->ops_open) {
    j->rc = ain_err_set(&j->err, AIN_ESTORE, "no store handle: %s", w->open_err.msg);
    return;
  }
  if (j->op == TASK_SHOW) {
    ain_task_t t;
    memset(&t, 0, sizeof t);
    j->rc = ain_ops_task_get(&w->ops, j->id, &t, &j->err);
    if (j->rc == 0) {
      /* Printed here, not on the server's loop: the printing is most of this request's CPU
       * after the read, and the tree is freed by the thread whose allocator made it. */
      cJSON *out = task_json(&t, &j->err);
      ain_task_free(&t);
      j->text = cJSON_PrintUnformatted(out);
      cJSON_Delete(out);
    }
  } else {
    int cancelled = 0;
    j->rc = ain_ops_cancel(&w->ops, j->id, j->has_reason ? j->reason : NULL, j->actor, &cancelled,
                           &j->err);
    if (j->rc == 0) {
      j->out = cJSON_CreateObject();
      cJSON_AddStringToObject(j->out, "id", j->id);
      cJSON_AddNumberToObject(j->out, "cancelled", cancelled);
    }
  }
}

static void task_done(ain__api_job_t *job, int cancelled) {
  task_job_t *j = (task_job_t *)job;
  h2o_req_t *req = ain__api_defer_take(&j->defer);
  if (req != NULL) {
    if (cancelled) {
      ain__api_send_error(req, "ESHUTDOWN", NULL, "the server is shutting down");
    } else if (j->rc == 0 && j->op == TASK_SHOW) {
      ain__api_send_json_text(req, 200, j->text);
      j->text = NULL;
    } else if (j->rc == 0 && j->out != NULL) {
      ain__api_send_json(req, 200, j->out);
      j->out = NULL;
    } else {
      ain__api_send_err(req, &j->err);
    }
  }
  cJSON_Delete(j->out);
  free(j->text);
  free(j);
}

static int submit(ain__api_call_t *call, task_job_t *j) {
  j->job.run = task_run;
  j->job.done = task_done;
  ain__api_defer_attach(&j->defer, call->req);
  int rc = ain__api_pool_submit(call->api, &j->job);
  if (rc != 0) {
    ain__api_defer_take(&j->defer);
    free(j);
    ain__api_send_error(call->req, rc == AIN_EBUSY ? "EBUSY" : "ESHUTDOWN", NULL,
                        rc == AIN_EBUSY ? "every worker is busy; retry" : "shutting down");
  }
  return 0;
}

static task_job_t *new_job(ain__api_call_t *call, task_op_t op) {
  task_job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    ain__api_send_error(call->req, "EBUSY", NULL, "out of memory");
    return NULL;
  }
  j->op = op;
  snprintf(j->actor, sizeof j->actor, "%s", call->caller->actor);
  return j;
}

static int with_id(ain__api_call_t *call, task_op_t op, task_job_t **out) {
  *out = NULL;
  if (!id_ok(call->params[0])) {
    ain__api_send_error(call->req, "EINVAL", "id", "not a task id (a UUID): '%.*s'",
                        (int)(call->params[0].len > 64 ? 64 : call->params[0].len),
                        call->params[0].base);
    return 0;
  }
  task_job_t *j = new_job(call, op);
  if (j != NULL) {
    memcpy(j->id, call->params[0].base, AIN_UUID_LEN);
    j->id[AIN_UUID_LEN] = '\0';
  }
  *out = j;
  return 0;
}

int ain__api_task_show(ain__api_call_t *call) {
  task_job_t *j;
  with_id(call, TASK_SHOW, &j);
  if (j == NULL) {
    return 0;
  }
  j->job.batch_read = 1; /* one row by its key */
  j->job.run = task_run;
  if (ain__api_loopread_run(call->api, &j->job)) {
    if (j->rc != AIN_EBUSY) {
      ain__api_defer_attach(&j->defer, call->req);
      task_done(&j->job, 0);
      return 0;
    }
    free(j->text); /* the store was locked: a worker may wait for it */
    j->text = NULL;
  }
  return submit(call, j);
}

/* filter[0] status, filter[1] type, filter[2] dag_id, id the cursor, n the limit (0: default) */
static int run_list(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_task_query_t q = {.status = j->filter[0][0] ? j->filter[0] : NULL,
                            .type = j->filter[1][0] ? j->filter[1] : NULL,
                            .dag_id = j->filter[2][0] ? j->filter[2] : NULL,
                            .limit = (int)j->n,
                            .after = j->id[0] ? j->id : NULL};
  ain_ops_task_page_t page;
  int rc = ain_ops_task_list(ops, &q, &page, &j->err);
  if (rc == 0) {
    j->out = ain_ops_task_page_json(&page);
    ain_ops_task_page_free(&page);
  }
  return rc;
}

/* The values are checked by the ops layer (400 naming the field from there); only the limit's
 * syntax is checked here. */
static int list_query(ain__api_opjob_t *j, const char *key, const char *value,
                      ain__api_call_t *call) {
  if (strcmp(key, "limit") == 0) {
    return ain__api_limit(call, value, AIN_OPS_LIST_MAX, &j->n);
  }
  if (strcmp(key, "after") == 0) {
    return ain__api_query_copy(call, key, value, j->id, AIN_OPS_CURSOR_MAX);
  }
  int k = strcmp(key, "status") == 0 ? 0 : strcmp(key, "type") == 0 ? 1 : 2;
  return ain__api_query_copy(call, key, value, j->filter[k], sizeof j->filter[k]);
}

int ain__api_task_list(ain__api_call_t *call) {
  static const char *const keys[] = {"status", "type", "dag_id", "limit", "after", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_list);
  if (j == NULL) {
    return 0;
  }
  if (ain__api_query(call, keys, list_query, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}

int ain__api_task_cancel(ain__api_call_t *call) {
  task_job_t *j;
  with_id(call, TASK_CANCEL, &j);
  if (j == NULL) {
    return 0;
  }
  h2o_iovec_t body = call->req->entity;
  if (body.base != NULL && body.len > 0) {
    cJSON *b = cJSON_ParseWithLength(body.base, body.len);
    cJSON *r = cJSON_GetObjectItemCaseSensitive(b, "reason");
    const char *bad =
        !cJSON_IsObject(b)                                                                ? "body"
        : cJSON_GetArraySize(b) > (r != NULL)                                             ? "body"
        : r != NULL && (!cJSON_IsString(r) || strlen(r->valuestring) >= sizeof j->reason) ? "reason"
                                                                                          : NULL;
    if (bad != NULL) {
      cJSON_Delete(b);
      free(j);
      ain__api_send_error(call->req, "EINVAL", bad,
                          "the body must be a JSON object with at most \"reason\" (a string of "
                          "up to 511 bytes)");
      return 0;
    }
    if (r != NULL) {
      snprintf(j->reason, sizeof j->reason, "%s", r->valuestring);
      j->has_reason = 1;
    }
    cJSON_Delete(b);
  }
  return submit(call, j);
}
