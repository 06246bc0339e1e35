/* Private to the Postgres backend: the handle, the per-request plan, and the split between
 * conn.c (libpq async connection driven by uv_poll: connect, pipeline, results, LISTEN/NOTIFY,
 * reconnect), ops.c (what SQL each request runs and how its rows become outputs) and migrate.c
 * (the migration runner, which needs the simple query protocol and so runs outside pipeline mode).
 *
 * Every request except MIGRATE is a short list of prepared statements followed by one
 * PQpipelineSync: the statements form one implicit transaction, and many requests share one
 * write and one round trip. Relies on libpq 15 (pipeline mode), libuv, cJSON. */
#ifndef AIN_STORE_POSTGRES_INTERNAL_H
#define AIN_STORE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>

#include "store/store.h"

/* Prepared statements, created once per connection on first use. */
typedef enum {
  AIN__PG_ENQUEUE = 0,
  AIN__PG_CLAIM,
  AIN__PG_FINISH,
  AIN__PG_FINISH_OK,
  AIN__PG_EXTEND,
  AIN__PG_LEASE_CHECK,
  AIN__PG_REAP,
  AIN__PG_CANCEL,
  AIN__PG_GET_TASK,
  AIN__PG_GET_DAG,
  AIN__PG_DAG_TASKS,
  AIN__PG_DAG_EDGES,
  AIN__PG_TASK_EXISTS,
  AIN__PG_DAG_EXISTS,
  AIN__PG_AUDIT_TASK,
  AIN__PG_AUDIT_DAG,
  AIN__PG_AUDIT_OPERATOR,
  AIN__PG_AUDIT_DECISIONS,
  AIN__PG_AUDIT_TAIL,
  AIN__PG_AUDIT_NEWEST,
  AIN__PG_STATS,
  AIN__PG_OPEN_WORK,
  AIN__PG_LIST,
  AIN__PG_SCRIPT_PUT, /* scripts.h */
  AIN__PG_SCRIPT_GET,
  AIN__PG_SCRIPT_LIST,
  AIN__PG_SCRIPT_PINS,
  AIN__PG_SCRIPT_PIN,
  AIN__PG_SCRIPT_UNPIN,
  AIN__PG_KV_GET, /* kv.c */
  AIN__PG_KV_PUT,
  AIN__PG_KV_DELETE,
  AIN__PG_ARTIFACT_PUT, /* media.c */
  AIN__PG_ARTIFACT_GET,
  AIN__PG_PLAN_COMMIT, /* plan.c */
  AIN__PG_PLANNED_LIST,
  AIN__PG_TRENDS_LIST,
  AIN__PG_NODE_BEAT, /* nodes.c */
  AIN__PG_NODE_GATEWAY,
  AIN__PG_NODES,
  AIN__PG_ARCHIVE,
  AIN__PG_REVIEW, /* review.c: every review/publish op is one call of ain_review_op() */
  AIN__PG_RECEIPTS_OF, /* review.c: one video's receipts, beside REVIEW_LIST of that video */
  AIN__PG_PURGE,  /* purge.c: ain_purge() of sql/postgres/011_purge.sql */
  AIN__PG_WEDGE,  /* wedge.c: ain_wedge() */
  AIN__PG_RETRY,  /* retry.c: ain_retry() of sql/postgres/013_task_list.sql */
  AIN__PG_METRICS_DEPTH, /* metrics.c: a scrape's gauges, three statements */
  AIN__PG_METRICS_SCALARS,
  AIN__PG_METRICS_NODES,
  AIN__PG_PUBLISH_GUARD, /* metrics.c: ain_publish_guard() of sql/postgres/017_metrics.sql */
  AIN__PG_DAG_LIST, /* dags.c: + 1 by status, + 2 by persona, + 3 by both */
  AIN__PG_DAG_LIST_STATUS,
  AIN__PG_DAG_LIST_PERSONA,
  AIN__PG_DAG_LIST_BOTH,
  AIN__PG_VEC_PUT, /* vec.c */
  AIN__PG_VEC_LOAD,
  AIN__PG_SOURCE_PUT, /* source.c */
  AIN__PG_SOURCE_LIST,
  AIN__PG_TIER_LIST, /* tier.c */
  AIN__PG_TIER_MARK,
  AIN__PG_SESSION_GET, /* session.c */
  AIN__PG_SESSION_SAVE,
  AIN__PG_RECEIPT_POST, /* review.c: a receipt's post id and url, beside RECEIPT_PUT */
  AIN__PG_GRANT_PUT, /* grants.c */
  AIN__PG_GRANT_GET,
  AIN__PG_GRANT_USE,
  AIN__PG_BUCKET_GET,
  AIN__PG_BUCKET_NEW,
  AIN__PG_BUCKET_IF,
  AIN__PG_BUCKET_LIST,
  AIN__PG_POSTS, /* posts.c: ain_posts_op() of sql/postgres/025_post_after.sql */
  AIN__PG_STMT_COUNT
} ain__pg_stmt_t;

