-- 001: the durable queue (tasks), DAGs, dependency edges, the audit log and settings.
-- Times are milliseconds since the epoch. Every mutable row carries state_version (OCC).
-- The Postgres migration (sql/postgres/001_*.sql) mirrors these names.

CREATE TABLE dags (
  id            TEXT PRIMARY KEY,
  root_task_id  TEXT,
  persona_id    TEXT,
  status        TEXT NOT NULL DEFAULT 'running',
  steps_total   INTEGER NOT NULL DEFAULT 0,
  steps_done    INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT,
  state_version INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE tasks (
  id            TEXT PRIMARY KEY,
  dag_id        TEXT REFERENCES dags(id),
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

-- Claiming walks only ready rows, already in claim order.
CREATE INDEX tasks_claim ON tasks (priority DESC, run_at, id) WHERE status = 'ready';
-- The reaper walks only running rows by lease expiry.
CREATE INDEX tasks_lease ON tasks (lease_until) WHERE status = 'running';
CREATE INDEX tasks_dag ON tasks (dag_id);

-- PRIMARY KEY (depends_on, task_id) serves "release my dependents"; the second index serves
-- "results of my dependencies" (claim) and the DAG view.
CREATE TABLE task_deps (
  task_id    TEXT NOT NULL REFERENCES tasks(id),
  depends_on TEXT NOT NULL REFERENCES tasks(id),
  PRIMARY KEY (depends_on, task_id)
) WITHOUT ROWID;
CREATE INDEX task_deps_task ON task_deps (task_id);

-- Append-only. No foreign keys: audit rows outlive archived tasks.
CREATE TABLE audit_log (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id       TEXT,
  dag_id        TEXT,
  actor         TEXT,
  from_status   TEXT,
  to_status     TEXT,
  state_version INTEGER,
  detail        TEXT,
  ts            INTEGER NOT NULL
);
CREATE INDEX audit_log_task ON audit_log (task_id);
CREATE INDEX audit_log_dag ON audit_log (dag_id);

CREATE TABLE settings (
  key           TEXT PRIMARY KEY,
  value         TEXT,
  state_version INTEGER NOT NULL DEFAULT 0,
  updated_at    INTEGER
);
