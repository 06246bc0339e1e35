-- 013: `ain task list` (GET /v1/tasks) reads tasks newest first, paged by a keyset cursor on
-- (created_at, id), ids compared as bytes (COLLATE "C", as SQLite compares them); this index is
-- that order. And ain_retry(): an operator re-drives a dead task (`ain task retry`).
CREATE INDEX tasks_list_idx ON tasks (created_at DESC, id COLLATE "C" DESC);

-- The dead task back to ready with a fresh set of attempts (its last_error kept until it runs);
-- when its DAG failed, the DAG back to running and the DAG's cancelled tasks back to pending
-- (ready when no dependency is left). Every change audited with p_actor. Same semantics as
-- engine/store/sqlite/retry.c. Refusals: AIN04 (no such task), AIN05 (not dead, DAG cancelled).
CREATE FUNCTION ain_retry(p_actor text, p_now bigint, p_task text, OUT new_version bigint,
                          OUT attempts_before integer, OUT dag_reopened integer,
                          OUT revived integer)
LANGUAGE plpgsql AS $$
DECLARE
  v_st   text;
  v_dag  text;
  v_dst  text;
  v_dver bigint;
  v_det  text;
BEGIN
  dag_reopened := 0;
  revived := 0;
  SELECT status, dag_id, attempts INTO v_st, v_dag, attempts_before
    FROM tasks WHERE id = p_task FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'task % not found', p_task USING ERRCODE = 'AIN04', COLUMN = 'task_id';
  END IF;
  IF v_st <> 'dead' THEN
    RAISE EXCEPTION 'task % is %: only a dead task can be retried', p_task, v_st
      USING ERRCODE = 'AIN05', COLUMN = 'status';
  END IF;
  IF v_dag IS NOT NULL THEN
    SELECT status INTO v_dst FROM dags WHERE id = v_dag FOR UPDATE;
    IF v_dst = 'cancelled' THEN
      RAISE EXCEPTION 'task % belongs to DAG %, which was cancelled', p_task, v_dag
        USING ERRCODE = 'AIN05', COLUMN = 'status';
    END IF;
  END IF;
  UPDATE tasks SET status = 'ready', attempts = 0, run_at = p_now, lease_owner = NULL,
         lease_until = NULL, finished_at = NULL, state_version = state_version + 1,
         updated_at = p_now
   WHERE id = p_task RETURNING state_version INTO new_version;
  INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
  VALUES (p_task, v_dag, p_actor, 'dead', 'ready', new_version,
          '{"retry":true,"attempts_before":' || attempts_before || '}', p_now);
  IF v_dst = 'failed' THEN
    v_det := '{"retry":' || to_json(p_task)::text || '}'; -- the same text SQLite writes
    UPDATE dags SET status = 'running', last_error = NULL, state_version = state_version + 1,
           updated_at = p_now
     WHERE id = v_dag RETURNING state_version INTO v_dver;
    INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail,
                           ts)
    VALUES (NULL, v_dag, p_actor, 'failed', 'running', v_dver, v_det, p_now);
    dag_reopened := 1;
    WITH o AS (SELECT id FROM tasks WHERE dag_id = v_dag AND status = 'cancelled'
                ORDER BY seq FOR UPDATE),
    u AS (UPDATE tasks t
             SET status = CASE WHEN t.deps_pending = 0 THEN 'ready' ELSE 'pending' END,
                 last_error = NULL, lease_owner = NULL, lease_until = NULL, finished_at = NULL,
                 run_at = p_now, state_version = t.state_version + 1, updated_at = p_now
            FROM o WHERE t.id = o.id
          RETURNING t.id, t.dag_id, t.status, t.state_version, t.seq),
    a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                                 detail, ts)
          SELECT id, dag_id, p_actor, 'cancelled', status, state_version, v_det, p_now
            FROM u ORDER BY seq
          RETURNING 1)
    SELECT count(*) INTO revived FROM a;
  END IF;
  PERFORM pg_notify('ain_ready', '');
END $$;
