/* After publishing (issue 14 §5, §6): taking posts down (unpublish, manual takedowns raised to
 * the operator), the compensation of a multi-channel publish that failed on one channel, and the
 * analytics pull of public post metrics into the store (table post_metrics).
 *
 * Every function here is blocking: it calls channels (network or file I/O) and waits for store
 * requests on `store`, which must be a handle on a private loop of the calling thread (the CLI's
 * main thread, an API worker, a thread-pool work item, the analytics thread): never a loop that
 * serves anything else.
 *
 * Channels are opened by their name in the config through the kind table (channel.h); a kind
 * whose `unpublish` is NULL gets a manual takedown recorded (store/posts.h "mark" with state
 * takedown_required), which `ain takedowns` lists until an operator confirms it.
 * Relies on: publish/channel.h, store/posts.h, config, objstore, cJSON. */
#ifndef AIN_PUBLISH_AFTER_H
#define AIN_PUBLISH_AFTER_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "config/config.h"
#include "core/err.h"
#include "publish/channel.h"
#include "store/store.h"

/* Opens the channel called `name` for a takedown or a metrics read (objects may be NULL: neither
 * reads files). 0, AIN_ENOTFOUND (no such channel in the config), AIN_ECONFIG (its kind is not
 * in the kind table), or the kind's open error. Caller closes with ain_channel_close. */
typedef int (*ain_channel_opener_t)(void *data, const ain_config_t *cfg, const char *name,
                                    ain_channel_t **out, ain_err_t *err);
/* The default opener: channels of cfg by name, kinds of ain_channel_kind(). */
int ain_channel_open_config(void *data, const ain_config_t *cfg, const char *name,
                            ain_channel_t **out, ain_err_t *err);
void ain_channel_close(ain_channel_t *ch);

typedef struct {
  const ain_config_t *cfg;
  ain_store_t *store;  /* on the calling thread's private loop */
  const char *actor;   /* audit rows: "operator:alice", "node-1/compensation" */
  ain_channel_opener_t open; /* NULL = ain_channel_open_config */
  void *open_data;
} ain_post_after_t;

/* Takes down every post of video_id (or only its post on `channel` when not NULL), audited with
 * reason and actor: through the kind's unpublish where it has one (receipt state unpublished),
 * else a manual takedown is recorded and raised (state takedown_required, metric
 * ain_post_takedowns_total{method="manual"}, a warning in the log). Posts already unpublished
 * are left alone (outcome "already"): calling it twice is not an error. *out (caller deletes):
 * {video_id, video_status, posts: [{receipt_id, channel, post_id, outcome ("unpublished" |
 * "already" | "takedown_required" | "failed"), error?}]}.
 * 0 when no post failed; AIN_EINVAL (field reason / video_id / channel), AIN_ENOTFOUND (unknown
 * video, or no post on `channel`), AIN_ECONFLICT (the video was never published); when a
 * platform's delete call failed, its code (*out still says which posts went down). */
int ain_post_unpublish(const ain_post_after_t *pa, const char *video_id, const char *channel,
                       const char *reason, cJSON **out, ain_err_t *err);

/* Confirms a manual takedown done by hand: the post's state becomes unpublished (audited with
 * reason). AIN_ENOTFOUND for an unknown receipt; already unpublished: *changed = 0. */
int ain_post_takedown_done(const ain_post_after_t *pa, int64_t receipt_id, const char *reason,
                           int *changed, ain_err_t *err);

/* The takedowns (state "takedown_required" when pending_only, else every state), oldest first:
 * *out = {posts: [post row of store/posts.h]}. Caller deletes. */
int ain_post_takedowns(const ain_post_after_t *pa, int pending_only, int limit, cJSON **out,
                       ain_err_t *err);

/* Charges one platform call that is not a publish (call "unpublish" or "metrics") on `channel`
 * to its account's quota bucket, the one the publish step takes from (publish/quota.h costs;
 * optimistic writes, retried on a lost race). 0 when taken or the channel has no quota;
 * AIN_EBUSY when the bucket has no room (the call must not be made; the message says for how
 * long); store errors. (quota_calls.c) */
int ain_post_quota_take(const ain_post_after_t *pa, const char *channel, const char *call,
                        ain_err_t *err);

/* ---- compensation -------------------------------------------------------------------------- */

/* The actions a compensation policy may return (publisher.compensate, config publish.compensation). */
#define AIN_COMPENSATE_FLAG "flag"                         /* keep the other posts, flag the video */
#define AIN_COMPENSATE_UNPUBLISH_OTHERS "unpublish_others" /* take the other posts down too */
#define AIN_COMPENSATE_NONE "none"                         /* do nothing (audited in the log) */
/* 1 when action is one of the three. */
int ain_compensate_action_ok(const char *action);

/* Runs `action` for video_id whose publish on failed_channel failed past its retries: "flag"
 * records the video flagged (status "flagged", audited with reason); "unpublish_others" flags it
 * and takes its other posts down as ain_post_unpublish does (reason "compensation: ..."). */
int ain_post_compensate(const ain_post_after_t *pa, const char *video_id,
                        const char *failed_channel, const char *action, const char *reason,
                        cJSON **out, ain_err_t *err);

/* ---- analytics ---------------------------------------------------------------------------- */

typedef struct {
  int64_t since_ms;    /* posts published at or after this (0 = all) */
  int limit;           /* posts per pass, 1..1000 */
  /* checked before each post (may be NULL): nonzero ends the pass there (shutdown) */
  int (*stopping)(void *data);
  void *data;
} ain_analytics_pass_t;

typedef struct {
  int posts;   /* live posts looked at */
  int pulled;  /* metrics rows written */
  int skipped; /* posts whose kind reports no metrics (metrics NULL) */
  int failed;  /* channels that could not be opened or answered with an error */
  int deferred; /* posts not read: the account's quota bucket had no room (ain_post_quota_take) */
} ain_analytics_result_t;

/* One pull: for each live post published since since_ms, the kind's metrics(post_id) into
 * post_metrics (one row per post per pass; -1 counters are stored as NULL). A post whose channel
 * fails is counted and logged, the others still pulled. 0, or a store error. */
int ain_analytics_pull(const ain_post_after_t *pa, const ain_analytics_pass_t *pass,
                       ain_analytics_result_t *res, ain_err_t *err);

/* The scheduled pull (config analytics.interval_s > 0): a thread of its own, with its own store
 * handle on its own loop, runs ain_analytics_pull every interval_s for the posts of the last
 * max_age_days. store_cfg is copied. Stop with ain_analytics_stop (joins the thread; a pull in
 * progress finishes its current post first). */
typedef struct ain_analytics ain_analytics_t;
int ain_analytics_start(const ain_config_t *cfg, const ain_store_config_t *store_cfg,
                        const char *actor, ain_analytics_t **out, ain_err_t *err);
void ain_analytics_stop(ain_analytics_t *a);
/* Asks the thread to stop without waiting (a loop thread's shutdown); NULL is ignored. */
void ain_analytics_request_stop(ain_analytics_t *a);

/* The outbox kind's takedown (outbox_unpublish.c): removes dir/<key> atomically; post_id is the
 * key or the published folder under dir. Gone already: 0. */
int ain_publish_outbox_unpublish(const char *dir, const char *post_id, ain_err_t *err);

#endif
