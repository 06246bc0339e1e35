queue = { lease_ms = 'long' }
