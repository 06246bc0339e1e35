-- AIN schema v1 for PostgreSQL: the durable queue (tasks, task_deps), DAGs, the audit log and
-- settings, plus the server-side functions that make each multi-row store operation one
-- statement (one round trip, one implicit transaction per request in libpq pipeline mode).
--
-- Applied by the engine's migration runner (engine/store/postgres/migrate.c) inside one
-- transaction holding pg_advisory_xact_lock, so this file must not contain BEGIN/COMMIT.
-- Times are bigint milliseconds since the epoch, passed in by the engine (never now()), so that
-- tests can move the clock. JSON columns are text, not jsonb, so that payloads and results come
-- back byte for byte as they were stored.
--
-- Errors raised for the engine use SQLSTATEs of class "AI": AIN01 = AIN_EINVAL,
-- AIN04 = AIN_ENOTFOUND, AIN06 = AIN_EEXIST (the C side maps them back).

CREATE TABLE dags (
  id            text PRIMARY KEY,
  root_task_id  text,
  persona_id    text,
  status        text NOT NULL,
  steps_total   integer NOT NULL DEFAULT 0,
  steps_done    integer NOT NULL DEFAULT 0,
  last_error    text,
  state_version bigint NOT NULL,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL
);

CREATE TABLE tasks (
  id            text PRIMARY KEY,
  dag_id        text,
  type          text NOT NULL,
  step          text,
  handler       text,
  persona_id    text,
  payload       text NOT NULL,
  result        text,
  last_error    text,
  traceparent   text,
  status        text NOT NULL,
  priority      integer NOT NULL DEFAULT 0,
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL DEFAULT 3,
  deps_pending  integer NOT NULL DEFAULT 0,
  timeout_ms    bigint NOT NULL DEFAULT 0,
  run_at        bigint NOT NULL,
  lease_owner   text,
  lease_until   bigint,
  state_version bigint NOT NULL,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  finished_at   bigint,
  -- creation order (tasks of one batch share created_at); what GET_DAG and LIST sort by
  seq           bigint GENERATED ALWAYS AS IDENTITY
);
-- The claim query walks this partial index in order and stops after LIMIT rows.
CREATE INDEX tasks_ready_idx ON tasks (priority DESC, run_at, id) WHERE status = 'ready';
CREATE INDEX tasks_lease_idx ON tasks (lease_until) WHERE status = 'running';
CREATE INDEX tasks_dag_idx ON tasks (dag_id);

CREATE TABLE task_deps (
  task_id    text NOT NULL,
  depends_on text NOT NULL,
  PRIMARY KEY (depends_on, task_id)
);
CREATE INDEX task_deps_task_idx ON task_deps (task_id);

CREATE TABLE audit_log (
  id            bigserial PRIMARY KEY,
  task_id       text,
  dag_id        text,
  actor         text,
  from_status   text,
  to_status     text NOT NULL,
  state_version bigint NOT NULL,
  detail        text,
  ts            bigint NOT NULL
);
CREATE INDEX audit_log_task_idx ON audit_log (task_id);
CREATE INDEX audit_log_dag_idx ON audit_log (dag_id);

CREATE TABLE settings (
  key           text PRIMARY KEY,
  value         text,
  state_version bigint NOT NULL DEFAULT 0,
  updated_at    bigint NOT NULL
);

