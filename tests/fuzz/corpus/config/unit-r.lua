return { shards = 2, queue = { poll_ms = 10 } }
