/* Postgres review/publish ops: VIDEO_JUDGED, REVIEW_LIST, REVIEW_DECIDE, RECEIPT_PUT, SETTING.
 * Each is one call of the plpgsql function ain_review_op(op, actor, now, args) from
 * sql/postgres/005_review.sql: the arguments travel as one JSON object, the answer comes back as
 * one JSON object, so an op is one statement, one round trip and one implicit transaction in the
 * pipeline. A refusal (conflict, not found) is an answer {"error": {code, field, msg}} rather than
 * a raised exception, so that it does not abort the other requests sharing the pipeline sync.
 * Relies on: internal.h (plan/parse split, the statement table in ops.c), cJSON. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"

static char *i64s(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ain_strdup(buf);
}

static void add_str(cJSON *o, const char *k, const char *v) {
  if (v != NULL) {
    cJSON_AddStringToObject(o, k, v);
  }
}

static const char *op_name(ain_store_op_t op) {
  switch (op) {
  case AIN_STORE_VIDEO_JUDGED:
    return "judged";
  case AIN_STORE_REVIEW_LIST:
    return "list";
  case AIN_STORE_REVIEW_DECIDE:
    return "decide";
  case AIN_STORE_RECEIPT_PUT:
    return "receipt";
  case AIN_STORE_SETTING:
    return "setting";
  default:
    return NULL;
  }
}

static void args_judged(cJSON *a, const ain_video_review_t *v) {
  add_str(a, "video_id", v->video_id);
  add_str(a, "dag_id", v->dag_id);
  add_str(a, "task_id", v->task_id);
  add_str(a, "persona_id", v->persona_id);
  add_str(a, "decision", v->decision);
  cJSON_AddNumberToObject(a, "confidence", v->confidence);
  add_str(a, "checks", v->checks);
  add_str(a, "report", v->report);
  add_str(a, "video_key", v->video_key);
  add_str(a, "thumbnail_key", v->thumbnail_key);
}

int ain__pg_plan_review(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  const char *name = op_name(req->op);
  if (name == NULL) {
    return ain_err_set(&req->err, AIN_EINVAL, "not a review op: %d", (int)req->op);
  }
  cJSON *a = cJSON_CreateObject();
  if (a == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  switch (req->op) {
  case AIN_STORE_VIDEO_JUDGED:
    args_judged(a, req->u.video_judged.in);
    break;
  case AIN_STORE_REVIEW_LIST:
    add_str(a, "status", req->u.review_list.status);
    add_str(a, "video_id", req->u.review_list.video_id);
    cJSON_AddNumberToObject(a, "limit", req->u.review_list.limit);
    break;
  case AIN_STORE_REVIEW_DECIDE:
    add_str(a, "video_id", req->u.review_decide.video_id);
    cJSON_AddNumberToObject(a, "expect_version", (double)req->u.review_decide.expect_version);
    cJSON_AddBoolToObject(a, "approve", req->u.review_decide.approve != 0);
    add_str(a, "reviewer", req->u.review_decide.reviewer);
    add_str(a, "reason", req->u.review_decide.reason);
    break;
  case AIN_STORE_RECEIPT_PUT: {
    const ain_receipt_t *r = req->u.receipt_put.in;
    add_str(a, "video_id", r->video_id);
    add_str(a, "channel", r->channel);
    add_str(a, "idempotency_key", r->idempotency_key);
    add_str(a, "location", r->location);
    add_str(a, "task_id", r->task_id);
    cJSON_AddBoolToObject(a, "lookup_only", req->u.receipt_put.lookup_only != 0);
    break;
  }
  default: /* AIN_STORE_SETTING */
    add_str(a, "key", req->u.setting.key);
    add_str(a, "value", req->u.setting.value);
    break;
  }
  char *json = cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  if (json == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  ain__pg_cmd_t *c = ain__pg_cmd(plan, AIN__PG_REVIEW);
  c->params[0] = ain_strdup(name);
  c->params[1] = ain_strdup(req->actor != NULL ? req->actor : "store");
  c->params[2] = i64s(now);
  c->params[3] = json;
  if (req->op == AIN_STORE_REVIEW_LIST && req->u.review_list.video_id != NULL) {
    /* One video: its receipts too, pipelined in the same sync. */
    c = ain__pg_cmd(plan, AIN__PG_RECEIPTS_OF);
    c->params[0] = ain_strdup(req->u.review_list.video_id);
  }
  if (req->op == AIN_STORE_RECEIPT_PUT) { /* post id and url (023), in the same transaction */
    const ain_receipt_t *r = req->u.receipt_put.in;
    c = ain__pg_cmd(plan, AIN__PG_RECEIPT_POST);
    c->params[0] = ain_strdup(r->idempotency_key);
    c->params[1] = req->u.receipt_put.lookup_only ? NULL : ain_strdup(r->post_id);
    c->params[2] = req->u.receipt_put.lookup_only ? NULL : ain_strdup(r->url);
  }
  return 0;
}

/* ---- parsing ---------------------------------------------------------------------------------- */

static char *dup_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? ain_strdup(v->valuestring) : NULL;
}

