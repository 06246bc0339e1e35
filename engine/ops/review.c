/* The review queue and the publishers switch (review.h). A decision is an OCC update of the
 * review at the version the reviewer saw, so of two reviewers racing on one video one succeeds
 * and the other gets AIN_ECONFLICT naming the version it expected and the one it found; approving
 * returns the parked review_gate task to ready in the same transaction.
 * Relies on: ops.h, store/store.h, cJSON. */
#include "ops/review.h"

#include "ops/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int finish(ain_ops_t *ops, const char *actor, ain_ops_reviews_t *out, ain_err_t *err) {
  int rc = ain_ops_wait(ops, &out->req_, actor, err);
  if (rc != 0) {
    ain_ops_reviews_free(out);
    return rc;
  }
  if (out->req_.op == AIN_STORE_REVIEW_DECIDE) {
    out->rows = &out->req_.u.review_decide.row;
    out->nrows = 1;
    out->woke = out->req_.u.review_decide.woke;
  } else {
    out->rows = out->req_.u.review_list.rows;
    out->nrows = out->req_.u.review_list.nrows;
  }
  return 0;
}

int ain_ops_review_list(ain_ops_t *ops, const char *status, int limit, ain_ops_reviews_t *out,
                        ain_err_t *err) {
  memset(out, 0, sizeof *out);
  ain_store_req_review_list(&out->req_, status, NULL, limit);
  return finish(ops, NULL, out, err);
}

int ain_ops_review_get(ain_ops_t *ops, const char *video_id, ain_ops_reviews_t *out,
                       ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (video_id == NULL || video_id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "video_id", "a video id is required");
  }
  ain_store_req_review_list(&out->req_, NULL, video_id, 0);
  return finish(ops, NULL, out, err);
}

void ain_ops_reviews_free(ain_ops_reviews_t *r) {
  if (r->req_.op != 0) {
    ain_store_req_cleanup(&r->req_);
  }
  memset(r, 0, sizeof *r);
}

/* The version of video_id's review as stored now, refused when there is nothing to decide. */
static int current_version(ain_ops_t *ops, const char *video_id, int64_t *version, ain_err_t *err) {
  ain_ops_reviews_t cur;
  int rc = ain_ops_review_get(ops, video_id, &cur, err);
  if (rc != 0) {
    return rc;
  }
  const ain_video_review_t *v = &cur.rows[0];
  if (v->review_status == NULL) {
    rc =
        ain_err_field(err, AIN_ENOTFOUND, "video_id", "video %s was not sent to review (judge: %s)",
                      video_id, v->decision ? v->decision : "?");
  } else if (strcmp(v->review_status, "pending") != 0) {
    rc = ain_err_field(err, AIN_ECONFLICT, "expect_version",
                       "review of video %s was already decided: %s by %s (version %lld)", video_id,
                       v->review_status, v->reviewer ? v->reviewer : "?",
                       (long long)v->review_version);
  } else {
    *version = v->review_version;
  }
  ain_ops_reviews_free(&cur);
  return rc;
}

int ain_ops_review_decide(ain_ops_t *ops, const ain_ops_decision_t *d, ain_ops_reviews_t *out,
                          ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (d->video_id == NULL || d->video_id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "video_id", "a video id is required");
  }
  if (!d->approve && (d->reason == NULL || d->reason[0] == '\0')) {
    return ain_err_field(err, AIN_EINVAL, "reason", "a rejection needs a reason");
  }
  if (d->reviewer == NULL || d->reviewer[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "reviewer", "a decision names its reviewer");
  }
  if (d->expect_version < -1) {
    return ain_err_field(err, AIN_EINVAL, "expect_version",
                         "the expected version must be >= 0, got %lld",
                         (long long)d->expect_version);
  }
  int64_t expect = d->expect_version;
  int rc = expect < 0 ? current_version(ops, d->video_id, &expect, err) : 0;
  if (rc != 0) {
    return rc;
  }
  ain_store_req_review_decide(&out->req_, d->video_id, expect, d->approve, d->reviewer, d->reason);
  return finish(ops, d->actor, out, err);
}