-- '{"<key>":<val>}' added to an audit detail. Compact text when there is no detail yet.
CREATE FUNCTION ain__detail(p_detail text, p_key text, p_val text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_detail IS NULL OR p_detail = '' THEN
    RETURN '{' || to_json(p_key)::text || ':' || coalesce(to_json(p_val)::text, 'null') || '}';
  END IF;
  BEGIN
    IF jsonb_typeof(p_detail::jsonb) = 'object' THEN
      RETURN (p_detail::jsonb || jsonb_build_object(p_key, p_val))::text;
    END IF;
  EXCEPTION WHEN others THEN
    NULL; -- not JSON: keep it as a string below
  END;
  RETURN jsonb_build_object('detail', p_detail, p_key, p_val)::text;
END $$;

-- ENQUEUE: b = {"dag": {...} | null, "tasks": [{...}], "deps": [{"task_id", "depends_on"}]}.
-- Validates everything before writing, so a refused batch writes nothing. Returns the number of
-- tasks stored; NOTIFY ain_ready when one of them is claimable.
CREATE FUNCTION ain_enqueue(p_actor text, p_now bigint, b json) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_dag    json := b->'dag';
  v_tasks  json := coalesce(b->'tasks', '[]'::json);
  v_deps   json := coalesce(b->'deps', '[]'::json);
  v_dag_id text;
  v_bad    text;
  v_n      integer;
  v_ready  integer;
BEGIN
  IF v_dag IS NOT NULL AND json_typeof(v_dag) = 'object' THEN
    v_dag_id := v_dag->>'id';
    IF EXISTS (SELECT 1 FROM dags WHERE id = v_dag_id) THEN
      RAISE EXCEPTION 'dag % already exists', v_dag_id USING ERRCODE = 'AIN06', COLUMN = 'dag.id';
    END IF;
  END IF;

  SELECT x.id INTO v_bad FROM json_to_recordset(v_tasks) AS x(id text)
   GROUP BY x.id HAVING count(*) > 1 LIMIT 1;
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'task % appears twice in the batch', v_bad USING ERRCODE = 'AIN06', COLUMN = 'id';
  END IF;
  SELECT t.id INTO v_bad FROM tasks t JOIN json_to_recordset(v_tasks) AS x(id text) ON t.id = x.id
   LIMIT 1;
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'task % already exists', v_bad USING ERRCODE = 'AIN06', COLUMN = 'id';
  END IF;
  -- An edge starts at a task of this batch and ends at one of this batch or one already stored.
  SELECT d.task_id || ' -> ' || d.depends_on INTO v_bad
    FROM json_to_recordset(v_deps) AS d(task_id text, depends_on text)
   WHERE d.task_id IS NULL OR d.depends_on IS NULL OR d.task_id = d.depends_on
      OR NOT EXISTS (SELECT 1 FROM json_to_recordset(v_tasks) AS x(id text) WHERE x.id = d.task_id)
      OR (NOT EXISTS (SELECT 1 FROM json_to_recordset(v_tasks) AS x(id text) WHERE x.id = d.depends_on)
          AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = d.depends_on))
   LIMIT 1;
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'dependency % names an unknown task', v_bad USING ERRCODE = 'AIN01', COLUMN = 'deps';
  END IF;

  IF v_dag_id IS NOT NULL THEN
    INSERT INTO dags (id, root_task_id, persona_id, status, steps_total, steps_done, last_error,
                      state_version, created_at, updated_at)
    VALUES (v_dag_id, nullif(v_dag->>'root_task_id', ''), v_dag->>'persona_id', 'running',
            CASE WHEN coalesce((v_dag->>'steps_total')::integer, 0) > 0
                 THEN (v_dag->>'steps_total')::integer ELSE json_array_length(v_tasks) END,
            0, NULL, 0, p_now, p_now);
  END IF;

  WITH e AS (SELECT DISTINCT d.task_id, d.depends_on
               FROM json_to_recordset(v_deps) AS d(task_id text, depends_on text)),
  -- unfinished dependencies per task: tasks of this batch are not stored yet, so they count
  n AS (SELECT e.task_id, count(*)::integer AS n FROM e LEFT JOIN tasks t ON t.id = e.depends_on
         WHERE t.id IS NULL OR t.status <> 'succeeded' GROUP BY e.task_id),
  ins AS (
    INSERT INTO tasks (id, dag_id, type, step, handler, persona_id, payload, traceparent, status,
                       priority, attempts, max_attempts, deps_pending, timeout_ms, run_at,
                       state_version, created_at, updated_at)
    SELECT x.id, coalesce(nullif(x.dag_id, ''), v_dag_id), x.type, x.step, x.handler,
           x.persona_id, coalesce(x.payload, '{}'), x.traceparent,
           CASE WHEN coalesce(n.n, 0) > 0 THEN 'pending' ELSE 'ready' END,
           coalesce(x.priority, 0), 0,
           CASE WHEN coalesce(x.max_attempts, 0) <= 0 THEN 3 ELSE x.max_attempts END,
           coalesce(n.n, 0), coalesce(x.timeout_ms, 0),
           CASE WHEN coalesce(x.run_at, 0) = 0 THEN p_now ELSE x.run_at END,
           0, p_now, p_now
      FROM json_array_elements(v_tasks) WITH ORDINALITY AS j(doc, o)
     CROSS JOIN LATERAL json_to_record(j.doc) AS x(id text, dag_id text, type text, step text,
                 handler text, persona_id text, payload text, traceparent text, priority integer,
                 max_attempts integer, timeout_ms bigint, run_at bigint)
      LEFT JOIN n ON n.task_id = x.id
     ORDER BY j.o
    RETURNING id, dag_id, status, seq),
  edges AS (INSERT INTO task_deps (task_id, depends_on) SELECT task_id, depends_on FROM e
            RETURNING 1),
  aud AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                                 detail, ts)
          SELECT id, dag_id, p_actor, NULL, status, 0, NULL, p_now FROM ins ORDER BY seq
          RETURNING to_status)
  SELECT count(*), count(*) FILTER (WHERE to_status = 'ready') INTO v_n, v_ready FROM aud;

  IF v_ready > 0 THEN
    PERFORM pg_notify('ain_ready', '');
  END IF;
  RETURN v_n;
