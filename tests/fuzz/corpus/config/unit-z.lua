shards = 0
