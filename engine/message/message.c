/* Task message and worker response: parsing and validation (see message.h; emission is in
 * message_emit.c).
 *
 * Validation is table-driven: each message kind is a list of field specs (name, required, check);
 * one walker rejects unknown and duplicate keys, reports missing ones and runs the checks in the
 * table's order, so the first error reported for a message is deterministic.
 *
 * Raw bytes are checked, and the text parsed, by message_raw.c; what a free-form payload or result
 * may hold by message_tree.c.
 *
 * Relies on: cJSON, core/util.h, core/err.h, message/task.h (ain_task_t), message_raw.c,
 * message_tree.c. */
#include "message/message.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/internal.h"
#include "core/util.h"

/* ---- small helpers ------------------------------------------------------------------------- */

static int is_hex_lower(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Lowercase canonical 8-4-4-4-12. Lowercase only: ids are compared as text by the store, so an
 * uppercase spelling of an existing id would be a different task. */
static int uuid_lower_valid(const char *s) {
  if (s == NULL || strlen(s) != AIN_UUID_LEN) {
    return 0;
  }
  for (int i = 0; i < AIN_UUID_LEN; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') {
        return 0;
      }
    } else if (!is_hex_lower(s[i])) {
      return 0;
    }
  }
  return 1;
}

int ain_message_uuid7_valid(const char *s) {
  return uuid_lower_valid(s) && s[14] == '7' &&
         (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

static int all_char(const char *s, size_t n, char c) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] != c) {
      return 0;
    }
  }
  return 1;
}

/* W3C trace context, version 00: 00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>, lowercase,
 * with neither id all zeros (the spec makes those invalid). */
static int traceparent_valid(const char *s) {
  if (strlen(s) != 55 || s[0] != '0' || s[1] != '0' || s[2] != '-' || s[35] != '-' ||
      s[52] != '-') {
    return 0;
  }
  for (int i = 3; i < 55; i++) {
    if (i != 35 && i != 52 && !is_hex_lower(s[i])) {
      return 0;
    }
  }
  return !all_char(s + 3, 32, '0') && !all_char(s + 36, 16, '0');
}

/* ^[a-z][a-z0-9_]{0,63}$ */
static int type_valid(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z')) {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return 0;
    }
  }
  return 1;
}

/* ^E[A-Z0-9_]{1,31}$ over s[0..n) */
int ain__message_errcode_valid(const char *s, size_t n) {
  if (n < 2 || n > 32 || s[0] != 'E') {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return 0;
    }
  }
  return 1;
}

/* Characters (code points) in valid UTF-8, as JSON Schema's minLength/maxLength count them. */
static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) {
    n += ((unsigned char)*s & 0xc0) != 0x80;
  }
  return n;
}

/* Byte length of the longest prefix of s holding at most max characters. */
size_t ain__message_utf8_prefix(const char *s, size_t max) {
  size_t chars = 0, i = 0;
  for (; s[i]; i++) {
    if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == max) {
      break;
    }
  }
  return i;
}

/* ---- the field-table walker ---------------------------------------------------------------- */

typedef int (*check_fn)(const cJSON *v, const char *path, void *ctx, ain_err_t *err);

typedef struct {
  const char *name;
  int required;
  check_fn check;
} field_spec_t;

#define MAX_FIELDS 16

static void join_path(char *out, size_t cap, const char *prefix, const char *name) {
  if (prefix[0] == '\0') {
    snprintf(out, cap, "%s", name);
  } else {
    snprintf(out, cap, "%s.%s", prefix, name);
  }
}

