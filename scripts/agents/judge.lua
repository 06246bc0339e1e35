-- Judge policy: decides whether a rendered video may be published.
-- Provides: decide(payload, ctx) -> {decision = "pass"|"review"|"reject", confidence, checks,
--           failed, thresholds, video_id, findings, categories, providers};
--           screen(text, ctx) -> {decision, categories, findings} (text rules only, for
--           `ain judge eval`); find_pii(text) -> {emails, phones, cards} (exported for specs).
-- Relies on: ain.text (through safety_match), the safety data modules (safety/categories and the
-- lexicons it lists), persona.lua; reads ctx.deps.script (scriptwriter result), ctx.deps.render
-- (render built-in: {probe, gate_ok, gate_error, video_id}), ctx.deps.inspect (output checks),
-- ctx.persona, and settings from payload.config over ctx.config over DEFAULTS.
--
-- Every check yields {name, passed, score 0..1, detail, severity}. Confidence is the weighted mean
-- of the scores, capped by severity: a failed "block" check caps it at 0 (reject), a failed
-- "major" check caps it midway between the thresholds (review), a "minor" one only lowers it.
-- A finding (screen, output checks, providers) is {category, rule, severity, action, span, match,
-- detail}; a finding whose action is reject fails a block check, one whose action is review a
-- major check (docs/policies.md, "The judge").

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

-- Safety screen --------------------------------------------------------------------------------

-- Compiled once per version of the safety modules: a new version (hot reload, a pin, a replay
-- of another sha) is a new table, so the cache is keyed on the tables themselves.
local compiled = { tables = nil, ix = nil }
local persona_ix = setmetatable({}, { __mode = "k" })
local NO_PERSONA = {}

local function static_index(cats)
  local names = type(cats.lexicons) == "table" and cats.lexicons or {}
  local tables = { cats }
  for k, n in ipairs(names) do tables[k + 1] = require("safety/" .. n) end
  local old = compiled.tables
  local same = old ~= nil and #old == #tables
  for k = 1, #tables do same = same and old[k] == tables[k] end
  if not same then
    local lex = {}
    for k, n in ipairs(names) do lex[k] = { name = "safety/" .. n, data = tables[k + 1] } end
    compiled.ix = require("safety_match").compile(lex)
    compiled.tables = tables
  end
  return compiled.ix
end

