-- Specs for scripts/agents/output_checks.lua on recorded inspect results of real renders
-- (tests/fixtures/output_checks/renders.json, from it.output_checks: a good video, one whose voice
-- dropped a sentence, one whose voice said another sentence) and on variants of the good one:
-- title missing from the frames, extra on-screen text, a dropped sentence, substituted words,
-- OCR noise that must be tolerated, settings, disabled inspection; and the judge's call site.
local H = require("tests.lua.helper")
local json = require("cjson")
local oc = require("output_checks")

local function load_renders()
  local f = assert(io.open("tests/fixtures/output_checks/renders.json"))
  local t = json.decode(f:read("*a"))
  f:close()
  return t
end

local RENDERS = load_renders()

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return c
end

local function good() return copy(RENDERS.good.inspect), copy(RENDERS.good.script) end

local function rules(findings)
  local r = {}
  for _, f in ipairs(findings) do r[#r + 1] = f.rule end
  table.sort(r)
  return r
end

describe("output_checks.findings", function()
  it("passes the good render, with the judge's finding shape otherwise", function()
    local insp, script = good()
    assert.are.same({}, oc.findings(insp, script, {}))
    local m = oc.measure(insp, script, {})
    assert.are.equal(1, m.ocr.title_recall)
    assert.is_true(m.asr.recall >= 0.95)
  end)

  it("finds a title missing from the frames", function()
    local insp, script = good()
    for _, f in ipairs(insp.ocr) do f.text = f.text:gsub("Morning walks boost\nheart health\n", "") end
    local fs = oc.findings(insp, script, {})
    assert.are.same({ "title_not_on_screen" }, rules(fs))
    local f = fs[1]
    assert.are.equal("output", f.category)
    assert.are.equal("review", f.action)
    assert.are.equal("major", f.severity)
    assert.are.equal(script.title, f.match)
    assert.truthy(f.detail:find("0 of 2 title words", 1, true)) -- boost, health: not in the script
    assert.are.same({ 1, 0 }, f.span)
  end)

  it("finds captions missing from the frames", function()
    local insp, script = good()
    for _, f in ipairs(insp.ocr) do f.text = "Morning walks boost\nheart health" end
    assert.are.same({ "captions_not_on_screen" }, rules(oc.findings(insp, script, {})))
  end)

  it("finds extra on-screen text, and tolerates OCR's errors", function()
    local insp, script = good()
    insp.ocr[2].text = insp.ocr[2].text .. "\nBuy cheap pills at scamsite dot com"
    local fs = oc.findings(insp, script, {})
    assert.are.same({ "unexpected_text" }, rules(fs))
    assert.truthy(fs[1].detail:find("unexpected on-screen text", 1, true))
    assert.truthy(fs[1].match:find("pills", 1, true) and fs[1].match:find("scamsite", 1, true))
    -- One-letter errors ("Mornimg", "heort"), fragments and a stray mark are OCR noise.
    insp, script = good()
    insp.ocr[1].text = "Mornimg walks boost\nheort health\n| ~ ee\nMorning walks\nhelp your heart"
    assert.are.same({}, oc.findings(insp, script, {}))
    -- The tolerance is a setting.
    insp.ocr[1].text = insp.ocr[1].text .. "\nzebra"
    assert.are.same({ "unexpected_text" },
      rules(oc.findings(insp, script, { output_checks = { max_unexpected_words = 0 } })))
  end)

  it("finds a dropped sentence, naming the expected and the heard text", function()
    local insp, script = good()
    insp.asr.text = "morning walks help your heart and your mood and try it today and tell me how it feels"
    local fs = oc.findings(insp, script, {})
    assert.are.same({ "sentence_not_heard" }, rules(fs))
    assert.are.equal("ten minutes outside is a great start for beginners", fs[1].match)
    assert.truthy(fs[1].detail:find('expected "ten minutes outside is a great start for beginners"',
      1, true))
  end)

  it("finds substituted words", function()
    local insp, script = good()
    insp.asr.text = "morning walks help your heart and your mood send your bank password to "
      .. "strangers who call you at night try it today and tell me how it feels"
    local fs = oc.findings(insp, script, {})
    assert.are.same({ "sentence_different", "unexpected_speech" }, rules(fs))
    assert.truthy(fs[1].detail:find("bank password", 1, true))
    -- A long stretch of speech the script does not have (espeak reading CJK as "chinese letter").
    insp.asr.text = "morning walks help your heart and your mood chinese letter chinese letter "
      .. "chinese letter chinese letter chinese letter ten minutes outside is a great start for "
      .. "beginners try it today and tell me how it feels"
    fs = oc.findings(insp, script, {})
    assert.are.same({ "unexpected_speech" }, rules(fs))
    assert.truthy(fs[1].match:find("chinese letter", 1, true))
  end)

  it("finds too little of the script heard", function()
    local insp, script = good()
    insp.asr.text = "morning walks and try"
    local r = rules(oc.findings(insp, script, {}))
    assert.truthy(r[#r] == "speech_mismatch" or r[1] == "speech_mismatch")
  end)

  it("does not expect words the recogniser cannot know", function()
    local insp, script = good()
    script.text = script.text .. " Qxzvbl!"
    insp.asr.oov = "qxzvbl"
    assert.are.same({}, oc.findings(insp, script, {}))
  end)

  it("sends the recorded bad renders to review and passes the good one", function()
    assert.are.same({}, oc.findings(RENDERS.good.inspect, RENDERS.good.script, {}))
    assert.are.same({ "sentence_not_heard" },
      rules(oc.findings(RENDERS.dropped.inspect, RENDERS.dropped.script, {})))
    assert.is_true(#oc.findings(RENDERS.swapped.inspect, RENDERS.swapped.script, {}) > 0)
  end)

  it("has nothing to say about a disabled or missing inspection", function()
    local _, script = good()
    assert.are.same({}, oc.findings({ enabled = false }, script, {}))
    assert.are.same({}, oc.findings(nil, script, {}))
    local insp = good()
    insp.ocr = {}
    assert.are.same({ "ocr_no_frames" }, rules(oc.findings(insp, script, {})))
  end)
end)

-- The inspect step's newer result: every word with its box, and the plan of what the render drew
-- where and when (title box at the top, caption phrases at the bottom), as in a 360x640 render.
describe("output_checks.findings with word boxes and the render's plan", function()
  local TITLE_BOX, CAP_BOX = { 0.06, 0.15, 0.78, 0.09 }, { 0.06, 0.70, 0.78, 0.10 }
  local function placed()
    local _, script = good()
    local plan = { texts = {
      { start = 0, stop = 8, title = true, box = TITLE_BOX, text = "Morning walks boost heart health" },
      { start = 0.1, stop = 2.0, title = false, box = CAP_BOX, text = "Morning walks help your heart" },
      { start = 2.0, stop = 4.6, title = false, box = CAP_BOX, text = "Ten minutes outside is a" },
      { start = 4.6, stop = 6.1, title = false, box = CAP_BOX, text = "great start for beginners." },
      { start = 6.1, stop = 8.0, title = false, box = CAP_BOX, text = "Try it today and tell me how it feels!" },
    } }
    local function at(text, box)
      local ws = {}
      for w in text:gmatch("%S+") do
        ws[#ws + 1] = { text = w, conf = 90, box = { box[1] + 0.1, box[2] + 0.02, 0.1, 0.03 } }
      end
      return ws
    end
    local ocr = {}
    for i, e in ipairs(plan.texts) do
      if i > 1 then
        local t = (e.start + e.stop) / 2
        local ws = at("Morning walks boost heart health", TITLE_BOX)
        for _, w in ipairs(at(e.text, CAP_BOX)) do ws[#ws + 1] = w end
        local lines = {}
        for _, w in ipairs(ws) do lines[#lines + 1] = w.text end
        ocr[#ocr + 1] = { t = t, text = table.concat(lines, " "), words = ws }
      end
    end
    return { enabled = true, ocr = ocr, plan = plan, asr = copy(RENDERS.good.inspect.asr) }, script
  end
  local function add(insp, k, text, box)
    local f = insp.ocr[k]
    f.words[#f.words + 1] = { text = text, conf = 90, box = box } -- read clearly
    f.text = f.text .. "\n" .. text
  end
  local OUTSIDE = { 0.3, 0.45, 0.2, 0.03 } -- between the title and the captions

  it("passes a good render, misreads of the drawn text included", function()
    local insp, script = placed()
    assert.are.same({}, oc.findings(insp, script, {}))
    assert.are.equal(4, oc.measure(insp, script, {}).ocr.placed_frames)
    -- What OCR makes of drawn words on a moving background (measured: "mething", "thatikeeps",
    -- "foryour", "brialée"): a part, two run together, a third of the letters wrong. Inside the
    -- box they are that text; none of these is near a script word on its own.
    for _, w in ipairs({ "rnin", "alksh", "yourhea", "elpyo", "hearl" }) do add(insp, 1, w, CAP_BOX) end
    add(insp, 1, "oosthe", TITLE_BOX)
    add(insp, 2, "minutesoutside", CAP_BOX)
    add(insp, 2, "tenmimutes", CAP_BOX)
    assert.are.same({}, oc.findings(insp, script, {}))
  end)

  it("takes a word tesseract is unsure of inside a drawn text as its misread, not a sure one", function()
    local insp, script = placed()
    local f = insp.ocr[2] -- "Ten minute HIIT"-like: two caption lines read as one
    for _, w in ipairs({ "Benim", "nue}", "ety", "qqzx" }) do
      f.words[#f.words + 1] = { text = w, conf = 12, box = CAP_BOX }
    end
    assert.are.same({}, oc.findings(insp, script, {}))
    for _, w in ipairs(f.words) do if w.conf == 12 then w.conf = 91 end end
    assert.are.same({ "unexpected_text" }, rules(oc.findings(insp, script, {})))
    -- outside the drawn texts confidence does not matter
    insp = placed()
    for _, w in ipairs({ "Benim", "nue}", "ety", "qqzx" }) do
      insp.ocr[2].words[#insp.ocr[2].words + 1] = { text = w, conf = 12, box = OUTSIDE }
    end
    assert.are.same({ "unexpected_text" }, rules(oc.findings(insp, script, {})))
    assert.are.same({}, oc.findings(insp, script, { output_checks = { max_unexpected_words = 4 } }))
  end)

  it("reads the same misreads outside any drawn text as unexpected", function()
    local insp, script = placed()
    for _, w in ipairs({ "rnin", "alksh", "yourhea", "elpyo" }) do add(insp, 1, w, OUTSIDE) end
    local fs = oc.findings(insp, script, {})
    assert.are.same({ "unexpected_text" }, rules(fs))
    assert.truthy(fs[1].match:find("rnin", 1, true) and fs[1].match:find("yourhea", 1, true))
  end)

  it("finds a burned-in word, outside the texts or over a caption", function()
    local insp, script = placed()
    add(insp, 2, "Buy cheap pills", OUTSIDE)
    add(insp, 3, "scamsite", CAP_BOX)
    local fs = oc.findings(insp, script, {})
    assert.are.same({ "unexpected_text" }, rules(fs))
    assert.truthy(fs[1].match:find("scamsite", 1, true) and fs[1].match:find("pills", 1, true))
    -- A caption box is checked against the caption on screen at the frame's time: fragments of
    -- later phrases read at 1.05 s ("Morning walks help your heart" on screen) were not drawn.
    insp = placed()
    for _, w in ipairs({ "eginn", "utsid", "ellme", "itoda" }) do add(insp, 1, w, CAP_BOX) end
    assert.are.same({ "unexpected_text" }, rules(oc.findings(insp, script, {})))
    insp = placed() -- the same fragments while their phrases are on screen
    add(insp, 3, "eginn", CAP_BOX)
    add(insp, 2, "utsid", CAP_BOX)
    add(insp, 4, "ellme", CAP_BOX)
    add(insp, 4, "itoda", CAP_BOX)
    assert.are.same({}, oc.findings(insp, script, {}))
  end)

  it("finds captions the render drew with other words than the script's", function()
    local insp, script = placed()
    local swapped = "Send your bank password to strangers"
    insp.plan.texts[3].text = swapped
    insp.ocr[2].words = {}
    for w in swapped:gmatch("%S+") do
      insp.ocr[2].words[#insp.ocr[2].words + 1] = { text = w, conf = 95, box = CAP_BOX }
    end
    insp.ocr[2].text = swapped
    local fs = oc.findings(insp, script, {})
    assert.are.same({ "unexpected_text" }, rules(fs))
    assert.truthy(fs[1].match:find("password", 1, true) and fs[1].match:find("strangers", 1, true))
  end)

  it("checks a result without boxes or without a plan as before", function()
    local insp, script = placed()
    insp.plan = nil
    for _, w in ipairs({ "rnin", "alksh", "yourhea", "elpyo" }) do add(insp, 1, w, CAP_BOX) end
    assert.are.same({ "unexpected_text" }, rules(oc.findings(insp, script, {})))
    assert.are.equal(0, oc.measure(insp, script, {}).ocr.placed_frames)
  end)
end)

describe("judge.decide with ctx.deps.inspect", function()
  local judge = require("judge")
  local function ctx(insp)
    local _, script = good()
    script.words, script.est_seconds = 26, 8.5
    return { persona = H.persona("coach_ava"), deps = { script = script, inspect = insp,
      render = { gate_ok = true, video_id = "v", probe = { duration = 9, width = 1080,
        height = 1920, video_codec = "h264", audio_codec = "aac" } } } }
  end

  local it = H.it_text(it, pending) -- judge.decide screens with ain.text
  it("adds output findings and sends the video to review", function()
    local insp = good()
    local ok = assert(judge.decide({}, ctx(insp)))
    assert.are.same({}, ok.findings)
    insp.asr.text = "morning walks help your heart and your mood and try it today"
    local r = assert(judge.decide({}, ctx(insp)))
    assert.are.equal("review", r.decision)
    assert.are.equal("output", r.findings[1].category)
  end)
  it("finds a voice that says other words than the captions show, not a spoken form", function()
    local text = "Morning walks help your heart and your mood. Ten minutes outside is a great start "
      .. "for beginners. Try the 12-3-30 walk today!"
    local swap = { text = text, speech = "Morning walks help your heart and your mood. Send your "
      .. "bank password to strangers who call you at night. Try the 12-3-30 walk today!" }
    local fs = oc.findings({ enabled = false }, swap, {})
    assert.are.same({ "speech_not_text" }, rules(fs))
    assert.truthy(fs[1].detail:find("bank password", 1, true))
    -- numbers spelled out, emoji and unreadable text left out: not a finding
    local spoken = { text = text .. " 🍜 京都", speech = "Morning walks help your heart and your "
      .. "mood. Ten minutes outside is a great start for beginners. Try the twelve three thirty "
      .. "walk today!" }
    assert.are.same({}, oc.findings({ enabled = false }, spoken, {}))
    assert.are.same({}, oc.findings({ enabled = false }, { text = text }, {}))
  end)
end)
