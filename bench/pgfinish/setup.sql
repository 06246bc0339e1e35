-- 40,000 running plain tasks with known ids ('0193' || 8-digit n || a fixed tail) and no history.
TRUNCATE tasks, audit_log;
INSERT INTO tasks (id, type, handler, payload, status, run_at, state_version, created_at,
                   updated_at, attempts, lease_owner, lease_until)
SELECT '0193' || lpad(g::text, 8, '0') || '-aaaa-7bbb-8ccc-dddddddddddd', 'noop_lua',
       'lua:bench_noop.run', '{}', 'running', 1, 1, 1, 1, 1, 'bench/1/shard-0', 9999999999999
  FROM generate_series(1, 40000) g;
VACUUM ANALYZE tasks;
