/* The contract every publishing channel kind implements (issue 14): outbox (embedded default),
 * youtube, tiktok, instagram, webhook. A kind is a table of functions; engine/publish/kinds.c
 * lists them, and config, the publish built-in, unpublish and the analytics pull find a kind by
 * name there. Every function blocks on file or network I/O: call them on the libuv thread pool or
 * a thread of their own, never on a loop thread.
 *
 * Crash safety: a channel never keeps upload progress only in memory. Before and after every
 * phase whose loss would post twice or restart an upload from zero (session created, chunk
 * acknowledged, container created, post published), it calls session->save with a JSON object of
 * its own design; after a crash the next attempt receives that object back in session->saved and
 * resumes from it (querying the platform's offset, or finding that the post already exists).
 *
 * Secrets (OAuth tokens, keys) come from core/secret.h by the names in the channel's config and
 * never appear in logs, errors, audit rows or saved session state.
 * Relies on: publish/publish.h (the request), config/config.h, objstore/objstore.h, cJSON. */
#ifndef AIN_PUBLISH_CHANNEL_H
#define AIN_PUBLISH_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "core/err.h"
#include "objstore/objstore.h"
#include "publish/publish.h"

#define AIN_CHANNEL_POST_ID_MAX 256
#define AIN_CHANNEL_SESSION_MAX 16384 /* bytes of saved session JSON */

typedef struct ain_channel ain_channel_t;

/* What a kind's open gets. opts is the channel's own config table as JSON (already accepted by
 * the kind's check); it is valid for the channel's lifetime. */
typedef struct {
  const char *name;          /* the channel's name in the config */
  const cJSON *opts;         /* channels.<name> as JSON, kind included */
  const ain_config_t *cfg;   /* secrets_dir, objstore, ... */
  ain_objstore_t *objects;   /* files are read from here in chunks (never whole into RAM) */
} ain_channel_open_t;

/* Durable per-(idempotency key) upload state, kept by the store (table publish_sessions). */
typedef struct {
  const char *saved; /* the JSON object last saved for this key, or NULL on a first attempt */
  /* Records state_json (a JSON object, <= AIN_CHANNEL_SESSION_MAX bytes) durably before it
   * returns; 0 or AIN_E*. A fenced save (another node took the step over) fails:
   * the code is AIN_ELEASE and the channel must stop at once without calling the platform again. */
  int (*save)(void *ctx, const char *state_json, ain_err_t *err);
  void *ctx;
} ain_channel_session_t;

typedef struct {
  char post_id[AIN_CHANNEL_POST_ID_MAX]; /* the platform's id of the post */
  char url[AIN_PUBLISH_LOCATION_MAX];    /* where it can be seen (outbox: the folder) */
  int already;            /* the platform (or outbox) already had this key: nothing new posted */
  int64_t retry_after_ms; /* with AIN_EBUSY: rate-limited or quota exhausted; park this long */
  int64_t quota_units;    /* platform quota this publish consumed (youtube videos.insert: 1600) */
} ain_channel_result_t;

typedef struct {
  int64_t views, likes, comments, shares; /* -1 where the platform does not report one */
} ain_channel_post_metrics_t;

typedef struct {
  const char *kind; /* "outbox", "youtube", "tiktok", "instagram", "webhook" */
  /* Config validation at load: 0 or AIN_ECONFIG with err naming "channels.<name>.<key>". No I/O. */
  int (*check)(const char *name, const cJSON *opts, ain_err_t *err);
  int (*open)(const ain_channel_open_t *o, ain_channel_t **out, ain_err_t *err);
  /* Publishes req (blocking), resuming from session->saved when set. 0 with res filled, or
   * AIN_E* (AIN_EBUSY with res->retry_after_ms for 429/quota; AIN_ECREDS when a refresh failed). */
  int (*publish)(ain_channel_t *ch, const ain_publish_req_t *req, ain_channel_session_t *session,
                 ain_channel_result_t *res, ain_err_t *err);
  /* Takes a post down. NULL when the platform has no delete call: the caller records that a
   * manual takedown is required and raises it to the operator. */
  int (*unpublish)(ain_channel_t *ch, const char *post_id, ain_err_t *err);
  /* Public metrics of one post. NULL when the platform reports none. */
  int (*metrics)(ain_channel_t *ch, const char *post_id, ain_channel_post_metrics_t *out,
                 ain_err_t *err);
  void (*close)(ain_channel_t *ch);
} ain_channel_kind_t;

struct ain_channel {
  const ain_channel_kind_t *kind;
  char *name;
  void *impl;
};

/* The kind called `kind`, or NULL (engine/publish/kinds.c). */
const ain_channel_kind_t *ain_channel_kind(const char *kind);

#endif
