/* `ain judge eval` (judge.h): labelled items (JSON Lines: id, text, persona?, decision,
 * categories) screened by judge.screen(text, ctx) in a side-effect-free host, scored by
 * judge_metrics.c. The judge is what the engine would serve from the current files: every policy
 * file of scripts_dir checked as the registry checks it (a file that fails stays out, as it
 * would), with candidate versions from script_versions in place of their modules.
 * screen() takes a string, and a host call passes a table, so a small shim module of ours calls
 * it (and reads the categories' actions from safety/categories when the policy has them).
 * Relies on: ops/policy.h, sched/ctx.h (the ctx the engine gives the judge), judge.h, cJSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ops/judge.h"
#include "ops/policy.h"
#include "sched/ctx.h"

#define SHIM "ain_judge_eval"
#define MAX_DATASET_BYTES (64u << 20)

static const char shim_source[] =
    "-- ain judge eval: calls judge.screen(text, ctx) for one labelled item\n"
    "local M = {}\n"
    "function M.screen(item, ctx)\n"
    "  local judge = require('judge')\n"
    "  if type(judge) ~= 'table' or type(judge.screen) ~= 'function' then\n"
    "    return { no_screen = true }\n"
    "  end\n"
    "  return { result = judge.screen(item.text, ctx) }\n"
    "end\n"
    "function M.actions()\n"
    "  local ok, cats = pcall(require, 'safety/categories')\n"
    "  local out = {}\n"
    "  if not ok or type(cats) ~= 'table' then return { actions = out } end\n"
    "  if type(cats.categories) == 'table' then cats = cats.categories end\n"
    "  for k, v in pairs(cats) do\n"
    "    if type(v) == 'table' and type(v.action) == 'string' then\n"
    "      local id = type(v.id) == 'string' and v.id or k\n"
    "      if type(id) == 'string' then out[id] = v.action end\n"
    "    end\n"
    "  end\n"
    "  return { actions = out }\n"
    "end\n"
    "return M\n";

typedef struct {
  char *id;
  const char *file;
  int line;
  cJSON *json; /* the line: text, persona, decision, categories */
  int decision;
  const char **cats; /* into json */
  size_t ncats;
} item_t;

typedef struct {
  item_t *v;
  size_t n, cap;
} items_t;

static void items_free(items_t *it) {
  for (size_t i = 0; i < it->n; i++) {
    free(it->v[i].id);
    free(it->v[i].cats);
    cJSON_Delete(it->v[i].json);
  }
  free(it->v);
}

static int bad_line(ain_err_t *err, const char *file, int line, const char *field,
                    const char *what) {
  char where[64];
  snprintf(where, sizeof where, "line %d: %s", line, field);
  return ain_err_field(err, AIN_ESCHEMA, where, "%s:%d: %s: %s", file, line, field, what);
}

