/* Building a step's ctx and the audit detail that records it (see ctx.h). The engine and replay
 * must agree byte for byte on what a policy saw, so nothing else builds a ctx.
 * Relies on: ctx.h, cJSON. */
#include "sched/ctx.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *print_or_die(cJSON *o) {
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (s == NULL) {
    abort(); /* OOM is fatal, as in ain_strdup */
  }
  return s;
}

char *ain_step_ctx_build(const ain_task_t *t, const char *shard, const ain_config_t *cfg,
                         const char *deps_json) {
  return ain_step_ctx_build_traced(t, shard, cfg, deps_json, NULL);
}

char *ain_step_ctx_build_traced(const ain_task_t *t, const char *shard, const ain_config_t *cfg,
                                const char *deps_json, const ain_step_trace_t *tr) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "task_id", t->id);
  if (tr != NULL) {
    cJSON_AddStringToObject(o, "trace_id", tr->trace_id);
    cJSON_AddStringToObject(o, "span_id", tr->span_id);
    cJSON_AddStringToObject(o, "traceparent", tr->traceparent);
  }
  if (t->dag_id[0]) {
    cJSON_AddStringToObject(o, "dag_id", t->dag_id);
  }
  if (t->step) {
    cJSON_AddStringToObject(o, "step", t->step);
  }
  cJSON_AddStringToObject(o, "type", t->type ? t->type : "");
  if (t->persona_id) {
    cJSON_AddStringToObject(o, "persona_id", t->persona_id);
  }
  cJSON_AddNumberToObject(o, "attempt", t->attempts);
  cJSON_AddNumberToObject(o, "max_attempts", t->max_attempts);
  cJSON_AddStringToObject(o, "shard", shard ? shard : "");
  /* The engine's output size, so the judge checks the size that was rendered. */
  cJSON *conf = cJSON_AddObjectToObject(o, "config");
  cJSON_AddNumberToObject(conf, "width", (double)cfg->media.width);
  cJSON_AddNumberToObject(conf, "height", (double)cfg->media.height);
  if (cfg->judge.pass >= 0) { /* config judge = {pass, reject}; unset: the judge's defaults */
    cJSON_AddNumberToObject(conf, "pass", cfg->judge.pass);
  }
  if (cfg->judge.reject >= 0) {
    cJSON_AddNumberToObject(conf, "reject", cfg->judge.reject);
  }
  /* The judge's model providers (scripts/agents/moderation.lua): names of secrets, never values */
  const ain_config_provider_t *pv[] = {&cfg->judge.providers.moderation, &cfg->judge.providers.llm};
  const char *pn[] = {"moderation", "llm"};
  cJSON *providers = NULL;
  for (size_t i = 0; i < 2; i++) {
    if (pv[i]->url == NULL) {
      continue;
    }
    if (providers == NULL) {
      providers = cJSON_AddObjectToObject(conf, "providers");
    }
    cJSON *p = cJSON_AddObjectToObject(providers, pn[i]);
    cJSON_AddStringToObject(p, "url", pv[i]->url);
    cJSON_AddStringToObject(p, "model", pv[i]->model ? pv[i]->model : "");
    if (pv[i]->secret != NULL) {
      cJSON_AddStringToObject(p, "secret", pv[i]->secret);
    }
    cJSON_AddNumberToObject(p, "timeout_ms", (double)pv[i]->timeout_ms);
  }
  /* The model of ain.llm (engine/lua/llm.lua): policies branch on its presence (the scriptwriter
   * writes with it, else from templates) and pass it to ain.llm.chat. The secret by name only. */
  if (cfg->llm.url != NULL) {
    cJSON *l = cJSON_AddObjectToObject(conf, "llm");
    cJSON_AddStringToObject(l, "url", cfg->llm.url);
    cJSON_AddStringToObject(l, "model", cfg->llm.model ? cfg->llm.model : "");
    if (cfg->llm.secret != NULL) {
      cJSON_AddStringToObject(l, "secret", cfg->llm.secret);
    }
    cJSON_AddStringToObject(l, "response_format",
                            cfg->llm.response_format ? cfg->llm.response_format : "json_schema");
    cJSON_AddNumberToObject(l, "timeout_ms", (double)cfg->llm.timeout_ms);
    cJSON_AddNumberToObject(l, "max_attempts", (double)cfg->llm.max_attempts);
    cJSON_AddNumberToObject(l, "max_tokens", (double)cfg->llm.max_tokens);
    if (cfg->llm.price_prompt >= 0 || cfg->llm.price_completion >= 0) {
      cJSON *pr = cJSON_AddObjectToObject(l, "prices");
      cJSON_AddNumberToObject(pr, "prompt", cfg->llm.price_prompt > 0 ? cfg->llm.price_prompt : 0);
      cJSON_AddNumberToObject(pr, "completion",
                              cfg->llm.price_completion > 0 ? cfg->llm.price_completion : 0);
    }
  }
  /* Stock providers for the visuals policy (scripts/agents/visuals.lua): base URLs and secret
   * names only, in the configured order. */
  if (cfg->stock.pexels.url != NULL || cfg->stock.pixabay.url != NULL) {
    cJSON *st = cJSON_AddObjectToObject(conf, "stock");
    cJSON *order = cJSON_AddArrayToObject(st, "order");
    char buf[128];
    snprintf(buf, sizeof buf, "%s", cfg->stock.order ? cfg->stock.order : "pexels,pixabay");
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
      cJSON_AddItemToArray(order, cJSON_CreateString(t));
    }
    const struct {
      const char *name, *url, *secret;
    } pv[] = {{"pexels", cfg->stock.pexels.url, cfg->stock.pexels.key_secret},
              {"pixabay", cfg->stock.pixabay.url, cfg->stock.pixabay.key_secret}};
    for (size_t i = 0; i < 2; i++) {
      if (pv[i].url != NULL) {
        cJSON *p = cJSON_AddObjectToObject(st, pv[i].name);
        cJSON_AddStringToObject(p, "url", pv[i].url);
        cJSON_AddStringToObject(p, "secret", pv[i].secret ? pv[i].secret : "");
      }
    }
  }
  cJSON *deps = deps_json ? cJSON_Parse(deps_json) : NULL;
  if (deps != NULL && !cJSON_IsObject(deps)) {
    cJSON_Delete(deps);
    deps = NULL;
  }
  cJSON_AddItemToObject(o, "deps", deps ? deps : cJSON_CreateObject());
  return print_or_die(o);
}

char *ain_step_call_detail(const char *versions_json, const char *ctx_json) {
  return ain_step_call_detail_io(versions_json, ctx_json, NULL);
}

char *ain_step_call_detail_io(const char *versions_json, const char *ctx_json,
                              const char *io_json) {
  cJSON *o = cJSON_CreateObject();
  cJSON *v = versions_json ? cJSON_Parse(versions_json) : NULL;
  cJSON_AddItemToObject(o, "policies", v ? v : cJSON_CreateObject());
  cJSON *c = ctx_json ? cJSON_Parse(ctx_json) : NULL;
  if (c != NULL) {
    cJSON_AddItemToObject(o, "ctx", c);
  }
  cJSON *io = io_json ? cJSON_Parse(io_json) : NULL;
  if (cJSON_IsArray(io)) {
    cJSON_AddItemToObject(o, "io", io);
  } else {
    cJSON_Delete(io);
  }
  return print_or_die(o);
}
