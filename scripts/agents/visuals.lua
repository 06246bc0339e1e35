-- Visuals policy: the script as a list of scenes, and what each scene shows (issue 12 §1).
-- Provides: choose(payload, ctx) -> {scenes = {{start_ms, end_ms, text, keywords, visual}},
--           sources = {library = n, pexels = n, pixabay = n, generated = n}, notes = {...}}
--           (the render built-in draws the scenes in one ffmpeg graph: engine/media/scenes.c);
--           and the pure parts for specs: split, keywords, emoji_for, match_library, pick_pexels,
--           pick_pixabay.
-- Relies on: ctx.deps.tts.words ({w, s, e} in ms), ctx.deps.script, ctx.deps.assets.library (the
-- media library's index, scanned by the assets built-in), payload.style.palette (the persona's, copied by pipeline.lua),
-- ctx.config.stock ({order, pexels = {url, secret}, pixabay = {url, secret}}), ain.http and
-- ain.secret for the stock providers.
--
-- Sources, in this order: the user's media library (files whose tags match the scene's
-- keywords), then each configured stock provider (search, pick by orientation, resolution and
-- duration; a 429 or an empty answer moves on to the next), then the embedded default: generated
-- motion in the persona's palette with an emoji chosen by keyword.

local M = {}

M.MAX_SCENE_MS = 3600   -- a longer beat is split: nothing stays on one picture past ~4 s
M.MIN_SCENE_MS = 1100   -- a shorter one is merged into its neighbour (the transition is 0.4 s)
M.PAUSE_MS = 350        -- a pause this long between words ends a beat

-- ---- scenes ------------------------------------------------------------------------------------

local function ends_sentence(w)
  return w:match("[%.!%?:;…]['\"”’%)]*$") ~= nil
end

