judge = { pass = 'high', reject = 0.5 }
