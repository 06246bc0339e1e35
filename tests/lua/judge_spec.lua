-- Specs for scripts/agents/judge.lua: every check passing and failing, PII true and false
-- positives, probe shapes, severity caps and configurable thresholds, bad input.
local H = require("tests.lua.helper")
local it = H.it_text(it, pending) -- the judge needs ain.text
local judge = require("judge")
local sw = require("scriptwriter")

local PERSONA = H.persona("techie_tina")

local function good_script()
  return assert(sw.write({ trend_key = "linux laptop", title = "Linux laptop ships to developers",
    summary = "A new developer laptop ships with Linux preinstalled and a long battery life.",
    tags = { "linux", "laptop" } }, { persona = PERSONA }))
end

local function good_render()
  return { gate_ok = true, video_id = "vid-1", probe = { duration = 15.2, width = 1080,
    height = 1920, video_codec = "h264", audio_codec = "aac" } }
end

local function run(mutate_script, render, config, payload)
  local script = good_script()
  if mutate_script then mutate_script(script) end
  if render == nil then render = good_render() end
  return assert(judge.decide(payload or {}, { persona = PERSONA, config = config,
    deps = { script = script, render = render or nil } }))
end

local function check_of(res, name)
  for _, c in ipairs(res.checks) do
    if c.name == name then return c end
  end
  error("no check " .. name)
end

local function say(extra)
  return function(s) s.text = s.text .. " " .. extra end
end

