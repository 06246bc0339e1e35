/* Generic ops jobs: a request whose handler parses its input here (path ids, query, body), then
 * runs one function of engine/ops/ on a worker and answers with the JSON (or text) it built. The
 * handlers of tasks_write.c, dags.c, reviews.c and admin.c use it; each parses only its own input.
 * Relies on: internal.h (work.c, respond.c), ops/ops.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/util.h"

void ain__api_opjob_free(ain__api_opjob_t *j) {
  if (j != NULL) {
    cJSON_Delete(j->out);
    free(j->text);
    free(j->body);
    free(j);
  }
}

static void opjob_run(ain__api_job_t *job, ain__api_worker_t *w) {
  ain__api_opjob_t *j = (ain__api_opjob_t *)job;
  ain_err_clear(&j->err);
  if (!w->ops_open) {
    j->rc = ain_err_set(&j->err, AIN_ESTORE, "no store handle: %s", w->open_err.msg);
    return;
  }
  j->rc = j->run(j, &w->ops);
  if (j->rc == 0 && j->out == NULL && j->text == NULL) {
    j->rc = ain_err_set(&j->err, AIN_ENOMEM, "out of memory");
  }
}

static void opjob_done(ain__api_job_t *job, int cancelled) {
  ain__api_opjob_t *j = (ain__api_opjob_t *)job;
  h2o_req_t *req = ain__api_defer_take(&j->defer);
  if (req != NULL) {
    if (cancelled) {
      ain__api_send_error(req, "ESHUTDOWN", NULL, "the server is shutting down");
    } else if (j->rc != 0) {
      ain__api_send_err(req, &j->err);
    } else if (j->text != NULL) {
      size_t n = strlen(j->text);
      char *b = h2o_mem_alloc_pool(&req->pool, n + 1);
      memcpy(b, j->text, n + 1);
      req->res.status = 200;
      req->res.reason = "OK";
      req->res.content_length = n;
      h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, j->text_type,
                     strlen(j->text_type), 0);
      h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-store"),
                     1);
      h2o_send_inline(req, b, n);
    } else {
      ain__api_send_json(req, j->ok_status ? j->ok_status : 200, j->out);
      j->out = NULL;
    }
  }
  ain__api_opjob_free(j);
}

ain__api_opjob_t *ain__api_opjob_new(ain__api_call_t *call,
                                     int (*run)(ain__api_opjob_t *j, ain_ops_t *ops)) {
  ain__api_opjob_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    ain__api_send_error(call->req, "EBUSY", NULL, "out of memory");
    return NULL;
  }
  j->run = run;
  j->api = call->api;
  j->text_type = "text/plain";
  if (call->caller != NULL) {
    snprintf(j->actor, sizeof j->actor, "%s", call->caller->actor);
  }
  return j;
}

int ain__api_opjob_submit(ain__api_call_t *call, ain__api_opjob_t *j) {
  j->job.run = opjob_run;
  j->job.done = opjob_done;
  ain__api_defer_attach(&j->defer, call->req);
  int rc = ain__api_pool_submit(call->api, &j->job);
  if (rc != 0) {
    ain__api_defer_take(&j->defer);
    ain__api_opjob_free(j);
    ain__api_send_error(call->req, rc == AIN_EBUSY ? "EBUSY" : "ESHUTDOWN", NULL,
                        rc == AIN_EBUSY ? "every worker is busy; retry" : "shutting down");
  }
  return 0;
}

int ain__api_param(ain__api_call_t *call, int i, const char *field, char *out, size_t cap) {
  h2o_iovec_t v = call->params[i];
  int ok = v.len > 0 && v.len < cap && v.base[0] != '.';
  for (size_t k = 0; ok && k < v.len; k++) {
    unsigned char c = (unsigned char)v.base[k];
    ok = isalnum(c) || c == '-' || c == '_' || c == '.';
    if (ok && c == '.' && k + 1 < v.len && v.base[k + 1] == '.') {
      ok = 0;
    }
  }
  if (!ok) {
    ain__api_send_error(call->req, "EINVAL", field,
                        "'%s' must be letters, digits, '-', '_' or '.' (no '..'), got '%.*s'",
                        field, (int)(v.len > 64 ? 64 : v.len), v.base);
    return -1;
  }
  memcpy(out, v.base, v.len);
  out[v.len] = '\0';
  return 0;
}

/* %XX and '+' in a query value (internal.h); shared by every route that reads a query. */
int ain__api_query_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2])) {
        return -1;
      }
      char hex[3] = {s[i + 1], s[i + 2], 0};
      c = (char)strtol(hex, NULL, 16);
      i += 2;
    }
    if (c == '\0' || o + 1 >= cap) {
      return -1;
    }
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