END $$;

-- Cancels every non-terminal task of a DAG (one audit row each). Returns how many.
CREATE FUNCTION ain__cancel_dag_tasks(p_actor text, p_now bigint, p_dag text, p_detail text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_n integer;
BEGIN
  WITH o AS (SELECT id, status FROM tasks
              WHERE dag_id = p_dag AND status IN ('pending', 'ready', 'running')
              ORDER BY seq FOR UPDATE),
  u AS (UPDATE tasks t SET status = 'cancelled', lease_owner = NULL, lease_until = NULL,
               state_version = t.state_version + 1, finished_at = p_now, updated_at = p_now
          FROM o WHERE t.id = o.id
        RETURNING t.id, t.dag_id, o.status AS old, t.state_version, t.seq),
  a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                               detail, ts)
        SELECT id, dag_id, p_actor, old, 'cancelled', state_version, p_detail, p_now
          FROM u ORDER BY seq
        RETURNING 1)
  SELECT count(*) INTO v_n FROM a;
  RETURN v_n;
END $$;

-- A running task failed for good: dead, and its DAG fails (last_error names the step) and
-- every other unfinished task of the DAG is cancelled. Returns the task's new state_version.
CREATE FUNCTION ain__kill(p_actor text, p_now bigint, p_id text, p_error text, p_detail text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_ver  bigint;
  v_dag  text;
  v_step text;
  v_dver bigint;
BEGIN
  UPDATE tasks SET status = 'dead', last_error = p_error, lease_owner = NULL, lease_until = NULL,
         state_version = state_version + 1, finished_at = p_now, updated_at = p_now
   WHERE id = p_id
  RETURNING state_version, dag_id, step INTO v_ver, v_dag, v_step;
  INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
  VALUES (p_id, v_dag, p_actor, 'running', 'dead', v_ver, p_detail, p_now);
  IF v_dag IS NOT NULL THEN
    UPDATE dags SET status = 'failed',
           last_error = format('step %s failed: %s', coalesce(v_step, p_id), coalesce(p_error, '')),
           state_version = state_version + 1, updated_at = p_now
     WHERE id = v_dag AND status = 'running'
    RETURNING state_version INTO v_dver;
    IF FOUND THEN
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (NULL, v_dag, p_actor, 'running', 'failed', v_dver,
              '{"step":' || coalesce(to_json(v_step)::text, 'null') || ',"error":'
                || coalesce(to_json(p_error)::text, 'null') || '}', p_now);
    END IF;
    PERFORM ain__cancel_dag_tasks(p_actor, p_now, v_dag,
                                  ain__detail(NULL, 'reason', format('dag failed at step %s', coalesce(v_step, p_id))));
  END IF;
  RETURN v_ver;
END $$;

-- A running task succeeded: result, audit, release of its dependents (NOTIFY when one became
-- ready) and its DAG's progress. Returns the task's new state_version.
CREATE FUNCTION ain__succeed(p_actor text, p_now bigint, p_id text, p_dag text, p_result text,
                             p_detail text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_ver   bigint;
  v_dver  bigint;
  v_done  integer;
  v_total integer;
  v_n     integer;
BEGIN
  UPDATE tasks SET status = 'succeeded', result = coalesce(p_result, '{}'), lease_owner = NULL,
         lease_until = NULL, state_version = state_version + 1, finished_at = p_now,
         updated_at = p_now
   WHERE id = p_id RETURNING state_version INTO v_ver;
  INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
  VALUES (p_id, p_dag, p_actor, 'running', 'succeeded', v_ver, p_detail, p_now);
  -- release dependents; the last one makes a task ready
  WITH u AS (UPDATE tasks d SET deps_pending = d.deps_pending - 1,
                    status = CASE WHEN d.deps_pending = 1 THEN 'ready' ELSE d.status END,
                    state_version = d.state_version
                                    + CASE WHEN d.deps_pending = 1 THEN 1 ELSE 0 END,
                    updated_at = p_now
               FROM task_deps e
              WHERE e.depends_on = p_id AND d.id = e.task_id AND d.status = 'pending'
             RETURNING d.id, d.dag_id, d.status, d.state_version, d.seq),
  a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                               detail, ts)
        SELECT id, dag_id, p_actor, 'pending', 'ready', state_version, NULL, p_now
          FROM u WHERE status = 'ready' ORDER BY seq
        RETURNING 1)
  SELECT count(*) INTO v_n FROM a;
  IF v_n > 0 THEN
    PERFORM pg_notify('ain_ready', '');
  END IF;
  IF p_dag IS NOT NULL THEN
    UPDATE dags SET steps_done = steps_done + 1, updated_at = p_now
     WHERE id = p_dag AND status = 'running'
    RETURNING steps_done, steps_total INTO v_done, v_total;
    IF FOUND AND v_done >= v_total THEN
      UPDATE dags SET status = 'succeeded', state_version = state_version + 1
       WHERE id = p_dag RETURNING state_version INTO v_dver;
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (NULL, p_dag, p_actor, 'running', 'succeeded', v_dver, NULL, p_now);
    END IF;
  END IF;
  RETURN v_ver;
