-- 005: videos, safety_reports, reviews, publish_receipts (mirrors sql/sqlite/005_review.sql), the
-- view task_unpark, finish kind 4 (PARK) in ain_finish, 'waiting' tasks in cancellation, and
-- ain_review_op(): every review/publish store op as one call with JSON in and JSON out
-- (engine/store/postgres/review.c). Refusals come back as {"error": {code, field, msg}} (codes are
-- AIN_E* numbers) so that a conflict is an answer, not an aborted pipeline.

CREATE TABLE videos (
  id            text PRIMARY KEY,
  dag_id        text,
  task_id       text,
  persona_id    text,
  status        text NOT NULL,
  decision      text NOT NULL,
  confidence    double precision NOT NULL,
  video_key     text,
  thumbnail_key text,
  state_version bigint NOT NULL DEFAULT 0,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL
);
CREATE INDEX videos_dag_idx ON videos (dag_id);

CREATE TABLE safety_reports (
  video_id   text PRIMARY KEY REFERENCES videos(id),
  decision   text NOT NULL,
  confidence double precision NOT NULL,
  checks     text NOT NULL,
  report     text,
  created_at bigint NOT NULL
);

CREATE TABLE reviews (
  video_id      text PRIMARY KEY REFERENCES videos(id),
  task_id       text,
  dag_id        text,
  status        text NOT NULL DEFAULT 'pending',
  reviewer      text,
  reason        text,
  state_version bigint NOT NULL DEFAULT 0,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  decided_at    bigint
);
CREATE INDEX reviews_status_idx ON reviews (status, created_at);
CREATE INDEX reviews_task_idx ON reviews (task_id);

CREATE TABLE publish_receipts (
  id              bigserial PRIMARY KEY,
  video_id        text NOT NULL REFERENCES videos(id),
  channel         text NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  location        text NOT NULL,
  task_id         text,
  state_version   bigint NOT NULL DEFAULT 0,
  created_at      bigint NOT NULL,
  UNIQUE (video_id, channel)
);

-- What lets a parking task go straight back to ready (see the SQLite migration).
CREATE VIEW task_unpark AS
  SELECT task_id FROM reviews WHERE status <> 'pending' AND task_id IS NOT NULL
  UNION ALL
  SELECT id FROM tasks WHERE handler = 'publish' AND status = 'running'
     AND NOT EXISTS (SELECT 1 FROM settings WHERE key = 'publishers.paused' AND value = 'true');

-- FINISH as in 001, plus kind 4 = PARK: status waiting (or ready when task_unpark lists the task),
-- the attempt given back.
CREATE OR REPLACE FUNCTION ain_finish(p_actor text, p_now bigint, p_items json)
RETURNS TABLE (o_idx integer, o_status integer, o_new_status text, o_new_version bigint)
LANGUAGE plpgsql AS $$
DECLARE
  it       record;
  t        tasks%ROWTYPE;
  v_ver    bigint;
  v_to     text;
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
    ELSIF it.kind IN (3, 4) THEN
      v_to := CASE WHEN it.kind = 4 AND t.id NOT IN (SELECT task_id FROM task_unpark
                                                      WHERE task_id IS NOT NULL)
                   THEN 'waiting' ELSE 'ready' END;
      UPDATE tasks SET status = v_to, attempts = greatest(attempts - 1, 0), lease_owner = NULL,
             lease_until = NULL, state_version = state_version + 1, updated_at = p_now
       WHERE id = t.id RETURNING state_version INTO v_ver;
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (t.id, t.dag_id, p_actor, 'running', v_to, v_ver, it.detail, p_now);
      v_notify := v_notify OR v_to = 'ready';
      o_new_status := v_to;
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

