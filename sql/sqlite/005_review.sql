-- 005: what the judge decided about each rendered video (videos, safety_reports), the human
-- review queue (reviews), publish receipts (publish_receipts), and what wakes a parked task
-- (view task_unpark). The Postgres migration (sql/postgres/005_review.sql) mirrors these names.

-- One row per rendered video; status: passed | in_review | approved | rejected | published.
CREATE TABLE videos (
  id            TEXT PRIMARY KEY,
  dag_id        TEXT,
  task_id       TEXT,
  persona_id    TEXT,
  status        TEXT NOT NULL,
  decision      TEXT NOT NULL,
  confidence    REAL NOT NULL,
  video_key     TEXT,
  thumbnail_key TEXT,
  state_version INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX videos_dag ON videos (dag_id);

-- The judge's granular checks and aggregate, one per video (the first judgement is kept).
CREATE TABLE safety_reports (
  video_id   TEXT PRIMARY KEY REFERENCES videos(id),
  decision   TEXT NOT NULL,
  confidence REAL NOT NULL,
  checks     TEXT NOT NULL,
  report     TEXT,
  created_at INTEGER NOT NULL
);

-- One review per video sent to review; status: pending | approved | rejected. task_id is the
-- review_gate task parked while the review is pending.
CREATE TABLE reviews (
  video_id      TEXT PRIMARY KEY REFERENCES videos(id),
  task_id       TEXT,
  dag_id        TEXT,
  status        TEXT NOT NULL DEFAULT 'pending',
  reviewer      TEXT,
  reason        TEXT,
  state_version INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  decided_at    INTEGER
);
CREATE INDEX reviews_status ON reviews (status, created_at);
CREATE INDEX reviews_task ON reviews (task_id);

-- At most one receipt per (video, channel); a retried publish finds its key and adds nothing.
CREATE TABLE publish_receipts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  video_id        TEXT NOT NULL REFERENCES videos(id),
  channel         TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  location        TEXT NOT NULL,
  task_id         TEXT,
  state_version   INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  UNIQUE (video_id, channel)
);

-- A task that parks (finish kind PARK) goes straight back to ready when its reason is already
-- gone: its review was decided, or (a publish step) publishing is not paused. Checked in the
-- same statement as the park, so a wake-up that raced the park is never lost.
CREATE VIEW task_unpark AS
  SELECT task_id FROM reviews WHERE status <> 'pending' AND task_id IS NOT NULL
  UNION ALL
  SELECT id FROM tasks WHERE handler = 'publish' AND status = 'running'
     AND NOT EXISTS (SELECT 1 FROM settings WHERE key = 'publishers.paused' AND value = 'true');
