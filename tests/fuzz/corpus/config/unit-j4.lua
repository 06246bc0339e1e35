judge = { pass = 0.4, reject = 0.6 }
