shards = 1.5
