-- No-op: keeps the migration numbers of both backends contiguous. Postgres 007 adds a partial
-- index for STATS's min(run_at) over ready tasks (see sql/postgres/007_ready_next.sql); SQLite's
-- STATS was not measured to need it, so its schema is unchanged.
SELECT 1;
