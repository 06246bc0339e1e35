-- 002: the script registry. Every policy source that was ever loaded is kept by the sha256 of its
-- text (a rejected one too, with the error that rejected it), so a decision recorded in the audit
-- log can be replayed with the exact code that made it. script_pins holds the operator's pins.
CREATE TABLE script_versions (
  module      TEXT NOT NULL,
  sha         TEXT NOT NULL,
  source      TEXT NOT NULL,
  first_error TEXT,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (module, sha)
);
CREATE INDEX script_versions_sha ON script_versions (sha);

CREATE TABLE script_pins (
  module        TEXT PRIMARY KEY,
  sha           TEXT NOT NULL,
  state_version INTEGER NOT NULL DEFAULT 0,
  updated_at    INTEGER NOT NULL
);
