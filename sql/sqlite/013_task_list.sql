-- 013: `ain task list` (and GET /v1/tasks) reads tasks newest first, paged by a keyset cursor on
-- (created_at, id); this index is that order, so a page is a short walk however many tasks the
-- table holds. (`ain task retry` needs no schema: store/sqlite/retry.c.)
CREATE INDEX IF NOT EXISTS tasks_list ON tasks (created_at, id);
