-- Planner policy: turns raw trend records into generate_video tasks.
-- Provides: parse_jsonl(text) -> records, bad; plan(trends, ctx) -> {tasks, skipped};
--           run({text}, ctx) -> {tasks, skipped, bad} (the engine's entry point);
--           normalize(s) -> key (exported so specs and the ML team can see what a key is).
-- Relies on: ain.json.decode (parse_jsonl only), ain.now (only when ctx.now is absent), and, when
-- ctx.config.dedup_threshold or persona_min_similarity is set, ain.embed and ain.vectors
-- (near-duplicate trends, persona similarity: docs/vectors.md). Without them (or when embedding
-- fails: logged) it plans by exact normalised key and topics alone, as before.

local M = {}

-- Text normalization --------------------------------------------------------------------------
-- No NFC is available in the sandbox, so a key is: ASCII lowercased, Latin-1/Greek/Cyrillic
-- capitals folded, apostrophes dropped ("Apple’s" == "Apple's" == "apples"), every other
-- punctuation or symbol (ASCII, unicode quotes and dashes, CJK punctuation, emoji) turned into a
-- space, whitespace collapsed. Letters of any script are kept as they are.

local function codepoint(ch)
  local n, b1, b2, b3, b4 = #ch, ch:byte(1, 4)
  if n == 1 and b1 < 0x80 then return b1 end
  if n == 2 and b1 >= 0xC2 and b1 < 0xE0 then return (b1 - 0xC0) * 64 + (b2 - 0x80) end
  if n == 3 and b1 >= 0xE0 and b1 < 0xF0 then
    return (b1 - 0xE0) * 4096 + (b2 - 0x80) * 64 + (b3 - 0x80)
  end
  if n == 4 and b1 >= 0xF0 and b1 < 0xF5 then
    return (b1 - 0xF0) * 262144 + (b2 - 0x80) * 4096 + (b3 - 0x80) * 64 + (b4 - 0x80)
  end
  return nil -- truncated or overlong sequence: dropped
end

local function encode(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64,
      0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local function in_ranges(cp, ranges)
  for i = 1, #ranges, 2 do
    if cp >= ranges[i] and cp <= ranges[i + 1] then return true end
  end
  return false
end

-- Removed without a trace: apostrophes, zero-width joiners, variation selectors, BOM.
local DROP = { 0x2018, 0x2019, 0x200B, 0x200D, 0x2060, 0x2060, 0xFE00, 0xFE0F, 0xFEFF, 0xFEFF,
  0xE0000, 0xE007F }
-- Turned into a space: separators, Latin-1 punctuation, general punctuation (quotes, dashes,
-- ellipsis), currency, arrows/math/technical/box/shapes/dingbats, CJK and fullwidth punctuation,
-- emoji and pictographs.
local SPACE = { 0x80, 0xA9, 0xAB, 0xB4, 0xB6, 0xB9, 0xBB, 0xBF, 0xD7, 0xD7, 0xF7, 0xF7,
  0x1680, 0x1680, 0x2000, 0x2017, 0x201A, 0x205F, 0x20A0, 0x20CF, 0x2190, 0x2BFF,
  0x2E00, 0x2E7F, 0x3000, 0x303F, 0xFF01, 0xFF0F, 0xFF1A, 0xFF20, 0xFF3B, 0xFF40,
  0xFF5B, 0xFF65, 0x1F000, 0x1FAFF }

local function fold(cp)
  if (cp >= 0xC0 and cp <= 0xDE) or (cp >= 0x391 and cp <= 0x3A9)
      or (cp >= 0x410 and cp <= 0x42F) then
    return cp + 32
  end
  if cp >= 0x400 and cp <= 0x40F then return cp + 80 end
  return cp
end

function M.normalize(s)
  if type(s) ~= "string" then return "" end
  if not s:find("[\128-\255]") then
    -- ASCII only: the same rules as the loop below (apostrophe dropped, letters and digits
    -- lowercased, anything else a space), in string-library calls instead of one per character
    local t = s:gsub("'", ""):lower():gsub("%W+", " ")
    return (t:gsub("^ ", ""):gsub(" $", ""))
  end
  local out = {}
  for ch in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
    local cp = codepoint(ch)
    if cp == nil or in_ranges(cp, DROP) or cp == 39 then
      -- dropped: invalid byte sequence or apostrophe-like
    elseif cp < 0x80 then
      if ch:match("%w") then
        out[#out + 1] = ch:lower()
      else
        out[#out + 1] = " "
      end
    elseif in_ranges(cp, SPACE) then
      out[#out + 1] = " "
    else
      out[#out + 1] = encode(fold(cp))
    end
  end
  local t = table.concat(out):gsub("%s+", " ")
  return (t:gsub("^ ", ""):gsub(" $", ""))
end

-- Keyword matching ------------------------------------------------------------------------------
-- Keywords match whole words of the normalized text ("app" does not match "apple"). Scripts that
-- do not separate words with spaces (CJK, lead bytes 0xE3..0xED) match as substrings instead.

-- Keywords as they are searched for, memoised: a persona's keywords are the same for every trend
-- of a run, and normalising them again per trend was most of the planner's time
-- (bench/planner.c). A value is false (no letters), {plain = needle} (CJK: substring) or
-- {padded = " needle "} (whole words).
local KEYWORDS = {}

local function has_keyword(padded, kw)
  local k = KEYWORDS[kw]
  if k == nil then
    local nk = M.normalize(kw)
    k = nk ~= "" and (nk:find("[\227-\237]") and { plain = nk } or { padded = " " .. nk .. " " })
    KEYWORDS[kw] = k
  end
  if not k then return false end
  return padded:find(k.plain or k.padded, 1, true) ~= nil
end

-- A persona's topic keywords in a fixed order (ties are then broken the same way every run),
-- sorted once per topics table.
local SORTED = setmetatable({}, { __mode = "k" })

local function sorted_keys(t)
  local keys = SORTED[t]
  if keys then return keys end
  keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  SORTED[t] = keys
  return keys
end

local function topic_score(padded, persona)
  local score, matched = 0, {}
  for _, kw in ipairs(sorted_keys(persona.topics or {})) do
    local w = persona.topics[kw]
    if type(w) == "number" and has_keyword(padded, kw) then
      score = score + w
      matched[#matched + 1] = kw
    end
  end
  return score, matched
end

local function banned_hit(padded, persona)
  for _, kw in ipairs(persona.banned_topics or {}) do
    if has_keyword(padded, kw) then return kw end
  end
  return nil
end

-- Input parsing ---------------------------------------------------------------------------------

-- lua-cjson decodes JSON null to a userdata sentinel; the planner treats it as absent.
local function opt(v)
  if type(v) == "userdata" then return nil end
  return v
end

function M.parse_jsonl(text)
  if type(text) ~= "string" then error("parse_jsonl: text must be a string", 2) end
  local records, bad, n = {}, {}, 0
  text = text:gsub("^\239\187\191", "") -- a UTF-8 BOM some editors add
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", "")
    if line:match("%S") then
      -- The engine's decode returns nil, "EINVAL: ..."; plain cjson raises. Handle both.
      local ok, rec, derr = pcall(ain.json.decode, line)
      if not ok or rec == nil then
        bad[#bad + 1] = { line = n, error = "invalid JSON: " .. tostring(ok and derr or rec) }
      elseif type(rec) ~= "table" or rec[1] ~= nil then
        bad[#bad + 1] = { line = n, error = "expected a JSON object" }
      else
        rec._line = n
        records[#records + 1] = rec
      end
    end
  end
  for _, b in ipairs(bad) do
    if type(ain) == "table" and ain.log then
      ain.log("warn", "trend line skipped", { line = b.line, error = b.error })
    end
  end
  return records, bad
end

-- Time: epoch seconds from a number (seconds or milliseconds) or an ISO 8601 UTC/offset string.
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function to_epoch(ts)
  if type(ts) == "number" then
    if ts > 1e11 then return ts / 1000 end
    return ts
  end
  if type(ts) ~= "string" then return nil end
  local y, mo, d, h, mi, s, rest =
    ts:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d)%.?%d*(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi),
    tonumber(s)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  local off = 0
  if rest ~= "Z" and rest ~= "" then
    local sign, oh, om = rest:match("^([%+%-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    off = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off
end

local function now_seconds(ctx)
  local t = ctx.now
  if t == nil and type(ain) == "table" and ain.now then t = ain.now() end
  return to_epoch(t)
end

-- Checks one record's fields; returns nil or a reason naming the field.
local function validate(rec)
  local title = opt(rec.title)
  if title == nil or (type(title) == "string" and not title:match("%S")) then
    return "title: missing"
  end
  if type(title) ~= "string" then return "title: expected string" end
  if #title > 300 then return "title: longer than 300 bytes" end
  local summary = opt(rec.summary)
  if summary ~= nil and type(summary) ~= "string" then return "summary: expected string" end
  local tags = opt(rec.tags)
  if tags ~= nil then
    if type(tags) ~= "table" then return "tags: expected array of strings" end
    for k, v in pairs(tags) do
      if type(k) ~= "number" or type(v) ~= "string" then
        return "tags: expected array of strings"
      end
    end
  end
  local score = opt(rec.score)
  if score ~= nil and (type(score) ~= "number" or score ~= score) then
    return "score: expected number"
  end
  local ts = opt(rec.ts)
  if ts ~= nil and to_epoch(ts) == nil then
    return "ts: expected epoch seconds or ISO 8601 string"
  end
  return nil
end

-- Planning --------------------------------------------------------------------------------------

-- dedup_threshold 0 and persona_min_similarity 0 switch the vector steps off; the engine passes
-- the config's vectors.* values (docs/vectors.md says why 0.45).
local DEFAULTS = { min_topic_score = 2, half_life_hours = 24, score_weight = 0.6,
  dedup_threshold = 0, dedup_window_hours = 72, persona_min_similarity = 0,
  dedup_kind = "trend", performance_weight = 0, performance_days = 30 }

local function setting(ctx, name)
  local cfg = type(ctx.config) == "table" and ctx.config or {}
  if cfg[name] ~= nil then return cfg[name] end
  return DEFAULTS[name]
end

-- 0..100: the source's score (0..100 scale, 50 when unknown) blended with recency (halves every
-- half_life_hours, 0.5 when the time is unknown or no clock is given).
local function priority(rec, now, ctx)
  local s = opt(rec.score) or 50
  s = math.max(0, math.min(100, s)) / 100
  local r = 0.5
  local ts = to_epoch(opt(rec.ts))
  if ts and now then
    local age_h = math.max(0, now - ts) / 3600
    r = 0.5 ^ (age_h / setting(ctx, "half_life_hours"))
  end
  local w = setting(ctx, "score_weight")
  return math.floor(100 * (w * s + (1 - w) * r) + 0.5)
end

local function planned_set(ap)
  local set = {}
  for k, v in pairs(ap or {}) do
    if type(k) == "number" and type(v) == "string" then set[v] = true
    elseif v then set[k] = true end
  end
  return set
end

-- Best persona for one record: highest topic score, ties broken by the similarity of the trend
-- to the persona's description (sims[id], when embeddings are on), then by persona id. When no
-- persona reaches min_topic_score, the persona whose description is most similar wins if that
-- similarity reaches persona_min_similarity. A persona whose banned topics the trend touches is
-- never a candidate.
local function choose_persona(padded, personas, ctx, sims)
  local best, best_score, best_matched, bans = nil, 0, nil, {}
  local best_sim, sim_p, sim_v = -2, nil, -2
  for _, p in ipairs(personas) do
    local ban = banned_hit(padded, p)
    if ban then
      bans[#bans + 1] = p.id .. " (" .. ban .. ")"
    else
      local score, matched = topic_score(padded, p)
      local sim = sims and sims[p.id] or -2
      if score >= setting(ctx, "min_topic_score")
          and (score > best_score or (score == best_score and sim > best_sim)) then
        best, best_score, best_matched, best_sim = p, score, matched, sim
      end
      if sim > sim_v then sim_p, sim_v = p, sim end
    end
  end
  local min_sim = setting(ctx, "persona_min_similarity")
  if not best and sim_p and min_sim > 0 and sim_v >= min_sim then
    return sim_p, 0, {}, bans, sim_v
  end
  return best, best_score, best_matched, bans, best_sim > -2 and best_sim or nil
end

-- Vector steps --------------------------------------------------------------------------------

local function has_vectors()
  return type(ain) == "table" and type(ain.embed) == "function" and type(ain.vectors) == "table"
end

local function warn(msg, fields)
  if type(ain) == "table" and ain.log then ain.log("warn", msg, fields) end
end

local function fmt(x) return string.format("%.2f", x) end

-- Near duplicates among cands (records that passed the exact-key check): dups[i] is the reason
-- to skip cands[i], naming the earlier trend: one planned in the window (ain.vectors.search of
-- kind "trend", its own key excluded) or an earlier line of this batch (vecs:dedup). Returns
-- dups and the titles' vectors (nil when the step is off or embedding failed: logged).
local function near_duplicates(cands, ctx, now)
  local thr = setting(ctx, "dedup_threshold")
  if thr <= 0 or #cands == 0 or not has_vectors() then return {}, nil end
  local titles = {}
  for i, c in ipairs(cands) do titles[i] = c.rec.title end
  local vecs, err = ain.embed(titles)
  if not vecs then
    warn("planner: embedding failed, de-duplicating by key only", { error = err })
    return {}, nil
  end
  local dups = {}
  local since = now and (now - setting(ctx, "dedup_window_hours") * 3600) or nil
  local hits, serr = ain.vectors.search(setting(ctx, "dedup_kind"), vecs, { k = 3, min = thr, since = since })
  if not hits then
    warn("planner: vector search failed, checking this batch only", { error = serr })
    hits = {}
  end
  for i, c in ipairs(cands) do
    for _, h in ipairs(hits[i] or {}) do
      if h.id ~= c.key then
        dups[i] = "near duplicate of planned trend \"" .. h.label .. "\" (" .. h.id
          .. ", cosine " .. fmt(h.score) .. ")"
        break
      end
    end
  end
  local batch = vecs:dedup(thr)
  for i, c in ipairs(cands) do
    local d = batch[i]
    if d and not dups[i] then
      local e = cands[d.row]
      dups[i] = "near duplicate of line " .. tostring(e.line) .. " \"" .. e.rec.title
        .. "\" (cosine " .. fmt(d.score) .. ")"
    end
  end
  return dups, vecs
end

-- sims[i][persona_id]: cosine of cands[i]'s text to each persona's description (nil when off).
local function persona_similarities(cands, personas, ctx)
  if setting(ctx, "persona_min_similarity") <= 0 or #cands == 0 or not has_vectors() then
    return nil
  end
  local descs, ids = {}, {}
  for _, p in ipairs(personas) do
    if type(p.description) == "string" and p.description:match("%w") then
      descs[#descs + 1] = p.description
      ids[#ids + 1] = p.id
    end
  end
  if #descs == 0 then return nil end
  local texts = {}
  for i, c in ipairs(cands) do texts[i] = c.text end
  local pv, err = ain.embed(descs)
  local tv = pv and ain.embed(texts)
  if not pv or not tv then
    warn("planner: embedding failed, matching personas by topics only", { error = err })
    return nil
  end
  local sims = {}
  for i = 1, #cands do
    local row = {}
    for j, id in ipairs(ids) do row[id] = tv:cosine(i, pv, j) end
    sims[i] = row
  end
  return sims
end

-- What performed ------------------------------------------------------------------------------

-- A post's engagement: views plus interactions, which say more than a view (a counter the
-- platform does not report counts 0).
local function engagement(row)
  local function n(k) return type(row[k]) == "number" and row[k] >= 0 and row[k] or 0 end
  return n("views") + 5 * (n("likes") + n("comments")) + 10 * n("shares")
end

local function clamp(x, lo, hi) return math.max(lo, math.min(hi, x)) end

-- From the latest metrics of recent posts (ain.store.post_metrics rows): for each persona and
-- each word of the posts' topics (trend keys), its mean engagement over the mean of all posts,
-- kept within [0.5, 2] so one viral post cannot swamp the plan. nil when nothing was measured.
function M.performance_weights(rows)
  local all, n = 0, 0
  local by_p, by_w = {}, {}
  local function add(t, k, e)
    local s = t[k] or { sum = 0, n = 0 }
    s.sum, s.n = s.sum + e, s.n + 1
    t[k] = s
  end
  for _, r in ipairs(type(rows) == "table" and rows or {}) do
    if type(r) == "table" then
      local e = engagement(r)
      all, n = all + e, n + 1
      if type(r.persona_id) == "string" then add(by_p, r.persona_id, e) end
      if type(r.topic) == "string" then
        local seen = {}
        for w in r.topic:gmatch("%S+") do
          if #w >= 3 and not seen[w] then seen[w] = true; add(by_w, w, e) end
        end
      end
    end
  end
  if n == 0 or all <= 0 then return nil end
  local mean = all / n
  local out = { persona = {}, word = {} }
  for k, s in pairs(by_p) do out.persona[k] = clamp(s.sum / s.n / mean, 0.5, 2) end
  for k, s in pairs(by_w) do out.word[k] = clamp(s.sum / s.n / mean, 0.5, 2) end
  return out
end

-- The factor for planning trend key `key` for persona_id: the persona's factor times the mean
-- factor of the key's measured words (1 for what was never measured), within [0.5, 2].
function M.performance_factor(weights, persona_id, key)
  if not weights then return 1 end
  local f = weights.persona[persona_id] or 1
  local sum, n = 0, 0
  for w in tostring(key):gmatch("%S+") do
    if weights.word[w] then sum, n = sum + weights.word[w], n + 1 end
  end
  if n > 0 then f = f * sum / n end
  return clamp(f, 0.5, 2)
end

-- ctx.post_metrics (rows, e.g. from a test) or ain.store.post_metrics for the last
-- performance_days; nil (and a warning) when the store cannot answer.
local function performance(ctx, now)
  local w = setting(ctx, "performance_weight")
  if type(w) ~= "number" or w <= 0 then return nil, 0 end
  local rows = ctx.post_metrics
  if rows == nil and type(ain) == "table" and type(ain.store) == "table"
      and ain.store.post_metrics then
    local since = now and math.floor((now - setting(ctx, "performance_days") * 86400) * 1000)
    local err
    rows, err = ain.store.post_metrics({ since = since and math.max(0, since) or nil })
    if not rows then warn("planner: post metrics unavailable, planning without them",
      { error = err }) end
  end
  return M.performance_weights(rows), math.min(1, w)
end

function M.plan(trends, ctx)
  if type(trends) ~= "table" then return nil, "EINVAL: trends must be an array" end
  ctx = ctx or {}
  local personas = {}
  for _, p in pairs(type(ctx.personas) == "table" and ctx.personas or {}) do
    -- An id instead of a table loads scripts/personas/<id>.lua.
    if type(p) == "string" and p:match("^[%w_%-]+$") then
      local ok, loaded = pcall(require, "personas/" .. p)
      p = ok and loaded or nil
    end
    if type(p) == "table" and type(p.id) == "string" then personas[#personas + 1] = p end
  end
  if #personas == 0 then return nil, "EINVAL: ctx.personas is empty" end
  table.sort(personas, function(a, b) return a.id < b.id end)

  local planned, seen, now = planned_set(ctx.already_planned), {}, now_seconds(ctx)
  local tasks, skipped = {}, {}
  local function skip(rec, i, reason, key)
    skipped[#skipped + 1] = { line = type(rec) == "table" and rec._line or i, reason = reason,
      trend_key = key }
  end

  -- Pass 1: validity and the exact normalised key; what survives is a candidate.
  local cands = {}
  for i, rec in ipairs(trends) do
    local why = type(rec) ~= "table" and "expected an object" or validate(rec)
    if why then
      skip(rec, i, why)
    else
      local key = M.normalize(rec.title)
      if key == "" then
        skip(rec, i, "title: no letters or digits")
      elseif seen[key] then
        skip(rec, i, "duplicate of line " .. seen[key], key)
      else
        seen[key] = rec._line or i
        local tags = opt(rec.tags) or {}
        local summary = opt(rec.summary)
        local text = table.concat({ rec.title, summary or "", table.concat(tags, " ") }, " ")
        cands[#cands + 1] = { rec = rec, i = i, line = rec._line or i, key = key, tags = tags,
          summary = summary, text = text, padded = " " .. M.normalize(text) .. " " }
      end
    end
  end

  -- Pass 2: near duplicates (embeddings), then persona matching.
  local dups, vecs = near_duplicates(cands, ctx, now)
  local perf, perf_w = performance(ctx, now)
  local sims = persona_similarities(cands, personas, ctx)
  local new_rows, new_items = {}, {}
  for ci, c in ipairs(cands) do
    local rec, i, key = c.rec, c.i, c.key
    if dups[ci] then
      skip(rec, i, dups[ci], key)
    else
      local p, score, matched, bans, sim = choose_persona(c.padded, personas, ctx,
        sims and sims[ci])
      if not p then
        skip(rec, i, #bans > 0 and ("banned topic for " .. table.concat(bans, ", ")
          .. "; no other persona matches") or "no persona matches", key)
      elseif planned[p.id .. "|" .. key] then
        skip(rec, i, "already planned for " .. p.id, key)
      else
        local prio = priority(rec, now, ctx)
        if perf then -- blend in what performed: weight 1 multiplies by the factor itself
          local f = M.performance_factor(perf, p.id, key)
          prio = clamp(math.floor(prio * (1 - perf_w + perf_w * f) + 0.5), 0, 100)
        end
        tasks[#tasks + 1] = {
          type = "generate_video",
          persona_id = p.id,
          priority = prio,
          payload = { trend_key = key, title = rec.title, summary = c.summary, tags = c.tags,
            source = opt(rec.source), trend_id = opt(rec.id), topic_score = score,
            matched = matched, persona_similarity = sim },
        }
        new_rows[#new_rows + 1] = ci
        new_items[#new_items + 1] = { id = key, label = rec.title }
      end
    end
  end
  -- The planned trends join the window, so the next run (or node) sees them.
  if vecs and #new_rows > 0 then
    local ok, err = ain.vectors.add(setting(ctx, "dedup_kind"), vecs:select(new_rows),
      new_items)
    if not ok then warn("planner: storing trend vectors failed", { error = err }) end
  end
  table.sort(tasks, function(a, b)
    if a.priority ~= b.priority then return a.priority > b.priority end
    return a.payload.trend_key < b.payload.trend_key
  end)
  return { tasks = tasks, skipped = skipped }
end

-- The engine's entry point (engine/plan/ calls it on the main loop): payload.text is the JSON Lines
-- source as read from disk (trends.source, "" without one), payload.feeds the records of the
-- trend sources (config key `sources`, docs/sources.md), an array of objects each with its
-- `source`; ctx is plan()'s. Returns plan()'s {tasks, skipped} plus bad = the lines parse_jsonl
-- refused ({line, error}) and feed records that are not objects, so the engine can log them with
-- the file's or the source's name. File records come first: on a duplicate title the file wins.
function M.run(payload, ctx)
  if type(payload) ~= "table" or type(payload.text) ~= "string" then
    return nil, "EINVAL: payload.text (the JSON Lines source) missing"
  end
  if payload.feeds ~= nil and type(payload.feeds) ~= "table" then
    return nil, "EINVAL: payload.feeds must be an array of trend records"
  end
  local records, bad = M.parse_jsonl(payload.text)
  for i, rec in ipairs(payload.feeds or {}) do
    if type(rec) ~= "table" or rec[1] ~= nil then
      bad[#bad + 1] = { line = "feeds#" .. i, error = "expected a JSON object" }
    else
      -- a feed record's line is its source and place in this run's batch ("hn#3")
      rec._line = tostring(opt(rec.source) or "feed") .. "#" .. i
      records[#records + 1] = rec
    end
  end
  local out, err = M.plan(records, ctx)
  if not out then return nil, err end
  out.bad = bad
  return out
end

return M
