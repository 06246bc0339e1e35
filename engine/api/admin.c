/* Engine-wide routes: GET /v1/publishers (status) and POST /v1/publishers ({"action":"pause" |
 * "resume"}), GET /v1/nodes, GET /v1/stats, GET /v1/scripts (?module=) and POST
 * /v1/scripts/{module}/pin ({"sha"}) and /unpin, a module being "name" or "folder/name" (two
 * path segments, as "personas/tester"). The functions of `ain publishers`, `ain nodes`, `ain
 * stats` and `ain scripts`.
 * Relies on: internal.h (opjob.c), ops/review.h (publishers), ops/admin.h, ops/tasks.h (stats). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "ops/admin.h"
#include "ops/review.h"
#include "ops/tasks.h"

/* ---- publishers ------------------------------------------------------------------------------ */

static int run_publishers(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_publishers_t p;
  int rc = ain_ops_publishers(ops, (ain_ops_publishers_action_t)j->n, j->actor, &p, &j->err);
  if (rc == 0) {
    j->out = ain_ops_publishers_json(&p);
  }
  return rc;
}

int ain__api_publishers_get(ain__api_call_t *call) {
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_publishers);
  if (j == NULL) {
    return 0;
  }
  j->n = AIN_OPS_PUBLISHERS_STATUS;
  return ain__api_opjob_submit(call, j);
}

int ain__api_publishers_post(ain__api_call_t *call) {
  static const char *const keys[] = {"action", NULL};
  cJSON *b = ain__api_body_object(call, keys);
  if (b == NULL) {
    return 0;
  }
  cJSON *a = cJSON_GetObjectItemCaseSensitive(b, "action");
  long long action = -1;
  if (cJSON_IsString(a) && strcmp(a->valuestring, "pause") == 0) {
    action = AIN_OPS_PUBLISHERS_PAUSE;
  } else if (cJSON_IsString(a) && strcmp(a->valuestring, "resume") == 0) {
    action = AIN_OPS_PUBLISHERS_RESUME;
  }
  cJSON_Delete(b);
  if (action < 0) {
    ain__api_send_error(call->req, "EINVAL", "action",
                        "the body must be {\"action\": \"pause\" | \"resume\"}");
    return 0;
  }
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_publishers);
  if (j == NULL) {
    return 0;
  }
  j->n = action;
  return ain__api_opjob_submit(call, j);
}

/* ---- nodes, stats ---------------------------------------------------------------------------- */

static int run_nodes(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_nodes_t ns;
  int rc = ain_ops_nodes(ops, &ns, &j->err);
  if (rc == 0) {
    j->out = cJSON_CreateObject();
    cJSON_AddItemToObject(j->out, "nodes", ain_ops_nodes_json(&ns));
    ain_ops_nodes_free(&ns);
  }
  return rc;
}

static int run_stats(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_store_stats_t s;
  int rc = ain_ops_stats(ops, &s, &j->err);
  if (rc == 0) {
    j->out = ain_ops_stats_json(&s);
  }
  return rc;
}

/* A GET without parameters: any query is an unknown parameter. */
static int no_query(ain__api_call_t *call, int (*run)(ain__api_opjob_t *j, ain_ops_t *ops)) {
  static const char *const keys[] = {NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run);
  if (j == NULL) {
    return 0;
  }
  if (ain__api_query(call, keys, NULL, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}

int ain__api_nodes(ain__api_call_t *call) { return no_query(call, run_nodes); }
int ain__api_stats(ain__api_call_t *call) { return no_query(call, run_stats); }

/* ---- scripts and pins ------------------------------------------------------------------------ */

static int run_scripts(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_scripts_t s;
  int rc = ain_ops_scripts_list(ops, j->id[0] ? j->id : NULL, &s, &j->err);
  if (rc == 0) {
    j->out = ain_ops_scripts_json(&s);
    cJSON_DeleteItemFromObject(j->out, "ok"); /* the CLI's envelope, not the API's */
    ain_ops_scripts_free(&s);
  }
  return rc;
}

static int scripts_query(ain__api_opjob_t *j, const char *key, const char *value,
                         ain__api_call_t *call) {
  (void)key, (void)call;
  snprintf(j->id, sizeof j->id, "%s", value);
  return 0;
}

int ain__api_scripts(ain__api_call_t *call) {
  static const char *const keys[] = {"module", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_scripts);
  if (j == NULL) {
    return 0;
  }
  if (ain__api_query(call, keys, scripts_query, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}

static int run_pin(ain__api_opjob_t *j, ain_ops_t *ops) {
  char pinned[65] = "";
  int changed = 0;
  int rc = ain_ops_script_pin(ops, j->id, j->flag ? j->arg : NULL, j->actor, pinned, &changed,
                              &j->err);
  if (rc == 0) {
    j->out = cJSON_CreateObject();
    cJSON_AddStringToObject(j->out, "module", j->id);
    if (pinned[0]) {
      cJSON_AddStringToObject(j->out, "pinned", pinned);
    } else {
      cJSON_AddNullToObject(j->out, "pinned");
    }
    cJSON_AddBoolToObject(j->out, "changed", changed);
  }
  return rc;
}

/* The module of the path: {module} or {folder}/{module}. */
static int module_of(ain__api_call_t *call, char *out, size_t cap) {
  char a[128], b[128];
  if (ain__api_param(call, 0, "module", a, sizeof a) != 0) {
    return -1;
  }
  if (call->params[1].base == NULL) {
    snprintf(out, cap, "%s", a);
    return 0;
  }
  if (ain__api_param(call, 1, "module", b, sizeof b) != 0) {
    return -1;
  }
  snprintf(out, cap, "%s/%s", a, b);
  return 0;
}

static int pin(ain__api_call_t *call, int on) {
  static const char *const pin_keys[] = {"sha", NULL};
  static const char *const unpin_keys[] = {NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_pin);
  cJSON *b = NULL;
  if (j == NULL) {
    return 0;
  }
  j->flag = on;
  if (module_of(call, j->id, sizeof j->id) != 0 ||
      (b = ain__api_body_object(call, on ? pin_keys : unpin_keys)) == NULL) {
    goto refused;
  }
  if (on) {
    cJSON *sha = cJSON_GetObjectItemCaseSensitive(b, "sha");
    if (!cJSON_IsString(sha) || sha->valuestring[0] == '\0' || strlen(sha->valuestring) > 64) {
      ain__api_send_error(call->req, "EINVAL", "sha",
                          "the body must be {\"sha\": \"<a version's sha or 8+ hex digits of it>\"}");
      goto refused;
    }
    snprintf(j->arg, sizeof j->arg, "%s", sha->valuestring);
  }
  cJSON_Delete(b);
  return ain__api_opjob_submit(call, j);
refused:
  cJSON_Delete(b);
  ain__api_opjob_free(j);
  return 0;
}

int ain__api_script_pin(ain__api_call_t *call) { return pin(call, 1); }
int ain__api_script_unpin(ain__api_call_t *call) { return pin(call, 0); }
