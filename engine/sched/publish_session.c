/* The publish step's session store (publish_session.h): a private loop and store handle on the
 * thread that runs the channel, the key's saved state read once at open, and fenced saves.
 * Relies on: store/store.h (PUBLISH_SESSION), sched/engine.h (the store config), libuv. */
#include "sched/publish_session.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/util.h"
#include "sched/engine.h"
#include "store/store.h"

struct ain__pubsess {
  ain_channel_session_t pub;
  uv_loop_t loop;
  int loop_open;
  ain_store_t *store;
  char *key, *channel, *video_id, *task_id, *owner;
  int attempts;
  char *saved;
};

static int save(void *ctx, const char *state_json, ain_err_t *err) {
  ain__pubsess_t *s = ctx;
  ain_store_req_t req;
  ain_store_req_publish_session(&req, s->key, state_json);
  req.u.publish_session.channel = s->channel;
  req.u.publish_session.video_id = s->video_id;
  req.u.publish_session.task_id = s->task_id;
  req.u.publish_session.owner = s->owner;
  req.u.publish_session.attempts = s->attempts;
  req.actor = s->owner;
  int rc = ain_store_wait(s->store, &req);
  if (rc != 0) {
    ain_err_set(err, rc, "%s", req.err.msg);
    ain_store_req_cleanup(&req);
    return rc;
  }
  ain_store_req_cleanup(&req);
  free(s->saved); /* what a later reader of s->pub.saved should see */
  s->saved = ain_strdup(state_json);
  s->pub.saved = s->saved;
  return 0;
}

static void on_closed(void *data) {
  *(int *)data = 1;
}

void ain__pubsess_close(ain__pubsess_t *s) {
  if (s == NULL) {
    return;
  }
  if (s->store != NULL) {
    int closed = 0;
    ain_store_close(s->store, on_closed, &closed);
    while (!closed && uv_run(&s->loop, UV_RUN_ONCE) != 0) {
    }
  }
  if (s->loop_open) {
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
  }
  free(s->key);
  free(s->channel);
  free(s->video_id);
  free(s->task_id);
  free(s->owner);
  free(s->saved);
  free(s);
}

int ain__pubsess_open(const ain_config_t *cfg, const ain__pubsess_opts_t *o, ain__pubsess_t **out,
                      ain_err_t *err) {
  ain__pubsess_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  int rc = uv_loop_init(&s->loop);
  if (rc != 0) {
    free(s);
    return ain_err_set(err, AIN_EIO, "publish session loop: %s", uv_strerror(rc));
  }
  s->loop_open = 1;
  s->key = ain_strdup(o->idempotency_key);
  s->channel = ain_strdup(o->channel);
  s->video_id = ain_strdup(o->video_id);
  s->task_id = ain_strdup(o->task_id);
  s->owner = ain_strdup(o->owner);
  s->attempts = o->attempts;
  ain_store_config_t scfg;
  ain_engine_store_config(cfg, &scfg);
  if ((rc = ain_store_open(&scfg, &s->loop, &s->store, err)) != 0) {
    s->store = NULL;
    goto fail;
  }
  ain_store_req_t req;
  ain_store_req_publish_session(&req, s->key, NULL);
  req.actor = s->owner;
  if ((rc = ain_store_wait(s->store, &req)) != 0) {
    ain_err_set(err, rc, "reading publish session: %s", req.err.msg);
    ain_store_req_cleanup(&req);
    goto fail;
  }
  s->saved = req.u.publish_session.saved;
  req.u.publish_session.saved = NULL;
  ain_store_req_cleanup(&req);
  s->pub.saved = s->saved;
  s->pub.save = save;
  s->pub.ctx = s;
  *out = s;
  return 0;
fail:
  ain__pubsess_close(s);
  return rc;
}

ain_channel_session_t *ain__pubsess_channel(ain__pubsess_t *s) {
  return &s->pub;
}
