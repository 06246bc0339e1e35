judge = { pass = 0.7 }
