-- 002: the script registry (mirrors sql/sqlite/002_scripts.sql). Every policy source that was ever
-- loaded is kept by the sha256 of its text (a rejected one too, with its error), so a recorded
-- decision can be replayed with the exact code that made it. script_pins: the operator's pins.
CREATE TABLE script_versions (
  module      text NOT NULL,
  sha         text NOT NULL,
  source      text NOT NULL,
  first_error text,
  created_at  bigint NOT NULL,
  PRIMARY KEY (module, sha)
);
CREATE INDEX script_versions_sha ON script_versions (sha);

CREATE TABLE script_pins (
  module        text PRIMARY KEY,
  sha           text NOT NULL,
  state_version bigint NOT NULL DEFAULT 0,
  updated_at    bigint NOT NULL
);
