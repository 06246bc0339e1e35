/* `ain sources` as an operation (ops/trend_sources.h): the configuration joined with the rows.
 * Relies on: ops/trend_sources.h, core/util.h. */
#include "ops/trend_sources.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const char *health(const ain_source_state_t *r, int64_t now) {
  if (r == NULL) {
    return "never";
  }
  if (r->failures > 0) {
    return r->backoff_until > now ? "backoff" : "failing";
  }
  return r->last_success_at > 0 ? "ok" : "never";
}

int ain_ops_trend_sources(ain_ops_t *ops, ain_ops_trend_sources_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  ain_store_req_source_list(&out->req_);
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc != 0) {
    ain_ops_trend_sources_free(out);
    return rc;
  }
  out->now = ain_now_ms();
  const ain_sources_config_t *sc = &ops->cfg->sources;
  const char *file = ops->cfg->trends.source;
  size_t nrows = out->req_.u.source.nrows, cap = sc->n + nrows + 1;
  out->list = calloc(cap, sizeof *out->list);
  if (out->list == NULL) {
    abort();
  }
  if (file != NULL && file[0] != '\0') {
    /* the planner reads it itself on every run: no row, no schedule of its own */
    out->list[out->n++] = (ain_ops_trend_source_t){
        .name = "trends", .kind = "jsonl", .url = file, .configured = 1, .health = "file"};
  }
  for (size_t i = 0; i < sc->n; i++) {
    const ain_source_cfg_t *c = &sc->list[i];
    ain_ops_trend_source_t *o = &out->list[out->n++];
    o->name = c->name;
    o->kind = ain_source_kind_name(c->kind);
    o->url = c->kind == AIN_SOURCE_JSONL ? c->path : c->url;
    o->configured = 1;
    for (size_t r = 0; r < nrows; r++) {
      if (strcmp(out->req_.u.source.rows[r].name, c->name) == 0) {
        o->row = &out->req_.u.source.rows[r];
      }
    }
    o->health = health(o->row, out->now);
  }
  for (size_t r = 0; r < nrows; r++) {
    const ain_source_state_t *row = &out->req_.u.source.rows[r];
    int known = 0;
    for (size_t i = 0; i < sc->n; i++) {
      known |= strcmp(sc->list[i].name, row->name) == 0;
    }
    if (!known) {
      out->list[out->n++] = (ain_ops_trend_source_t){.name = row->name,
                                               .kind = row->kind,
                                               .url = row->url,
                                               .row = row,
                                               .health = "unconfigured"};
    }
  }
  return 0;
}

void ain_ops_trend_sources_free(ain_ops_trend_sources_t *s) {
  if (s->req_.op != 0) {
    ain_store_req_cleanup(&s->req_);
  }
  free(s->list);
  memset(s, 0, sizeof *s);
}

cJSON *ain_ops_trend_sources_json(const ain_ops_trend_sources_t *s) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < s->n; i++) {
    const ain_ops_trend_source_t *x = &s->list[i];
    const ain_source_state_t *r = x->row;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", x->name);
    cJSON_AddStringToObject(o, "kind", x->kind ? x->kind : "");
    cJSON_AddStringToObject(o, "url", x->url ? x->url : "");
    cJSON_AddStringToObject(o, "health", x->health);
    cJSON_AddBoolToObject(o, "configured", x->configured);
    const char *strs[][2] = {{"etag", r ? r->etag : NULL},
                             {"last_modified", r ? r->last_modified : NULL},
                             {"cursor", r ? r->cursor : NULL},
                             {"last_error", r ? r->last_error : NULL}};
    for (size_t k = 0; k < sizeof strs / sizeof *strs; k++) {
      if (strs[k][1] != NULL) {
        cJSON_AddStringToObject(o, strs[k][0], strs[k][1]);
      } else {
        cJSON_AddNullToObject(o, strs[k][0]);
      }
    }
    const struct {
      const char *k;
      int64_t v;
    } ints[] = {{"last_success_at", r ? r->last_success_at : 0},
                {"last_error_at", r ? r->last_error_at : 0},
                {"backoff_until", r ? r->backoff_until : 0},
                {"failures", r ? r->failures : 0},
                {"fetches", r ? r->fetches : 0},
                {"not_modified", r ? r->not_modified : 0},
                {"errors", r ? r->errors : 0},
                {"items", r ? r->items : 0},
                {"refused", r ? r->refused : 0}};
    for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) {
      cJSON_AddNumberToObject(o, ints[k].k, (double)ints[k].v);
    }
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}
