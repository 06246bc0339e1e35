-- 006: nodes (one row per engine process: heartbeats, dead-node detection with fenced reclaim of
-- their leases) and the archive that finished tasks move to, so that the hot tasks table (and
-- its indexes and dead tuples) holds only live work: claiming with a million finished tasks in
-- history costs what it costs with none. Mirrors sql/sqlite/006_nodes.sql.

CREATE TABLE nodes (
  id            text PRIMARY KEY,      -- "node_id/pid": the prefix of its lease owners
  node          text NOT NULL,         -- the configured node_id
  host          text,
  pid           bigint NOT NULL DEFAULT 0,
  version       text,
  shards        integer NOT NULL DEFAULT 0,
  state         text NOT NULL,         -- alive | dead | stopped
  started_at    bigint NOT NULL,
  last_beat     bigint NOT NULL,
  state_version bigint NOT NULL DEFAULT 0,
  updated_at    bigint NOT NULL
);
CREATE INDEX nodes_alive_idx ON nodes (last_beat) WHERE state = 'alive';

-- Same columns in the same order as tasks (reads UNION ALL the two); seq is a plain bigint here.
CREATE TABLE tasks_archive (LIKE tasks INCLUDING DEFAULTS);
ALTER TABLE tasks_archive ADD PRIMARY KEY (id);
CREATE INDEX tasks_archive_dag_idx ON tasks_archive (dag_id);
CREATE TABLE task_deps_archive (LIKE task_deps);
ALTER TABLE task_deps_archive ADD PRIMARY KEY (depends_on, task_id);
CREATE INDEX task_deps_archive_task_idx ON task_deps_archive (task_id);

-- Archive candidates: finished tasks by finish time.
CREATE INDEX tasks_finished_idx ON tasks (finished_at) WHERE finished_at IS NOT NULL;

-- Plain jobs have no DAG: every claim and finish of one wrote a NULL into tasks_dag_idx and every
-- audit row one into audit_log_dag_idx. Lookups are always "dag_id = $1", which the partial
-- indexes serve just the same.
DROP INDEX tasks_dag_idx;
CREATE INDEX tasks_dag_idx ON tasks (dag_id) WHERE dag_id IS NOT NULL;
DROP INDEX audit_log_dag_idx;
CREATE INDEX audit_log_dag_idx ON audit_log (dag_id) WHERE dag_id IS NOT NULL;

-- NODE_BEAT: upsert this node's row (alive, or stopped when p_stopping), declare alive nodes
-- silent since before p_now - p_timeout dead, and expire the leases of the running tasks they
-- own with a state_version bump: the bump is the fence (a paused node that wakes up finds its
-- finish and extend refused), the expiry hands the tasks to the reaper, which retries them (or
-- dead-letters them past max_attempts) with the usual audit rows.
-- p_self = {"id", "node", "host", "pid", "version", "shards"}.
CREATE FUNCTION ain_node_beat(p_actor text, p_now bigint, p_self json, p_timeout bigint,
                              p_stopping boolean, OUT dead_nodes integer, OUT expired integer)
LANGUAGE plpgsql AS $$
DECLARE
  p_id      text := p_self->>'id';
  p_node    text := coalesce(p_self->>'node', p_self->>'id');
  p_host    text := p_self->>'host';
  p_pid     bigint := coalesce((p_self->>'pid')::bigint, 0);
  p_version text := p_self->>'version';
  p_shards  integer := coalesce((p_self->>'shards')::integer, 0);
