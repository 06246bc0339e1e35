-- 012: one clock for the audit log, and an index for the operator's rows.
--
-- Every time the engine passes in (run_at, lease_until, updated_at) is the clock of the node that
-- planned the request, read when it was planned. Audit rows took that time too, so a task's rows
-- could go back in time: a claim planned at t and queued behind another connection's commit, or
-- two nodes whose clocks differ (node a enqueues at 12:00:05, node b claims at 12:00:03). An
-- audit row's ts is now the server's clock when the row is written (clock_timestamp(), not now(),
-- which is the start of the transaction). Writes to one task are serialized by its row lock, so
-- its rows are in time order whichever node wrote them. Callers keep passing a ts; it is replaced.
CREATE FUNCTION ain_audit_ts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.ts := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_ts BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION ain_audit_ts();

-- `ain audit --operator` reads the newest rows of no task and no DAG (settings, script pins).
CREATE INDEX audit_log_operator_idx ON audit_log (id) WHERE task_id IS NULL AND dag_id IS NULL;
