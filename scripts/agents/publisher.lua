-- Publisher policy: builds the publish request for one channel; the C side writes it atomically
-- to the channel (outbox directory, ...) and records the receipt under the idempotency key.
-- Provides: publish(payload, ctx) -> {channel, idempotency_key, video_id, files, sidecar}
--           or {skipped = true, reason} when the judge did not pass the video.
--           compensate(payload, ctx) -> {action, video_id, channel, reason}: what to do with the
--           video's other posts when its publish on one channel failed past its retries
--           (engine/sched/compensate.c calls it; docs/publishing-after.md).
-- Relies on: ain.sha256. Reads ctx.deps.judge, ctx.deps.render, ctx.deps.script, ctx.persona,
-- and ctx.review = {approved = true, by = "..."} when a human approved a video sent to review.

local M = {}

-- ctx.persona is the persona table; without it, the persona named by ctx.persona_id is loaded
-- with require("personas/<id>") (the engine records that file's sha256 with the call).
-- Required when called, not at load: the registry validates modules one at a time, so a
-- load-time require could meet the shared module before it has a valid version.
local function persona_of(ctx) return require("persona").of(ctx) end

local DEFAULT_EXT = { video = ".mp4", thumbnail = ".jpg", captions = ".ass" }
local ROLES = { "video", "thumbnail", "captions" }

-- Accepts render results as {artifacts = {video = key, ...}} or {video_key = key, ...}.
local function collect_files(render, video_id)
  local files = {}
  local arts = type(render.artifacts) == "table" and render.artifacts or {}
  for _, role in ipairs(ROLES) do
    local key = arts[role] or render[role .. "_key"]
    if type(key) == "string" and key ~= "" then
      local ext = key:match("(%.[%w]+)$") or DEFAULT_EXT[role]
      files[#files + 1] = { role = role, key = key, name = video_id .. ext }
    end
  end
  return files
end

local function checks_summary(judge)
  local passed, total = 0, 0
  for _, c in ipairs(type(judge.checks) == "table" and judge.checks or {}) do
    total = total + 1
    if c.passed then passed = passed + 1 end
  end
  return { decision = judge.decision, confidence = judge.confidence, passed = passed,
    total = total, failed = judge.failed or {} }
end

local function contains(list, v)
  for _, x in ipairs(list) do
    if x == v then return true end
  end
  return false
end

-- The video a publish step is about: the render's id, else the payload's, the judge's, the DAG's.
local function video_id_of(payload, ctx)
  local deps = type(ctx) == "table" and type(ctx.deps) == "table" and ctx.deps or {}
  local render = type(deps.render) == "table" and deps.render or {}
  local judge = type(deps.judge) == "table" and deps.judge or {}
  local id = render.video_id or payload.video_id or judge.video_id
    or (type(ctx) == "table" and ctx.dag_id)
  if type(id) ~= "string" or id == "" then return nil end
  return id
end

function M.publish(payload, ctx)
  payload = type(payload) == "table" and payload or {}
  local deps = type(ctx) == "table" and type(ctx.deps) == "table" and ctx.deps or {}
  local judge = deps.judge
  if type(judge) ~= "table" or type(judge.decision) ~= "string" then
    return nil, "EINVAL: ctx.deps.judge missing"
  end
  local review = type(ctx.review) == "table" and ctx.review or nil
  local approved = judge.decision == "review" and review ~= nil and review.approved == true
  if judge.decision ~= "pass" and not approved then
    return { skipped = true, reason = "judge decision: " .. judge.decision }
  end

  local persona = persona_of(ctx) or {}
  local channels = type(persona.channels) == "table" and persona.channels or {}
  local channel = payload.channel or channels[1]
  if type(channel) ~= "string" or channel == "" then return nil, "EINVAL: no channel" end
  if #channels > 0 and not contains(channels, channel) then
    return nil, "EINVAL: channel '" .. channel .. "' is not one of persona " .. tostring(persona.id)
      .. "'s channels"
  end

  local render = type(deps.render) == "table" and deps.render or {}
  local script = type(deps.script) == "table" and deps.script or {}
  local video_id = video_id_of(payload, ctx)
  if not video_id then return nil, "EINVAL: no video_id" end
  local files = collect_files(render, video_id)
  if #files == 0 or files[1].role ~= "video" then
    return nil, "EINVAL: render result has no video artifact"
  end

  return {
    channel = channel,
    idempotency_key = ain.sha256(video_id .. channel),
    video_id = video_id,
    files = files,
    sidecar = {
      video_id = video_id,
      title = script.title,
      text = script.text,
      hashtags = script.hashtags or {},
      trend_key = script.trend_key,
      persona = { id = persona.id, display_name = persona.display_name },
      checks = checks_summary(judge),
      reviewed_by = approved and (review.by or "operator") or nil,
      -- per-platform choices the channel kinds read (docs/publishing.md); absent = the config's
      privacy_status = payload.privacy_status or persona.privacy_status, -- youtube
      category_id = payload.category_id or persona.category_id,           -- youtube
      privacy_level = payload.privacy_level or persona.privacy_level,     -- tiktok
      -- Whose pictures are on screen (library and stock: licence, author, page, sha256 key),
      -- from the render (scripts/agents/visuals.lua chose them); nil when all were generated.
      credits = type(render.credits) == "table" and #render.credits > 0 and render.credits or nil,
    },
  }
end

-- Compensation -------------------------------------------------------------------------------

local ACTIONS = { flag = true, unpublish_others = true, none = true }

-- The publish of payload.channel failed past its retries (ctx.failure = {error, step}). The
-- action: the persona's own `compensation` when it sets one (a persona whose posts only make
-- sense together, say a series, takes the others down), else the config's publish.compensation
-- (ctx.config.compensation, default "flag": keep the other posts and flag the video for a
-- person to look at).
function M.compensate(payload, ctx)
  payload = type(payload) == "table" and payload or {}
  ctx = type(ctx) == "table" and ctx or {}
  local video_id = video_id_of(payload, ctx)
  if not video_id then return nil, "EINVAL: no video_id" end
  local ok, persona = pcall(persona_of, ctx)
  persona = ok and type(persona) == "table" and persona or {}
  local channels = type(persona.channels) == "table" and persona.channels or {}
  local channel = payload.channel or channels[1]
  local cfg = type(ctx.config) == "table" and ctx.config or {}
  local action = persona.compensation or cfg.compensation or "flag"
  if not ACTIONS[action] then
    return nil, "EINVAL: compensation '" .. tostring(action)
      .. "' is not flag, unpublish_others or none"
  end
  local failure = type(ctx.failure) == "table" and ctx.failure or {}
  local err = type(failure.error) == "string" and failure.error ~= "" and failure.error
    or "failed past its retries"
  return { action = action, video_id = video_id, channel = channel,
    reason = "publish to " .. tostring(channel) .. " failed: " .. err }
end

return M
