-- Benchmark policies: a no-op step, and one that reports how long after enqueue it started.
return {
  run = function(payload, ctx)
    return {}
  end,
  stamp = function(payload, ctx)
    return { lat_us = ain.now() * 1000 - payload.t_us }
  end,
}
