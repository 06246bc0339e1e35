/* The Postgres backend's operations: which prepared statements each store request runs, with
 * which parameters, and how the rows that come back become the request's outputs.
 *
 * Batches travel as one JSON parameter that the server unpacks set-wise (json_to_record over
 * json_array_elements), so a claim of 100 or a finish of 100 is one statement and one round trip.
 * The multi-row logic of ENQUEUE, FINISH, REAP and CANCEL lives in plpgsql functions created by
 * sql/postgres/001_init.sql; CLAIM and EXTEND are single data-modifying statements here.
 *
 * Relies on: internal.h, cJSON (building batch parameters). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/internal.h"
#include "store/postgres/scripts.h"

/* The columns of a task row, in the order pg_read_task() reads them (table alias t). */
#define TASK_COLS                                                                                  \
  "t.id, coalesce(t.dag_id, ''), t.type, t.step, t.handler, t.persona_id, t.payload, t.result, "   \
  "t.last_error, t.traceparent, t.lease_owner, t.status, t.priority, t.attempts, "                 \
  "t.max_attempts, t.deps_pending, t.timeout_ms, t.run_at, coalesce(t.lease_until, 0), "           \
  "t.state_version, t.created_at, t.updated_at"
#define TASK_NCOLS 22

/* Compact {step: result} of a task's dependencies, NULL when it has none. */
#define DEPS_RESULT                                                                                \
  "(SELECT '{' || string_agg(to_json(coalesce(d.step, d.id))::text || ':' || "                     \
  "coalesce(d.result, 'null'), ',' ORDER BY d.seq) || '}' "                                        \
  "FROM task_deps e JOIN tasks d ON d.id = e.depends_on WHERE e.task_id = t.id)"

