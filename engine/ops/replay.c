/* Re-running recorded decisions (replay.h): shared by `ain replay` and `ain judge shadow`. The
 * exchanges a call recorded ("io": model providers, cache reads) are served back to the re-run.
 * Relies on: ops/policy.h, sched/ctx.h and sched/step.h (the engine's ctx builder and handler
 * names), store/store.h, core/json.h. */
#include "ops/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "sched/ctx.h"
#include "sched/step.h"

int ain_ops_handler_of(const ain_task_t *t, char *mod, size_t mcap, char *fn, size_t fcap) {
  char *resolved = t->handler == NULL && t->type != NULL ? ain_handler_for_type(t->type) : NULL;
  const char *h = t->handler ? t->handler : resolved;
  int rc = -1;
  if (h != NULL && strcmp(h, "expand") == 0) {
    snprintf(mod, mcap, "pipeline");
    snprintf(fn, fcap, "build");
    rc = 0;
  } else if (h != NULL) {
    const char *dot = strrchr(h, '.');
    if (strncmp(h, "lua:", 4) == 0 && dot != NULL && dot != h + 4 &&
        (size_t)(dot - h - 4) < mcap) {
      snprintf(mod, mcap, "%.*s", (int)(dot - h - 4), h + 4);
      snprintf(fn, fcap, "%s", dot + 1);
      rc = 0;
    }
  }
  free(resolved);
  return rc;
}

/* The policies object of the newest audit row that has one ({"policies":..,"ctx":..,"io":..} or,
 * on a failed attempt, {"error":..,"detail":{"policies":..}}), the ctx recorded beside it (*ctx,
 * NULL when the row predates recorded contexts) and the exchanges the call recorded (*io, JSON
 * array text served back by the replay host, NULL when none). Caller deletes / frees. */
static cJSON *recorded_call(const ain_audit_t *rows, size_t n, char **ctx, char **io) {
  *ctx = NULL;
  *io = NULL;
  for (size_t i = n; i-- > 0;) {
    cJSON *d = cJSON_Parse(rows[i].detail ? rows[i].detail : "");
    cJSON *holder = d, *p = cJSON_GetObjectItemCaseSensitive(d, "policies");
    if (p == NULL) {
      holder = cJSON_GetObjectItemCaseSensitive(d, "detail");
      p = cJSON_GetObjectItemCaseSensitive(holder, "policies");
    }
    if (cJSON_IsObject(p) && p->child != NULL) {
      cJSON *copy = cJSON_Duplicate(p, 1);
      const cJSON *c = cJSON_GetObjectItemCaseSensitive(holder, "ctx");
      if (cJSON_IsObject(c)) {
        *ctx = cJSON_PrintUnformatted(c);
      }
      const cJSON *x = cJSON_GetObjectItemCaseSensitive(holder, "io");
      if (cJSON_IsArray(x)) {
        *io = cJSON_PrintUnformatted(x);
      }
      cJSON_Delete(d);
      return copy;
    }
    cJSON_Delete(d);
  }
  return NULL;
}

/* For a decision recorded without its ctx: the ctx the engine's builder makes from the task, this
 * config and the DAG's stored results of its dependencies. Caller frees. */
static char *rebuild_ctx(ain_ops_t *ops, const ain_task_t *t, ain_err_t *err) {
  cJSON *deps = cJSON_CreateObject();
  if (t->dag_id[0]) {
    ain_store_req_t req;
    ain_store_req_get_dag(&req, t->dag_id);
    if (ain_ops_wait(ops, &req, NULL, err) != 0) {
      ain_store_req_cleanup(&req);
      cJSON_Delete(deps);
      return NULL;
    }
    for (size_t i = 0; i < req.u.get_dag.ndeps; i++) {
      if (strcmp(req.u.get_dag.deps[i].task_id, t->id) != 0) {
        continue;
      }
      for (size_t k = 0; k < req.u.get_dag.ntasks; k++) {
        const ain_task_t *d = &req.u.get_dag.tasks[k];
        if (strcmp(d->id, req.u.get_dag.deps[i].depends_on) == 0) {
          cJSON *res = d->result ? cJSON_Parse(d->result) : NULL;
          cJSON_AddItemToObject(deps, d->step ? d->step : d->id, res ? res : cJSON_CreateNull());
        }
      }
    }
    ain_store_req_cleanup(&req);
  }
  char *dj = cJSON_PrintUnformatted(deps);
  cJSON_Delete(deps);
  char *ctx = ain_step_ctx_build(t, "replay", ops->cfg, dj);
  free(dj);
  return ctx;
}

void ain_ops_version_cache_free(ain_ops_version_cache_t *c) {
  ain_ops_sources_free(&c->by_sha);
}

