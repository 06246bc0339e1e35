/* Policy sources and the side-effect-free runner (policy.h).
 * Relies on: lua/host.h, lua/registry.h (ain_lua_check_source, ain_lua_module_for_path),
 * store/store.h (SCRIPT_GET). */
#include "ops/policy.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "lua/host.h"
#include "lua/registry.h"

struct ain_ops_runner {
  uv_loop_t *loop;
  ain_lua_host_t *host;
};

void ain_ops_sources_free(ain_ops_sources_t *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].module);
    free(s->v[i].source);
  }
  free(s->v);
  memset(s, 0, sizeof *s);
}

const ain_ops_source_t *ain_ops_sources_find(const ain_ops_sources_t *s, const char *module) {
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->v[i].module, module) == 0) {
      return &s->v[i];
    }
  }
  return NULL;
}

static void set_entry(ain_ops_source_t *e, const char *sha, const char *source) {
  snprintf(e->sha, sizeof e->sha, "%s", sha ? sha : "");
  e->source = ain_strdup(source);
}

void ain_ops_sources_append(ain_ops_sources_t *s, const char *module, const char *sha,
                            const char *source) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (s->v == NULL) {
      abort(); /* OOM is fatal, as in ain_strdup */
    }
  }
  ain_ops_source_t *e = &s->v[s->n++];
  e->module = ain_strdup(module);
  set_entry(e, sha, source);
}

void ain_ops_sources_put(ain_ops_sources_t *s, const char *module, const char *sha,
                         const char *source) {
  ain_ops_source_t *e = (ain_ops_source_t *)ain_ops_sources_find(s, module);
  if (e == NULL) {
    ain_ops_sources_append(s, module, sha, source);
  } else {
    free(e->source);
    set_entry(e, sha, source);
  }
}

/* One policy file: read, checked as the registry checks it, and added (or reported). */
static void add_file(const ain_lua_check_opts_t *co, const char *path, ain_ops_sources_t *out,
                     cJSON *rejected) {
  char module[128];
  if (ain_lua_module_for_path(path, module, sizeof module) != 0) {
    return; /* not a policy file (README, a helper outside the registry's folders) */
  }
  char *src = NULL;
  size_t len = 0;
  ain_err_t err;
  ain_err_clear(&err);
  int rc = ain_read_file(path, &src, &len);
  if (rc != 0) {
    ain_err_set(&err, AIN_EIO, "cannot read: %s", strerror(-rc));
  } else {
    rc = ain_lua_check_source(co, module, src, len, &err);
  }
  if (rc == 0) {
    ain_ops_sources_put(out, module, NULL, src);
  } else if (rejected != NULL) {
    char line[1400];
    snprintf(line, sizeof line, "%s: %s: %s", path, ain_err_name(err.code ? err.code : rc),
             err.msg);
    cJSON_AddItemToArray(rejected, cJSON_CreateString(line));
  }
  free(src);
}

int ain_ops_sources_from_dir(const ain_config_t *cfg, const char *dir, ain_ops_sources_t *out,
                             cJSON *rejected, ain_err_t *err) {
  DIR *top = opendir(dir);
  if (top == NULL) {
    return ain_err_field(err, AIN_ENOTFOUND, "scripts_dir", "%s is not a readable folder", dir);
  }
  ain_lua_check_opts_t co = {.scripts_dir = dir,
                             .mem_limit = (size_t)cfg->lua.mem_limit_mb << 20,
                             .cpu_budget = (uint64_t)cfg->lua.cpu_budget,
                             .timeout_ms = (uint64_t)cfg->lua.check_timeout_ms,
                             .allow_ffi = cfg->lua.allow_ffi};
  /* The registry's folders are one level down (agents/, personas/, safety/); which of them
   * hold policies is ain_lua_module_for_path's to say, so a folder it learns is picked up. */
  struct dirent *e;
  while ((e = readdir(top)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    struct stat st;
    DIR *d = stat(sub, &st) == 0 && S_ISDIR(st.st_mode) ? opendir(sub) : NULL;
    if (d == NULL) {
      continue;
    }
    struct dirent *f;
    while ((f = readdir(d)) != NULL) {
      size_t n = strlen(f->d_name);
      if (f->d_name[0] != '.' && n > 4 && strcmp(f->d_name + n - 4, ".lua") == 0) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
        add_file(&co, path, out, rejected);
      }
    }
    closedir(d);
  }
  closedir(top);
  return 0;
}

