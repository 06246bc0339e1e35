-- 025: what happens to a post after it is published (issue 14 §5, §6; engine/publish/after.c).
-- takedowns: one row per receipt that was taken down or must be taken down by hand. state is
-- 'unpublished' (the platform's delete call ran, or an operator confirmed a manual takedown) or
-- 'takedown_required' (the platform has no delete call: raised to the operator). A receipt
-- without a row is live. post_metrics: the public counters of a post as pulled at fetched_at;
-- NULL where the platform does not report one. Both go with their receipt (ON DELETE CASCADE:
-- a purge that deletes the receipt deletes them). The Postgres migration mirrors these names.
CREATE TABLE takedowns (
  receipt_id    INTEGER PRIMARY KEY REFERENCES publish_receipts(id) ON DELETE CASCADE,
  video_id      TEXT NOT NULL,
  channel       TEXT NOT NULL,
  state         TEXT NOT NULL,   -- unpublished | takedown_required
  method        TEXT NOT NULL,   -- api | manual
  reason        TEXT NOT NULL,
  actor         TEXT,
  error         TEXT,            -- why the platform's delete call failed (last attempt), if it did
  state_version INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX takedowns_state ON takedowns (state, created_at);

CREATE TABLE post_metrics (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  receipt_id INTEGER NOT NULL REFERENCES publish_receipts(id) ON DELETE CASCADE,
  channel    TEXT NOT NULL,
  post_id    TEXT NOT NULL,
  fetched_at INTEGER NOT NULL,
  views      INTEGER,
  likes      INTEGER,
  comments   INTEGER,
  shares     INTEGER
);
CREATE INDEX post_metrics_receipt ON post_metrics (receipt_id, fetched_at);
CREATE INDEX publish_receipts_created ON publish_receipts (created_at);
