/* The generic half of the review/publish ops: request initialisers, the checks store.c runs
 * before a backend sees a request, and output cleanup. Rows live in videos, safety_reports,
 * reviews, publish_receipts and settings (sql/<backend>/005_review.sql).
 * Relies on: store.h, review.h. */
#include "store/review.h"

#include <stdlib.h>
#include <string.h>

static void init(ain_store_req_t *req, ain_store_op_t op) {
  memset(req, 0, sizeof *req);
  req->op = op;
}

void ain_store_req_video_judged(ain_store_req_t *req, const ain_video_review_t *in) {
  init(req, AIN_STORE_VIDEO_JUDGED);
  req->u.video_judged.in = in;
}

void ain_store_req_review_list(ain_store_req_t *req, const char *status, const char *video_id,
                               int limit) {
  init(req, AIN_STORE_REVIEW_LIST);
  req->u.review_list.status = status;
  req->u.review_list.video_id = video_id;
  req->u.review_list.limit = limit;
}

void ain_store_req_review_decide(ain_store_req_t *req, const char *video_id, int64_t expect_version,
                                 int approve, const char *reviewer, const char *reason) {
  init(req, AIN_STORE_REVIEW_DECIDE);
  req->u.review_decide.video_id = video_id;
  req->u.review_decide.expect_version = expect_version;
  req->u.review_decide.approve = approve;
  req->u.review_decide.reviewer = reviewer;
  req->u.review_decide.reason = reason;
}

void ain_store_req_receipt_put(ain_store_req_t *req, const ain_receipt_t *in, int lookup_only) {
  init(req, AIN_STORE_RECEIPT_PUT);
  req->u.receipt_put.in = in;
  req->u.receipt_put.lookup_only = lookup_only;
}

void ain_store_req_setting(ain_store_req_t *req, const char *key, const char *value) {
  init(req, AIN_STORE_SETTING);
  req->u.setting.key = key;
  req->u.setting.value = value;
}

static int empty(const char *s) {
  return s == NULL || s[0] == '\0';
}

/* Ids become file names (outbox) and audit rows: keep them to a safe alphabet. */
static int bad_id(const char *s) {
  if (empty(s) || strlen(s) > 128) {
    return 1;
  }
  return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")] != '\0';
}

static int check_judged(const ain_video_review_t *v, ain_err_t *err) {
  if (v == NULL) {
    return ain_err_field(err, AIN_EINVAL, "video", "no video given");
  }
  if (bad_id(v->video_id)) {
    return ain_err_field(err, AIN_EINVAL, "video_id",
                         "video_id must be 1..128 characters of [A-Za-z0-9_-]");
  }
  if (empty(v->decision) || (strcmp(v->decision, "pass") != 0 &&
                             strcmp(v->decision, "review") != 0 &&
                             strcmp(v->decision, "reject") != 0)) {
    return ain_err_field(err, AIN_EINVAL, "decision", "decision must be pass, review or reject");
  }
  if (!(v->confidence >= 0.0 && v->confidence <= 1.0)) {
    return ain_err_field(err, AIN_EINVAL, "confidence", "confidence must be within 0..1");
  }
  if (empty(v->checks) || v->checks[0] != '[') {
    return ain_err_field(err, AIN_EINVAL, "checks", "checks must be a JSON array");
  }
  if (strcmp(v->decision, "review") == 0 && empty(v->task_id)) {
    return ain_err_field(err, AIN_EINVAL, "task_id", "a video sent to review needs its gate task");
  }
  return 0;
}

