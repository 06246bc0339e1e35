-- The JSON set-wise path of ain_finish_batch (006) without its locking pass: isolates what the
-- SELECT ... FOR UPDATE pass costs from what unpacking JSON costs.
CREATE OR REPLACE FUNCTION bench_finish_json_nolock(p_actor text, p_now bigint, p_items json)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_n integer;
BEGIN
  WITH i AS MATERIALIZED (SELECT (j.o - 1)::integer AS idx, x.id, x.ver, x.result, x.detail
               FROM json_array_elements(p_items) WITH ORDINALITY AS j(doc, o)
              CROSS JOIN LATERAL json_to_record(j.doc) AS x(id text, ver bigint, kind integer,
                          result text, detail text, spawn json)
              WHERE x.kind = 0 AND (x.spawn IS NULL OR json_typeof(x.spawn) <> 'object')),
  u AS (UPDATE tasks t SET status = 'succeeded', result = coalesce(i.result, '{}'),
               lease_owner = NULL, lease_until = NULL, state_version = t.state_version + 1,
               finished_at = p_now, updated_at = p_now
          FROM i
         WHERE t.id = i.id AND t.dag_id IS NULL AND t.status = 'running'
           AND t.state_version = i.ver
           AND NOT EXISTS (SELECT 1 FROM task_deps e WHERE e.depends_on = t.id)
        RETURNING i.idx, t.id, t.state_version, i.detail),
  a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                               detail, ts)
        SELECT id, NULL, p_actor, 'running', 'succeeded', state_version, detail, p_now
          FROM u ORDER BY idx
        RETURNING 1)
  SELECT count(*) INTO v_n FROM u;
  RETURN v_n;
END $$;
