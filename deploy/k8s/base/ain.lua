-- The engine's configuration in Kubernetes (ConfigMap ain-config, mounted at /etc/ain/ain.lua).
-- Every key is documented in ain.lua.example; docs/deploy.md explains the choices. A change here
-- rolls the Deployment (the ConfigMap's name carries a hash of its content); policy changes
-- (ConfigMaps ain-policies-*) are hot-reloaded without a restart.
shards = 0                                   -- one shard per CPU the pod may use
log_level = "info"
log_format = "json"                          -- one JSON object per line on stderr (deploy/logging/)
scripts_dir = "/etc/ain/policies"            -- agents/, personas/, safety/: one ConfigMap each
data_dir = "/var/lib/ain"                    -- cache and scratch (an emptyDir)
-- With several pods, objects must live in S3, not in data_dir (docs/deploy.md):
-- objstore = { kind = "s3", s3 = { ... } }
secrets_dir = "/etc/ain/secrets"             -- Secret ain-secrets, files mode 0400

store = {
  url = "postgres://ain@postgres:5432/ain",  -- replaced by AIN_DATABASE_URL from the Secret
  sql_dir = "/usr/share/ain/sql",
}

queue = { max_running = 256 }                -- ain_steps_capacity = shards x max_running

-- terminationGracePeriodSeconds (deployment.yaml) must exceed grace_ms + 1 s: SIGTERM ends the
-- engine within grace_ms + 1 s, and the kubelet's SIGKILL must not come first.
shutdown = { grace_ms = 20000 }

api = {
  listen = "0.0.0.0:8080",                   -- probes, Prometheus and operators
  metrics_public = true,                     -- /metrics without a token: NetworkPolicy keeps it in-cluster
}
