/* `ain replay TASK_ID [--policy-sha SHA]`: re-runs a recorded policy decision on its recorded
 * inputs and prints the old and the new decision side by side. The inputs are the task's payload
 * and the ctx the decision ran on, as its audit row recorded it ({"policies":..,"ctx":..}); a
 * decision recorded before contexts were (no "ctx") gets one rebuilt by the engine's own builder
 * (sched/ctx.h) from the task, this config and the DAG's stored results, and the output says so.
 * The code is every policy version the audit row names, loaded from script_versions by sha (or
 * SHA for the task's own module). Decisions are compared as canonical JSON (core/json.h), so the
 * order of keys is never a change. The replay host loads nothing from disk and refuses side
 * effects (ain.spawn and friends return "EREPLAY: ..."), so a replay can never publish, spawn or
 * write; the ain.http and ain.store.get answers the call recorded ("io") are served back from the
 * recording (lua/io_record.c), so a decision that asked a model provider replays without one.
 * Relies on: cli/internal.h, store/store.h, sched/ctx.h, core/json.h, lua/host.h, cJSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "core/json.h"
#include "core/util.h"
#include "lua/host.h"
#include "sched/ctx.h"
#include "sched/step.h"

typedef struct {
  int done;
  int status;
  char *result; /* JSON object text */
  char *error;
  char *versions;
} outcome_t;

