-- Pipeline policy: the shape of the DAG that makes one video, as data.
-- Provides: build(payload, ctx) -> {steps = {{name, handler, deps, timeout_ms, max_attempts,
--           payload}, ...}} for a generate_video task; validate(spec) -> true | nil, "EINVAL: ..".
-- Relies on: ctx.persona (voice, style and channels are copied into the built-in steps' payloads,
-- so the C built-ins never load persona files). Handlers "lua:<module>.<function>" run a policy;
-- any other handler names a C built-in.
--
-- Each step lists every step whose result it reads in `deps` (ctx.deps holds exactly those), so
-- render also depends on script (captions), inspect on render, script and visuals (the scene
-- changes it does not sample), judge on script, render
-- and inspect, review_gate on judge and render, publish on review_gate, judge, render and script.
-- Ordering is the same as the plain chain script -> tts -> render -> inspect -> judge ->
-- review_gate -> publish.

local M = {}

-- ctx.persona is the persona table; without it, the persona named by ctx.persona_id is loaded
-- with require("personas/<id>") (the engine records that file's sha256 with the call).
-- Required when called, not at load: the registry validates modules one at a time, so a
-- load-time require could meet the shared module before it has a valid version.
local function persona_of(ctx) return require("persona").of(ctx) end

local VIDEO = { width = 1080, height = 1920, fps = 30, max_seconds = 60 }

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return c
end

function M.validate(spec)
  if type(spec) ~= "table" or type(spec.steps) ~= "table" or #spec.steps == 0 then
    return nil, "EINVAL: steps must be a non-empty array"
  end
  local seen = {}
  for i, s in ipairs(spec.steps) do
    local where = "steps[" .. i .. "]"
    if type(s.name) ~= "string" or not s.name:match("^[%w_%-]+$") then
      return nil, "EINVAL: " .. where .. ".name must match [A-Za-z0-9_-]+"
    end
    if seen[s.name] then return nil, "EINVAL: " .. where .. ".name '" .. s.name .. "' repeats" end
    if type(s.handler) ~= "string" or not (s.handler:match("^lua:[%w_]+%.[%w_]+$")
        or s.handler:match("^[%w_]+$")) then
      return nil, "EINVAL: " .. where .. ".handler must be 'lua:module.function' or a built-in"
    end
    if type(s.deps) ~= "table" then return nil, "EINVAL: " .. where .. ".deps must be an array" end
    for _, d in ipairs(s.deps) do
      -- A dependency must be declared earlier: that rules out cycles and typos at once.
      if not seen[d] then
        return nil, "EINVAL: " .. where .. ".deps names '" .. tostring(d) .. "', not an earlier step"
      end
    end
    if type(s.timeout_ms) ~= "number" or s.timeout_ms <= 0 or s.timeout_ms % 1 ~= 0 then
      return nil, "EINVAL: " .. where .. ".timeout_ms must be a positive integer"
    end
    if type(s.max_attempts) ~= "number" or s.max_attempts < 1 or s.max_attempts % 1 ~= 0 then
      return nil, "EINVAL: " .. where .. ".max_attempts must be an integer >= 1"
    end
    if type(s.payload) ~= "table" then return nil, "EINVAL: " .. where .. ".payload must be a table" end
    seen[s.name] = true
  end
  return true
end

-- The script step's time: the template writer needs milliseconds; with a model (ctx.config.llm)
-- it may make max_attempts requests of timeout_ms each, with backoff between them, twice (the
-- scriptwriter's check is fed back once).
local function script_timeout(ctx)
  local llm = type(ctx) == "table" and type(ctx.config) == "table" and ctx.config.llm
  if type(llm) ~= "table" then return 10000 end
  local per = (tonumber(llm.timeout_ms) or 30000) + 8000
  return math.min(600000, 10000 + 2 * (tonumber(llm.max_attempts) or 3) * per)
end

function M.build(payload, ctx)
  if type(payload) ~= "table" or type(payload.title) ~= "string" or not payload.title:match("%S") then
    return nil, "EINVAL: payload.title missing"
  end
  local persona = persona_of(ctx)
  if type(persona) ~= "table" or type(persona.voice) ~= "table" or type(persona.style) ~= "table" then
    return nil, "EINVAL: ctx.persona with voice and style missing"
  end
  local channels = type(persona.channels) == "table" and persona.channels or {}
  if #channels == 0 then return nil, "EINVAL: persona " .. tostring(persona.id) .. " has no channels" end
  for _, ch in ipairs(channels) do
    -- Channel names become step names and file paths on the C side.
    if type(ch) ~= "string" or not ch:match("^[%w_%-]+$") then
      return nil, "EINVAL: channel name must match [A-Za-z0-9_-]+: " .. tostring(ch)
    end
  end

  local steps = {
    { name = "script", handler = "lua:scriptwriter.write", deps = {},
      timeout_ms = script_timeout(ctx),
      max_attempts = 3, payload = { trend_key = payload.trend_key or payload.title,
        title = payload.title, summary = payload.summary, tags = copy(payload.tags) or {},
        matched = copy(payload.matched) } },
    -- Built-in: speech from the persona's voice provider, the music bed, the mix (one file).
    { name = "tts", handler = "tts", deps = { "script" }, timeout_ms = 120000, max_attempts = 3,
      payload = { voice = copy(persona.voice), music = copy(persona.music), persona = persona.id } },
    { name = "assets", handler = "assets", deps = {}, timeout_ms = 60000, max_attempts = 3,
      payload = { style = copy(persona.style), width = VIDEO.width, height = VIDEO.height } },
    -- The script as scenes, each with its visual (library, stock, or generated motion + emoji):
    -- scripts/agents/visuals.lua; the render draws them in its one ffmpeg graph.
    { name = "visuals", handler = "lua:visuals.choose", deps = { "tts", "script", "assets" },
      timeout_ms = 60000, max_attempts = 3, payload = { style = copy(persona.style),
        width = VIDEO.width, height = VIDEO.height } },
    { name = "render", handler = "render", deps = { "tts", "assets", "visuals", "script" },
      timeout_ms = 180000, max_attempts = 2, payload = { style = copy(persona.style),
        width = VIDEO.width, height = VIDEO.height, fps = VIDEO.fps,
        max_seconds = VIDEO.max_seconds } },
    -- Built-in: OCR of sampled frames and speech recognition of the audio (child processes),
    -- what the judge's output checks compare with the script (docs/pipeline.md).
    { name = "inspect", handler = "inspect", deps = { "render", "script", "visuals" },
      timeout_ms = 150000, max_attempts = 2, payload = {} },
    { name = "judge", handler = "lua:judge.decide", deps = { "render", "script", "inspect" },
      timeout_ms = 10000, max_attempts = 2, payload = {} },
    -- Built-in: stores the judge's decision (video, safety report); "review" parks this step
    -- until `ain review approve|reject` (it holds no worker slot while it waits). On a pass or
    -- an approval it mints the publish tokens of these channels (docs/publish-tokens-quotas.md).
    { name = "review_gate", handler = "review_gate", deps = { "judge", "render" },
      timeout_ms = 10000, max_attempts = 3, payload = { channels = copy(channels) } },
  }
  -- One publish step per channel, so each has its own retries and receipt. The built-in
  -- "publish" runs lua:publisher.publish to build the request, then writes it to the channel.
  for i, ch in ipairs(channels) do
    steps[#steps + 1] = { name = i == 1 and "publish" or ("publish_" .. tostring(ch)),
      handler = "publish", deps = { "review_gate", "judge", "render", "script" },
      timeout_ms = 60000, max_attempts = 5, payload = { channel = ch } }
  end
  local spec = { steps = steps }
  local ok, err = M.validate(spec)
  if not ok then return nil, err end
  return spec
end

return M
