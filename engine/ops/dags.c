/* DAG and audit operations (dags.h): one DAG, pages of DAGs, audit rows.
 * Relies on: ops.h, store/store.h, cJSON. */
#include "ops/dags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* The DAG id behind id: the `dag_id` in the result of the task that expanded into it, else id
 * itself. A task that cannot be read here is no error: id is then tried as a DAG id. */
static void resolve_dag_id(ain_ops_t *ops, const char *id, char out[AIN_UUID_LEN + 1]) {
  snprintf(out, AIN_UUID_LEN + 1, "%s", id);
  ain_store_req_t req;
  ain_store_req_get_task(&req, id);
  ain_err_t ignored;
  if (ain_ops_wait(ops, &req, NULL, &ignored) == 0 && req.u.get_task.task.result) {
    cJSON *r = cJSON_Parse(req.u.get_task.task.result);
    cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "dag_id");
    if (cJSON_IsString(d) && strlen(d->valuestring) == AIN_UUID_LEN) {
      snprintf(out, AIN_UUID_LEN + 1, "%s", d->valuestring);
    }
    cJSON_Delete(r);
  }
  ain_store_req_cleanup(&req);
}

int ain_ops_dag_get(ain_ops_t *ops, const char *id, ain_ops_dag_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (id == NULL || id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "dag_id", "a DAG id is required");
  }
  if (strlen(id) > AIN_UUID_LEN) { /* no id is longer; say so before asking the store */
    return ain_err_field(err, AIN_ENOTFOUND, "id", "dag %.64s not found", id);
  }
  char dag_id[AIN_UUID_LEN + 1];
  resolve_dag_id(ops, id, dag_id);
  ain_store_req_get_dag(&out->req_, dag_id);
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  out->req_.u.get_dag.id = NULL; /* borrowed from this frame */
  if (rc != 0) {
    ain_ops_dag_free(out);
    return rc;
  }
  out->dag = &out->req_.u.get_dag.dag;
  out->tasks = out->req_.u.get_dag.tasks;
  out->ntasks = out->req_.u.get_dag.ntasks;
  out->deps = out->req_.u.get_dag.deps;
  out->ndeps = out->req_.u.get_dag.ndeps;
  return 0;
}

void ain_ops_dag_free(ain_ops_dag_t *d) {
  if (d->req_.op != 0) {
    ain_store_req_cleanup(&d->req_);
  }
  memset(d, 0, sizeof *d);
}

const char *ain_ops_dag_step_name(const ain_ops_dag_t *d, const char *task_id) {
  for (size_t i = 0; i < d->ntasks; i++) {
    if (strcmp(d->tasks[i].id, task_id) == 0) {
      const char *s = d->tasks[i].step;
      return s ? s : task_id;
    }
  }
  return task_id;
}

cJSON *ain_ops_dag_json(const ain_ops_dag_t *d) {
  const ain_dag_t *g = d->dag;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "dag_id", g->id);
  cJSON_AddStringToObject(o, "root_task_id", g->root_task_id);
  cJSON_AddStringToObject(o, "status", ain_dag_status_name(g->status));
  cJSON_AddNumberToObject(o, "state_version", (double)g->state_version);
  cJSON_AddNumberToObject(o, "steps_total", g->steps_total);
  cJSON_AddNumberToObject(o, "steps_done", g->steps_done);
  if (g->persona_id) {
    cJSON_AddStringToObject(o, "persona_id", g->persona_id);
  }
  if (g->last_error) {
    cJSON_AddStringToObject(o, "last_error", g->last_error);
  }
  cJSON *steps = cJSON_AddArrayToObject(o, "steps");
  for (size_t i = 0; i < d->ntasks; i++) {
    const ain_task_t *t = &d->tasks[i];
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "task_id", t->id);
    cJSON_AddStringToObject(s, "step", t->step ? t->step : "");
    cJSON_AddStringToObject(s, "handler", t->handler ? t->handler : "");
    cJSON_AddStringToObject(s, "status", ain_task_status_name(t->status));
    cJSON_AddNumberToObject(s, "attempts", t->attempts);
    cJSON_AddNumberToObject(s, "state_version", (double)t->state_version);
    cJSON *deps = cJSON_AddArrayToObject(s, "deps");
    for (size_t k = 0; k < d->ndeps; k++) {
      if (strcmp(d->deps[k].task_id, t->id) == 0) {
        cJSON_AddItemToArray(deps,
                             cJSON_CreateString(ain_ops_dag_step_name(d, d->deps[k].depends_on)));
      }
    }
    if (t->last_error) {
      cJSON_AddStringToObject(s, "last_error", t->last_error);
    }
    cJSON_AddItemToArray(steps, s);
  }
  return o;
}

