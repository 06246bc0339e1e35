-- 009: FINISH of plain successes from parallel arrays, without a separate locking pass.
--
-- ain_finish_batch (006) receives its items as one JSON document and, for the set-wise part,
-- first locks the rows (SELECT ... ORDER BY id FOR UPDATE) and then updates them. Measured in
-- isolation on this project's 2-core box (bench/pgfinish/run.sh, batches of 64), server time per
-- task: JSON + separate lock 16.3 µs, JSON without the lock 12.8 µs, this function 11.2 µs.
-- The locking pass only fixed an order in which to take row locks, against deadlocks with other
-- multi-row writers; the UPDATE takes the same locks itself, in the order it joins the items
-- (a nested loop over the unnested arrays), and the only other writers of a running plain task
-- (reaper, node fencing, cancel) touch tasks whose lease this shard no longer holds. Postgres
-- detects a deadlock anyway, aborts one side, and the step's lease expires and it is retried.
--
-- The engine (engine/store/postgres/ops.c) uses this for a batch where every item is a success
-- that spawns nothing, which is every batch of a plain job queue. The same fencing as ever:
-- status running and the claimed state_version, re-checked by the UPDATE on the row version it
-- waited for. Items the set-wise UPDATE did not take (DAG steps, tasks something depends on,
-- fenced ones) go to ain_finish as JSON, with results mapped back to their positions.
CREATE FUNCTION ain_finish_ok(p_actor text, p_now bigint, p_ids text[], p_vers bigint[],
                              p_results text[], p_details text[])
RETURNS TABLE (o_idx integer, o_status integer, o_new_status text, o_new_version bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_idx  integer[];
  v_ver  bigint[];
  v_rest json;
  v_map  integer[];
BEGIN
  IF cardinality(p_ids) IS DISTINCT FROM cardinality(p_vers)
     OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_results)
     OR cardinality(p_ids) IS DISTINCT FROM cardinality(p_details) THEN
    RAISE EXCEPTION 'finish arrays differ in length' USING ERRCODE = 'AIN01', COLUMN = 'items';
  END IF;
  WITH u AS (UPDATE tasks t SET status = 'succeeded', result = coalesce(i.result, '{}'),
                    lease_owner = NULL, lease_until = NULL, state_version = t.state_version + 1,
                    finished_at = p_now, updated_at = p_now
               FROM unnest(p_ids, p_vers, p_results, p_details) WITH ORDINALITY
                    AS i(id, ver, result, detail, o)
              WHERE t.id = i.id AND t.dag_id IS NULL AND t.status = 'running'
                AND t.state_version = i.ver
                AND NOT EXISTS (SELECT 1 FROM task_deps e WHERE e.depends_on = t.id)
             RETURNING (i.o - 1)::integer AS idx, t.id, t.state_version, i.detail),
  a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                               detail, ts)
        SELECT id, NULL, p_actor, 'running', 'succeeded', state_version, detail, p_now
          FROM u ORDER BY idx
        RETURNING 1)
  SELECT array_agg(u.idx), array_agg(u.state_version) INTO v_idx, v_ver FROM u;
  v_idx := coalesce(v_idx, '{}');
  v_ver := coalesce(v_ver, '{}');

  RETURN QUERY SELECT x.i, 0, 'succeeded'::text, x.v FROM unnest(v_idx, v_ver) AS x(i, v);

  IF cardinality(v_idx) < coalesce(cardinality(p_ids), 0) THEN
    SELECT json_agg(json_build_object('id', i.id, 'ver', i.ver, 'kind', 0, 'result', i.result,
                                      'detail', i.detail) ORDER BY i.o),
           array_agg((i.o - 1)::integer ORDER BY i.o)
      INTO v_rest, v_map
      FROM unnest(p_ids, p_vers, p_results, p_details) WITH ORDINALITY
           AS i(id, ver, result, detail, o)
     WHERE NOT ((i.o - 1)::integer = ANY (v_idx));
    RETURN QUERY SELECT v_map[f.o_idx + 1], f.o_status, f.o_new_status, f.o_new_version
                   FROM ain_finish(p_actor, p_now, v_rest) AS f;
  END IF;
END $$;