const ain__pg_stmt_def_t ain__pg_stmts[AIN__PG_STMT_COUNT] = {
    [AIN__PG_ENQUEUE] = {"ain_enqueue", "SELECT ain_enqueue($1::text, $2::bigint, $3::json)", 3},
    [AIN__PG_CLAIM] =
        {"ain_claim",
         "WITH c AS (SELECT x AS id FROM ain_claim_ids($2::bigint, $4::integer) AS x), "
         "u AS (UPDATE tasks t SET status = 'running', lease_owner = $3::text, "
         "  lease_until = $2::bigint + $5::bigint, attempts = t.attempts + 1, "
         "  state_version = t.state_version + 1, updated_at = $2::bigint "
         "  FROM c WHERE t.id = c.id RETURNING t.*), "
         "a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, "
         "  state_version, detail, ts) SELECT id, dag_id, $1::text, 'ready', 'running', "
         "  state_version, NULL, $2::bigint FROM u) "
         "SELECT " TASK_COLS ", " DEPS_RESULT " FROM u t ORDER BY t.priority DESC, t.run_at, t.id",
         5},
    [AIN__PG_FINISH] = {"ain_finish",
                        "SELECT o_idx, o_status, o_new_status, o_new_version "
                        "FROM ain_finish_batch($1::text, $2::bigint, $3::json)",
                        3},
    /* plain successes as parallel arrays (sql/postgres/009_finish_ok.sql) */
    [AIN__PG_FINISH_OK] = {"ain_finish_ok",
                           "SELECT o_idx, o_status, o_new_status, o_new_version "
                           "FROM ain_finish_ok($1::text, $2::bigint, $3::text[], $4::bigint[], "
                           "$5::text[], $6::text[])",
                           6},
    [AIN__PG_EXTEND] =
        {"ain_extend",
         "WITH i AS (SELECT (j.o - 1)::integer AS idx, x.id, x.ver, x.lease_until "
         "  FROM json_array_elements($2::json) WITH ORDINALITY AS j(doc, o) "
         "  CROSS JOIN LATERAL json_to_record(j.doc) AS x(id text, ver bigint, lease_until bigint)) "
         "UPDATE tasks t SET lease_until = i.lease_until, state_version = t.state_version + 1, "
         "  updated_at = $1::bigint "
         "FROM i WHERE t.id = i.id AND t.status = 'running' AND t.state_version = i.ver "
         "RETURNING i.idx, t.state_version",
         2},
    /* EXTEND's read-only twin: the items still running under the version we hold. It takes
     * the same two parameters as EXTEND; $1 (now) is not needed and only type-checked. */
    [AIN__PG_LEASE_CHECK] =
        {"ain_lease_check",
         "WITH i AS (SELECT (j.o - 1)::integer AS idx, x.id, x.ver "
         "  FROM json_array_elements($2::json) WITH ORDINALITY AS j(doc, o) "
         "  CROSS JOIN LATERAL json_to_record(j.doc) AS x(id text, ver bigint)) "
         "SELECT i.idx, t.state_version FROM i JOIN tasks t ON t.id = i.id "
         "WHERE t.status = 'running' AND t.state_version = i.ver AND $1::bigint IS NOT NULL",
         2},
    [AIN__PG_REAP] = {"ain_reap", "SELECT reclaimed, dead FROM ain_reap($1::text, $2::bigint)", 2},
    [AIN__PG_CANCEL] = {"ain_cancel",
                        "SELECT ain_cancel($1::text, $2::bigint, $3::text, $4::text, $5::text)", 5},
    [AIN__PG_GET_TASK] = {"ain_get_task",
                          "SELECT " TASK_COLS ", NULL FROM tasks t WHERE t.id = $1::text "
                          "UNION ALL SELECT " TASK_COLS ", NULL FROM tasks_archive t "
                          "WHERE t.id = $1::text",
                          1},
    [AIN__PG_GET_DAG] = {"ain_get_dag",
                         "SELECT id, coalesce(root_task_id, ''), persona_id, last_error, status, "
                         "steps_total, steps_done, state_version, created_at, updated_at "
                         "FROM dags WHERE id = $1::text",
                         1},
    [AIN__PG_DAG_TASKS] = {"ain_dag_tasks",
                           "SELECT " TASK_COLS ", NULL FROM (SELECT * FROM tasks "
                           "WHERE dag_id = $1::text UNION ALL SELECT * FROM tasks_archive "
                           "WHERE dag_id = $1::text) t ORDER BY t.created_at, t.seq",
                           1},
    [AIN__PG_DAG_EDGES] = {"ain_dag_edges",
                           "SELECT e.task_id, e.depends_on FROM (SELECT * FROM task_deps "
                           "UNION ALL SELECT * FROM task_deps_archive) e "
                           "JOIN (SELECT id, seq, dag_id FROM tasks WHERE dag_id = $1::text "
                           "UNION ALL SELECT id, seq, dag_id FROM tasks_archive "
                           "WHERE dag_id = $1::text) t ON t.id = e.task_id "
                           "ORDER BY t.seq, e.depends_on",
                           1},
    [AIN__PG_TASK_EXISTS] = {"ain_task_exists",
                             "SELECT 1 FROM tasks WHERE id = $1::text "
                             "UNION ALL SELECT 1 FROM tasks_archive WHERE id = $1::text",
                             1},
    [AIN__PG_DAG_EXISTS] = {"ain_dag_exists", "SELECT 1 FROM dags WHERE id = $1::text", 1},
    [AIN__PG_AUDIT_TASK] = {"ain_audit_task",
                            "SELECT id, task_id, dag_id, actor, from_status, to_status, detail, "
                            "state_version, ts FROM audit_log WHERE task_id = $1::text ORDER BY id",
                            1},
    [AIN__PG_AUDIT_DAG] = {"ain_audit_dag",
                           "SELECT id, task_id, dag_id, actor, from_status, to_status, detail, "
                           "state_version, ts FROM audit_log WHERE dag_id = $1::text ORDER BY id",
                           1},
    /* the newest $1 rows of no task and no DAG (012_audit_clock.sql indexes them) */
    [AIN__PG_AUDIT_OPERATOR] = {"ain_audit_operator",
                                "SELECT * FROM (SELECT id, task_id, dag_id, actor, from_status, "
                                "to_status, detail, state_version, ts FROM audit_log "
                                "WHERE task_id IS NULL AND dag_id IS NULL "
                                "ORDER BY id DESC LIMIT $1::integer) x ORDER BY id",
                                1},
    /* the newest $3 decisions of handler $1 since $2 (015_audit_decisions.sql indexes them) */
    [AIN__PG_AUDIT_DECISIONS] =
        {"ain_audit_decisions",
         "SELECT * FROM (SELECT a.id, a.task_id, a.dag_id, a.actor, a.from_status, a.to_status, "
         "a.detail, a.state_version, a.ts FROM audit_log a WHERE a.to_status = 'succeeded' "
         "AND a.ts >= $2::bigint AND (EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.task_id "
         "AND t.handler = $1::text) OR EXISTS (SELECT 1 FROM tasks_archive t "
         "WHERE t.id = a.task_id AND t.handler = $1::text)) "
         "ORDER BY a.ts DESC, a.id DESC LIMIT $3::integer) x ORDER BY ts, id",
         3},
    /* a tail: the first $3 rows after $1 (up to $2 unless 0), and the rows of the ids in $4
     * (a lower id may commit after a higher one), each with its task's type */
    [AIN__PG_AUDIT_TAIL] =
        {"ain_audit_tail",
         "SELECT a.id, a.task_id, a.dag_id, a.actor, a.from_status, a.to_status, a.detail, "
         "a.state_version, a.ts, coalesce((SELECT t.type FROM tasks t WHERE t.id = a.task_id), "
         "(SELECT t.type FROM tasks_archive t WHERE t.id = a.task_id)) FROM ("
         "(SELECT * FROM audit_log WHERE id > $1::bigint AND ($2::bigint = 0 OR id <= $2::bigint) "
         "ORDER BY id LIMIT $3::integer) UNION ALL (SELECT * FROM audit_log "
         "WHERE id = ANY($4::bigint[]))) a ORDER BY a.id",
         4},
    [AIN__PG_AUDIT_NEWEST] = {"ain_audit_newest",
                              "SELECT id, task_id, dag_id, actor, from_status, to_status, detail, "
                              "state_version, ts, NULL FROM audit_log ORDER BY id DESC LIMIT 1",
                              0},
    [AIN__PG_STATS] = {"ain_stats",
                       "SELECT 't', status, count(*) FROM tasks GROUP BY status "
                       "UNION ALL SELECT 'd', status, count(*) FROM dags GROUP BY status "
                       "UNION ALL SELECT 'n', '', coalesce(min(run_at), 0) FROM tasks "
                       "WHERE status = 'ready'",
                       0},
    /* STATS with open_only: one probe of a partial index per open status (tasks_ready_run_at_idx,
     * tasks_lease_idx, tasks_pending_idx, tasks_waiting_idx) instead of counting every row. The
     * ORDER BY is the index's own order: it keeps the planner on the index when its statistics
     * are stale (at the end of a drain they can still say "half the table is running", and a
     * sequential scan looking for the first running row then reads the whole table). */
    [AIN__PG_OPEN_WORK] = {"ain_open_work",
                           "SELECT 't', 'ready', count(*) FROM (SELECT 1 FROM tasks "
                           "WHERE status = 'ready' ORDER BY run_at LIMIT 1) x "
                           "UNION ALL SELECT 't', 'running', count(*) FROM (SELECT 1 FROM tasks "
                           "WHERE status = 'running' ORDER BY lease_until LIMIT 1) x "
                           "UNION ALL SELECT 't', 'pending', count(*) FROM (SELECT 1 FROM tasks "
                           "WHERE status = 'pending' ORDER BY dag_id LIMIT 1) x "
                           "UNION ALL SELECT 't', 'waiting', count(*) FROM (SELECT 1 FROM tasks "
                           "WHERE status = 'waiting' ORDER BY dag_id LIMIT 1) x "
                           "UNION ALL SELECT 'n', '', coalesce(min(run_at), 0) FROM tasks "
                           "WHERE status = 'ready'",
                           0},
    /* newest first, keyset on (created_at, id) with ids compared as bytes (COLLATE "C", as
     * SQLite compares them); index tasks_list_idx (013) */
    [AIN__PG_LIST] = {"ain_list",
                      "SELECT " TASK_COLS ", NULL FROM tasks t "
                      "WHERE ($1::text IS NULL OR t.status = $1::text) "
                      "AND ($2::text IS NULL OR t.dag_id = $2::text) "
                      "AND ($4::text IS NULL OR t.type = $4::text) "
                      "AND ($6::text IS NULL OR (t.created_at, t.id COLLATE \"C\") < "
                      "($5::bigint, $6::text COLLATE \"C\")) "
                      "ORDER BY t.created_at DESC, t.id COLLATE \"C\" DESC LIMIT $3::bigint",
                      6},
    [AIN__PG_SOURCE_PUT] = AIN__PG_SOURCE_PUT_DEF,
    [AIN__PG_SOURCE_LIST] = AIN__PG_SOURCE_LIST_DEF,
    [AIN__PG_TIER_LIST] = AIN__PG_TIER_LIST_DEF,
    [AIN__PG_TIER_MARK] = AIN__PG_TIER_MARK_DEF,
    [AIN__PG_SESSION_GET] = AIN__PG_SESSION_GET_DEF,
    [AIN__PG_SESSION_SAVE] = AIN__PG_SESSION_SAVE_DEF,
    [AIN__PG_RECEIPT_POST] = AIN__PG_RECEIPT_POST_DEF,
    [AIN__PG_GRANT_PUT] = AIN__PG_GRANT_PUT_DEF,
    [AIN__PG_GRANT_GET] = AIN__PG_GRANT_GET_DEF,
    [AIN__PG_GRANT_USE] = AIN__PG_GRANT_USE_DEF,
    [AIN__PG_BUCKET_GET] = AIN__PG_BUCKET_GET_DEF,
    [AIN__PG_BUCKET_NEW] = AIN__PG_BUCKET_NEW_DEF,
    [AIN__PG_BUCKET_IF] = AIN__PG_BUCKET_IF_DEF,
    [AIN__PG_BUCKET_LIST] = AIN__PG_BUCKET_LIST_DEF,
    [AIN__PG_POSTS] = AIN__PG_POSTS_DEF,
    [AIN__PG_SCRIPT_PUT] = AIN__PG_SCRIPT_PUT_DEF,
    [AIN__PG_SCRIPT_GET] = AIN__PG_SCRIPT_GET_DEF,
    [AIN__PG_SCRIPT_LIST] = AIN__PG_SCRIPT_LIST_DEF,
    [AIN__PG_SCRIPT_PINS] = AIN__PG_SCRIPT_PINS_DEF,
    [AIN__PG_SCRIPT_PIN] = AIN__PG_SCRIPT_PIN_DEF,
    [AIN__PG_SCRIPT_UNPIN] = AIN__PG_SCRIPT_UNPIN_DEF,
    /* kv (kv.c): a write returns (new version or NULL when refused, version before) */
    [AIN__PG_KV_GET] = {"ain_kv_get",
                        "SELECT value, state_version FROM kv WHERE ns = $1::text AND key = $2::text",
                        2},
    [AIN__PG_KV_PUT] =
        {"ain_kv_put",
         "WITH up AS (UPDATE kv SET value = $3::text, state_version = state_version + 1, "
         "  updated_at = $4::bigint WHERE ns = $1::text AND key = $2::text AND $5::bigint > 0 "
         "  AND state_version = $5::bigint RETURNING state_version), "
         "ins AS (INSERT INTO kv (ns, key, value, state_version, created_at, updated_at) "
         "  SELECT $1::text, $2::text, $3::text, 1, $4::bigint, $4::bigint WHERE $5::bigint <= 0 "
         "  ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
         "  state_version = kv.state_version + 1, updated_at = excluded.updated_at "
         "  WHERE $5::bigint < 0 RETURNING state_version) "
         "SELECT coalesce((SELECT state_version FROM up), (SELECT state_version FROM ins)), "
         "(SELECT state_version FROM kv WHERE ns = $1::text AND key = $2::text)",
         5},
    [AIN__PG_KV_DELETE] =
        {"ain_kv_delete",
         "WITH d AS (DELETE FROM kv WHERE ns = $1::text AND key = $2::text "
         "  AND ($3::bigint < 0 OR state_version = $3::bigint) RETURNING state_version) "
         "SELECT (SELECT state_version FROM d), "
         "(SELECT state_version FROM kv WHERE ns = $1::text AND key = $2::text)",
         3},
    /* nodes and archive (nodes.c; functions in sql/postgres/006_nodes.sql) */
    [AIN__PG_NODE_BEAT] = {"ain_node_beat",
                           "SELECT dead_nodes, expired FROM ain_node_beat($1::text, $2::bigint, "
                           "$3::json, $4::bigint, $5::boolean)",
                           5},
    [AIN__PG_NODE_GATEWAY] = {"ain_node_gateway",
                              "UPDATE nodes SET gateway = $2::text, gateway_since = $3::bigint "
                              "WHERE id = $1::text",
                              3},
    [AIN__PG_NODES] = {"ain_nodes",
                       "SELECT n.id, n.node, n.host, n.version, n.pid, n.shards, n.state, "
                       "n.started_at, n.last_beat, n.state_version, (SELECT count(*) FROM tasks t "
                       "WHERE t.status = 'running' AND left(t.lease_owner, length(n.id) + 1) = "
                       "n.id || '/'), n.gateway, n.gateway_since FROM nodes n ORDER BY n.id",
                       0},
    [AIN__PG_ARCHIVE] = {"ain_archive", "SELECT ain_archive($1::bigint, $2::integer)", 2},
    [AIN__PG_PURGE] = {"ain_purge",
                       "SELECT * FROM ain_purge($1::bigint, $2::integer, $3::text, $4::bigint, "
                       "$5::boolean)",
                       5},
    [AIN__PG_ARTIFACT_PUT] = {"ain_artifact_put",
                              "INSERT INTO artifacts (dag_id, step, task_id, keys, result, "
                              "created_at) VALUES ($1::text, $2::text, $3::text, $4::text, "
                              "$5::text, $6::bigint) ON CONFLICT (dag_id, step) DO UPDATE SET "
                              "task_id = EXCLUDED.task_id, keys = EXCLUDED.keys, "
                              "result = EXCLUDED.result, created_at = EXCLUDED.created_at",
                              6},
    [AIN__PG_ARTIFACT_GET] = {"ain_artifact_get",
                              "SELECT dag_id, step, task_id, keys, result, created_at "
                              "FROM artifacts WHERE dag_id = $1::text AND step = $2::text",
                              2},
    [AIN__PG_PLAN_COMMIT] = {"ain_plan_commit",
                             "SELECT o_idx FROM ain_plan_commit($1::text, $2::bigint, $3::json)",
                             3},
    [AIN__PG_PLANNED_LIST] = {"ain_planned_list",
                              "SELECT persona_id || '|' || trend_key FROM planned ORDER BY 1", 0},
    [AIN__PG_TRENDS_LIST] = {"ain_trends_list",
                             "SELECT trend_key, record, first_seen_at, last_seen_at FROM trends "
                             "ORDER BY last_seen_at DESC, trend_key LIMIT $1::integer",
                             1},
    [AIN__PG_REVIEW] = AIN__PG_REVIEW_DEF,
    [AIN__PG_RECEIPTS_OF] = {"ain_receipts_of",
                             "SELECT id, video_id, channel, idempotency_key, location, task_id, "
                             "state_version, created_at, post_id, url FROM publish_receipts "
                             "WHERE video_id = $1::text ORDER BY created_at, id",
                             1},
    [AIN__PG_WEDGE] = AIN__PG_WEDGE_DEF,
    [AIN__PG_RETRY] = AIN__PG_RETRY_DEF,
    [AIN__PG_METRICS_DEPTH] = AIN__PG_METRICS_DEPTH_DEF,
    [AIN__PG_METRICS_SCALARS] = AIN__PG_METRICS_SCALARS_DEF,
    [AIN__PG_METRICS_NODES] = AIN__PG_METRICS_NODES_DEF,
    [AIN__PG_PUBLISH_GUARD] = AIN__PG_PUBLISH_GUARD_DEF,
    [AIN__PG_DAG_LIST] = AIN__PG_DAG_LIST_DEF("ain_dag_list", "", 3),
    [AIN__PG_DAG_LIST_STATUS] = AIN__PG_DAG_LIST_DEF("ain_dag_list_s", "d.status = $4::text AND ", 4),
    [AIN__PG_DAG_LIST_PERSONA] =
        AIN__PG_DAG_LIST_DEF("ain_dag_list_p", "d.persona_id = $4::text AND ", 4),
    [AIN__PG_DAG_LIST_BOTH] = AIN__PG_DAG_LIST_DEF(
        "ain_dag_list_sp", "d.status = $4::text AND d.persona_id = $5::text AND ", 5),
    /* vec.c: rows as a JSON array [{i: item_id, l: label, t: created_at, v: hex}] */
    [AIN__PG_VEC_PUT] = {"ain_vec_put",
                         "INSERT INTO embeddings (kind, model, item_id, dims, vec, label, created_at) "
                         "SELECT $1::text, $2::text, x.i, $3::int, decode(x.v, 'hex'), x.l, x.t "
                         "FROM json_to_recordset($4::json) AS x(i text, l text, t bigint, v text) "
                         "ON CONFLICT (kind, model, item_id) DO UPDATE SET "
                         "seq = nextval(pg_get_serial_sequence('embeddings', 'seq')), "
                         "dims = excluded.dims, vec = excluded.vec, label = excluded.label, "
                         "created_at = excluded.created_at RETURNING item_id, seq",
                         4},
    [AIN__PG_VEC_LOAD] = {"ain_vec_load",
                          "SELECT seq, item_id, label, created_at, dims, encode(vec, 'hex') "
                          "FROM embeddings WHERE kind = $1::text AND model = $2::text "
                          "AND (seq > $3::bigint OR (seq > $5::bigint AND seq <= $3::bigint "
                          "AND seq NOT IN (SELECT jsonb_array_elements_text($6::jsonb)::bigint))) "
                          "ORDER BY seq LIMIT $4::int",
                          6},
};