/* Fill colour of a task status in the Graphviz view: one entry per status, by name, so a status
 * added to the enum without a colour fails to compile (the static assert) rather than reading
 * past the table; an out-of-range value from a newer store gets white. */
static const char *const status_colour[] = {
    [AIN_TASK_PENDING] = "grey", [AIN_TASK_READY] = "lightblue",
    [AIN_TASK_RUNNING] = "gold", [AIN_TASK_SUCCEEDED] = "palegreen",
    [AIN_TASK_DEAD] = "salmon",  [AIN_TASK_CANCELLED] = "lightgrey",
    [AIN_TASK_WAITING] = "plum",
};
_Static_assert(sizeof status_colour / sizeof status_colour[0] == AIN_TASK_STATUS_COUNT,
               "every task status needs a colour in the DAG's Graphviz view");

static const char *colour_of(ain_task_status_t s) {
  return (unsigned)s < AIN_TASK_STATUS_COUNT && status_colour[s] != NULL ? status_colour[s]
                                                                         : "white";
}

char *ain_ops_dag_dot(const ain_ops_dag_t *d) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL) {
    return NULL;
  }
  fprintf(f, "digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box, style=filled];\n", d->dag->id);
  for (size_t i = 0; i < d->ntasks; i++) {
    const ain_task_t *t = &d->tasks[i];
    fprintf(f, "  \"%s\" [label=\"%s\\n%s\", fillcolor=%s];\n", t->step ? t->step : t->id,
            t->step ? t->step : t->id, ain_task_status_name(t->status), colour_of(t->status));
  }
  for (size_t i = 0; i < d->ndeps; i++) {
    fprintf(f, "  \"%s\" -> \"%s\";\n", ain_ops_dag_step_name(d, d->deps[i].depends_on),
            ain_ops_dag_step_name(d, d->deps[i].task_id));
  }
  fprintf(f, "}\n");
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* ---- list ------------------------------------------------------------------------------------ */

int ain_ops_dag_list(ain_ops_t *ops, const ain_ops_dag_query_t *q, ain_ops_dag_page_t *out,
                     ain_err_t *err) {
  memset(out, 0, sizeof *out);
  int status = -1;
  if (q->status != NULL && (status = ain_dag_status_parse(q->status)) < 0) {
    return ain_err_field(err, AIN_EINVAL, "status",
                         "unknown DAG status '%.64s' (running, succeeded, failed, cancelled)",
                         q->status);
  }
  if (q->persona_id != NULL && !ain_ops_filter_ok(q->persona_id)) {
    return ain_err_field(err, AIN_EINVAL, "persona",
                         "a persona id is 1..128 printable characters without spaces");
  }
  if (q->limit < 0 || q->limit > AIN_OPS_DAG_LIST_MAX) {
    return ain_err_field(err, AIN_EINVAL, "limit", "limit must be 1..%d, got %d",
                         AIN_OPS_DAG_LIST_MAX, q->limit);
  }
  int limit = q->limit > 0 ? q->limit : AIN_OPS_DAG_LIST_DEFAULT;
  int64_t after_ts = 0;
  if (q->after != NULL && ain_ops_cursor_parse(q->after, &after_ts, out->after_, err) != 0) {
    return AIN_EINVAL;
  }
  ain_store_req_list_dags(&out->req_, status, q->persona_id, limit);
  if (q->after != NULL) {
    out->req_.u.list_dags.after_created_at = after_ts;
    out->req_.u.list_dags.after_id = out->after_;
  }
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc != 0) {
    ain_ops_dag_page_free(out);
    return rc;
  }
  out->dags = out->req_.u.list_dags.dags;
  out->ndags = out->req_.u.list_dags.ndags;
  /* A full page may have a successor; the cursor names its last row. A page that came out
   * exactly full at the end gives one empty page more, which says "" itself. */
  if (out->ndags == (size_t)limit) {
    const ain_dag_t *last = &out->dags[out->ndags - 1];
    ain_ops_cursor_format(last->created_at, last->id, out->next);
  }
  return 0;
}

