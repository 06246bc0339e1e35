return {
  node_id = "n1", shards = 2, log_level = "info",
  store = { url = "sqlite:var/ain.db" },
  queue = { claim_batch = 64, lease_ms = 30000, poll_ms = 250 },
  trends = { source = "samples/trends.jsonl", interval_ms = 60000 },
  judge = { pass = 0.8, reject = 0.3 },
  channels = { outbox = { dir = "var/outbox", safe_area = { top = 120, bottom = 320, left = 40, right = 160 } } },
}
