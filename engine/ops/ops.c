/* The ops handle: the store on a private loop, one request at a time; the error table that maps
 * AIN_E* codes to CLI exit codes and HTTP statuses; the cursors and filters the lists share.
 * Relies on: ops.h, sched/engine.h (the store config of an engine config). */
#include "ops/ops.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sched/engine.h"

static void store_closed(void *data) {
  *(int *)data = 1;
}

static int open_with(ain_ops_t *ops, const ain_config_t *cfg, uv_loop_t *loop, int read_busy_ms,
                     ain_err_t *err) {
  memset(ops, 0, sizeof *ops);
  if (uv_loop_init(loop) != 0) {
    return ain_err_set(err, AIN_EIO, "cannot create an event loop");
  }
  ain_store_config_t scfg;
  ain_engine_store_config(cfg, &scfg);
  scfg.read_busy_timeout_ms = read_busy_ms;
  int rc = ain_store_open(&scfg, loop, &ops->store, err);
  if (rc != 0) {
    uv_loop_close(loop);
    return rc;
  }
  ops->cfg = cfg;
  ops->loop = loop;
  return 0;
}

int ain_ops_open(ain_ops_t *ops, const ain_config_t *cfg, uv_loop_t *loop, ain_err_t *err) {
  return open_with(ops, cfg, loop, 0, err);
}

int ain_ops_open_nowait(ain_ops_t *ops, const ain_config_t *cfg, uv_loop_t *loop,
                        ain_err_t *err) {
  return open_with(ops, cfg, loop, -1, err);
}

void ain_ops_close(ain_ops_t *ops) {
  if (ops->store != NULL) {
    int closed = 0;
    ain_store_close(ops->store, store_closed, &closed);
    ops->store = NULL;
    uv_run(ops->loop, UV_RUN_DEFAULT);
  }
  if (ops->loop != NULL) {
    uv_loop_close(ops->loop);
    ops->loop = NULL;
  }
}

int ain_ops_wait(ain_ops_t *ops, ain_store_req_t *req, const char *actor, ain_err_t *err) {
  if (req->actor == NULL) {
    req->actor = actor;
  }
  if (ops->store == NULL) {
    return ain_err_set(err, AIN_EINVAL, "the store is not open");
  }
  int rc = ain_store_wait(ops->store, req);
  if (rc != 0) {
    if (req->err.code == 0) {
      ain_err_set(&req->err, rc, "%s", ain_strerror(rc));
    }
    *err = req->err;
  }
  return rc;
}

int ain_ops_snapshot_begin(ain_ops_t *ops) {
  return ops->store != NULL ? ain_store_snapshot(ops->store, 1) : AIN_EINVAL;
}

void ain_ops_snapshot_end(ain_ops_t *ops) {
  if (ops->store != NULL) {
    ain_store_snapshot(ops->store, 0);
  }
}

int ain_ops_migrate(ain_ops_t *ops, const char *actor, int *applied, int *version, ain_err_t *err) {
  ain_store_req_t req;
  ain_store_req_migrate(&req);
  int rc = ain_ops_wait(ops, &req, actor, err);
  if (rc == 0 && applied != NULL) {
    *applied = req.u.migrate.applied;
  }
  if (rc == 0 && version != NULL) {
    *version = req.u.migrate.version;
  }
  ain_store_req_cleanup(&req);
  return rc;
}

/* One row per code a front end must tell apart; anything else is a failure (1, 500). */
static const struct {
  int code, exit_code, http;
} status_map[] = {
    {0, AIN_EXIT_OK, 200},
    {AIN_ECONFIG, AIN_EXIT_CONFIG, 500}, /* the server's configuration, not the request */
    {AIN_ESCHEMA, AIN_EXIT_INVALID, 400},
    {AIN_EUTF8, AIN_EXIT_INVALID, 400},
    {AIN_EINVAL, AIN_EXIT_INVALID, 400},
    {AIN_ELUA, AIN_EXIT_INVALID, 400}, /* a persona the message names fails its check */
    {AIN_ETOOBIG, AIN_EXIT_INVALID, 413},
    {AIN_EMEDIATYPE, AIN_EXIT_INVALID, 415}, /* a body whose Content-Type we do not take */
    {AIN_ENOTFOUND, AIN_EXIT_NOTFOUND, 404},
    {AIN_ECONFLICT, AIN_EXIT_CONFLICT, 409},
    {AIN_EEXIST, AIN_EXIT_FAILURE, 409},
    {AIN_ESHUTDOWN, AIN_EXIT_FAILURE, 503},
    {AIN_ETIMEOUT, AIN_EXIT_FAILURE, 504},
    {AIN_EBUSY, AIN_EXIT_FAILURE, 503},
};

int ain_ops_exit_code(int code) {
  for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++) {
    if (status_map[i].code == code) {
      return status_map[i].exit_code;
    }
  }
  return AIN_EXIT_FAILURE;
}

int ain_ops_http_status(int code) {
  for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++) {
    if (status_map[i].code == code) {
      return status_map[i].http;
    }
  }
  return 500;
}

cJSON *ain_ops_error_json(const ain_err_t *err) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "code", ain_err_name(err->code));
  cJSON_AddStringToObject(o, "field", err->field);
  cJSON_AddStringToObject(o, "message", err->msg[0] ? err->msg : ain_strerror(err->code));
  return o;
}

void ain_ops_cursor_format(int64_t created_at, const char *id, char out[AIN_OPS_CURSOR_MAX]) {
  snprintf(out, AIN_OPS_CURSOR_MAX, "%lld.%s", (long long)created_at, id);
}

int ain_ops_cursor_parse(const char *s, int64_t *created_at, char id[AIN_UUID_LEN + 1],
                         ain_err_t *err) {
  const char *dot = strchr(s, '.');
  /* at most 18 digits: any ms timestamp, and no overflow below */
  int ok = dot != NULL && dot != s && dot - s <= 18 && strlen(dot + 1) == AIN_UUID_LEN &&
           ain_uuid_valid(dot + 1);
  int64_t v = 0;
  for (const char *p = s; ok && p < dot; p++) {
    ok = isdigit((unsigned char)*p);
    v = v * 10 + (*p - '0');
  }
  if (!ok) {
    return ain_err_field(err, AIN_EINVAL, "after",
                         "'%.80s' is not a page cursor (use the `next` of a previous page)", s);
  }
  *created_at = v;
  memcpy(id, dot + 1, AIN_UUID_LEN + 1);
  return 0;
}

int ain_ops_filter_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (s[i] <= ' ' || s[i] > '~') {
      return 0;
    }
  }
  return 1;
}

void ain_ops_json_opt_string(cJSON *o, const char *key, const char *v) {
  if (v != NULL && v[0] != '\0') {
    cJSON_AddStringToObject(o, key, v);
  } else {
    cJSON_AddNullToObject(o, key);
  }
}

void ain_ops_fmt_time(int64_t ms, char *out, size_t n) {
  if (ms <= 0) {
    snprintf(out, n, "-");
    return;
  }
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
