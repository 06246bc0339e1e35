-- The idle check without counting every row (mirrors sql/postgres/008_open_work.sql).
--
-- `ain run --until-idle` asks every 200 ms whether any task is ready, running, or pending.
-- Counting with STATS (GROUP BY status over the whole table) grows with the history. STATS with
-- open_only (engine/store/sqlite/read.c, open_work) instead probes one partial index per open
-- status: ready and running already have theirs (tasks_claim, tasks_lease); these two cover
-- pending (tasks waiting for their dependencies) and waiting (parked for a review or for
-- publishers to resume).
--
-- Cost: one index entry while a task is pending or waiting. Plain jobs are never either.
CREATE INDEX tasks_pending ON tasks (dag_id) WHERE status = 'pending';
CREATE INDEX tasks_waiting ON tasks (dag_id) WHERE status = 'waiting';
