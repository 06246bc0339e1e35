/* The store: tasks (the durable queue), DAGs, the audit log and the rest of the engine's state,
 * behind one asynchronous interface with two backends (SQLite, embedded; Postgres, many nodes).
 *
 * Shape. A store handle (ain_store_t) is one connection bound to one uv loop (a shard's, or a
 * private loop in the CLI). Work is expressed as requests (ain_store_req_t): the caller fills
 * the op's inputs, calls ain_store_submit(), and its callback runs later *on the loop*, never from
 * inside ain_store_submit(). A backend may pipeline many requests; callbacks run in submit order.
 * ain_store_wait() drives the loop until one request is done (CLI and tests).
 *
 * Optimistic concurrency. Every mutable row carries state_version. Every update is
 * "WHERE id = ? AND state_version = ?" and increments it; zero rows means AIN_ECONFLICT, reported
 * per item in batch ops. A claim bumps state_version and returns it: that number is the lease's
 * fencing token. A worker finishes or extends only with the version its claim (or its last
 * extension) returned, so a step whose lease was taken over can never overwrite the new owner.
 *
 * Ownership. Inputs are borrowed until the callback runs. Outputs are owned by the request and
 * freed by ain_store_req_cleanup(). Task status transitions always write an audit row in the same
 * transaction as the transition itself.
 *
 * One clock for the audit log. An audit row's ts is the store's clock when the row is written,
 * never the request's `now` (which a caller computed earlier, maybe on another node): SQLite reads
 * the host clock once its write lock is held, Postgres takes the server's clock in a trigger
 * (sql/postgres/012_audit_clock.sql). Writes to one task are serialized by its row, so a task's
 * rows are in time order.
 *
 * Relies on: libuv (the loop), core/err.h. Backends: store/sqlite/, store/postgres/. */
#ifndef AIN_STORE_STORE_H
#define AIN_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/err.h"
#include "core/util.h"
#include "message/task.h"

typedef struct ain_store ain_store_t;
typedef struct ain_store_req ain_store_req_t;
typedef void (*ain_store_cb)(ain_store_req_t *req);

/* ---- rows ---------------------------------------------------------------------------------- */


typedef struct {
  char id[AIN_UUID_LEN + 1];
  char root_task_id[AIN_UUID_LEN + 1]; /* the task that expanded into this DAG */
  char *persona_id;
  char *last_error;
  ain_dag_status_t status;
  int steps_total;
  int steps_done;
  int64_t state_version;
  int64_t created_at, updated_at;
} ain_dag_t;

/* An edge: task_id runs after depends_on succeeded. */
typedef struct {
  const char *task_id;
  const char *depends_on;
} ain_dep_t;

typedef struct {
  int64_t id;
  char *task_id;
  char *dag_id;
  char *actor;
  char *from_status; /* NULL for creation */
  char *to_status;
  char *detail; /* JSON text (policy versions, error), may be NULL */
  int64_t state_version;
  int64_t ts;
  char *task_type; /* the task's type (tasks or tasks_archive); filled by the tail read alone */
} ain_audit_t;

/* What a batch of new work looks like: optional DAG row, tasks, and edges among them (or to
 * tasks already stored). Tasks with unfinished dependencies are stored as pending. */
typedef struct {
  ain_dag_t *dag; /* NULL when the tasks are not a new DAG */
  ain_task_t *tasks;
  size_t ntasks;
  const ain_dep_t *deps;
  size_t ndeps;
} ain_store_batch_t;

/* How an attempt ended. */
typedef enum {
  AIN_FINISH_SUCCEEDED = 0,
  AIN_FINISH_RETRY, /* failed; retried at retry_at if attempts < max_attempts, else dead */
  AIN_FINISH_FAIL,  /* failed permanently: dead now, regardless of attempts */
  AIN_FINISH_RELEASE, /* not run (shutdown): back to ready, the attempt is given back */
  AIN_FINISH_PARK     /* waits for an outside event: status waiting, the attempt is given back; if
                         the event already happened (view task_unpark, sql/NNN_review.sql) it is
                         ready at once, so a wake-up racing the park is never lost */
} ain_finish_kind_t;

typedef struct {
  const char *task_id;
  int64_t state_version; /* the fencing token from claim/extend */
  ain_finish_kind_t kind;
  const char *result;      /* JSON object text when succeeded (NULL = "{}") */
  const char *error;       /* "ECODE: detail" when failed */
  int64_t retry_at;        /* for RETRY: when to run again (backoff chosen by the caller) */
  const char *detail;      /* JSON text for the audit row (policy versions...), may be NULL */
  const ain_store_batch_t *spawn; /* new work committed atomically with a success, may be NULL */
  /* outputs */
  int status;                 /* 0, AIN_ECONFLICT (fenced out), or another AIN_E* */
  ain_task_status_t new_status;
  int64_t new_version;
} ain_finish_item_t;

typedef struct {
  const char *task_id;
  int64_t state_version;
  int64_t lease_until;
  /* outputs */
  int status; /* 0 or AIN_ECONFLICT */
  int64_t new_version;
} ain_extend_item_t;

