-- wrk script of bench/api (bench/api.c runs wrk with it). One request builder per mode, chosen by
-- the environment, so the ceiling and the measured routes pay the same per-request Lua cost in wrk:
--   AIN_WRK_MODE=healthz  GET /healthz (no caller: the server's own ceiling)
--   AIN_WRK_MODE=get      GET /v1/tasks/{id}, ids taken in turn from the file AIN_WRK_IDS
--   AIN_WRK_MODE=post     POST /v1/tasks, a JSON array of AIN_WRK_BATCH (100) new tasks, every
--                         task_id fresh (a UUIDv7 of the run's nonce, wrk's thread and a counter)
-- AIN_WRK_TOKEN is the bearer token. done() prints one line bench/api.c parses:
--   AIN_WRK requests=N secs=S non2xx=N errors=N p50_us=X p99_us=X max_us=X
local mode = os.getenv("AIN_WRK_MODE") or "healthz"
local token = os.getenv("AIN_WRK_TOKEN") or ""
local batch = tonumber(os.getenv("AIN_WRK_BATCH") or "100")
local nonce = tonumber(os.getenv("AIN_WRK_NONCE") or "0") % 16384

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local headers = { ["Authorization"] = "Bearer " .. token }
local ids, nids, at = {}, 0, 0
local counter = 0
local ms = os.time() * 1000

function init(args)
  if mode == "get" then
    for line in io.lines(os.getenv("AIN_WRK_IDS")) do
      nids = nids + 1
      ids[nids] = line
    end
    at = (tid or 0) * 97 % nids
  end
end

-- xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx: 48 bits of time, version 7, 12 bits of wrk's thread,
-- variant 10 + 14 bits of the run's nonce, 48 bits of counter.
local function uuid7()
  counter = counter + 1
  return string.format("%08x-%04x-7%03x-%04x-%012x", math.floor(ms / 65536) % 4294967296,
    ms % 65536, (tid or 0) % 4096, 32768 + nonce, counter)
end

local post_headers = { ["Authorization"] = "Bearer " .. token,
                       ["Content-Type"] = "application/json" }

function request()
  if mode == "get" then
    at = at % nids + 1
    return wrk.format("GET", "/v1/tasks/" .. ids[at], headers)
  elseif mode == "post" then
    local parts = {}
    for i = 1, batch do
      parts[i] = '{"task_id":"' .. uuid7() ..
        '","type":"bench_noop","payload":{"n":' .. i .. '},"persona_id":"bench","state_version":0}'
    end
    return wrk.format("POST", "/v1/tasks", post_headers, "[" .. table.concat(parts, ",") .. "]")
  end
  return wrk.format("GET", "/healthz")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "AIN_WRK requests=%d secs=%.3f non2xx=%d errors=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