/* Status names as stored (the same words as ain_task_status_name / ain_dag_status_name). */
static const char *const pg_task_status[AIN_TASK_STATUS_COUNT] = {
    "pending", "ready", "running", "succeeded", "dead", "cancelled", "waiting"};
static const char *const pg_dag_status[AIN_DAG_STATUS_COUNT] = {"running", "succeeded", "failed",
                                                                "cancelled"};

static int pg_status_index(const char *const *names, int n, const char *s) {
  int i;
  for (i = 0; s && i < n; i++)
    if (strcmp(names[i], s) == 0)
      return i;
  return -1;
}

/* ---- building parameters --------------------------------------------------------------------- */

/* The audit actor: the request's, else "store" (a claim names the lease owner), as SQLite does. */
static char *pg_actor(const ain_store_req_t *req) {
  if (req->actor)
    return ain_strdup(req->actor);
  if (req->op == AIN_STORE_CLAIM && req->u.claim.owner)
    return ain_strdup(req->u.claim.owner);
  return ain_strdup("store");
}

static char *pg_i64(int64_t v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%" PRId64, v);
  return ain_strdup(buf);
}

/* "{1,2,3}": a bigint[] parameter; "{}" for none. */
static char *pg_id_array(const int64_t *ids, size_t n) {
  char *out = malloc(n * 21 + 3);
  if (out == NULL)
    abort(); /* as ain_strdup: OOM is fatal */
  size_t o = 0;
  out[o++] = '{';
  for (size_t i = 0; i < n; i++)
    o += (size_t)sprintf(out + o, "%s%" PRId64, i ? "," : "", ids[i]);
  out[o++] = '}';
  out[o] = '\0';
  return out;
}

