-- 011: purge/retention (store op PURGE, engine/store/postgres/purge.c). Mirrors
-- sql/sqlite/011_purge.sql (the index) and engine/store/sqlite/purge.c (the function's steps).
-- No BEGIN/COMMIT: the runner wraps each file.

CREATE INDEX dags_finished_idx ON dags (updated_at) WHERE status <> 'running';

-- An audit detail as jsonb, NULL when it is not JSON (old rows may hold plain text).
CREATE FUNCTION ain__jsonb_or_null(p text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN p::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;

-- Deletes up to p_limit finished DAGs (succeeded, failed or cancelled, no task still open) that
-- ended before p_before, with their tasks (hot and archived, and the root task that expanded into
-- the DAG), edges, checkpoints, videos with their reports, reviews and receipts; and up to p_limit
-- finished tasks outside any DAG. Audit rows stay (ids, versions, actors, times); their detail
-- keeps only the policy versions. One audit row records the purge (actor, counts). Returns the
-- counts, the DAG ids and the object-store keys that no remaining row references (the caller
-- deletes those objects). p_dry: the same answer, nothing changed.
CREATE FUNCTION ain_purge(p_before bigint, p_limit integer, p_actor text, p_now bigint,
                          p_dry boolean)
RETURNS TABLE (o_dags integer, o_tasks integer, o_artifacts integer, o_videos integer,
               o_dag_ids text, o_keys text)
LANGUAGE plpgsql AS $$
DECLARE
  v_dags   text[];
  v_tasks  text[];
  v_videos text[];
  v_keys   text[];
  v_orph   text[];
  v_na     integer;
BEGIN
  SELECT coalesce(array_agg(s.id ORDER BY s.updated_at, s.id), '{}') INTO v_dags FROM (
    SELECT d.id, d.updated_at FROM dags d
     WHERE d.status IN ('succeeded', 'failed', 'cancelled') AND d.updated_at < p_before
       AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.dag_id = d.id
                          AND t.status IN ('pending', 'ready', 'running', 'waiting'))
     ORDER BY d.updated_at, d.id LIMIT p_limit FOR UPDATE OF d SKIP LOCKED) s;
  SELECT coalesce(array_agg(DISTINCT x.id), '{}') INTO v_tasks FROM (
    SELECT id FROM tasks WHERE dag_id = ANY (v_dags)
    UNION SELECT id FROM tasks_archive WHERE dag_id = ANY (v_dags)
    UNION SELECT root_task_id FROM dags WHERE id = ANY (v_dags) AND root_task_id IS NOT NULL
    UNION (SELECT t.id FROM tasks t
            WHERE (t.dag_id IS NULL OR t.dag_id = '') AND t.finished_at < p_before
              AND t.status IN ('succeeded', 'dead', 'cancelled')
              AND NOT EXISTS (SELECT 1 FROM dags d WHERE d.root_task_id = t.id)
            ORDER BY t.finished_at LIMIT p_limit)
    UNION (SELECT t.id FROM tasks_archive t
            WHERE (t.dag_id IS NULL OR t.dag_id = '') AND t.finished_at < p_before
              AND NOT EXISTS (SELECT 1 FROM dags d WHERE d.root_task_id = t.id)
            ORDER BY t.finished_at LIMIT p_limit)) x;
  SELECT coalesce(array_agg(id), '{}') INTO v_videos FROM videos WHERE dag_id = ANY (v_dags);
  SELECT count(*) INTO v_na FROM artifacts WHERE dag_id = ANY (v_dags);
  SELECT coalesce(array_agg(DISTINCT k.k), '{}') INTO v_keys FROM (
    SELECT jsonb_array_elements_text(ain__jsonb_or_null(a.keys)) AS k FROM artifacts a
     WHERE a.dag_id = ANY (v_dags) AND jsonb_typeof(ain__jsonb_or_null(a.keys)) = 'array'
    UNION SELECT video_key FROM videos WHERE id = ANY (v_videos) AND video_key IS NOT NULL
    UNION SELECT thumbnail_key FROM videos WHERE id = ANY (v_videos)
                                             AND thumbnail_key IS NOT NULL) k;
  -- content-addressed: another DAG may hold the same object
  SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO v_orph FROM unnest(v_keys) AS k
   WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE NOT (a.dag_id = ANY (v_dags))
                        AND ain__jsonb_or_null(a.keys) ? k)
     AND NOT EXISTS (SELECT 1 FROM videos v WHERE NOT (v.id = ANY (v_videos))
                        AND (v.video_key = k OR v.thumbnail_key = k));
  IF NOT p_dry THEN
    UPDATE audit_log SET detail = CASE
        WHEN ain__jsonb_or_null(detail) ? 'policies'
        THEN jsonb_build_object('policies', ain__jsonb_or_null(detail) -> 'policies')::text END
     WHERE (dag_id = ANY (v_dags) OR task_id = ANY (v_tasks)) AND detail IS NOT NULL;
    DELETE FROM task_deps WHERE task_id = ANY (v_tasks) OR depends_on = ANY (v_tasks);
    DELETE FROM task_deps_archive WHERE task_id = ANY (v_tasks) OR depends_on = ANY (v_tasks);
    DELETE FROM tasks WHERE id = ANY (v_tasks);
    DELETE FROM tasks_archive WHERE id = ANY (v_tasks);
    DELETE FROM artifacts WHERE dag_id = ANY (v_dags);
    DELETE FROM publish_receipts WHERE video_id = ANY (v_videos);
    DELETE FROM reviews WHERE video_id = ANY (v_videos);
    DELETE FROM safety_reports WHERE video_id = ANY (v_videos);
    DELETE FROM videos WHERE id = ANY (v_videos);
    DELETE FROM dags WHERE id = ANY (v_dags);
    IF cardinality(v_dags) + cardinality(v_tasks) > 0 THEN
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (NULL, NULL, p_actor, NULL, 'purged', 0,
              jsonb_build_object('purge', jsonb_build_object(
                'older_than', p_before, 'dags', cardinality(v_dags),
                'tasks', cardinality(v_tasks), 'artifacts', v_na,
                'videos', cardinality(v_videos), 'objects', cardinality(v_orph)))::text,
              p_now);
    END IF;
  END IF;
  RETURN QUERY SELECT cardinality(v_dags), cardinality(v_tasks), v_na, cardinality(v_videos),
                      to_json(v_dags)::text, to_json(v_orph)::text;
END $$;