static int check_object(const cJSON *obj, const char *prefix, const field_spec_t *specs, size_t n,
                        void *ctx, ain_err_t *err) {
  const cJSON *found[MAX_FIELDS] = {0};
  char path[128];
  for (const cJSON *c = obj->child; c != NULL; c = c->next) {
    size_t i = 0;
    while (i < n && strcmp(specs[i].name, c->string) != 0) {
      i++;
    }
    join_path(path, sizeof path, prefix, c->string);
    if (i == n) {
      char allowed[512] = "";
      size_t used = 0;
      for (size_t k = 0; k < n && used < sizeof allowed; k++) {
        used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s", k ? ", " : "",
                                 specs[k].name);
      }
      return ain_err_field(err, AIN_ESCHEMA, path, "%s: unknown field (allowed: %s)", path,
                           allowed);
    }
    if (found[i] != NULL) {
      return ain_err_field(err, AIN_ESCHEMA, path, "%s: duplicate field", path);
    }
    found[i] = c;
  }
  for (size_t i = 0; i < n; i++) {
    join_path(path, sizeof path, prefix, specs[i].name);
    if (found[i] == NULL) {
      if (specs[i].required) {
        return ain_err_field(err, AIN_ESCHEMA, path, "%s: required field is missing", path);
      }
      continue;
    }
    int rc = specs[i].check(found[i], path, ctx, err);
    if (rc != 0) {
      return rc;
    }
  }
  return 0;
}

/* Checks an integral number in [min, max]; JSON Schema's "integer" accepts 3.0, so do we. */
static int get_int(const cJSON *v, const char *path, long long min, long long max, long long *out,
                   ain_err_t *err) {
  if (!cJSON_IsNumber(v)) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be an integer in %lld..%lld, got %s",
                         path, min, max, ain__message_json_type_name(v));
  }
  double d = v->valuedouble;
  if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be an integer in %lld..%lld, got %.17g",
                         path, min, max, d);
  }
  *out = (long long)d;
  return 0;
}

static int want_string(const cJSON *v, const char *path, const char *what, ain_err_t *err) {
  if (!cJSON_IsString(v) || v->valuestring == NULL) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be %s, got %s", path, what,
                         ain__message_json_type_name(v));
  }
  return 0;
}

static int bad_value(const char *path, const char *what, const char *got, ain_err_t *err) {
  size_t n = ain__message_utf8_prefix(got, 64);
  return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be %s, got \"%.*s%s\"", path, what, (int)n,
                       got, got[n] ? "..." : "");
}

/* The compact text of a top-level object member. Taken from the raw input and minified rather
 * than re-printed by cJSON, whose "%1.15g"-within-epsilon printing changes numbers (2^53 - 1 comes
 * back as ...990, 0.30000000000000004 as 0.3): a payload passes through byte for byte, only
 * whitespace goes. Checks the 1 MiB limit. Caller frees *out. */
static int member_text(const cJSON *v, const char *path, const char *json, size_t len, char **out,
                       ain_err_t *err) {
  size_t a, b;
  char *text;
  if (!cJSON_IsObject(v)) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be an object, got %s", path,
                         ain__message_json_type_name(v));
  }
  int rc = ain__message_check_tree(v, path, err);
  if (rc != 0) {
    return rc;
  }
  if (ain__message_raw_member(json, len, v->string, &a, &b) && b > a && json[a] == '{') {
    text = malloc(b - a + 1);
    if (text != NULL) {
      memcpy(text, json + a, b - a);
      text[b - a] = '\0';
      cJSON_Minify(text); /* comments cannot occur: the text already parsed as strict JSON */
    }
  } else {
    text = cJSON_PrintUnformatted(v);
  }
  if (text == NULL) {
    return ain_err_field(err, AIN_ENOMEM, path, "%s: out of memory", path);
  }
  size_t n = strlen(text);
  if (n > AIN_MESSAGE_PAYLOAD_MAX) {
    free(text);
    return ain_err_field(err, AIN_ETOOBIG, path, "%s: %zu bytes serialized, the limit is %u", path,
                         n, (unsigned)AIN_MESSAGE_PAYLOAD_MAX);
  }
  *out = text;
  return 0;
}

/* ---- task message -------------------------------------------------------------------------- */

typedef struct {
  ain_task_t *t;
  const char *json; /* the raw message, for member_text */
  size_t len;
} task_ctx_t;

#define UUID7_WHAT "a UUIDv7 string (lowercase 8-4-4-4-12 hex, version 7, variant 10xx)"

static int task_id(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  if (want_string(v, path, "a UUIDv7 string", err) != 0) {
    return AIN_ESCHEMA;
  }
  if (!ain_message_uuid7_valid(v->valuestring)) {
    return bad_value(path, UUID7_WHAT, v->valuestring, err);
  }
  memcpy(t->id, v->valuestring, AIN_UUID_LEN + 1);
  return 0;
}