/* One engine process in the nodes table (many nodes share one Postgres). id is "node_id/pid", the
 * prefix of every lease owner the process writes ("node_id/pid/shard-N"). */
typedef enum { AIN_NODE_ALIVE = 0, AIN_NODE_DEAD, AIN_NODE_STOPPED, AIN_NODE_STATE_COUNT } ain_node_state_t;

const char *ain_node_state_name(ain_node_state_t s); /* "alive" | "dead" | "stopped" */

typedef struct {
  char *id;      /* "node_id/pid" */
  char *node;    /* the configured node_id */
  char *host;
  char *version; /* engine version */
  int64_t pid;
  int shards;
  int running; /* out: tasks leased by this node right now (counted by the store) */
  ain_node_state_t state;
  int64_t started_at, last_beat; /* ms since epoch */
  int64_t state_version;
  /* Its OpenClaw Gateway connection (cluster.openclaw): "connected", "connecting" or "error",
   * NULL when not configured; gateway_since is when it entered that state (ms). A beat writes
   * them when gateway is set. */
  char *gateway;
  int64_t gateway_since;
} ain_node_t;

/* A trend source's row (sql/<be>/019_sources.sql, engine/sources/): validators, health, counts.
 * Strings owned by whoever filled it (ain_source_state_free for store outputs). */
typedef struct {
  char *name, *kind, *url;
  char *etag, *last_modified; /* as of the last fetch whose items the planner committed */
  char *cursor;               /* redis: the last acknowledged entry id */
  char *last_error;
  int64_t last_success_at, last_error_at, backoff_until; /* ms since epoch, 0 = never */
  int64_t failures;                                      /* consecutive errors */
  int64_t fetches, not_modified, errors, items, refused;
  int64_t updated_at;
} ain_source_state_t;

void ain_source_state_free(ain_source_state_t *s);

/* A step's checkpoint (DESIGN §6): the object-store keys it produced and the result it reported,
 * keyed by (dag_id, step). A resumed DAG whose step finds its checkpoint and verifies every key
 * succeeds with the recorded result instead of doing the work again. */
typedef struct {
  char *dag_id;
  char *step;
  char *task_id; /* the attempt that recorded it */
  char *keys;    /* JSON array of object-store keys */
  char *result;  /* JSON object: the step's result */
  int64_t created_at;
} ain_artifact_t;

/* One planned (persona, trend) pair with its generate_video task (PLAN_COMMIT). */
typedef struct {
  const char *persona_id;
  const char *trend_key;  /* the planner's normalized key */
  const char *trend_json; /* the trend record (JSON object), kept in the trends table; may be NULL */
  ain_task_t *task;       /* enqueued in the same transaction when the pair is new */
  int planned;            /* out: 1 = new (task enqueued), 0 = planned before (nothing written) */
} ain_plan_item_t;

/* A trend the planner has seen (table trends): its normalised key, the record as read from its
 * source (JSON object text; NULL when none was kept), and when it was first and last seen (ms). */
typedef struct {
  char *trend_key;
  char *record;
  int64_t first_seen_at, last_seen_at;
} ain_trend_t;
#define AIN_STORE_TRENDS_MAX 1000 /* the most one TRENDS_LIST returns */

/* Counts for progress, the run summary and metrics. */
typedef struct {
  int64_t tasks[AIN_TASK_STATUS_COUNT];
  int64_t dags[AIN_DAG_STATUS_COUNT];
  int64_t next_run_at; /* earliest run_at of a ready task, 0 if none */
} ain_store_stats_t;

/* A policy source version (script_versions): sources are stored by the sha256 of their text. */
typedef struct {
  char sha[65];
  char *module;     /* "judge", "personas/coach_ava" */
  char *source;     /* SCRIPT_GET only; NULL in lists */
  char *error;      /* first_error: why it was rejected; NULL when it validated */
  int64_t created_at;
} ain_script_version_t;

typedef struct {
  char *module;
  char sha[65];
  int64_t updated_at;
} ain_script_pin_t;

/* A rendered video as the review gate recorded it, with its safety report and its review (if
 * the judge sent it to review). Video status: passed | in_review | approved | rejected |
 * published. Review status: pending | approved | rejected (NULL: never reviewed). Strings are
 * owned by the request in outputs. (migration 005; store/<be>/review.c) */
typedef struct {
  char *video_id;
  char *dag_id;
  char *task_id; /* the review_gate task (parked while the review is pending) */
  char *persona_id;
  char *status;
  char *decision; /* the judge's: pass | review | reject */
  double confidence;
  char *checks; /* JSON array of {name, passed, score, detail, ...} */
  char *report; /* JSON object: thresholds, failed, policy versions */
  char *video_key, *thumbnail_key;
  int64_t state_version; /* the video row's */
  int64_t created_at, updated_at;
  char *review_status; /* NULL when never sent to review */
  char *reviewer, *reason;
  int64_t review_version; /* the review row's state_version: approve/reject expect it */
  int64_t decided_at;
} ain_video_review_t;

/* One publish receipt: at most one per (video, channel), unique idempotency key. */
typedef struct {
  int64_t id;
  char *video_id, *channel, *idempotency_key, *location, *task_id;
  int64_t state_version;
  int64_t created_at;
} ain_receipt_t;