int ain__api_query(ain__api_call_t *call, const char *const *keys,
                   int (*fn)(ain__api_opjob_t *j, const char *key, const char *value,
                             ain__api_call_t *call),
                   ain__api_opjob_t *j) {
  h2o_req_t *req = call->req;
  if (req->query_at == SIZE_MAX) {
    return 0;
  }
  const char *q = req->path.base + req->query_at + 1;
  size_t qn = req->path.len - req->query_at - 1;
  while (qn > 0) {
    const char *amp = memchr(q, '&', qn);
    size_t len = amp ? (size_t)(amp - q) : qn;
    const char *eq = memchr(q, '=', len);
    size_t kl = eq ? (size_t)(eq - q) : len;
    char key[32], val[512];
    snprintf(key, sizeof key, "%.*s", (int)(kl < 31 ? kl : 31), q);
    if (len > 0) {
      int known = 0;
      char list[256] = "";
      for (size_t i = 0; keys[i] != NULL; i++) {
        known |= strcmp(keys[i], key) == 0;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", keys[i]);
      }
      if (!known) {
        ain__api_send_error(req, "EINVAL", key, "unknown query parameter '%s' (%s)", key, list);
        return -1;
      }
      if (eq == NULL || len - kl - 1 == 0 ||
          ain__api_query_decode(eq + 1, len - kl - 1, val, sizeof val) != 0) {
        ain__api_send_error(req, "EINVAL", key, "'%s' is empty, too long or badly encoded", key);
        return -1;
      }
      if (fn(j, key, val, call) != 0) {
        return -1; /* fn answered */
      }
    }
    q += len + (amp != NULL);
    qn -= len + (amp != NULL);
  }
  return 0;
}

int ain__api_query_copy(ain__api_call_t *call, const char *key, const char *value, char *out,
                        size_t cap) {
  size_t n = strlen(value);
  if (n >= cap) {
    ain__api_send_error(call->req, "EINVAL", key, "'%s' is too long (%zu bytes, at most %zu)", key,
                        n, cap - 1);
    return -1;
  }
  memcpy(out, value, n + 1);
  return 0;
}

cJSON *ain__api_body_object(ain__api_call_t *call, const char *const *keys) {
  h2o_iovec_t body = call->req->entity;
  if (body.base == NULL || body.len == 0) {
    return cJSON_CreateObject();
  }
  size_t bad = 0;
  if (!ain_utf8_valid(body.base, body.len, &bad)) {
    ain__api_send_error(call->req, "EUTF8", "body", "the body is not valid UTF-8 (byte %zu)", bad);
    return NULL;
  }
  cJSON *b = cJSON_ParseWithLength(body.base, body.len);
  if (!cJSON_IsObject(b)) {
    cJSON_Delete(b);
    ain__api_send_error(call->req, "EINVAL", "body", "the body is not a JSON object");
    return NULL;
  }
  for (cJSON *m = b->child; m != NULL; m = m->next) {
    int known = 0;
    for (size_t i = 0; keys[i] != NULL; i++) {
      known |= strcmp(keys[i], m->string) == 0;
    }
    if (!known) {
      ain__api_send_error(call->req, "EINVAL", m->string, "unknown field '%.64s' in the body",
                          m->string);
      cJSON_Delete(b);
      return NULL;
    }
  }
  return b;
}
