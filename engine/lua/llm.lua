-- ain.llm: chat completions against an OpenAI-compatible server (POST {url}/v1/chat/completions:
-- llama.cpp's server, Ollama, vLLM, hosted APIs), with structured output checked against a JSON
-- schema, retries, a cache by request hash, token and cost accounting.
-- Engine-owned Lua compiled into the binary (engine/lua/ain_llm.c loads it into every policy
-- state, outside the sandbox's globals): it runs on the call's own coroutine and budget and does
-- all of its I/O through the ain.* functions it is handed, so what it asks and hears is recorded
-- and replayed like any policy's (lua/io_record.c):
-- - ain.http: every exchange is recorded with the step (the request body by sha256); `ain replay`
--   serves the recorded answer to the same body, so a replayed decision never calls the model;
-- - ain.store (the calling policy's namespace): the cache, key "llm:" .. sha256 of the request,
--   so a retried step does not pay for an answer it already got;
-- - ain.secret: the API key, sent only in the Authorization header (request headers are never
--   recorded) and scrubbed from any error text.
-- Provides (as ain.llm): chat(cfg, req), validate(schema, value), encode(value), retry_after(v,
-- now_ms). Documented in docs/lua-api.md.
-- Relies on: the arguments below (the ain module table before it is made read-only, and a C
-- function that counts requests, tokens and cost into engine/obs; it ignores replay).

local ain, count = ...
local json, sha256 = ain.json, ain.sha256
local type, pairs, ipairs, tostring, tonumber, select = type, pairs, ipairs, tostring, tonumber,
  select
local floor, huge, random, min, max = math.floor, math.huge, math.random, math.min, math.max
local concat, sort = table.concat, table.sort
local next = next
local fmt = string.format

local M = {}

local BACKOFF_BASE_MS, BACKOFF_CAP_MS = 500, 8000
local MAX_RETRY_AFTER_MS = 60000  -- a server that asks for longer is given up on, not waited for
local MAX_ANSWER_BYTES = 4194304
local DEFAULTS = { timeout_ms = 30000, max_attempts = 3, max_tokens = 1024,
  response_format = "json_schema" }

-- Canonical JSON ----------------------------------------------------------------------------
-- The request body's sha256 is the cache key and what replay matches a recorded exchange by, so
-- the same request must be the same bytes in every Lua state: object keys sorted, sequences as
-- arrays. An empty table is {} (a schema never needs an empty array: `required = {}` is
-- dropped, see schema_json).

local function is_seq(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k % 1 ~= 0 then return false end
    n = n + 1
  end
  return n > 0 and t[n] ~= nil
end

local function encode(v, depth)
  depth = depth or 0
  if depth > 64 then error("ain.llm: a value nested deeper than 64 levels", 0) end
  local tv = type(v)
  if tv == "table" then
    local parts = {}
    if is_seq(v) then
      for i = 1, #v do parts[i] = encode(v[i], depth + 1) end
      return "[" .. concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do
      if type(k) ~= "string" then
        error("ain.llm: an object key must be a string, got " .. type(k), 0)
      end
      keys[#keys + 1] = k
    end
    sort(keys)
    for i, k in ipairs(keys) do parts[i] = json.encode(k) .. ":" .. encode(v[k], depth + 1) end
    return "{" .. concat(parts, ",") .. "}"
  elseif tv == "string" or tv == "number" or tv == "boolean" then
    return json.encode(v)
  end
  error("ain.llm: cannot encode a " .. tv, 0)
end
M.encode = encode

-- JSON schema, the documented subset --------------------------------------------------------

local KEYWORDS = { type = true, properties = true, required = true, items = true, enum = true,
  minLength = true, maxLength = true, minItems = true, maxItems = true,
  additionalProperties = true, minimum = true, maximum = true, description = true, title = true }
local TYPES = { string = true, number = true, integer = true, boolean = true, object = true,
  array = true, null = true }

-- Raises (misuse) on a schema outside the subset, naming its path.
local function check_schema(s, path)
  if type(s) ~= "table" then error("ain.llm: schema " .. path .. " must be a table", 0) end
  local ks = {}
  for k in pairs(s) do ks[#ks + 1] = tostring(k) end
  sort(ks)
  for _, k in ipairs(ks) do
    if not KEYWORDS[k] then
      error("ain.llm: schema " .. path .. ": keyword '" .. k .. "' is not supported (the subset: "
        .. "type, properties, required, items, enum, minLength, maxLength, minItems, maxItems, "
        .. "additionalProperties = false, minimum, maximum)", 0)
    end
  end
  local ty = s.type
  if ty ~= nil then
    local list = type(ty) == "table" and ty or { ty }
    for _, t in ipairs(list) do
      if not TYPES[t] then error("ain.llm: schema " .. path .. ".type: unknown type '"
        .. tostring(t) .. "'", 0) end
    end
  end
  if s.additionalProperties ~= nil and s.additionalProperties ~= false then
    error("ain.llm: schema " .. path .. ".additionalProperties: only false is supported", 0)
  end
  if s.properties ~= nil then
    if type(s.properties) ~= "table" then
      error("ain.llm: schema " .. path .. ".properties must be a table", 0)
    end
    for k, sub in pairs(s.properties) do check_schema(sub, path .. ".properties." .. tostring(k)) end
  end
  if s.required ~= nil then
    if type(s.required) ~= "table" then
      error("ain.llm: schema " .. path .. ".required must be a list of names", 0)
    end
    for _, k in ipairs(s.required) do
      if type(k) ~= "string" then error("ain.llm: schema " .. path .. ".required holds a "
        .. type(k), 0) end
    end
  end
  if s.items ~= nil then check_schema(s.items, path .. ".items") end
  if s.enum ~= nil and (type(s.enum) ~= "table" or not is_seq(s.enum)) then
    error("ain.llm: schema " .. path .. ".enum must be a non-empty list", 0)
  end
  for _, k in ipairs({ "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum" }) do
    if s[k] ~= nil and type(s[k]) ~= "number" then
      error("ain.llm: schema " .. path .. "." .. k .. " must be a number", 0)
    end
  end
end

local function utf8_len(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function type_of(v)
  local tv = type(v)
  if tv == "table" then
    if next(v) == nil then return "empty" end  -- [] and {} decode alike
    return is_seq(v) and "array" or "object"
  elseif tv == "number" then
    return (v % 1 == 0 and v > -huge and v < huge) and "integer" or "number"
  elseif tv == "userdata" or tv == "nil" then
    return "null"                              -- cjson.null
  end
  return tv
end

local function type_ok(want, got)
  if want == got then return true end
  if want == "number" and got == "integer" then return true end
  if got == "empty" and (want == "array" or want == "object") then return true end
  return false
end

-- nil when value matches schema, else "<path>: <what is wrong>" for the first problem (keys in
-- sorted order, so every Lua state names the same one).
local function validate(s, v, path)
  if s.type ~= nil then
    local got = type_of(v)
    local list = type(s.type) == "table" and s.type or { s.type }
    local ok = false
    for _, t in ipairs(list) do ok = ok or type_ok(t, got) end
    if not ok then
      return fmt("%s: expected %s, got %s", path, concat(list, " or "),
        got == "empty" and "an empty table" or got)
    end
  end
  if s.enum ~= nil then
    local ok = false
    for _, e in ipairs(s.enum) do ok = ok or e == v end
    if not ok then
      local shown = {}
      for i, e in ipairs(s.enum) do shown[i] = json.encode(e) end
      return fmt("%s: must be one of %s", path, concat(shown, ", "))
    end
  end
  local tv = type(v)
  if tv == "string" then
    local n = utf8_len(v)
    if s.minLength and n < s.minLength then
      return fmt("%s: shorter than %d characters", path, s.minLength)
    end
    if s.maxLength and n > s.maxLength then
      return fmt("%s: longer than %d characters", path, s.maxLength)
    end
  elseif tv == "number" then
    if s.minimum and v < s.minimum then return fmt("%s: below %s", path, tostring(s.minimum)) end
    if s.maximum and v > s.maximum then return fmt("%s: above %s", path, tostring(s.maximum)) end
  elseif tv == "table" then
    local kind = type_of(v)
    if kind == "array" or (kind == "empty" and s.items) then
      if s.minItems and #v < s.minItems then
        return fmt("%s: fewer than %d items", path, s.minItems)
      end
      if s.maxItems and #v > s.maxItems then
        return fmt("%s: more than %d items", path, s.maxItems)
      end
      if s.items then
        for i = 1, #v do
          local e = validate(s.items, v[i], path .. "[" .. i .. "]")
          if e then return e end
        end
      end
    end
    if kind == "object" or (kind == "empty" and (s.properties or s.required)) then
      for _, k in ipairs(s.required or {}) do
        if v[k] == nil then return fmt("%s: missing required property '%s'", path, k) end
      end
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      sort(keys)
      for _, k in ipairs(keys) do
        local sub = s.properties and s.properties[k]
        if sub then
          local e = validate(sub, v[k], path .. "." .. k)
          if e then return e end
        elseif s.additionalProperties == false then
          return fmt("%s: unexpected property '%s'", path, k)
        end
      end
    end
  end
  return nil
end

function M.validate(schema, value)
  check_schema(schema, "$")
  local e = validate(schema, value, "$")
  if e then return nil, e end
  return true
end

-- OpenAI's strict mode holds only when every object lists all its properties as required and
-- forbids others; a looser schema is sent with strict = false (still a grammar for llama.cpp).
local function strict_ok(s)
  if type(s) ~= "table" then return true end
  if s.properties then
    if s.additionalProperties ~= false then return false end
    local req = {}
    for _, k in ipairs(s.required or {}) do req[k] = true end
    for k, sub in pairs(s.properties) do
      if not req[k] or not strict_ok(sub) then return false end
    end
  end
  return strict_ok(s.items)
end

-- The schema as sent: description/title kept, an empty `required` dropped (it would encode {}).
local function schema_json(s)
  if type(s) ~= "table" then return s end
  local out = {}
  for k, v in pairs(s) do
    if k == "properties" then
      local p = {}
      for pk, pv in pairs(v) do p[pk] = schema_json(pv) end
      out[k] = p
    elseif k == "items" then
      out[k] = schema_json(v)
    elseif not (k == "required" and #v == 0) then
      out[k] = v
    end
  end
  return out
end

-- Retry-After -------------------------------------------------------------------------------

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8,
  Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Milliseconds to wait for a Retry-After value (delta-seconds, or an HTTP date: IMF-fixdate or
-- RFC 850), or nil when it is neither. A date in the past is 0.
function M.retry_after(v, now_ms)
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  if v:match("^%d+$") then return tonumber(v) * 1000 end
  local d, mon, y, hh, mm, ss = v:match("^%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then
    d, mon, y, hh, mm, ss = v:match("^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d or not MONTHS[mon] then return nil end
  local t = ((days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 24 + tonumber(hh)) * 60
    + tonumber(mm)) * 60 + tonumber(ss)
  return max(0, t * 1000 - now_ms)
end

-- One answer --------------------------------------------------------------------------------

local function fail(code, msg) return nil, code .. ": " .. msg, code end

-- Printable ASCII, at most n bytes, the key (if any) masked: error text ends up in task results.
local function clean(s, n, key)
  s = tostring(s or "")
  if key and key ~= "" then
    local i = s:find(key, 1, true)
    while i do
      s = s:sub(1, i - 1) .. "***" .. s:sub(i + #key)
      i = s:find(key, 1, true)
    end
  end
  s = s:gsub("[^\32-\126]", "?")
  if #s > n then s = s:sub(1, n) .. "..." end
  return s
end

-- The server's error message from an OpenAI error body, else the body's start.
local function server_error(r, key)
  local e = json.decode(r.body or "")
  local why = type(e) == "table" and type(e.error) == "table" and e.error.message
  if type(why) ~= "string" then why = r.body or "" end
  return clean(why, 200, key)
end

-- A chat.completion body -> {content, refusal, finish_reason, model, usage} or nil, why.
local function parse(body)
  local v = json.decode(body or "")
  if type(v) ~= "table" then return nil, "the answer is not JSON" end
  local ch = v.choices
  if type(ch) ~= "table" or type(ch[1]) ~= "table" or type(ch[1].message) ~= "table" then
    return nil, "the answer has no choices[1].message"
  end
  local msg = ch[1].message
  local out = { finish_reason = type(ch[1].finish_reason) == "string" and ch[1].finish_reason
    or nil, model = type(v.model) == "string" and v.model or nil }
  if type(msg.refusal) == "string" and msg.refusal ~= "" then out.refusal = msg.refusal end
  if type(msg.content) == "string" then
    out.content = msg.content
  elseif not out.refusal then
    return nil, "choices[1].message.content is not a string"
  end
  local u = type(v.usage) == "table" and v.usage or {}
  local function n(x) return (type(x) == "number" and x >= 0 and x < 1e12) and floor(x) or 0 end
  out.usage = { prompt_tokens = n(u.prompt_tokens), completion_tokens = n(u.completion_tokens) }
  out.usage.total_tokens = out.usage.prompt_tokens + out.usage.completion_tokens
  out.usage_reported = type(v.usage) == "table"
  return out
end

local function backoff_ms(attempt)
  local d = min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ^ (attempt - 1))
  return floor(d / 2 + random() * d / 2)  -- "equal jitter": never less than half the step
end

-- Sends body until an answer that parses, a failure that retrying cannot fix, or max_attempts.
-- st accumulates attempts, ms, usage and the retries' causes across calls.
local function exchange(cfg, body, headers, key, st)
  local url = cfg.url .. "/v1/chat/completions"
  local last_err, last_code
  while st.attempts < st.max_attempts do
    st.attempts = st.attempts + 1
    local r, err, code = ain.http { method = "POST", url = url, headers = headers, body = body,
      timeout_ms = st.timeout_ms, max_bytes = MAX_ANSWER_BYTES }
    local wait
    if not r then
      if code == "EREPLAY" then return nil, err, code end
      count(code == "ETIMEOUT" and "timeout" or "transport")
      last_err, last_code = clean(err, 300, key), code == "ETIMEOUT" and "ETIMEOUT" or "EHTTP"
    else
      st.ms = st.ms + (r.ms or 0)
      if r.status == 200 then
        local a, why = parse(r.body)
        if a then
          count("ok")
          return a
        end
        count("invalid")
        last_err, last_code = why, "ELLM"
      elseif r.status == 429 or r.status >= 500 then
        count(r.status == 429 and "rate_limited" or "server_error")
        last_err = "HTTP " .. r.status .. ": " .. server_error(r, key)
        last_code = "ELLM_HTTP"
        local ra = M.retry_after(r.headers and r.headers["retry-after"], ain.now())
        if ra and ra > MAX_RETRY_AFTER_MS then
          return fail("ELLM_HTTP", fmt("%s (the server asks to retry after %d s, more than %d s)",
            last_err, floor(ra / 1000), MAX_RETRY_AFTER_MS / 1000))
        end
        wait = ra
      else
        count("client_error")  -- a request the server will never accept: no retry
        return fail("ELLM_HTTP", "HTTP " .. r.status .. ": " .. server_error(r, key))
      end
    end
    st.errors[#st.errors + 1] = last_err
    if st.attempts < st.max_attempts then ain.sleep(wait or backoff_ms(st.attempts)) end
  end
  return fail(last_code or "ELLM", fmt("%s (after %d attempts)", tostring(last_err),
    st.attempts))
end

local function check_cfg(cfg)
  if type(cfg) ~= "table" then
    error("ain.llm.chat: cfg must be the llm config table (ctx.config.llm)", 3)
  end
  if type(cfg.url) ~= "string" or not cfg.url:match("^https?://[^%s?#]*[^%s?#/]$") then
    error("ain.llm.chat: cfg.url must be an http(s) base URL without trailing slash", 3)
  end
  if type(cfg.model) ~= "string" or cfg.model == "" then
    error("ain.llm.chat: cfg.model is required", 3)
  end
  if cfg.secret ~= nil and type(cfg.secret) ~= "string" then
    error("ain.llm.chat: cfg.secret must be the name of a secret", 3)
  end
  local rf = cfg.response_format or DEFAULTS.response_format
  if rf ~= "json_schema" and rf ~= "json_object" and rf ~= "none" then
    error("ain.llm.chat: cfg.response_format must be json_schema, json_object or none", 3)
  end
end

local function check_req(req)
  if type(req) ~= "table" then error("ain.llm.chat: req must be a table", 3) end
  if type(req.messages) ~= "table" or not is_seq(req.messages) then
    error("ain.llm.chat: req.messages must be a non-empty list of {role, content}", 3)
  end
  for i, m in ipairs(req.messages) do
    if type(m) ~= "table" or type(m.role) ~= "string" or type(m.content) ~= "string" then
      error("ain.llm.chat: req.messages[" .. i .. "] must be {role = string, content = string}", 3)
    end
  end
  if req.schema ~= nil then check_schema(req.schema, "$") end
  if req.check ~= nil and type(req.check) ~= "function" then
    error("ain.llm.chat: req.check must be a function", 3)
  end
  if req.schema_name ~= nil and (type(req.schema_name) ~= "string"
      or not req.schema_name:match("^[%w_%-]+$") or #req.schema_name > 64) then
    error("ain.llm.chat: req.schema_name must be 1-64 of A-Z a-z 0-9 _ -", 3)
  end
  if req.temperature ~= nil and (type(req.temperature) ~= "number" or req.temperature < 0
      or req.temperature > 2) then
    error("ain.llm.chat: req.temperature must be a number from 0 to 2", 3)
  end
end

local function body_of(cfg, req, messages)
  local rf = cfg.response_format or DEFAULTS.response_format
  local b = { model = cfg.model, messages = messages, temperature = req.temperature or 0,
    max_tokens = tonumber(req.max_tokens or cfg.max_tokens) or DEFAULTS.max_tokens }
  if req.schema then
    if rf == "json_schema" then
      b.response_format = { type = "json_schema", json_schema = {
        name = req.schema_name or "answer", strict = strict_ok(req.schema),
        schema = schema_json(req.schema) } }
    elseif rf == "json_object" then
      b.response_format = { type = "json_object" }
    end
  end
  return encode(b)
end

-- The messages as sent: without a json_schema response_format the schema goes into the prompt.
local function first_messages(cfg, req)
  local rf = cfg.response_format or DEFAULTS.response_format
  local msgs = {}
  for i, m in ipairs(req.messages) do msgs[i] = { role = m.role, content = m.content } end
  if req.schema and rf ~= "json_schema" then
    msgs[#msgs + 1] = { role = "system", content = "Answer with one JSON object only, no other "
      .. "text, matching this JSON schema: " .. encode(schema_json(req.schema)) }
  end
  return msgs
end

local function price(cfg, usage)
  local p = type(cfg.prices) == "table" and cfg.prices
  if not p then return nil end
  local pp, pc = tonumber(p.prompt) or 0, tonumber(p.completion) or 0
  return (usage.prompt_tokens * pp + usage.completion_tokens * pc) / 1000
end

-- The answer's data: decoded, validated against the schema, then req.check. nil, why on failure.
local function accept(req, a)
  if not req.schema then
    if req.check then
      local why = req.check(a.content)
      if why then return nil, tostring(why) end
    end
    return true
  end
  if a.finish_reason == "length" then
    return nil, "$: the answer was cut at max_tokens (finish_reason \"length\")"
  end
  local text = a.content:match("^%s*```%w*%s*(.-)%s*```%s*$") or a.content  -- fenced JSON
  local data, jerr = json.decode(text)
  if data == nil then return nil, "$: not JSON (" .. clean(jerr, 120) .. ")" end
  local e = validate(req.schema, data, "$")
  if e then return nil, e end
  if req.check then
    local why = req.check(data)
    if why then return nil, tostring(why) end
  end
  a.data = data
  return true
end

-- ain.llm.chat(cfg, req) -> answer | nil, "ECODE: detail", code (see docs/lua-api.md).
function M.chat(cfg, req)
  check_cfg(cfg)
  check_req(req)
  local st = { attempts = 0, ms = 0, errors = {},
    max_attempts = floor(tonumber(cfg.max_attempts) or DEFAULTS.max_attempts),
    timeout_ms = floor(tonumber(cfg.timeout_ms) or DEFAULTS.timeout_ms) }
  st.max_attempts = max(1, min(10, st.max_attempts))
  local messages = first_messages(cfg, req)
  local body = body_of(cfg, req, messages)
  local req_sha = sha256(cfg.url .. "\n" .. body)
  local cache_key = "llm:" .. req_sha
  local usage = { prompt_tokens = 0, completion_tokens = 0, total_tokens = 0 }

  local function answer(a, cached)
    return { content = a.content, data = a.data, model = a.model or cfg.model,
      finish_reason = a.finish_reason, usage = usage, cost = price(cfg, usage),
      attempts = st.attempts, retries = st.errors, cached = cached, request_sha256 = req_sha,
      ms = st.ms }
  end

  if req.cache ~= false then
    local hit = ain.store.get(cache_key)  -- nil on a miss, a store failure or no store
    if type(hit) == "table" and type(hit.content) == "string" then
      local a = { content = hit.content, model = hit.model, finish_reason = hit.finish_reason }
      if accept(req, a) then return answer(a, true) end  -- paid for once: usage 0 here
    end
  end

  local headers = { ["Content-Type"] = "application/json" }
  local key
  if cfg.secret ~= nil then
    local k, kerr, kcode = ain.secret(cfg.secret)
    if not k then return nil, kerr, kcode end
    key = k
    headers.Authorization = "Bearer " .. k
  end

  local last_why
  for round = 1, 2 do  -- the second round feeds the first answer's problem back, once
    local a, err, code = exchange(cfg, body, headers, key, st)
    if not a then return nil, err, code end
    usage.prompt_tokens = usage.prompt_tokens + a.usage.prompt_tokens
    usage.completion_tokens = usage.completion_tokens + a.usage.completion_tokens
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    count(nil, a.usage.prompt_tokens, a.usage.completion_tokens, price(cfg, a.usage) or 0)
    if a.refusal or a.finish_reason == "content_filter" then
      count("refused")
      return fail("ELLM_REFUSED", "the model refused: "
        .. clean(a.refusal or "finish_reason \"content_filter\"", 200, key))
    end
    local ok, why = accept(req, a)
    if ok then
      if req.cache ~= false then
        -- best effort: a failed write (a conflict, replay's EREPLAY) costs only a later call
        ain.store.put(cache_key, { content = a.content, model = a.model,
          finish_reason = a.finish_reason, usage = a.usage })
      end
      return answer(a, false)
    end
    count("invalid")
    last_why = why
    st.errors[#st.errors + 1] = why
    if round == 1 then
      messages[#messages + 1] = { role = "assistant", content = a.content }
      messages[#messages + 1] = { role = "user", content = "That answer is invalid: " .. why
        .. ". Answer again, with JSON that matches the schema and the instructions." }
      body = body_of(cfg, req, messages)
      st.max_attempts = st.attempts + max(1, floor(tonumber(cfg.max_attempts)
        or DEFAULTS.max_attempts))
    end
  end
  return fail("ELLM_SCHEMA", clean(last_why, 300, key) .. " (after feeding the error back once)")
end

return M