-- words: {{w, s, e}, ...} -> beats {{start_ms, end_ms, text, first, last}} covering 0..the end of
-- the speech, in order, without overlap. A beat ends at a sentence end or a pause; beats longer than
-- MAX_SCENE_MS are cut at a word boundary, shorter than MIN_SCENE_MS merged into the previous one.
function M.split(words, total_ms)
  local beats, cur = {}, nil
  for i, w in ipairs(words or {}) do
    if type(w) ~= "table" or type(w.s) ~= "number" or type(w.e) ~= "number" then
      return nil, "EINVAL: deps.tts.words[" .. i .. "] must be {w, s, e}"
    end
    if cur == nil then cur = { first = i, last = i, s = w.s, e = w.e } end
    -- Too long already: this word starts a new beat.
    if w.e - cur.s > M.MAX_SCENE_MS and i > cur.first then
      beats[#beats + 1] = cur
      cur = { first = i, last = i, s = w.s, e = w.e }
    end
    cur.last, cur.e = i, w.e
    local nxt = words[i + 1]
    local pause = nxt and type(nxt.s) == "number" and nxt.s - w.e >= M.PAUSE_MS
    if ends_sentence(tostring(w.w or "")) or pause then
      beats[#beats + 1] = cur
      cur = nil
    end
  end
  if cur then beats[#beats + 1] = cur end
  local last_e = #beats > 0 and beats[#beats].e or 0
  total_ms = math.max(tonumber(total_ms) or 0, last_e)
  if total_ms <= 0 then return nil, "EINVAL: no words and no duration" end
  -- Scene boundaries: each beat starts where its first word starts (the first at 0) and lasts
  -- until the next beat; merge the short ones.
  local out = {}
  for i, b in ipairs(beats) do
    local start = i == 1 and 0 or b.s
    local prev = out[#out]
    if prev and start - prev.start_ms < M.MIN_SCENE_MS then
      prev.last = b.last -- the previous scene was too short: it takes this beat's words
    else
      if prev then prev.end_ms = start end
      out[#out + 1] = { start_ms = start, first = b.first, last = b.last }
    end
  end
  if #out == 0 then out[1] = { start_ms = 0, first = 1, last = 0 } end
  out[#out].end_ms = total_ms
  -- The tail: a last scene too short to hold a transition joins the one before.
  if #out > 1 and out[#out].end_ms - out[#out].start_ms < M.MIN_SCENE_MS then
    out[#out - 1].end_ms, out[#out - 1].last = total_ms, out[#out].last
    out[#out] = nil
  end
  -- A long stretch with no words (music, a slow voice) is still cut into <= MAX_SCENE_MS scenes.
  local cut = {}
  for _, sc in ipairs(out) do
    local len = sc.end_ms - sc.start_ms
    local parts = math.max(1, math.ceil(len / M.MAX_SCENE_MS - 0.15))
    for k = 1, parts do
      local s = sc.start_ms + math.floor(len * (k - 1) / parts)
      local e = k == parts and sc.end_ms or sc.start_ms + math.floor(len * k / parts)
      cut[#cut + 1] = { start_ms = s, end_ms = e, first = sc.first, last = sc.last }
    end
  end
  for _, sc in ipairs(cut) do
    local t = {}
    for i = sc.first, sc.last do
      if words[i] and words[i].s < sc.end_ms and words[i].e > sc.start_ms then t[#t + 1] = words[i].w end
    end
    sc.text = table.concat(t, " ")
    sc.first, sc.last = nil, nil
  end
  return cut
end

-- ---- keywords and pictures ---------------------------------------------------------------------

local STOP = {}
for w in ([[a an the and or but if of to in on at by for with from as is are was were be been it
  its this that these those there here what which who whom how why when where your you our we they
  them his her their my me i he she not no yes so too very just can will would should could do does
  did done have has had about into over under than then also more most some any all each every one
  two new now get got make makes made like really okay ok guess fans fan news stop here's it's
  that's let's today thing things way lot bit tell below follow part short version]]):gmatch("%S+") do
  STOP[w] = true
end

-- Lower-case content words of a text, in order, without repeats ("Chips!" -> "chips").
function M.keywords(text)
  local out, seen = {}, {}
  for w in tostring(text or ""):lower():gmatch("[%a][%a%-']*") do
    w = w:gsub("'s$", ""):gsub("^%-+", ""):gsub("%-+$", "")
    if #w >= 3 and not STOP[w] and not seen[w] then
      seen[w] = true
      out[#out + 1] = w
    end
  end
  return out
end

-- Plural to singular, enough for tag matching: batteries, beaches, boxes, chips -> battery...
local function stem(w)
  if w:match("ies$") then return (w:gsub("ies$", "y")) end
  if w:match("[cs]hes$") or w:match("xes$") or w:match("sses$") then return (w:gsub("es$", "")) end
  return (w:gsub("([^s])s$", "%1"))
end

-- Keyword -> emoji (Noto Color Emoji has them all). Stems: "chips" finds "chip".
local EMOJI = {
  ai = "🤖", robot = "🤖", machine = "🤖", learning = "🧠", brain = "🧠", chip = "🔬", gpu = "🖥️",
  computer = "💻", laptop = "💻", software = "💾", app = "📱", phone = "📱", smartphone = "📱",
  linux = "🐧", code = "👨‍💻", data = "📊", battery = "🔋", power = "⚡", energy = "⚡",
  electric = "⚡", car = "🚗", rocket = "🚀", space = "🚀", launch = "🚀", science = "🔬",
  money = "💰", price = "🏷️", cost = "💸", budget = "💸", saving = "🐷", save = "🐷", bank = "🏦",
  market = "📈", stock = "📈", rate = "📈", growth = "📈", rise = "📈", fall = "📉", drop = "📉",
  tax = "🧾", invest = "💹", investing = "💹", debt = "💳", card = "💳", rent = "🏠", home = "🏠",
  house = "🏠", food = "🍽️", recipe = "🍳", cook = "🍳", cooking = "🍳", chef = "👨‍🍳", pasta = "🍝",
  pizza = "🍕", bread = "🍞", coffee = "☕", tea = "🍵", sugar = "🍬", salt = "🧂", fruit = "🍎",
  vegetable = "🥦", meat = "🥩", fish = "🐟", egg = "🥚", kitchen = "🍳", taste = "😋",
  fitness = "💪", workout = "🏋️", gym = "🏋️", run = "🏃", running = "🏃", walk = "🚶", sleep = "😴",
  health = "❤️", heart = "❤️", water = "💧", sport = "⚽", football = "⚽", soccer = "⚽",
  basketball = "🏀", tennis = "🎾", win = "🏆", team = "👥", game = "🎮", gaming = "🎮",
  music = "🎵", movie = "🎬", film = "🎬", book = "📚", read = "📖", school = "🏫", study = "📚",
  learn = "📚", calm = "🧘", mind = "🧘", meditation = "🧘", breath = "🌬️", breathe = "🌬️",
  stress = "😮‍💨", nature = "🌿", tree = "🌳", plant = "🌱", garden = "🌻", flower = "🌸",
  sun = "☀️", weather = "🌦️", rain = "🌧️", snow = "❄️", cold = "🥶", hot = "🔥", fire = "🔥",
  climate = "🌍", earth = "🌍", world = "🌍", travel = "✈️", flight = "✈️", city = "🏙️",
  time = "⏰", clock = "⏰", minute = "⏱️", day = "📅", week = "📅", year = "📅", idea = "💡",
  tip = "💡", secret = "🤫", warning = "⚠️", risk = "⚠️", safe = "🛡️", security = "🔒",
  privacy = "🔒", password = "🔑", question = "❓", why = "🤔", think = "🤔", news = "📰",
  report = "📰", study_ = "📑", photo = "📷", camera = "📷", video = "🎥", mail = "📧",
  message = "💬", chat = "💬", social = "📣", people = "👥", family = "👪", baby = "👶", dog = "🐶",
  cat = "🐱", animal = "🐾", love = "❤️", happy = "😄", fun = "🎉", party = "🎉", wild = "🤯",
  wow = "🤩", record = "🏅", first = "🥇", star = "⭐", light = "💡", solar = "☀️", wind = "🌬️",
  ocean = "🌊", sea = "🌊", beach = "🏖️", mountain = "⛰️", open = "🔓", source = "🧩",
  build = "🛠️", tool = "🛠️", fix = "🔧", repair = "🔧", update = "🔄", speed = "⚡", fast = "⚡",
  slow = "🐢", big = "🐘", small = "🐜", chart = "📊", number = "🔢", percent = "📊",
}
-- Persona-neutral pictures for beats without a keyword: still meaningful (attention, idea, point).
local GENERIC = { "💡", "👀", "✨", "🎯", "📣", "🔥", "🤔", "👉" }

-- The emoji for a scene: its first keyword that has one (exact, then stemmed), else a generic
-- picture; never the same as the previous scene's (avoid), so consecutive scenes differ.
function M.emoji_for(keywords, index, avoid)
  for _, k in ipairs(keywords or {}) do
    local e = EMOJI[k] or EMOJI[stem(k)]
    if e and e ~= avoid then return e, k end
  end
  local i = ((tonumber(index) or 1) - 1) % #GENERIC + 1
  if GENERIC[i] == avoid then i = i % #GENERIC + 1 end
  return GENERIC[i], nil
end

-- ---- the media library -------------------------------------------------------------------------

-- index: {{path, kind, tags}} from the assets step. Returns the entry whose tags share the most
-- (stemmed) keywords with the scene, preferring files not used yet; nil without a match.
function M.match_library(index, keywords, used)
  if type(index) ~= "table" or #index == 0 then return nil end
  local want = {}
  for _, k in ipairs(keywords or {}) do want[stem(k)] = true end
  local best, best_score
  for _, e in ipairs(index) do
    local score = 0
    for _, t in ipairs(type(e.tags) == "table" and e.tags or {}) do
      if type(t) == "string" and want[stem(t:lower())] then score = score + 1 end
    end
    if score > 0 then
      if used and used[e.path] then score = score - 0.5 end
      if not best or score > best_score then best, best_score = e, score end
    end
  end
  return best
end

-- ---- stock providers ---------------------------------------------------------------------------

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- Pexels photo search answer (https://www.pexels.com/api/documentation/#photos-search): the
-- portrait photo with the best resolution at or above the frame, else the largest portrait one.
function M.pick_pexels(doc, want)
  local best
  for _, p in ipairs(type(doc) == "table" and type(doc.photos) == "table" and doc.photos or {}) do
    local w, h = tonumber(p.width) or 0, tonumber(p.height) or 0
    local src = type(p.src) == "table" and (p.src.portrait or p.src.large2x or p.src.original)
    if src and h > w then
      local enough = h >= (want.height or 0)
      if not best or (enough and not best.enough) or (enough == best.enough and h > best.h) then
        best = { url = src, page_url = p.url, author = p.photographer, h = h, enough = enough }
      end
    end
  end
  if not best then return nil end
  return { kind = "image", source = "pexels", url = best.url, page_url = best.page_url,
           author = best.author, licence = "Pexels License (https://www.pexels.com/license/)" }
end

-- Pixabay image search answer (https://pixabay.com/api/docs/#api_search_images).
function M.pick_pixabay(doc, want)
  local best
  for _, p in ipairs(type(doc) == "table" and type(doc.hits) == "table" and doc.hits or {}) do
    local w, h = tonumber(p.imageWidth) or 0, tonumber(p.imageHeight) or 0
    local src = p.largeImageURL or p.webformatURL
    if src and h > w then
      local enough = h >= (want.height or 0)
      if not best or (enough and not best.enough) or (enough == best.enough and h > best.h) then
        best = { url = src, page_url = p.pageURL, author = p.user, h = h, enough = enough }
      end
    end
  end
  if not best then return nil end
  return { kind = "image", source = "pixabay", url = best.url, page_url = best.page_url,
           author = best.author,
           licence = "Pixabay Content License (https://pixabay.com/service/license-summary/)" }
end

local PROVIDERS = {
  pexels = {
    request = function(p, key, query)
      return { url = p.url .. "/v1/search?query=" .. urlencode(query)
               .. "&orientation=portrait&size=large&per_page=15",
               headers = { Authorization = key } }
    end,
    pick = M.pick_pexels,
  },
  pixabay = {
    request = function(p, key, query)
      return { url = p.url .. "/api/?key=" .. urlencode(key) .. "&q=" .. urlencode(query)
               .. "&image_type=photo&orientation=vertical&safesearch=true&per_page=20" }
    end,
    pick = M.pick_pixabay,
  },
}

-- One search at one provider. Returns visual | nil, why ("rate limited", "no results", ...).
-- io = {http = fn, secret = fn} (ain.http and ain.secret in the engine).
function M.search(name, pcfg, query, want, io)
  local prov = PROVIDERS[name]
  if not prov or type(pcfg) ~= "table" or type(pcfg.url) ~= "string" then
    return nil, "not configured"
  end
  local key = pcfg.secret and io.secret(pcfg.secret)
  if type(key) ~= "string" or key == "" then return nil, "no key (secret " .. tostring(pcfg.secret) .. ")" end
  local req = prov.request(pcfg, key, query)
  req.timeout_ms = pcfg.timeout_ms or 10000
  req.max_bytes = 4 * 1024 * 1024
  local r, err = io.http(req)
  if not r then return nil, "unreachable: " .. tostring(err) end
  if r.status == 429 then return nil, "rate limited", true end
  if r.status ~= 200 then return nil, "HTTP " .. tostring(r.status) end
  local doc = ain.json.decode(r.body)
  if type(doc) ~= "table" then return nil, "not JSON" end
  local v = prov.pick(doc, want)
  if not v then return nil, "no results" end
  return v
end

-- ---- the step ----------------------------------------------------------------------------------

local function stock_order(stock)
  if type(stock) ~= "table" then return {} end
  local out = {}
  local order = type(stock.order) == "table" and stock.order or { "pexels", "pixabay" }
  for _, n in ipairs(order) do
    if type(stock[n]) == "table" and stock[n].url then out[#out + 1] = n end
  end
  return out
end

local function hex(c)
  local r, g, b = tostring(c):match("^#?(%x%x)(%x%x)(%x%x)$")
  if not r then return nil end
  return tonumber(r, 16), tonumber(g, 16), tonumber(b, 16)
end

-- The motion colours of scene i: the persona's two background colours and their blend, rotated
-- so consecutive scenes differ. The text and highlight colours stay out: captions in those
-- colours must stand out against the background, never melt into it.
local function rotate(p, i)
  local a, b = p.bg1 or "#1d2b64", p.bg2 or "#5b86e5"
  local r1, g1, b1 = hex(a)
  local r2, g2, b2 = hex(b)
  local mid = "#3a4a6a"
  if r1 and r2 then
    -- halfway between, a little lighter: a third tone that belongs to the palette
    local function m(x, y) return math.min(255, math.floor((x + y) / 2 * 1.15)) end
    mid = string.format("#%02x%02x%02x", m(r1, r2), m(g1, g2), m(b1, b2))
  end
  local c = { a, b, mid }
  local k = (i - 1) % 3
  local out = { c[k + 1], c[(k + 1) % 3 + 1], c[(k + 2) % 3 + 1] }
  -- Rotation alone keeps the frame's overall tone: a dark palette's scenes then look alike (a
  -- navy palette's six scenes read as two). So scene 2 of each three is lifted 30 % towards white
  -- (a dark palette) or lowered 30 % towards black (a light one, so white captions keep their
  -- contrast), scene 3 by 15 %.
  local f = ({ 0, 0.30, 0.15 })[k + 1]
  if f > 0 and r1 and r2 then
    local dark = (0.2126 * (r1 + r2) + 0.7152 * (g1 + g2) + 0.0722 * (b1 + b2)) / 2 < 128
    for j, col in ipairs(out) do
      local r, g, bl = hex(col)
      local function t(x) return math.floor(dark and x + (255 - x) * f or x * (1 - f)) end
      out[j] = string.format("#%02x%02x%02x", t(r), t(g), t(bl))
    end
  end
  return out
end

-- The built-in visuals step: payload (from pipeline.lua) may carry {width, height}; opts.io
-- replaces ain.http/ain.secret (specs).
function M.choose(payload, ctx, opts)
  ctx = type(ctx) == "table" and ctx or {}
  payload = type(payload) == "table" and payload or {}
  local deps = type(ctx.deps) == "table" and ctx.deps or {}
  local tts = type(deps.tts) == "table" and deps.tts or {}
  if type(tts.words) ~= "table" then return nil, "EINVAL: deps.tts.words missing (the tts step)" end
  local scenes, err = M.split(tts.words, tts.duration_ms)
  if not scenes then return nil, err end
  local style = type(payload.style) == "table" and payload.style
    or (type(ctx.persona) == "table" and ctx.persona.style) or {}
  local palette = type(style.palette) == "table" and style.palette or {}
  local config = type(ctx.config) == "table" and ctx.config or {}
  local library = type(deps.assets) == "table" and deps.assets.library or nil
  local io = (opts and opts.io) or { http = ain and ain.http, secret = ain and ain.secret }
  local want = { width = payload.width or config.width or 1080,
                 height = payload.height or config.height or 1920 }
  local order = stock_order(config.stock)
  local limited, notes, used = {}, {}, {}
  local sources = { library = 0, pexels = 0, pixabay = 0, generated = 0 }
  local prev_emoji
  local title_kw = M.keywords(type(deps.script) == "table" and deps.script.title or "")
  for i, sc in ipairs(scenes) do
    sc.keywords = M.keywords(sc.text)
    -- A beat without content words ("Wow.") borrows the title's, so it still shows the topic.
    local kw = #sc.keywords > 0 and sc.keywords or title_kw
    local v
    local hit = M.match_library(library, kw, used)
    if hit then
      used[hit.path] = true
      v = { kind = hit.kind == "clip" and "clip" or "image", source = "library", path = hit.path,
            licence = hit.licence, author = hit.attribution }
    end
    for _, name in ipairs(v == nil and #kw > 0 and order or {}) do
      if not limited[name] then
        local got, why, rate_limited = M.search(name, config.stock[name],
          table.concat(kw, " ", 1, math.min(#kw, 3)), want, io)
        if got then v = got break end
        notes[#notes + 1] = string.format("scene %d: %s: %s", i, name, why)
        -- A 429 holds for the rest of this video: the next scenes go straight to the next source.
        if rate_limited then limited[name] = true end
      end
    end
    if v == nil then
      local e = M.emoji_for(kw, i, prev_emoji)
      prev_emoji = e
      v = { kind = "motion", source = "generated", colours = rotate(palette, i), emoji = e }
    end
    v.seed = (i * 7 + #sc.text) % 997
    sources[v.source] = sources[v.source] + 1
    sc.visual = v
  end
  return { scenes = scenes, sources = sources, notes = notes }
end

return M