BEGIN
  INSERT INTO nodes AS n (id, node, host, pid, version, shards, state, started_at, last_beat,
                          state_version, updated_at)
  VALUES (p_id, p_node, p_host, p_pid, p_version, p_shards,
          CASE WHEN p_stopping THEN 'stopped' ELSE 'alive' END, p_now, p_now, 0, p_now)
  ON CONFLICT (id) DO UPDATE
     SET host = EXCLUDED.host, version = EXCLUDED.version, shards = EXCLUDED.shards,
         state = EXCLUDED.state, last_beat = p_now, updated_at = p_now,
         state_version = n.state_version
                         + CASE WHEN n.state <> EXCLUDED.state THEN 1 ELSE 0 END;

  -- Several nodes may run this at once: the row lock serializes them and the second one sees
  -- state = 'dead' and skips the row, so each node is declared dead once.
  WITH d AS (UPDATE nodes SET state = 'dead', state_version = state_version + 1, updated_at = p_now
              WHERE state = 'alive' AND last_beat < p_now - p_timeout AND id <> p_id
             RETURNING id),
  x AS (UPDATE tasks t SET lease_until = p_now - 1, state_version = t.state_version + 1,
               updated_at = p_now
          FROM d
         WHERE t.status = 'running' AND left(t.lease_owner, length(d.id) + 1) = d.id || '/'
        RETURNING t.id)
  SELECT (SELECT count(*) FROM d)::integer, (SELECT count(*) FROM x)::integer
    INTO dead_nodes, expired;

  -- Tasks still leased by nodes that were declared dead earlier (a late claim that committed
  -- just before the verdict) are fenced too.
  WITH x AS (UPDATE tasks t SET lease_until = p_now - 1, state_version = t.state_version + 1,
                    updated_at = p_now
               FROM nodes n
              WHERE n.state = 'dead' AND t.status = 'running' AND t.lease_until >= p_now
                AND left(t.lease_owner, length(n.id) + 1) = n.id || '/'
             RETURNING t.id)
  SELECT expired + count(*)::integer INTO expired FROM x;

  -- Every beat is also a wake-up for every listener: the engine's start-up self-test of
  -- LISTEN/NOTIFY uses it, and a shard that missed a notification re-checks once per beat.
  PERFORM pg_notify('ain_ready', '');
END $$;

