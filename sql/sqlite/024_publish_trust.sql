-- 024: publish grants and quota buckets (issue 14: signed publish tokens, quotas; engine/store/
-- grants.h, docs/publish-tokens-quotas.md). The Postgres migration mirrors these names.
--
-- A grant: the engine's record that video_id may go to channel, written only when the judge
-- passed the video or a reviewer approved it, with the token minted then. jti is the publish's
-- idempotency key; used_at (ms) is set once a publish under it landed (its receipt), which
-- spends the jti: a later publish presenting it is a replay.
CREATE TABLE publish_grants (
  jti           TEXT PRIMARY KEY,
  video_id      TEXT NOT NULL,
  channel       TEXT NOT NULL,
  token         TEXT NOT NULL,
  generation    INTEGER NOT NULL DEFAULT 1,  -- +1 for every later decision (a re-approval)
  granted_by    TEXT NOT NULL,               -- "judge" or the reviewer
  reason        TEXT NOT NULL,               -- pass | approved
  exp           INTEGER NOT NULL,            -- the token's exp (s)
  created_at    INTEGER NOT NULL,            -- ms of the decision
  used_at       INTEGER,                     -- ms; NULL = not used
  state_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX publish_grants_video ON publish_grants (video_id);

-- A channel account's token bucket, shared by every node: units and requests in thousandths
-- as of updated_at (ms); the refill up to "now" is computed by the taker, which writes the row
-- back expecting the state_version it read (optimistic concurrency: a lost race re-reads).
CREATE TABLE quota_buckets (
  account       TEXT PRIMARY KEY,
  units_mu      INTEGER NOT NULL,
  requests_mu   INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0,  -- ms: the platform said 429 + Retry-After
  taken         INTEGER NOT NULL DEFAULT 0,  -- units taken in total
  updated_at    INTEGER NOT NULL,
  state_version INTEGER NOT NULL DEFAULT 1
);
