log_level = 'loud'
