/* Operator operations after publishing (issue 14 §5, §6): unpublish a video (every channel, or
 * one), the manual takedowns raised to the operator and their confirmation, and the post metrics
 * (`ain stats --posts`). The CLI (cli_unpublish.c) and the API (api/unpublish.c) only parse and
 * print: both call these, which call publish/after.h with the ops' store handle (synchronous, on
 * the caller's private loop: ops.h).
 * Relies on: ops.h, publish/after.h (in the .c), cJSON. */
#ifndef AIN_OPS_UNPUBLISH_H
#define AIN_OPS_UNPUBLISH_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "ops/ops.h"

typedef struct {
  const char *video_id;
  const char *channel; /* NULL = every channel the video was published on */
  const char *reason;  /* required: it goes into the audit rows */
  const char *actor;   /* "operator:alice" */
} ain_ops_unpublish_t;

/* Takes the video's posts down (publish/after.h ain_post_unpublish). *out (caller deletes):
 * {video_id, video_status, posts: [{receipt_id, channel, post_id, outcome, error?}]}; set also
 * when a platform's delete call failed (the code is then that failure's). */
int ain_ops_unpublish(ain_ops_t *ops, const ain_ops_unpublish_t *u, cJSON **out, ain_err_t *err);

/* {posts: [...]}: pending manual takedowns (state takedown_required), or every takedown. */
int ain_ops_takedowns(ain_ops_t *ops, int pending_only, int limit, cJSON **out, ain_err_t *err);

/* An operator took receipt_id's post down by hand: {receipt_id, changed}. */
int ain_ops_takedown_done(ain_ops_t *ops, int64_t receipt_id, const char *reason,
                          const char *actor, cJSON **out, ain_err_t *err);

typedef struct {
  const char *persona; /* NULL = any */
  const char *topic;
  const char *channel;
  int64_t since_ms; /* posts published at or after (0 = any) */
  int limit;        /* 1..1000 */
} ain_ops_post_stats_t;

/* The latest pulled metrics of each post: {posts: [...], totals: {posts, views, likes,
 * comments, shares}} (store/posts.h "metrics"). */
int ain_ops_post_stats(ain_ops_t *ops, const ain_ops_post_stats_t *q, cJSON **out,
                       ain_err_t *err);

#endif
