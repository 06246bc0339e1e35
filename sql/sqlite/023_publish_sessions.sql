-- 023: publishing for real (issue 14, docs/publishing.md). publish_sessions: a channel's durable
-- upload state per idempotency key (the resumable session URI and the offset the platform
-- acknowledged, the post id once the platform has it), written only by the task that holds the
-- publish step's lease, so that an upload killed at any phase resumes or finds its post instead
-- of posting twice. publish_receipts gains the platform's post id and URL.
-- The Postgres migration mirrors these names.
CREATE TABLE publish_sessions (
  idempotency_key TEXT PRIMARY KEY,
  channel         TEXT NOT NULL,
  video_id        TEXT NOT NULL,
  task_id         TEXT NOT NULL,    -- the task that saved it last
  state           TEXT NOT NULL,    -- JSON object of the channel kind's own design
  state_version   INTEGER NOT NULL DEFAULT 1,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

ALTER TABLE publish_receipts ADD COLUMN post_id TEXT;
ALTER TABLE publish_receipts ADD COLUMN url TEXT;
