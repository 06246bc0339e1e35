/* POST /v1/tasks (one message, an array of them, or JSON Lines, by Content-Type; validated and
 * stored by the ops functions `ain enqueue` calls, idempotent by task_id), GET
 * /v1/tasks/{id}/audit and POST /v1/tasks/{id}/retry (re-drive a dead task).
 * Relies on: internal.h (opjob.c), ops/tasks.h, ops/dags.h (audit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "core/util.h"
#include "ops/dags.h"
#include "ops/tasks.h"

static int run_enqueue(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_batch_t b;
  /* prepare runs the persona checks (Lua): a worker's job, never the server loop's. */
  int rc = ain_ops_enqueue_prepare(ops->cfg, j->body, j->body_len, "body", &b, &j->err);
  if (rc != 0) {
    return rc;
  }
  size_t existing = 0;
  rc = ain_ops_enqueue_commit(ops, &b, j->actor, &existing, &j->err);
  if (rc == 0) {
    j->out = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(j->out, "enqueued");
    for (size_t i = 0; i < b.ntasks; i++) {
      cJSON_AddItemToArray(ids, cJSON_CreateString(b.tasks[i].id));
    }
    cJSON_AddNumberToObject(j->out, "created", (double)(b.ntasks - existing));
    cJSON_AddNumberToObject(j->out, "existing", (double)existing);
    cJSON_AddNumberToObject(j->out, "pii_replaced", (double)b.pii_replaced);
    /* every message already stored as sent: a no-op, so 200; anything new: 201 */
    j->ok_status = existing == b.ntasks ? 200 : 201;
  }
  ain_ops_batch_free(&b);
  return rc;
}

/* The media type without parameters ("application/json; charset=utf-8" -> application/json). */
static int content_type_is(h2o_req_t *req, const char *want) {
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
  if (i < 0) {
    return 0;
  }
  h2o_iovec_t v = req->headers.entries[i].value;
  size_t n = 0;
  while (n < v.len && v.base[n] != ';' && v.base[n] != ' ') {
    n++;
  }
  return n == strlen(want) && strncasecmp(v.base, want, n) == 0;
}

int ain__api_task_enqueue(ain__api_call_t *call) {
  h2o_req_t *req = call->req;
  int lines = content_type_is(req, "application/x-ndjson") ||
              content_type_is(req, "application/jsonl") ||
              content_type_is(req, "application/json-lines");
  if (!lines && !content_type_is(req, "application/json")) {
    ain__api_send_error(req, "EMEDIATYPE", "content-type",
                        "Content-Type must be application/json (one message or an array) or "
                        "application/x-ndjson (JSON Lines)");
    return 0;
  }
  h2o_iovec_t body = req->entity;
  size_t skip = 0;
  while (body.base != NULL && skip < body.len && strchr(" \t\r\n", body.base[skip]) != NULL) {
    skip++;
  }
  if (body.base == NULL || skip == body.len) {
    ain__api_send_error(req, "ESCHEMA", "body", "the body holds no task message");
    return 0;
  }
  if (!lines) {
    /* application/json is one JSON value: an object or an array, not a stream of them */
    cJSON *v = cJSON_ParseWithLength(body.base, body.len);
    int ok = cJSON_IsObject(v) || cJSON_IsArray(v);
    cJSON_Delete(v);
    if (!ok && (body.base[skip] == '{' || body.base[skip] == '[')) {
      ok = 1; /* malformed: the parser below names the index, line and field */
    }
    if (!ok) {
      ain__api_send_error(req, "ESCHEMA", "body",
                          "application/json must be one task message or an array of them");
      return 0;
    }
  } else if (body.base[skip] == '[') {
    ain__api_send_error(req, "ESCHEMA", "body",
                        "JSON Lines must be one task message per line, not an array");
    return 0;
  }
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_enqueue);
  if (j == NULL) {
    return 0;
  }
  j->body = malloc(body.len + 1);
  if (j->body == NULL) {
    ain__api_opjob_free(j);
    ain__api_send_error(req, "EBUSY", NULL, "out of memory");
    return 0;
  }
  memcpy(j->body, body.base, body.len);
  j->body[body.len] = '\0';
  j->body_len = body.len;
  return ain__api_opjob_submit(call, j);
}

static int run_audit(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_audit_t a;
  int rc = ain_ops_audit(ops, j->id, &a, &j->err);
  if (rc == 0) {
    j->out = cJSON_CreateObject();
    cJSON_AddStringToObject(j->out, "id", j->id);
    cJSON_AddItemToObject(j->out, "audit", ain_ops_audit_json(&a));
    ain_ops_audit_free(&a);
  }
  return rc;
}

int ain__api_task_audit(ain__api_call_t *call) {
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_audit);
  if (j == NULL) {
    return 0;
  }
  if (ain__api_param(call, 0, "id", j->id, AIN_UUID_LEN + 1) != 0 || !ain_uuid_valid(j->id)) {
    if (j->id[0] != '\0') {
      ain__api_send_error(call->req, "EINVAL", "id", "not a task id (a UUID): '%s'", j->id);
    }
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}

static int run_retry(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_retry_t r;
  int rc = ain_ops_task_retry(ops, j->id, j->actor, &r, &j->err);
  if (rc == 0) {
    j->out = ain_ops_retry_json(j->id, &r);
  }
  return rc;
}

int ain__api_task_retry(ain__api_call_t *call) {
  static const char *const keys[] = {NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_retry);
  if (j == NULL) {
    return 0;
  }
  cJSON *b = NULL;
  if (ain__api_param(call, 0, "id", j->id, AIN_UUID_LEN + 1) != 0 || !ain_uuid_valid(j->id)) {
    if (j->id[0] != '\0') {
      ain__api_send_error(call->req, "EINVAL", "id", "not a task id (a UUID): '%s'", j->id);
    }
    goto refused;
  }
  if ((b = ain__api_body_object(call, keys)) == NULL) {
    goto refused;
  }
  cJSON_Delete(b);
  return ain__api_opjob_submit(call, j);
refused:
  ain__api_opjob_free(j);
  return 0;
}