static ain__pg_cmd_t *pg_cmd(ain__pg_plan_t *plan, ain__pg_stmt_t stmt) {
  ain__pg_cmd_t *c = &plan->cmds[plan->ncmds++];
  c->stmt = stmt;
  c->nparams = ain__pg_stmts[stmt].nparams;
  return c;
}

ain__pg_cmd_t *ain__pg_cmd(ain__pg_plan_t *plan, ain__pg_stmt_t stmt) {
  return pg_cmd(plan, stmt);
}

static void pg_json_str(cJSON *o, const char *key, const char *v) {
  if (v && *v)
    cJSON_AddStringToObject(o, key, v);
}

static cJSON *pg_batch_json(const ain_store_batch_t *b) {
  cJSON *o = cJSON_CreateObject(), *tasks, *deps;
  size_t i;
  if (!o)
    return NULL;
  if (b->dag) {
    cJSON *d = cJSON_AddObjectToObject(o, "dag");
    pg_json_str(d, "id", b->dag->id);
    pg_json_str(d, "root_task_id", b->dag->root_task_id);
    pg_json_str(d, "persona_id", b->dag->persona_id);
    cJSON_AddNumberToObject(d, "steps_total", b->dag->steps_total);
  }
  tasks = cJSON_AddArrayToObject(o, "tasks");
  for (i = 0; i < b->ntasks; i++) {
    const ain_task_t *t = &b->tasks[i];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(tasks, j);
    pg_json_str(j, "id", t->id);
    pg_json_str(j, "dag_id", t->dag_id);
    pg_json_str(j, "type", t->type);
    pg_json_str(j, "step", t->step);
    pg_json_str(j, "handler", t->handler);
    pg_json_str(j, "persona_id", t->persona_id);
    pg_json_str(j, "payload", t->payload);
    pg_json_str(j, "traceparent", t->traceparent);
    cJSON_AddNumberToObject(j, "priority", t->priority);
    cJSON_AddNumberToObject(j, "max_attempts", t->max_attempts);
    cJSON_AddNumberToObject(j, "timeout_ms", (double)t->timeout_ms);
    cJSON_AddNumberToObject(j, "run_at", (double)t->run_at);
  }
  deps = cJSON_AddArrayToObject(o, "deps");
  for (i = 0; i < b->ndeps; i++) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(deps, j);
    if (b->deps[i].task_id)
      cJSON_AddStringToObject(j, "task_id", b->deps[i].task_id);
    if (b->deps[i].depends_on)
      cJSON_AddStringToObject(j, "depends_on", b->deps[i].depends_on);
  }
  return o;
}