static int task_type(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  if (want_string(v, path, "a string", err) != 0) {
    return AIN_ESCHEMA;
  }
  if (!type_valid(v->valuestring)) {
    return bad_value(path, "a type name matching ^[a-z][a-z0-9_]{0,63}$", v->valuestring, err);
  }
  t->type = ain_strdup(v->valuestring);
  return 0;
}

static int task_payload(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  task_ctx_t *c = ctx;
  return member_text(v, path, c->json, c->len, &c->t->payload, err);
}

int ain_message_persona_id_valid(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > AIN_MESSAGE_PERSONA_MAX) {
    return 0;
  }
  for (; *s; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return 0;
    }
  }
  return 1;
}

static int task_persona(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  if (want_string(v, path, "a string", err) != 0) {
    return AIN_ESCHEMA;
  }
  if (!ain_message_persona_id_valid(v->valuestring)) {
    size_t n = utf8_chars(v->valuestring);
    if (n == 0 || n > AIN_MESSAGE_PERSONA_MAX) {
      return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be 1..%d characters, got %zu", path,
                           AIN_MESSAGE_PERSONA_MAX, n);
    }
    return bad_value(path, "a persona id matching ^[A-Za-z0-9_-]{1,100}$ (personas/<id>.lua)",
                     v->valuestring, err);
  }
  t->persona_id = ain_strdup(v->valuestring);
  return 0;
}

static int task_version(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  long long x;
  int rc = get_int(v, path, 0, AIN_MESSAGE_INT_MAX, &x, err);
  t->state_version = x;
  return rc;
}

static int task_dag(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  if (want_string(v, path, "a UUID string", err) != 0) {
    return AIN_ESCHEMA;
  }
  if (!uuid_lower_valid(v->valuestring)) {
    return bad_value(path, "a UUID string (lowercase 8-4-4-4-12 hex)", v->valuestring, err);
  }
  memcpy(t->dag_id, v->valuestring, AIN_UUID_LEN + 1);
  return 0;
}

static int task_trace(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  if (want_string(v, path, "a W3C traceparent string", err) != 0) {
    return AIN_ESCHEMA;
  }
  if (!traceparent_valid(v->valuestring)) {
    return bad_value(path, "a W3C traceparent \"00-<32 hex>-<16 hex>-<2 hex>\" with non-zero ids",
                     v->valuestring, err);
  }
  t->traceparent = ain_strdup(v->valuestring);
  return 0;
}

static int task_run_at(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  long long x;
  int rc = get_int(v, path, 0, AIN_MESSAGE_RUN_AT_MAX, &x, err);
  t->run_at = x;
  return rc;
}

static int task_priority(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  long long x;
  int rc = get_int(v, path, AIN_MESSAGE_PRIORITY_MIN, AIN_MESSAGE_PRIORITY_MAX, &x, err);
  t->priority = (int)x;
  return rc;
}

static int task_attempts(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  ain_task_t *t = ((task_ctx_t *)ctx)->t;
  long long x;
  int rc = get_int(v, path, 1, AIN_MESSAGE_ATTEMPTS_MAX, &x, err);
  t->max_attempts = (int)x;
  return rc;
}

/* Order = the order errors are reported in = the schema's property order. */
static const field_spec_t task_fields[] = {
    {"task_id", 1, task_id},
    {"type", 1, task_type},
    {"payload", 1, task_payload},
    {"persona_id", 1, task_persona},
    {"state_version", 1, task_version},
    {"dag_id", 0, task_dag},
    {"traceparent", 0, task_trace},
    {"run_at", 0, task_run_at},
    {"priority", 0, task_priority},
    {"max_attempts", 0, task_attempts},
};

/* Frees what the task parser allocates (the subset of ain_task_free it needs, so that this file
 * does not depend on the store library being linked). */
void ain__message_task_strings_free(ain_task_t *t) {
  free(t->type);
  free(t->persona_id);
  free(t->payload);
  free(t->traceparent);
  memset(t, 0, sizeof *t);
}

int ain_message_parse_task(const char *json, size_t len, ain_task_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  cJSON *root = ain__message_parse_raw(json, len, "task message", 1, err);
  if (root == NULL) {
    return err != NULL ? err->code : AIN_ESCHEMA;
  }
  task_ctx_t ctx = {out, json, len};
  int rc =
      check_object(root, "", task_fields, sizeof task_fields / sizeof task_fields[0], &ctx, err);
  cJSON_Delete(root);
  if (rc != 0) {
    goto fail;
  }
  return 0;
fail:
  ain__message_task_strings_free(out);
  return rc;
}

