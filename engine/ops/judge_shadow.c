/* `ain judge shadow` (judge.h): candidate judge versions re-run on the judge decisions recorded
 * in a window, through the same re-run as `ain replay` (ops/replay.h): each decision's recorded
 * payload, ctx and policy versions, the candidates in place of their modules, side effects
 * refused. A module neither the recording nor a candidate names (a new judge requiring a
 * safety/ module the old one did not) comes from the current files of scripts_dir, checked as the
 * registry checks them. The report counts decision transitions (pass->review ...) and lists the
 * items whose decision changed, with the candidate's findings.
 * Relies on: ops/replay.h, ops/policy.h, store/store.h (decision rows of the audit log), judge.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ops/judge.h"
#include "ops/policy.h"
#include "ops/replay.h"

#define JUDGE_HANDLER "lua:judge.decide"

/* The decision field of a result (JSON text), or "error" when the call failed, or "none". */
static const char *decision_of(const cJSON *res, int failed) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(res, "decision");
  return failed ? "error" : cJSON_IsString(d) ? d->valuestring : "none";
}

static void count_transition(cJSON *transitions, const char *from, const char *to) {
  for (cJSON *t = transitions->child; t != NULL; t = t->next) {
    if (strcmp(cJSON_GetObjectItem(t, "from")->valuestring, from) == 0 &&
        strcmp(cJSON_GetObjectItem(t, "to")->valuestring, to) == 0) {
      cJSON *c = cJSON_GetObjectItem(t, "count");
      cJSON_SetNumberValue(c, c->valuedouble + 1);
      return;
    }
  }
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "from", from);
  cJSON_AddStringToObject(t, "to", to);
  cJSON_AddNumberToObject(t, "count", 1);
  cJSON_AddItemToArray(transitions, t);
}

static void bump(cJSON *report, const char *key) {
  cJSON *n = cJSON_GetObjectItem(report, key);
  cJSON_SetNumberValue(n, n->valuedouble + 1);
}

static cJSON *array_or_empty(const cJSON *v) {
  return cJSON_IsArray(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateArray();
}

/* Re-runs one recorded decision; adds it to the report. Only a store failure is an error. */
static int shadow_one(ain_ops_t *ops, const ain_audit_t *row,
                      const ain_ops_sources_t *base, const ain_ops_sources_t *candidates,
                      ain_ops_version_cache_t *cache, cJSON *report, ain_err_t *err) {
  cJSON *transitions = cJSON_GetObjectItem(report, "transitions");
  cJSON *items = cJSON_GetObjectItem(report, "items");
  ain_store_req_t treq;
  ain_store_req_get_task(&treq, row->task_id);
  ain_ops_rerun_t run;
  memset(&run, 0, sizeof run);
  cJSON *old = NULL, *neu = NULL;
  ain_err_t terr;
  ain_err_clear(&terr);
  int rc = ain_ops_wait(ops, &treq, NULL, &terr);
  if (rc == AIN_ENOTFOUND) { /* purged since the rows were read: nothing to re-run */
    bump(report, "errors");
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "task_id", row->task_id ? row->task_id : "");
    cJSON_AddStringToObject(item, "new", "error");
    cJSON_AddStringToObject(item, "error", terr.msg);
    cJSON_AddItemToArray(items, item);
    rc = 0;
    goto done;
  }
  if (rc != 0) {
    *err = terr;
    goto done;
  }
  const ain_task_t *t = &treq.u.get_task.task;
  ain_ops_rerun_in_t in = {.task = t,
                           .rows = row,
                           .nrows = 1,
                           .base = base,
                           .candidates = candidates,
                           .cache = cache};
  ain_err_t rerr;
  ain_err_clear(&rerr);
  old = cJSON_Parse(t->result ? t->result : "");
  const char *from = decision_of(old, old == NULL);
  cJSON *item = NULL;
  if (ain_ops_rerun(ops, &in, &run, &rerr) != 0) {
    /* this decision cannot be re-run (its recorded versions are gone): say so, go on */
    bump(report, "errors");
    item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "new", "error");
    cJSON_AddStringToObject(item, "error", rerr.msg);
  } else {
    neu = cJSON_Parse(run.outcome.result ? run.outcome.result : "");
    const char *to = decision_of(neu, run.outcome.status != 0);
    count_transition(transitions, from, to);
    if (strcmp(from, to) == 0 && run.changed) {
      bump(report, "details_changed"); /* same decision, other fields (confidence, findings) */
    }
    if (strcmp(from, to) != 0) {
      bump(report, "changed");
      item = cJSON_CreateObject();
      cJSON_AddStringToObject(item, "new", to);
      if (run.outcome.status != 0) {
        cJSON_AddStringToObject(item, "error", run.outcome.error ? run.outcome.error : "");
      }
      cJSON_AddItemToObject(item, "categories",
                            array_or_empty(cJSON_GetObjectItemCaseSensitive(neu, "categories")));
      cJSON_AddItemToObject(item, "findings",
                            array_or_empty(cJSON_GetObjectItemCaseSensitive(neu, "findings")));
    }
  }
  if (item != NULL) {
    cJSON_AddStringToObject(item, "task_id", t->id);
    cJSON_AddStringToObject(item, "dag_id", t->dag_id);
    if (t->persona_id) {
      cJSON_AddStringToObject(item, "persona_id", t->persona_id);
    }
    cJSON_AddStringToObject(item, "old", from);
    cJSON_AddNumberToObject(item, "recorded_at", (double)row->ts);
    cJSON_AddItemToArray(items, item);
  }