int ain_ops_sources_fetch(ain_ops_t *ops, const char *sha, const char *module,
                          ain_ops_sources_t *out, const char **module_out, ain_err_t *err) {
  ain_store_req_t req;
  ain_store_req_script_get(&req, sha, module);
  int rc = ain_ops_wait(ops, &req, NULL, err);
  if (rc == 0) {
    const ain_script_version_t *v = &req.u.script_get.version;
    if (v->error != NULL) {
      rc = ain_err_field(err, AIN_EINVAL, "policy_sha", "version %.12s of %s was rejected: %s",
                         v->sha, v->module, v->error);
    } else {
      ain_ops_sources_put(out, v->module, v->sha, v->source);
      if (module_out != NULL) {
        *module_out = ain_ops_sources_find(out, v->module)->module;
      }
    }
  } else {
    ain_err_prefix(err, "policy %s%s%s", module ? module : "version ", module ? " " : "", sha);
  }
  ain_store_req_cleanup(&req);
  return rc;
}

int ain_ops_candidates_fetch(ain_ops_t *ops, const char *const *shas, size_t nshas,
                             ain_ops_sources_t *out, cJSON *listed, ain_err_t *err) {
  size_t before = out->n;
  for (size_t i = 0; i < nshas; i++) {
    const char *module = NULL;
    int rc = ain_ops_sources_fetch(ops, shas[i], NULL, out, &module, err);
    if (rc != 0) {
      return rc;
    }
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "module", module);
    cJSON_AddStringToObject(c, "sha", ain_ops_sources_find(out, module)->sha);
    cJSON_AddItemToArray(listed, c);
  }
  if (out->n - before != nshas) {
    return ain_err_field(err, AIN_EINVAL, "policy_sha", "two --policy-sha name one module");
  }
  return 0;
}

void ain_ops_outcome_free(ain_ops_outcome_t *o) {
  free(o->result);
  free(o->error);
  free(o->versions);
  memset(o, 0, sizeof *o);
}

int ain_ops_runner_new(ain_ops_t *ops, const char *name,
                       const ain_ops_sources_t *const *layers, size_t nlayers,
                       ain_ops_runner_t **out, ain_err_t *err) {
  const ain_config_t *cfg = ops->cfg;
  ain_lua_opts_t lo = {.scripts_dir = cfg->scripts_dir,
                       .name = name,
                       .mem_limit = (size_t)cfg->lua.mem_limit_mb << 20,
                       .cpu_budget = (uint64_t)cfg->lua.cpu_budget,
                       .allow_ffi = cfg->lua.allow_ffi,
                       .no_side_effects = 1,
                       .sources_only = 1};
  ain_ops_runner_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  r->loop = ops->loop;
  int rc = ain_lua_host_new(ops->loop, &lo, &r->host, err);
  for (size_t l = 0; rc == 0 && l < nlayers; l++) {
    for (size_t i = 0; rc == 0 && layers[l] != NULL && i < layers[l]->n; i++) {
      const ain_ops_source_t *s = &layers[l]->v[i];
      rc = ain_lua_host_set_source(r->host, s->module, s->source, strlen(s->source), NULL, err);
      if (rc != 0) {
        ain_err_prefix(err, "policy %s", s->module);
      }
    }
  }
  if (rc != 0) {
    goto fail;
  }
  *out = r;
  return 0;
fail:
  ain_ops_runner_free(r);
  return rc;
}

int ain_ops_runner_set(ain_ops_runner_t *r, const char *module, const char *source,
                       ain_err_t *err) {
  return ain_lua_host_set_source(r->host, module, source, strlen(source), NULL, err);
}

typedef struct {
  int done;
  ain_ops_outcome_t *o;
} wait_t;

static void on_done(ain_lua_call_t *call, int status, const char *result_json, const char *error,
                    void *data) {
  wait_t *w = data;
  w->done = 1;
  w->o->status = status;
  w->o->result = result_json ? ain_strdup(result_json) : NULL;
  w->o->error = error ? ain_strdup(error) : NULL;
  w->o->versions = ain_strdup(ain_lua_call_versions(call));
}

int ain_ops_runner_call(ain_ops_runner_t *r, const char *module, const char *fn,
                        const char *payload_json, const char *ctx_json, const char *replay_io,
                        ain_ops_outcome_t *o, ain_err_t *err) {
  memset(o, 0, sizeof *o);
  wait_t w = {.done = 0, .o = o};
  ain_lua_call_opts_t co = {
      .module = module,
      .function = fn,
      .payload_json = payload_json,
      .ctx_json = ctx_json,
      .replay_io = replay_io};
  int rc = ain_lua_call(r->host, &co, on_done, &w, NULL, err);
  while (rc == 0 && !w.done && uv_run(r->loop, UV_RUN_ONCE) != 0) {
  }
  if (rc == 0 && !w.done) {
    rc = ain_err_set(err, AIN_EIO, "the call of %s.%s never finished", module, fn);
  }
  return rc;
}

void ain_ops_runner_free(ain_ops_runner_t *r) {
  if (r == NULL) {
    return;
  }
  ain_lua_host_free(r->host);
  free(r);
}
