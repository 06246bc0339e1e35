shards = 1
error('nope')
