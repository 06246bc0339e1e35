-- 025: takedowns and post_metrics (mirrors sql/sqlite/025_post_after.sql: see there), and
-- ain_posts_op(): every post-after store op (engine/store/posts.h) as one call with JSON in and
-- JSON out, refusals as {"error": {code, field, msg}} (as ain_review_op in 005).
CREATE TABLE takedowns (
  receipt_id    bigint PRIMARY KEY REFERENCES publish_receipts(id) ON DELETE CASCADE,
  video_id      text NOT NULL,
  channel       text NOT NULL,
  state         text NOT NULL,
  method        text NOT NULL,
  reason        text NOT NULL,
  actor         text,
  error         text,
  state_version bigint NOT NULL DEFAULT 1,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL
);
CREATE INDEX takedowns_state_idx ON takedowns (state, created_at);

CREATE TABLE post_metrics (
  id         bigserial PRIMARY KEY,
  receipt_id bigint NOT NULL REFERENCES publish_receipts(id) ON DELETE CASCADE,
  channel    text NOT NULL,
  post_id    text NOT NULL,
  fetched_at bigint NOT NULL,
  views      bigint,
  likes      bigint,
  comments   bigint,
  shares     bigint
);
CREATE INDEX post_metrics_receipt_idx ON post_metrics (receipt_id, fetched_at);
CREATE INDEX publish_receipts_created_idx ON publish_receipts (created_at);

-- A receipt as the post-after ops answer it: its takedown state ('live' without a row), the
-- video's persona and the topic (the planner's trend key of the DAG's root task).
CREATE FUNCTION ain__post_row(p_id bigint) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object('receipt_id', r.id, 'video_id', r.video_id, 'channel', r.channel,
           'idempotency_key', r.idempotency_key, 'location', r.location, 'post_id', coalesce(r.post_id, r.location),
           'created_at', r.created_at, 'state', coalesce(t.state, 'live'), 'method', t.method,
           'reason', t.reason, 'actor', t.actor, 'error', t.error, 'updated_at', t.updated_at,
           'persona_id', v.persona_id, 'topic', p.trend_key)
    FROM publish_receipts r JOIN videos v ON v.id = r.video_id
    LEFT JOIN takedowns t ON t.receipt_id = r.id
    LEFT JOIN dags d ON d.id = v.dag_id LEFT JOIN planned p ON p.task_id = d.root_task_id
   WHERE r.id = p_id
$$;

