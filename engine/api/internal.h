/* Private to engine/api/: the server struct, the route table, callers, the JSON responses, the
 * worker pool and the JWT and TLS pieces. */
#ifndef AIN_API_INTERNAL_H
#define AIN_API_INTERNAL_H

#define H2O_USE_LIBUV 1
#include <cjson/cJSON.h>
#include <h2o.h>
#include <stdatomic.h>
#include <uv.h>

#include "api/api.h"
#include "config/api.h"
#include "ops/ops.h"
#include "store/store.h"

/* ---- callers -------------------------------------------------------------------------------- */

typedef struct {
  char actor[192];   /* the audit actor of what the request causes: "operator:alice" */
  char subject[160]; /* JWT sub or certificate subject */
  ain_role_t role;
  const char *via; /* "jwt" | "mtls" */
} ain__api_caller_t;

/* ---- JWT (jwt.c) ---------------------------------------------------------------------------- */

#define AIN__API_JWT_AUD "ain-api"
#define AIN__API_JWT_SKEW_S 30 /* clock skew allowed on exp, nbf and iat */


typedef struct ain__api_jwt_seen ain__api_jwt_seen_t;

typedef struct {
  int alg;              /* jwt_alg_t; JWT_ALG_NONE = bearer tokens off */
  unsigned char *key;   /* HS256 secret or the PEM text of the public key */
  size_t key_len;
  int64_t max_ttl_s;
  /* Tokens that verified lately, byte for byte, with their time claims (jwt.c): server loop
   * only. A token sent again skips the signature and the parsing, never the time checks. */
  ain__api_jwt_seen_t *seen;
  unsigned seen_next;
} ain__api_jwt_t;

/* Loads the verification key of cfg->api.jwt (blocking: start-up). Nothing configured: alg NONE. */
int ain__api_jwt_init(ain__api_jwt_t *j, const ain_config_t *cfg, ain_err_t *err);
void ain__api_jwt_free(ain__api_jwt_t *j);
/* Verifies a compact JWS at time now_s. 0 and *caller filled, or AIN_EINVAL with the reason in
 * err (for the log only: responses never say why). Not thread-safe (j->seen): one thread (the
 * server's loop) verifies with a given j. */
int ain__api_jwt_verify(ain__api_jwt_t *j, const char *token, size_t len, int64_t now_s,
                        ain__api_caller_t *caller, ain_err_t *err);

/* ---- TLS (tls.c) ---------------------------------------------------------------------------- */

/* SSL_CTX of cfg->api.tls: TLS 1.2 minimum, ALPN h2 + http/1.1, client certificates required and
 * verified when client_ca is set. NULL *out when api.tls is not configured. */
int ain__api_tls_new(const ain_config_t *cfg, void **out, ain_err_t *err);
void ain__api_tls_free(void *ssl_ctx);
/* The verified client certificate's names (CN first, then DNS and email SANs), up to max, into
 * names[i] (cap bytes each). Returns how many; 0 without TLS or a certificate. */
int ain__api_tls_peer_names(h2o_req_t *req, char names[][160], int max);

/* ---- the worker pool (work.c) --------------------------------------------------------------- */

typedef struct ain__api_worker {
  struct ain_api *api;
  int index;
  uv_thread_t thread;
  uv_loop_t loop; /* private: the ops layer drives its store calls on it */
  ain_ops_t ops;  /* engine/ops/ on this worker's own store handle */
  int ops_open;   /* 0 when it could not be opened (then jobs answer AIN_ESTORE) */
  ain_err_t open_err;
} ain__api_worker_t;

typedef struct ain__api_job ain__api_job_t;
struct ain__api_job {
  /* On a worker thread: may block on the store (the worker's own handle). */
  void (*run)(ain__api_job_t *job, ain__api_worker_t *w);
  /* On the server's loop once run returned, or with cancelled = 1 if the pool stopped first. */
  void (*done)(ain__api_job_t *job, int cancelled);
  /* 1: a short store read (one row, no writes). A worker takes the queued reads at the head of
   * the queue together and runs them in one read snapshot of its store handle (work.c); anything
   * else runs alone, so a slow job never holds up reads taken with it. */
  int batch_read;
  ain__api_job_t *next_;
};

