-- 024: publish grants and quota buckets (issue 14: signed publish tokens, quotas; engine/store/
-- grants.h, docs/publish-tokens-quotas.md). The SQLite migration mirrors these names.
--
-- A grant: the engine's record that video_id may go to channel, written only when the judge
-- passed the video or a reviewer approved it, with the token minted then. jti is the publish's
-- idempotency key; used_at (ms) is set once a publish under it landed (its receipt), which
-- spends the jti: a later publish presenting it is a replay.
CREATE TABLE publish_grants (
  jti           text PRIMARY KEY,
  video_id      text NOT NULL,
  channel       text NOT NULL,
  token         text NOT NULL,
  generation    bigint NOT NULL DEFAULT 1,
  granted_by    text NOT NULL,
  reason        text NOT NULL,
  exp           bigint NOT NULL,
  created_at    bigint NOT NULL,
  used_at       bigint,
  state_version bigint NOT NULL DEFAULT 1
);
CREATE INDEX publish_grants_video ON publish_grants (video_id);

CREATE TABLE quota_buckets (
  account       text PRIMARY KEY,
  units_mu      bigint NOT NULL,
  requests_mu   bigint NOT NULL,
  blocked_until bigint NOT NULL DEFAULT 0,
  taken         bigint NOT NULL DEFAULT 0,
  updated_at    bigint NOT NULL,
  state_version bigint NOT NULL DEFAULT 1
);

-- FINISH as in 005, plus a PARK (kind 4) with a time: a publish step whose quota bucket is empty
-- (or that the platform answered 429 + Retry-After) parks until the window reopens. It gives its
-- attempt back like any park but is ready from retry_at on (run_at), so whichever node claims
-- first after that runs it: no waker to lose. A park without a time is unchanged.
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
      v_to := CASE WHEN it.kind = 4 AND coalesce(it.retry_at, 0) > 0 THEN 'ready'
                   WHEN it.kind = 4 AND t.id NOT IN (SELECT task_id FROM task_unpark
                                                      WHERE task_id IS NOT NULL)
                   THEN 'waiting' ELSE 'ready' END;
      UPDATE tasks SET status = v_to, attempts = greatest(attempts - 1, 0), lease_owner = NULL,
             lease_until = NULL, state_version = state_version + 1, updated_at = p_now,
             run_at = CASE WHEN it.kind = 4 AND coalesce(it.retry_at, 0) > 0 THEN it.retry_at
                           ELSE run_at END
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
