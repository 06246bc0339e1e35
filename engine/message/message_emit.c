/* Emitting task messages and worker responses from stored rows (see message.h). Every emitted
 * message is run back through the validator before it is returned, so the engine can never emit a
 * message its own schema would reject.
 * Relies on: cJSON, message/message.c (the validator and a few shared checks). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/message.h"
#include "message/internal.h"
#include "core/util.h"

/* ---- emitters ------------------------------------------------------------------------------ */

/* Parses object text held by a row (NULL = {}); anything but an object is an error. */
static cJSON *row_object(const char *text, const char *name, ain_err_t *err) {
  cJSON *o = cJSON_ParseWithOpts(text != NULL ? text : "{}", NULL, 1);
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    ain_err_field(err, AIN_EINVAL, name, "%s: the task row's %s is not a JSON object", name, name);
    return NULL;
  }
  return o;
}

/* cJSON prints numbers through "%1.15g" and accepts the result when it is within a relative
 * epsilon, which turns 9007199254740991 into 9007199254740990: integers go out as raw text. */
static void add_int(cJSON *obj, const char *name, long long v) {
  char buf[24];
  ain_fmt_int64(buf, v);
  cJSON_AddRawToObject(obj, name, buf);
}

/* Prints root compactly and runs the matching validator over the text, so that what we emit is
 * exactly what we accept. Takes ownership of root. */
static int emit(cJSON *root, const char *id, int is_task, char **out, ain_err_t *err) {
  char *text = cJSON_PrintUnformatted(root);
  ain_task_t chk;
  int rc;
  cJSON_Delete(root);
  if (text == NULL) {
    return ain_err_field(err, AIN_ENOMEM, "", "out of memory");
  }
  if (is_task) {
    rc = ain_message_parse_task(text, strlen(text), &chk, err);
    if (rc == 0) {
      ain__message_task_strings_free(&chk);
    }
  } else {
    rc = ain_message_validate_response(text, strlen(text), err);
  }
  if (rc != 0) {
    ain_err_prefix(err, "task %s cannot be expressed as a valid %s", id,
                   is_task ? "task message" : "response");
    free(text);
    return rc;
  }
  *out = text;
  return 0;
}

int ain_message_task_to_json_ex(const ain_task_t *t, char **out, ain_err_t *err) {
  *out = NULL;
  /* Only the payload's shape is checked here: emit() parses and validates the whole message,
   * payload included, so parsing the payload first as well would do that work twice (it was
   * half of a GET /v1/tasks/{id}'s CPU after the store read, bench/api_cost.sh). */
  const char *pl = t->payload != NULL ? t->payload : "{}";
  pl += strspn(pl, " \t\r\n");
  if (*pl != '{') {
    return ain_err_field(err, AIN_EINVAL, "payload",
                         "payload: the task row's payload is not a JSON object");
  }
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "task_id", t->id);
  cJSON_AddStringToObject(root, "type", t->type != NULL ? t->type : "");
  /* Raw, as stored: re-printing through cJSON would alter numbers (see member_text). */
  cJSON_AddRawToObject(root, "payload", t->payload != NULL ? t->payload : "{}");
  cJSON_AddStringToObject(root, "persona_id", t->persona_id != NULL ? t->persona_id : "");
  add_int(root, "state_version", t->state_version);
  if (t->dag_id[0] != '\0') {
    cJSON_AddStringToObject(root, "dag_id", t->dag_id);
  }
  if (t->traceparent != NULL) {
    cJSON_AddStringToObject(root, "traceparent", t->traceparent);
  }
  if (t->run_at > 0) {
    add_int(root, "run_at", t->run_at);
  }
  if (t->priority != 0) {
    add_int(root, "priority", t->priority);
  }
  if (t->max_attempts > 0) {
    add_int(root, "max_attempts", t->max_attempts);
  }
  return emit(root, t->id, 1, out, err);
}