typedef struct {
  uv_mutex_t mu;
  uv_cond_t cond;
  ain__api_job_t *head, *tail; /* waiting for a worker */
  int queued, running, stopping, max_queued;
  int idle;     /* workers waiting on cond */
  int signalled; /* of those, woken by a submit and not yet running: no second signal for them */
  uv_mutex_t done_mu; /* the finished jobs: taken by the workers and the server, not by submit */
  ain__api_job_t *done_head, *done_tail;
  uv_async_t done_async; /* on the server's loop */
  ain__api_worker_t *workers;
  int nworkers;
} ain__api_pool_t;

int ain__api_pool_start(struct ain_api *api, int nworkers, ain_err_t *err);
/* Queues a job (server loop). AIN_EBUSY when max_queued jobs wait, AIN_ESHUTDOWN when stopping. */
int ain__api_pool_submit(struct ain_api *api, ain__api_job_t *job);
/* Jobs queued or running (server loop). */
int ain__api_pool_inflight(struct ain_api *api);
/* Tells the workers to finish the job they run and exit; queued jobs complete cancelled. */
void ain__api_pool_stop(struct ain_api *api);
/* Joins the workers and closes the async handle (server loop, after stop). */
void ain__api_pool_join(struct ain_api *api);

/* ---- deferred responses (respond.c) ---------------------------------------------------------- */

/* A request answered later (from a job's done callback or a timer). The link notices the client
 * going away: ->req becomes NULL when h2o frees the request first. */
typedef struct ain__api_defer {
  h2o_req_t *req;
  struct ain__api_defer **link_;
} ain__api_defer_t;

void ain__api_defer_attach(ain__api_defer_t *d, h2o_req_t *req);
/* Detaches before d is freed (or before it answers); returns the request, NULL if it is gone. */
h2o_req_t *ain__api_defer_take(ain__api_defer_t *d);

/* ---- responses (respond.c) ------------------------------------------------------------------ */

/* HTTP status of an error code name (the table in docs/api.md). */
int ain__api_status_of(const char *code);
/* Sends body (takes ownership; deleted here) as JSON with status. */
void ain__api_send_json(h2o_req_t *req, int status, cJSON *body);
/* The same for a body a worker already printed (cJSON_PrintUnformatted; takes ownership, NULL =
 * it ran out of memory: 500): the server's loop then only copies it. */