/* One line of a dataset into it (or an error naming the file, line and field). */
static int parse_line(const char *file, int line, const char *text, size_t len, items_t *it,
                      ain_err_t *err) {
  cJSON *j = cJSON_ParseWithLength(text, len);
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return bad_line(err, file, line, "line", "not a JSON object");
  }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "decision");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "categories");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "persona");
  int rc = 0;
  if (!cJSON_IsString(t) || t->valuestring[0] == '\0') {
    rc = bad_line(err, file, line, "text", t ? "must be a non-empty string" : "missing");
  } else if (!cJSON_IsString(d) || ain_ops_judge_decision(d->valuestring) < 0) {
    rc = bad_line(err, file, line, "decision",
                  d ? "must be \"pass\", \"review\" or \"reject\"" : "missing");
  } else if (c != NULL && !cJSON_IsArray(c)) {
    rc = bad_line(err, file, line, "categories", "must be an array of category ids");
  } else if (id != NULL && (!cJSON_IsString(id) || id->valuestring[0] == '\0')) {
    rc = bad_line(err, file, line, "id", "must be a non-empty string");
  } else if (p != NULL && !cJSON_IsNull(p) && (!cJSON_IsString(p) || p->valuestring[0] == '\0')) {
    rc = bad_line(err, file, line, "persona", "must be a persona id (a non-empty string)");
  }
  for (const cJSON *e = c ? c->child : NULL; rc == 0 && e != NULL; e = e->next) {
    if (!cJSON_IsString(e) || e->valuestring[0] == '\0') {
      rc = bad_line(err, file, line, "categories", "must be an array of category ids (strings)");
    }
  }
  if (rc == 0 && ain_ops_judge_decision(d->valuestring) == AIN_JUDGE_PASS &&
      cJSON_GetArraySize(c) > 0) {
    rc = bad_line(err, file, line, "categories",
                  "an item expected to pass has no category (benign items have [])");
  }
  if (rc != 0) {
    cJSON_Delete(j);
    return rc;
  }
  if (it->n == it->cap) {
    it->cap = it->cap ? it->cap * 2 : 256;
    it->v = realloc(it->v, it->cap * sizeof *it->v);
    if (it->v == NULL) {
      abort(); /* OOM is fatal, as in ain_strdup */
    }
  }
  item_t *x = &it->v[it->n++];
  memset(x, 0, sizeof *x);
  x->json = j;
  x->file = file;
  x->line = line;
  x->decision = ain_ops_judge_decision(d->valuestring);
  if (id != NULL) {
    x->id = ain_strdup(id->valuestring);
  } else {
    char buf[600];
    snprintf(buf, sizeof buf, "%s:%d", file, line);
    x->id = ain_strdup(buf);
  }
  x->ncats = (size_t)cJSON_GetArraySize(c);
  x->cats = calloc(x->ncats + 1, sizeof *x->cats);
  size_t k = 0;
  for (const cJSON *e = c ? c->child : NULL; e != NULL; e = e->next) {
    x->cats[k++] = e->valuestring;
  }
  return 0;
}

static int parse_file(const char *file, items_t *it, ain_err_t *err) {
  char *buf = NULL;
  size_t len = 0;
  int rc = ain_read_file(file, &buf, &len);
  if (rc != 0) {
    return ain_err_field(err, AIN_ENOTFOUND, "file", "%s: cannot read: %s", file, strerror(-rc));
  }
  if (len > MAX_DATASET_BYTES) {
    free(buf);
    return ain_err_field(err, AIN_ETOOBIG, "file", "%s: larger than %u MiB", file,
                         MAX_DATASET_BYTES >> 20);
  }
  int line = 0;
  for (size_t at = 0; rc == 0 && at < len;) {
    size_t n = 0;
    while (at + n < len && buf[at + n] != '\n') {
      n++;
    }
    line++;
    size_t blank = 0;
    while (blank < n && (buf[at + blank] == ' ' || buf[at + blank] == '\t' ||
                         buf[at + blank] == '\r')) {
      blank++;
    }
    if (blank < n) { /* blank lines (a trailing newline) are no items */
      rc = parse_line(file, line, buf + at, n, it, err);
    }
    at += n + 1;
  }
  free(buf);
  return rc;
}

/* The string ids of a JSON array (or of an empty object: Lua's {} encodes as one). */
static const char **ids_of(const cJSON *arr, size_t *n) {
  *n = 0;
  const char **v = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *v);
  for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e != NULL; e = e->next) {
    if (cJSON_IsString(e)) {
      v[(*n)++] = e->valuestring;
    }
  }
  return v;
}