static int64_t num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static void read_row(const cJSON *o, ain_video_review_t *v) {
  memset(v, 0, sizeof *v);
  if (!cJSON_IsObject(o)) {
    return;
  }
  v->video_id = dup_str(o, "video_id");
  v->dag_id = dup_str(o, "dag_id");
  v->task_id = dup_str(o, "task_id");
  v->persona_id = dup_str(o, "persona_id");
  v->status = dup_str(o, "status");
  v->decision = dup_str(o, "decision");
  const cJSON *conf = cJSON_GetObjectItemCaseSensitive(o, "confidence");
  v->confidence = cJSON_IsNumber(conf) ? conf->valuedouble : 0.0;
  v->checks = dup_str(o, "checks");
  v->report = dup_str(o, "report");
  v->video_key = dup_str(o, "video_key");
  v->thumbnail_key = dup_str(o, "thumbnail_key");
  v->state_version = num(o, "state_version");
  v->created_at = num(o, "created_at");
  v->updated_at = num(o, "updated_at");
  v->review_status = dup_str(o, "review_status");
  v->reviewer = dup_str(o, "reviewer");
  v->reason = dup_str(o, "reason");
  v->review_version = num(o, "review_version");
  v->decided_at = num(o, "decided_at");
}

static int read_rows(ain_store_req_t *req, const cJSON *rows) {
  int n = cJSON_GetArraySize(rows);
  if (n <= 0) {
    return 0;
  }
  req->u.review_list.rows = calloc((size_t)n, sizeof(ain_video_review_t));
  if (req->u.review_list.rows == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  const cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    read_row(row, &req->u.review_list.rows[req->u.review_list.nrows++]);
  }
  return 0;
}

static void read_receipt(const cJSON *o, ain_receipt_t *r) {
  r->id = num(o, "id");
  r->video_id = dup_str(o, "video_id");
  r->channel = dup_str(o, "channel");
  r->idempotency_key = dup_str(o, "idempotency_key");
  r->location = dup_str(o, "location");
  r->task_id = dup_str(o, "task_id");
  r->state_version = num(o, "state_version");
  r->created_at = num(o, "created_at");
}

static char *col(const PGresult *r, int row, int c) {
  return PQgetisnull(r, row, c) ? NULL : ain_strdup(PQgetvalue(r, row, c));
}

static int read_receipts_of(ain_store_req_t *req, const PGresult *r) {
  int n = r != NULL ? PQntuples(r) : 0;
  if (n <= 0) {
    return 0;
  }
  req->u.review_list.receipts = calloc((size_t)n, sizeof(ain_receipt_t));
  if (req->u.review_list.receipts == NULL) {
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    ain_receipt_t *rc = &req->u.review_list.receipts[i];
    rc->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    rc->video_id = col(r, i, 1);
    rc->channel = col(r, i, 2);
    rc->idempotency_key = col(r, i, 3);
    rc->location = col(r, i, 4);
    rc->task_id = col(r, i, 5);
    rc->state_version = strtoll(PQgetvalue(r, i, 6), NULL, 10);
    rc->created_at = strtoll(PQgetvalue(r, i, 7), NULL, 10);
    rc->post_id = col(r, i, 8);
    rc->url = col(r, i, 9);
    req->u.review_list.nreceipts++;
  }
  return 0;
}

int ain__pg_parse_review(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  if (r == NULL || PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
    return ain_err_set(&req->err, AIN_ESTORE, "postgres: ain_review_op returned no answer");
  }
  cJSON *o = cJSON_Parse(PQgetvalue(r, 0, 0));
  if (o == NULL) {
    return ain_err_set(&req->err, AIN_ESTORE, "postgres: ain_review_op answer is not JSON");
  }
  int rc = 0;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
  if (cJSON_IsObject(e)) {
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(e, "field");
    rc = ain_err_field(&req->err, (int)num(e, "code"),
                       cJSON_IsString(field) ? field->valuestring : "", "%s",
                       cJSON_IsString(msg) ? msg->valuestring : "refused");
    if (req->op == AIN_STORE_REVIEW_DECIDE) { /* the row as found, for the loser's message */
      read_row(cJSON_GetObjectItemCaseSensitive(o, "row"), &req->u.review_decide.row);
    }
    goto done;
  }
  switch (req->op) {
  case AIN_STORE_VIDEO_JUDGED:
    read_row(cJSON_GetObjectItemCaseSensitive(o, "row"), &req->u.video_judged.row);
    break;
  case AIN_STORE_REVIEW_LIST:
    rc = read_rows(req, cJSON_GetObjectItemCaseSensitive(o, "rows"));
    if (rc == 0 && req->u.review_list.video_id != NULL) {
      rc = read_receipts_of(req, plan->res[1]);
    }
    break;
  case AIN_STORE_REVIEW_DECIDE:
    read_row(cJSON_GetObjectItemCaseSensitive(o, "row"), &req->u.review_decide.row);
    req->u.review_decide.woke = (int)num(o, "woke");
    break;
  case AIN_STORE_RECEIPT_PUT:
    read_receipt(cJSON_GetObjectItemCaseSensitive(o, "receipt"), &req->u.receipt_put.receipt);
    req->u.receipt_put.created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "created"));
    if (plan->res[1] != NULL && PQntuples(plan->res[1]) == 1) {
      req->u.receipt_put.receipt.post_id = col(plan->res[1], 0, 0);
      req->u.receipt_put.receipt.url = col(plan->res[1], 0, 1);
    }
    break;
  case AIN_STORE_SETTING:
    req->u.setting.out_value = dup_str(o, "value");
    req->u.setting.version = num(o, "version");
    req->u.setting.changed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "changed"));
    break;
  default:
    rc = ain_err_set(&req->err, AIN_EINVAL, "not a review op: %d", (int)req->op);
    break;
  }
done:
  cJSON_Delete(o);
  return rc;
}