void ain__api_send_json_text(h2o_req_t *req, int status, char *text);
/* {"error":{"code","field","message"}} with the code's status. field may be NULL. */
void ain__api_send_error(h2o_req_t *req, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same from an ain_err_t (its code's name, field and message). */
void ain__api_send_err(h2o_req_t *req, const ain_err_t *err);
/* Installs the filter that gives h2o's own error responses (413 past max_body_bytes, 400, 417)
 * the JSON shape. */
void ain__api_errors_filter(h2o_pathconf_t *pc);

/* ---- routes (route.c, routes.c) -------------------------------------------------------------- */

#define AIN__API_MAX_PARAMS 2

typedef struct {
  h2o_req_t *req;
  struct ain_api *api;
  const ain__api_caller_t *caller; /* NULL on unauthenticated routes */
  h2o_iovec_t params[AIN__API_MAX_PARAMS]; /* {x} segments of the pattern, in order */
} ain__api_call_t;

typedef struct {
  const char *method;  /* "GET", "POST" */
  const char *pattern; /* "/v1/tasks/{id}": a {name} segment matches one non-empty segment */
  ain_role_t role;     /* the weakest role allowed; AIN_ROLE_NONE = no authentication */
  int (*handle)(ain__api_call_t *call); /* 0: answered or deferred */
} ain__api_route_t;

extern const ain__api_route_t ain__api_routes[];
extern const size_t ain__api_nroutes;

/* Matches method + path against routes: the route, or NULL with *status 404 (no pattern matches)
 * or 405 (a pattern matches, the method does not; allow gets "GET, POST"). Pure: unit-tested. */
const ain__api_route_t *ain__api_route_match(const ain__api_route_t *routes, size_t n,
                                             const char *method, size_t mlen, const char *path,
                                             size_t plen, h2o_iovec_t *params, int *status,
                                             char *allow, size_t allow_cap);
/* The h2o handler: limits, routing, authentication, role check, then the route's handler. */
int ain__api_dispatch(h2o_handler_t *self, h2o_req_t *req);

/* ---- the server (server.c) ------------------------------------------------------------------- */

struct ain_api {
  const ain_config_t *cfg;
  uv_loop_t loop;
  uv_thread_t thread;
  int thread_started;
  uv_async_t stop_async;
  atomic_int engine_state; /* ain_api_engine_state_t */
  atomic_int stop_requested;
  atomic_int finished; /* the thread left its loop */
  uv_mutex_t done_mu;
  uv_cond_t done_cond;
  int stopping;        /* server loop: the drain began */
  uv_timer_t drain_timer;
  h2o_globalconf_t h2o;
  h2o_context_t ctx;
  h2o_accept_ctx_t accept;
  void *ssl_ctx; /* SSL_CTX *, NULL without TLS */
  uv_tcp_t listener;
  int listening;
  int port;
  int nconns; /* open connections (server loop) */
  ain__api_jwt_t jwt;
  ain__api_pool_t pool;
  /* SQLite only: point reads answered on this loop from a handle of its own (loopread.c) */
  struct {
    ain__api_worker_t w; /* w.ops_open is 0 on Postgres: every read goes to a worker */
    uv_check_t check;    /* ends the iteration's read snapshot */
    int snapshot;
  } loopread;
  /* /readyz: at most one store probe in flight; its waiters are answered together */
  struct ain__api_ready *ready;
  /* /metrics: the store's gauges as exposition text, reused for metrics.store_cache_ms. One
   * worker at a time refreshes it (refresh_mu, held through the store read); meanwhile other
   * scrapes serve the previous text rather than queue behind a slow store (metrics.c). mu guards
   * the fields below and is never held across a store call. */
  struct {
    uv_mutex_t refresh_mu;
    uv_mutex_t mu;
    char *text;
    uint64_t at_ns; /* when text was read; 0 = never */
    double query_s; /* how long that read took */
    int ok;         /* the read succeeded */
  } metrics;
  struct ain_objstore *objects; /* the configured store (objstore/open.h), read on workers */
  unsigned char media_key[64];  /* HMAC key of media tickets (ticket.c) */
  size_t media_key_len;
  /* GET /v1/events: the poller, its ring and the open streams (events.c); NULL until used */
  struct ain__api_events *events;
};

ain_api_t *ain__api_of_handler(h2o_handler_t *self);

/* ---- reads on the server's loop (loopread.c) -------------------------------------------------- */

/* Opens the loop's read handle when the store is SQLite (at start, before the loop runs). */
void ain__api_loopread_open(struct ain_api *api);
/* Runs job->run (a point read: batch_read) now, on the loop's handle, and returns 1; returns 0
 * when there is no such handle (Postgres) or the server is stopping: submit it to the pool. A
 * run that met a lock reports AIN_EBUSY in its own result: the caller then submits it. */
int ain__api_loopread_run(struct ain_api *api, ain__api_job_t *job);
/* Closes it (server loop, when the drain has ended). */
void ain__api_loopread_close(struct ain_api *api);

/* Handlers (tasks.c): GET /v1/tasks, GET /v1/tasks/{id}, POST /v1/tasks/{id}/cancel. */
int ain__api_task_list(ain__api_call_t *call);
int ain__api_task_show(ain__api_call_t *call);
int ain__api_task_cancel(ain__api_call_t *call);

/* ---- generic ops jobs (opjob.c) -------------------------------------------------------------- */

/* A request that runs one ops function on a worker and answers with the JSON it returns. run gets
 * the worker's ops handle and fills j->out (or j->text, sent as text/vnd.graphviz), returning 0 or
 * an AIN_E* code with j->err filled. */
typedef struct ain__api_opjob ain__api_opjob_t;
struct ain__api_opjob {
  ain__api_job_t job;
  ain__api_defer_t defer;
  int (*run)(ain__api_opjob_t *j, ain_ops_t *ops);
  struct ain_api *api; /* the server (read-only from run: objects, the ticket key, config) */
  char actor[192];
  char id[256];      /* the path's {id} or {module}, checked */
  char arg[512];     /* a reason, a status filter, a sha... */
  char arg2[256];
  char filter[3][160]; /* a list route's query filters (status, type, persona...), "" = none */
  long long n, n2;   /* a limit, an expected version, an action */
  int flag;
  char *body;        /* a copy of the request body, freed with the job */
  size_t body_len;
  int ok_status;     /* 200 unless run sets another (201) */
  int rc;
  ain_err_t err;
  cJSON *out;
  char *text;
  const char *text_type;
};

/* A zeroed job with the caller's actor; NULL (answered 503) when out of memory. */
ain__api_opjob_t *ain__api_opjob_new(ain__api_call_t *call,
                                     int (*run)(ain__api_opjob_t *j, ain_ops_t *ops));
/* Queues it; answers 503 itself when the pool refuses. Returns 0. */
int ain__api_opjob_submit(ain__api_call_t *call, ain__api_opjob_t *j);
void ain__api_opjob_free(ain__api_opjob_t *j);
/* Copies params[i] into out if it is a safe id (letters, digits, '-', '_', '.', not starting
 * with '.', no '/', '%' or '..'), else answers 400 naming field and returns -1. */
int ain__api_param(ain__api_call_t *call, int i, const char *field, char *out, size_t cap);
/* Query parameters: calls fn(key, decoded value) for each; names lists the keys allowed (for
 * the error). A fn returning nonzero, an unknown key or a bad encoding answers 400 and returns
 * -1. */
/* %XX and '+' in a query value; 0, or -1 when it does not fit, is badly encoded or holds a NUL. */
int ain__api_query_decode(const char *s, size_t n, char *out, size_t cap);
int ain__api_query(ain__api_call_t *call, const char *const *keys,
                   int (*fn)(ain__api_opjob_t *j, const char *key, const char *value,
                             ain__api_call_t *call),
                   ain__api_opjob_t *j);
/* Copies a query value into out (cap bytes with its NUL), else answers 400 naming key (too long)
 * and returns -1. For the fn of ain__api_query. */
int ain__api_query_copy(ain__api_call_t *call, const char *key, const char *value, char *out,
                        size_t cap);
/* The body as a JSON object whose members are all in keys (NULL-terminated); an empty body is an
 * empty object. NULL when it is not (answered 400 naming the field). Caller deletes. */
cJSON *ain__api_body_object(ain__api_call_t *call, const char *const *keys);

/* Handlers (tasks_write.c): POST /v1/tasks, GET /v1/tasks/{id}/audit, POST /v1/tasks/{id}/retry. */
int ain__api_task_enqueue(ain__api_call_t *call);
int ain__api_task_audit(ain__api_call_t *call);
int ain__api_task_retry(ain__api_call_t *call);

/* ?limit=N in [1, max] into *out, else 400 naming "limit" (answered) and -1 (dags.c). */
int ain__api_limit(ain__api_call_t *call, const char *value, long long max, long long *out);

/* Handler (similar.c): GET /v1/similar?q=&kind=&k= (ops/similar.h). */
int ain__api_similar(ain__api_call_t *call);

/* Handlers (dags.c): GET /v1/dags (filters, keyset pages), GET /v1/dags/{id} (?format=dot),
 * GET /v1/audit. */
int ain__api_dag_list(ain__api_call_t *call);
int ain__api_dag_show(ain__api_call_t *call);
int ain__api_audit(ain__api_call_t *call);

/* Handlers (reviews.c): GET /v1/reviews, GET /v1/reviews/{id}, POST .../approve and .../reject
 * (If-Match: <state_version>). */
int ain__api_review_list(ain__api_call_t *call);
int ain__api_review_show(ain__api_call_t *call);
int ain__api_review_approve(ain__api_call_t *call);
int ain__api_review_reject(ain__api_call_t *call);

/* Handlers (admin.c): publishers, nodes, stats, scripts and pins. */
int ain__api_publishers_get(ain__api_call_t *call);
int ain__api_publishers_post(ain__api_call_t *call);
int ain__api_nodes(ain__api_call_t *call);
int ain__api_stats(ain__api_call_t *call);
int ain__api_scripts(ain__api_call_t *call);
int ain__api_script_pin(ain__api_call_t *call);
int ain__api_script_unpin(ain__api_call_t *call);

/* Handlers (console.c): GET|HEAD /console (index.html) and /console/{file}, from the table
 * cmake/embed_files.cmake generates from web/console/. */
int ain__api_console_index(ain__api_call_t *call);
int ain__api_console_file(ain__api_call_t *call);
/* Does an If-None-Match value (a list: "a", W/"b", or *) name etag? Weak comparison (RFC 9110
 * 13.1.2), as a 304 wants. Pure: unit-tested. */
int ain__api_etag_listed(h2o_iovec_t v, const char *etag);

/* Handler (metrics.c): GET /metrics, the Prometheus exposition. Without a caller when
 * api.metrics_public is true (the dispatcher checks), else viewer. */
int ain__api_metrics(ain__api_call_t *call);
/* ---- HTTP Range (range.c) ------------------------------------------------------------------- */

typedef enum {
  AIN__API_RANGE_IGNORE = 0, /* no Range, another unit or a header that does not parse: 200 */
  AIN__API_RANGE_ONE,        /* one range-spec: 206 or 416 */
  AIN__API_RANGE_MANY,       /* several: served as 200 with the whole body */
} ain__api_range_kind_t;

typedef struct {
  ain__api_range_kind_t kind;
  int suffix;      /* "-n": the last n bytes (n in last) */
  int invalid;     /* "5-2": last-pos before first-pos (416) */
  uint64_t first;  /* first-pos */
  uint64_t last;   /* last-pos, UINT64_MAX for "a-"; the suffix length for "-n" */
} ain__api_range_t;

/* Parses a Range header value (s, n); the kind is also stored in r->kind. Pure. */
ain__api_range_kind_t ain__api_range_parse(const char *s, size_t n, ain__api_range_t *r);
/* Against a representation of size bytes: 200 (whole: *start 0, *len size), 206 (*start, *len)
 * or 416 (unsatisfiable). Pure. */
int ain__api_range_resolve(const ain__api_range_t *r, uint64_t size, uint64_t *start,
                           uint64_t *len);

/* ---- media tickets (ticket.c) ---------------------------------------------------------------- */

#define AIN__API_TICKET_MAX 320

/* Loads the HMAC key: the secret api_media_key if the secrets provider has one (at least 32
 * bytes, else AIN_ECONFIG naming it), else 32 random bytes for this process (start-up:
 * blocking). */
int ain__api_ticket_init(struct ain_api *api, ain_err_t *err);
/* A ticket for (video_id, kind "media" | "thumbnail", subject) valid until now_s + ttl_s:
 * "<exp>.<base64url(subject)>.<base64url(HMAC-SHA256)>" into out (AIN__API_TICKET_MAX). */
int ain__api_ticket_mint(const struct ain_api *api, const char *video_id, const char *kind,
                         const char *subject, int64_t now_s, int64_t ttl_s, char *out,
                         size_t cap);
/* 0 and the subject it was minted for (cap bytes), or -1 with the reason in why (for the log:
 * responses never say why). Constant-time MAC compare. */
int ain__api_ticket_verify(const struct ain_api *api, const char *ticket, size_t len,
                           const char *video_id, const char *kind, int64_t now_s, char *subject,
                           size_t cap, char *why, size_t why_cap);

/* Who is calling, from the Authorization header or the client certificate (route.c): 0 with
 * caller filled, else refused and answered (401/403) here. */
int ain__api_authenticate(struct ain_api *api, h2o_req_t *req, ain__api_caller_t *caller);

/* Handlers (videos.c, media.c): GET /v1/videos/{id}; GET|HEAD /v1/videos/{id}/media and
 * /thumbnail (a ticket or a viewer; Range; streamed in chunks read on the workers). */
int ain__api_video_show(ain__api_call_t *call);
int ain__api_video_unpublish(ain__api_call_t *call); /* unpublish.c */
int ain__api_takedowns(ain__api_call_t *call);       /* unpublish.c */
int ain__api_video_media(ain__api_call_t *call);
int ain__api_video_thumbnail(ain__api_call_t *call);
/* GET /v1/events (events.c): Server-Sent Events. close ends every stream (server loop, when the
 * drain begins); free releases the rest (after the server's loop ended). */
int ain__api_events(ain__api_call_t *call);
void ain__api_events_close(struct ain_api *api);
void ain__api_events_free(struct ain_api *api);

/* Handlers (health.c). */
int ain__api_healthz(ain__api_call_t *call);
int ain__api_readyz(ain__api_call_t *call);
/* Frees what health.c keeps (server loop, at stop). */
void ain__api_health_close(struct ain_api *api);

#endif