/* Calls the shim on one item: *screen is screen()'s result (caller deletes). */
static int screen_item(ain_ops_runner_t *r, ain_ops_t *ops, const item_t *x,
                       cJSON **screen, char **versions, ain_err_t *err) {
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(x->json, "persona");
  ain_task_t t;
  memset(&t, 0, sizeof t);
  snprintf(t.id, sizeof t.id, "eval");
  t.type = "judge";
  t.step = "judge";
  t.persona_id = cJSON_IsString(p) ? p->valuestring : NULL;
  char *ctx = ain_step_ctx_build(&t, "eval", ops->cfg, NULL);
  cJSON *payload = cJSON_CreateObject();
  cJSON_AddStringToObject(payload, "text",
                          cJSON_GetObjectItemCaseSensitive(x->json, "text")->valuestring);
  char *pj = cJSON_PrintUnformatted(payload);
  cJSON_Delete(payload);
  ain_ops_outcome_t o;
  int rc = ain_ops_runner_call(r, SHIM, "screen", pj, ctx, NULL, &o, err);
  free(pj);
  free(ctx);
  cJSON *res = NULL;
  if (rc == 0 && o.status != 0) {
    rc = ain_err_set(err, AIN_ELUA, "item %s (%s:%d): judge.screen failed: %s", x->id, x->file,
                     x->line, o.error ? o.error : ain_strerror(o.status));
  } else if (rc == 0) {
    res = cJSON_Parse(o.result ? o.result : "");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "no_screen"))) {
      rc = ain_err_set(err, AIN_EINVAL,
                       "the judge has no screen(text, ctx) entry point (docs/lua-api.md): "
                       "nothing to evaluate; it came with the judge of issue 13");
    } else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(res, "result"))) {
      rc = ain_err_set(err, AIN_ELUA, "item %s (%s:%d): judge.screen returned no table", x->id,
                       x->file, x->line);
    } else {
      *screen = cJSON_DetachItemFromObjectCaseSensitive(res, "result");
      if (versions != NULL && *versions == NULL) {
        *versions = o.versions, o.versions = NULL;
      }
    }
  }
  cJSON_Delete(res);
  ain_ops_outcome_free(&o);
  return rc;
}

/* The category actions the policy data names ({} when there is none to read). */
static cJSON *read_actions(ain_ops_runner_t *r, ain_err_t *err) {
  ain_ops_outcome_t o;
  cJSON *res = NULL, *a = NULL;
  if (ain_ops_runner_call(r, SHIM, "actions", NULL, NULL, NULL, &o, err) == 0 && o.status == 0) {
    res = cJSON_Parse(o.result ? o.result : "");
    a = cJSON_DetachItemFromObjectCaseSensitive(res, "actions");
  }
  ain_ops_outcome_free(&o);
  cJSON_Delete(res);
  if (!cJSON_IsObject(a)) { /* an empty Lua table encodes as {} too; anything else: none */
    cJSON_Delete(a);
    a = cJSON_CreateObject();
  }
  return a;
}

/* A miss: the decision differs, or a labelled category was not found. */
static cJSON *miss_of(const item_t *x, int got, const char **got_cats, size_t ngot,
                      const cJSON *screen) {
  int missed = got != x->decision;
  for (size_t i = 0; !missed && i < x->ncats; i++) {
    int found = 0;
    for (size_t k = 0; k < ngot; k++) {
      found |= strcmp(x->cats[i], got_cats[k]) == 0;
    }
    missed = !found;
  }
  if (!missed) {
    return NULL;
  }
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "id", x->id);
  cJSON_AddStringToObject(m, "file", x->file);
  cJSON_AddNumberToObject(m, "line", x->line);
  cJSON *e = cJSON_AddObjectToObject(m, "expected");
  cJSON_AddStringToObject(e, "decision", ain_ops_judge_decision_name(x->decision));
  cJSON_AddItemToObject(e, "categories", cJSON_CreateStringArray(x->cats, (int)x->ncats));
  cJSON *g = cJSON_AddObjectToObject(m, "got");
  cJSON_AddStringToObject(g, "decision", ain_ops_judge_decision_name(got));
  cJSON_AddItemToObject(g, "categories", cJSON_CreateStringArray(got_cats, (int)ngot));
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(screen, "findings");
  cJSON_AddItemToObject(m, "findings", cJSON_IsArray(f) ? cJSON_Duplicate(f, 1)
                                                        : cJSON_CreateArray());
  return m;
}

