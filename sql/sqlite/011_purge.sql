-- 011: purge/retention (store op PURGE, engine/store/sqlite/purge.c): finished DAGs are found by
-- when they ended. The purge itself is C statements in one transaction per batch.
CREATE INDEX dags_finished ON dags (updated_at) WHERE status <> 'running';