static int pg_check_batch(const ain_store_batch_t *b, ain_err_t *err) {
  size_t i;
  if (!b || (b->ntasks && !b->tasks) || (b->ndeps && !b->deps))
    return ain_err_field(err, AIN_EINVAL, "batch", "empty or malformed batch");
  for (i = 0; i < b->ntasks; i++)
    if (!b->tasks[i].id[0] || !b->tasks[i].type)
      return ain_err_field(err, AIN_EINVAL, "tasks", "task %zu lacks an id or a type", i);
  return 0;
}

/* Prints o (consumed) into an owned parameter string. */
static int pg_json_param(cJSON *o, char **out, ain_err_t *err) {
  *out = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!*out)
    return ain_err_set(err, AIN_ENOMEM, "out of memory building a batch");
  return 0;
}

/* The common case, a batch of successes that spawn nothing, as parallel arrays: the server
 * unnests them instead of lexing JSON (ain_finish_ok). 1 when planned so; 0 when the batch needs
 * the general path (or memory ran out: the general path reports it). */
static int pg_plan_finish_ok(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  size_t i, n = req->u.finish.nitems;
  for (i = 0; i < n; i++) {
    const ain_finish_item_t *it = &req->u.finish.items[i];
    if (it->kind != AIN_FINISH_SUCCEEDED || it->spawn || !it->task_id)
      return 0;
  }
  ain__pg_array_t ids = {0}, vers = {0}, results = {0}, details = {0};
  for (i = 0; i < n; i++) {
    ain_finish_item_t *it = &req->u.finish.items[i];
    ain__pg_array_text(&ids, it->task_id);
    ain__pg_array_i64(&vers, it->state_version);
    ain__pg_array_text(&results, it->result);
    ain__pg_array_text(&details, it->detail);
  }
  char *a[4] = {ain__pg_array_take(&ids), ain__pg_array_take(&vers),
                ain__pg_array_take(&results), ain__pg_array_take(&details)};
  if (!a[0] || !a[1] || !a[2] || !a[3]) {
    for (i = 0; i < 4; i++)
      free(a[i]);
    return 0;
  }
  for (i = 0; i < n; i++) {
    req->u.finish.items[i].status = AIN_ECONFLICT; /* until the server says otherwise */
    req->u.finish.items[i].new_version = 0;
  }
  ain__pg_cmd_t *c = pg_cmd(plan, AIN__PG_FINISH_OK);
  c->params[0] = pg_actor(req);
  c->params[1] = pg_i64(now);
  for (i = 0; i < 4; i++)
    c->params[2 + i] = a[i];
  return 1;
}

static int pg_plan_finish(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  if (pg_plan_finish_ok(req, plan, now))
    return 0;
  cJSON *arr = cJSON_CreateArray();
  ain__pg_cmd_t *c;
  size_t i;
  int rc;
  if (!arr)
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  for (i = 0; i < req->u.finish.nitems; i++) {
    ain_finish_item_t *it = &req->u.finish.items[i];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, j);
    if (!it->task_id) {
      cJSON_Delete(arr);
      return ain_err_field(&req->err, AIN_EINVAL, "task_id", "finish item %zu has no task_id", i);
    }
    if (it->spawn && (rc = pg_check_batch(it->spawn, &req->err)) < 0) {
      cJSON_Delete(arr);
      return rc;
    }
    cJSON_AddStringToObject(j, "id", it->task_id);
    cJSON_AddNumberToObject(j, "ver", (double)it->state_version);
    cJSON_AddNumberToObject(j, "kind", (double)it->kind);
    pg_json_str(j, "result", it->result);
    pg_json_str(j, "error", it->error);
    cJSON_AddNumberToObject(j, "retry_at", (double)it->retry_at);
    pg_json_str(j, "detail", it->detail);
    if (it->spawn)
      cJSON_AddItemToObject(j, "spawn", pg_batch_json(it->spawn));
    it->status = AIN_ECONFLICT; /* until the server says otherwise */
    it->new_version = 0;
  }
  c = pg_cmd(plan, AIN__PG_FINISH);
  c->params[0] = pg_actor(req);
  c->params[1] = pg_i64(now);
  return pg_json_param(arr, &c->params[2], &req->err);
}

static int pg_plan_extend(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now) {
  cJSON *arr = cJSON_CreateArray();
  ain__pg_cmd_t *c;
  size_t i;
  if (!arr)
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  for (i = 0; i < req->u.extend.nitems; i++) {
    ain_extend_item_t *it = &req->u.extend.items[i];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, j);
    if (!it->task_id) {
      cJSON_Delete(arr);
      return ain_err_field(&req->err, AIN_EINVAL, "task_id", "extend item %zu has no task_id", i);
    }
    cJSON_AddStringToObject(j, "id", it->task_id);
    cJSON_AddNumberToObject(j, "ver", (double)it->state_version);
    cJSON_AddNumberToObject(j, "lease_until", (double)it->lease_until);
    it->status = AIN_ECONFLICT;
    it->new_version = 0;
  }
  c = pg_cmd(plan, req->u.extend.check_only ? AIN__PG_LEASE_CHECK : AIN__PG_EXTEND);
  c->params[0] = pg_i64(now);
  return pg_json_param(arr, &c->params[1], &req->err);
}