void ain_video_review_free(ain_video_review_t *v);
void ain_receipt_free(ain_receipt_t *r);

/* One stored embedding (table embeddings, sql/<backend>/020_vectors.sql): float32 stored
 * little-endian, dims of them, under (kind, model, item_id). seq orders rows for incremental
 * loading: a replaced row gets a new one. VEC_PUT borrows item_id, label and vec; VEC_LOAD's rows
 * are owned by the request. */
typedef struct {
  int64_t seq;        /* out */
  char *item_id;
  char *label;        /* may be NULL on input ("") */
  int64_t created_at; /* VEC_PUT: 0 = the store's now (ms) */
  float *vec;         /* dims floats */
} ain_store_vec_row_t;

#define AIN_STORE_VEC_LOAD_MAX 10000 /* rows per VEC_LOAD */

/* ---- requests ------------------------------------------------------------------------------- */

typedef enum {
  AIN_STORE_MIGRATE = 1,
  AIN_STORE_ENQUEUE,
  AIN_STORE_CLAIM,
  AIN_STORE_FINISH,
  AIN_STORE_EXTEND,
  AIN_STORE_REAP,
  AIN_STORE_CANCEL,
  AIN_STORE_GET_TASK,
  AIN_STORE_GET_DAG,
  AIN_STORE_AUDIT,
  AIN_STORE_STATS,
  AIN_STORE_LIST_TASKS,
  AIN_STORE_NODE_BEAT, /* heartbeat + fenced reclaim of dead nodes' leases (store/<be>/nodes.c) */
  AIN_STORE_NODES,     /* list node rows */
  AIN_STORE_ARCHIVE,   /* move finished tasks out of the hot table (store/<be>/archive.c) */
  AIN_STORE_KV_GET, /* policy key-value namespaces (ain.store): see ain_store_req_kv_get() */
  AIN_STORE_KV_PUT,
  AIN_STORE_KV_DELETE,
  AIN_STORE_ARTIFACT_PUT, /* record a step's checkpoint (store/<be>/media.c) */
  AIN_STORE_ARTIFACT_GET, /* read a step's checkpoint */
  AIN_STORE_PLAN_COMMIT,  /* planned pairs + their tasks in one transaction (store/<be>/plan.c) */
  AIN_STORE_PLANNED_LIST, /* every planned "persona_id|trend_key" */
  AIN_STORE_TRENDS_LIST,  /* trends the planner has seen, most recently seen first */
  AIN_STORE_SCRIPT_PUT,   /* script registry (store/scripts.c): record a policy source version */
  AIN_STORE_SCRIPT_GET,   /* one version by sha (or a unique prefix of 8+ hex digits) */
  AIN_STORE_SCRIPT_LIST,  /* versions (without sources) and pins */
  AIN_STORE_SCRIPT_PIN,   /* pin a module to a valid version, or unpin (sha NULL) */
  AIN_STORE_VIDEO_JUDGED, /* review gate: video + safety report (+ pending review), store/<be>/review.c */
  AIN_STORE_REVIEW_LIST,  /* videos with their reports and reviews */
  AIN_STORE_REVIEW_DECIDE, /* OCC approve/reject of a pending review; wakes the parked gate */
  AIN_STORE_RECEIPT_PUT,  /* publish receipt by idempotency key (or look one up) */
  AIN_STORE_SETTING,      /* read or write one settings row ("publishers.paused") */
  AIN_STORE_PURGE,        /* delete finished DAGs and their data (store/purge.h) */
  AIN_STORE_WEDGE,        /* the watchdog records a wedged step (store/wedge.c, <be>/wedge.c) */
  AIN_STORE_RETRY,        /* an operator re-drives a dead task (store/retry.c, <be>/retry.c) */
  AIN_STORE_METRICS,      /* a scrape's gauges, read only (store/metrics.h, <be>/metrics.c) */
  AIN_STORE_PUBLISH_GUARD, /* pause/resume publishers on the review backlog (store/metrics.h) */
  AIN_STORE_LIST_DAGS,    /* DAG rows newest first, by status/persona, keyset pages */
  AIN_STORE_VEC_PUT,      /* embeddings rows (store/vec.c, <be>/vec.c): add or replace */
  AIN_STORE_VEC_LOAD,     /* embeddings of (kind, model) after a sequence number */
  AIN_STORE_SOURCE_PUT,   /* upsert one trend source's row (store/source.c, <be>/source.c) */
  AIN_STORE_SOURCE_LIST,  /* every trend source's row, by name */
  AIN_STORE_OP_COUNT
} ain_store_op_t;

