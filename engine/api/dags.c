/* GET /v1/dags (one page of DAGs, newest first: ?status=&persona=&limit=&after=, as `ain dag
 * list`), GET /v1/dags/{id} (a DAG with its steps and edges, by its id or its root task's;
 * ?format=dot for Graphviz, as `ain dag show --dot`) and GET /v1/audit (the operator's own
 * rows: settings, pins, purges; ?limit=, as `ain audit --operator`).
 * Relies on: internal.h (opjob.c), ops/dags.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/util.h"
#include "ops/dags.h"

/* filter[0] status, filter[1] persona, id the cursor, n the limit (0: the ops default) */
static int run_dag_list(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_dag_query_t q = {.status = j->filter[0][0] ? j->filter[0] : NULL,
                           .persona_id = j->filter[1][0] ? j->filter[1] : NULL,
                           .limit = (int)j->n,
                           .after = j->id[0] ? j->id : NULL};
  ain_ops_dag_page_t page;
  int rc = ain_ops_dag_list(ops, &q, &page, &j->err);
  if (rc == 0) {
    j->out = ain_ops_dag_page_json(&page);
    ain_ops_dag_page_free(&page);
  }
  return rc;
}

/* The values are checked by the ops layer (400 naming the field from there); only the limit's
 * syntax is checked here. */
static int dag_list_query(ain__api_opjob_t *j, const char *key, const char *value,
                          ain__api_call_t *call) {
  if (strcmp(key, "limit") == 0) {
    return ain__api_limit(call, value, AIN_OPS_DAG_LIST_MAX, &j->n);
  }
  if (strcmp(key, "after") == 0) {
    return ain__api_query_copy(call, key, value, j->id, AIN_OPS_CURSOR_MAX);
  }
  return ain__api_query_copy(call, key, value, j->filter[strcmp(key, "status") == 0 ? 0 : 1],
                             sizeof j->filter[0]);
}

int ain__api_dag_list(ain__api_call_t *call) {
  static const char *const keys[] = {"status", "persona", "limit", "after", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_dag_list);
  if (j == NULL) {
    return 0;
  }
  if (ain__api_query(call, keys, dag_list_query, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}

static int run_dag(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_dag_t g;
  int rc = ain_ops_dag_get(ops, j->id, &g, &j->err);
  if (rc != 0) {
    return rc;
  }
  if (j->flag) {
    j->text = ain_ops_dag_dot(&g);
    j->text_type = "text/vnd.graphviz";
  } else {
    j->out = ain_ops_dag_json(&g);
  }
  ain_ops_dag_free(&g);
  return 0;
}

static int dag_query(ain__api_opjob_t *j, const char *key, const char *value,
                     ain__api_call_t *call) {
  (void)key;
  if (strcmp(value, "json") == 0 || strcmp(value, "dot") == 0) {
    j->flag = strcmp(value, "dot") == 0;
    return 0;
  }
  ain__api_send_error(call->req, "EINVAL", "format", "'format' is json or dot, not '%s'", value);
  return -1;
}

int ain__api_dag_show(ain__api_call_t *call) {
  static const char *const keys[] = {"format", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_dag);
  if (j == NULL) {
    return 0;
  }
  if (ain__api_param(call, 0, "id", j->id, AIN_UUID_LEN + 1) != 0) {
    goto refused;
  }
  if (!ain_uuid_valid(j->id)) {
    ain__api_send_error(call->req, "EINVAL", "id", "not a DAG or task id (a UUID): '%s'", j->id);
    goto refused;
  }
  if (ain__api_query(call, keys, dag_query, j) != 0) {
    goto refused;
  }
  return ain__api_opjob_submit(call, j);
refused:
  ain__api_opjob_free(j);
  return 0;
}

static int run_audit(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_audit_t a;
  int rc = ain_ops_audit_operator(ops, (int)j->n, &a, &j->err);
  if (rc == 0) {
    j->out = cJSON_CreateObject();
    cJSON_AddItemToObject(j->out, "audit", ain_ops_audit_json(&a));
    ain_ops_audit_free(&a);
  }
  return rc;
}

/* ?limit=N with N in [1, max]; answers 400 naming "limit" otherwise. Shared by the list routes. */
int ain__api_limit(ain__api_call_t *call, const char *value, long long max, long long *out) {
  char *end = NULL;
  long long n = strtoll(value, &end, 10);
  if (end == value || *end != '\0' || n < 1 || n > max) {
    ain__api_send_error(call->req, "EINVAL", "limit", "'limit' must be 1..%lld, got '%s'", max,
                        value);
    return -1;
  }
  *out = n;
  return 0;
}

static int audit_query(ain__api_opjob_t *j, const char *key, const char *value,
                       ain__api_call_t *call) {
  (void)key;
  return ain__api_limit(call, value, AIN_OPS_AUDIT_OPERATOR_MAX, &j->n);
}

int ain__api_audit(ain__api_call_t *call) {
  static const char *const keys[] = {"limit", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_audit);
  if (j == NULL) {
    return 0;
  }
  j->n = 100; /* the CLI's default */
  if (ain__api_query(call, keys, audit_query, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}