int ain__store_review_check(const ain_store_req_t *req, ain_err_t *err) {
  switch (req->op) {
  case AIN_STORE_VIDEO_JUDGED:
    return check_judged(req->u.video_judged.in, err);
  case AIN_STORE_REVIEW_LIST: {
    const char *st = req->u.review_list.status;
    if (st != NULL && strcmp(st, "pending") != 0 && strcmp(st, "approved") != 0 &&
        strcmp(st, "rejected") != 0) {
      return ain_err_field(err, AIN_EINVAL, "status",
                           "review status must be pending, approved or rejected, not '%s'", st);
    }
    if (req->u.review_list.limit < 0) {
      return ain_err_field(err, AIN_EINVAL, "limit", "limit must be >= 0");
    }
    return 0;
  }
  case AIN_STORE_REVIEW_DECIDE:
    if (empty(req->u.review_decide.video_id)) {
      return ain_err_field(err, AIN_EINVAL, "video_id", "no video id");
    }
    if (req->u.review_decide.expect_version < 0) {
      return ain_err_field(err, AIN_EINVAL, "expect_version", "expected version must be >= 0");
    }
    if (empty(req->u.review_decide.reviewer)) {
      return ain_err_field(err, AIN_EINVAL, "reviewer", "a decision names its reviewer");
    }
    if (req->u.review_decide.reason != NULL &&
        strlen(req->u.review_decide.reason) > AIN_STORE_REASON_MAX) {
      return ain_err_field(err, AIN_EINVAL, "reason", "reason longer than %d bytes",
                           AIN_STORE_REASON_MAX);
    }
    return 0;
  case AIN_STORE_RECEIPT_PUT: {
    const ain_receipt_t *r = req->u.receipt_put.in;
    if (r == NULL || empty(r->idempotency_key)) {
      return ain_err_field(err, AIN_EINVAL, "idempotency_key", "no idempotency key");
    }
    if (!req->u.receipt_put.lookup_only &&
        (bad_id(r->video_id) || empty(r->channel) || empty(r->location))) {
      return ain_err_field(err, AIN_EINVAL, empty(r->channel) ? "channel" : "video_id",
                           "a receipt needs a valid video_id, a channel and a location");
    }
    return 0;
  }
  case AIN_STORE_SETTING:
    if (empty(req->u.setting.key) || strlen(req->u.setting.key) > 200) {
      return ain_err_field(err, AIN_EINVAL, "key", "setting key must be 1..200 bytes");
    }
    if (req->u.setting.value != NULL && strlen(req->u.setting.value) > AIN_STORE_SETTING_MAX) {
      return ain_err_field(err, AIN_EINVAL, "value", "setting value longer than %d bytes",
                           AIN_STORE_SETTING_MAX);
    }
    return 0;
  default:
    return ain_err_field(err, AIN_EINVAL, "op", "not a review op %d", (int)req->op);
  }
}

void ain_video_review_free(ain_video_review_t *v) {
  if (v == NULL) {
    return;
  }
  char **s[] = {&v->video_id, &v->dag_id,    &v->task_id,       &v->persona_id,
                &v->status,   &v->decision,  &v->checks,        &v->report,
                &v->video_key, &v->thumbnail_key, &v->review_status, &v->reviewer, &v->reason};
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    free(*s[i]);
  }
  memset(v, 0, sizeof *v);
}

void ain_receipt_free(ain_receipt_t *r) {
  if (r == NULL) {
    return;
  }
  free(r->video_id);
  free(r->channel);
  free(r->idempotency_key);
  free(r->location);
  free(r->post_id);
  free(r->url);
  free(r->task_id);
  memset(r, 0, sizeof *r);
}

void ain__store_review_cleanup(ain_store_req_t *req) {
  switch (req->op) {
  case AIN_STORE_VIDEO_JUDGED:
    ain_video_review_free(&req->u.video_judged.row);
    break;
  case AIN_STORE_REVIEW_LIST:
    for (size_t i = 0; i < req->u.review_list.nrows; i++) {
      ain_video_review_free(&req->u.review_list.rows[i]);
    }
    free(req->u.review_list.rows);
    req->u.review_list.rows = NULL;
    req->u.review_list.nrows = 0;
    for (size_t i = 0; i < req->u.review_list.nreceipts; i++) {
      ain_receipt_free(&req->u.review_list.receipts[i]);
    }
    free(req->u.review_list.receipts);
    req->u.review_list.receipts = NULL;
    req->u.review_list.nreceipts = 0;
    break;
  case AIN_STORE_REVIEW_DECIDE:
    ain_video_review_free(&req->u.review_decide.row);
    break;
  case AIN_STORE_RECEIPT_PUT:
    ain_receipt_free(&req->u.receipt_put.receipt);
    break;
  case AIN_STORE_SETTING:
    free(req->u.setting.out_value);
    req->u.setting.out_value = NULL;
    break;
  default:
    break;
  }
}
