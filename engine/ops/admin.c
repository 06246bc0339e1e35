/* Nodes, policy versions and pins, purge (admin.h).
 * Relies on: ops.h, store/store.h, store/purge.h, privacy/retention.h, core/util.h, cJSON. */
#include "ops/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "privacy/retention.h"

/* ---- nodes ----------------------------------------------------------------------------------- */

int ain_ops_nodes(ain_ops_t *ops, ain_ops_nodes_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  ain_store_req_nodes(&out->req_);
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc != 0) {
    ain_ops_nodes_free(out);
    return rc;
  }
  out->nodes = out->req_.u.nodes.nodes;
  out->nnodes = out->req_.u.nodes.nnodes;
  out->now = ain_now_ms();
  out->timeout_ms = ops->cfg != NULL ? ops->cfg->cluster.node_timeout_ms : 0;
  return 0;
}

void ain_ops_nodes_free(ain_ops_nodes_t *n) {
  if (n->req_.op != 0) {
    ain_store_req_cleanup(&n->req_);
  }
  memset(n, 0, sizeof *n);
}

const char *ain_ops_node_state(const ain_ops_nodes_t *ns, const ain_node_t *n) {
  if (n->state == AIN_NODE_ALIVE && ns->timeout_ms > 0 && ns->now - n->last_beat > ns->timeout_ms) {
    return "dead";
  }
  return ain_node_state_name(n->state);
}

cJSON *ain_ops_nodes_json(const ain_ops_nodes_t *ns) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < ns->nnodes; i++) {
    const ain_node_t *n = &ns->nodes[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", n->id ? n->id : "");
    cJSON_AddStringToObject(o, "node", n->node ? n->node : "");
    cJSON_AddStringToObject(o, "host", n->host ? n->host : "");
    cJSON_AddStringToObject(o, "version", n->version ? n->version : "");
    cJSON_AddNumberToObject(o, "pid", (double)n->pid);
    cJSON_AddNumberToObject(o, "shards", n->shards);
    cJSON_AddNumberToObject(o, "running", n->running);
    cJSON_AddStringToObject(o, "state", ain_ops_node_state(ns, n));
    cJSON_AddStringToObject(o, "stored_state", ain_node_state_name(n->state));
    cJSON_AddNumberToObject(o, "started_at", (double)n->started_at);
    cJSON_AddNumberToObject(o, "last_beat", (double)n->last_beat);
    cJSON_AddNumberToObject(o, "beat_age_ms", (double)(ns->now - n->last_beat));
    cJSON_AddNumberToObject(o, "state_version", (double)n->state_version);
    if (n->gateway != NULL) { /* cluster.openclaw: the gateway connection as of its last beat */
      cJSON *g = cJSON_AddObjectToObject(o, "gateway");
      cJSON_AddStringToObject(g, "state", n->gateway);
      cJSON_AddNumberToObject(g, "since", (double)n->gateway_since);
    } else {
      cJSON_AddNullToObject(o, "gateway");
    }
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

/* ---- policy versions and pins ---------------------------------------------------------------- */

int ain_ops_scripts_list(ain_ops_t *ops, const char *module, ain_ops_scripts_t *out,
                         ain_err_t *err) {
  memset(out, 0, sizeof *out);
  ain_store_req_script_list(&out->req_, module);
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc != 0) {
    ain_ops_scripts_free(out);
    return rc;
  }
  out->versions = out->req_.u.script_list.versions;
  out->nversions = out->req_.u.script_list.nversions;
  out->pins = out->req_.u.script_list.pins;
  out->npins = out->req_.u.script_list.npins;
  return 0;
}

void ain_ops_scripts_free(ain_ops_scripts_t *s) {
  if (s->req_.op != 0) {
    ain_store_req_cleanup(&s->req_);
  }
  memset(s, 0, sizeof *s);
}

const char *ain_ops_scripts_pin_of(const ain_ops_scripts_t *s, const char *module) {
  for (size_t i = 0; i < s->npins; i++) {
    if (strcmp(s->pins[i].module, module) == 0) {
      return s->pins[i].sha;
    }
  }
  return NULL;
}

cJSON *ain_ops_scripts_json(const ain_ops_scripts_t *s) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "ok", 1);
  cJSON *vs = cJSON_AddArrayToObject(o, "versions");
  for (size_t i = 0; i < s->nversions; i++) {
    const ain_script_version_t *v = &s->versions[i];
    const char *pin = ain_ops_scripts_pin_of(s, v->module);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "module", v->module);
    cJSON_AddStringToObject(r, "sha", v->sha);
    cJSON_AddNumberToObject(r, "created_at", (double)v->created_at);
    cJSON_AddBoolToObject(r, "valid", v->error == NULL);
    cJSON_AddBoolToObject(r, "pinned", pin != NULL && strcmp(pin, v->sha) == 0);
    if (v->error) {
      cJSON_AddStringToObject(r, "error", v->error);
    } else {
      cJSON_AddNullToObject(r, "error");
    }
    cJSON_AddItemToArray(vs, r);
  }
  cJSON *ps = cJSON_AddArrayToObject(o, "pins");
  for (size_t i = 0; i < s->npins; i++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "module", s->pins[i].module);
    cJSON_AddStringToObject(r, "sha", s->pins[i].sha);
    cJSON_AddNumberToObject(r, "updated_at", (double)s->pins[i].updated_at);
    cJSON_AddItemToArray(ps, r);
  }
  return o;
}

