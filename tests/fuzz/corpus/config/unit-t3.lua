lua = { allow_ffi = 1 }
