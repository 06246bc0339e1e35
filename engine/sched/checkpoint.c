/* Checkpoints of media steps (DESIGN §6): before a step reports success it records its artifacts'
 * object-store keys and its result (store op ARTIFACT_PUT, keyed by dag_id + step); when a step
 * starts and its checkpoint exists and every object re-hashes to its key, the step succeeds at
 * once with the recorded result instead of doing the work again. This is what makes a DAG that
 * was killed mid-render resume without redoing tts or assets.
 * Relies on: sched/media_step.h, store/store.h (ARTIFACT_*), objstore/objstore.h (verify). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "objstore/objstore.h"
#include "objstore/open.h"
#include "sched/media_step.h"

static ain_log_ctx_t log_ctx(const ain__mstep_t *m) {
  ain_log_ctx_t lc = {.task_id = m->task_id,
                      .dag_id = m->dag_id[0] ? m->dag_id : NULL,
                      .actor = m->step ? m->step->shard->owner : NULL,
                      .state_version = m->step ? m->step->token : 0,
                      .trace_id = m->trace_id,
                      .span_id = m->span_id};
  return lc;
}

/* On the pool: every recorded key must exist and hash to its name. */
static void verify_keys(ain__mstep_t *m) {
  ain_objstore_t *os = NULL;
  cJSON *keys = cJSON_Parse(m->art.keys), *k;
  m->work_rc = ain_objstore_open(m->cfg, &os, &m->work_err);
  if (m->work_rc == 0 && !cJSON_IsArray(keys)) {
    m->work_rc = ain_err_set(&m->work_err, AIN_EINVAL, "recorded keys are not a JSON array");
  }
  cJSON_ArrayForEach(k, keys) {
    if (m->work_rc != 0) {
      break;
    }
    if (!cJSON_IsString(k)) {
      m->work_rc = ain_err_set(&m->work_err, AIN_EINVAL, "recorded key is not a string");
      break;
    }
    int e = ain_objstore_exists(os, k->valuestring, &m->work_err);
    if (e == 0) {
      m->work_rc = ain_err_set(&m->work_err, AIN_ENOTFOUND, "object %s is missing", k->valuestring);
    } else if (e < 0) {
      m->work_rc = e;
    } else {
      m->work_rc = ain_objstore_verify(os, k->valuestring, &m->work_err);
    }
  }
  cJSON_Delete(keys);
  if (os != NULL) {
    ain_objstore_close(os);
  }
}

static void after_verify(ain__mstep_t *m) {
  ain_log_ctx_t lc = log_ctx(m);
  if (m->work_rc != 0) {
    ain_log(AIN_LOG_WARN, &lc, "checkpoint of step %s does not verify (%s): doing the work again",
            m->step_name, m->work_err.msg);
    ain_artifact_free(&m->art);
    m->miss(m);
    return;
  }
  ain_log(AIN_LOG_INFO, &lc, "checkpoint hit: step %s reuses %s (recorded by task %s)",
          m->step_name, m->art.keys, m->art.task_id ? m->art.task_id : "?");
  ain_step_t *step = m->step;
  ain_step_succeed(step, m->art.result, NULL, "{\"checkpoint\":\"hit\"}");
  ain__mstep_release(m);
}

static void on_got(ain_store_req_t *req) {
  ain__mstep_t *m = req->data;
  if (ain__mstep_detached(m)) {
    return;
  }
  ain__mstep_fn next = m->miss;
  if (req->status == AIN_ENOTFOUND) {
    ain_store_req_cleanup(req);
    next(m);
    return;
  }
  if (req->status != 0) {
    /* The store is unreachable: doing the work again is safe, a duplicate is not. */
    ain_log_ctx_t lc = log_ctx(m);
    ain_log(AIN_LOG_WARN, &lc, "reading the checkpoint of step %s: %s", m->step_name, req->err.msg);
    ain_store_req_cleanup(req);
    next(m);
    return;
  }
  m->art = req->u.artifact_get.artifact;
  memset(&req->u.artifact_get.artifact, 0, sizeof req->u.artifact_get.artifact);
  ain_store_req_cleanup(req);
  ain__mstep_work(m, verify_keys, after_verify);
}

void ain__ckpt_resume_or(ain__mstep_t *m, ain__mstep_fn miss) {
  if (m->dag_id[0] == '\0' || m->step_name == NULL) {
    miss(m);
    return;
  }
  m->miss = miss;
  ain_store_req_artifact_get(&m->req, m->dag_id, m->step_name);
  m->req.data = m;
  m->req.cb = on_got;
  m->req.actor = m->step->shard->owner;
  if (ain_store_submit(m->step->shard->store, &m->req) != 0) {
    ain_store_req_cleanup(&m->req);
    miss(m);
  }
}

static void on_put(ain_store_req_t *req) {
  ain__mstep_t *m = req->data;
  if (ain__mstep_detached(m)) {
    return;
  }
  if (req->status != 0) {
    char msg[700];
    snprintf(msg, sizeof msg, "recording the checkpoint: %s", req->err.msg);
    ain_store_req_cleanup(req);
    ain__mstep_fail(m, AIN_ESTORE, msg, 0);
    return;
  }
  ain_store_req_cleanup(req);
  ain_step_succeed(m->step, m->ckpt_result, NULL, NULL);
  ain__mstep_release(m);
}

void ain__ckpt_record_and_succeed(ain__mstep_t *m, char *keys_json, char *result_json) {
  free(m->ckpt_keys);
  free(m->ckpt_result);
  m->ckpt_keys = keys_json;
  m->ckpt_result = result_json;
  if (m->dag_id[0] == '\0' || m->step_name == NULL) {
    ain_step_succeed(m->step, m->ckpt_result, NULL, NULL);
    ain__mstep_release(m);
    return;
  }
  ain_artifact_free(&m->art);
  m->art.dag_id = ain_strdup(m->dag_id);
  m->art.step = ain_strdup(m->step_name);
  m->art.task_id = ain_strdup(m->task_id);
  m->art.keys = ain_strdup(keys_json);
  m->art.result = ain_strdup(result_json);
  ain_store_req_artifact_put(&m->req, &m->art);
  m->req.data = m;
  m->req.cb = on_put;
  m->req.actor = m->step->shard->owner;
  if (ain_store_submit(m->step->shard->store, &m->req) != 0) {
    char msg[700];
    snprintf(msg, sizeof msg, "recording the checkpoint: %s", m->req.err.msg);
    ain__mstep_fail(m, m->req.status ? m->req.status : AIN_ESTORE, msg, 0);
  }
}
