/* The "expand" built-in: turns a generate_video task into the DAG that
 * scripts/agents/pipeline.lua's build(payload, ctx) returns. The DAG is validated here (unique step
 * names, known dependencies, no cycles, handler names) and committed atomically with the expanding
 * task's success, so a retried or crashed expansion can never create the DAG twice. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "sched/ctx.h"
#include "sched/internal.h"

#define MAX_STEPS 256

static int fail_spec(ain_err_t *err, const char *fmt, const char *a, const char *b) {
  char msg[600];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  return ain_err_set(err, AIN_EINVAL, "pipeline.build: %s", msg);
}

static int index_of(cJSON *const *names, int n, const char *name) {
  for (int i = 0; i < n; i++) {
    if (strcmp(names[i]->valuestring, name) == 0) {
      return i;
    }
  }
  return -1;
}

static int int_field(cJSON *step, const char *key, int64_t min, int64_t max, int64_t *out,
                     const char *stepname, ain_err_t *err) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(step, key);
  if (v == NULL || cJSON_IsNull(v)) {
    *out = 0;
    return 0;
  }
  if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble ||
      v->valuedouble < (double)min || v->valuedouble > (double)max) {
    char msg[300];
    snprintf(msg, sizeof msg, "step '%s': %s must be an integer in %lld..%lld", stepname, key,
             (long long)min, (long long)max);
    return ain_err_set(err, AIN_EINVAL, "pipeline.build: %s", msg);
  }
  *out = (int64_t)v->valuedouble;
  return 0;
}

/* Checks the steps for a cycle with Kahn's algorithm over the dependency matrix. */
static int has_cycle(int n, const unsigned char *dep /* dep[i*n+j]: i depends on j */) {
  int indeg[MAX_STEPS], done = 0, queue[MAX_STEPS], qh = 0, qt = 0;
  for (int i = 0; i < n; i++) {
    indeg[i] = 0;
    for (int j = 0; j < n; j++) {
      indeg[i] += dep[i * n + j];
    }
    if (indeg[i] == 0) {
      queue[qt++] = i;
    }
  }
  while (qh < qt) {
    int j = queue[qh++];
    done++;
    for (int i = 0; i < n; i++) {
      if (dep[i * n + j] && --indeg[i] == 0) {
        queue[qt++] = i;
      }
    }
  }
  return done != n;
}

