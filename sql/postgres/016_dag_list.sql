-- 016: `ain dag list` (GET /v1/dags) reads DAGs newest first, paged by a keyset cursor on
-- (created_at, id) with ids compared as bytes (COLLATE "C", as SQLite compares them), optionally
-- of one status and/or one persona. Each index is one of those orders, so a page is a short walk
-- of it however many DAGs the table holds, deep pages too (the cursor is a row comparison the
-- index answers: store/postgres/dags.c). Status and persona together walk the persona's index.
CREATE INDEX dags_list_idx ON dags (created_at DESC, id COLLATE "C" DESC);
CREATE INDEX dags_list_status_idx ON dags (status, created_at DESC, id COLLATE "C" DESC);
CREATE INDEX dags_list_persona_idx ON dags (persona_id, created_at DESC, id COLLATE "C" DESC);
