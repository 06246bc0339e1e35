io.open('/tmp/x', 'w')
