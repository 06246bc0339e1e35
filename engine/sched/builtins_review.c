/* The built-in "review_gate": the step after the judge (DESIGN §1). It stores what the judge
 * decided (the video row, its safety report: checks, confidence, decision, thresholds, what
 * failed) and then:
 *   pass   -> succeeds {decision="pass", video_id};
 *   reject -> succeeds {decision="reject", rejected=true}: the publish steps skip, the video is
 *             rejected;
 *   review -> a pending review row, and the step PARKS (task status waiting): it holds no worker
 *             slot and is no work for --until-idle. `ain review approve|reject` decides the review
 *             and returns the task to ready in the same transaction; run again, the gate finds the
 *             decision and succeeds {approved=true, reviewer, reason} (publish runs) or
 *             {rejected=true, reviewer, reason} (publish skips).
 * The store op is idempotent per video, so the re-run (and any retry) writes nothing new.
 * Relies on: sched/internal.h (the step's shard: store, owner), store/store.h, cJSON. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "sched/internal.h"
#include "sched/publish_trust.h"

typedef struct {
  ain_step_t *step; /* NULL once the step was cancelled: the store callback then only frees */
  ain_store_req_t req;
  ain_video_review_t in;
  cJSON *deps;
  char *checks, *report;
  /* a pass or an approval: the publish grants (sched/publish_trust.h), then the result */
  ain_store_grants_t grants;
  ain_store_grant_t *gin;
  size_t ngin;
  char *res;
} gate_t;

static void gate_free(gate_t *g) {
  ain_store_req_cleanup(&g->req);
  ain__ptrust_grants_free(g->gin, g->ngin);
  free(g->res);
  cJSON_Delete(g->deps);
  free(g->checks);
  free(g->report);
  free(g);
}

static const char *str_of(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* {"decision": d, "video_id": v, more...} as the step's result. */
static char *result_json(const ain_video_review_t *row, const char *decision) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "decision", decision);
  cJSON_AddStringToObject(o, "video_id", row->video_id ? row->video_id : "");
  cJSON_AddNumberToObject(o, "confidence", row->confidence);
  const char *rs = row->review_status;
  if (strcmp(decision, "reject") == 0 || (rs != NULL && strcmp(rs, "rejected") == 0)) {
    cJSON_AddTrueToObject(o, "rejected");
  } else if (rs != NULL && strcmp(rs, "approved") == 0) {
    cJSON_AddTrueToObject(o, "approved");
  }
  if (rs != NULL) {
    cJSON_AddStringToObject(o, "review", rs);
    if (row->reviewer != NULL) {
      cJSON_AddStringToObject(o, "reviewer", row->reviewer);
    }
    if (row->reason != NULL) {
      cJSON_AddStringToObject(o, "reason", row->reason);
    }
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static void on_granted(ain_store_req_t *req) {
  gate_t *g = req->data;
  ain_step_t *step = g->step;
  if (step != NULL) {
    step->priv = NULL;
    if (req->status != 0) {
      ain_step_fail(step, req->status, req->err.msg, 0);
    } else {
      ain_step_succeed(step, g->res, NULL, NULL);
    }
  }
  gate_free(g);
}

/* A pass or an approval mints the publish tokens of the video's channels (payload.channels) and
 * stores them as grants before the gate succeeds: the publish steps verify them. 1 when the
 * grants were submitted (on_granted ends the step; res is taken), 0 when there is nothing to
 * grant (tokens off, a rejection, no channels) or the mint failed (then the step has failed). */
static int grant(gate_t *g, const ain_video_review_t *row, const char *decision, char *res) {
  ain_step_t *step = g->step;
  int approved = row->review_status != NULL && strcmp(row->review_status, "approved") == 0;
  if (strcmp(decision, "pass") != 0 && !approved) {
    return 0;
  }
  cJSON *payload = cJSON_Parse(step->task.payload != NULL ? step->task.payload : "{}");
  ain_err_t err;
  ain_err_clear(&err);
  int rc = ain__ptrust_grants_build(step, row->video_id,
                                    cJSON_GetObjectItemCaseSensitive(payload, "channels"),
                                    approved ? (row->reviewer ? row->reviewer : "operator")
                                             : "judge",
                                    approved ? "approved" : "pass", &g->gin, &g->ngin, &err);
  cJSON_Delete(payload);
  if (rc != 0 || g->ngin == 0) {
    if (rc != 0) {
      ain_step_fail(step, rc, err.msg, rc == AIN_EINVAL);
      free(res);
      gate_free(g);
      return 1;
    }
    return 0;
  }
  g->res = res;
  memset(&g->grants, 0, sizeof g->grants);
  g->grants.op = AIN_STORE_GRANT_PUT;
  g->grants.in = g->gin;
  g->grants.nin = g->ngin;
  ain_store_req_cleanup(&g->req);
  ain_store_req_grants(&g->req, &g->grants);
  g->req.data = g;
  g->req.cb = on_granted;
  g->req.actor = step->shard->owner;
  step->priv = g;
  if ((rc = ain_store_submit(step->shard->store, &g->req)) != 0) {
    step->priv = NULL;
    ain_step_fail(step, rc, g->req.err.msg, 0);
    gate_free(g);
  }
  return 1;
}

static void on_judged(ain_store_req_t *req) {
  gate_t *g = req->data;
  ain_step_t *step = g->step;
  if (step == NULL) {
    gate_free(g);
    return;
  }
  step->priv = NULL;
  if (req->status != 0) {
    ain_step_fail(step, req->status, req->err.msg, 0);
    gate_free(g);
    return;
  }
  const ain_video_review_t *row = &req->u.video_judged.row;
  const char *decision = row->decision != NULL ? row->decision : g->in.decision;
  ain_log_ctx_t lc = ain_step_log_ctx(step);
  if (strcmp(decision, "review") == 0 && row->review_status != NULL &&
      strcmp(row->review_status, "pending") == 0) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "parked", "review pending");
    cJSON_AddStringToObject(d, "video_id", row->video_id);
    cJSON_AddNumberToObject(d, "review_version", (double)row->review_version);
    char *detail = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    ain_log(AIN_LOG_INFO, &lc, "video %s sent to review (confidence %.2f): waiting for a reviewer",
            row->video_id, row->confidence);
    ain_step_park(step, detail);
    free(detail);
  } else {
    char *res = result_json(row, decision);
    ain_log(AIN_LOG_INFO, &lc, "video %s: %s%s%s", row->video_id, decision,
            row->review_status ? ", review " : "", row->review_status ? row->review_status : "");
    if (grant(g, row, decision, res)) {
      return; /* on_granted ends the step */
    }
    ain_step_succeed(step, res, NULL, NULL);
    free(res);
  }
  gate_free(g);
}