local function strings(...)
  local out = {}
  for k = 1, select("#", ...) do
    local src = select(k, ...)
    for _, t in ipairs(type(src) == "table" and src or {}) do
      if type(t) == "string" and t ~= "" then out[#out + 1] = t end
    end
  end
  return out
end

-- Brand rules of one persona and the settings: banned terms and topics reject, competitors go to
-- review. Cached per persona table (a persona's version is a new table).
local function brand_index(persona, s)
  local p = persona or NO_PERSONA
  local key = s.competitors == DEFAULTS.competitors and s.banned_terms == DEFAULTS.banned_terms
    and p or nil
  if key and persona_ix[key] then return persona_ix[key] end
  local rules = {}
  local banned = strings(p.banned_terms, s.banned_terms)
  if #banned > 0 then
    rules[#rules + 1] = { id = "brand.banned_term", terms = banned, action = "reject",
      severity = 3, detail = "a banned term of the persona or the judge settings" }
  end
  local topics = strings(p.banned_topics)
  if #topics > 0 then
    rules[#rules + 1] = { id = "brand.banned_topic", terms = topics, action = "reject",
      severity = 3, detail = "a banned topic of the persona" }
  end
  local rivals = strings(p.competitors, s.competitors)
  if #rivals > 0 then
    rules[#rules + 1] = { id = "brand.competitor", terms = rivals, action = "review",
      detail = "a competitor named" }
  end
  local ix = require("safety_match").compile({ { name = "persona " .. tostring(p.id),
    data = { category = "brand", rules = rules } } })
  if key then persona_ix[key] = ix end
  return ix
end

local PII_RULES = { emails = "pii.email", phones = "pii.phone", cards = "pii.card" }

-- find_pii on the folded text (fullwidth "＠", zero-width joins, confusable letters), spans
-- mapped back to the original; plus contact details spelled out.
local function pii_findings(text, cats, out)
  local sm = require("safety_match")
  local T = ain.text.tokens(text, { leet = false })
  local folded, back = sm.folded(text, T)
  local cat = cats.categories.pii or {}
  local function add(rule, i, j, detail)
    out[#out + 1] = { category = "pii", rule = rule, severity = cat.severity or 4,
      action = cat.action or "reject", span = { i, j }, match = text:sub(i, j), detail = detail }
  end
  local found = M.find_pii(folded)
  for kind, rule in pairs(PII_RULES) do
    local from = 1
    for _, v in ipairs(found[kind]) do
      local a, b = folded:find(v, from, true)
      if not a and v:match("^<pii:%a+>$") then -- a token replaced at ingest: "<pii:email:3f2a..>"
        a, b = folded:find(v:sub(1, -2), from, true)
        b = a and (folded:find(">", b, true) or b)
      end
      if a then
        local i, j = back(a, b)
        add(rule, i, j, kind:sub(1, -2) .. " in the text")
        from = b + 1
      end
    end
  end
  for _, c in ipairs(sm.contacts(text, T)) do
    add(c.rule, c.i, c.j, "contact detail spelled out")
  end
end

local function verdict(findings)
  local decision, cats, seen = "pass", {}, {}
  for _, f in ipairs(findings) do
    if f.action == "reject" then decision = "reject"
    elseif f.action == "review" and decision == "pass" then decision = "review" end
    if f.action ~= "pass" and not seen[f.category] then
      seen[f.category] = true
      cats[#cats + 1] = f.category
    end
  end
  table.sort(cats)
  return decision, cats
end

local function by_span(a, b)
  if a.span[1] ~= b.span[1] then return a.span[1] < b.span[1] end
  if a.span[2] ~= b.span[2] then return a.span[2] < b.span[2] end
  return a.rule < b.rule
end

local settings

function M.screen(text, ctx)
  if type(text) ~= "string" then return nil, "EINVAL: screen needs a text string" end
  ctx = type(ctx) == "table" and ctx or {}
  local s = settings({}, ctx)
  local cats = require("safety/categories")
  if type(cats.categories) ~= "table" then
    return nil, "EINVAL: safety/categories needs a categories table"
  end
  local sm = require("safety_match")
  local ok, T = pcall(ain.text.tokens, text, { stem = true })
  if not ok then return nil, "EINVAL: text: " .. tostring(T) end
  local findings = {}
  sm.findings(static_index(cats), text, T, cats.categories, findings)
  sm.findings(brand_index(persona_of(ctx), s), text, T, cats.categories, findings)
  pii_findings(text, cats, findings)
  table.sort(findings, by_span)
  local decision, categories = verdict(findings)
  return { decision = decision, categories = categories, findings = findings }
end

-- Settings and probe ------------------------------------------------------------------------

function settings(payload, ctx)
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

-- The texts of a script a viewer sees or hears, each screened on its own (spans are per field).
local function script_fields(script)
  local fields = {}
  local function put(name, v)
    if type(v) == "string" and v ~= "" then fields[#fields + 1] = { name = name, text = v } end
  end
  put("title", script.title)
  put("text", script.text)
  local text = type(script.text) == "string" and script.text or ""
  for k, l in ipairs(type(script.lines) == "table" and script.lines or {}) do
    if type(l) == "string" and not text:find(l, 1, true) then put("lines[" .. k .. "]", l) end
  end
  local tags = strings(script.hashtags)
  if #tags > 0 then put("hashtags", table.concat(tags, " ")) end
  for k, c in ipairs(type(script.captions) == "table" and script.captions or {}) do
    put("captions[" .. k .. "]", type(c) == "table" and c.text or c)
  end
  return fields
end

-- Screens every field; the same rule on the same words in two fields is one finding.
local function screen_script(script, ctx, s)
  local out, seen = {}, {}
  local sctx = { persona = ctx.persona, persona_id = ctx.persona_id, config = s }
  for _, f in ipairs(script_fields(script)) do
    local r, err = M.screen(f.text, sctx)
    if not r then -- text nobody can screen (invalid UTF-8) is for a person to look at
      r = { findings = { { category = "text", rule = "judge.unreadable", severity = 2,
        action = "review", span = { 1, #f.text }, match = "", detail = err } } }
    end
    for _, x in ipairs(r.findings) do
      local key = x.rule .. "\0" .. x.match:lower()
      if not seen[key] then
        seen[key] = true
        x.field = f.name
        out[#out + 1] = x
      end
    end
  end
  return out
end

local function names(findings, pred)
  local l, seen = {}, {}
  for _, f in ipairs(findings) do
    if pred(f) and not seen[f.match] then
      seen[f.match] = true
      l[#l + 1] = f.match
    end
  end
  return l
end

local function rule_is(prefix)
  return function(f) return f.rule:sub(1, #prefix) == prefix end
end

-- The checks the findings decide: the historical ones by rule (banned terms, PII kinds,
-- competitors), then "safety" for every other finding: failed as block when one rejects, as
-- major when one goes to review.
local function finding_checks(out, findings)
  local banned = names(findings, function(f)
    return f.rule == "brand.banned_term" or f.rule == "brand.banned_topic"
  end)
  check(out, "banned_terms", "block", #banned == 0, 0, #banned > 0 and ("found: "
    .. table.concat(banned, ", ")) or "none found")
  local emails = #names(findings, rule_is("pii.email"))
  local phones = #names(findings, rule_is("pii.phone"))
  local cards = #names(findings, rule_is("pii.card"))
  check(out, "pii_email", "block", emails == 0, 0, emails .. " e-mail address(es)")
  check(out, "pii_phone", "block", phones == 0, 0, phones .. " phone number(s)")
  check(out, "pii_card", "block", cards == 0, 0, cards .. " card number(s)")
  local rivals = names(findings, function(f) return f.rule == "brand.competitor" end)
  check(out, "competitors", "major", #rivals == 0, 0, #rivals > 0 and ("named: "
    .. table.concat(rivals, ", ")) or "none named")
  local handled = { ["brand.banned_term"] = true, ["brand.banned_topic"] = true,
    ["brand.competitor"] = true, ["pii.email"] = true, ["pii.email_spelled"] = true,
    ["pii.phone"] = true, ["pii.phone_spelled"] = true, ["pii.card"] = true }
  local worst, what = nil, {}
  for _, f in ipairs(findings) do
    if not handled[f.rule] and f.action ~= "pass" then
      if f.action == "reject" then worst = "block" elseif not worst then worst = "major" end
      what[#what + 1] = f.category .. "/" .. f.rule .. " '" .. f.match .. "'"
    end
  end
  check(out, "safety", worst or "major", worst == nil, 0, #what > 0 and table.concat(what, "; ")
    or "no finding")
end

local function text_checks(out, script, s)
  local hashtags = type(script.hashtags) == "table" and script.hashtags or {}
  local all = table.concat({ script.title or "", script.text or "",
    table.concat(hashtags, " ") }, "\n")

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

  -- text the persona's voice cannot read (writing.lua) was left out of the speech: a person
  -- decides whether the video works without it (issue 12 §5), instead of letter names read out
  local unspoken = type(script.unspoken) == "table" and script.unspoken or {}
  check(out, "voice_language", "major", #unspoken == 0, 0, #unspoken == 0 and "the voice reads "
    .. "every language in the script" or ("no voice for the " .. table.concat(unspoken, ", ")
    .. " text: shown, not spoken"))
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
  local checks = {}
  local findings = screen_script(ctx.deps.script, ctx, s)
  if type(ctx.deps.inspect) == "table" then
    for _, f in ipairs(require("output_checks").findings(ctx.deps.inspect, ctx.deps.script, s)
        or {}) do
      findings[#findings + 1] = f
    end
  end
  local providers
  if type(s.providers) == "table" and next(s.providers) ~= nil then
    local texts = {}
    for _, f in ipairs(script_fields(ctx.deps.script)) do texts[#texts + 1] = f.text end
    local r = require("moderation").assess(table.concat(texts, "\n"), ctx, s) or {}
    for _, f in ipairs(type(r.findings) == "table" and r.findings or {}) do
      findings[#findings + 1] = f
    end
    providers = r.record
  end
  finding_checks(checks, findings)
  text_checks(checks, ctx.deps.script, s)
  render_checks(checks, ctx.deps.render, s)

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
  local _, categories = verdict(findings)
  return { decision = decision, confidence = confidence, checks = checks, failed = failed,
    thresholds = { pass = s.pass, reject = s.reject }, video_id = render.video_id,
    findings = findings, categories = categories, providers = providers }
end

return M