-- ARCHIVE: finished tasks whose DAG is finished too (or that have none), finished before
-- p_before, move with their edges to the archive, at most p_limit per call. SKIP LOCKED: a row
-- someone holds is left for the next call.
CREATE FUNCTION ain_archive(p_before bigint, p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_n integer;
BEGIN
  WITH c AS (SELECT t.id FROM tasks t LEFT JOIN dags d ON d.id = t.dag_id
              WHERE t.finished_at IS NOT NULL AND t.finished_at < p_before
                AND t.status IN ('succeeded', 'dead', 'cancelled')
                AND (d.id IS NULL OR d.status <> 'running')
              ORDER BY t.finished_at LIMIT p_limit FOR UPDATE OF t SKIP LOCKED),
  e AS (DELETE FROM task_deps x USING c WHERE x.task_id = c.id OR x.depends_on = c.id
        RETURNING x.task_id, x.depends_on),
  ea AS (INSERT INTO task_deps_archive SELECT DISTINCT task_id, depends_on FROM e
         ON CONFLICT DO NOTHING RETURNING 1),
  -- explicit columns: a later migration may add columns to tasks
  m AS (DELETE FROM tasks t USING c WHERE t.id = c.id
        RETURNING t.id, t.dag_id, t.type, t.step, t.handler, t.persona_id, t.payload, t.result,
                  t.last_error, t.traceparent, t.status, t.priority, t.attempts, t.max_attempts,
                  t.deps_pending, t.timeout_ms, t.run_at, t.lease_owner, t.lease_until,
                  t.state_version, t.created_at, t.updated_at, t.finished_at, t.seq),
  i AS (INSERT INTO tasks_archive (id, dag_id, type, step, handler, persona_id, payload, result,
                                   last_error, traceparent, status, priority, attempts,
                                   max_attempts, deps_pending, timeout_ms, run_at, lease_owner,
                                   lease_until, state_version, created_at, updated_at,
                                   finished_at, seq)
        SELECT * FROM m RETURNING 1)
  SELECT count(*) + 0 * (SELECT count(*) FROM ea) INTO v_n FROM i;
  RETURN v_n;
END $$;

-- FINISH, set-wise where it can be: successes without spawned work of tasks that are not part of
-- a DAG and that nothing depends on (the plain job-queue case) are committed by one UPDATE and one
-- INSERT of audit rows for the whole batch, fenced exactly like ain_finish (status running and
-- the claimed state_version; under READ COMMITTED the UPDATE re-checks both on the row version it
-- waited for). Rows are locked in id order. Every other item (DAG steps, releases of dependents,
-- retries, failures, spawns, parks) goes to ain_finish, whatever its current definition, with
-- results mapped back to their positions in p_items.
CREATE FUNCTION ain_finish_batch(p_actor text, p_now bigint, p_items json)
RETURNS TABLE (o_idx integer, o_status integer, o_new_status text, o_new_version bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_ids  text[];
  v_idx  integer[];
  v_ver  bigint[];
  v_rest json;
  v_map  integer[];
BEGIN
  -- Candidate ids first, as an array: "id = ANY(array)" is a primary-key lookup, where a join
  -- against the unpacked JSON let the planner pick a scan of the whole table.
  SELECT array_agg(x.id) INTO v_ids
    FROM json_to_recordset(p_items) AS x(id text, kind integer, spawn json)
   WHERE x.kind = 0 AND (x.spawn IS NULL OR json_typeof(x.spawn) <> 'object');
  IF v_ids IS NOT NULL THEN
    -- MATERIALIZED: unpack the JSON once (inlined, the join rescanned it for every row).
    WITH i AS MATERIALIZED (SELECT (j.o - 1)::integer AS idx, x.id, x.ver, x.result, x.detail
                 FROM json_array_elements(p_items) WITH ORDINALITY AS j(doc, o)
                CROSS JOIN LATERAL json_to_record(j.doc) AS x(id text, ver bigint, kind integer,
                            result text, detail text, spawn json)
                WHERE x.kind = 0 AND (x.spawn IS NULL OR json_typeof(x.spawn) <> 'object')),
    l AS (SELECT t.id FROM tasks t
           WHERE t.id = ANY (v_ids) AND t.dag_id IS NULL AND t.status = 'running'
             AND NOT EXISTS (SELECT 1 FROM task_deps e WHERE e.depends_on = t.id)
           ORDER BY t.id FOR UPDATE OF t),
    u AS (UPDATE tasks t SET status = 'succeeded', result = coalesce(i.result, '{}'),
                 lease_owner = NULL, lease_until = NULL, state_version = t.state_version + 1,
                 finished_at = p_now, updated_at = p_now
            FROM l, i
           WHERE t.id = ANY (v_ids) AND t.id = l.id AND i.id = t.id AND t.status = 'running'
             AND t.state_version = i.ver
          RETURNING i.idx, t.id, t.state_version, i.detail),
    a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                                 detail, ts)
          SELECT id, NULL, p_actor, 'running', 'succeeded', state_version, detail, p_now
            FROM u ORDER BY idx
          RETURNING 1)
    SELECT array_agg(u.idx), array_agg(u.state_version) INTO v_idx, v_ver FROM u;
  END IF;
  v_idx := coalesce(v_idx, '{}');
  v_ver := coalesce(v_ver, '{}');

  RETURN QUERY SELECT x.i, 0, 'succeeded'::text, x.v FROM unnest(v_idx, v_ver) AS x(i, v);

  IF cardinality(v_idx) < json_array_length(p_items) THEN
    SELECT json_agg(j.doc ORDER BY j.o), array_agg((j.o - 1)::integer ORDER BY j.o)
      INTO v_rest, v_map
      FROM json_array_elements(p_items) WITH ORDINALITY AS j(doc, o)
     WHERE NOT ((j.o - 1)::integer = ANY (v_idx));
    RETURN QUERY SELECT v_map[f.o_idx + 1], f.o_status, f.o_new_status, f.o_new_version
                   FROM ain_finish(p_actor, p_now, v_rest) AS f;
  END IF;
END $$;

-- The ids a CLAIM takes: the first p_limit ready tasks in claim order, locked, skipping rows
-- another claim holds. Planned on its own with bitmap scans and sorts off, so it always walks
-- tasks_ready_idx in order and stops after p_limit rows. Inline in the claim statement, a stale
-- estimate right after a bulk enqueue ("12 ready rows" for 100,000) made the planner bitmap-scan
-- and sort the whole ready backlog on every claim: O(backlog) per claim, 15 ms for 20,000.
-- ROWS 10: the caller joins the ids to tasks by primary key (the default estimate of 1,000 made
-- that a hash join over a scan of the whole table).
CREATE FUNCTION ain_claim_ids(p_now bigint, p_limit integer) RETURNS SETOF text
LANGUAGE sql ROWS 10 SET enable_bitmapscan = off SET enable_sort = off AS $$
  SELECT id FROM tasks WHERE status = 'ready' AND run_at <= p_now
   ORDER BY priority DESC, run_at, id LIMIT p_limit FOR UPDATE SKIP LOCKED
$$;