/* Builds the batch from build()'s result. On error returns AIN_EINVAL naming the step/field. */
static int build_batch(ain_step_t *step, const char *json, ain_store_batch_t **out, ain_err_t *err) {
  const ain_task_t *root = &step->task;
  int rc = 0;
  unsigned char *dep = NULL;
  ain_store_batch_t *b = NULL;
  cJSON *doc = cJSON_Parse(json);
  cJSON *steps = doc ? cJSON_GetObjectItemCaseSensitive(doc, "steps") : NULL;
  if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
    rc = fail_spec(err, "must return {steps = {...}} with at least one step%s%s", NULL, NULL);
    goto done;
  }
  int n = cJSON_GetArraySize(steps);
  if (n > MAX_STEPS) {
    rc = ain_err_set(err, AIN_EINVAL, "pipeline.build: %d steps, at most %d allowed", n, MAX_STEPS);
    goto done;
  }
  cJSON *names[MAX_STEPS];
  for (int i = 0; i < n; i++) {
    cJSON *s = cJSON_GetArrayItem(steps, i);
    cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
    cJSON *handler = cJSON_GetObjectItemCaseSensitive(s, "handler");
    if (!cJSON_IsObject(s) || !cJSON_IsString(name) || name->valuestring[0] == '\0') {
      char idx[16];
      snprintf(idx, sizeof idx, "%d", i + 1);
      rc = fail_spec(err, "step %s: needs a non-empty string 'name'%s", idx, NULL);
      goto done;
    }
    if (!cJSON_IsString(handler) || handler->valuestring[0] == '\0') {
      rc = fail_spec(err, "step '%s': needs a string 'handler'%s", name->valuestring, NULL);
      goto done;
    }
    if (strncmp(handler->valuestring, "lua:", 4) != 0 && !ain_builtin_find(handler->valuestring)) {
      rc = fail_spec(err, "step '%s': unknown built-in handler '%s'", name->valuestring,
                     handler->valuestring);
      goto done;
    }
    if (index_of(names, i, name->valuestring) >= 0) {
      rc = fail_spec(err, "step name '%s' is used twice%s", name->valuestring, NULL);
      goto done;
    }
    names[i] = name;
  }
  dep = calloc((size_t)n * (size_t)n, 1);
  b = calloc(1, sizeof *b);
  if (dep == NULL || b == NULL) {
    abort();
  }
  b->tasks = calloc((size_t)n, sizeof *b->tasks);
  b->dag = calloc(1, sizeof *b->dag);
  if (b->tasks == NULL || b->dag == NULL) {
    abort();
  }
  size_t ndeps = 0;
  for (int i = 0; i < n; i++) {
    cJSON *s = cJSON_GetArrayItem(steps, i);
    cJSON *deps = cJSON_GetObjectItemCaseSensitive(s, "deps");
    /* Lua's empty table {} arrives as an empty JSON object: that is an empty list too. */
    if (cJSON_IsObject(deps) && deps->child == NULL) {
      deps = NULL;
    }
    if (deps != NULL && !cJSON_IsArray(deps)) {
      rc = fail_spec(err, "step '%s': deps must be a list of step names%s", names[i]->valuestring,
                     NULL);
      goto done;
    }
    cJSON *d;
    cJSON_ArrayForEach(d, deps) {
      int j = cJSON_IsString(d) ? index_of(names, n, d->valuestring) : -1;
      if (j < 0) {
        rc = fail_spec(err, "step '%s': depends on unknown step '%s'", names[i]->valuestring,
                       cJSON_IsString(d) ? d->valuestring : "(not a string)");
        goto done;
      }
      if (j == i) {
        rc = fail_spec(err, "step '%s': depends on itself%s", names[i]->valuestring, NULL);
        goto done;
      }
      if (!dep[i * n + j]) {
        dep[i * n + j] = 1;
        ndeps++;
      }
    }
  }
  if (has_cycle(n, dep)) {
    rc = fail_spec(err, "the steps' dependencies form a cycle%s%s", NULL, NULL);
    goto done;
  }
  ain_uuid7(b->dag->id);
  snprintf(b->dag->root_task_id, sizeof b->dag->root_task_id, "%s", root->id);
  b->dag->persona_id = ain_strdup(root->persona_id);
  b->dag->steps_total = n;
  b->ntasks = (size_t)n;
  for (int i = 0; i < n; i++) {
    cJSON *s = cJSON_GetArrayItem(steps, i);
    ain_task_t *t = &b->tasks[i];
    int64_t tmo = 0, att = 0, prio = 0;
    if ((rc = int_field(s, "timeout_ms", 1, 86400000, &tmo, names[i]->valuestring, err)) != 0 ||
        (rc = int_field(s, "max_attempts", 1, 100, &att, names[i]->valuestring, err)) != 0 ||
        (rc = int_field(s, "priority", -1000, 1000, &prio, names[i]->valuestring, err)) != 0) {
      goto done;
    }
    ain_uuid7(t->id);
    snprintf(t->dag_id, sizeof t->dag_id, "%s", b->dag->id);
    t->type = ain_strdup("step");
    t->step = ain_strdup(names[i]->valuestring);
    t->handler = ain_strdup(cJSON_GetObjectItemCaseSensitive(s, "handler")->valuestring);
    t->persona_id = ain_strdup(root->persona_id);
    /* every step is a child of this expansion's span, the DAG's root (docs/tracing.md) */
    t->traceparent = ain_strdup(step->traceparent);
    /* A step's payload: the root task's payload, overlaid with the step's own payload table. */
    cJSON *p = cJSON_Parse(root->payload ? root->payload : "{}");
    if (!cJSON_IsObject(p)) {
      cJSON_Delete(p);
      p = cJSON_CreateObject();
    }
    cJSON *sp = cJSON_GetObjectItemCaseSensitive(s, "payload"), *kv;
    if (cJSON_IsObject(sp)) {
      cJSON_ArrayForEach(kv, sp) {
        cJSON_DeleteItemFromObjectCaseSensitive(p, kv->string);
        cJSON_AddItemToObject(p, kv->string, cJSON_Duplicate(kv, 1));
      }
    }
    t->payload = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    t->timeout_ms = tmo;
    t->max_attempts = (int)(att > 0 ? att : step->shard->engine->cfg->queue.default_max_attempts);
    t->priority = (int)(prio != 0 ? prio : root->priority);
  }
  ain_dep_t *edges = calloc(ndeps ? ndeps : 1, sizeof *edges);
  if (edges == NULL) {
    abort();
  }
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) {
      if (dep[i * n + j]) {
        edges[k].task_id = ain_strdup(b->tasks[i].id);
        edges[k].depends_on = ain_strdup(b->tasks[j].id);
        k++;
      }
    }
  }
  b->deps = edges;
  b->ndeps = ndeps;
  *out = b;
  b = NULL;
done:
  ain_store_batch_free(b);
  free(dep);
  cJSON_Delete(doc);
  return rc;
}

static void on_built(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                     void *data) {
  ain_step_t *step = data;
  step->call = NULL;
  if (status != 0) {
    ain_step_fail(step, status, error, 0);
    return;
  }
  ain_err_t err;
  ain_err_clear(&err);
  ain_store_batch_t *b = NULL;
  int rc = build_batch(step, result_json, &b, &err);
  if (rc != 0) {
    ain_step_fail(step, rc, err.msg, 0);
    return;
  }
  char result[160];
  snprintf(result, sizeof result, "{\"dag_id\":\"%s\",\"steps\":%zu}", b->dag->id, b->ntasks);
  /* pipeline's version and the ctx it ran on, for replay */
  char *io = ain_lua_call_io(call); /* what the outside answered, served back in replay */
  char *detail = ain_step_call_detail_io(ain_lua_call_versions(call), step->ctx, io);
  free(io);
  ain_step_succeed(step, result, b, detail);
  free(detail);
}

static int expand_start(ain_step_t *step, ain_err_t *err) {
  free(step->ctx);
  step->ctx = ain_step_ctx_json(step); /* kept for the audit detail (on_built) */
  ain_lua_call_opts_t o = {.module = "pipeline",
                           .function = "build",
                           .payload_json = step->task.payload,
                           .ctx_json = step->ctx};
  ain_lua_call_t *call = NULL;
  int rc = ain_lua_call(ain_step_lua(step), &o, on_built, step, &call, err);
  if (rc == 0 && !step->ended) {
    step->call = call;
  }
  return rc;
}

static void expand_cancel(ain_step_t *step, int code, const char *why) {
  if (step->call != NULL) {
    ain_lua_call_cancel(step->call, code, why);
  }
}

const ain_builtin_t ain__builtin_expand = {"expand", expand_start, expand_cancel};