char *ain_message_task_to_json(const ain_task_t *t) {
  char *out = NULL;
  return ain_message_task_to_json_ex(t, &out, NULL) == 0 ? out : NULL;
}

/* "ECODE: detail" -> {code, message}; text without a code prefix becomes EUNKNOWN. */
static cJSON *error_item(const char *last_error, const char *fallback_code) {
  cJSON *e = cJSON_CreateObject();
  const char *colon = last_error != NULL ? strchr(last_error, ':') : NULL;
  char code[33] = "EUNKNOWN";
  const char *msg = last_error != NULL ? last_error : fallback_code;
  if (last_error == NULL) {
    snprintf(code, sizeof code, "%s", fallback_code);
    msg = "";
  } else if (colon != NULL && ain__message_errcode_valid(last_error, (size_t)(colon - last_error))) {
    snprintf(code, sizeof code, "%.*s", (int)(colon - last_error), last_error);
    msg = colon + 1 + (colon[1] == ' ');
  }
  size_t n = ain__message_utf8_prefix(msg, AIN_MESSAGE_ERRMSG_MAX);
  char *cut = malloc(n + 1);
  if (cut != NULL) {
    memcpy(cut, msg, n);
    cut[n] = '\0';
  }
  cJSON_AddStringToObject(e, "code", code);
  cJSON_AddStringToObject(e, "message", cut != NULL ? cut : "");
  free(cut);
  return e;
}

int ain_message_response_to_json_ex(const ain_task_t *t, char **out, ain_err_t *err) {
  const char *status;
  const char *fallback = "EUNKNOWN";
  *out = NULL;
  switch (t->status) {
  case AIN_TASK_SUCCEEDED:
    status = "succeeded";
    break;
  case AIN_TASK_DEAD:
    status = "failed";
    break;
  case AIN_TASK_CANCELLED:
    status = "failed";
    fallback = "ECANCELLED";
    break;
  case AIN_TASK_READY:
    if (t->attempts > 0 && t->last_error != NULL) {
      status = "retry";
      break;
    }
    /* fall through */
  default:
    return ain_err_field(err, AIN_EINVAL, "status",
                         "task %s is %s: no attempt has ended, so there is no response", t->id,
                         t->status == AIN_TASK_PENDING   ? "pending"
                         : t->status == AIN_TASK_RUNNING ? "running"
                         : t->status == AIN_TASK_READY   ? "ready"
                                                         : "in an unknown state");
  }
  cJSON *result = NULL;
  if (t->result != NULL || t->status == AIN_TASK_SUCCEEDED) {
    result = row_object(t->result, "result", err);
    if (result == NULL) {
      return AIN_EINVAL;
    }
  }
  cJSON *root = cJSON_CreateObject();
  cJSON *errors = cJSON_CreateArray();
  cJSON_AddStringToObject(root, "task_id", t->id);
  add_int(root, "state_version", t->state_version);
  cJSON_AddStringToObject(root, "status", status);
  if (t->status != AIN_TASK_SUCCEEDED) {
    cJSON_AddItemToArray(errors, error_item(t->last_error, fallback));
  }
  cJSON_AddItemToObject(root, "errors", errors);
  if (result != NULL) {
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(result, "confidence");
    /* A judge that reports nonsense keeps its result; only the summary field is left out. */
    if (cJSON_IsNumber(conf) && conf->valuedouble >= 0.0 && conf->valuedouble <= 1.0) {
      cJSON_AddNumberToObject(root, "confidence", conf->valuedouble);
    }
    cJSON_AddRawToObject(root, "result", t->result != NULL ? t->result : "{}");
    cJSON_Delete(result);
  }
  return emit(root, t->id, 0, out, err);
}

char *ain_message_response_to_json(const ain_task_t *t) {
  char *out = NULL;
  return ain_message_response_to_json_ex(t, &out, NULL) == 0 ? out : NULL;
}
