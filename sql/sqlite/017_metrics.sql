-- 017: a /metrics scrape counts the open tasks (and the dead letters) by type and status; this
-- partial index holds only those rows, so the count walks them and never the finished ones
-- however many the table keeps (bench: 100,000 tasks, docs/benchmarks.md).
CREATE INDEX IF NOT EXISTS tasks_status_type ON tasks (status, type)
  WHERE status IN ('pending', 'ready', 'running', 'waiting', 'dead');