struct ain_store_req {
  /* public: set by the caller */
  void *data;
  ain_store_cb cb;
  const char *actor; /* audit actor: "node/shard", "operator:cli", "policy:judge" */
  int64_t now;       /* ms; 0 = the backend takes ain_now_ms() */
  /* public: results */
  int status; /* 0 or AIN_E* for the whole request */
  ain_err_t err;
  /* read-only */
  ain_store_op_t op;
  int done;
  uint64_t submitted_ns; /* ain_mono_ns() at submit: ain_store_request_duration_seconds */
  union {
    struct {
      int check_only; /* in: 1 = apply nothing, count what is pending (ain_store_req_migrate_status) */
      int applied;    /* migrations applied by this request */
      int version;    /* schema version afterwards */
      int pending;    /* check_only: migration files not yet applied */
    } migrate;
    struct {
      const ain_store_batch_t *batch;
    } enqueue;
    struct {
      const char *owner;
      int max;           /* claim at most this many */
      int64_t lease_ms;  /* lease length */
      ain_task_t *tasks; /* out: claimed, status running, new state_version */
      size_t ntasks;
    } claim;
    struct {
      ain_finish_item_t *items;
      size_t nitems;
    } finish;
    struct {
      ain_extend_item_t *items;
      size_t nitems;
      /* 1 (ain_store_req_lease_check): read only. Each item's status says whether the task is
       * still running under that state_version (0) or not (ECONFLICT: cancelled, reaped, taken
       * over); new_version = state_version, lease_until is ignored. */
      int check_only;
    } extend;
    struct {
      int reclaimed; /* expired leases returned to ready */
      int dead;      /* expired leases that had no attempts left */
    } reap;
    struct {
      const char *task_id; /* one of the two */
      const char *dag_id;
      const char *reason;
      int cancelled; /* out: tasks cancelled */
    } cancel;
    struct {
      const char *id;
      ain_task_t task; /* out */
    } get_task;
    struct {
      const char *id;
      ain_dag_t dag;     /* out */
      ain_task_t *tasks; /* out: its tasks, in creation order */
      size_t ntasks;
      ain_dep_t *deps; /* out: its edges (strings owned by the request) */
      size_t ndeps;
    } get_dag;
    struct {
      const char *task_id; /* one of the two (or neither, with operator_rows) */
      const char *dag_id;
      /* in: 1 = the operator's rows instead (no task, no DAG: settings, pins), the newest
       * `limit` of them (0 = 100) */
      int operator_rows;
      int limit;
      /* in (ain_store_req_audit_decisions): instead, the rows that recorded a policy decision:
       * transitions to succeeded of tasks (live or archived) run by `handler`
       * ("lua:judge.decide"), written at or after `since` (ms), the newest `limit` (0 = 1000)
       * of them. A purged task's rows are left out (there is no task to re-run). */
      const char *handler;
      int64_t since;
      /* in (ain_store_req_audit_tail): instead, 1 = the rows with after_id < id (<= upto_id
       * unless it is 0), the first `limit` (0 = 1000) by id, plus the rows whose id is one of
       * also_ids (ids the caller saw missing: on Postgres a lower id may commit after a higher
       * one); 2 = the newest row only (where "now" is). Every row's task_type is filled. */
      int tail;
      int64_t after_id, upto_id;
      const int64_t *also_ids;
      size_t nalso;
      ain_audit_t *rows; /* out, oldest first */
      size_t nrows;
    } audit;
    struct {
      /* in: 1 = only what an idle check needs, from a few index probes instead of counting
       * every row: each open status (pending, ready, running, waiting) is 1 when some task has it
       * and 0 when none has, the finished statuses and DAG counts are 0, next_run_at is set. */
      int open_only;
      ain_store_stats_t stats; /* out */
    } stats;
    struct {
      int status; /* -1 = any */
      const char *dag_id; /* NULL = any */
      const char *type;   /* NULL = any */
      /* Keyset pagination: with after_id set, only the tasks after (after_created_at, after_id)
       * in list order, i.e. strictly older, or as old with a smaller id (byte order). */
      int64_t after_created_at;
      const char *after_id;
      int limit;         /* 0 = 100 */
      ain_task_t *tasks; /* out: newest first (created_at, then id, descending) */
      size_t ntasks;
    } list;
    struct {
      /* in: this node (id, node, host, version, pid, shards; started_at 0 = keep). The row is
       * upserted with last_beat = now and state alive, or stopped when stopping is set. */
      const ain_node_t *self;
      int stopping;
      int64_t timeout_ms; /* other nodes silent longer than this are declared dead */
      /* out: nodes declared dead by this beat, and their running tasks whose lease was expired
       * with a state_version bump (fenced: the dead node's late finish/extend is refused; the
       * reaper then retries them). */
      int dead_nodes;
      int expired;
    } node_beat;
    struct {
      ain_node_t *nodes; /* out, by id */
      size_t nnodes;
    } nodes;
    struct {
      /* Finished tasks (succeeded, dead, cancelled) whose DAG is finished too (or that have
       * none), finished before older_than, move to tasks_archive with their edges, at most limit
       * per request. Reads (task, dag, audit) still see them. */
      int64_t older_than; /* ms since epoch */
      int limit;
      int archived; /* out */
    } archive;
    struct {
      const char *module, *sha, *source; /* sha: 64 hex digits of sha256(source) */
      const char *error; /* NULL = valid; kept from the first time the version was seen */
      int inserted;      /* out: 1 new row, 0 known already */
    } script_put;
    struct {
      const char *sha;             /* full, or a unique prefix (>= 8 hex digits) */
      const char *module;          /* NULL = any */
      ain_script_version_t version; /* out */
    } script_get;
    struct {
      const char *module;             /* NULL = every module */
      int pins_only;                  /* skip the versions (the registry's pin poll) */
      ain_script_version_t *versions; /* out: by module, newest first */
      size_t nversions;
      ain_script_pin_t *pins; /* out */
      size_t npins;
    } script_list;
    struct {
      const char *module;
      const char *sha; /* full or unique prefix of a valid version of module; NULL = unpin */
      char pinned[65]; /* out: the full sha pinned ("" after unpin) */
      int changed;     /* out: 0 when it was already so */
    } script_pin;
    struct {
      const char *kind;  /* [a-z0-9_]{1,64} */
      const char *model; /* 1..128 bytes */
      int dims;          /* 1..8192; VEC_LOAD: rows of other dims are refused (AIN_ESTORE) */
      ain_store_vec_row_t *rows; /* PUT in (nrows, ids unique); LOAD out, oldest seq first */
      size_t nrows;
      int64_t after_seq; /* LOAD: rows with seq > after_seq */
      int limit;         /* LOAD: 1..AIN_STORE_VEC_LOAD_MAX */
    } vec;
    struct {
      const char *ns;  /* namespace: the policy module that owns the key */
      const char *key;
      const char *value;      /* KV_PUT: JSON text */
      int64_t expect_version; /* PUT/DELETE: -1 any; PUT 0 = must not exist; > 0 must match */
      char *out_value;        /* KV_GET out: JSON text, owned by the request */
      int64_t version;        /* out: GET current, PUT new, DELETE the version removed */
    } kv;
    struct {
      /* in: dag_id, step, task_id, keys, result (borrowed). Replaces an earlier checkpoint of
       * the same (dag_id, step): a step that redid its work records the new keys. */
      const ain_artifact_t *in;
    } artifact_put;
    struct {
      const char *dag_id;
      const char *step;
      ain_artifact_t artifact; /* out; AIN_ENOTFOUND when there is none */
    } artifact_get;
    struct {
      ain_plan_item_t *items; /* in (planned is out) */
      size_t nitems;
      int planned; /* out: items newly planned */
    } plan_commit;
    struct {
      char **pairs; /* out: "persona_id|trend_key", sorted */
      size_t npairs;
    } planned_list;
    struct {
      int limit;           /* in: 1 .. AIN_STORE_TRENDS_MAX */
      ain_trend_t *trends; /* out: by last_seen_at, newest first (then by key) */
      size_t ntrends;
    } trends_list;
    struct {
      /* in (borrowed): video_id, dag_id, task_id, persona_id, decision, confidence, checks,
       * report, video_key, thumbnail_key. The first call stores the video (status passed |
       * in_review | rejected), its safety report and, for "review", a pending review; later
       * calls (the gate re-run after a decision) change nothing. out: the row as stored. */
      const ain_video_review_t *in;
      ain_video_review_t row;
    } video_judged;
    struct {
      const char *status;   /* review status filter, NULL = every video */
      const char *video_id; /* one video (AIN_ENOTFOUND if unknown), NULL = all */
      int limit;            /* 0 = no limit */
      ain_video_review_t *rows; /* out, oldest first */
      size_t nrows;
      /* out, with video_id only: that video's publish receipts, oldest first */
      ain_receipt_t *receipts;
      size_t nreceipts;
    } review_list;
    struct {
      const char *video_id;
      int64_t expect_version; /* the review's state_version the reviewer saw */
      int approve;            /* 1 approve, 0 reject */
      const char *reviewer, *reason;
      /* out: the row after the decision; on AIN_ECONFLICT the row as found (version, status,
       * reviewer), req->err names the expected and found versions. */
      ain_video_review_t row;
      int woke; /* 1 when the parked gate task was returned to ready */
    } review_decide;
    struct {
      /* in: video_id, channel, idempotency_key, location, task_id. lookup_only: only read the
       * receipt of idempotency_key (AIN_ENOTFOUND if none). Otherwise insert it unless the key
       * exists; a new receipt also marks the video published (audited). */
      const ain_receipt_t *in;
      int lookup_only;
      ain_receipt_t receipt; /* out: the stored receipt (new or existing) */
      int created;           /* out: 1 new, 0 existed */
    } receipt_put;
    struct {
      const char *key;
      const char *value; /* NULL: read only */
      char *out_value;   /* out: the value after (NULL when the row does not exist) */
      int64_t version;   /* out */
      int changed;       /* out: the write changed the value */
    } setting;
    struct ain_store_purge *purge; /* PURGE: inputs and outputs, store/purge.h */
    struct ain_store_metrics *metrics; /* METRICS: outputs, store/metrics.h */
    struct ain_store_guard *guard;     /* PUBLISH_GUARD: inputs and outputs, store/metrics.h */
    struct {
      /* in: the task a wedged shard was running (its step held the shard in one call past the
       * watchdog's limit), fenced by the state_version of its claim or last extension. The wedge
       * is recorded (table task_wedges: owner, elapsed_ms, error) whatever the task's state;
       * only when the fence holds does the task move: back to ready at once with last_error =
       * error, or, once it has wedged poison_after times (this one included), dead with
       * "EPOISON: ..." (its DAG fails), or dead with error when it has no attempts left.
       * node_id ("node_id/pid", may be NULL): the wedged node, marked dead with the leases of
       * its other running tasks fenced (expired with a state_version bump) so that any node's
       * reaper hands them out at once. AIN_ENOTFOUND (nothing written) for an unknown task. */
      const char *task_id;
      int64_t state_version;
      const char *owner;  /* the wedged shard, "node_id/pid/shard-N" */
      const char *error;  /* "EWEDGED: ..." */
      int64_t elapsed_ms; /* how long the call had been running */
      int poison_after;
      const char *node_id;
      /* out */
      int wedges;  /* wedges recorded against the task, this one included */
      int applied; /* 1: the fence held and the task moved; 0: it had moved on, left as it is */
      ain_task_status_t new_status; /* the task's status afterwards */
      int64_t new_version;
      int fenced; /* other running tasks of node_id whose lease was expired */
    } wedge;
    struct {
      /* in: a dead task (the dead letter). It returns to ready with its attempts reset (a fresh
       * max_attempts), its lease cleared and its last_error kept until it runs again, audited
       * dead -> ready with {"retry":true,"attempts_before":N}. When its DAG failed, the DAG
       * returns to running (audited) and the DAG's cancelled tasks return to pending (ready when
       * no dependency is left), so the rest of the DAG runs after it. Refused: AIN_ENOTFOUND for
       * an unknown task (or one already archived), AIN_ECONFLICT (field "status") for a task
       * that is not dead or whose DAG was cancelled. Wakes the shards. */
      const char *task_id;
      int64_t new_version; /* out: the task's state_version afterwards */
      int attempts_before; /* out */
      int dag_reopened;    /* out: 1 when its DAG went from failed back to running */
      int revived;         /* out: other tasks of the DAG returned from cancelled */
    } retry;
    struct {
      int status;             /* an ain_dag_status_t, -1 = any */
      const char *persona_id; /* NULL = any */
      /* Keyset pagination as in `list`: with after_id set, only the DAGs after
       * (after_created_at, after_id) in list order (strictly older, or as old with a smaller id,
       * byte order). */
      int64_t after_created_at;
      const char *after_id;
      int limit;       /* 0 = 100 */
      ain_dag_t *dags; /* out: newest first (created_at, then id, descending) */
      size_t ndags;
    } list_dags;
    struct {
      const ain_source_state_t *in; /* SOURCE_PUT: the whole row (borrowed) */
      ain_source_state_t *rows;     /* SOURCE_LIST out: by name, owned by the request */
      size_t nrows;
    } source;
  } u;
  void *backend_priv; /* backend bookkeeping */
  ain_store_req_t *next_; /* backend queues */
};

