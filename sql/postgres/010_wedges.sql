-- 010: wedges (see sql/sqlite/010_wedges.sql for what they are). WEDGE is one call of
-- ain_wedge(): record the wedge, move the task if the fence holds (back to ready at once, or dead
-- as a poison pill with EPOISON after p_args.poison_after wedges, or dead when it has no attempts
-- left), and mark the wedged node dead with the leases of its other running tasks fenced.

CREATE TABLE task_wedges (
  id            bigserial PRIMARY KEY,
  task_id       text NOT NULL,
  state_version bigint NOT NULL,
  owner         text,
  elapsed_ms    bigint NOT NULL DEFAULT 0,
  error         text,
  at            bigint NOT NULL
);
CREATE INDEX task_wedges_task ON task_wedges (task_id);

-- a = {"task_id", "state_version", "owner", "error", "elapsed_ms", "poison_after", "node_id"}.
CREATE FUNCTION ain_wedge(p_actor text, p_now bigint, a json, OUT wedges integer,
                          OUT applied integer, OUT new_status text, OUT new_version bigint,
                          OUT fenced integer)
LANGUAGE plpgsql AS $$
DECLARE
  v_id     text := a->>'task_id';
  v_ver    bigint := (a->>'state_version')::bigint;
  v_err    text := a->>'error';
  v_poison integer := (a->>'poison_after')::integer;
  v_node   text := a->>'node_id';
  v_t      record;
  v_det    text;
  v_dead   text;
BEGIN
  SELECT status, state_version, attempts, max_attempts, dag_id INTO v_t
    FROM tasks WHERE id = v_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'task % not found', v_id USING ERRCODE = 'AIN04', COLUMN = 'task_id';
  END IF;
  INSERT INTO task_wedges (task_id, state_version, owner, elapsed_ms, error, at)
  VALUES (v_id, v_ver, a->>'owner', coalesce((a->>'elapsed_ms')::bigint, 0), v_err, p_now);
  SELECT count(*)::integer INTO wedges FROM task_wedges WHERE task_id = v_id;
  applied := 0;
  new_status := v_t.status;
  new_version := v_t.state_version;
  fenced := 0;
  v_det := json_build_object('wedges', wedges, 'owner', a->>'owner',
                             'elapsed_ms', coalesce((a->>'elapsed_ms')::bigint, 0))::text;
  IF v_t.status = 'running' AND v_t.state_version = v_ver THEN
    applied := 1;
    IF wedges >= v_poison OR v_t.attempts >= v_t.max_attempts THEN
      v_dead := CASE WHEN wedges >= v_poison
                     THEN format('EPOISON: wedged a shard %s times, dead-lettered as a poison pill '
                                 '(last: %s)', wedges, v_err)
                     ELSE v_err END;
      new_version := ain__kill(p_actor, p_now, v_id, v_dead, ain__detail(v_det, 'error', v_dead));
      new_status := 'dead';
    ELSE
      UPDATE tasks SET status = 'ready', run_at = p_now, last_error = v_err, lease_owner = NULL,
             lease_until = NULL, state_version = state_version + 1, updated_at = p_now
       WHERE id = v_id RETURNING state_version INTO new_version;
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (v_id, v_t.dag_id, p_actor, 'running', 'ready', new_version,
              ain__detail(v_det, 'error', v_err), p_now);
      new_status := 'ready';
      PERFORM pg_notify('ain_ready', '');
    END IF;
  END IF;
  IF v_node IS NOT NULL THEN
    UPDATE nodes SET state = 'dead', state_version = state_version + 1, updated_at = p_now
     WHERE id = v_node AND state <> 'dead';
    WITH x AS (UPDATE tasks t SET lease_until = p_now - 1, state_version = t.state_version + 1,
                      updated_at = p_now
                WHERE t.status = 'running' AND left(t.lease_owner, length(v_node) + 1) = v_node || '/'
               RETURNING 1)
    SELECT count(*)::integer INTO fenced FROM x;
  END IF;
END $$;