static size_t skip_ws(const char *s, size_t len, size_t i, size_t *line) {
  for (; i < len; i++) {
    if (s[i] == '\n') {
      (*line)++;
    } else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
      break;
    }
  }
  return i;
}

int ain_message_parse_tasks(const char *buf, size_t len, ain_message_task_check_fn check,
                            void *data, ain_task_t **out, size_t *n, ain_message_pos_t *where,
                            ain_err_t *err) {
  ain_task_t *tasks = NULL;
  size_t count = 0, cap = 0, line = 1, i;
  int rc = 0, array;
  *out = NULL;
  *n = 0;
  if (buf == NULL) {
    return ain_err_field(err, AIN_EINVAL, "", "no input");
  }
  i = skip_ws(buf, len, 0, &line);
  array = i < len && buf[i] == '[';
  if (array) {
    i = skip_ws(buf, len, i + 1, &line);
    if (i < len && buf[i] == ']') {
      i = skip_ws(buf, len, i + 1, &line);
      goto tail;
    }
  }
  while (i < len) {
    size_t end = ain__message_value_end(buf, len, i);
    if (count == cap) {
      cap = cap ? cap * 2 : 16;
      ain_task_t *grown = realloc(tasks, cap * sizeof *tasks);
      if (grown == NULL) {
        rc = ain_err_field(err, AIN_ENOMEM, "", "out of memory");
        goto fail;
      }
      tasks = grown;
    }
    if (end == i) {
      rc = ain_err_field(err, AIN_ESCHEMA, "", "unexpected '%c' where a message should start",
                         buf[i]);
      goto bad;
    }
    rc = ain_message_parse_task(buf + i, end - i, &tasks[count], err);
    if (rc != 0) {
      goto bad;
    }
    if (check != NULL && (rc = check(data, &tasks[count], err)) != 0) {
      ain__message_task_strings_free(&tasks[count]);
      goto bad;
    }
    count++;
    for (size_t k = i; k < end; k++) {
      line += buf[k] == '\n';
    }
    i = skip_ws(buf, len, end, &line);
    if (array) {
      if (i < len && buf[i] == ',') {
        i = skip_ws(buf, len, i + 1, &line);
        continue;
      }
      if (i < len && buf[i] == ']') {
        i = skip_ws(buf, len, i + 1, &line);
        goto tail;
      }
      rc = ain_err_field(err, AIN_ESCHEMA, "", "expected ',' or ']' after the message");
      goto bad;
    }
  }
  if (array) {
    rc = ain_err_field(err, AIN_ESCHEMA, "", "unterminated array: missing ']'");
    goto bad;
  }
tail:
  if (i < len) {
    rc = ain_err_field(err, AIN_ESCHEMA, "", "unexpected data after the array");
    goto bad;
  }
  *out = tasks;
  *n = count;
  return 0;
bad:
  ain_err_prefix(err, "message %zu (line %zu)", count, line);
  if (where != NULL) {
    where->index = count;
    where->line = line;
  }
fail:
  for (size_t k = 0; k < count; k++) {
    ain__message_task_strings_free(&tasks[k]);
  }
  free(tasks);
  return rc;
}

/* ---- worker response ----------------------------------------------------------------------- */

typedef struct {
  const char *json;
  size_t len;
  const char *status;
  int nerrors;
  int has_result;
} resp_ctx_t;

static int resp_task_id(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  if (want_string(v, path, "a UUIDv7 string", err) != 0) {
    return AIN_ESCHEMA;
  }
  if (!ain_message_uuid7_valid(v->valuestring)) {
    return bad_value(path, UUID7_WHAT, v->valuestring, err);
  }
  return 0;
}

static int resp_version(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  long long x;
  return get_int(v, path, 0, AIN_MESSAGE_INT_MAX, &x, err);
}

