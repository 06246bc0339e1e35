/* The generic layer of the checkpoint and planner ops: request initialisers, validation before a
 * backend sees a request, and freeing outputs. See store.h (ain_artifact_t, ain_plan_item_t).
 * Relies on: store.h, cJSON (checking that keys/result are the JSON they claim to be). */
#include "store/media.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static int empty(const char *s) {
  return s == NULL || s[0] == '\0';
}

static void init(ain_store_req_t *req, ain_store_op_t op) {
  memset(req, 0, sizeof *req);
  req->op = op;
}

void ain_store_req_artifact_put(ain_store_req_t *req, const ain_artifact_t *in) {
  init(req, AIN_STORE_ARTIFACT_PUT);
  req->u.artifact_put.in = in;
}

void ain_store_req_artifact_get(ain_store_req_t *req, const char *dag_id, const char *step) {
  init(req, AIN_STORE_ARTIFACT_GET);
  req->u.artifact_get.dag_id = dag_id;
  req->u.artifact_get.step = step;
}

void ain_store_req_plan_commit(ain_store_req_t *req, ain_plan_item_t *items, size_t n) {
  init(req, AIN_STORE_PLAN_COMMIT);
  req->u.plan_commit.items = items;
  req->u.plan_commit.nitems = n;
}

void ain_store_req_planned_list(ain_store_req_t *req) {
  init(req, AIN_STORE_PLANNED_LIST);
}

void ain_store_req_trends_list(ain_store_req_t *req, int limit) {
  init(req, AIN_STORE_TRENDS_LIST);
  req->u.trends_list.limit = limit;
}

/* A JSON text of the given type (cJSON_IsArray / cJSON_IsObject). */
static int json_is(const char *text, cJSON_bool (*is)(const cJSON *)) {
  cJSON *j = cJSON_Parse(text);
  int ok = j != NULL && is(j);
  cJSON_Delete(j);
  return ok;
}

static int check_put(const ain_artifact_t *a, ain_err_t *err) {
  if (a == NULL) {
    return ain_err_field(err, AIN_EINVAL, "artifact", "artifact_put needs an artifact");
  }
  if (empty(a->dag_id) || empty(a->step) || empty(a->task_id)) {
    return ain_err_field(err, AIN_EINVAL,
                         empty(a->dag_id) ? "dag_id"
                         : empty(a->step) ? "step"
                                          : "task_id",
                         "artifact_put needs dag_id, step and task_id");
  }
  if (empty(a->keys) || !json_is(a->keys, cJSON_IsArray)) {
    return ain_err_field(err, AIN_EINVAL, "keys", "artifact keys must be a JSON array");
  }
  cJSON *keys = cJSON_Parse(a->keys), *k;
  int bad = 0;
  cJSON_ArrayForEach(k, keys) {
    bad |= !cJSON_IsString(k) || k->valuestring[0] == '\0';
  }
  cJSON_Delete(keys);
  if (bad) {
    return ain_err_field(err, AIN_EINVAL, "keys", "artifact keys must be non-empty strings");
  }
  if (empty(a->result) || !json_is(a->result, cJSON_IsObject)) {
    return ain_err_field(err, AIN_EINVAL, "result", "artifact result must be a JSON object");
  }
  return 0;
}