/* "lua:judge.decide" -> judge, decide; the DAG expansion built-in runs pipeline.build. */
static int handler_of(const ain_task_t *t, char *mod, size_t mcap, char *fn, size_t fcap) {
  /* a task enqueued without a handler runs the one the scheduler names for its type */
  char *resolved = t->handler == NULL && t->type != NULL ? ain_handler_for_type(t->type) : NULL;
  const char *h = t->handler ? t->handler : resolved;
  int rc = -1;
  if (h == NULL) {
    rc = -1;
  } else if (strcmp(h, "expand") == 0) {
    snprintf(mod, mcap, "pipeline");
    snprintf(fn, fcap, "build");
    rc = 0;
  } else {
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
static cJSON *recorded_call(const ain_store_req_t *audit, char **ctx, char **io) {
  *ctx = NULL;
  *io = NULL;
  for (size_t i = audit->u.audit.nrows; i-- > 0;) {
    cJSON *d = cJSON_Parse(audit->u.audit.rows[i].detail ? audit->u.audit.rows[i].detail : "");
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
static char *rebuild_ctx(ain_cli_t *cli, const ain_task_t *t, ain_err_t *err) {
  cJSON *deps = cJSON_CreateObject();
  if (t->dag_id[0]) {
    ain_store_req_t req;
    ain_store_req_get_dag(&req, t->dag_id);
    if (ain_cli_wait(cli, &req, err) != 0) {
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
  char *ctx = ain_step_ctx_build(t, "replay", &cli->cfg, dj);
  free(dj);
  return ctx;
}

/* Loads every module version of `policies` (module -> sha) from the store into h; an override
 * replaces the sha of `module`. */
static int load_versions(ain_cli_t *cli, ain_lua_host_t *h, cJSON *policies, const char *module,
                         const char *override, ain_err_t *err) {
  if (override != NULL) {
    cJSON_DeleteItemFromObjectCaseSensitive(policies, module);
    cJSON_AddStringToObject(policies, module, override);
  }
  for (cJSON *p = policies->child; p != NULL; p = p->next) {
    if (!cJSON_IsString(p)) {
      continue;
    }
    ain_store_req_t req;
    ain_store_req_script_get(&req, p->valuestring, p->string);
    int rc = ain_cli_wait(cli, &req, err);
    if (rc == 0) {
      const ain_script_version_t *v = &req.u.script_get.version;
      if (v->error != NULL && override != NULL && strcmp(p->string, module) == 0) {
        rc = ain_err_set(err, AIN_EINVAL, "version %.12s of %s was rejected: %s", v->sha, p->string,
                         v->error);
      } else {
        rc = ain_lua_host_set_source(h, p->string, v->source, strlen(v->source), NULL, err);
        cJSON_SetValuestring(p, v->sha); /* a prefix given by the operator, made full */
      }
    }
    ain_store_req_cleanup(&req);
    if (rc != 0) {
      ain_err_prefix(err, "policy %s", p->string);
      return rc;
    }
  }
  return 0;
}

static void on_done(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                    void *data) {
  outcome_t *o = data;
  o->done = 1;
  o->status = status;
  o->result = result_json ? ain_strdup(result_json) : NULL;
  o->error = error ? ain_strdup(error) : NULL;
  o->versions = ain_strdup(ain_lua_call_versions(call));
}

/* Canonical pretty JSON of a decision (keys sorted, so both columns list them in one order), or
 * the error text. Caller frees. */
static char *pretty(const char *json, const char *error) {
  char *s = ain_json_canonical_text(json, 1);
  return s ? s : ain_strdup(error ? error : "(nothing recorded)");
}

/* Two texts in columns of `w` characters. */
static void side_by_side(const char *a, const char *b, int w) {
  printf("%-*s | %s\n", w, "recorded", "replayed");
  for (int i = 0; i < w; i++) {
    putchar('-');
  }
  printf("-+-");
  for (int i = 0; i < w; i++) {
    putchar('-');
  }
  putchar('\n');
  while (*a || *b) {
    size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
    int ca = (int)(la > (size_t)w ? (size_t)w : la), cb = (int)lb;
    const char *mark = (la == lb && strncmp(a, b, la) == 0) ? "|" : "*";
    printf("%-*.*s %s %.*s\n", w, ca, a, mark, cb, b);
    a += la + (a[la] == '\n');
    b += lb + (b[lb] == '\n');
  }
}

static void print_json(const ain_task_t *t, const char *module, const char *fn,
                       const cJSON *recorded_pol, int ctx_recorded, const outcome_t *o,
                       int changed) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddBoolToObject(root, "ok", 1);
  cJSON_AddStringToObject(root, "task_id", t->id);
  cJSON_AddStringToObject(root, "module", module);
  cJSON_AddStringToObject(root, "function", fn);
  cJSON *rec = cJSON_AddObjectToObject(root, "recorded");
  cJSON_AddStringToObject(rec, "status", ain_task_status_name(t->status));
  cJSON *res = t->result ? cJSON_Parse(t->result) : NULL;
  cJSON_AddItemToObject(rec, "result", res ? res : cJSON_CreateNull());
  if (t->last_error && !res) {
    cJSON_AddStringToObject(rec, "error", t->last_error);
  }
  cJSON_AddItemToObject(rec, "policies", cJSON_Duplicate(recorded_pol, 1));
  cJSON *rep = cJSON_AddObjectToObject(root, "replayed");
  cJSON_AddStringToObject(rep, "status", o->status == 0 ? "succeeded" : ain_err_name(o->status));
  cJSON *nres = o->result ? cJSON_Parse(o->result) : NULL;
  cJSON_AddItemToObject(rep, "result", nres ? nres : cJSON_CreateNull());
  if (o->error) {
    cJSON_AddStringToObject(rep, "error", o->error);
  }
  cJSON *pv = o->versions ? cJSON_Parse(o->versions) : NULL;
  cJSON_AddItemToObject(rep, "policies", pv ? pv : cJSON_CreateObject());
  cJSON_AddStringToObject(root, "ctx", ctx_recorded ? "recorded" : "rebuilt");
  cJSON_AddBoolToObject(root, "changed", changed);
  char *s = cJSON_PrintUnformatted(root);
  printf("%s\n", s);
  free(s);
  cJSON_Delete(root);
}

/* Runs module.fn on the payload and ctx in a side-effect-free host that answers the recorded
 * exchanges io (may be NULL) from the recording; fills o. */
static int run_replay(ain_cli_t *cli, const ain_task_t *t, const char *module, const char *fn,
                      cJSON *policies, const char *override, const char *ctx, const char *io,
                      outcome_t *o, ain_err_t *err) {
  ain_lua_opts_t lo = {.scripts_dir = cli->cfg.scripts_dir,
                       .name = "replay",
                       .mem_limit = (size_t)cli->cfg.lua.mem_limit_mb << 20,
                       .cpu_budget = (uint64_t)cli->cfg.lua.cpu_budget,
                       .allow_ffi = cli->cfg.lua.allow_ffi,
                       .no_side_effects = 1,
                       .sources_only = 1};
  ain_lua_host_t *h = NULL;
  int rc = ain_lua_host_new(&cli->loop, &lo, &h, err);
  if (rc == 0) {
    rc = load_versions(cli, h, policies, module, override, err);
  }
  if (rc == 0) {
    ain_lua_call_opts_t co = {
        .module = module, .function = fn, .payload_json = t->payload, .ctx_json = ctx,
        .replay_io = io};
    rc = ain_lua_call(h, &co, on_done, o, NULL, err);
    while (rc == 0 && !o->done && uv_run(&cli->loop, UV_RUN_ONCE) != 0) {
    }
    if (rc == 0 && !o->done) {
      rc = ain_err_set(err, AIN_EIO, "the replayed call never finished");
    }
  }
  ain_lua_host_free(h);
  return rc;
}

int ain_cli_replay(ain_cli_t *cli) {
  const char *task_id = NULL, *override = NULL;
  for (int i = 0; i < cli->nargs; i++) {
    if (strcmp(cli->args[i], "--policy-sha") == 0 && i + 1 < cli->nargs) {
      override = cli->args[++i];
    } else if (cli->args[i][0] == '-') {
      return ain_cli_usage(cli, "unknown option '%s'", cli->args[i]);
    } else if (task_id == NULL) {
      task_id = cli->args[i];
    } else {
      return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[i]);
    }
  }
  if (task_id == NULL) {
    return ain_cli_usage(cli, "expects a TASK_ID%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  int rc = 0, changed = 0;
  cJSON *policies = NULL, *recorded = NULL;
  char *ctx = NULL, *io = NULL, *canon_a = NULL, *canon_b = NULL;
  int ctx_recorded = 0;
  outcome_t o = {0};
  ain_store_req_t treq, areq;
  ain_store_req_get_task(&treq, task_id);
  ain_store_req_audit(&areq, task_id, NULL);
  if ((rc = ain_cli_wait(cli, &treq, &err)) != 0 || (rc = ain_cli_wait(cli, &areq, &err)) != 0) {
    goto done;
  }
  const ain_task_t *t = &treq.u.get_task.task;
  char module[128], fn[128];
  if (handler_of(t, module, sizeof module, fn, sizeof fn) != 0) {
    rc = ain_err_set(&err, AIN_EINVAL, "task %s ran handler '%s', not a Lua policy", t->id,
                     t->handler ? t->handler : "");
    goto done;
  }
  recorded = recorded_call(&areq, &ctx, &io);
  ctx_recorded = ctx != NULL;
  if (recorded == NULL && override == NULL) {
    rc = ain_err_set(&err, AIN_ENOTFOUND,
                     "task %s has no recorded policy versions (it has not "
                     "run yet); pass --policy-sha to run a given version",
                     t->id);
    goto done;
  }
  policies = recorded ? cJSON_Duplicate(recorded, 1) : cJSON_CreateObject();
  if (recorded == NULL) {
    recorded = cJSON_CreateObject();
  }
  if (ctx == NULL && (ctx = rebuild_ctx(cli, t, &err)) == NULL) {
    rc = err.code ? err.code : AIN_ESTORE;
    goto done;
  }
  if ((rc = run_replay(cli, t, module, fn, policies, override, ctx, io, &o, &err)) != 0) {
    goto done;
  }
  /* Equal decisions have equal canonical texts; two failures are equal when they fail alike. */
  canon_a = ain_json_canonical_text(t->result, 0);
  canon_b = ain_json_canonical_text(o.result, 0);
  changed = !(canon_a && canon_b && strcmp(canon_a, canon_b) == 0) &&
            !(canon_a == NULL && canon_b == NULL && o.error && t->last_error &&
              strncmp(o.error, t->last_error, strcspn(t->last_error, "\n")) == 0);
  if (cli->json) {
    print_json(t, module, fn, recorded, ctx_recorded, &o, changed);
  } else {
    printf("task %s  %s.%s  (recorded: %s)\n", t->id, module, fn, ain_task_status_name(t->status));
    printf("ctx:      %s\n", ctx_recorded ? "as recorded with the decision"
                                          : "rebuilt from the task, this config and the DAG (the "
                                            "decision predates recorded contexts)");
    char *rv = cJSON_PrintUnformatted(recorded);
    printf("versions: recorded %s\n          replayed %s\n", rv, o.versions ? o.versions : "{}");
    free(rv);
    char *pa = pretty(t->result, t->last_error);
    char *pb = pretty(o.result, o.error);
    side_by_side(pa, pb, 48);
    free(pa);
    free(pb);
    printf("%s\n", changed ? "decision CHANGED" : "decision unchanged");
  }
done:
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else {
    rc = changed ? AIN_EXIT_FAILURE : AIN_EXIT_OK;
  }
  cJSON_Delete(policies);
  cJSON_Delete(recorded);
  free(ctx);
  free(io);
  free(canon_a);
  free(canon_b);
  free(o.result);
  free(o.error);
  free(o.versions);
  ain_store_req_cleanup(&treq);
  ain_store_req_cleanup(&areq);
  ain_cli_close_store(cli);
  return rc;
}
