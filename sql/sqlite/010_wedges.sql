-- 010: wedges. A watchdog that finds a shard stuck in one call past its limit records the wedge
-- against the task the shard was running before its node exits (crash-only). One row per wedge:
-- the count per task decides when a task is a poison pill (dead-lettered with EPOISON instead of
-- wedging the next node). The rows are kept when the task is archived: they are few and keyed by
-- task id. The Postgres migration (sql/postgres/010_wedges.sql) mirrors these names.

CREATE TABLE task_wedges (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id       TEXT NOT NULL,
  state_version INTEGER NOT NULL,          -- the fencing token of the wedged attempt
  owner         TEXT,                      -- the wedged shard: "node_id/pid/shard-N"
  elapsed_ms    INTEGER NOT NULL DEFAULT 0,
  error         TEXT,                      -- "EWEDGED: ..."
  at            INTEGER NOT NULL
);
CREATE INDEX task_wedges_task ON task_wedges (task_id);
