-- Scriptwriter policy: a template script in the persona's tone for one trend.
-- Provides: write(payload, ctx) -> {title, lines, hashtags, text, words, est_seconds, ...};
--           fnv1a(s), count_words(s) (exported for specs).
-- Relies on: nothing from `ain`. Choices are seeded by a pure-Lua FNV-1a hash of the trend key
-- and persona id, so the same inputs give the same script in busted and in the engine.

local M = {}

-- ctx.persona is the persona table; without it, the persona named by ctx.persona_id is loaded
-- with require("personas/<id>") (the engine records that file's sha256 with the call).
-- Required when called, not at load: the registry validates modules one at a time, so a
-- load-time require could meet the shared module before it has a valid version.
local function persona_of(ctx) return require("persona").of(ctx) end

local DEFAULTS = { min_seconds = 10, max_seconds = 20, target_seconds = 14, max_hashtags = 4 }

-- FNV-1a, 32 bit, in plain arithmetic: the sandbox may not offer the bit library.
local function xor8(a, b)
  local r, p = 0, 1
  for _ = 1, 8 do
    local x, y = a % 2, b % 2
    if x ~= y then r = r + p end
    a, b, p = (a - x) / 2, (b - y) / 2, p * 2
  end
  return r
end

function M.fnv1a(s)
  local h = 2166136261
  for i = 1, #s do
    local lo = h % 256
    h = h - lo + xor8(lo, s:byte(i))
    -- h * 16777619 mod 2^32 without losing precision: 16777619 = 2^24 + 403.
    h = ((h % 256) * 16777216 + h * 403) % 4294967296
  end
  return h
end

local function pick(list, seed, salt)
  if type(list) ~= "table" or #list == 0 then return nil end
  return list[M.fnv1a(seed .. "|" .. salt) % #list + 1]
end

-- A word is a whitespace-separated token; in scripts written without spaces (CJK, lead bytes
-- 0xE3..0xED) each character counts as one, so the duration estimate does not collapse.
function M.count_words(s)
  local n = 0
  for tok in s:gmatch("%S+") do
    local cjk = select(2, tok:gsub("[\227-\237][\128-\191][\128-\191]", ""))
    n = n + math.max(1, cjk)
  end
  return n
end

local function words_of(lines)
  local n = 0
  for _, l in ipairs(lines) do n = n + M.count_words(l) end
  return n
end

-- Keeps the first `max` words of s.
local function clip_words(s, max)
  local out = {}
  for w in s:gmatch("%S+") do
    if #out >= max then break end
    out[#out + 1] = w
  end
  return table.concat(out, " ")
end

-- At most `max` bytes, cut on a UTF-8 character boundary.
local function clip_bytes(s, max)
  if #s <= max then return s end
  local cut = max
  while cut > 0 and s:byte(cut + 1) and s:byte(cut + 1) >= 0x80 and s:byte(cut + 1) < 0xC0 do
    cut = cut - 1
  end
  return (s:sub(1, cut):gsub("%s+$", ""))
end

-- espeak-ng would read emoji and symbol names aloud: pictographs (4-byte), arrows, math,
-- technical, box, shapes, misc symbols, dingbats (U+2190..U+27FF, U+2B00..U+2BFF), joiners and
-- variation selectors go.
local function speakable(s)
  s = s:gsub("[\240-\244][\128-\191]*", ""):gsub("\226[\134-\159\172-\175][\128-\191]", "")
    :gsub("\226\128\141", ""):gsub("\239\184[\128-\143]", "")
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function sentence(s)
  s = speakable(s)
  if s == "" then return s end
  if not s:match("[%.!%?]$") then s = s .. "." end
  return s
end

local function first_sentence(s)
  return s:match("^(.-[%.!%?])%s") or s
end

local function hashtag(s)
  local t = s:lower():gsub("[%s%p]", "")
  if t == "" then return nil end
  return "#" .. t
end

local function make_hashtags(persona, tags, max)
  local out, seen = {}, {}
  local function add(h)
    if h and not seen[h] and #out < max then
      seen[h] = true
      out[#out + 1] = h
    end
  end
  for _, h in ipairs(persona.hashtags or {}) do add(hashtag(h)) end
  for _, t in ipairs(tags) do add(hashtag(t)) end
  return out
end

local function setting(payload, ctx, name)
  if type(payload.config) == "table" and payload.config[name] ~= nil then
    return payload.config[name]
  end
  if type(ctx.config) == "table" and ctx.config[name] ~= nil then return ctx.config[name] end
  return DEFAULTS[name]
end

-- One candidate script: hook, summary, opinion, [extras...], closer. Extras (a tag line, the
-- tone's fillers) are added only while they keep the script under the target word count.
local function assemble(p, tone, seed, title_max, summary_max, target, max_words)
  local topic = p.tags[1] or (p.matched and p.matched[1]) or "this"
  local hook = (pick(tone.openers, seed, "opener") or "") .. " "
    .. sentence(clip_words(p.title, title_max))
  local summary
  if p.summary and p.summary:match("%S") then
    summary = sentence(clip_words(first_sentence(p.summary), summary_max))
  else
    summary = sentence("Everyone is talking about " .. topic)
  end
  local opinion = (pick(tone.bridges, seed, "bridge") or "") .. " This is "
    .. (pick(tone.adjectives, seed, "adjective") or "big") .. " news for " .. topic .. " fans."
  local lines = { speakable(hook), summary, opinion }

  local extras = {}
  if #p.tags >= 2 then
    extras[#extras + 1] = sentence("Think " .. table.concat(p.tags, ", ", 1, math.min(3, #p.tags)))
  end
  local fillers = tone.fillers or {}
  local start = #fillers > 0 and M.fnv1a(seed .. "|filler") % #fillers or 0
  for i = 0, #fillers - 1 do extras[#extras + 1] = fillers[(start + i) % #fillers + 1] end

  local closer = pick(tone.closers, seed, "closer") or "Follow for more."
  local n = words_of(lines) + M.count_words(closer)
  for _, e in ipairs(extras) do
    if #lines >= 5 or n >= target then break end
    local w = M.count_words(e)
    if n + w <= max_words then
      lines[#lines + 1] = e
      n = n + w
    end
  end
  lines[#lines + 1] = closer
  return lines
end

local function check_inputs(payload, ctx)
  if type(payload) ~= "table" then return "EINVAL: payload must be a table" end
  if type(payload.title) ~= "string" or not payload.title:match("%S") then
    return "EINVAL: payload.title missing"
  end
  local p = persona_of(ctx)
  if type(p) ~= "table" then return "EINVAL: ctx.persona missing" end
  if type(p.voice) ~= "table" or type(p.voice.rate) ~= "number" or p.voice.rate <= 0 then
    return "EINVAL: persona.voice.rate must be a positive number"
  end
  if type(p.tone) ~= "table" then return "EINVAL: persona.tone missing" end
  return nil
end

function M.write(payload, ctx)
  local why = check_inputs(payload, ctx)
  if why then return nil, why end
  local persona = persona_of(ctx)
  local tags = {}
  for _, t in ipairs(type(payload.tags) == "table" and payload.tags or {}) do
    if type(t) == "string" and t:match("%S") then tags[#tags + 1] = t end
  end
  local p = { title = payload.title, tags = tags, matched = payload.matched,
    summary = type(payload.summary) == "string" and payload.summary or nil }
  local key = type(payload.trend_key) == "string" and payload.trend_key or payload.title
  local seed = key .. "|" .. tostring(persona.id)

  local rate = persona.voice.rate
  local min_words = math.ceil(setting(payload, ctx, "min_seconds") * rate / 60)
  local max_words = math.floor(setting(payload, ctx, "max_seconds") * rate / 60)
  local target = math.floor(setting(payload, ctx, "target_seconds") * rate / 60)

  -- Long titles and summaries are clipped step by step until the script fits the time budget.
  local lines
  for _, title_max in ipairs({ 14, 10, 6 }) do
    for summary_max = 28, 4, -4 do
      lines = assemble(p, persona.tone, seed, title_max, summary_max, target, max_words)
      if words_of(lines) <= max_words then break end
    end
    if words_of(lines) <= max_words then break end
  end
  -- Still too long for a very short window: drop middle lines, keeping hook, summary and closer.
  while words_of(lines) > max_words and #lines > 3 do table.remove(lines, #lines - 1) end
  local words = words_of(lines)

  return {
    title = clip_bytes(speakable(payload.title), 80),
    lines = lines,
    text = table.concat(lines, " "),
    words = words,
    est_seconds = math.floor(words / rate * 600 + 0.5) / 10,
    min_words = min_words,
    max_words = max_words,
    hashtags = make_hashtags(persona, tags, setting(payload, ctx, "max_hashtags")),
    persona_id = persona.id,
    trend_key = key,
    voice = persona.voice,
    tone = persona.tone.name,
  }
end

return M