END $$;

-- FINISH: items = [{"id", "ver", "kind", "result", "error", "retry_at", "detail", "spawn"}],
-- kind 0 succeeded, 1 retry, 2 fail, 3 release. Each item is fenced on status = 'running' and
-- its state_version; a fenced-out item reports -5 (AIN_ECONFLICT) and changes nothing. Items are
-- processed in (dag_id, id) order so that two batches touching the same DAGs lock them in the
-- same order; results come back by idx (0-based position in items).
CREATE FUNCTION ain_finish(p_actor text, p_now bigint, p_items json)
RETURNS TABLE (o_idx integer, o_status integer, o_new_status text, o_new_version bigint)
LANGUAGE plpgsql AS $$
DECLARE
  it       record;
  t        tasks%ROWTYPE;
  v_ver    bigint;
  v_notify boolean := false;
BEGIN
  FOR it IN
    SELECT (j.o - 1)::integer AS idx, x.*
      FROM json_array_elements(p_items) WITH ORDINALITY AS j(doc, o)
     CROSS JOIN LATERAL json_to_record(j.doc) AS x(id text, ver bigint, kind integer, result text,
                 error text, retry_at bigint, detail text, spawn json)
      LEFT JOIN tasks c ON c.id = x.id
     ORDER BY c.dag_id NULLS FIRST, x.id, j.o
  LOOP
    o_idx := it.idx;
    SELECT * INTO t FROM tasks WHERE id = it.id FOR UPDATE;
    IF NOT FOUND OR t.status <> 'running' OR t.state_version <> it.ver THEN
      o_status := -5;
      o_new_status := t.status;
      o_new_version := coalesce(t.state_version, 0);
      RETURN NEXT;
      CONTINUE;
    END IF;

    IF it.kind = 0 AND it.spawn IS NOT NULL AND json_typeof(it.spawn) = 'object' THEN
      -- a spawn that cannot be stored fails this item only: the subtransaction undoes the success
      BEGIN
        v_ver := ain__succeed(p_actor, p_now, t.id, t.dag_id, it.result, it.detail);
        PERFORM ain_enqueue(p_actor, p_now, it.spawn);
      EXCEPTION WHEN SQLSTATE 'AIN06' OR SQLSTATE 'AIN01' THEN
        o_status := CASE WHEN SQLSTATE = 'AIN06' THEN -6 ELSE -1 END;
        o_new_status := t.status;
        o_new_version := t.state_version;
        RETURN NEXT;
        CONTINUE;
      END;
      o_new_status := 'succeeded';
    ELSIF it.kind = 0 THEN
      v_ver := ain__succeed(p_actor, p_now, t.id, t.dag_id, it.result, it.detail);
      o_new_status := 'succeeded';
    ELSIF it.kind = 1 AND t.attempts < t.max_attempts THEN
      UPDATE tasks SET status = 'ready', last_error = it.error,
             run_at = CASE WHEN coalesce(it.retry_at, 0) = 0 THEN p_now ELSE it.retry_at END,
             lease_owner = NULL, lease_until = NULL, state_version = state_version + 1,
             updated_at = p_now
       WHERE id = t.id RETURNING state_version INTO v_ver;
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (t.id, t.dag_id, p_actor, 'running', 'ready', v_ver,
              ain__detail(it.detail, 'error', it.error), p_now);
      v_notify := true;
      o_new_status := 'ready';
    ELSIF it.kind IN (1, 2) THEN
      v_ver := ain__kill(p_actor, p_now, t.id, it.error, ain__detail(it.detail, 'error', it.error));
      o_new_status := 'dead';
    ELSIF it.kind = 3 THEN
      UPDATE tasks SET status = 'ready', attempts = greatest(attempts - 1, 0), lease_owner = NULL,
             lease_until = NULL, state_version = state_version + 1, updated_at = p_now
       WHERE id = t.id RETURNING state_version INTO v_ver;
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (t.id, t.dag_id, p_actor, 'running', 'ready', v_ver, it.detail, p_now);
      v_notify := true;
      o_new_status := 'ready';
    ELSE
      RAISE EXCEPTION 'finish item % has unknown kind %', it.idx, it.kind
        USING ERRCODE = 'AIN01', COLUMN = 'kind';
    END IF;
    o_status := 0;
    o_new_version := v_ver;
    RETURN NEXT;
  END LOOP;
  IF v_notify THEN
    PERFORM pg_notify('ain_ready', '');
  END IF;
