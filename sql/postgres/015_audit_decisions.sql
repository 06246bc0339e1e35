-- 015: `ain judge shadow` reads the decisions recorded in a time window (the audit rows that
-- moved a task to succeeded, newest first); a partial index on their time keeps that a short
-- range walk however many other rows (claims, retries, the operator's) the log holds.
CREATE INDEX audit_log_succeeded_ts_idx ON audit_log (ts) WHERE to_status = 'succeeded';