/* ---- the handle ----------------------------------------------------------------------------- */

typedef struct {
  const char *url;      /* "sqlite:PATH" or "postgres://..." / "postgresql://..." */
  const char *sql_dir;  /* folder holding sqlite/ and postgres/ migrations */
  int busy_timeout_ms;  /* sqlite: how long to wait for the write lock (default 5000) */
  int synchronous_full; /* sqlite: 1 = synchronous=FULL (default), 0 = NORMAL */
  /* sqlite: how long a read on the handle's read-only connection waits for a lock: 0 = 5000 ms,
   * < 0 = not at all (the read fails at once with AIN_EBUSY; the API's loop reader uses it). */
  int read_busy_timeout_ms;
} ain_store_config_t;

/* Opens a store handle bound to loop. No blocking network I/O: a backend that must connect does
 * so asynchronously and queues requests meanwhile. Caller closes with ain_store_close(). */
int ain_store_open(const ain_store_config_t *cfg, uv_loop_t *loop, ain_store_t **out,
                   ain_err_t *err);
/* Closes the handle. Requests still queued complete with AIN_ESHUTDOWN first. Runs cb (may be NULL)
 * when every handle it used on the loop is closed; the caller must keep running the loop. */
void ain_store_close(ain_store_t *s, void (*cb)(void *data), void *data);
const char *ain_store_backend_name(const ain_store_t *s); /* "sqlite" | "postgres" */
/* The op's name in metrics and logs ("claim", "finish"); "unknown" out of range. */
const char *ain_store_op_name(ain_store_op_t op);
/* Backends call it as a request completes, before its callback: records its duration
 * (ain_store_request_duration_seconds{backend, op}). */
