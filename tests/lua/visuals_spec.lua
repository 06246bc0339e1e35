-- Specs for scripts/agents/visuals.lua: script words -> scenes (beats, no overlap, none longer
-- than ~4 s, none too short for a transition), keywords, emoji by keyword, library matching, the
-- order of sources (library, then stock in configured order, then generated), 429 and empty
-- answers moving on. The stock answers here follow the providers' documented JSON (the same
-- shapes tests/servers/pexels.js and pixabay.js serve to the real-HTTP test,
-- tests/integration/stock_visuals.sh).
local H = require("tests.lua.helper")
local visuals = require("visuals")

-- Words at a steady 300 ms each, sentences ending where the text says.
local function words_of(text, gap_after)
  local out, t = {}, 0
  for w in text:gmatch("%S+") do
    out[#out + 1] = { w = w, s = t, e = t + 280 }
    t = t + 300
    if gap_after and gap_after[#out] then t = t + gap_after[#out] end
  end
  return out, t
end

local function check_scenes(scenes, total)
  assert.are.equal(0, scenes[1].start_ms)
  assert.are.equal(total, scenes[#scenes].end_ms)
  for i, s in ipairs(scenes) do
    assert.is_true(s.end_ms > s.start_ms)
    assert.is_true(s.end_ms - s.start_ms <= 4000, "scene " .. i .. " longer than 4 s")
    assert.is_true(s.end_ms - s.start_ms >= visuals.MIN_SCENE_MS - 1, "scene " .. i .. " too short")
    if i > 1 then assert.are.equal(scenes[i - 1].end_ms, s.start_ms) end
  end
end

describe("visuals.split", function()
  it("makes a beat per sentence, with the words' times", function()
    local w, total = words_of("Chips are getting faster. Batteries last longer now. Robots fold laundry at home.")
    local scenes = assert(visuals.split(w, total))
    assert.are.equal(3, #scenes)
    assert.are.equal("Chips are getting faster.", scenes[1].text)
    assert.are.equal(w[5].s, scenes[2].start_ms)
    assert.are.equal("Robots fold laundry at home.", scenes[3].text)
    check_scenes(scenes, total)
  end)

  it("cuts a long sentence so that no scene lasts past ~4 s, and merges short beats", function()
    local long = {}
    for i = 1, 40 do long[i] = "word" .. i end
    local w, total = words_of(table.concat(long, " ") .. ". Yes. No. Maybe so.")
    local scenes = assert(visuals.split(w, total))
    check_scenes(scenes, total)
    assert.is_true(#scenes >= 4)
    -- 15 s of speech gives at least 3 scenes (the demo's bar is 3 per 15 s)
    local w15, t15 = words_of(string.rep("alpha beta gamma delta ", 12))
    local s15 = assert(visuals.split(w15, t15))
    assert.is_true(#s15 >= 3 * math.ceil(t15 / 15000))
    check_scenes(s15, t15)
  end)

  it("treats a pause as the end of a beat and fills a silent tail", function()
    local w, total = words_of("one two three four five six seven eight", { [4] = 600 })
    local scenes = assert(visuals.split(w, total + 5000))
    assert.are.equal(w[5].s, scenes[2].start_ms)
    check_scenes(scenes, total + 5000)
  end)

  it("refuses words without times and an empty script", function()
    local s, err = visuals.split({ { w = "x" } }, 1000)
    assert.is_nil(s)
    assert.matches("deps.tts.words%[1%]", err)
    s, err = visuals.split({}, 0)
    assert.is_nil(s)
    assert.matches("EINVAL", err)
  end)
end)

describe("visuals.keywords and emoji_for", function()
  it("keeps content words, drops stop words and repeats", function()
    assert.are.same({ "chips", "faster", "gpu" }, visuals.keywords("The chips are FASTER, the GPU's faster!"))
  end)

  it("picks an emoji by keyword (stemmed), never the previous scene's", function()
    assert.are.equal("🔋", (visuals.emoji_for({ "batteries" }, 1)))
    assert.are.equal("🍝", (visuals.emoji_for({ "tasty", "pasta" }, 1)))
    local e1 = visuals.emoji_for({}, 1)
    local e2 = visuals.emoji_for({}, 1, e1)
    assert.are_not.equal(e1, e2)
    assert.are_not.equal("🔋", (visuals.emoji_for({ "battery" }, 1, "🔋")))
  end)
end)

describe("visuals.match_library", function()
  local index = {
    { path = "/lib/beach.jpg", kind = "image", tags = { "beach", "sea", "summer" } },
    { path = "/lib/kitchen.mp4", kind = "clip", tags = { "kitchen", "cooking", "pasta" } },
    { path = "/lib/kitchen2.jpg", kind = "image", tags = { "kitchen" } },
  }
  it("matches tags on keywords, best score first, unused files preferred", function()
    assert.are.equal("/lib/kitchen.mp4", visuals.match_library(index, { "pasta", "kitchen" }).path)
    assert.are.equal("/lib/beach.jpg", visuals.match_library(index, { "beaches" }).path)
    assert.is_nil(visuals.match_library(index, { "rocket" }))
    assert.is_nil(visuals.match_library({}, { "beach" }))
    local used = { ["/lib/kitchen.mp4"] = true }
    assert.are.equal("/lib/kitchen.mp4", visuals.match_library(index, { "pasta", "kitchen" }, used).path)
    assert.are.equal("/lib/kitchen2.jpg", visuals.match_library(index, { "kitchen" }, used).path)
  end)
end)

-- A provider as its API documents it: records each request, answers from a script.
local function fake_io(answers)
  local io = { calls = {} }
  function io.secret(name) return name == "pexels_key" and "PK" or name == "pixabay_key" and "XK" or nil end
  function io.http(req)
    io.calls[#io.calls + 1] = req
    local host = req.url:match("^https?://([^/]+)")
    local a = answers[host]
    if type(a) == "function" then a = a(req) end
    return a
  end
  return io
end

local PEXELS_OK = { status = 200, body = ain.json.encode({ page = 1, per_page = 15, total_results = 2,
  photos = {
    { id = 1, width = 4000, height = 3000, url = "https://www.pexels.com/photo/1/", photographer = "Wide",
      src = { portrait = "http://cdn.pexels.test/1-portrait.jpg" } },
    { id = 2, width = 3000, height = 4500, url = "https://www.pexels.com/photo/2/", photographer = "Tall",
      src = { portrait = "http://cdn.pexels.test/2-portrait.jpg", original = "http://cdn.pexels.test/2.jpg" } },
  } }) }
local PIXABAY_OK = { status = 200, body = ain.json.encode({ total = 1, totalHits = 1, hits = {
  { id = 9, pageURL = "https://pixabay.com/photos/9/", user = "Pix", imageWidth = 2000, imageHeight = 3000,
    largeImageURL = "http://cdn.pixabay.test/9_1280.jpg" } } }) }
local EMPTY_PEXELS = { status = 200, body = ain.json.encode({ page = 1, per_page = 15, total_results = 0, photos = {} }) }
local LIMITED = { status = 429, headers = { ["retry-after"] = "60" }, body = "Too Many Requests" }

local function ctx_with(stock, library)
  local w, total = words_of("Robots fold the laundry at home. Chips get faster every single day. "
    .. "Batteries last longer than before.")
  return {
    config = { width = 360, height = 640, stock = stock },
    deps = { tts = { words = w, duration_ms = total }, script = { title = "Robots at home" },
             assets = { library = library } },
  }
end

local STOCK = {
  order = { "pexels", "pixabay" },
  pexels = { url = "http://pexels.test", secret = "pexels_key" },
  pixabay = { url = "http://pixabay.test", secret = "pixabay_key" },
}
local PAYLOAD = { style = { palette = { bg1 = "#0f172a", bg2 = "#1e3a8a", highlight = "#facc15" } } }

describe("visuals.choose", function()
  it("falls back to generated motion in the persona's palette with keyword emoji", function()
    local r = assert(visuals.choose(PAYLOAD, ctx_with(nil, nil)))
    assert.are.equal(3, #r.scenes)
    assert.are.equal(3, r.sources.generated)
    local v = r.scenes[1].visual
    assert.are.equal("motion", v.kind)
    -- the persona's backgrounds and their blend; never its caption highlight colour
    assert.are.same({ "#0f172a", "#1e3a8a", "#192e67" }, v.colours)
    assert.are.equal("🤖", v.emoji)
    assert.are.equal("🔋", r.scenes[3].visual.emoji)
    assert.are_not.same(r.scenes[1].visual.colours, r.scenes[2].visual.colours)
  end)

  it("uses the library first, stock next, in the configured order", function()
    local io = fake_io({ ["pexels.test"] = PEXELS_OK, ["pixabay.test"] = PIXABAY_OK })
    local lib = { { path = "/lib/robot.jpg", kind = "image", tags = { "robot" }, licence = "CC0" } }
    local r = assert(visuals.choose(PAYLOAD, ctx_with(STOCK, lib), { io = io }))
    assert.are.equal("library", r.scenes[1].visual.source)
    assert.are.equal("/lib/robot.jpg", r.scenes[1].visual.path)
    assert.are.equal("pexels", r.scenes[2].visual.source)
    -- the portrait photo, with its photographer and licence for the credits
    assert.are.equal("http://cdn.pexels.test/2-portrait.jpg", r.scenes[2].visual.url)
    assert.are.equal("Tall", r.scenes[2].visual.author)
    assert.matches("Pexels License", r.scenes[2].visual.licence)
    -- the request as Pexels documents it: key in Authorization, portrait orientation
    assert.are.equal("PK", io.calls[1].headers.Authorization)
    assert.matches("/v1/search%?query=chips", io.calls[1].url)
    assert.matches("orientation=portrait", io.calls[1].url)
    -- order reversed: pixabay is asked first
    local st = { order = { "pixabay", "pexels" }, pexels = STOCK.pexels, pixabay = STOCK.pixabay }
    io = fake_io({ ["pexels.test"] = PEXELS_OK, ["pixabay.test"] = PIXABAY_OK })
    r = assert(visuals.choose(PAYLOAD, ctx_with(st, nil), { io = io }))
    assert.are.equal("pixabay", r.scenes[1].visual.source)
    assert.matches("key=XK", io.calls[1].url)
    assert.matches("orientation=vertical", io.calls[1].url)
  end)

  it("moves on after a 429 (and stops asking that provider) or an empty answer", function()
    local io = fake_io({ ["pexels.test"] = LIMITED, ["pixabay.test"] = PIXABAY_OK })
    local r = assert(visuals.choose(PAYLOAD, ctx_with(STOCK, nil), { io = io }))
    for _, s in ipairs(r.scenes) do assert.are.equal("pixabay", s.visual.source) end
    local pexels_calls = 0
    for _, c in ipairs(io.calls) do if c.url:match("pexels") then pexels_calls = pexels_calls + 1 end end
    assert.are.equal(1, pexels_calls)
    assert.matches("rate limited", r.notes[1])

    io = fake_io({ ["pexels.test"] = EMPTY_PEXELS, ["pixabay.test"] = { status = 200,
      body = ain.json.encode({ total = 0, totalHits = 0, hits = {} }) } })
    r = assert(visuals.choose(PAYLOAD, ctx_with(STOCK, nil), { io = io }))
    assert.are.equal(3, r.sources.generated)
    assert.matches("no results", r.notes[1])

    io = fake_io({ ["pexels.test"] = { status = 500, body = "" }, ["pixabay.test"] = nil })
    r = assert(visuals.choose(PAYLOAD, ctx_with(STOCK, nil), { io = io }))
    assert.are.equal(3, r.sources.generated)
    assert.matches("HTTP 500", r.notes[1])
  end)

  it("refuses a missing tts result", function()
    local r, err = visuals.choose(PAYLOAD, { deps = {} })
    assert.is_nil(r)
    assert.matches("deps.tts.words", err)
  end)
end)
