store = 'sqlite:x'
