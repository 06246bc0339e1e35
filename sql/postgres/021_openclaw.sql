-- 021: each node's OpenClaw Gateway connection as its heartbeat last saw it (cluster.openclaw,
-- engine/cluster/openclaw.c), so `ain nodes` on any machine shows it: gateway is connected,
-- connecting or error (NULL: not configured), gateway_since when it entered that state (ms).
-- Presence at the gateway is informative only: liveness stays last_beat. Mirrors
-- sql/sqlite/021_openclaw.sql.
ALTER TABLE nodes ADD COLUMN gateway text;
ALTER TABLE nodes ADD COLUMN gateway_since bigint;
