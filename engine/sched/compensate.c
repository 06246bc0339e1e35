/* Compensation of a multi-channel publish (issue 14 §5): when a publish task is dead-lettered
 * (failed past its retries, or permanently), the shard calls ain__publish_compensate once the
 * dead letter is committed. The policy publisher.compensate(ctx) names the action, from the
 * failed step's ctx plus failure = {error, step} and config = {compensation} (config
 * publish.compensation, default "flag": keep the other posts, flag the video); it returns
 * {action, video_id, channel, reason}. The action runs on the libuv thread pool with a store
 * handle of its own on a private loop (it may call platforms: never on the shard's loop), through
 * publish/after.h ain_post_compensate, which audits what it does. compensate is plain Lua (it
 * must not yield: no ain.* I/O), so its callback has run when ain_lua_call returns and no call
 * outlives the step that triggered it.
 * Relies on: sched/internal.h (shard, engine config), lua host, publish/after.h, obs, cJSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "publish/after.h"
#include "sched/internal.h"

typedef struct {
  uv_work_t work;
  uv_loop_t *loop; /* the shard's */
  const ain_config_t *cfg;
  char actor[300];
  char *video_id, *channel, *action, *reason;
  int rc;
  ain_err_t err;
  char *result;
} comp_t;

static void comp_free(comp_t *c) {
  free(c->video_id);
  free(c->channel);
  free(c->action);
  free(c->reason);
  free(c->result);
  free(c);
}

static void count(const char *action) {
  const char *v[1] = {action};
  ain_obs_inc(AIN_M_PUBLISH_COMPENSATIONS, v);
}

static void store_closed(void *data) {
  *(int *)data = 1;
}

/* On the thread pool: a store handle on a loop of this work item, the action, closed again. */
static void comp_work(uv_work_t *w) {
  comp_t *c = w->data;
  uv_loop_t loop;
  ain_store_t *store = NULL;
  ain_store_config_t scfg;
  ain_engine_store_config(c->cfg, &scfg);
  if (uv_loop_init(&loop) != 0) {
    c->rc = ain_err_set(&c->err, AIN_EIO, "compensation: no loop");
    return;
  }
  if ((c->rc = ain_store_open(&scfg, &loop, &store, &c->err)) == 0) {
    ain_post_after_t pa = {.cfg = c->cfg, .store = store, .actor = c->actor};
    cJSON *out = NULL;
    c->rc = ain_post_compensate(&pa, c->video_id, c->channel, c->action, c->reason, &out,
                                &c->err);
    c->result = out != NULL ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    int closed = 0;
    ain_store_close(store, store_closed, &closed);
    while (!closed && uv_run(&loop, UV_RUN_ONCE) != 0) {
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

static void comp_done(uv_work_t *w, int status) {
  comp_t *c = w->data;
  if (status != 0 || c->rc != 0) {
    count("failed");
    ain_log_error("compensation %s for video %s (publish to %s failed) did not complete: %s",
                  c->action, c->video_id, c->channel ? c->channel : "?",
                  status != 0 ? "cancelled" : c->err.msg);
  } else {
    count(c->action);
    ain_log_warn("compensation %s for video %s (publish to %s failed): %s", c->action,
                 c->video_id, c->channel ? c->channel : "?", c->result ? c->result : "{}");
  }
  comp_free(c);
}

static const char *str_of(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

static void on_policy(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                      void *data) {
  (void)call;
  comp_t *c = data;
  cJSON *r = status == 0 ? cJSON_Parse(result_json != NULL ? result_json : "{}") : NULL;
  const char *action = str_of(r, "action"), *video = str_of(r, "video_id");
  if (status != 0 || !ain_compensate_action_ok(action) || video == NULL) {
    count("failed");
    ain_log_error("publisher.compensate: %s", status != 0 ? error
                                              : "expected {action = flag | unpublish_others | "
                                                "none, video_id = ...}");
    cJSON_Delete(r);
    comp_free(c);
    return;
  }
  c->action = ain_strdup(action);
  c->video_id = ain_strdup(video);
  c->channel = str_of(r, "channel") ? ain_strdup(str_of(r, "channel")) : NULL;
  c->reason = ain_strdup(str_of(r, "reason") ? str_of(r, "reason") : "publish failed");
  cJSON_Delete(r);
  c->work.data = c;
  int rc = uv_queue_work(c->loop, &c->work, comp_work, comp_done);
  if (rc != 0) {
    count("failed");
    ain_log_error("compensation for video %s not queued: %s", c->video_id, uv_strerror(rc));
    comp_free(c);
  }
}

void ain__publish_compensate(ain_shard_t *sh, ain_step_t *step) {
  const ain_config_t *cfg = sh->engine->cfg;
  char *base = ain_step_ctx_json(step);
  cJSON *ctx = cJSON_Parse(base != NULL ? base : "{}");
  free(base);
  if (ctx == NULL) {
    ctx = cJSON_CreateObject();
  }
  cJSON *f = cJSON_AddObjectToObject(ctx, "failure");
  cJSON_AddStringToObject(f, "error", step->error != NULL ? step->error : "");
  cJSON_AddStringToObject(f, "step", step->task.step != NULL ? step->task.step : "publish");
  cJSON *cf = cJSON_GetObjectItemCaseSensitive(ctx, "config");
  if (!cJSON_IsObject(cf)) {
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "config");
    cf = cJSON_AddObjectToObject(ctx, "config");
  }
  cJSON_DeleteItemFromObjectCaseSensitive(cf, "compensation");
  cJSON_AddStringToObject(cf, "compensation", cfg->publish.compensation);
  char *ctx_json = cJSON_PrintUnformatted(ctx);
  cJSON_Delete(ctx);
  comp_t *c = calloc(1, sizeof *c);
  if (c == NULL || ctx_json == NULL) {
    free(c);
    free(ctx_json);
    ain_log_error("compensation for task %s: out of memory", step->task.id);
    return;
  }
  c->cfg = cfg;
  c->loop = &sh->loop;
  snprintf(c->actor, sizeof c->actor, "%s/compensation", sh->engine->node_id);
  ain_lua_call_opts_t o = {.module = "publisher",
                           .function = "compensate",
                           .payload_json = step->task.payload ? step->task.payload : "{}",
                           .ctx_json = ctx_json};
  ain_err_t err;
  ain_err_clear(&err);
  ain_lua_call_t *call = NULL;
  int rc = ain_lua_call(sh->lua, &o, on_policy, c, &call, &err);
  free(ctx_json);
  if (rc != 0) {
    count("failed");
    ain_log_error("publisher.compensate not called for task %s: %s", step->task.id, err.msg);
    comp_free(c);
  }
}
