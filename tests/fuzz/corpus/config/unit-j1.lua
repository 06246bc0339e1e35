judge = { pass = 1.5, reject = 0.5 }
