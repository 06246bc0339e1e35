-- 016: `ain dag list` (GET /v1/dags) reads DAGs newest first, paged by a keyset cursor on
-- (created_at, id), optionally of one status and/or one persona. Each index is one of those
-- orders, so a page is a short walk of it however many DAGs the table holds, deep pages too
-- (the cursor is a range of the index: store/sqlite/stmt.c, SQ_LIST_DAGS*). Status and persona
-- together walk the persona's index (a persona has fewer DAGs than a status).
CREATE INDEX IF NOT EXISTS dags_list ON dags (created_at, id);
CREATE INDEX IF NOT EXISTS dags_list_status ON dags (status, created_at, id);
CREATE INDEX IF NOT EXISTS dags_list_persona ON dags (persona_id, created_at, id);