void ain__store_observe(const ain_store_t *s, const ain_store_req_t *req);

/* Starts req (req->op and inputs set through the ain_store_req_* helpers below). Returns 0, or an
 * error if the request could not even be queued (then the callback will not run). */
int ain_store_submit(ain_store_t *s, ain_store_req_t *req);
/* Submits req and runs the store's loop until it is done; returns req->status. For the CLI,
 * start-up and tests, never on a shard loop that serves other work. */
int ain_store_wait(ain_store_t *s, ain_store_req_t *req);
/* Frees what the request's outputs own and zeroes them; the request may be reused. */
void ain_store_req_cleanup(ain_store_req_t *req);

/* Request initialisers: zero the request, set op and inputs. */
void ain_store_req_migrate(ain_store_req_t *req);
/* MIGRATE that writes nothing: the store's schema version and how many migration files of sql_dir
 * it has not applied (readiness probes; /readyz). */
void ain_store_req_migrate_status(ain_store_req_t *req);
void ain_store_req_enqueue(ain_store_req_t *req, const ain_store_batch_t *batch);
void ain_store_req_claim(ain_store_req_t *req, const char *owner, int max, int64_t lease_ms);
void ain_store_req_finish(ain_store_req_t *req, ain_finish_item_t *items, size_t n);
void ain_store_req_extend(ain_store_req_t *req, ain_extend_item_t *items, size_t n);
/* Like extend, but writes nothing: which of these claimed tasks are still ours? A shard asks this
 * often (queue.cancel_check_ms) so a cancelled step stops, and kills its children, at once. */