void ain_ops_dag_page_free(ain_ops_dag_page_t *p) {
  if (p->req_.op != 0) {
    ain_store_req_cleanup(&p->req_);
  }
  memset(p, 0, sizeof *p);
}

cJSON *ain_ops_dag_page_json(const ain_ops_dag_page_t *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(o, "dags");
  for (size_t i = 0; i < p->ndags; i++) {
    const ain_dag_t *d = &p->dags[i];
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", d->id);
    cJSON_AddStringToObject(r, "status", ain_dag_status_name(d->status));
    ain_ops_json_opt_string(r, "persona_id", d->persona_id);
    ain_ops_json_opt_string(r, "root_task_id", d->root_task_id);
    cJSON_AddNumberToObject(r, "steps_total", d->steps_total);
    cJSON_AddNumberToObject(r, "steps_done", d->steps_done);
    ain_ops_json_opt_string(r, "last_error", d->last_error);
    cJSON_AddNumberToObject(r, "state_version", (double)d->state_version);
    cJSON_AddNumberToObject(r, "created_at", (double)d->created_at);
    cJSON_AddNumberToObject(r, "updated_at", (double)d->updated_at);
    cJSON_AddItemToArray(arr, r);
  }
  ain_ops_json_opt_string(o, "next", p->next);
  return o;
}

/* ---- audit ----------------------------------------------------------------------------------- */

int ain_ops_audit(ain_ops_t *ops, const char *id, ain_ops_audit_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (id == NULL || id[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "id", "a task or DAG id is required");
  }
  /* The store says ENOTFOUND for an id that is not a task; only then is it tried as a DAG. */
  ain_store_req_audit(&out->req_, id, NULL);
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc == AIN_ENOTFOUND || (rc == 0 && out->req_.u.audit.nrows == 0)) {
    ain_store_req_cleanup(&out->req_);
    ain_err_clear(err);
    ain_store_req_audit(&out->req_, NULL, id);
    rc = ain_ops_wait(ops, &out->req_, NULL, err);
    if (rc == AIN_ENOTFOUND) {
      ain_err_field(err, AIN_ENOTFOUND, "id", "no task or DAG '%.64s'", id);
    }
  }
  if (rc == 0 && out->req_.u.audit.nrows == 0) {
    rc = ain_err_field(err, AIN_ENOTFOUND, "id", "no audit rows for '%.64s'", id);
  }
  if (rc != 0) {
    ain_ops_audit_free(out);
    return rc;
  }
  out->rows = out->req_.u.audit.rows;
  out->nrows = out->req_.u.audit.nrows;
  return 0;
}

int ain_ops_audit_operator(ain_ops_t *ops, int limit, ain_ops_audit_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (limit < 1 || limit > AIN_OPS_AUDIT_OPERATOR_MAX) {
    return ain_err_field(err, AIN_EINVAL, "limit", "limit must be 1..%d, got %d",
                         AIN_OPS_AUDIT_OPERATOR_MAX, limit);
  }
  ain_store_req_audit_operator(&out->req_, limit);
  int rc = ain_ops_wait(ops, &out->req_, NULL, err);
  if (rc != 0) {
    ain_ops_audit_free(out);
    return rc;
  }
  out->rows = out->req_.u.audit.rows;
  out->nrows = out->req_.u.audit.nrows;
  return 0;
}

void ain_ops_audit_free(ain_ops_audit_t *a) {
  if (a->req_.op != 0) {
    ain_store_req_cleanup(&a->req_);
  }
  memset(a, 0, sizeof *a);
}

cJSON *ain_ops_audit_json(const ain_ops_audit_t *a) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < a->nrows; i++) {
    const ain_audit_t *r = &a->rows[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    cJSON_AddNumberToObject(o, "ts", (double)r->ts);
    cJSON_AddStringToObject(o, "task_id", r->task_id ? r->task_id : "");
    cJSON_AddStringToObject(o, "dag_id", r->dag_id ? r->dag_id : "");
    cJSON_AddStringToObject(o, "actor", r->actor ? r->actor : "");
    cJSON_AddStringToObject(o, "from", r->from_status ? r->from_status : "");
    cJSON_AddStringToObject(o, "to", r->to_status ? r->to_status : "");
    cJSON_AddNumberToObject(o, "state_version", (double)r->state_version);
    cJSON *detail = r->detail && r->detail[0] == '{' ? cJSON_Parse(r->detail) : NULL;
    cJSON_AddItemToObject(o, "detail", detail ? detail : cJSON_CreateNull());
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}