typedef struct {
  const char *name;
  const char *sql;
  int nparams;
} ain__pg_stmt_def_t;

extern const ain__pg_stmt_def_t ain__pg_stmts[AIN__PG_STMT_COUNT];

#define AIN__PG_MAX_CMDS 4
#define AIN__PG_MAX_PARAMS 6

/* One statement of a request: which prepared statement, and its text parameters (owned). */
typedef struct {
  ain__pg_stmt_t stmt;
  int nparams;
  char *params[AIN__PG_MAX_PARAMS]; /* NULL = SQL NULL */
} ain__pg_cmd_t;

/* What a request expects back, in order: for each command an optional PREPARE result, then the
 * command's result, then the SYNC. */
typedef enum { AIN__PG_X_PREPARE, AIN__PG_X_EXEC, AIN__PG_X_SYNC } ain__pg_xkind_t;

typedef struct {
  ain__pg_xkind_t kind;
  int index; /* statement (PREPARE) or command (EXEC) */
} ain__pg_expect_t;

/* A request's plan and results (req->backend_priv). */
typedef struct {
  ain__pg_cmd_t cmds[AIN__PG_MAX_CMDS];
  int ncmds;
  ain__pg_expect_t expect[2 * AIN__PG_MAX_CMDS + 1];
  int nexpect;
  int pos;       /* next expectation */
  int got;       /* the current command has produced a result */
  PGresult *res[AIN__PG_MAX_CMDS];
  int failed;    /* first error recorded in req->err */
} ain__pg_plan_t;

typedef enum {
  AIN__PG_DOWN = 0,  /* no connection; the next request (re)connects after the backoff */
  AIN__PG_RESOLVING, /* looking up the URL's host names (resolve.c) */
  AIN__PG_CONNECTING,
  AIN__PG_SETUP,     /* LISTEN sent, waiting for its result */
  AIN__PG_READY,     /* pipeline mode */
  AIN__PG_EXCLUSIVE, /* out of pipeline mode for a migration */
  AIN__PG_CLOSING
} ain__pg_state_t;

typedef struct ain__pg_migration ain__pg_migration_t;

typedef struct ain__pg {
  ain_store_t base; /* first: the generic layer's view */
  char *url;
  char *sql_dir;
  PGconn *conn;
  ain__pg_state_t state;
  uv_poll_t *poll; /* heap, freed in its close callback; one per socket */
  int poll_fd;
  int poll_events;
  uv_timer_t kick;    /* runs the pump off the submit stack (coalesces one turn's submits) */
  uv_timer_t backoff; /* reconnect delay */
  int64_t backoff_ms;
  int handles_open; /* kick, backoff, poll: close completes when 0 */
  unsigned char prepared[AIN__PG_STMT_COUNT];
  /* request queues: waiting to be sent, sent and awaiting results, completed awaiting callback */
  ain_store_req_t *pending_head, *pending_tail;
  ain_store_req_t *inflight_head, *inflight_tail;
  ain_store_req_t *done_head, *done_tail;
  int ninflight;
  ain__pg_migration_t *mig; /* the running migration, NULL otherwise */
  ain_store_req_t *mig_req;
  void (*close_cb)(void *data);
  void *close_data;
} ain__pg_t;

