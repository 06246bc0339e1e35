judge = { pass = 1, reject = 0 }
