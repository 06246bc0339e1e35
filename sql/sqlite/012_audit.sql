-- 012: the operator's audit rows (settings, script pins: rows of no task and no DAG) are read
-- newest first by `ain audit --operator`; a partial index keeps that a short walk however many
-- task rows the log holds.
-- (Audit times: SQLite takes them from the host clock once the write lock is held, in
-- store/sqlite/stmt.c; Postgres 012 does the same with the server's clock.)
CREATE INDEX IF NOT EXISTS audit_log_operator ON audit_log (id)
  WHERE task_id IS NULL AND dag_id IS NULL;
