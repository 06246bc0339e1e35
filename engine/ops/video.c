/* Videos as an operator sees them (video.h): the row comes from REVIEW_LIST of one video, which
 * also reads its publish receipts in the same read; the sizes are stats of the objects, so a
 * video whose file was purged shows null bytes rather than failing.
 * Relies on: ops.h, store/store.h, objstore/objstore.h, cJSON. */
#include "ops/video.h"

#include <stdio.h>
#include <string.h>

static int64_t object_bytes(ain_objstore_t *objects, const char *key) {
  if (objects == NULL || key == NULL || key[0] == '\0') {
    return -1;
  }
  ain_err_t err;
  ain_err_clear(&err);
  ain_objstore_stat_t st;
  return ain_objstore_stat(objects, key, &st, &err) == 0 ? (int64_t)st.size : -1;
}

/* The one video's row (and receipts) into req. */
static int read_video(ain_ops_t *ops, const char *video_id, ain_store_req_t *req, ain_err_t *err) {
  if (video_id == NULL || video_id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "video_id", "a video id is required");
  }
  ain_store_req_review_list(req, NULL, video_id, 0);
  int rc = ain_ops_wait(ops, req, NULL, err);
  if (rc == 0 && req->u.review_list.nrows != 1) {
    rc = ain_err_field(err, AIN_ENOTFOUND, "video_id", "video %s not found", video_id);
  }
  if (rc != 0) {
    ain_store_req_cleanup(req);
  }
  return rc;
}

int ain_ops_video_get(ain_ops_t *ops, ain_objstore_t *objects, const char *video_id,
                      ain_ops_video_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  int rc = read_video(ops, video_id, &out->req_, err);
  if (rc != 0) {
    memset(out, 0, sizeof *out);
    return rc;
  }
  out->row = &out->req_.u.review_list.rows[0];
  out->receipts = out->req_.u.review_list.receipts;
  out->nreceipts = out->req_.u.review_list.nreceipts;
  out->media_bytes = object_bytes(objects, out->row->video_key);
  out->thumbnail_bytes = object_bytes(objects, out->row->thumbnail_key);
  return 0;
}

void ain_ops_video_free(ain_ops_video_t *v) {
  if (v->req_.op != 0) {
    ain_store_req_cleanup(&v->req_);
  }
  memset(v, 0, sizeof *v);
}

static void add_str(cJSON *o, const char *k, const char *v) {
  cJSON_AddItemToObject(o, k, v != NULL ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static void add_bytes(cJSON *o, const char *k, int64_t n) {
  cJSON_AddItemToObject(o, k, n >= 0 ? cJSON_CreateNumber((double)n) : cJSON_CreateNull());
}

cJSON *ain_ops_video_json(const ain_ops_video_t *v) {
  const ain_video_review_t *r = v->row;
  cJSON *o = cJSON_CreateObject();
  add_str(o, "id", r->video_id);
  add_str(o, "dag_id", r->dag_id);
  add_str(o, "task_id", r->task_id);
  add_str(o, "persona_id", r->persona_id);
  add_str(o, "status", r->status);
  add_str(o, "decision", r->decision);
  cJSON_AddNumberToObject(o, "confidence", r->confidence);
  cJSON_AddNumberToObject(o, "state_version", (double)r->state_version);
  cJSON_AddNumberToObject(o, "created_at", (double)r->created_at);
  cJSON_AddNumberToObject(o, "updated_at", (double)r->updated_at);
  if (r->review_status != NULL) {
    cJSON *rv = cJSON_AddObjectToObject(o, "review");
    add_str(rv, "status", r->review_status);
    cJSON_AddNumberToObject(rv, "state_version", (double)r->review_version);
    add_str(rv, "reviewer", r->reviewer);
    add_str(rv, "reason", r->reason);
    if (r->decided_at > 0) {
      cJSON_AddNumberToObject(rv, "decided_at", (double)r->decided_at);
    } else {
      cJSON_AddNullToObject(rv, "decided_at");
    }
  } else {
    cJSON_AddNullToObject(o, "review");
  }
  cJSON *arr = cJSON_AddArrayToObject(o, "receipts");
  for (size_t i = 0; i < v->nreceipts; i++) {
    const ain_receipt_t *rc = &v->receipts[i];
    cJSON *e = cJSON_CreateObject();
    add_str(e, "channel", rc->channel);
    add_str(e, "location", rc->location);
    add_str(e, "idempotency_key", rc->idempotency_key);
    add_str(e, "task_id", rc->task_id);
    cJSON_AddNumberToObject(e, "created_at", (double)rc->created_at);
    cJSON_AddItemToArray(arr, e);
  }
  cJSON_AddNullToObject(o, "media_url");
  cJSON_AddNullToObject(o, "thumbnail_url");
  add_bytes(o, "media_bytes", v->media_bytes);
  add_bytes(o, "thumbnail_bytes", v->thumbnail_bytes);
  return o;
}

int ain_ops_video_object(ain_ops_t *ops, const char *video_id, ain_ops_video_kind_t kind, char *key,
                         size_t cap, ain_err_t *err) {
  ain_store_req_t req;
  memset(&req, 0, sizeof req);
  int rc = read_video(ops, video_id, &req, err);
  if (rc != 0) {
    return rc;
  }
  const ain_video_review_t *r = &req.u.review_list.rows[0];
  const char *k = kind == AIN_OPS_VIDEO_MEDIA ? r->video_key : r->thumbnail_key;
  const char *what = kind == AIN_OPS_VIDEO_MEDIA ? "media" : "thumbnail";
  if (k == NULL || k[0] == '\0') {
    rc = ain_err_field(err, AIN_ENOTFOUND, what, "video %s has no %s", video_id, what);
  } else if (strlen(k) >= cap) {
    rc = ain_err_field(err, AIN_ETOOBIG, what, "video %s: %s key too long", video_id, what);
  } else {
    memcpy(key, k, strlen(k) + 1);
  }
  ain_store_req_cleanup(&req);
  return rc;
}