done:
  cJSON_Delete(old);
  cJSON_Delete(neu);
  ain_ops_rerun_free(&run);
  ain_store_req_cleanup(&treq);
  return rc;
}

int ain_ops_judge_shadow(ain_ops_t *ops, const ain_judge_shadow_opts_t *o, cJSON **out,
                         ain_err_t *err) {
  *out = NULL;
  ain_ops_sources_t base = {0}, candidates = {0};
  ain_ops_version_cache_t cache = {0};
  ain_store_req_t areq;
  ain_store_req_audit_decisions(&areq, JUDGE_HANDLER, o->since_ms, o->limit);
  cJSON *report = cJSON_CreateObject(), *rejected = cJSON_CreateArray();
  int rc = 0;
  if (o->nshas == 0) {
    rc = ain_err_field(err, AIN_EINVAL, "policy_sha", "shadow needs a candidate version");
    goto fail;
  }
  cJSON_AddBoolToObject(report, "ok", 1);
  cJSON *cand = cJSON_AddArrayToObject(report, "candidates");
  if ((rc = ain_ops_candidates_fetch(ops, o->shas, o->nshas, &candidates, cand, err)) != 0) {
    goto fail;
  }
  if ((rc = ain_ops_sources_from_dir(ops->cfg, ops->cfg->scripts_dir, &base, rejected, err)) !=
      0) {
    goto fail;
  }
  cJSON_AddItemToObject(report, "rejected_files", rejected);
  rejected = NULL;
  if ((rc = ain_ops_wait(ops, &areq, NULL, err)) != 0) {
    goto fail;
  }
  cJSON_AddNumberToObject(report, "since_ms", (double)o->since_ms);
  cJSON_AddNumberToObject(report, "decisions", (double)areq.u.audit.nrows);
  cJSON_AddNumberToObject(report, "changed", 0);
  cJSON_AddNumberToObject(report, "details_changed", 0);
  cJSON_AddNumberToObject(report, "errors", 0);
  cJSON_AddArrayToObject(report, "transitions");
  cJSON_AddArrayToObject(report, "items");
  for (size_t i = 0; i < areq.u.audit.nrows; i++) {
    if ((rc = shadow_one(ops, &areq.u.audit.rows[i], &base, &candidates, &cache, report, err)) !=
        0) {
      goto fail;
    }
  }
  *out = report;
  report = NULL;
fail:
  cJSON_Delete(report);
  cJSON_Delete(rejected);
  ain_store_req_cleanup(&areq);
  ain_ops_version_cache_free(&cache);
  ain_ops_sources_free(&base);
  ain_ops_sources_free(&candidates);
  return rc;
}