void ain_store_req_lease_check(ain_store_req_t *req, ain_extend_item_t *items, size_t n);
void ain_store_req_reap(ain_store_req_t *req);
void ain_store_req_cancel(ain_store_req_t *req, const char *task_id, const char *dag_id,
                          const char *reason);
void ain_store_req_get_task(ain_store_req_t *req, const char *id);
void ain_store_req_get_dag(ain_store_req_t *req, const char *id);
/* A task's or a DAG's audit rows; AIN_ENOTFOUND when there is no such task / DAG. */
void ain_store_req_audit(ain_store_req_t *req, const char *task_id, const char *dag_id);
/* The newest `limit` operator audit rows (settings, pins: rows of no task and no DAG), oldest
 * first. */
void ain_store_req_audit_operator(ain_store_req_t *req, int limit);
/* The audit rows of the decisions of `handler` since `since` (ms), the newest `limit` (0 = 1000),
 * oldest first (`ain judge shadow`). */
void ain_store_req_audit_decisions(ain_store_req_t *req, const char *handler, int64_t since,
                                   int limit);
#define AIN_STORE_AUDIT_ALSO_MAX 4096 /* ids a tail may ask to re-read at once */
/* The audit log by id, for tails (`ain events`, GET /v1/events): see u.audit.tail. */
void ain_store_req_audit_tail(ain_store_req_t *req, int64_t after_id, int64_t upto_id,
                              const int64_t *also_ids, size_t nalso, int limit);
/* The newest audit row (none when the log is empty). */
void ain_store_req_audit_newest(ain_store_req_t *req);
void ain_store_req_stats(ain_store_req_t *req);
/* STATS with open_only set: is there unfinished work, and when is the next deferred task due. */
void ain_store_req_open_work(ain_store_req_t *req);
void ain_store_req_list(ain_store_req_t *req, int status, const char *dag_id, int limit);
/* LIST_DAGS: status an ain_dag_status_t or -1 (any), persona_id NULL (any); set
 * u.list_dags.after_* for the pages after the first. Migration 016 indexes each filter. */
void ain_store_req_list_dags(ain_store_req_t *req, int status, const char *persona_id, int limit);
/* RETRY of a dead task (u.retry); the actor is the operator. */
void ain_store_req_retry(ain_store_req_t *req, const char *task_id);
void ain_store_req_node_beat(ain_store_req_t *req, const ain_node_t *self, int64_t timeout_ms,
                             int stopping);
void ain_store_req_nodes(ain_store_req_t *req);
/* Trend sources' rows (store/source.c). PUT replaces the row named in->name (creating it). */
void ain_store_req_source_put(ain_store_req_t *req, const ain_source_state_t *in);
void ain_store_req_source_list(ain_store_req_t *req);
void ain_store_req_archive(ain_store_req_t *req, int64_t older_than, int limit);
/* Script registry ops (store/scripts.c). */
void ain_store_req_script_put(ain_store_req_t *req, const char *module, const char *sha,
                              const char *source, const char *error);
void ain_store_req_script_get(ain_store_req_t *req, const char *sha, const char *module);
void ain_store_req_script_list(ain_store_req_t *req, const char *module);
void ain_store_req_script_pin(ain_store_req_t *req, const char *module, const char *sha);
void ain_store_req_artifact_put(ain_store_req_t *req, const ain_artifact_t *in);
void ain_store_req_artifact_get(ain_store_req_t *req, const char *dag_id, const char *step);
void ain_store_req_plan_commit(ain_store_req_t *req, ain_plan_item_t *items, size_t n);
void ain_store_req_planned_list(ain_store_req_t *req);
void ain_store_req_trends_list(ain_store_req_t *req, int limit);
/* Key-value rows of a namespace (store/kv.c). GET: AIN_ENOTFOUND when absent. PUT: creates or
 * replaces, new version in u.kv.version (1 for a new key); a stale or unmet expect_version is
 * AIN_ECONFLICT. DELETE: AIN_ENOTFOUND when absent, AIN_ECONFLICT when expect_version differs. */
void ain_store_req_kv_get(ain_store_req_t *req, const char *ns, const char *key);
/* Embeddings (store/vec.c): VEC_PUT adds or replaces rows (one transaction), VEC_LOAD reads up to
 * limit rows of (kind, model) with seq > after_seq in seq order. */
void ain_store_req_vec_put(ain_store_req_t *req, const char *kind, const char *model, int dims,
                           ain_store_vec_row_t *rows, size_t nrows);
