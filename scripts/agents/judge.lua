-- Judge policy: decides whether a rendered video may be published.
-- Provides: decide(payload, ctx) -> {decision = "pass"|"review"|"reject", confidence, checks,
--           failed, thresholds}; find_pii(text) -> {emails, phones, cards} (exported for specs).
-- Relies on: nothing from `ain`; reads ctx.deps.script (scriptwriter result), ctx.deps.render
-- (render built-in: {probe, gate_ok, gate_error, video_id}), ctx.persona, and settings from
-- payload.config over ctx.config over DEFAULTS.
--
-- Every check yields {name, passed, score 0..1, detail, severity}. Confidence is the weighted mean
-- of the scores, capped by severity: a failed "block" check caps it at 0 (reject), a failed
-- "major" check caps it midway between the thresholds (review), a "minor" one only lowers it.

local M = {}

-- ctx.persona is the persona table; without it, the persona named by ctx.persona_id is loaded
-- with require("personas/<id>") (the engine records that file's sha256 with the call).
-- Required when called, not at load: the registry validates modules one at a time, so a
-- load-time require could meet the shared module before it has a valid version.
local function persona_of(ctx) return require("persona").of(ctx) end

local DEFAULTS = {
  pass = 0.8, reject = 0.5,
  min_lines = 3, max_lines = 6, min_words = 12, max_words = 90,
  min_seconds = 8, max_seconds = 25,           -- estimated speech, with slack on 10..20 s
  min_video_seconds = 5, max_video_seconds = 60, -- the channel's limit
  width = 1080, height = 1920,
  min_hashtags = 1, max_hashtags = 5,
  max_caps_words = 1,
  allowed_caps = { "AI", "API", "CPU", "GPU", "USB", "LED", "NASA", "FIFA", "UEFA", "NATO", "HTML",
    "JSON", "DIY", "USA", "NYC", "BBQ", "HIIT", "ETF" },
  competitors = { "HypeForge", "ClipFarm", "TrendBot" },
  banned_terms = {},
  weights = {},
}

-- Text helpers ------------------------------------------------------------------------------

-- Lowercase ASCII; apostrophes dropped; ASCII and unicode punctuation, symbols and emoji become
-- spaces. Enough to match terms as whole words in any casing or quoting.
local function norm(s)
  s = s:gsub("\226\128[\152\153]", ""):gsub("'", "")
  s = s:gsub("\194[\160-\191]", " "):gsub("\195[\151\183]", " ")
  s = s:gsub("\226[\128-\191][\128-\191]", " "):gsub("\227\128[\128-\191]", " ")
  s = s:gsub("[\240-\244][\128-\191]+", " ")
  s = s:gsub("[%c%p%s]", " "):gsub("[A-Z]", string.lower)
  return " " .. s:gsub(" +", " "):gsub("^ ", ""):gsub(" $", "") .. " "
end

local function find_terms(padded, terms)
  local hits = {}
  for _, t in ipairs(terms or {}) do
    if type(t) == "string" then
      local nt = norm(t)
      if nt ~= "  " and padded:find(nt, 1, true) then hits[#hits + 1] = t end
    end
  end
  return hits
end

-- PII -----------------------------------------------------------------------------------------

local function luhn_ok(digits)
  local sum, alt = 0, false
  for i = #digits, 1, -1 do
    local d = digits:byte(i) - 48
    if alt then
      d = d * 2
      if d > 9 then d = d - 9 end
    end
    sum, alt = sum + d, not alt
  end
  return sum % 10 == 0
end

-- A phone number: 7..15 digits (E.164) in a shape people write phone numbers in. Dates, year
-- ranges, decimals, IPv4 addresses and plain space-separated counts are not phone numbers.
local function phone_like(c)
  local digits = c:gsub("%D", "")
  local n = #digits
  if n < 7 or n > 15 then return false end
  if c:match("^%d%d%d%d[%-%./]%d%d?[%-%./]%d%d?$") or c:match("^%d%d?[%-%./]%d%d?[%-%./]%d%d%d%d$")
      or c:match("^%d%d%d%d%s*%-%s*%d%d%d%d$") or c:match("^%d+%.%d+$")
      or c:match("^%d%d?%d?%.%d%d?%d?%.%d%d?%d?%.%d%d?%d?$") then
    return false
  end
  if c:match("^%+") or c:match("^00[1-9]") then return true end          -- +44 20 ..., 0044 ...
  if c:find("(", 1, true) then return n >= 10 end                       -- (415) 555-0132
  if c:find("%s") then return c:match("^0[1-9]") ~= nil and n >= 9 end -- 020 7946 0958
  if c:find("[%-%.]") then return true end                              -- 415-555-0132
  return n >= 10                                                        -- 4155550132
end

function M.find_pii(text)
  local found = { emails = {}, phones = {}, cards = {} }
  for e in text:gmatch("[%w%._%%%+%-]+@[%w%-]+%.[%w%.%-]+") do
    if e:match("%.%a%a+$") then found.emails[#found.emails + 1] = e end
  end
  for e in text:gmatch("[%w%._%-]+%s*[%[%(]at[%]%)]%s*[%w%-]+%s*[%[%(]dot[%]%)]%s*%a%a+") do
    found.emails[#found.emails + 1] = e
  end
  -- Values the engine replaced at ingest ("<pii:email:3f2a9c1b>", docs/operations.md) are no
  -- longer readable, but a video that reads out a token still points at a person.
  for kind in text:gmatch("<pii:(%a+)") do
    local list = ({ email = found.emails, phone = found.phones, card = found.cards })[kind]
    if list then list[#list + 1] = "<pii:" .. kind .. ">" end
  end
  local card_digits = {}
  for c in text:gmatch("%d[%d %-]*%d") do
    local d = c:gsub("%D", "")
    if #d >= 13 and #d <= 19 and d ~= string.rep(d:sub(1, 1), #d) and luhn_ok(d) then
      found.cards[#found.cards + 1] = c
      card_digits[d] = true
    end
  end
  for c in text:gmatch("[%+%(]?%d[%d%s%.%-%(%)]*%d") do
    if not card_digits[c:gsub("%D", "")] then
      if phone_like(c) then
        found.phones[#found.phones + 1] = c
      elseif c:find("%s") then
        -- "Top 10 415-555-0132": the run joined two numbers; judge each part on its own.
        for part in c:gmatch("%S+") do
          if phone_like(part) then found.phones[#found.phones + 1] = part end
        end
      end
    end
  end
  return found
end

-- Settings and probe ------------------------------------------------------------------------

local function settings(payload, ctx)
  local s = {}
  for k, v in pairs(DEFAULTS) do s[k] = v end
  for _, src in ipairs({ type(ctx.config) == "table" and ctx.config or {},
    type(payload.config) == "table" and payload.config or {} }) do
    for k, v in pairs(src) do s[k] = v end
  end
  return s
end

-- Accepts a flat probe {duration, width, height, video_codec, audio_codec} or ffprobe's own
-- JSON ({format = {duration = "14.2"}, streams = {{codec_type = "video", ...}}}).
local function probe_facts(probe)
  local f = { duration = tonumber(probe.duration), width = tonumber(probe.width),
    height = tonumber(probe.height), video = probe.video_codec, audio = probe.audio_codec }
  if type(probe.format) == "table" then
    f.duration = f.duration or tonumber(probe.format.duration)
  end
  for _, st in ipairs(type(probe.streams) == "table" and probe.streams or {}) do
    if st.codec_type == "video" and not f.video then
      f.video, f.width, f.height = st.codec_name or "?", tonumber(st.width), tonumber(st.height)
    elseif st.codec_type == "audio" and not f.audio then
      f.audio = st.codec_name or "?"
    end
  end
  if probe.has_audio == true and not f.audio then f.audio = "?" end
  return f
end

-- Checks --------------------------------------------------------------------------------------

local function check(out, name, severity, passed, score, detail)
  out[#out + 1] = { name = name, severity = severity, passed = passed,
    score = passed and 1 or score, detail = detail }
end

local function text_checks(out, script, persona, s)
  local hashtags = type(script.hashtags) == "table" and script.hashtags or {}
  local all = table.concat({ script.title or "", script.text or "",
    table.concat(hashtags, " ") }, "\n")
  local padded = norm(all)

  local terms = {}
  for _, src in ipairs({ persona.banned_terms, persona.banned_topics, s.banned_terms }) do
    for _, t in ipairs(type(src) == "table" and src or {}) do terms[#terms + 1] = t end
  end
  local hits = find_terms(padded, terms)
  check(out, "banned_terms", "block", #hits == 0, 0, #hits > 0 and ("found: "
    .. table.concat(hits, ", ")) or "none of " .. #terms .. " terms")

  local pii = M.find_pii(all)
  check(out, "pii_email", "block", #pii.emails == 0, 0, #pii.emails .. " e-mail address(es)")
  check(out, "pii_phone", "block", #pii.phones == 0, 0, #pii.phones .. " phone number(s)")
  check(out, "pii_card", "block", #pii.cards == 0, 0, #pii.cards .. " card number(s)")

  local rivals = find_terms(padded, s.competitors)
  check(out, "competitors", "major", #rivals == 0, 0, #rivals > 0 and ("named: "
    .. table.concat(rivals, ", ")) or "none named")

  local allowed, shouts = {}, 0
  for _, w in ipairs(s.allowed_caps) do allowed[w] = true end
  for w in all:gmatch("%f[%a][%a]+%f[%A]") do
    if #w >= 4 and w:match("^%u+$") and not allowed[w] then shouts = shouts + 1 end
  end
  shouts = shouts + select(2, all:gsub("!!+", ""))
  check(out, "shouting", "minor", shouts <= s.max_caps_words,
    math.max(0, 1 - 0.25 * (shouts - s.max_caps_words)), shouts .. " all-caps word(s) or '!!'")

  local bad_tags = 0
  for _, h in ipairs(hashtags) do
    if type(h) ~= "string" or not h:match("^#[^%s#]+$") then bad_tags = bad_tags + 1 end
  end
  local nh = #hashtags
  check(out, "hashtags", "minor", bad_tags == 0 and nh >= s.min_hashtags and nh <= s.max_hashtags,
    0.5, nh .. " hashtag(s), " .. bad_tags .. " malformed; allowed " .. s.min_hashtags .. ".."
    .. s.max_hashtags)

  local lines = type(script.lines) == "table" and #script.lines or 0
  local words, secs = tonumber(script.words) or 0, tonumber(script.est_seconds) or 0
  local ok = lines >= s.min_lines and lines <= s.max_lines and words >= s.min_words
    and words <= s.max_words and secs >= s.min_seconds and secs <= s.max_seconds
  check(out, "length", "major", ok, 0, string.format("%d lines, %d words, %.1f s", lines, words,
    secs))
end

local function render_checks(out, render, s)
  if type(render) ~= "table" then
    check(out, "render_gate", "major", false, 0, "no render result to check")
    return
  end
  check(out, "render_gate", "block", render.gate_ok == true, 0, render.gate_ok == true and "ok"
    or (type(render.gate_error) == "string" and render.gate_error or "output gate failed"))
  local f = probe_facts(type(render.probe) == "table" and render.probe or {})
  local d = f.duration
  check(out, "probe_duration", "major", d ~= nil and d >= s.min_video_seconds
    and d <= s.max_video_seconds, 0, d and string.format("%.2f s (allowed %g..%g)", d,
    s.min_video_seconds, s.max_video_seconds) or "no duration in probe")
  check(out, "probe_streams", "major", f.video ~= nil and f.audio ~= nil, 0,
    "video " .. tostring(f.video) .. ", audio " .. tostring(f.audio))
  check(out, "probe_size", "major", f.width == s.width and f.height == s.height, 0,
    tostring(f.width) .. "x" .. tostring(f.height) .. " (want " .. s.width .. "x" .. s.height .. ")")
end

-- Decision ------------------------------------------------------------------------------------

function M.decide(payload, ctx)
  payload = type(payload) == "table" and payload or {}
  if type(ctx) ~= "table" or type(ctx.deps) ~= "table" or type(ctx.deps.script) ~= "table" then
    return nil, "EINVAL: ctx.deps.script missing"
  end
  local s = settings(payload, ctx)
  if type(s.pass) ~= "number" or type(s.reject) ~= "number" or s.reject < 0 or s.pass > 1
      or s.reject > s.pass then
    return nil, "EINVAL: thresholds need 0 <= reject <= pass <= 1"
  end
  local persona = persona_of(ctx) or {}
  local checks = {}
  text_checks(checks, ctx.deps.script, persona, s)
  render_checks(checks, ctx.deps.render, s)

  -- Output checks (CONTRACTS §5): what the viewer sees and hears, from the inspect step.
  local findings = {}
  if type(ctx.deps.inspect) == "table" then
    findings = require("output_checks").findings(ctx.deps.inspect, ctx.deps.script, s)
    for _, f in ipairs(findings) do
      check(checks, "output_" .. f.rule, "major", false, 0, f.detail)
    end
  end

  local sum, wsum, cap, failed = 0, 0, 1, {}
  for _, c in ipairs(checks) do
    local w = tonumber(s.weights[c.name]) or 1
    sum, wsum = sum + w * c.score, wsum + w
    if not c.passed then
      failed[#failed + 1] = c.name
      if c.severity == "block" then cap = 0
      elseif c.severity == "major" then cap = math.min(cap, (s.pass + s.reject) / 2) end
    end
  end
  local confidence = math.min(cap, wsum > 0 and sum / wsum or 0)
  confidence = math.floor(confidence * 1000 + 0.5) / 1000
  local decision = confidence >= s.pass and "pass" or confidence < s.reject and "reject"
    or "review"
  local render = type(ctx.deps.render) == "table" and ctx.deps.render or {}
  return { decision = decision, confidence = confidence, checks = checks, failed = failed,
    thresholds = { pass = s.pass, reject = s.reject }, video_id = render.video_id,
    findings = findings }
end

return M
