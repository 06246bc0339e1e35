-- 018: tiering (issue 15, docs/objstore.md "Tiering"; store ops TIER_LIST / TIER_MARK,
-- engine/store/postgres/tier.c). Mirrors sql/sqlite/018_tiering.sql. No BEGIN/COMMIT: the runner
-- wraps each file.
CREATE TABLE object_classes (
  key           text PRIMARY KEY,
  storage_class text NOT NULL,
  updated_at    bigint NOT NULL
);
CREATE INDEX artifacts_created ON artifacts (created_at);
CREATE INDEX videos_video_key ON videos (video_key);
CREATE INDEX videos_thumbnail_key ON videos (thumbnail_key);
