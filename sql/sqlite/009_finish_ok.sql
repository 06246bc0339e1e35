-- No-op: keeps the migration numbers of both backends contiguous. Postgres 009 adds
-- ain_finish_ok(), FINISH of plain successes from parallel arrays (sql/postgres/009_finish_ok.sql);
-- SQLite's FINISH runs its statements in process and has nothing to unpack.
SELECT 1;