int ain_ops_judge_eval(ain_ops_t *ops, const ain_judge_eval_opts_t *o, cJSON **out,
                       ain_err_t *err) {
  *out = NULL;
  items_t items = {0};
  ain_ops_sources_t current = {0}, candidates = {0};
  ain_ops_runner_t *runner = NULL;
  ain_judge_metrics_t m = {0};
  cJSON *rejected = cJSON_CreateArray(), *actions = NULL, *misses = cJSON_CreateArray();
  cJSON *cand = cJSON_CreateArray();
  char *versions = NULL;
  int rc = 0;
  if (o->nfiles == 0) {
    rc = ain_err_field(err, AIN_EINVAL, "file", "no dataset file given");
    goto fail;
  }
  for (size_t i = 0; i < o->nfiles; i++) { /* every line is checked before anything runs */
    if ((rc = parse_file(o->files[i], &items, err)) != 0) {
      goto fail;
    }
  }
  if (items.n == 0) {
    rc = ain_err_field(err, AIN_EINVAL, "file", "the dataset holds no item");
    goto fail;
  }
  const char *dir = o->scripts_dir ? o->scripts_dir : ops->cfg->scripts_dir;
  if ((rc = ain_ops_sources_from_dir(ops->cfg, dir, &current, rejected, err)) != 0) {
    goto fail;
  }
  if ((rc = ain_ops_candidates_fetch(ops, o->shas, o->nshas, &candidates, cand, err)) != 0) {
    goto fail;
  }
  const ain_ops_sources_t *layers[] = {&current, &candidates};
  if ((rc = ain_ops_runner_new(ops, "eval", layers, 2, &runner, err)) != 0 ||
      (rc = ain_ops_runner_set(runner, SHIM, shim_source, err)) != 0) {
    goto fail;
  }
  if (ain_ops_sources_find(&current, "judge") == NULL &&
      ain_ops_sources_find(&candidates, "judge") == NULL) {
    rc = ain_err_field(err, AIN_ENOTFOUND, "judge", "%s/agents/judge.lua is missing or was "
                       "rejected%s", dir, cJSON_GetArraySize(rejected) ? " (see the rejected files)"
                                                                        : "");
    if (cJSON_GetArraySize(rejected) > 0) {
      ain_err_prefix(err, "%s", cJSON_GetArrayItem(rejected, 0)->valuestring);
    }
    goto fail;
  }
  for (size_t i = 0; i < items.n; i++) {
    const item_t *x = &items.v[i];
    cJSON *screen = NULL;
    if ((rc = screen_item(runner, ops, x, &screen, &versions, err)) != 0) {
      goto fail;
    }
    const cJSON *dj = cJSON_GetObjectItemCaseSensitive(screen, "decision");
    int got = ain_ops_judge_decision(cJSON_IsString(dj) ? dj->valuestring : NULL);
    if (got < 0) {
      cJSON_Delete(screen);
      rc = ain_err_field(err, AIN_ELUA, "decision",
                         "item %s (%s:%d): judge.screen returned decision %s, not pass, review "
                         "or reject", x->id, x->file, x->line,
                         cJSON_IsString(dj) ? dj->valuestring : "(none)");
      goto fail;
    }
    size_t ngot = 0;
    const char **got_cats = ids_of(cJSON_GetObjectItemCaseSensitive(screen, "categories"), &ngot);
    ain_ops_judge_metrics_add(&m, x->decision, x->cats, x->ncats, got, got_cats, ngot);
    cJSON *miss = miss_of(x, got, got_cats, ngot, screen);
    if (miss != NULL) {
      cJSON_AddItemToArray(misses, miss);
    }
    free(got_cats);
    cJSON_Delete(screen);
  }
  actions = read_actions(runner, err);
  ain_ops_judge_metrics_finish(&m, actions);
  cJSON *r = ain_ops_judge_metrics_json(&m);
  cJSON *judge = cJSON_CreateObject();
  cJSON *pv = versions ? cJSON_Parse(versions) : NULL;
  cJSON_DeleteItemFromObjectCaseSensitive(pv, SHIM);
  cJSON_AddStringToObject(judge, "scripts_dir", dir);
  cJSON_AddItemToObject(judge, "policies", pv ? pv : cJSON_CreateObject());
  cJSON_AddItemToObject(judge, "candidates", cand);
  cand = NULL;
  cJSON_AddItemToObject(judge, "rejected_files", rejected);
  rejected = NULL;
  cJSON_AddItemToObject(judge, "actions", actions);
  actions = NULL;
  cJSON_AddItemToObject(r, "judge", judge);
  cJSON_AddItemToObject(r, "misses", misses);
  misses = NULL;
  cJSON_AddBoolToObject(r, "ok", 1);
  *out = r;
fail:
  ain_ops_judge_metrics_free(&m);
  ain_ops_runner_free(runner);
  ain_ops_sources_free(&current);
  ain_ops_sources_free(&candidates);
  items_free(&items);
  cJSON_Delete(rejected);
  cJSON_Delete(actions);
  cJSON_Delete(misses);
  cJSON_Delete(cand);
  free(versions);
  return rc;
}