END $$;

-- REAP: expired leases go back to ready (attempts left) or die (and fail their DAG).
-- SKIP LOCKED: a task whose row is locked is being finished or extended right now.
CREATE FUNCTION ain_reap(p_actor text, p_now bigint, OUT reclaimed integer, OUT dead integer)
LANGUAGE plpgsql AS $$
DECLARE
  t       record;
  v_ver   bigint;
  v_err   text;
  v_det   text;
BEGIN
  reclaimed := 0;
  dead := 0;
  FOR t IN SELECT id, dag_id, attempts, max_attempts, lease_owner FROM tasks
            WHERE status = 'running' AND lease_until < p_now
            ORDER BY dag_id NULLS FIRST, id FOR UPDATE SKIP LOCKED
  LOOP
    -- an earlier iteration may have cancelled this task along with its failed DAG
    PERFORM 1 FROM tasks WHERE id = t.id AND status = 'running';
    CONTINUE WHEN NOT FOUND;
    v_err := 'ELEASE: lease expired (owner ' || coalesce(t.lease_owner, '?') || ')';
    v_det := '{"error":"lease expired","owner":' || coalesce(to_json(t.lease_owner)::text, 'null') || '}';
    IF t.attempts < t.max_attempts THEN
      UPDATE tasks SET status = 'ready', run_at = p_now, last_error = v_err, lease_owner = NULL,
             lease_until = NULL, state_version = state_version + 1, updated_at = p_now
       WHERE id = t.id RETURNING state_version INTO v_ver;
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (t.id, t.dag_id, p_actor, 'running', 'ready', v_ver, v_det, p_now);
      reclaimed := reclaimed + 1;
    ELSE
      PERFORM ain__kill(p_actor, p_now, t.id, v_err, v_det);
      dead := dead + 1;
    END IF;
  END LOOP;
  IF reclaimed > 0 THEN
    PERFORM pg_notify('ain_ready', '');
  END IF;
END $$;

-- CANCEL a task (p_task) or a DAG and its unfinished tasks (p_dag). Returns tasks cancelled.
CREATE FUNCTION ain_cancel(p_actor text, p_now bigint, p_task text, p_dag text, p_reason text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_det  text := CASE WHEN p_reason IS NULL THEN NULL ELSE ain__detail(NULL, 'reason', p_reason) END;
  v_st   text;
  v_dag  text;
  v_ver  bigint;
BEGIN
  IF p_task IS NOT NULL THEN
    SELECT status, dag_id INTO v_st, v_dag FROM tasks WHERE id = p_task FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'task % not found', p_task USING ERRCODE = 'AIN04', COLUMN = 'task_id';
    END IF;
    IF v_st NOT IN ('pending', 'ready', 'running') THEN
      RETURN 0;
    END IF;
    UPDATE tasks SET status = 'cancelled', lease_owner = NULL, lease_until = NULL,
           state_version = state_version + 1, finished_at = p_now, updated_at = p_now
     WHERE id = p_task RETURNING state_version INTO v_ver;
    INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
    VALUES (p_task, v_dag, p_actor, v_st, 'cancelled', v_ver, v_det, p_now);
    RETURN 1;
  END IF;
  SELECT status INTO v_st FROM dags WHERE id = p_dag FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'dag % not found', p_dag USING ERRCODE = 'AIN04', COLUMN = 'dag_id';
  END IF;
  IF v_st = 'running' THEN
    UPDATE dags SET status = 'cancelled', last_error = coalesce(p_reason, last_error),
           state_version = state_version + 1, updated_at = p_now
     WHERE id = p_dag RETURNING state_version INTO v_ver;
    INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
    VALUES (NULL, p_dag, p_actor, 'running', 'cancelled', v_ver, v_det, p_now);
  END IF;
  RETURN ain__cancel_dag_tasks(p_actor, p_now, p_dag, v_det);
END $$;
