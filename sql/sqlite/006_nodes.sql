-- 006: nodes (one row per engine process: heartbeats, dead-node detection) and the archive that
-- finished tasks move to (tasks_archive, task_deps_archive), so the hot tasks table holds only
-- live work. The Postgres migration (sql/postgres/006_nodes.sql) mirrors these names.

CREATE TABLE nodes (
  id            TEXT PRIMARY KEY,          -- "node_id/pid": the prefix of its lease owners
  node          TEXT NOT NULL,             -- the configured node_id
  host          TEXT,
  pid           INTEGER NOT NULL DEFAULT 0,
  version       TEXT,
  shards        INTEGER NOT NULL DEFAULT 0,
  state         TEXT NOT NULL,             -- alive | dead | stopped
  started_at    INTEGER NOT NULL,
  last_beat     INTEGER NOT NULL,
  state_version INTEGER NOT NULL DEFAULT 0,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX nodes_alive ON nodes (last_beat) WHERE state = 'alive';

-- Same columns, in the same order, as tasks (reads UNION ALL the two). No foreign keys: the
-- archive only grows and is read by id.
CREATE TABLE tasks_archive (
  id            TEXT PRIMARY KEY,
  dag_id        TEXT,
  type          TEXT NOT NULL,
  step          TEXT,
  handler       TEXT,
  persona_id    TEXT,
  payload       TEXT NOT NULL,
  result        TEXT,
  last_error    TEXT,
  traceparent   TEXT,
  status        TEXT NOT NULL,
  priority      INTEGER NOT NULL DEFAULT 0,
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL DEFAULT 3,
  deps_pending  INTEGER NOT NULL DEFAULT 0,
  timeout_ms    INTEGER NOT NULL DEFAULT 0,
  run_at        INTEGER NOT NULL,
  lease_owner   TEXT,
  lease_until   INTEGER,
  state_version INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  finished_at   INTEGER
);
CREATE INDEX tasks_archive_dag ON tasks_archive (dag_id);

CREATE TABLE task_deps_archive (
  task_id    TEXT NOT NULL,
  depends_on TEXT NOT NULL,
  PRIMARY KEY (depends_on, task_id)
) WITHOUT ROWID;
CREATE INDEX task_deps_archive_task ON task_deps_archive (task_id);

-- Archive candidates: finished tasks by finish time.
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