/* queue helpers (conn.c) */
void ain__pg_push(ain_store_req_t **head, ain_store_req_t **tail, ain_store_req_t *req);
ain_store_req_t *ain__pg_pop(ain_store_req_t **head, ain_store_req_t **tail);
/* Completes a request: its callback runs from the kick timer, in completion order. */
void ain__pg_complete(ain__pg_t *p, ain_store_req_t *req);
/* Arms the kick timer so that the pump runs on the next loop turn. */
void ain__pg_kick(ain__pg_t *p);
/* Watches the connection's socket for events (re-creates the poll when the socket changed). */
int ain__pg_watch(ain__pg_t *p, int events);
/* Tears the connection down and fails everything queued or in flight with code and msg. */
void ain__pg_lost(ain__pg_t *p, int code, const char *msg);
/* Frees a closing handle once its last uv handle is closed (delivers the failed requests first). */
void ain__pg_finalize(ain__pg_t *p);
/* Copies the error of a failed result into err and returns the AIN_E* code it maps to. */
int ain__pg_result_error(const PGresult *r, ain_err_t *err);

/* array.c: a Postgres array literal built element by element (zero-initialise it). Text NULL or
 * "" is a NULL element. take() returns the owned literal ("{}" when empty), or NULL when memory
 * ran out, and resets the builder. */
typedef struct {
  char *s;
  size_t len, cap;
  int n;
  int oom;
} ain__pg_array_t;
void ain__pg_array_text(ain__pg_array_t *a, const char *v);
void ain__pg_array_i64(ain__pg_array_t *a, int64_t v);
char *ain__pg_array_take(ain__pg_array_t *a);
void ain__pg_array_free(ain__pg_array_t *a);

/* resolve.c: looks up the URL's host names on the thread pool, then calls cb with the host,
 * hostaddr and port lists for libpq (or with err set: cp is NULL). Returns 1 when a lookup
 * started (cb is called exactly once, possibly before this returns), 0 when nothing needs one. */
typedef struct {
  char *host, *hostaddr, *port; /* port NULL: the URL's own */
} ain__pg_conn_params_t;
typedef void (*ain__pg_resolved_cb)(ain__pg_t *p, const ain__pg_conn_params_t *cp,
                                    const char *err);
int ain__pg_resolve_start(ain__pg_t *p, ain__pg_resolved_cb cb);

/* ops.c: fills plan->cmds for req (0 or AIN_E* with req->err set), and turns plan->res into the
 * request's outputs once every result is in (0 or AIN_E*). */
