shards = 1

shardz = 2
