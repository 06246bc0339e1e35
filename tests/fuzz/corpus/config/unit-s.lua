shards = 