-- A parked (waiting) task is unfinished: cancelling its DAG cancels it too.
CREATE OR REPLACE FUNCTION ain__cancel_dag_tasks(p_actor text, p_now bigint, p_dag text,
                                                 p_detail text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_n integer;
BEGIN
  WITH o AS (SELECT id, status FROM tasks
              WHERE dag_id = p_dag AND status IN ('pending', 'ready', 'running', 'waiting')
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

-- One row of the review queue as JSON (videos + safety_reports + reviews).
CREATE FUNCTION ain__video_row(p_id text) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object('video_id', v.id, 'dag_id', v.dag_id, 'task_id', v.task_id,
           'persona_id', v.persona_id, 'status', v.status, 'decision', v.decision,
           'confidence', v.confidence, 'checks', s.checks, 'report', s.report,
           'video_key', v.video_key, 'thumbnail_key', v.thumbnail_key,
           'state_version', v.state_version, 'created_at', v.created_at,
           'updated_at', v.updated_at, 'review_status', r.status, 'reviewer', r.reviewer,
           'reason', r.reason, 'review_version', r.state_version, 'decided_at', r.decided_at)
    FROM videos v LEFT JOIN safety_reports s ON s.video_id = v.id
    LEFT JOIN reviews r ON r.video_id = v.id WHERE v.id = p_id
$$;

CREATE FUNCTION ain__refuse(p_code integer, p_field text, p_msg text) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
  SELECT json_build_object('error', json_build_object('code', p_code, 'field', p_field,
                                                      'msg', p_msg))
$$;

-- Sets a video's status with its audit row (no-op when already so).
CREATE FUNCTION ain__video_status(p_actor text, p_now bigint, p_id text, p_to text, p_det text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_from text;
  v_dag  text;
  v_ver  bigint;
BEGIN
  SELECT status, dag_id INTO v_from, v_dag FROM videos WHERE id = p_id FOR UPDATE;
  IF NOT FOUND OR v_from = p_to THEN
    RETURN;
  END IF;
  UPDATE videos SET status = p_to, state_version = state_version + 1, updated_at = p_now
   WHERE id = p_id RETURNING state_version INTO v_ver;
  INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
  VALUES (NULL, v_dag, p_actor, 'video:' || v_from, 'video:' || p_to, v_ver, p_det, p_now);
END $$;

-- Waiting tasks selected by p_task (one) or, when NULL, every parked publish task -> ready.
CREATE FUNCTION ain__wake(p_actor text, p_now bigint, p_task text, p_det text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_n integer;
BEGIN
  WITH u AS (UPDATE tasks SET status = 'ready', state_version = state_version + 1,
                    updated_at = p_now
              WHERE status = 'waiting'
                AND ((p_task IS NOT NULL AND id = p_task) OR (p_task IS NULL AND handler = 'publish'))
             RETURNING id, dag_id, state_version),
  a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                               detail, ts)
        SELECT id, dag_id, p_actor, 'waiting', 'ready', state_version, p_det, p_now FROM u
        RETURNING 1)
  SELECT count(*) INTO v_n FROM a;
  IF v_n > 0 THEN
    PERFORM pg_notify('ain_ready', '');
  END IF;
  RETURN v_n;
END $$;

CREATE FUNCTION ain_review_op(p_op text, p_actor text, p_now bigint, a json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_id     text := a->>'video_id';
  v_status text;
  v_det    text;
  v_ver    bigint;
  v_task   text;
  v_dag    text;
  v_found  record;
  v_woke   integer := 0;
  v_old    text;
  v_rows   json;
  v_rid    bigint;
BEGIN
  IF p_op = 'judged' THEN
    v_status := CASE a->>'decision' WHEN 'pass' THEN 'passed' WHEN 'review' THEN 'in_review'
                ELSE 'rejected' END;
    INSERT INTO videos (id, dag_id, task_id, persona_id, status, decision, confidence, video_key,
                        thumbnail_key, state_version, created_at, updated_at)
    VALUES (v_id, nullif(a->>'dag_id', ''), nullif(a->>'task_id', ''),
            nullif(a->>'persona_id', ''), v_status, a->>'decision',
            (a->>'confidence')::double precision, a->>'video_key', a->>'thumbnail_key', 0, p_now,
            p_now)
    ON CONFLICT (id) DO NOTHING;
    IF FOUND THEN
      v_det := json_build_object('video_id', v_id, 'decision', a->>'decision', 'confidence',
                                 to_char((a->>'confidence')::numeric, 'FM0.0000'))::text;
      INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                             detail, ts)
      VALUES (NULL, nullif(a->>'dag_id', ''), p_actor, NULL, 'video:' || v_status, 0, v_det, p_now);
      INSERT INTO safety_reports (video_id, decision, confidence, checks, report, created_at)
      VALUES (v_id, a->>'decision', (a->>'confidence')::double precision, a->>'checks',
              a->>'report', p_now);
      IF a->>'decision' = 'review' THEN
        INSERT INTO reviews (video_id, task_id, dag_id, status, state_version, created_at,
                             updated_at)
        VALUES (v_id, a->>'task_id', nullif(a->>'dag_id', ''), 'pending', 0, p_now, p_now);
        INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                               detail, ts)
        VALUES (NULL, nullif(a->>'dag_id', ''), p_actor, NULL, 'review:pending', 0, v_det, p_now);
      END IF;
    END IF;
    RETURN json_build_object('row', ain__video_row(v_id));

  ELSIF p_op = 'list' THEN
    SELECT coalesce(json_agg(ain__video_row(x.id) ORDER BY x.created_at, x.id), '[]'::json)
      INTO v_rows
      FROM (SELECT v.id, v.created_at FROM videos v LEFT JOIN reviews r ON r.video_id = v.id
             WHERE (a->>'status' IS NULL OR r.status = a->>'status')
               AND (v_id IS NULL OR v.id = v_id)
             ORDER BY v.created_at, v.id
             LIMIT CASE WHEN coalesce((a->>'limit')::integer, 0) > 0
                        THEN (a->>'limit')::integer END) x;
    IF v_id IS NOT NULL AND json_array_length(v_rows) = 0 THEN
      RETURN ain__refuse(-4, 'video_id', 'video ' || v_id || ' not found');
    END IF;
    RETURN json_build_object('rows', v_rows);

  ELSIF p_op = 'decide' THEN
    v_status := CASE WHEN (a->>'approve')::boolean THEN 'approved' ELSE 'rejected' END;
    UPDATE reviews SET status = v_status, reviewer = a->>'reviewer', reason = a->>'reason',
           state_version = state_version + 1, updated_at = p_now, decided_at = p_now
     WHERE video_id = v_id AND state_version = (a->>'expect_version')::bigint
       AND status = 'pending'
    RETURNING state_version, task_id, dag_id INTO v_ver, v_task, v_dag;
    IF NOT FOUND THEN
      SELECT status, state_version, reviewer INTO v_found FROM reviews WHERE video_id = v_id;
      IF NOT FOUND THEN
        RETURN ain__refuse(-4, 'video_id', 'video ' || v_id || ' has no review');
      END IF;
      RETURN json_build_object('error', json_build_object('code', -5, 'field', 'expect_version',
               'msg', format('review of video %s: expected version %s, found version %s (%s%s)',
                             v_id, a->>'expect_version', v_found.state_version, v_found.status,
                             coalesce(' by ' || v_found.reviewer, ''))),
               'row', ain__video_row(v_id));
    END IF;
    v_det := json_strip_nulls(json_build_object('video_id', v_id, 'reviewer', a->>'reviewer',
                                                'reason', a->>'reason'))::text;
    INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
    VALUES (NULL, v_dag, p_actor, 'review:pending', 'review:' || v_status, v_ver, v_det, p_now);
    PERFORM ain__video_status(p_actor, p_now, v_id, v_status, v_det);
    IF v_task IS NOT NULL THEN
      v_woke := ain__wake(p_actor, p_now, v_task, v_det);
    END IF;
    RETURN json_build_object('row', ain__video_row(v_id), 'woke', v_woke);

  ELSIF p_op = 'receipt' THEN
    IF NOT coalesce((a->>'lookup_only')::boolean, false) THEN
      INSERT INTO publish_receipts (video_id, channel, idempotency_key, location, task_id,
                                    state_version, created_at)
      VALUES (v_id, a->>'channel', a->>'idempotency_key', a->>'location', a->>'task_id', 0, p_now)
      ON CONFLICT DO NOTHING RETURNING id INTO v_rid;
      IF v_rid IS NOT NULL THEN
        v_det := json_build_object('video_id', v_id, 'channel', a->>'channel', 'location',
                                   a->>'location')::text;
        PERFORM ain__video_status(p_actor, p_now, v_id, 'published', v_det);
      END IF;
    END IF;
    SELECT json_build_object('id', id, 'video_id', video_id, 'channel', channel,
                             'idempotency_key', idempotency_key, 'location', location,
                             'task_id', task_id, 'state_version', state_version,
                             'created_at', created_at)
      INTO v_rows FROM publish_receipts WHERE idempotency_key = a->>'idempotency_key';
    IF v_rows IS NULL THEN
      IF coalesce((a->>'lookup_only')::boolean, false) THEN
        RETURN ain__refuse(-4, 'idempotency_key', 'no receipt for key ' || (a->>'idempotency_key'));
      END IF;
      RETURN ain__refuse(-5, 'idempotency_key', format(
        'video %s already has a receipt on channel %s under another key', v_id, a->>'channel'));
    END IF;
    RETURN json_build_object('receipt', v_rows, 'created', v_rid IS NOT NULL);

  ELSIF p_op = 'setting' THEN
    IF a->>'value' IS NOT NULL THEN
      SELECT value INTO v_old FROM settings WHERE key = a->>'key' FOR UPDATE;
      INSERT INTO settings (key, value, state_version, updated_at)
      VALUES (a->>'key', a->>'value', 1, p_now)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value,
             state_version = settings.state_version + 1, updated_at = excluded.updated_at
       WHERE settings.value IS DISTINCT FROM excluded.value
      RETURNING state_version INTO v_ver;
      v_det := json_build_object('key', a->>'key', 'value', a->>'value')::text;
      IF v_ver IS NOT NULL THEN
        INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version,
                               detail, ts)
        VALUES (NULL, NULL, p_actor, 'setting:' || (a->>'key') || '=' || coalesce(v_old, ''),
                'setting:' || (a->>'key') || '=' || (a->>'value'), v_ver, v_det, p_now);
      END IF;
      IF a->>'key' = 'publishers.paused' AND a->>'value' <> 'true' THEN
        PERFORM ain__wake(p_actor, p_now, NULL, v_det);
      END IF;
    END IF;
    SELECT value, state_version INTO v_found FROM settings WHERE key = a->>'key';
    IF NOT FOUND THEN
      RETURN json_build_object('value', NULL, 'version', 0, 'changed', false);
    END IF;
    RETURN json_build_object('value', v_found.value, 'version', v_found.state_version,
                             'changed', v_ver IS NOT NULL);
  END IF;
  RAISE EXCEPTION 'unknown review op %', p_op USING ERRCODE = 'AIN01', COLUMN = 'op';
END $$;