/* Every recorded module version (module -> sha) as a source layer, from the cache or the store. */
static int recorded_layer(ain_ops_t *ops, const cJSON *policies,
                          ain_ops_version_cache_t *cache, ain_ops_sources_t *out, ain_err_t *err) {
  for (const cJSON *p = policies->child; p != NULL; p = p->next) {
    if (!cJSON_IsString(p)) {
      continue;
    }
    const ain_ops_source_t *hit = NULL;
    for (size_t i = 0; cache != NULL && i < cache->by_sha.n; i++) {
      if (strcmp(cache->by_sha.v[i].sha, p->valuestring) == 0 &&
          strcmp(cache->by_sha.v[i].module, p->string) == 0) {
        hit = &cache->by_sha.v[i];
      }
    }
    if (hit != NULL) {
      ain_ops_sources_put(out, hit->module, hit->sha, hit->source);
      continue;
    }
    ain_store_req_t req;
    ain_store_req_script_get(&req, p->valuestring, p->string);
    int rc = ain_ops_wait(ops, &req, NULL, err);
    if (rc != 0) {
      ain_store_req_cleanup(&req);
      ain_err_prefix(err, "recorded policy %s", p->string);
      return rc;
    }
    const ain_script_version_t *v = &req.u.script_get.version;
    ain_ops_sources_put(out, p->string, v->sha, v->source);
    if (cache != NULL) {
      ain_ops_sources_append(&cache->by_sha, p->string, v->sha, v->source);
    }
    ain_store_req_cleanup(&req);
  }
  return 0;
}

int ain_ops_rerun(ain_ops_t *ops, const ain_ops_rerun_in_t *in, ain_ops_rerun_t *out,
                  ain_err_t *err) {
  memset(out, 0, sizeof *out);
  const ain_task_t *t = in->task;
  ain_ops_sources_t recorded = {0};
  ain_ops_runner_t *runner = NULL;
  char *canon_a = NULL, *canon_b = NULL;
  int rc = 0;
  if (ain_ops_handler_of(t, out->module, sizeof out->module, out->function,
                         sizeof out->function) != 0) {
    rc = ain_err_set(err, AIN_EINVAL, "task %s ran handler '%s', not a Lua policy", t->id,
                     t->handler ? t->handler : "");
    goto fail;
  }
  out->recorded = recorded_call(in->rows, in->nrows, &out->ctx, &out->io);
  out->ctx_recorded = out->ctx != NULL;
  if (out->recorded == NULL && (in->candidates == NULL || in->candidates->n == 0)) {
    rc = ain_err_set(err, AIN_ENOTFOUND,
                     "task %s has no recorded policy versions (it has not run yet); pass "
                     "--policy-sha to run a given version",
                     t->id);
    goto fail;
  }
  if (out->recorded == NULL) {
    out->recorded = cJSON_CreateObject();
  }
  if (out->ctx == NULL && (out->ctx = rebuild_ctx(ops, t, err)) == NULL) {
    rc = err->code ? err->code : AIN_ESTORE;
    goto fail;
  }
  if ((rc = recorded_layer(ops, out->recorded, in->cache, &recorded, err)) != 0) {
    goto fail;
  }
  const ain_ops_sources_t *layers[] = {in->base, &recorded, in->candidates};
  if ((rc = ain_ops_runner_new(ops, "replay", layers, 3, &runner, err)) != 0 ||
      (rc = ain_ops_runner_call(runner, out->module, out->function, t->payload, out->ctx,
                                out->io, &out->outcome, err)) != 0) {
    goto fail;
  }
  /* Equal decisions have equal canonical texts; two failures are equal when they fail alike. */
  const ain_ops_outcome_t *o = &out->outcome;
  canon_a = ain_json_canonical_text(t->result, 0);
  canon_b = ain_json_canonical_text(o->result, 0);
  out->changed = !(canon_a && canon_b && strcmp(canon_a, canon_b) == 0) &&
                 !(canon_a == NULL && canon_b == NULL && o->error && t->last_error &&
                   strncmp(o->error, t->last_error, strcspn(t->last_error, "\n")) == 0);
fail:
  free(canon_a);
  free(canon_b);
  ain_ops_runner_free(runner);
  ain_ops_sources_free(&recorded);
  return rc;
}

void ain_ops_rerun_free(ain_ops_rerun_t *r) {
  cJSON_Delete(r->recorded);
  free(r->ctx);
  free(r->io);
  ain_ops_outcome_free(&r->outcome);
  memset(r, 0, sizeof *r);
}

int ain_ops_replay(ain_ops_t *ops, const char *task_id, const char *policy_sha,
                   ain_ops_replay_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  ain_ops_sources_t candidates = {0};
  ain_store_req_get_task(&out->task_req, task_id);
  ain_store_req_audit(&out->audit_req, task_id, NULL);
  int rc = ain_ops_wait(ops, &out->task_req, NULL, err);
  if (rc == 0) {
    rc = ain_ops_wait(ops, &out->audit_req, NULL, err);
  }
  const ain_task_t *t = &out->task_req.u.get_task.task;
  char module[128], fn[128];
  if (rc == 0 && policy_sha != NULL) {
    if (ain_ops_handler_of(t, module, sizeof module, fn, sizeof fn) != 0) {
      rc = ain_err_set(err, AIN_EINVAL, "task %s ran handler '%s', not a Lua policy", t->id,
                       t->handler ? t->handler : "");
    } else {
      rc = ain_ops_sources_fetch(ops, policy_sha, module, &candidates, NULL, err);
    }
  }
  if (rc == 0) {
    ain_ops_rerun_in_t in = {.task = t,
                             .rows = out->audit_req.u.audit.rows,
                             .nrows = out->audit_req.u.audit.nrows,
                             .candidates = &candidates};
    rc = ain_ops_rerun(ops, &in, &out->run, err);
  }
  ain_ops_sources_free(&candidates);
  return rc;
}

void ain_ops_replay_free(ain_ops_replay_t *r) {
  ain_ops_rerun_free(&r->run);
  ain_store_req_cleanup(&r->task_req);
  ain_store_req_cleanup(&r->audit_req);
}
