/* One rendered video as an operator sees it (DESIGN §7, docs/api.md "Videos"): its row, its review
 * (if it was sent to one), its publish receipts and the sizes of its media and thumbnail objects;
 * and which object holds a video's media or thumbnail, for the API's byte routes.
 * `ain video show` and GET /v1/videos/{id} both print ain_ops_video_json.
 * Relies on: ops/ops.h, ops/review.h (the row), objstore/objstore.h (sizes: a stat per object,
 * blocking like every op), store/store.h (REVIEW_LIST of one video also reads its receipts). */
#ifndef AIN_OPS_VIDEO_H
#define AIN_OPS_VIDEO_H

#include "objstore/objstore.h"
#include "ops/ops.h"

typedef enum { AIN_OPS_VIDEO_MEDIA = 0, AIN_OPS_VIDEO_THUMBNAIL = 1 } ain_ops_video_kind_t;

typedef struct {
  const ain_video_review_t *row;
  const ain_receipt_t *receipts; /* oldest first */
  size_t nreceipts;
  int64_t media_bytes, thumbnail_bytes; /* -1: no such object (no key, or missing from the store) */
  ain_store_req_t req_;
} ain_ops_video_t;

/* The video, its receipts, and its objects' sizes from objects (NULL: sizes -1). AIN_ENOTFOUND for
 * an unknown video, AIN_EINVAL naming "video_id" for an empty one. */
int ain_ops_video_get(ain_ops_t *ops, ain_objstore_t *objects, const char *video_id,
                      ain_ops_video_t *out, ain_err_t *err);
void ain_ops_video_free(ain_ops_video_t *v);

/* {"id","dag_id","task_id","persona_id","status","decision","confidence","state_version",
 *  "created_at","updated_at","review":{status,state_version,reviewer,reason,decided_at}|null,
 *  "receipts":[{channel,location,idempotency_key,task_id,created_at}],"media_url":null,
 *  "thumbnail_url":null,"media_bytes","thumbnail_bytes"} (bytes null when absent). The API
 *  replaces the two URLs with ticketed paths; absent strings are null. */
cJSON *ain_ops_video_json(const ain_ops_video_t *v);

/* The object key of video_id's media or thumbnail into key (cap >= AIN_OBJSTORE_KEY_MAX + 1).
 * AIN_ENOTFOUND naming "video_id" for an unknown video, or naming "media"/"thumbnail" when the
 * video has none. */
int ain_ops_video_object(ain_ops_t *ops, const char *video_id, ain_ops_video_kind_t kind, char *key,
                         size_t cap, ain_err_t *err);

#endif
