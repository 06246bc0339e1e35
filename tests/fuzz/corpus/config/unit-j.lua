judge = { pass = 0.9, reject = 0.25 }