static int resp_status(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  resp_ctx_t *r = ctx;
  const char *what = "one of \"succeeded\", \"failed\", \"retry\"";
  if (want_string(v, path, what, err) != 0) {
    return AIN_ESCHEMA;
  }
  const char *s = v->valuestring;
  if (strcmp(s, "succeeded") != 0 && strcmp(s, "failed") != 0 && strcmp(s, "retry") != 0) {
    return bad_value(path, what, s, err);
  }
  r->status = s;
  return 0;
}

static int err_code(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  if (want_string(v, path, "an error code string", err) != 0) {
    return AIN_ESCHEMA;
  }
  if (!ain__message_errcode_valid(v->valuestring, strlen(v->valuestring))) {
    return bad_value(path, "an error code matching ^E[A-Z0-9_]{1,31}$", v->valuestring, err);
  }
  return 0;
}

static int err_message(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  if (want_string(v, path, "a string", err) != 0) {
    return AIN_ESCHEMA;
  }
  size_t n = utf8_chars(v->valuestring);
  if (n > AIN_MESSAGE_ERRMSG_MAX) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be at most %d characters, got %zu", path,
                         AIN_MESSAGE_ERRMSG_MAX, n);
  }
  return 0;
}

static const field_spec_t error_fields[] = {
    {"code", 1, err_code},
    {"message", 1, err_message},
};

static int resp_errors(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  resp_ctx_t *r = ctx;
  char item[64];
  int i = 0;
  if (!cJSON_IsArray(v)) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be an array of {code, message}, got %s",
                         path, ain__message_json_type_name(v));
  }
  for (const cJSON *e = v->child; e != NULL; e = e->next, i++) {
    snprintf(item, sizeof item, "%s[%d]", path, i);
    if (i >= AIN_MESSAGE_ERRORS_MAX) {
      return ain_err_field(err, AIN_ESCHEMA, path, "%s: at most %d entries", path,
                           AIN_MESSAGE_ERRORS_MAX);
    }
    if (!cJSON_IsObject(e)) {
      return ain_err_field(err, AIN_ESCHEMA, item, "%s: must be an object {code, message}, got %s",
                           item, ain__message_json_type_name(e));
    }
    int rc = check_object(e, item, error_fields, 2, NULL, err);
    if (rc != 0) {
      return rc;
    }
  }
  r->nerrors = i;
  return 0;
}

static int resp_confidence(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  if (!cJSON_IsNumber(v)) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be a number in 0..1, got %s", path,
                         ain__message_json_type_name(v));
  }
  if (!(v->valuedouble >= 0.0 && v->valuedouble <= 1.0)) {
    return ain_err_field(err, AIN_ESCHEMA, path, "%s: must be a number in 0..1, got %.17g", path,
                         v->valuedouble);
  }
  return 0;
}

static int resp_result(const cJSON *v, const char *path, void *ctx, ain_err_t *err) {
  resp_ctx_t *r = ctx;
  char *text = NULL;
  int rc = member_text(v, path, r->json, r->len, &text, err);
  free(text);
  r->has_result = rc == 0;
  return rc;
}

static const field_spec_t response_fields[] = {
    {"task_id", 1, resp_task_id}, {"state_version", 1, resp_version}, {"status", 1, resp_status},
    {"errors", 1, resp_errors},   {"confidence", 0, resp_confidence}, {"result", 0, resp_result},
};

int ain_message_validate_response(const char *json, size_t len, ain_err_t *err) {
  resp_ctx_t r = {json, len, NULL, 0, 0};
  cJSON *root = ain__message_parse_raw(json, len, "response", 1, err);
  int rc;
  if (root == NULL) {
    return err != NULL ? err->code : AIN_ESCHEMA;
  }
  rc = check_object(root, "", response_fields, sizeof response_fields / sizeof response_fields[0],
                    &r, err);
  if (rc != 0) {
    goto done;
  }
  /* The two rules that tie fields together (if/then in the schema). */
  if (strcmp(r.status, "succeeded") == 0 && !r.has_result) {
    rc = ain_err_field(err, AIN_ESCHEMA, "result", "result: required when status is \"succeeded\"");
  } else if (strcmp(r.status, "succeeded") != 0 && r.nerrors == 0) {
    rc = ain_err_field(err, AIN_ESCHEMA, "errors",
                       "errors: must hold at least one {code, message} when status is \"%s\"",
                       r.status);
  }
done:
  cJSON_Delete(root);
  return rc;
}
