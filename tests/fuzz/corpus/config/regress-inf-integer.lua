queue = { claim_batch = 1/0 }
shards = -1e300
spawn = { timeout_ms = 0/0 }