cJSON *ain_ops_review_json(const ain_ops_t *ops, const ain_video_review_t *v, int full) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "video_id", v->video_id ? v->video_id : "");
  if (v->dag_id) {
    cJSON_AddStringToObject(o, "dag_id", v->dag_id);
  }
  if (v->persona_id) {
    cJSON_AddStringToObject(o, "persona_id", v->persona_id);
  }
  cJSON_AddStringToObject(o, "status", v->status ? v->status : "");
  cJSON_AddStringToObject(o, "decision", v->decision ? v->decision : "");
  cJSON_AddNumberToObject(o, "confidence", v->confidence);
  if (v->review_status) {
    cJSON *r = cJSON_AddObjectToObject(o, "review");
    cJSON_AddStringToObject(r, "status", v->review_status);
    cJSON_AddNumberToObject(r, "state_version", (double)v->review_version);
    if (v->reviewer) {
      cJSON_AddStringToObject(r, "reviewer", v->reviewer);
    }
    if (v->reason) {
      cJSON_AddStringToObject(r, "reason", v->reason);
    }
    if (v->decided_at) {
      cJSON_AddNumberToObject(r, "decided_at", (double)v->decided_at);
    }
  }
  cJSON_AddNumberToObject(o, "state_version", (double)v->state_version);
  cJSON_AddNumberToObject(o, "created_at", (double)v->created_at);
  if (full) {
    cJSON *checks = v->checks ? cJSON_Parse(v->checks) : NULL;
    cJSON_AddItemToObject(o, "checks", checks ? checks : cJSON_CreateArray());
    cJSON *report = v->report ? cJSON_Parse(v->report) : NULL;
    cJSON_AddItemToObject(o, "report", report ? report : cJSON_CreateObject());
    const char *data_dir = ops->cfg != NULL && ops->cfg->data_dir ? ops->cfg->data_dir : "var";
    /* Local paths exist only for the dir store; with S3 the API's media routes serve the bytes. */
    int local = ops->cfg == NULL || ops->cfg->objstore.kind == NULL ||
                strcmp(ops->cfg->objstore.kind, "dir") == 0;
    char path[4096];
    if (local && v->video_key) {
      snprintf(path, sizeof path, "%s/objects/%s", data_dir, v->video_key);
      cJSON_AddStringToObject(o, "video_file", path);
    }
    if (local && v->thumbnail_key) {
      snprintf(path, sizeof path, "%s/objects/%s", data_dir, v->thumbnail_key);
      cJSON_AddStringToObject(o, "thumbnail_file", path);
    }
  }
  return o;
}

/* ---- publishers ------------------------------------------------------------------------------ */

int ain_ops_publishers(ain_ops_t *ops, ain_ops_publishers_action_t action, const char *actor,
                       ain_ops_publishers_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  const char *value = action == AIN_OPS_PUBLISHERS_PAUSE    ? "true"
                      : action == AIN_OPS_PUBLISHERS_RESUME ? "false"
                                                            : NULL;
  ain_store_req_t req;
  int rc = 0;
  if (value != NULL) {
    /* The operator owns the switch from now on: the review-backlog guard never lifts an
     * operator's pause, nor pauses again after an operator's resume until the backlog has been
     * low (store/metrics.h). Written first, so a guard running in between sees it. */
    ain_store_req_setting(&req, "publishers.paused_by", "operator");
    rc = ain_ops_wait(ops, &req, actor, err);
    ain_store_req_cleanup(&req);
    if (rc != 0) {
      return rc;
    }
  }
  ain_store_req_setting(&req, "publishers.paused", value);
  rc = ain_ops_wait(ops, &req, actor, err); /* setting and audit row commit together */
  if (rc == 0) {
    out->paused = req.u.setting.out_value != NULL && strcmp(req.u.setting.out_value, "true") == 0;
    out->changed = req.u.setting.changed;
  }
  ain_store_req_cleanup(&req);
  if (rc != 0) {
    return rc;
  }
  ain_store_req_setting(&req, "publishers.paused_by", NULL);
  rc = ain_ops_wait(ops, &req, actor, err);
  if (rc == 0 && req.u.setting.out_value != NULL) {
    snprintf(out->paused_by, sizeof out->paused_by, "%s", req.u.setting.out_value);
  }
  ain_store_req_cleanup(&req);
  if (rc != 0) {
    return rc;
  }
  ain_store_stats_t st;
  if ((rc = ain_ops_stats(ops, &st, err)) == 0) { /* parked: publish steps and reviews */
    out->waiting = (long long)st.tasks[AIN_TASK_WAITING];
  }
  return rc;
}

cJSON *ain_ops_publishers_json(const ain_ops_publishers_t *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "ok", 1);
  cJSON_AddBoolToObject(o, "paused", p->paused);
  cJSON_AddBoolToObject(o, "changed", p->changed);
  if (p->paused) { /* who holds the switch: an operator, or the review-backlog guard */
    cJSON_AddStringToObject(o, "paused_by", p->paused_by[0] ? p->paused_by : "operator");
  }
  cJSON_AddNumberToObject(o, "waiting_tasks", (double)p->waiting);
  return o;
}
