queue = { claim_batch = 0 }
