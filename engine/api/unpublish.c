/* POST /v1/videos/{id}/unpublish with {"reason": "...", "channel": "..."?} (operator): takes the
 * video's posts down, the function of `ain unpublish` (ops/unpublish.h), the caller being the
 * audit actor; GET /v1/takedowns (?all=true, ?limit=) lists the manual takedowns raised to the
 * operator, as `ain takedowns` does. Relies on: internal.h (opjob.c), ops/unpublish.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "ops/unpublish.h"

static int run_unpublish(ain__api_opjob_t *j, ain_ops_t *ops) {
  ain_ops_unpublish_t u = {.video_id = j->id,
                           .channel = j->arg2[0] ? j->arg2 : NULL,
                           .reason = j->arg,
                           .actor = j->actor};
  return ain_ops_unpublish(ops, &u, &j->out, &j->err);
}

/* body[key] into out: absent leaves it "", else a string of 1..cap-1 bytes or a 400. */
static int body_string(ain__api_call_t *call, const cJSON *b, const char *key, char *out,
                       size_t cap) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, key);
  if (v == NULL) {
    return 0;
  }
  if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) >= cap) {
    ain__api_send_error(call->req, "EINVAL", key, "'%s' must be a string of 1 to %zu bytes", key,
                        cap - 1);
    return -1;
  }
  snprintf(out, cap, "%s", v->valuestring);
  return 0;
}

int ain__api_video_unpublish(ain__api_call_t *call) {
  static const char *const keys[] = {"reason", "channel", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_unpublish);
  cJSON *b = NULL;
  if (j == NULL) {
    return 0;
  }
  if (ain__api_param(call, 0, "id", j->id, 128) != 0 ||
      (b = ain__api_body_object(call, keys)) == NULL ||
      body_string(call, b, "reason", j->arg, sizeof j->arg) != 0 ||
      body_string(call, b, "channel", j->arg2, sizeof j->arg2) != 0) {
    cJSON_Delete(b);
    ain__api_opjob_free(j);
    return 0;
  }
  cJSON_Delete(b); /* a missing reason is the ops layer's 400, naming the field */
  return ain__api_opjob_submit(call, j);
}

static int run_takedowns(ain__api_opjob_t *j, ain_ops_t *ops) {
  return ain_ops_takedowns(ops, !j->flag, (int)j->n, &j->out, &j->err);
}

static int takedowns_query(ain__api_opjob_t *j, const char *key, const char *value,
                           ain__api_call_t *call) {
  if (strcmp(key, "limit") == 0) {
    return ain__api_limit(call, value, 1000, &j->n);
  }
  if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
    ain__api_send_error(call->req, "EINVAL", "all", "'all' must be true or false");
    return -1;
  }
  j->flag = strcmp(value, "true") == 0;
  return 0;
}

int ain__api_takedowns(ain__api_call_t *call) {
  static const char *const keys[] = {"all", "limit", NULL};
  ain__api_opjob_t *j = ain__api_opjob_new(call, run_takedowns);
  if (j == NULL) {
    return 0;
  }
  j->n = 100;
  if (ain__api_query(call, keys, takedowns_query, j) != 0) {
    ain__api_opjob_free(j);
    return 0;
  }
  return ain__api_opjob_submit(call, j);
}
