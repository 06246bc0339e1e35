-- 004: step checkpoints (artifacts), the trends the planner has seen, and the planned
-- (persona, trend) pairs that make sure a trend is never planned twice for a persona.
-- Mirrors sql/sqlite/004_media.sql. No BEGIN/COMMIT: the runner wraps each file.

CREATE TABLE artifacts (
  dag_id     text NOT NULL,
  step       text NOT NULL,
  task_id    text NOT NULL,
  keys       text NOT NULL, -- JSON array of object-store keys
  result     text NOT NULL, -- JSON object
  created_at bigint NOT NULL,
  PRIMARY KEY (dag_id, step)
);

CREATE TABLE trends (
  trend_key     text PRIMARY KEY,
  record        text,
  first_seen_at bigint NOT NULL,
  last_seen_at  bigint NOT NULL
);

CREATE TABLE planned (
  persona_id text NOT NULL,
  trend_key  text NOT NULL,
  task_id    text NOT NULL,
  planned_at bigint NOT NULL,
  PRIMARY KEY (persona_id, trend_key)
);

-- PLAN_COMMIT: items = [{"persona_id", "trend_key", "trend" (text, may be null), "task": {...}}]
-- with tasks in ain_enqueue's shape. Pairs planned before are skipped; the new pairs' tasks are
-- enqueued in this same transaction. Returns the 0-based indexes of the items newly planned.
CREATE FUNCTION ain_plan_commit(p_actor text, p_now bigint, p_items json)
RETURNS TABLE (o_idx integer)
LANGUAGE plpgsql AS $$
DECLARE
  v_item  json;
  v_i     integer := 0;
  v_tasks json[] := '{}';
  v_n     integer;
BEGIN
  FOR v_item IN SELECT j FROM json_array_elements(p_items) AS j LOOP
    INSERT INTO planned (persona_id, trend_key, task_id, planned_at)
    VALUES (v_item->>'persona_id', v_item->>'trend_key', v_item->'task'->>'id', p_now)
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
      INSERT INTO trends (trend_key, record, first_seen_at, last_seen_at)
      VALUES (v_item->>'trend_key', v_item->>'trend', p_now, p_now)
      ON CONFLICT (trend_key) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at,
        record = coalesce(EXCLUDED.record, trends.record);
      v_tasks := v_tasks || (v_item->'task');
      o_idx := v_i;
      RETURN NEXT;
    END IF;
    v_i := v_i + 1;
  END LOOP;
  IF array_length(v_tasks, 1) > 0 THEN
    PERFORM ain_enqueue(p_actor, p_now, json_build_object('tasks', array_to_json(v_tasks)));
  END IF;
END $$;