static int check_plan(const ain_store_req_t *req, ain_err_t *err) {
  if (req->u.plan_commit.items == NULL || req->u.plan_commit.nitems == 0) {
    return ain_err_field(err, AIN_EINVAL, "items", "plan_commit needs at least one item");
  }
  for (size_t i = 0; i < req->u.plan_commit.nitems; i++) {
    const ain_plan_item_t *it = &req->u.plan_commit.items[i];
    if (empty(it->persona_id) || empty(it->trend_key)) {
      return ain_err_field(err, AIN_EINVAL, "items[].trend_key",
                           "plan item %zu needs persona_id and trend_key", i);
    }
    if (strchr(it->persona_id, '|') != NULL) {
      return ain_err_field(err, AIN_EINVAL, "items[].persona_id",
                           "plan item %zu: persona_id may not contain '|'", i);
    }
    if (it->trend_json != NULL && !json_is(it->trend_json, cJSON_IsObject)) {
      return ain_err_field(err, AIN_EINVAL, "items[].trend_json",
                           "plan item %zu: trend must be a JSON object", i);
    }
    const ain_task_t *t = it->task;
    if (t == NULL || t->id[0] == '\0' || empty(t->type)) {
      return ain_err_field(err, AIN_EINVAL, "items[].task",
                           "plan item %zu needs a task with an id and a type", i);
    }
    if (t->persona_id == NULL || strcmp(t->persona_id, it->persona_id) != 0) {
      return ain_err_field(err, AIN_EINVAL, "items[].task.persona_id",
                           "plan item %zu: the task's persona_id must be the item's", i);
    }
    for (size_t j = 0; j < i; j++) {
      const ain_plan_item_t *o = &req->u.plan_commit.items[j];
      if (strcmp(o->persona_id, it->persona_id) == 0 && strcmp(o->trend_key, it->trend_key) == 0) {
        return ain_err_field(err, AIN_EINVAL, "items[].trend_key",
                             "plan items %zu and %zu are the same pair %s|%s", j, i, it->persona_id,
                             it->trend_key);
      }
    }
  }
  return 0;
}

int ain__store_media_check(const ain_store_req_t *req, ain_err_t *err) {
  switch (req->op) {
  case AIN_STORE_ARTIFACT_PUT:
    return check_put(req->u.artifact_put.in, err);
  case AIN_STORE_ARTIFACT_GET:
    if (empty(req->u.artifact_get.dag_id) || empty(req->u.artifact_get.step)) {
      return ain_err_field(err, AIN_EINVAL, "dag_id", "artifact_get needs dag_id and step");
    }
    return 0;
  case AIN_STORE_PLAN_COMMIT:
    return check_plan(req, err);
  case AIN_STORE_PLANNED_LIST:
    return 0;
  case AIN_STORE_TRENDS_LIST:
    if (req->u.trends_list.limit < 1 || req->u.trends_list.limit > AIN_STORE_TRENDS_MAX) {
      return ain_err_field(err, AIN_EINVAL, "limit", "trends_list limit must be 1 to %d, got %d",
                           AIN_STORE_TRENDS_MAX, req->u.trends_list.limit);
    }
    return 0;
  default:
    return ain_err_field(err, AIN_EINVAL, "op", "not a media op: %d", (int)req->op);
  }
}

void ain_artifact_free(ain_artifact_t *a) {
  if (a == NULL) {
    return;
  }
  free(a->dag_id);
  free(a->step);
  free(a->task_id);
  free(a->keys);
  free(a->result);
  memset(a, 0, sizeof *a);
}

void ain__store_media_cleanup(ain_store_req_t *req) {
  switch (req->op) {
  case AIN_STORE_ARTIFACT_GET:
    ain_artifact_free(&req->u.artifact_get.artifact);
    break;
  case AIN_STORE_PLANNED_LIST:
    for (size_t i = 0; i < req->u.planned_list.npairs; i++) {
      free(req->u.planned_list.pairs[i]);
    }
    free(req->u.planned_list.pairs);
    req->u.planned_list.pairs = NULL;
    req->u.planned_list.npairs = 0;
    break;
  case AIN_STORE_TRENDS_LIST:
    for (size_t i = 0; i < req->u.trends_list.ntrends; i++) {
      free(req->u.trends_list.trends[i].trend_key);
      free(req->u.trends_list.trends[i].record);
    }
    free(req->u.trends_list.trends);
    req->u.trends_list.trends = NULL;
    req->u.trends_list.ntrends = 0;
    break;
  default:
    break;
  }
}
