/* /healthz (the process serves HTTP) and /readyz (it can do work: the engine is running, not
 * shutting down, its registry loaded, and the store answers with every migration applied).
 * The store check runs on a worker (never the server's loop): one probe at a time, every /readyz
 * waiting meanwhile gets its answer, and a store that does not answer within READY_TIMEOUT_MS
 * makes the answer 503 (the probe finishes, or not, on its own).
 * Relies on: internal.h (work.c, respond.c), store (MIGRATE check_only). */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/log.h"

#define READY_TIMEOUT_MS 2000

typedef struct waiter {
  ain__api_defer_t d;
  struct waiter *next;
} waiter_t;

typedef struct {
  ain__api_job_t job;
  ain_api_t *api;
  int rc;
  int version, pending;
  ain_err_t err;
} probe_t;

struct ain__api_ready {
  waiter_t *waiters;
  probe_t *inflight;
  uv_timer_t timer;
  int closed;
};

int ain__api_healthz(ain__api_call_t *call) {
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "status", "serving");
  ain__api_send_json(call->req, 200, b);
  return 0;
}

static const char *engine_state_name(int st) {
  return st == AIN_API_ENGINE_RUNNING    ? "running"
         : st == AIN_API_ENGINE_STOPPING ? "stopping"
                                         : "starting";
}

/* The answer for one /readyz: 200 only when every check passed. */
static void answer(h2o_req_t *req, ain_api_t *api, const probe_t *p, const char *store_msg) {
  int st = atomic_load(&api->engine_state);
  int shutting = api->stopping || st == AIN_API_ENGINE_STOPPING;
  cJSON *b = cJSON_CreateObject();
  cJSON *c = cJSON_CreateObject();
  int ok = st == AIN_API_ENGINE_RUNNING && !shutting;
  cJSON_AddStringToObject(c, "engine", shutting ? "shutting down" : engine_state_name(st));
  /* The registry is loaded (every policy checked) before the engine says it runs. */
  cJSON_AddStringToObject(c, "registry", st == AIN_API_ENGINE_STARTING ? "loading" : "loaded");
  if (p != NULL && p->rc == 0) {
    cJSON_AddStringToObject(c, "store", "ok");
    char m[96];
    snprintf(m, sizeof m, p->pending ? "%d pending (schema version %d)" : "current (version %d)",
             p->pending ? p->pending : p->version, p->version);
    cJSON_AddStringToObject(c, "migrations", m);
    ok = ok && p->pending == 0;
  } else {
    cJSON_AddStringToObject(c, "store", store_msg ? store_msg : p ? p->err.msg : "not checked");
    cJSON_AddStringToObject(c, "migrations", "unknown");
    ok = 0;
  }
  cJSON_AddBoolToObject(b, "ready", ok);
  cJSON_AddItemToObject(b, "checks", c);
  ain__api_send_json(req, ok ? 200 : 503, b);
}

static void answer_all(ain_api_t *api, const probe_t *p, const char *store_msg) {
  struct ain__api_ready *r = api->ready;
  waiter_t *w = r->waiters;
  r->waiters = NULL;
  uv_timer_stop(&r->timer);
  while (w != NULL) {
    waiter_t *next = w->next;
    h2o_req_t *req = ain__api_defer_take(&w->d);
    if (req != NULL) {
      answer(req, api, p, store_msg);
    }
    free(w);
    w = next;
  }
}

static void probe_run(ain__api_job_t *job, ain__api_worker_t *w) {
  probe_t *p = (probe_t *)job;
  if (!w->ops_open) {
    p->rc = ain_err_set(&p->err, AIN_ESTORE, "no store handle: %s", w->open_err.msg);
    return;
  }
  ain_store_req_t req;
  ain_store_req_migrate_status(&req);
  p->rc = ain_store_wait(w->ops.store, &req);
  if (p->rc != 0) {
    p->err = req.err;
  }
  p->version = req.u.migrate.version;
  p->pending = req.u.migrate.pending;
  ain_store_req_cleanup(&req);
}

static void probe_done(ain__api_job_t *job, int cancelled) {
  probe_t *p = (probe_t *)job;
  ain_api_t *api = p->api;
  struct ain__api_ready *r = api->ready;
  if (r->inflight == p) {
    r->inflight = NULL;
  }
  if (p->rc != 0) {
    ain_log_warn("api: /readyz: store check failed: %s", p->err.msg);
  }
  answer_all(api, cancelled ? NULL : p, cancelled ? "not checked: shutting down" : NULL);
  free(p);
}

static void on_ready_timeout(uv_timer_t *t) {
  ain_api_t *api = t->data;
  char msg[96];
  snprintf(msg, sizeof msg, "no answer within %d ms", READY_TIMEOUT_MS);
  ain_log_warn("api: /readyz: the store gave %s", msg);
  answer_all(api, NULL, msg);
}

int ain__api_readyz(ain__api_call_t *call) {
  ain_api_t *api = call->api;
  int st = atomic_load(&api->engine_state);
  if (st != AIN_API_ENGINE_RUNNING || api->stopping) {
    answer(call->req, api, NULL, "not checked");
    return 0;
  }
  struct ain__api_ready *r = api->ready;
  if (r == NULL) {
    r = api->ready = calloc(1, sizeof *r);
    if (r == NULL) {
      ain__api_send_error(call->req, "ENOTREADY", NULL, "out of memory");
      return 0;
    }
    uv_timer_init(&api->loop, &r->timer);
    r->timer.data = api;
  }
  waiter_t *w = calloc(1, sizeof *w);
  if (w == NULL) {
    ain__api_send_error(call->req, "ENOTREADY", NULL, "out of memory");
    return 0;
  }
  ain__api_defer_attach(&w->d, call->req);
  w->next = r->waiters;
  r->waiters = w;
  if (!uv_is_active((uv_handle_t *)&r->timer)) {
    uv_timer_start(&r->timer, on_ready_timeout, READY_TIMEOUT_MS, 0);
  }
  if (r->inflight == NULL) {
    probe_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
      answer_all(api, NULL, "out of memory");
      return 0;
    }
    p->api = api;
    p->job.run = probe_run;
    p->job.done = probe_done;
    int rc = ain__api_pool_submit(api, &p->job);
    if (rc != 0) {
      free(p);
      answer_all(api, NULL, rc == AIN_EBUSY ? "workers busy" : "shutting down");
      return 0;
    }
    r->inflight = p;
  }
  return 0;
}

void ain__api_health_close(ain_api_t *api) {
  struct ain__api_ready *r = api->ready;
  if (r == NULL || r->closed) {
    return;
  }
  answer_all(api, NULL, "not checked: shutting down");
  r->closed = 1;
  uv_close((uv_handle_t *)&r->timer, NULL);
}
