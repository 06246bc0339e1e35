-- 003: key-value rows of policy namespaces (ain.store in Lua); mirrors sql/sqlite/003_kv.sql.
CREATE TABLE kv (
  ns            text NOT NULL,
  key           text NOT NULL,
  value         text NOT NULL,
  state_version bigint NOT NULL,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  PRIMARY KEY (ns, key)
);