void ain_store_req_vec_load(ain_store_req_t *req, const char *kind, const char *model, int dims,
                            int64_t after_seq, int limit);
void ain_store_req_kv_put(ain_store_req_t *req, const char *ns, const char *key,
                          const char *value_json, int64_t expect_version);
void ain_store_req_kv_delete(ain_store_req_t *req, const char *ns, const char *key,
                             int64_t expect_version);
#define AIN_STORE_KV_NS_MAX 128           /* bytes */
#define AIN_STORE_KV_KEY_MAX 256          /* bytes */
#define AIN_STORE_KV_VALUE_MAX (1u << 20) /* bytes of JSON text */
/* Validates a KV request's inputs (store.c calls it before a backend sees the request). */
int ain__store_kv_check(const ain_store_req_t *req, ain_err_t *err);
/* store/vec.c: VEC_PUT / VEC_LOAD input checks, VEC_LOAD output cleanup, and the byte order of
 * the stored vectors (float32 little-endian, whatever the host). */
int ain__store_vec_check(const ain_store_req_t *req, ain_err_t *err);
void ain__store_vec_cleanup(ain_store_req_t *req);
void ain__store_vec_to_le(const float *v, int dims, unsigned char *out);
void ain__store_vec_from_le(const unsigned char *in, int dims, float *v);

/* Review/publish requests (store/review.c). Inputs are borrowed until the callback. */
void ain_store_req_video_judged(ain_store_req_t *req, const ain_video_review_t *in);
void ain_store_req_review_list(ain_store_req_t *req, const char *status, const char *video_id,
                               int limit);
void ain_store_req_review_decide(ain_store_req_t *req, const char *video_id, int64_t expect_version,
                                 int approve, const char *reviewer, const char *reason);
void ain_store_req_receipt_put(ain_store_req_t *req, const ain_receipt_t *in, int lookup_only);
void ain_store_req_setting(ain_store_req_t *req, const char *key, const char *value);
/* WEDGE (store/wedge.c): inputs borrowed until the callback. */
void ain_store_req_wedge(ain_store_req_t *req, const char *task_id, int64_t state_version,
                         const char *owner, const char *error, int64_t elapsed_ms,
                         int poison_after, const char *node_id);

/* Checks a batch's shape without the store: at least one task, every task has an id and a type,
 * every edge has both ends and is not a self-edge, a DAG row has an id. Returns 0 or AIN_EINVAL
 * naming the field. Backends call it for spawn batches too; duplicate ids (AIN_EEXIST) and edges
 * to unknown tasks (AIN_EINVAL) are the backend's to report. */
int ain_store_batch_check(const ain_store_batch_t *b, ain_err_t *err);

/* Frees the strings a task row owns (not the row). */
void ain_dag_free(ain_dag_t *d);
void ain_node_free(ain_node_t *n);
void ain_artifact_free(ain_artifact_t *a);

/* ---- backends -------------------------------------------------------------------------------- */

/* What a backend provides. The generic layer (store.c) validates requests, picks the backend by
 * URL scheme and keeps callbacks off the submit stack. */
typedef struct {
  const char *name;
  int (*open)(const ain_store_config_t *cfg, uv_loop_t *loop, ain_store_t **out, ain_err_t *err);
  int (*submit)(ain_store_t *s, ain_store_req_t *req);
  void (*close)(ain_store_t *s, void (*cb)(void *data), void *data);
  /* Optional (NULL: none kept): see ain_store_snapshot. */
  int (*snapshot)(ain_store_t *s, int hold);
  /* Optional: runs the callbacks of requests that already completed inside submit, now instead
   * of on the next loop iteration (ain_store_wait then needs no pass of the loop). */
  void (*deliver_now)(ain_store_t *s);
} ain_store_backend_t;

/* Every backend's handle starts with this. */
struct ain_store {
  const ain_store_backend_t *backend;
  uv_loop_t *loop;
  void (*wake_cb)(void *data); /* see ain_store_on_wakeup() */
  void *wake_data;
};

/* Registers cb to run on this handle's loop when new work may have become claimable because of a
 * commit made through another handle (another shard in this process, or another node through
 * LISTEN/NOTIFY). Spurious wake-ups are allowed; a scheduler still polls as a fallback. */
void ain_store_on_wakeup(ain_store_t *s, void (*cb)(void *data), void *data);

/* hold = 1: the read requests on this handle from now on see one snapshot of the database, taken
 * at the first of them, until hold = 0 ends it (the reads: GET_TASK, GET_DAG, AUDIT, STATS and
 * LIST_TASKS; a write meanwhile commits, and those reads do not see it). SQLite: one read
 * transaction on the handle's read connection instead of one per request (its read locks are
 * fcntl calls); a snapshot must not be held long, as the WAL cannot be reset past it. Returns 0
 * (held), 1 when the backend keeps none (Postgres: each statement reads committed data, as
 * without it) or an AIN_E* code (not held either); hold = 0 always returns 0. Synchronous: on
 * the handle's thread. */
int ain_store_snapshot(ain_store_t *s, int hold);

extern const ain_store_backend_t ain_store_sqlite_backend;
extern const ain_store_backend_t ain_store_postgres_backend;

#endif
