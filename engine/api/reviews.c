/* The review queue: GET /v1/reviews (?status=pending|approved|rejected|all, default pending, and
 * ?limit=), GET /v1/reviews/{id} (the video with its safety report) and POST
 * /v1/reviews/{id}/approve|reject: an OCC decision that expects the review's state_version from
 * If-Match (required), so of two reviewers racing one gets 200 and the other 409 naming both
 * versions. The caller is the reviewer and the audit actor. The functions of `ain review`.
 * Relies on: internal.h (opjob.c), ops/review.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "ops/review.h"

#define REVIEW_LIMIT_MAX 10000

static int run_list(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_reviews_t r;
  int rc = ain_ops_review_list(ops, strcmp(j->arg, "all") == 0 ? NULL : j->arg, (int)j->n, &r,
                               &j->err);
  if (rc == 0) {
    j->out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(j->out, "reviews");
    for (size_t i = 0; i < r.nrows; i++) {
      cJSON_AddItemToArray(arr, ain_ops_review_json(ops, &r.rows[i], 0));
    }
    ain_ops_reviews_free(&r);
  }
  return rc;
}

static int list_query(ain__api_opjob_t *j, const char *key, const char *value,
                      ain__api_call_t *call) {
  if (strcmp(key, "limit") == 0) {
    return ain__api_limit(call, value, REVIEW_LIMIT_MAX, &j->n);
  }
  snprintf(j->arg, sizeof j->arg, "%s", value); /* the ops layer names a bad status */
  return 0;
}

int ain__api_review_list(ain__api_call_t *call) {
  static const char *const keys[] = {"status", "limit", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_list);
  if (j == NULL) {
    return 0;
  }
  snprintf(j->arg, sizeof j->arg, "pending");
  if (ain__api_query(call, keys, list_query, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}

static int run_show(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_reviews_t r;
  int rc = ain_ops_review_get(ops, j->id, &r, &j->err);
  if (rc == 0) {
    j->out = ain_ops_review_json(ops, &r.rows[0], 1);
    ain_ops_reviews_free(&r);
  }
  return rc;
}

int ain__api_review_show(ain__api_call_t *call) {
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_show);
  if (j == NULL) {
    return 0;
  }
  if (ain__api_param(call, 0, "id", j->id, 128) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}

static int run_decide(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_decision_t d = {.video_id = j->id,
                          .approve = j->flag,
                          .reason = j->arg[0] ? j->arg : NULL,
                          .reviewer = j->arg2,
                          .expect_version = j->n,
                          .actor = j->actor};
  ain_ops_reviews_t r;
  int rc = ain_ops_review_decide(ops, &d, &r, &j->err);
  if (rc == 0) {
    j->out = cJSON_CreateObject();
    cJSON_AddNumberToObject(j->out, "woke", r.woke);
    cJSON_AddItemToObject(j->out, "video", ain_ops_review_json(ops, &r.rows[0], 0));
    ain_ops_reviews_free(&r);
  }
  return rc;
}

/* If-Match: 7 or "7" (an entity tag), the review state_version the reviewer saw. */
static int if_match(h2o_req_t *req, long long *out) {
  ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_IF_MATCH, -1);
  if (i < 0) {
    ain__api_send_error(req, "EPRECONDITION", "If-Match",
                        "a decision needs If-Match: <state_version> (the review's version you saw)");
    return -1;
  }
  h2o_iovec_t v = req->headers.entries[i].value;
  char buf[32];
  size_t a = 0, b = v.len;
  if (b >= 2 && v.base[0] == '"' && v.base[b - 1] == '"') {
    a = 1, b--;
  }
  int ok = b > a && b - a < sizeof buf;
  if (ok) {
    memcpy(buf, v.base + a, b - a);
    buf[b - a] = '\0';
    char *end = NULL;
    *out = strtoll(buf, &end, 10);
    ok = end != buf && *end == '\0' && *out >= 0 && buf[0] != '-' && buf[0] != '+';
  }
  if (!ok) {
    ain__api_send_error(req, "EINVAL", "If-Match", "If-Match must be a state_version (a number >= 0)");
    return -1;
  }
  return 0;
}

static int decide(ain__api_call_t *call, int approve) {
  static const char *const keys[] = {"reason", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_decide);
  cJSON *b = NULL;
  if (j == NULL) {
    return 0;
  }
  j->flag = approve;
  snprintf(j->arg2, sizeof j->arg2, "%s", call->caller->subject);
  if (ain__api_param(call, 0, "id", j->id, 128) != 0 || if_match(call->req, &j->n) != 0 ||
      (b = ain__api_body_object(call, keys)) == NULL) {
    goto refused;
  }
  cJSON *reason = cJSON_GetObjectItemCaseSensitive(b, "reason");
  if (reason != NULL && (!cJSON_IsString(reason) || strlen(reason->valuestring) >= sizeof j->arg)) {
    ain__api_send_error(call->req, "EINVAL", "reason", "'reason' must be a string of up to %zu bytes",
                        sizeof j->arg - 1);
    goto refused;
  }
  if (reason != NULL) {
    snprintf(j->arg, sizeof j->arg, "%s", reason->valuestring);
  }
  cJSON_Delete(b);
  return ain__api_opjob_submit(call, j);
refused:
  cJSON_Delete(b);
  ain__api_opjob_free(j);
  return 0;
}

int ain__api_review_approve(ain__api_call_t *call) { return decide(call, 1); }
int ain__api_review_reject(ain__api_call_t *call) { return decide(call, 0); }