describe("judge.decide", function()
  it("passes a clean script with a good render, every check reported", function()
    local res = run()
    assert.are.equal("pass", res.decision)
    assert.are.equal(1, res.confidence)
    assert.are.same({}, res.failed)
    assert.are.equal("vid-1", res.video_id)
    local names = {}
    for _, c in ipairs(res.checks) do
      names[#names + 1] = c.name
      assert.is_true(c.passed)
      assert.is_string(c.detail)
      assert.is_true(c.score >= 0 and c.score <= 1)
    end
    assert.are.same({ "banned_terms", "pii_email", "pii_phone", "pii_card", "competitors",
      "safety", "shouting", "hashtags", "length", "voice_language", "render_gate", "probe_duration", "probe_streams",
      "probe_size" }, names)
  end)

  it("rejects the persona's banned terms in any case or quoting", function()
    local res = run(say("This is “GUARANTEED” to work."))
    assert.are.equal("reject", res.decision)
    assert.are.equal(0, res.confidence)
    assert.matches("GUARANTEED", check_of(res, "banned_terms").detail) -- the text as written
    assert.is_true(check_of(run(say("A clever hack.")), "banned_terms").passed)
    assert.are.equal("reject", run(say("Hack-into it")).decision) -- punctuation is a space
    assert.are.equal("reject", run(say("how to hack into it")).decision)
    assert.are.equal("reject", run(function(s) s.hashtags[1] = "#scam" end).decision)
  end)

  it("does not match banned terms inside other words", function()
    local res = run(say("Scampi for dinner"))
    assert.is_true(check_of(res, "banned_terms").passed)
  end)

  it("rejects banned topics and configured terms too", function()
    assert.are.equal("reject", run(say("Also, the election.")).decision)
    local res = run(say("It is shiny."), nil, { banned_terms = { "shiny" } })
    assert.are.equal("reject", res.decision)
  end)

  it("sends competitor names to review", function()
    local res = run(say("Better than ClipFarm."))
    assert.are.equal("review", res.decision)
    assert.is_false(check_of(res, "competitors").passed)
    assert.are.equal(0.65, res.confidence)
    -- the settings name more competitors; the persona's own list (persona.competitors) holds
    local res2 = run(say("Better than Other Co."), nil, { competitors = { "Other Co" } })
    assert.are.equal("review", res2.decision)
    assert.matches("Other Co", check_of(res2, "competitors").detail)
  end)

  it("scores shouting and bad hashtags as minor problems", function()
    local res = run(say("BREAKING NEWS!!"))
    local c = check_of(res, "shouting")
    assert.is_false(c.passed)
    assert.are.equal(0.5, c.score) -- 3 shouts, 1 allowed
    assert.are.equal("pass", res.decision)  -- one minor failure alone does not stop a video
    assert.is_true(res.confidence < 1)
    assert.is_true(check_of(run(say("New AI GPU from NASA")), "shouting").passed)
    local tags = run(function(s) s.hashtags = { "#a", "b", "#c d" } end)
    assert.is_false(check_of(tags, "hashtags").passed)
    local none = run(function(s) s.hashtags = {} end)
    assert.is_false(check_of(none, "hashtags").passed)
    local many = run(function(s) s.hashtags = { "#a", "#b", "#c", "#d", "#e", "#f" } end)
    assert.is_false(check_of(many, "hashtags").passed)
  end)

  it("several minor failures together send a video to review", function()
    local res = run(function(s)
      s.text = s.text .. " WOW THIS IS HUGE!!! REALLY HUGE!!"
      s.hashtags = {}
    end, nil, { weights = { shouting = 3, hashtags = 3 } })
    assert.are.equal("review", res.decision)
  end)

  it("checks length bounds", function()
    assert.are.equal("review", run(function(s) s.est_seconds = 31 end).decision)
    assert.are.equal("review", run(function(s) s.lines = { "one", "two" } end).decision)
    assert.are.equal("review", run(function(s) s.words = 5 end).decision)
    assert.are.equal("pass", run(function(s) s.est_seconds = 31 end, nil,
      { max_seconds = 40 }).decision)
  end)

  it("rejects a failed output gate and reviews bad probe facts", function()
    local r = good_render()
    r.gate_ok, r.gate_error = false, "pix_fmt yuv444p, want yuv420p"
    local res = run(nil, r)
    assert.are.equal("reject", res.decision)
    assert.matches("yuv444p", check_of(res, "render_gate").detail)

    r = good_render()
    r.probe.duration = 75
    assert.is_false(check_of(run(nil, r), "probe_duration").passed)
    assert.are.equal("review", run(nil, r).decision)
    r = good_render()
    r.probe.audio_codec = nil
    assert.is_false(check_of(run(nil, r), "probe_streams").passed)
    r = good_render()
    r.probe.width, r.probe.height = 1920, 1080
    assert.is_false(check_of(run(nil, r), "probe_size").passed)
    r = good_render()
    r.probe = nil
    assert.are.equal("review", run(nil, r).decision)
  end)

  it("reviews when there is no render result", function()
    local res = run(nil, false)
    assert.are.equal("review", res.decision)
    assert.is_false(check_of(res, "render_gate").passed)
  end)

  it("reads ffprobe's own JSON shape", function()
    local r = { gate_ok = true, probe = { format = { duration = "14.980000" }, streams = {
      { codec_type = "video", codec_name = "h264", width = 1080, height = 1920 },
      { codec_type = "audio", codec_name = "aac" } } } }
    assert.are.equal("pass", run(nil, r).decision)
  end)

  it("applies thresholds from config and payload", function()
    local script = function(s) s.text = s.text .. " BREAKING NEWS!!" end
    local base = run(script).confidence
    assert.is_true(base > 0.9 and base < 1)
    assert.are.equal("review", run(script, nil, { pass = 0.99 }).decision)
    assert.are.equal("reject", run(script, nil, { pass = 1, reject = 0.99 }).decision)
    -- payload.config wins over ctx.config
    assert.are.equal("pass", run(script, nil, { pass = 0.99 }, { config = { pass = 0.9 } }).decision)
  end)

  it("refuses inconsistent thresholds and missing inputs", function()
    local r, err = judge.decide({}, { deps = { script = good_script() }, config = { pass = 0.4,
      reject = 0.6 } })
    assert.is_nil(r)
    assert.matches("^EINVAL", err)
    r, err = judge.decide({}, { deps = {} })
    assert.is_nil(r)
    assert.matches("^EINVAL: ctx.deps.script", err)
    r, err = judge.decide(nil, nil)
    assert.is_nil(r)
  end)
end)

describe("judge PII", function()
  local function count(text)
    local f = judge.find_pii(text)
    return #f.emails, #f.phones, #f.cards
  end

  it("finds e-mail addresses, plain and bracketed", function()
    assert.are.equal(1, (count("write to john.doe+news@example.co.uk today")))
    assert.are.equal(1, (count("jane [at] example [dot] com")))
    assert.are.equal("reject", run(say("Mail tina@example.com")).decision)
    assert.is_false(check_of(run(say("Mail tina@example.com")), "pii_email").passed)
  end)

  it("counts values the engine replaced at ingest by their kind", function()
    local e, p, c = count("mail <pii:email:3f2a9c1b>, call <pii:phone:0a1b2c3d> or <pii:card>")
    assert.are.same({ 1, 1, 1 }, { e, p, c })
    assert.are.same({ 0, 0, 0 }, { count("a <pii:uid:12345678> wrote it; <pii:ip> saw it") })
    assert.are.equal("reject", run(say("Mail <pii:email:3f2a9c1b>")).decision)
  end)

  it("does not flag handles or hostnames as e-mail", function()
    assert.are.equal(0, (count("follow @techie_tina and visit example.com")))
    assert.are.equal(0, (count("user@localhost")))
  end)

  it("finds phone numbers in national and international formats", function()
    for _, p in ipairs({ "+44 20 7946 0958", "+1 (415) 555-0132", "(415) 555-0132",
      "415-555-0132", "415.555.0132", "+81-3-1234-5678", "0044 20 7946 0958", "020 7946 0958",
      "+33 1 42 68 53 00", "4155550132", "Top 10 415-555-0132", "1-800-555-0199" }) do
      local _, phones = count("call " .. p .. " now")
      assert.are.equal(1, phones, p)
    end
    assert.are.equal("reject", run(say("Call +1 (415) 555-0132")).decision)
  end)

  it("does not flag dates, years, scores, decimals, prices, versions or IPs", function()
    for _, t in ipairs({ "on 2025-06-02", "from 1990-2024", "in 2024 1000000 people",
      "the 12-3-30 workout", "pi is 3.14159265", "costs $1,299.99", "version 10.2.3",
      "server 192.168.100.200", "06/02/2025", "score 3-1", "a 50/30/20 split" }) do
      local _, phones, cards = count(t)
      assert.are.equal(0, phones, t)
      assert.are.equal(0, cards, t)
    end
  end)

  it("finds card numbers that pass the Luhn check, and only those", function()
    assert.are.same({ 0, 0, 1 }, { count("card 4111 1111 1111 1111") })
    assert.are.same({ 0, 0, 1 }, { count("amex 3782-822463-10005") })
    assert.are.same({ 0, 0, 1 }, { count("5555555555554444") })
    assert.are.same({ 0, 0, 0 }, { count("card 4111 1111 1111 1112") })
    assert.are.same({ 0, 0, 0 }, { count("0000 0000 0000 0000") })
    local res = run(say("Pay with 4111 1111 1111 1111"))
    assert.are.equal("reject", res.decision)
    assert.is_false(check_of(res, "pii_card").passed)
  end)
end)
