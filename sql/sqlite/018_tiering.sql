-- 018: tiering (issue 15, docs/objstore.md "Tiering"; store ops TIER_LIST / TIER_MARK,
-- engine/store/sqlite/tier.c). object_classes records the storage class the tiering sweep last
-- put each object in, and when, so a sweep (on any node) does not copy an object again; the
-- indexes let the sweep find old checkpoints and the videos that keep their objects hot.
-- The Postgres migration (sql/postgres/018_tiering.sql) mirrors these names.
CREATE TABLE object_classes (
  key           TEXT PRIMARY KEY, -- object-store key (content address)
  storage_class TEXT NOT NULL,    -- STANDARD_IA, GLACIER_IR, ...
  updated_at    INTEGER NOT NULL  -- ms: when the sweep moved it
);
CREATE INDEX artifacts_created ON artifacts (created_at);
CREATE INDEX videos_video_key ON videos (video_key);
CREATE INDEX videos_thumbnail_key ON videos (thumbnail_key);