int ain__pg_plan(ain__pg_t *p, ain_store_req_t *req, ain__pg_plan_t *plan);
int ain__pg_parse(ain__pg_t *p, ain_store_req_t *req, ain__pg_plan_t *plan);
void ain__pg_plan_free(ain__pg_plan_t *plan);
/* nodes.c: the same two halves for NODE_BEAT, NODES and ARCHIVE. */
int ain__pg_plan_nodes(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_nodes(ain_store_req_t *req, ain__pg_plan_t *plan);
/* media.c / plan.c: the same two steps for ARTIFACT_PUT/GET and PLAN_COMMIT/PLANNED_LIST. */
ain__pg_cmd_t *ain__pg_cmd(ain__pg_plan_t *plan, ain__pg_stmt_t stmt);
int ain__pg_plan_media(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_media(ain_store_req_t *req, ain__pg_plan_t *plan);
int ain__pg_plan_plan(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_plan(ain_store_req_t *req, ain__pg_plan_t *plan);
/* vec.c: the same two halves for VEC_PUT, VEC_LOAD. */
int ain__pg_plan_vec(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_vec(ain_store_req_t *req, ain__pg_plan_t *plan);
/* kv.c: the same two halves for KV_GET, KV_PUT, KV_DELETE. */
int ain__pg_plan_kv(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_kv(ain_store_req_t *req, ain__pg_plan_t *plan);

/* source.c: the same two halves for SOURCE_PUT and SOURCE_LIST; their statements. */
int ain__pg_plan_source(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_source(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_SOURCE_COLS                                                                        \
  "name, kind, url, etag, last_modified, cursor, last_error, last_success_at, last_error_at, "     \
  "backoff_until, failures, fetches, not_modified, errors, items, refused, updated_at"
#define AIN__PG_SOURCE_PUT_DEF                                                                     \
  {"ain_source_put",                                                                               \
   "INSERT INTO sources (" AIN__PG_SOURCE_COLS ", state_version) "                                 \
   "SELECT $1::text, r.kind, coalesce(r.url, ''), r.etag, r.last_modified, r.cursor, "             \
   "r.last_error, r.last_success_at, r.last_error_at, r.backoff_until, r.failures, r.fetches, "    \
   "r.not_modified, r.errors, r.items, r.refused, $2::bigint, 1 "                                  \
   "FROM json_to_record($3::json) AS r(kind text, url text, etag text, last_modified text, "       \
   "cursor text, last_error text, last_success_at bigint, last_error_at bigint, "                  \
   "backoff_until bigint, failures bigint, fetches bigint, not_modified bigint, errors bigint, "   \
   "items bigint, refused bigint) "                                                                \
   "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, url = excluded.url, "                   \
   "etag = excluded.etag, last_modified = excluded.last_modified, cursor = excluded.cursor, "      \
   "last_error = excluded.last_error, last_success_at = excluded.last_success_at, "                \
   "last_error_at = excluded.last_error_at, backoff_until = excluded.backoff_until, "              \
   "failures = excluded.failures, fetches = excluded.fetches, "                                    \
   "not_modified = excluded.not_modified, errors = excluded.errors, items = excluded.items, "      \
   "refused = excluded.refused, updated_at = excluded.updated_at, "                                \
   "state_version = sources.state_version + 1",                                                    \
   3}
#define AIN__PG_SOURCE_LIST_DEF                                                                    \
  {"ain_source_list",                                                                              \
   "SELECT " AIN__PG_SOURCE_COLS " FROM sources ORDER BY name COLLATE \"C\"", 0}

/* tier.c: the same two halves for TIER_LIST and TIER_MARK; their statements (store/tier.h says
 * which keys a list returns). */
int ain__pg_plan_tier(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_tier(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_TIER_LIST_DEF                                                                      \
  {"ain_tier_list",                                                                                \
   "WITH k AS (SELECT j.key COLLATE \"C\" AS key, max(a.created_at) AS newest "                     \
   "FROM artifacts a CROSS JOIN LATERAL jsonb_array_elements_text(a.keys::jsonb) AS j(key) "       \
   "WHERE j.key COLLATE \"C\" > $1::text COLLATE \"C\" GROUP BY 1) "                                 \
   "SELECT key FROM k WHERE newest < $2::bigint "                                                  \
   "AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.video_key = k.key "                             \
   "AND v.status <> 'rejected') "                                                                  \
   "AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.thumbnail_key = k.key "                         \
   "AND v.status <> 'rejected') "                                                                  \
   "AND NOT EXISTS (SELECT 1 FROM object_classes o WHERE o.key = k.key "                           \
   "AND o.storage_class = $3::text AND o.updated_at >= k.newest) "                                 \
   "ORDER BY key LIMIT $4::int",                                                                   \
   4}
#define AIN__PG_TIER_MARK_DEF                                                                      \
  {"ain_tier_mark",                                                                                \
   "INSERT INTO object_classes (key, storage_class, updated_at) "                                  \
   "SELECT DISTINCT k, $2::text, $3::bigint FROM jsonb_array_elements_text($1::jsonb) AS j(k) "    \
   "ON CONFLICT (key) DO UPDATE SET storage_class = excluded.storage_class, "                      \
   "updated_at = excluded.updated_at",                                                             \
   3}
/* session.c: the same two halves for PUBLISH_SESSION; its statements (the save is fenced by
 * the publishing task's lease in the statement itself, as sql/sqlite's). */
int ain__pg_plan_session(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_session(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_SESSION_GET_DEF                                                                    \
  {"ain_session_get",                                                                              \
   "SELECT state, state_version FROM publish_sessions WHERE idempotency_key = $1::text", 1}
#define AIN__PG_SESSION_SAVE_DEF                                                                   \
  {"ain_session_save",                                                                             \
   "INSERT INTO publish_sessions (idempotency_key, channel, video_id, task_id, state, "             \
   "state_version, created_at, updated_at) "                                                       \
   "SELECT $1::text, r.channel, r.video_id, $2::text, r.state, 1, $3::bigint, $3::bigint "         \
   "FROM json_to_record($4::json) AS r(channel text, video_id text, state text, owner text, "      \
   "attempts integer) WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.id = $2::text AND "               \
   "t.status = 'running' AND t.lease_owner = r.owner AND t.attempts = r.attempts AND "             \
   "t.lease_until > $3::bigint) "                                                                  \
   "ON CONFLICT (idempotency_key) DO UPDATE SET state = excluded.state, "                          \
   "task_id = excluded.task_id, state_version = publish_sessions.state_version + 1, "              \
   "updated_at = excluded.updated_at RETURNING state_version",                                     \
   4}
/* After ain_review_op('receipt') in the same sync: the new receipt's post id and url (a receipt
 * that existed keeps its own), and what the row holds. */
#define AIN__PG_RECEIPT_POST_DEF                                                                   \
  {"ain_receipt_post",                                                                             \
   "UPDATE publish_receipts SET post_id = coalesce(post_id, $2::text), "                           \
   "url = coalesce(url, $3::text) WHERE idempotency_key = $1::text RETURNING post_id, url",        \
   3}
/* grants.c: the same two halves for GRANTS (store/grants.h); its statements. */
int ain__pg_plan_grants(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_grants(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_GRANT_COLS                                                                         \
  "jti, video_id, channel, token, granted_by, reason, generation, exp, created_at, "               \
  "coalesce(used_at, 0), state_version"
#define AIN__PG_BUCKET_COLS                                                                        \
  "account, units_mu, requests_mu, updated_at, blocked_until, taken, state_version"
#define AIN__PG_GRANT_PUT_DEF                                                                      \
  {"ain_grant_put",                                                                                \
   "INSERT INTO publish_grants AS g (jti, video_id, channel, token, granted_by, reason, exp, "     \
   "created_at, generation, state_version) "                                                       \
   "SELECT r.jti, r.video_id, r.channel, r.token, r.granted_by, r.reason, r.exp, $1::bigint, 1, 1 "\
   "FROM json_to_recordset($2::json) AS r(jti text, video_id text, channel text, token text, "     \
   "granted_by text, reason text, exp bigint) "                                                    \
   "ON CONFLICT (jti) DO UPDATE SET token = excluded.token, granted_by = excluded.granted_by, "    \
   "reason = excluded.reason, exp = excluded.exp, created_at = excluded.created_at, "              \
   "generation = g.generation + 1, state_version = g.state_version + 1 "                           \
   "RETURNING " AIN__PG_GRANT_COLS,                                                                \
   2}
#define AIN__PG_GRANT_GET_DEF                                                                      \
  {"ain_grant_get", "SELECT " AIN__PG_GRANT_COLS " FROM publish_grants WHERE jti = $1::text", 1}
#define AIN__PG_GRANT_USE_DEF                                                                      \
  {"ain_grant_use",                                                                                \
   "UPDATE publish_grants SET used_at = coalesce(used_at, $2::bigint), "                           \
   "state_version = state_version + CASE WHEN used_at IS NULL THEN 1 ELSE 0 END "                  \
   "WHERE jti = $1::text RETURNING " AIN__PG_GRANT_COLS,                                           \
   2}
#define AIN__PG_BUCKET_GET_DEF                                                                     \
  {"ain_bucket_get",                                                                               \
   "SELECT " AIN__PG_BUCKET_COLS " FROM quota_buckets WHERE account = $1::text", 1}
#define AIN__PG_BUCKET_NEW_DEF                                                                     \
  {"ain_bucket_new",                                                                               \
   "INSERT INTO quota_buckets (" AIN__PG_BUCKET_COLS ") "                                          \
   "SELECT $1::text, r.units_mu, r.requests_mu, r.updated_at, r.blocked_until, r.taken, 1 "        \
   "FROM json_to_record($3::json) AS r(units_mu bigint, requests_mu bigint, updated_at bigint, "   \
   "blocked_until bigint, taken bigint) WHERE $2::bigint = 0 "                                     \
   "ON CONFLICT (account) DO NOTHING RETURNING state_version",                                     \
   3}
#define AIN__PG_BUCKET_IF_DEF                                                                      \
  {"ain_bucket_if",                                                                                \
   "UPDATE quota_buckets b SET units_mu = r.units_mu, requests_mu = r.requests_mu, "               \
   "updated_at = r.updated_at, blocked_until = r.blocked_until, taken = r.taken, "                 \
   "state_version = b.state_version + 1 "                                                          \
   "FROM json_to_record($3::json) AS r(units_mu bigint, requests_mu bigint, updated_at bigint, "   \
   "blocked_until bigint, taken bigint) "                                                          \
   "WHERE b.account = $1::text AND b.state_version = $2::bigint RETURNING b.state_version",        \
   3}
#define AIN__PG_BUCKET_LIST_DEF                                                                    \
  {"ain_bucket_list",                                                                              \
   "SELECT " AIN__PG_BUCKET_COLS " FROM quota_buckets ORDER BY account COLLATE \"C\"", 0}
/* posts.c: the same two halves for POSTS (store/posts.h); AIN__PG_POSTS_DEF is its statement. */
int ain__pg_plan_posts(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_posts(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_POSTS_DEF                                                                          \
  {"ain_posts_op", "SELECT ain_posts_op($1::text, $2::text, $3::bigint, $4::json)", 4}

/* purge.c: the same two halves for PURGE. */
int ain__pg_plan_purge(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_purge(ain_store_req_t *req, ain__pg_plan_t *plan);

/* review.c: the same two halves for VIDEO_JUDGED, REVIEW_LIST, REVIEW_DECIDE, RECEIPT_PUT,
 * SETTING; AIN__PG_REVIEW_DEF is its statement. */
int ain__pg_plan_review(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_review(ain_store_req_t *req, ain__pg_plan_t *plan);
/* wedge.c: the same two halves for WEDGE; AIN__PG_WEDGE_DEF is its statement. */
int ain__pg_plan_wedge(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_wedge(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_WEDGE_DEF                                                                          \
  {"ain_wedge",                                                                                    \
   "SELECT wedges, applied, new_status, new_version, fenced "                                      \
   "FROM ain_wedge($1::text, $2::bigint, $3::json)",                                               \
   3}
/* retry.c: the two halves of RETRY; AIN__PG_RETRY_DEF is its statement. */
int ain__pg_plan_retry(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_retry(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_RETRY_DEF                                                                          \
  {"ain_retry",                                                                                    \
   "SELECT new_version, attempts_before, dag_reopened, revived "                                   \
   "FROM ain_retry($1::text, $2::bigint, $3::text)",                                               \
   3}
/* metrics.c: the two halves of METRICS and PUBLISH_GUARD; their statements. */
int ain__pg_plan_metrics(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_metrics(ain_store_req_t *req, ain__pg_plan_t *plan);
#define AIN__PG_METRICS_DEPTH_DEF                                                                  \
  {"ain_metrics_depth",                                                                            \
   "SELECT type, status, count(*) FROM tasks "                                                     \
   "WHERE status IN ('pending', 'ready', 'running', 'waiting', 'dead') "                           \
   "GROUP BY type, status ORDER BY type COLLATE \"C\", status",                                    \
   0}
/* Dead tuples as the statistics collector last counted them; the oldest transaction of another
 * client session (sessions of other roles show no xact_start without pg_read_all_stats). */
#define AIN__PG_METRICS_SCALARS_DEF                                                                \
  {"ain_metrics_scalars",                                                                          \
   "SELECT (SELECT count(*) FROM reviews WHERE status = 'pending'), "                              \
   "(SELECT coalesce(min(created_at), 0) FROM reviews WHERE status = 'pending'), "                 \
   "(SELECT value FROM settings WHERE key = 'publishers.paused'), "                                \
   "(SELECT value FROM settings WHERE key = 'publishers.paused_by'), "                             \
   "coalesce((SELECT extract(epoch FROM clock_timestamp() - min(xact_start)) "                     \
   "  FROM pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() "             \
   "  AND backend_type = 'client backend'), 0)::float8, "                                          \
   "coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'tasks'::regclass), 0), "   \
   "coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'task_deps'::regclass), 0), "\
   "(SELECT count(*) FROM takedowns WHERE state = 'takedown_required')",                          \
   0}
#define AIN__PG_METRICS_NODES_DEF                                                                  \
  {"ain_metrics_nodes",                                                                            \
   "SELECT id, state, last_beat FROM nodes WHERE state = 'alive' "                                 \
   "OR (state = 'dead' AND last_beat > $1::bigint - 3600000) ORDER BY id",                         \
   1}
#define AIN__PG_PUBLISH_GUARD_DEF                                                                  \
  {"ain_publish_guard",                                                                            \
   "SELECT backlog, action, paused FROM ain_publish_guard($1::text, $2::bigint, $3::bigint, "      \
   "$4::bigint)",                                                                                  \
   4}
/* dags.c: the two halves of LIST_DAGS, and one dags row (AIN__PG_DAG_COLS) into d. */
int ain__pg_plan_list_dags(ain_store_req_t *req, ain__pg_plan_t *plan);
int ain__pg_parse_list_dags(ain_store_req_t *req, ain__pg_plan_t *plan);
void ain__pg_read_dag(const PGresult *r, int row, ain_dag_t *d);
#define AIN__PG_DAG_COLS                                                                           \
  "d.id, d.root_task_id, d.persona_id, d.last_error, d.status, d.steps_total, d.steps_done, "      \
  "d.state_version, d.created_at, d.updated_at"
/* Newest first, keyset on (created_at, id) as a row comparison with ids compared as bytes
 * (COLLATE "C", as SQLite compares them): the cursor is a range of the index of 016_dag_list.sql,
 * so a deep page is as short a walk as the first. One statement per filter (a "$1 IS NULL OR"
 * filter could use no index of its own in a generic plan). $1/$2 the cursor, $3 the limit. */
#define AIN__PG_DAG_LIST_DEF(name, filter, n)                                                      \
  {name,                                                                                           \
   "SELECT " AIN__PG_DAG_COLS " FROM dags d WHERE " filter "(d.created_at, d.id COLLATE \"C\") < " \
   "($1::bigint, $2::text COLLATE \"C\") ORDER BY d.created_at DESC, d.id COLLATE \"C\" DESC "     \
   "LIMIT $3::bigint",                                                                             \
   n}
#define AIN__PG_REVIEW_DEF                                                                         \
  {"ain_review_op", "SELECT ain_review_op($1::text, $2::text, $3::bigint, $4::json)", 4}

/* migrate.c: the migration runs while the connection is out of pipeline mode. start() sends its
 * first query (0 or AIN_E* with req->err set, then the request is complete); on_readable() eats
 * results and sends the next step; it returns 1 while the migration continues, 0 when it
 * finished (req->status set), or -1 when the connection failed. */
int ain__pg_migrate_start(ain__pg_t *p, ain_store_req_t *req);
int ain__pg_migrate_on_readable(ain__pg_t *p);
void ain__pg_migrate_free(ain__pg_t *p);

#endif
