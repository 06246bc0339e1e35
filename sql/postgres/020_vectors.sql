-- Embeddings per kind (trend, video_script, persona, ...) and model (issue 15 §3,
-- docs/vectors.md): float32 little-endian in bytea of 4 * dims bytes. seq orders rows for the
-- in-memory indexes' incremental loading; a replaced row takes a new seq (ON CONFLICT sets it).
CREATE TABLE embeddings (
  seq BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  model TEXT NOT NULL,
  item_id TEXT NOT NULL,
  dims INTEGER NOT NULL CHECK (dims BETWEEN 1 AND 8192),
  vec BYTEA NOT NULL CHECK (octet_length(vec) = 4 * dims),
  label TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  UNIQUE (kind, model, item_id)
);
CREATE INDEX embeddings_load ON embeddings (kind, model, seq);
