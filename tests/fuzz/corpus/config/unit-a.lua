shards = 3
log_level = 'warn'
scripts_dir = 'pol'
store = { url = 'sqlite:db/x.db', synchronous_full = false }
queue = { claim_batch = 10, lease_ms = 5000 }
lua = { allow_ffi = true }
