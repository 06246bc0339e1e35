-- 019: trend sources (engine/sources/, docs/sources.md). One row per configured source: its
-- conditional-GET validators (etag, last_modified) as of the last fetch whose items the planner
-- committed, a cursor (the last acknowledged Redis entry), its health and counters. The engine
-- writes it; `ain sources` reads it. The Postgres migration mirrors these names.
CREATE TABLE sources (
  name            TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,             -- jsonl | http | rss | atom | redis
  url             TEXT NOT NULL DEFAULT '',  -- or the file of a jsonl source
  etag            TEXT,
  last_modified   TEXT,
  cursor          TEXT,
  last_success_at INTEGER NOT NULL DEFAULT 0, -- ms; 0 = never
  last_error_at   INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  backoff_until   INTEGER NOT NULL DEFAULT 0, -- no request before this (ms)
  failures        INTEGER NOT NULL DEFAULT 0, -- consecutive errors
  fetches         INTEGER NOT NULL DEFAULT 0,
  not_modified    INTEGER NOT NULL DEFAULT 0, -- 304 answers
  errors          INTEGER NOT NULL DEFAULT 0,
  items           INTEGER NOT NULL DEFAULT 0, -- trend records handed to the planner
  refused         INTEGER NOT NULL DEFAULT 0, -- items refused one by one (wrong types)
  state_version   INTEGER NOT NULL DEFAULT 1,
  updated_at      INTEGER NOT NULL
);
