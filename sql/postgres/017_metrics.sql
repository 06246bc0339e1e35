-- 017: a /metrics scrape counts the open tasks (and the dead letters) by type and status; this
-- partial index holds only those rows (see the SQLite migration).
CREATE INDEX tasks_status_type_idx ON tasks (status, type)
  WHERE status IN ('pending', 'ready', 'running', 'waiting', 'dead');

-- Writes one setting as ain_review_op('setting') does (audited when the value changes, parked
-- publish steps woken when publishers.paused is released), with p_why merged into the detail.
CREATE FUNCTION ain__setting_put(p_actor text, p_now bigint, p_key text, p_value text, p_why jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_old text;
  v_ver bigint;
  v_det text := (p_why || jsonb_build_object('key', p_key, 'value', p_value))::text;
BEGIN
  SELECT value INTO v_old FROM settings WHERE key = p_key FOR UPDATE;
  INSERT INTO settings (key, value, state_version, updated_at) VALUES (p_key, p_value, 1, p_now)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value,
         state_version = settings.state_version + 1, updated_at = excluded.updated_at
   WHERE settings.value IS DISTINCT FROM excluded.value
  RETURNING state_version INTO v_ver;
  IF v_ver IS NOT NULL THEN
    INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail,
                           ts)
    VALUES (NULL, NULL, p_actor, 'setting:' || p_key || '=' || coalesce(v_old, ''),
            'setting:' || p_key || '=' || p_value, v_ver, v_det, p_now);
  END IF;
  IF p_key = 'publishers.paused' AND p_value <> 'true' THEN
    PERFORM ain__wake(p_actor, p_now, NULL, v_det);
  END IF;
  RETURN v_ver IS NOT NULL;
END $$;

-- The review-backlog guard (store/metrics.h, the same as store/sqlite/metrics.c): pause
-- publishing when the backlog reaches p_pause_at unless an operator holds it open, resume it
-- below p_resume_at only when the backlog paused it, re-arm after an operator's resume. The
-- publishers.paused row is locked first, so guards of many nodes and an operator's pause
-- serialise on it. action: 0 none, 1 paused, 2 resumed, 3 re-armed.
CREATE FUNCTION ain_publish_guard(p_actor text, p_now bigint, p_pause_at bigint,
                                  p_resume_at bigint)
RETURNS TABLE (backlog bigint, action integer, paused boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_paused boolean;
  v_by text;
  v_why jsonb;
BEGIN
  INSERT INTO settings (key, value, state_version, updated_at)
  VALUES ('publishers.paused', 'false', 1, p_now) ON CONFLICT (key) DO NOTHING;
  SELECT value = 'true' INTO v_paused FROM settings WHERE key = 'publishers.paused' FOR UPDATE;
  SELECT coalesce((SELECT value FROM settings WHERE key = 'publishers.paused_by'), '')
    INTO v_by;
  SELECT count(*) INTO backlog FROM reviews WHERE status = 'pending';
  v_why := jsonb_build_object('review_backlog', backlog, 'pause_at', p_pause_at,
                              'resume_at', p_resume_at);
  action := 0;
  IF backlog >= p_pause_at AND NOT v_paused AND v_by <> 'operator' THEN
    PERFORM ain__setting_put(p_actor, p_now, 'publishers.paused_by', 'backlog', v_why);
    PERFORM ain__setting_put(p_actor, p_now, 'publishers.paused', 'true', v_why);
    action := 1;
    v_paused := true;
  ELSIF backlog < p_resume_at AND v_paused AND v_by = 'backlog' THEN
    PERFORM ain__setting_put(p_actor, p_now, 'publishers.paused_by', '', v_why);
    PERFORM ain__setting_put(p_actor, p_now, 'publishers.paused', 'false', v_why);
    action := 2;
    v_paused := false;
  ELSIF backlog < p_resume_at AND NOT v_paused AND v_by = 'operator' THEN
    PERFORM ain__setting_put(p_actor, p_now, 'publishers.paused_by', '', v_why);
    action := 3;
  END IF;
  paused := v_paused;
  RETURN NEXT;
END $$;