CREATE FUNCTION ain_posts_op(p_op text, p_actor text, p_now bigint, a json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_id    text := a->>'video_id';
  v_rows  json;
  v_video record;
  v_r     record;
  v_from  text;
  v_ver   bigint;
  v_det   text;
  v_live  integer;
  v_n     integer;
BEGIN
  IF p_op = 'receipts' THEN
    SELECT id, status, persona_id, dag_id INTO v_video FROM videos WHERE id = v_id;
    IF NOT FOUND THEN
      RETURN ain__refuse(-4, 'video_id', 'video ' || v_id || ' not found');
    END IF;
    SELECT coalesce(json_agg(ain__post_row(r.id) ORDER BY r.created_at, r.id), '[]'::json)
      INTO v_rows FROM publish_receipts r
     WHERE r.video_id = v_id AND (a->>'channel' IS NULL OR r.channel = a->>'channel');
    RETURN json_build_object('video', json_build_object('id', v_video.id, 'status',
             v_video.status, 'persona_id', v_video.persona_id, 'dag_id', v_video.dag_id),
             'receipts', v_rows);

  ELSIF p_op = 'mark' THEN
    SELECT r.id, r.video_id, r.channel, v.dag_id INTO v_r FROM publish_receipts r
      JOIN videos v ON v.id = r.video_id WHERE r.id = (a->>'receipt_id')::bigint FOR UPDATE OF r;
    IF NOT FOUND THEN
      RETURN ain__refuse(-4, 'receipt_id', 'no receipt ' || (a->>'receipt_id'));
    END IF;
    SELECT state INTO v_from FROM takedowns WHERE receipt_id = v_r.id;
    v_from := coalesce(v_from, 'live');
    IF v_from = a->>'state' OR v_from = 'unpublished' THEN
      RETURN json_build_object('changed', false, 'state', v_from,
                               'video_status', (SELECT status FROM videos WHERE id = v_r.video_id));
    END IF;
    INSERT INTO takedowns (receipt_id, video_id, channel, state, method, reason, actor, error,
                           state_version, created_at, updated_at)
    VALUES (v_r.id, v_r.video_id, v_r.channel, a->>'state', a->>'method', a->>'reason', p_actor,
            a->>'error', 1, p_now, p_now)
    ON CONFLICT (receipt_id) DO UPDATE SET state = excluded.state, method = excluded.method,
           reason = excluded.reason, actor = excluded.actor, error = excluded.error,
           state_version = takedowns.state_version + 1, updated_at = excluded.updated_at
    RETURNING state_version INTO v_ver;
    v_det := json_strip_nulls(json_build_object('video_id', v_r.video_id, 'channel', v_r.channel,
               'receipt_id', v_r.id, 'reason', a->>'reason', 'method', a->>'method',
               'error', a->>'error'))::text;
    INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, detail, ts)
    VALUES (NULL, v_r.dag_id, p_actor, 'post:' || v_from, 'post:' || (a->>'state'), v_ver, v_det,
            p_now);
    SELECT count(*) INTO v_live FROM publish_receipts r LEFT JOIN takedowns t ON t.receipt_id = r.id
     WHERE r.video_id = v_r.video_id AND coalesce(t.state, 'live') <> 'unpublished';
    IF v_live = 0 THEN
      PERFORM ain__video_status(p_actor, p_now, v_r.video_id, 'unpublished', v_det);
    END IF;
    RETURN json_build_object('changed', true, 'state', a->>'state',
                             'video_status', (SELECT status FROM videos WHERE id = v_r.video_id));

  ELSIF p_op = 'takedowns' THEN
    SELECT coalesce(json_agg(ain__post_row(t.receipt_id) ORDER BY t.created_at, t.receipt_id),
                    '[]'::json)
      INTO v_rows FROM (SELECT receipt_id, created_at FROM takedowns
                         WHERE a->>'state' IS NULL OR state = a->>'state'
                         ORDER BY created_at, receipt_id
                         LIMIT coalesce((a->>'limit')::integer, 100)) t;
    RETURN json_build_object('posts', v_rows);

  ELSIF p_op = 'flag' THEN
    IF NOT EXISTS (SELECT 1 FROM videos WHERE id = v_id) THEN
      RETURN ain__refuse(-4, 'video_id', 'video ' || v_id || ' not found');
    END IF;
    SELECT status INTO v_from FROM videos WHERE id = v_id;
    v_det := json_strip_nulls(json_build_object('video_id', v_id, 'channel', a->>'channel',
                                                'reason', a->>'reason'))::text;
    PERFORM ain__video_status(p_actor, p_now, v_id, 'flagged', v_det);
    RETURN json_build_object('changed', v_from <> 'flagged', 'video_status', 'flagged');

  ELSIF p_op = 'recent' THEN
    SELECT coalesce(json_agg(ain__post_row(r.id) ORDER BY r.created_at, r.id), '[]'::json)
      INTO v_rows FROM (SELECT r.id, r.created_at FROM publish_receipts r
                          LEFT JOIN takedowns t ON t.receipt_id = r.id
                         WHERE r.created_at >= (a->>'since')::bigint AND t.receipt_id IS NULL
                         ORDER BY r.created_at, r.id
                         LIMIT coalesce((a->>'limit')::integer, 1000)) r;
    RETURN json_build_object('posts', v_rows);

  ELSIF p_op = 'metrics_put' THEN
    INSERT INTO post_metrics (receipt_id, channel, post_id, fetched_at, views, likes, comments,
                              shares)
    SELECT x.receipt_id, x.channel, x.post_id, p_now, x.views, x.likes, x.comments, x.shares
      FROM json_to_recordset(a->'rows') AS x(receipt_id bigint, channel text, post_id text,
                                             views bigint, likes bigint, comments bigint,
                                             shares bigint)
     WHERE EXISTS (SELECT 1 FROM publish_receipts r WHERE r.id = x.receipt_id);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN json_build_object('inserted', v_n);

  ELSIF p_op = 'metrics' THEN
    SELECT coalesce(json_agg(q.o ORDER BY q.published_at DESC, q.receipt_id DESC), '[]'::json)
      INTO v_rows
      FROM (SELECT r.created_at AS published_at, m.receipt_id,
                   json_build_object('receipt_id', m.receipt_id, 'video_id', r.video_id,
                     'channel', m.channel, 'post_id', m.post_id, 'persona_id', v.persona_id,
                     'topic', p.trend_key, 'published_at', r.created_at,
                     'fetched_at', m.fetched_at, 'views', m.views, 'likes', m.likes,
                     'comments', m.comments, 'shares', m.shares) AS o
              FROM (SELECT DISTINCT ON (receipt_id) * FROM post_metrics
                     ORDER BY receipt_id, fetched_at DESC, id DESC) m
              JOIN publish_receipts r ON r.id = m.receipt_id JOIN videos v ON v.id = r.video_id
              LEFT JOIN dags d ON d.id = v.dag_id
              LEFT JOIN planned p ON p.task_id = d.root_task_id
             WHERE (a->>'persona' IS NULL OR v.persona_id = a->>'persona')
               AND (a->>'topic' IS NULL OR p.trend_key = a->>'topic')
               AND (a->>'channel' IS NULL OR m.channel = a->>'channel')
               AND r.created_at >= coalesce((a->>'since')::bigint, 0)
             ORDER BY r.created_at DESC, m.receipt_id DESC
             LIMIT coalesce((a->>'limit')::integer, 1000)) q;
    RETURN json_build_object('posts', v_rows);
  END IF;
  RETURN ain__refuse(-1, 'op', 'unknown posts op ' || p_op);
END $$;