/* The safety report beside the checks: thresholds, failed checks, the findings that made them
 * fail (category, rule, severity, action, the matched text: what a reviewer reads first) and
 * their categories, the render's gate. */
static char *build_report(const cJSON *judge, const cJSON *render) {
  cJSON *o = cJSON_CreateObject();
  static const char *const keep[] = {"thresholds", "failed", "findings", "categories", "policy",
                                     "policies"};
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(judge, keep[i]);
    if (v != NULL) {
      cJSON_AddItemToObject(o, keep[i], cJSON_Duplicate(v, 1));
    }
  }
  const cJSON *gate_ok = cJSON_GetObjectItemCaseSensitive(render, "gate_ok");
  if (cJSON_IsBool(gate_ok)) {
    cJSON_AddBoolToObject(o, "render_gate_ok", cJSON_IsTrue(gate_ok));
  }
  const char *ge = str_of(render, "gate_error");
  if (ge != NULL) {
    cJSON_AddStringToObject(o, "render_gate_error", ge);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static int gate_start(ain_step_t *step, ain_err_t *err) {
  const ain_task_t *t = &step->task;
  gate_t *g = calloc(1, sizeof *g);
  if (g == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  int rc;
  g->deps = t->deps_result != NULL ? cJSON_Parse(t->deps_result) : NULL;
  const cJSON *judge = cJSON_GetObjectItemCaseSensitive(g->deps, "judge");
  const cJSON *render = cJSON_GetObjectItemCaseSensitive(g->deps, "render");
  const char *decision = str_of(judge, "decision");
  const cJSON *conf = cJSON_GetObjectItemCaseSensitive(judge, "confidence");
  if (decision == NULL || !cJSON_IsNumber(conf)) {
    rc = ain_err_field(err, AIN_EINVAL, "deps.judge",
                       "review_gate needs the judge's result {decision, confidence, checks} "
                       "(does the step depend on judge?)");
    goto fail;
  }
  const cJSON *checks = cJSON_GetObjectItemCaseSensitive(judge, "checks");
  g->checks = cJSON_IsArray(checks) ? cJSON_PrintUnformatted(checks) : ain_strdup("[]");
  g->report = build_report(judge, render);
  const cJSON *arts = cJSON_GetObjectItemCaseSensitive(render, "artifacts");
  const char *vid = str_of(render, "video_id");
  g->in.video_id = (char *)(vid != NULL ? vid : (t->dag_id[0] ? t->dag_id : t->id));
  g->in.dag_id = (char *)t->dag_id;
  g->in.task_id = (char *)t->id;
  g->in.persona_id = t->persona_id;
  g->in.decision = (char *)decision;
  g->in.confidence = conf->valuedouble;
  g->in.checks = g->checks;
  g->in.report = g->report;
  g->in.video_key = (char *)str_of(arts, "video");
  g->in.thumbnail_key = (char *)str_of(arts, "thumbnail");
  ain_store_req_video_judged(&g->req, &g->in);
  g->req.data = g;
  g->req.cb = on_judged;
  g->req.actor = step->shard->owner;
  g->step = step;
  step->priv = g;
  if ((rc = ain_store_submit(step->shard->store, &g->req)) != 0) {
    ain_err_set(err, rc, "%s", g->req.err.msg);
    step->priv = NULL;
    goto fail;
  }
  return 0;
fail:
  gate_free(g);
  return rc;
}

static void gate_cancel(ain_step_t *step, int code, const char *why) {
  gate_t *g = step->priv;
  if (g != NULL) {
    g->step = NULL; /* the store callback frees it */
    step->priv = NULL;
  }
  ain_step_fail(step, code, why, 0);
}

const ain_builtin_t ain__builtin_review_gate = {"review_gate", gate_start, gate_cancel};
