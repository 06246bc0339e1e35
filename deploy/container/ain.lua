-- The container's default configuration (deploy/Containerfile installs it as /etc/ain/ain.lua).
-- Every key is documented in ain.lua.example. Override it by mounting your own file over
-- /etc/ain/ain.lua (deploy/k8s mounts one from a ConfigMap), and the store by AIN_DATABASE_URL.

-- node_id: the host name, which is the pod's name under Kubernetes.
shards = 0                                   -- one per core the container may use
log_level = "info"
log_format = "json"                          -- JSON lines on stderr, for a log shipper (docs/deploy.md)

scripts_dir = "/usr/share/ain/scripts"       -- the policies built into the image
data_dir = "/var/lib/ain"                    -- the embedded object store, outbox, caches (a volume)
secrets_dir = "/run/secrets/ain"             -- files mode 0400/0600, or AIN_SECRET_<NAME>

store = {
  url = "sqlite:/var/lib/ain/ain.db",        -- AIN_DATABASE_URL (postgres://...) overrides it
  sql_dir = "/usr/share/ain/sql",            -- the migrations, installed with the binary
}

shutdown = { grace_ms = 10000 }

api = {
  listen = "0.0.0.0:8080",                   -- the HEALTHCHECK and probes ask /healthz, /readyz here
}