int ain__pg_plan(ain__pg_t *p, ain_store_req_t *req, ain__pg_plan_t *plan) {
  int64_t now = req->now ? req->now : ain_now_ms();
  ain__pg_cmd_t *c;
  const char *id;
  int rc;

  switch (req->op) {
  case AIN_STORE_ENQUEUE:
    if ((rc = pg_check_batch(req->u.enqueue.batch, &req->err)) < 0)
      return rc;
    c = pg_cmd(plan, AIN__PG_ENQUEUE);
    c->params[0] = pg_actor(req);
    c->params[1] = pg_i64(now);
    return pg_json_param(pg_batch_json(req->u.enqueue.batch), &c->params[2], &req->err);
  case AIN_STORE_CLAIM:
    if (req->u.claim.max <= 0 || !req->u.claim.owner)
      return ain_err_field(&req->err, AIN_EINVAL, "max", "claim needs an owner and max > 0");
    c = pg_cmd(plan, AIN__PG_CLAIM);
    c->params[0] = pg_actor(req);
    c->params[1] = pg_i64(now);
    c->params[2] = ain_strdup(req->u.claim.owner);
    c->params[3] = pg_i64(req->u.claim.max);
    c->params[4] = pg_i64(req->u.claim.lease_ms);
    return 0;
  case AIN_STORE_FINISH:
    return pg_plan_finish(req, plan, now);
  case AIN_STORE_EXTEND:
    return pg_plan_extend(req, plan, now);
  case AIN_STORE_REAP:
    c = pg_cmd(plan, AIN__PG_REAP);
    c->params[0] = pg_actor(req);
    c->params[1] = pg_i64(now);
    return 0;
  case AIN_STORE_CANCEL:
    if (!req->u.cancel.task_id && !req->u.cancel.dag_id)
      return ain_err_field(&req->err, AIN_EINVAL, "task_id", "cancel needs a task or a dag id");
    c = pg_cmd(plan, AIN__PG_CANCEL);
    c->params[0] = pg_actor(req);
    c->params[1] = pg_i64(now);
    c->params[2] = ain_strdup(req->u.cancel.task_id);
    c->params[3] = req->u.cancel.task_id ? NULL : ain_strdup(req->u.cancel.dag_id);
    c->params[4] = ain_strdup(req->u.cancel.reason);
    return 0;
  case AIN_STORE_GET_TASK:
    if (!req->u.get_task.id)
      return ain_err_field(&req->err, AIN_EINVAL, "id", "no task id");
    pg_cmd(plan, AIN__PG_GET_TASK)->params[0] = ain_strdup(req->u.get_task.id);
    return 0;
  case AIN_STORE_GET_DAG:
    if (!req->u.get_dag.id)
      return ain_err_field(&req->err, AIN_EINVAL, "id", "no dag id");
    pg_cmd(plan, AIN__PG_GET_DAG)->params[0] = ain_strdup(req->u.get_dag.id);
    pg_cmd(plan, AIN__PG_DAG_TASKS)->params[0] = ain_strdup(req->u.get_dag.id);
    pg_cmd(plan, AIN__PG_DAG_EDGES)->params[0] = ain_strdup(req->u.get_dag.id);
    return 0;
  case AIN_STORE_AUDIT:
    if (req->u.audit.tail == 1) {
      c = pg_cmd(plan, AIN__PG_AUDIT_TAIL);
      c->params[0] = pg_i64(req->u.audit.after_id);
      c->params[1] = pg_i64(req->u.audit.upto_id);
      c->params[2] = pg_i64(req->u.audit.limit > 0 ? req->u.audit.limit : 1000);
      c->params[3] = pg_id_array(req->u.audit.also_ids, req->u.audit.nalso);
      return 0;
    }
    if (req->u.audit.tail) {
      pg_cmd(plan, AIN__PG_AUDIT_NEWEST);
      return 0;
    }
    if (req->u.audit.handler) {
      c = pg_cmd(plan, AIN__PG_AUDIT_DECISIONS);
      c->params[0] = ain_strdup(req->u.audit.handler);
      c->params[1] = pg_i64(req->u.audit.since);
      c->params[2] = pg_i64(req->u.audit.limit > 0 ? req->u.audit.limit : 1000);
      return 0;
    }
    if (req->u.audit.operator_rows) {
      pg_cmd(plan, AIN__PG_AUDIT_OPERATOR)->params[0] =
          pg_i64(req->u.audit.limit > 0 ? req->u.audit.limit : 100);
      return 0;
    }
    id = req->u.audit.task_id ? req->u.audit.task_id : req->u.audit.dag_id;
    if (!id)
      return ain_err_field(&req->err, AIN_EINVAL, "task_id", "audit needs a task or a dag id");
    pg_cmd(plan, req->u.audit.task_id ? AIN__PG_TASK_EXISTS : AIN__PG_DAG_EXISTS)->params[0] =
        ain_strdup(id);
    pg_cmd(plan, req->u.audit.task_id ? AIN__PG_AUDIT_TASK : AIN__PG_AUDIT_DAG)->params[0] =
        ain_strdup(id);
    return 0;
  case AIN_STORE_STATS:
    pg_cmd(plan, req->u.stats.open_only ? AIN__PG_OPEN_WORK : AIN__PG_STATS);
    return 0;
  case AIN_STORE_LIST_TASKS:
    if (req->u.list.status >= AIN_TASK_STATUS_COUNT)
      return ain_err_field(&req->err, AIN_EINVAL, "status", "unknown task status %d",
                           req->u.list.status);
    c = pg_cmd(plan, AIN__PG_LIST);
    c->params[0] =
        req->u.list.status >= 0 ? ain_strdup(pg_task_status[req->u.list.status]) : NULL;
    c->params[1] = ain_strdup(req->u.list.dag_id);
    c->params[2] = pg_i64(req->u.list.limit > 0 ? req->u.list.limit : 100);
    c->params[3] = ain_strdup(req->u.list.type);
    c->params[4] = req->u.list.after_id ? pg_i64(req->u.list.after_created_at) : NULL;
    c->params[5] = ain_strdup(req->u.list.after_id);
    return 0;
  case AIN_STORE_KV_GET:
  case AIN_STORE_KV_PUT:
  case AIN_STORE_KV_DELETE:
    return ain__pg_plan_kv(req, plan, now);
  case AIN_STORE_VEC_PUT:
  case AIN_STORE_VEC_LOAD:
    return ain__pg_plan_vec(req, plan, now);
  case AIN_STORE_SOURCE_PUT:
  case AIN_STORE_SOURCE_LIST:
    return ain__pg_plan_source(req, plan, now);
  case AIN_STORE_TIER_LIST:
  case AIN_STORE_TIER_MARK:
    return ain__pg_plan_tier(req, plan, now);
  case AIN_STORE_PUBLISH_SESSION:
    return ain__pg_plan_session(req, plan, now);
  case AIN_STORE_GRANTS:
    return ain__pg_plan_grants(req, plan, now);
  case AIN_STORE_POSTS:
    return ain__pg_plan_posts(req, plan, now);
  case AIN_STORE_NODE_BEAT:
  case AIN_STORE_NODES:
  case AIN_STORE_ARCHIVE:
    return ain__pg_plan_nodes(req, plan, now);
  case AIN_STORE_SCRIPT_PUT:
  case AIN_STORE_SCRIPT_GET:
  case AIN_STORE_SCRIPT_LIST:
  case AIN_STORE_SCRIPT_PIN:
    return ain__pg_plan_scripts(req, plan, now);
  case AIN_STORE_ARTIFACT_PUT:
  case AIN_STORE_ARTIFACT_GET:
    return ain__pg_plan_media(req, plan, now);
  case AIN_STORE_PLAN_COMMIT:
  case AIN_STORE_PLANNED_LIST:
  case AIN_STORE_TRENDS_LIST:
    return ain__pg_plan_plan(req, plan, now);
  case AIN_STORE_VIDEO_JUDGED:
  case AIN_STORE_REVIEW_LIST:
  case AIN_STORE_REVIEW_DECIDE:
  case AIN_STORE_RECEIPT_PUT:
  case AIN_STORE_SETTING:
    return ain__pg_plan_review(req, plan, now);
  case AIN_STORE_PURGE:
    return ain__pg_plan_purge(req, plan, now);
  case AIN_STORE_WEDGE:
    return ain__pg_plan_wedge(req, plan, now);
  case AIN_STORE_RETRY:
    return ain__pg_plan_retry(req, plan, now);
  case AIN_STORE_METRICS:
  case AIN_STORE_PUBLISH_GUARD:
    return ain__pg_plan_metrics(req, plan, now);
  case AIN_STORE_LIST_DAGS:
    return ain__pg_plan_list_dags(req, plan);
  default:
    (void)p;
    return ain_err_set(&req->err, AIN_EINVAL, "operation %d not supported by postgres",
                       (int)req->op);
  }
}

