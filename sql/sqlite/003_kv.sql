-- 003: key-value rows of policy namespaces (ain.store in Lua). ns is the policy module that owns
-- the key; value is JSON text; state_version starts at 1 and grows with every put (OCC).
CREATE TABLE kv (
  ns            TEXT NOT NULL,
  key           TEXT NOT NULL,
  value         TEXT NOT NULL,
  state_version INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
