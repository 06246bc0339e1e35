-- 004: step checkpoints (artifacts), the trends the planner has seen, and the planned
-- (persona, trend) pairs that make sure a trend is never planned twice for a persona.
-- The Postgres migration (sql/postgres/004_media.sql) mirrors these names.

-- One checkpoint per DAG step: the object-store keys it produced and the result it reported.
CREATE TABLE artifacts (
  dag_id     TEXT NOT NULL,
  step       TEXT NOT NULL,
  task_id    TEXT NOT NULL,
  keys       TEXT NOT NULL, -- JSON array of object-store keys
  result     TEXT NOT NULL, -- JSON object
  created_at INTEGER NOT NULL,
  PRIMARY KEY (dag_id, step)
);

-- Trends that were planned at least once, by the planner's normalized key.
CREATE TABLE trends (
  trend_key     TEXT PRIMARY KEY,
  record        TEXT,         -- the trend as read from its source (JSON object)
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL
);

-- A (persona, trend) pair is planned once, ever: the primary key is the guarantee.
CREATE TABLE planned (
  persona_id TEXT NOT NULL,
  trend_key  TEXT NOT NULL,
  task_id    TEXT NOT NULL, -- the generate_video task it enqueued
  planned_at INTEGER NOT NULL,
  PRIMARY KEY (persona_id, trend_key)
);
