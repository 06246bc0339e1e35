/* The human review queue and the publishers switch (DESIGN §1, §7, §10): list and show judged
 * videos with their safety reports, approve or reject a review as an OCC update that expects the
 * review's state_version (If-Match in the API, --version in the CLI), and pause, resume or show
 * publishing. Relies on: ops/ops.h, store/store.h (REVIEW_LIST, REVIEW_DECIDE, SETTING, STATS). */
#ifndef AIN_OPS_REVIEW_H
#define AIN_OPS_REVIEW_H

#include "ops/ops.h"

typedef struct {
  const ain_video_review_t *rows; /* oldest first */
  size_t nrows;
  int woke; /* decide: the parked review gate went back to ready */
  ain_store_req_t req_;
} ain_ops_reviews_t;

/* Videos whose review has status (pending | approved | rejected; NULL = every judged video), at
 * most limit (0 = no limit). AIN_EINVAL naming "status" or "limit" otherwise. */
int ain_ops_review_list(ain_ops_t *ops, const char *status, int limit, ain_ops_reviews_t *out,
                        ain_err_t *err);
/* One video (rows[0]). AIN_ENOTFOUND for an unknown video. */
int ain_ops_review_get(ain_ops_t *ops, const char *video_id, ain_ops_reviews_t *out,
                       ain_err_t *err);
void ain_ops_reviews_free(ain_ops_reviews_t *r);

typedef struct {
  const char *video_id;
  int approve;            /* 1 approve, 0 reject */
  const char *reason;     /* required to reject */
  const char *reviewer;   /* the name recorded on the review */
  int64_t expect_version; /* the review's state_version the reviewer saw; -1 = the one stored now
                             (then a review already decided is a conflict, not a re-decision) */
  const char *actor;      /* the audit rows' actor */
} ain_ops_decision_t;

/* Approves or rejects (rows[0] is the video afterwards, woke says whether its pipeline resumes).
 * AIN_ECONFLICT (field "expect_version") when the review is not at that version, naming the
 * version expected and the one found; AIN_ENOTFOUND when the video is unknown or was not sent to
 * review; AIN_EINVAL for a reject without a reason or a bad expect_version. */
int ain_ops_review_decide(ain_ops_t *ops, const ain_ops_decision_t *d, ain_ops_reviews_t *out,
                          ain_err_t *err);
/* The row as JSON: video_id, dag_id?, persona_id?, status, decision, confidence, review?
 * {status, state_version, reviewer?, reason?, decided_at?}, state_version, created_at; with full,
 * also checks, report and the files (video_file, thumbnail_file under data_dir/objects). */
cJSON *ain_ops_review_json(const ain_ops_t *ops, const ain_video_review_t *v, int full);

typedef enum {
  AIN_OPS_PUBLISHERS_STATUS,
  AIN_OPS_PUBLISHERS_PAUSE,
  AIN_OPS_PUBLISHERS_RESUME
} ain_ops_publishers_action_t;

typedef struct {
  int paused;
  int changed;       /* the action changed the setting */
  long long waiting; /* tasks parked (publish steps and reviews) */
  char paused_by[16]; /* "operator", "backlog" (the review-backlog guard) or "" */
} ain_ops_publishers_t;

/* Pause or resume publishing (setting "publishers.paused", audited as actor in the same
 * transaction; resume returns parked publish steps to ready), or only read it. */
int ain_ops_publishers(ain_ops_t *ops, ain_ops_publishers_action_t action, const char *actor,
                       ain_ops_publishers_t *out, ain_err_t *err);
cJSON *ain_ops_publishers_json(const ain_ops_publishers_t *p);

#endif