void ain__pg_plan_free(ain__pg_plan_t *plan) {
  int i, j;
  for (i = 0; i < plan->ncmds; i++)
    for (j = 0; j < AIN__PG_MAX_PARAMS; j++) {
      free(plan->cmds[i].params[j]);
      plan->cmds[i].params[j] = NULL;
    }
  for (i = 0; i < AIN__PG_MAX_CMDS; i++) {
    if (plan->res[i])
      PQclear(plan->res[i]);
    plan->res[i] = NULL;
  }
}

/* ---- reading rows ---------------------------------------------------------------------------- */

static char *pg_str(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : ain_strdup(PQgetvalue(r, row, col));
}

static int64_t pg_int(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void pg_id(char dst[AIN_UUID_LEN + 1], const PGresult *r, int row, int col) {
  snprintf(dst, AIN_UUID_LEN + 1, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static void pg_read_task(const PGresult *r, int row, ain_task_t *t) {
  int st;
  memset(t, 0, sizeof(*t));
  pg_id(t->id, r, row, 0);
  pg_id(t->dag_id, r, row, 1);
  t->type = pg_str(r, row, 2);
  t->step = pg_str(r, row, 3);
  t->handler = pg_str(r, row, 4);
  t->persona_id = pg_str(r, row, 5);
  t->payload = pg_str(r, row, 6);
  t->result = pg_str(r, row, 7);
  t->last_error = pg_str(r, row, 8);
  t->traceparent = pg_str(r, row, 9);
  t->lease_owner = pg_str(r, row, 10);
  st = pg_status_index(pg_task_status, AIN_TASK_STATUS_COUNT, PQgetvalue(r, row, 11));
  t->status = st < 0 ? AIN_TASK_PENDING : (ain_task_status_t)st;
  t->priority = (int)pg_int(r, row, 12);
  t->attempts = (int)pg_int(r, row, 13);
  t->max_attempts = (int)pg_int(r, row, 14);
  t->deps_pending = (int)pg_int(r, row, 15);
  t->timeout_ms = pg_int(r, row, 16);
  t->run_at = pg_int(r, row, 17);
  t->lease_until = pg_int(r, row, 18);
  t->state_version = pg_int(r, row, 19);
  t->created_at = pg_int(r, row, 20);
  t->updated_at = pg_int(r, row, 21);
  if (PQnfields(r) > TASK_NCOLS)
    t->deps_result = pg_str(r, row, TASK_NCOLS);
}

/* All rows of r as tasks (caller-owned array, NULL when empty). */
static int pg_read_tasks(const PGresult *r, ain_task_t **out, size_t *n, ain_err_t *err) {
  int i, rows = PQntuples(r);
  *out = NULL;
  *n = 0;
  if (rows == 0)
    return 0;
  *out = calloc((size_t)rows, sizeof(ain_task_t));
  if (!*out)
    return ain_err_set(err, AIN_ENOMEM, "out of memory reading %d tasks", rows);
  for (i = 0; i < rows; i++)
    pg_read_task(r, i, &(*out)[i]);
  *n = (size_t)rows;
  return 0;
}

static int pg_parse_dag(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *d = plan->res[0], *e = plan->res[2];
  ain_dag_t *dag = &req->u.get_dag.dag;
  int i, rc;

  if (!d || PQntuples(d) == 0)
    return ain_err_field(&req->err, AIN_ENOTFOUND, "id", "dag %s not found", req->u.get_dag.id);
  ain__pg_read_dag(d, 0, dag);
  if (plan->res[1] &&
      (rc = pg_read_tasks(plan->res[1], &req->u.get_dag.tasks, &req->u.get_dag.ntasks,
                          &req->err)) < 0)
    return rc;
  if (e && PQntuples(e) > 0) {
    req->u.get_dag.deps = calloc((size_t)PQntuples(e), sizeof(ain_dep_t));
    if (!req->u.get_dag.deps)
      return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
    for (i = 0; i < PQntuples(e); i++) {
      req->u.get_dag.deps[i].task_id = pg_str(e, i, 0);
      req->u.get_dag.deps[i].depends_on = pg_str(e, i, 1);
    }
    req->u.get_dag.ndeps = (size_t)PQntuples(e);
  }
  return 0;
}

static int pg_parse_audit(ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *x = plan->res[0], *r = plan->res[1];
  int i, rows;
  if (req->u.audit.operator_rows || req->u.audit.handler || req->u.audit.tail) {
    r = x; /* one statement, no existence check */
  } else if ((!x || PQntuples(x) == 0) && (!r || PQntuples(r) == 0)) {
    /* not found only without the row and without any audit: a purged task or DAG keeps its
     * audit rows (store/purge.h) */
    if (req->u.audit.task_id)
      return ain_err_field(&req->err, AIN_ENOTFOUND, "task_id", "task %s not found",
                           req->u.audit.task_id);
    return ain_err_field(&req->err, AIN_ENOTFOUND, "dag_id", "dag %s not found",
                         req->u.audit.dag_id);
  }
  rows = r ? PQntuples(r) : 0;
  if (rows == 0)
    return 0;
  req->u.audit.rows = calloc((size_t)rows, sizeof(ain_audit_t));
  if (!req->u.audit.rows)
    return ain_err_set(&req->err, AIN_ENOMEM, "out of memory");
  for (i = 0; i < rows; i++) {
    ain_audit_t *a = &req->u.audit.rows[i];
    a->id = pg_int(r, i, 0);
    a->task_id = pg_str(r, i, 1);
    a->dag_id = pg_str(r, i, 2);
    a->actor = pg_str(r, i, 3);
    a->from_status = pg_str(r, i, 4);
    a->to_status = pg_str(r, i, 5);
    a->detail = pg_str(r, i, 6);
    a->state_version = pg_int(r, i, 7);
    a->ts = pg_int(r, i, 8);
    a->task_type = req->u.audit.tail ? pg_str(r, i, 9) : NULL;
  }
  req->u.audit.nrows = (size_t)rows;
  return 0;
}

static void pg_parse_stats(ain_store_req_t *req, const PGresult *r) {
  ain_store_stats_t *s = &req->u.stats.stats;
  int i, k;
  memset(s, 0, sizeof(*s));
  for (i = 0; r && i < PQntuples(r); i++) {
    const char *kind = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
    int64_t v = pg_int(r, i, 2);
    if (kind[0] == 't' && (k = pg_status_index(pg_task_status, AIN_TASK_STATUS_COUNT, name)) >= 0)
      s->tasks[k] = v;
    else if (kind[0] == 'd' &&
             (k = pg_status_index(pg_dag_status, AIN_DAG_STATUS_COUNT, name)) >= 0)
      s->dags[k] = v;
    else if (kind[0] == 'n')
      s->next_run_at = v;
  }
}

int ain__pg_parse(ain__pg_t *p, ain_store_req_t *req, ain__pg_plan_t *plan) {
  const PGresult *r = plan->res[0];
  int i, st;
  (void)p;

  switch (req->op) {
  case AIN_STORE_ENQUEUE:
    return 0;
  case AIN_STORE_CLAIM:
    return pg_read_tasks(r, &req->u.claim.tasks, &req->u.claim.ntasks, &req->err);
  case AIN_STORE_FINISH:
    for (i = 0; r && i < PQntuples(r); i++) {
      int64_t idx = pg_int(r, i, 0);
      ain_finish_item_t *it;
      if (idx < 0 || (size_t)idx >= req->u.finish.nitems)
        continue;
      it = &req->u.finish.items[idx];
      it->status = (int)pg_int(r, i, 1);
      st = pg_status_index(pg_task_status, AIN_TASK_STATUS_COUNT,
                           PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2));
      it->new_status = st < 0 ? AIN_TASK_PENDING : (ain_task_status_t)st;
      it->new_version = pg_int(r, i, 3);
    }
    return 0;
  case AIN_STORE_EXTEND:
    for (i = 0; r && i < PQntuples(r); i++) {
      int64_t idx = pg_int(r, i, 0);
      if (idx < 0 || (size_t)idx >= req->u.extend.nitems)
        continue;
      req->u.extend.items[idx].status = 0;
      req->u.extend.items[idx].new_version = pg_int(r, i, 1);
    }
    return 0;
  case AIN_STORE_REAP:
    req->u.reap.reclaimed = r && PQntuples(r) ? (int)pg_int(r, 0, 0) : 0;
    req->u.reap.dead = r && PQntuples(r) ? (int)pg_int(r, 0, 1) : 0;
    return 0;
  case AIN_STORE_CANCEL:
    req->u.cancel.cancelled = r && PQntuples(r) ? (int)pg_int(r, 0, 0) : 0;
    return 0;
  case AIN_STORE_GET_TASK:
    if (!r || PQntuples(r) == 0)
      return ain_err_field(&req->err, AIN_ENOTFOUND, "id", "task %s not found",
                           req->u.get_task.id);
    pg_read_task(r, 0, &req->u.get_task.task);
    return 0;
  case AIN_STORE_GET_DAG:
    return pg_parse_dag(req, plan);
  case AIN_STORE_AUDIT:
    return pg_parse_audit(req, plan);
  case AIN_STORE_STATS:
    pg_parse_stats(req, r);
    return 0;
  case AIN_STORE_LIST_TASKS:
    return pg_read_tasks(r, &req->u.list.tasks, &req->u.list.ntasks, &req->err);
  case AIN_STORE_KV_GET:
  case AIN_STORE_KV_PUT:
  case AIN_STORE_KV_DELETE:
    return ain__pg_parse_kv(req, plan);
  case AIN_STORE_VEC_PUT:
  case AIN_STORE_VEC_LOAD:
    return ain__pg_parse_vec(req, plan);
  case AIN_STORE_SOURCE_PUT:
  case AIN_STORE_SOURCE_LIST:
    return ain__pg_parse_source(req, plan);
  case AIN_STORE_TIER_LIST:
  case AIN_STORE_TIER_MARK:
    return ain__pg_parse_tier(req, plan);
  case AIN_STORE_PUBLISH_SESSION:
    return ain__pg_parse_session(req, plan);
  case AIN_STORE_GRANTS:
    return ain__pg_parse_grants(req, plan);
  case AIN_STORE_POSTS:
    return ain__pg_parse_posts(req, plan);
  case AIN_STORE_NODE_BEAT:
  case AIN_STORE_NODES:
  case AIN_STORE_ARCHIVE:
    return ain__pg_parse_nodes(req, plan);
  case AIN_STORE_SCRIPT_PUT:
  case AIN_STORE_SCRIPT_GET:
  case AIN_STORE_SCRIPT_LIST:
  case AIN_STORE_SCRIPT_PIN:
    return ain__pg_parse_scripts(req, plan);
  case AIN_STORE_ARTIFACT_PUT:
  case AIN_STORE_ARTIFACT_GET:
    return ain__pg_parse_media(req, plan);
  case AIN_STORE_PLAN_COMMIT:
  case AIN_STORE_PLANNED_LIST:
  case AIN_STORE_TRENDS_LIST:
    return ain__pg_parse_plan(req, plan);
  case AIN_STORE_VIDEO_JUDGED:
  case AIN_STORE_REVIEW_LIST:
  case AIN_STORE_REVIEW_DECIDE:
  case AIN_STORE_RECEIPT_PUT:
  case AIN_STORE_SETTING:
    return ain__pg_parse_review(req, plan);
  case AIN_STORE_PURGE:
    return ain__pg_parse_purge(req, plan);
  case AIN_STORE_WEDGE:
    return ain__pg_parse_wedge(req, plan);
  case AIN_STORE_RETRY:
    return ain__pg_parse_retry(req, plan);
  case AIN_STORE_METRICS:
  case AIN_STORE_PUBLISH_GUARD:
    return ain__pg_parse_metrics(req, plan);
  case AIN_STORE_LIST_DAGS:
    return ain__pg_parse_list_dags(req, plan);
  default:
    return ain_err_set(&req->err, AIN_EINVAL, "operation %d not supported", (int)req->op);
  }
}