int ain_ops_script_get(ain_ops_t *ops, const char *sha, ain_ops_script_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (sha == NULL || sha[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "sha", "a version sha is required");
  }
  ain_store_req_script_get(&out->req_, sha, NULL);
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc != 0) {
    ain_ops_script_free(out);
    return rc;
  }
  out->version = &out->req_.u.script_get.version;
  return 0;
}

void ain_ops_script_free(ain_ops_script_t *s) {
  if (s->req_.op != 0) {
    ain_store_req_cleanup(&s->req_);
  }
  memset(s, 0, sizeof *s);
}

cJSON *ain_ops_script_json(const ain_ops_script_t *s) {
  const ain_script_version_t *v = s->version;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "ok", 1);
  cJSON_AddStringToObject(o, "module", v->module);
  cJSON_AddStringToObject(o, "sha", v->sha);
  cJSON_AddNumberToObject(o, "created_at", (double)v->created_at);
  if (v->error) {
    cJSON_AddStringToObject(o, "error", v->error);
  } else {
    cJSON_AddNullToObject(o, "error");
  }
  cJSON_AddStringToObject(o, "source", v->source ? v->source : "");
  return o;
}

int ain_ops_script_pin(ain_ops_t *ops, const char *module, const char *sha, const char *actor,
                       char pinned[65], int *changed, ain_err_t *err) {
  pinned[0] = '\0';
  *changed = 0;
  if (module == NULL || module[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "module", "a policy module is required");
  }
  ain_store_req_t req;
  ain_store_req_script_pin(&req, module, sha);
  int rc = ain_ops_wait(ops, &req, actor, err);
  if (rc == 0) {
    memcpy(pinned, req.u.script_pin.pinned, 65);
    *changed = req.u.script_pin.changed;
  }
  ain_store_req_cleanup(&req);
  return rc;
}

/* ---- purge ----------------------------------------------------------------------------------- */

int ain_ops_purge(ain_ops_t *ops, const ain_ops_purge_opts_t *o, ain_ops_purge_result_t *out,
                  ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (o->batch < 1 || o->batch > AIN_STORE_PURGE_LIMIT_MAX) {
    return ain_err_field(err, AIN_EINVAL, "batch", "batch must be 1..%d, got %d",
                         AIN_STORE_PURGE_LIMIT_MAX, o->batch);
  }
  for (;;) {
    /* a dry run changes nothing, so one (large) batch is the whole answer */
    ain_store_purge_t *p = &out->p_;
    ain_store_req_purge(&out->req_, p, o->older_than,
                        o->dry_run ? AIN_STORE_PURGE_LIMIT_MAX : o->batch, o->dry_run);
    int rc = ain_ops_wait(ops, &out->req_, o->actor, err);
    if (rc != 0) {
      ain_ops_purge_free(out);
      return rc;
    }
    out->batches++;
    out->dags += p->dags;
    out->tasks += p->tasks;
    out->artifacts += p->artifacts;
    out->videos += p->videos;
    if (o->dry_run) { /* the lists stay with the result until ain_ops_purge_free */
      out->objects = (long long)p->nkeys;
      out->dag_ids = p->dag_ids;
      out->ndag_ids = p->ndag_ids;
      out->keys = p->keys;
      out->nkeys = p->nkeys;
      return 0;
    }
    ain_ops_purge_batch_t b = {.batch = out->batches, .dags = p->dags, .tasks = p->tasks};
    ain_err_t derr;
    ain_err_clear(&derr);
    if (ain_retention_delete_objects(ops->cfg, p->keys, p->nkeys, &b.deleted, &derr) != 0) {
      b.object_error = derr.msg;
    }
    out->objects += (long long)b.deleted;
    if (o->on_batch != NULL) {
      o->on_batch(o->data, &b);
    }
    int full = p->dags >= o->batch || p->tasks >= o->batch;
    ain_store_req_cleanup(&out->req_);
    memset(&out->req_, 0, sizeof out->req_);
    if (!full) {
      return 0;
    }
  }
}

void ain_ops_purge_free(ain_ops_purge_result_t *r) {
  if (r->req_.op != 0) {
    ain_store_req_cleanup(&r->req_);
  }
  memset(r, 0, sizeof *r);
}
