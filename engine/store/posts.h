/* The store's part of what happens to a post after it is published (issue 14 §5, §6): takedowns
 * (unpublished by the platform's delete call, or a manual takedown raised to the operator), a
 * video flagged by the compensation policy, and the public metrics pulled for recent posts.
 * Tables takedowns and post_metrics (sql/<backend>/025_post_after.sql).
 *
 * One op, AIN_STORE_POSTS, with an action and a JSON object in and out, the same on both
 * backends (SQLite: store/sqlite/posts.c; Postgres: ain_posts_op() of the migration). A post row
 * ("post" below) is {receipt_id, video_id, channel, idempotency_key, location, post_id,
 * created_at, state ("live" | "unpublished" | "takedown_required"), method, reason, actor, error,
 * updated_at, persona_id, topic (the planner's trend key of the video's DAG, or null)}.
 *
 *   receipts     {video_id, channel?} -> {video: {id, status, persona_id, dag_id}, receipts: [post]}
 *                AIN_ENOTFOUND (field video_id) for an unknown video.
 *   mark         {receipt_id, state, method, reason, error?} -> {changed, state, video_status}
 *                Records the receipt's takedown state with an audit row "post:<from>" ->
 *                "post:<to>" (detail: video, channel, reason, method); when no receipt of the video
 *                is left up, the video becomes "unpublished" (audited). Marking the state it has,
 *                or anything once unpublished, changes nothing (changed false): idempotent.
 *   takedowns    {state?, limit?} -> {posts: [post]}  oldest first (limit 1..1000, default 100)
 *   flag         {video_id, channel?, reason} -> {changed, video_status}: the video's status
 *                becomes "flagged" (audited with the reason).
 *   recent       {since, limit?} -> {posts: [post]}  live receipts created at or after since (ms)
 *   metrics_put  {rows: [{receipt_id, channel, post_id, views, likes, comments, shares}]}
 *                -> {inserted}  fetched_at = the request's now; null counters = not reported;
 *                rows of receipts that no longer exist are dropped.
 *   metrics      {persona?, topic?, channel?, since?, limit?} -> {posts: [{receipt_id, video_id,
 *                channel, post_id, persona_id, topic, published_at, fetched_at, views, likes,
 *                comments, shares}]}  the latest pull of each post published at or after since,
 *                newest post first (limit 1..1000, default 1000).
 * Relies on: store.h. */
#ifndef AIN_STORE_POSTS_H
#define AIN_STORE_POSTS_H

#include "store/store.h"

#define AIN_POSTS_LIVE "live"
#define AIN_POSTS_UNPUBLISHED "unpublished"
#define AIN_POSTS_TAKEDOWN_REQUIRED "takedown_required"

/* POSTS request: action (a literal: the request keeps the pointer) and args_json (borrowed until
 * the callback). The answer is u.posts.out. */
void ain_store_req_posts(ain_store_req_t *req, const char *action, const char *args_json);
/* store.c: refuses an unknown action or args that are not a JSON object text. */
int ain__store_posts_check(const ain_store_req_t *req, ain_err_t *err);

#endif
