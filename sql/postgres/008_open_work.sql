-- The idle check without counting every row.
--
-- `ain run --until-idle` asks every 200 ms whether any task is ready, running, or pending, and
-- the benchmark's completion watcher asks every 20 ms. Counting with STATS (GROUP BY status
-- over the whole table, dead row versions included) cost 24-67 ms of server time per call
-- during a 100,000-task drain, polled while that drain ran. STATS with open_only
-- (engine/store/postgres/ops.c, AIN__PG_OPEN_WORK) instead probes one partial index per open
-- status for its first live entry: ready and running already have theirs (tasks_ready_idx,
-- tasks_lease_idx); these two cover pending (tasks waiting for their dependencies) and waiting
-- (parked for a review or for publishers to resume).
--
-- Cost: one index entry while a task is pending or waiting. Plain jobs are never either, so
-- their claims and finishes write nothing here.
CREATE INDEX tasks_pending_idx ON tasks (dag_id) WHERE status = 'pending';
CREATE INDEX tasks_waiting_idx ON tasks (dag_id) WHERE status = 'waiting';
