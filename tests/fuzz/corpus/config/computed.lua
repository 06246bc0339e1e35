local base = "var"
shards = math.max(1, 2)
store = { url = "sqlite:" .. base .. "/ain.db" }
objects = { dir = string.format("%s/objects", base) }
media = { width = 720, height = 1280 }
