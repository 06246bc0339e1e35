-- Specs for scripts/agents/scriptwriter.lua: shape, line counts and the 10-20 s speech target for
-- every persona and every sample trend, determinism, clipping of long input, bad input.
local H = require("tests.lua.helper")
local planner = require("planner")
local sw = require("scriptwriter")

local function sample_tasks()
  local recs = planner.parse_jsonl(H.read("samples/trends.jsonl"))
  return planner.plan(recs, { personas = H.personas(), now = "2025-06-02T12:00:00Z" }).tasks
end

local LONG = {
  trend_key = "long",
  title = string.rep("Extraordinarily long headline words keep coming ", 8),
  summary = string.rep("This summary rambles on without a full stop and it never ends ", 10),
  tags = { "food", "tech", "music", "travel", "finance" },
}
local SHORT = { trend_key = "tiny", title = "Tiny", tags = {} }

describe("scriptwriter.fnv1a", function()
  it("matches the published FNV-1a 32-bit vectors", function()
    assert.are.equal(0x811c9dc5, sw.fnv1a(""))
    assert.are.equal(0xe40c292c, sw.fnv1a("a"))
    assert.are.equal(0xbf9cf968, sw.fnv1a("foobar"))
  end)
end)

describe("scriptwriter.count_words", function()
  it("counts whitespace words, and CJK characters one each", function()
    assert.are.equal(3, sw.count_words("  one two\tthree "))
    assert.are.equal(0, sw.count_words(""))
    assert.are.equal(5, sw.count_words("京都の秋 x"))
  end)
end)

describe("scriptwriter.write", function()
  it("writes 3-6 lines of 10-20 s speech for every persona and sample trend", function()
    local n = 0
    for _, p in ipairs(H.personas()) do
      for _, t in ipairs(sample_tasks()) do
        local s = assert(sw.write(t.payload, { persona = p }))
        assert.is_true(#s.lines >= 3 and #s.lines <= 6, p.id .. ": " .. #s.lines .. " lines")
        assert.is_true(s.est_seconds >= 10 and s.est_seconds <= 20,
          p.id .. " " .. t.payload.trend_key .. ": " .. s.est_seconds .. " s")
        assert.are.equal(s.words, sw.count_words(s.text))
        assert.are.equal(table.concat(s.lines, " "), s.text)
        assert.is_true(#s.hashtags >= 1 and #s.hashtags <= 4)
        for _, h in ipairs(s.hashtags) do assert.matches("^#[^%s#]+$", h) end
        assert.are.equal(p.id, s.persona_id)
        n = n + 1
      end
    end
    assert.is_true(n >= 5 * 14)
  end)
  it("estimates duration from the persona's voice rate", function()
    local p = H.persona("techie_tina")
    local s = sw.write({ title = "New phone", trend_key = "new phone" }, { persona = p })
    assert.are.equal(math.floor(s.words / p.voice.rate * 600 + 0.5) / 10, s.est_seconds)
    local slow = H.copy(p)
    slow.voice.rate = 120
    local s2 = sw.write({ title = "New phone", trend_key = "new phone" }, { persona = slow })
    assert.is_true(s2.words < s.words or s2.est_seconds > s.est_seconds)
    assert.is_true(s2.est_seconds <= 20)
  end)
  it("clips very long titles and summaries to stay within 20 s", function()
    for _, p in ipairs(H.personas()) do
      local s = assert(sw.write(LONG, { persona = p }))
      assert.is_true(s.est_seconds <= 20, p.id .. ": " .. s.est_seconds)
      assert.is_true(s.words <= s.max_words)
      -- the title keeps its words (up to 300 bytes): the render fits it to its box
      assert.is_true(#s.title <= 300)
      assert.truthy(s.title:find("Extraordinarily long headline words keep coming Extraordinarily", 1, true))
      assert.are.equal(4, #s.hashtags)
    end
  end)
  it("pads a bare title with the tone's lines to reach 10 s", function()
    for _, p in ipairs(H.personas()) do
      local s = assert(sw.write(SHORT, { persona = p }))
      assert.is_true(s.est_seconds >= 10, p.id .. ": " .. s.est_seconds)
      assert.is_true(#s.lines >= 4 and #s.lines <= 6)
    end
  end)
  it("honours a configured duration window", function()
    local p = H.persona("coach_ava")
    local s = sw.write({ title = "Tiny", config = { min_seconds = 5, max_seconds = 8,
      target_seconds = 6 } }, { persona = p })
    assert.is_true(s.est_seconds <= 8, s.est_seconds)
  end)
  it("speaks in the persona's tone", function()
    local p = H.persona("calm_kenji")
    local s = sw.write(SHORT, { persona = p })
    local found = false
    for _, o in ipairs(p.tone.openers) do
      if s.lines[1]:sub(1, #o) == o then found = true end
    end
    assert.is_true(found)
    local closers = {}
    for _, c in ipairs(p.tone.closers) do closers[c] = true end
    assert.is_true(closers[s.lines[#s.lines]])
    assert.are.equal("calm", s.tone)
  end)
  it("is deterministic, and varies with the trend and the persona", function()
    local p = H.persona("techie_tina")
    local a = sw.write({ title = "X", trend_key = "k1" }, { persona = p })
    assert.are.same(a, sw.write({ title = "X", trend_key = "k1" }, { persona = p }))
    local differs = false
    for i = 2, 12 do
      local b = sw.write({ title = "X", trend_key = "k" .. i }, { persona = p })
      if b.text ~= a.text then differs = true end
    end
    assert.is_true(differs)
  end)
  it("keeps emoji and symbols out of the spoken text but on screen, and keeps letters", function()
    local s = sw.write({ title = "Ramen 🍜 in Zürich ♀ → now", summary = "Crème brûlée 🏃‍♀️ too." },
      { persona = H.persona("chef_marco") })
    assert.is_nil(s.speech:find("\240", 1, true))
    assert.is_nil(s.speech:find("♀", 1, true))
    assert.is_nil(s.speech:find("→", 1, true))
    assert.truthy(s.speech:find("Zürich", 1, true))
    assert.truthy(s.speech:find("Crème brûlée too.", 1, true))
    -- shown: the title and the caption text keep them
    assert.truthy(s.title:find("🍜", 1, true))
    assert.truthy(s.text:find("🍜", 1, true))
    assert.truthy(s.text:find("🏃‍♀️", 1, true))
    assert.are.same({}, s.unspoken)
  end)
  it("rejects bad input with EINVAL", function()
    local p = H.persona("techie_tina")
    local cases = {
      { nil, { persona = p } },
      { {}, { persona = p } },
      { { title = "   " }, { persona = p } },
      { { title = 5 }, { persona = p } },
      { { title = "ok" }, {} },
      { { title = "ok" }, nil },
      { { title = "ok" }, { persona = { voice = { rate = 0 }, tone = {} } } },
      { { title = "ok" }, { persona = { voice = { rate = 170 } } } },
    }
    for i, c in ipairs(cases) do
      local r, err = sw.write(c[1], c[2])
      assert.is_nil(r, "case " .. i)
      assert.matches("^EINVAL: ", err)
    end
  end)
end)

describe("scriptwriter templates", function()
  it("reach every opener x bridge pair of every persona over many trend keys", function()
    for _, p in ipairs(H.personas()) do
      local want = #p.tone.openers * #p.tone.bridges
      local seen, n = {}, 0
      for i = 1, 400 do
        local s = sw.write({ title = "Topic number " .. i, trend_key = "trend-" .. i,
          summary = "Something happened in the town square today." }, { persona = p })
        local o, b
        for oi, x in ipairs(p.tone.openers) do
          if s.lines[1]:sub(1, #x) == x then o = oi end
        end
        for bi, x in ipairs(p.tone.bridges) do
          if s.lines[2]:sub(1, #x) == x then b = bi end
        end
        assert.is_truthy(o and b, p.id .. ": " .. s.text)
        if not seen[o .. "/" .. b] then seen[o .. "/" .. b] = true; n = n + 1 end
      end
      assert.are.equal(want, n, p.id .. ": " .. n .. " of " .. want .. " pairs")
    end
  end)
  it("spread the pairs: no pair takes more than three times its share of 2,000 keys", function()
    local p = H.persona("calm_kenji")
    local counts, pairs_n = {}, #p.tone.openers * #p.tone.bridges
    for i = 1, 2000 do
      local c = sw.choices("key-" .. i .. "|" .. p.id, p.tone)
      local k = c.opener .. "|" .. c.bridge
      counts[k] = (counts[k] or 0) + 1
    end
    for k, c in pairs(counts) do assert.is_true(c < 3 * 2000 / pairs_n, k .. ": " .. c) end
  end)
  it("never leave a bridge empty and never write '<x> fans'", function()
    for _, p in ipairs(H.personas()) do
      for _, t in ipairs(sample_tasks()) do
        local s = assert(sw.write(t.payload, { persona = p }))
        assert.is_nil(s.text:find(" fans%."), s.text)
        for _, l in ipairs(s.lines) do
          assert.is_nil(l:match(":%s*$"), "a line ends on a colon: " .. l)
          for _, b in ipairs(p.tone.bridges) do
            if l:sub(1, #b) == b then
              assert.is_true(sw.count_words(l:sub(#b + 1)) >= 3, "empty bridge: " .. l)
            end
          end
        end
        for i = 2, #s.lines do
          assert.are_not.equal(s.lines[i - 1], s.lines[i])
        end
      end
    end
  end)
  it("use the tone's fillers only to reach the minimum length", function()
    for _, p in ipairs(H.personas()) do
      local fillers = {}
      for _, f in ipairs(p.tone.fillers) do fillers[f] = true end
      for _, t in ipairs(sample_tasks()) do
        local s = assert(sw.write(t.payload, { persona = p }))
        local without = 0
        for _, l in ipairs(s.lines) do
          if fillers[l] then without = without + 1 end
        end
        if without > 0 then
          -- dropping the last filler would leave the script under its minimum
          assert.is_true(s.words - 3 < s.min_words + 8, p.id .. ": " .. s.text)
        end
      end
    end
  end)
end)

describe("scriptwriter with a model", function()
  local LLM = { url = "http://127.0.0.1:9", model = "test-model", max_attempts = 2 }
  local TREND = { trend_key = "m5", title = "Apple M5 chip benchmarks leak",
    summary = "Leaked benchmarks suggest the new M5 chip is about 30 percent faster.",
    tags = { "apple", "chips" } }
  local saved
  before_each(function() saved = sw.io.chat end)
  after_each(function() sw.io.chat = saved end)

  -- a fake ain.llm.chat: checks the request as the real one would, runs req.check on `data`
  local function fake(data, extra)
    local calls = {}
    sw.io.chat = function(cfg, req)
      calls[#calls + 1] = { cfg = cfg, req = req }
      assert.are.equal(LLM, cfg)
      assert.are.equal("video_script", req.schema_name)
      assert.are.equal("system", req.messages[1].role)
      assert.are.equal("user", req.messages[2].role)
      local why = req.check(data)
      if why then return nil, "ELLM_SCHEMA: " .. why, "ELLM_SCHEMA" end
      local a = { data = data, model = "test-model", usage = { prompt_tokens = 120,
        completion_tokens = 40, total_tokens = 160 }, cost = 0.0004, attempts = 1,
        cached = false, request_sha256 = string.rep("a", 64), ms = 12 }
      for k, v in pairs(extra or {}) do a[k] = v end
      return a
    end
    return calls
  end
  local GOOD = { hook = "Apple's new M5 chip just leaked, and the numbers are big",
    body = { "Leaked benchmarks suggest the M5 is about 30 percent faster for AI work.",
      "That is the kind of jump people notice.", "Nothing is official until launch day." },
    cta = "Follow for more nerdy news!", hashtags = { "#M5", "apple chips" } }

  it("writes hook, body and call to action from the model, keeping the result's shape", function()
    local calls = fake(GOOD)
    local p = H.persona("techie_tina")
    local s = assert(sw.write(TREND, { persona = p, config = { llm = LLM } }))
    assert.are.equal(1, #calls)
    assert.are.equal("llm", s.writer)
    assert.are.equal(5, #s.lines)
    assert.are.equal("Apple's new M5 chip just leaked, and the numbers are big.", s.lines[1])
    assert.are.equal("Follow for more nerdy news!", s.lines[5])
    assert.are.equal(table.concat(s.lines, " "), s.text)
    assert.are.equal(sw.count_words(s.text), s.words)
    assert.is_true(s.words >= s.min_words and s.words <= s.max_words)
    assert.are.equal(math.floor(s.words / p.voice.rate * 600 + 0.5) / 10, s.est_seconds)
    -- the persona's own first, then the model's (normalised), at most max_hashtags (4)
    assert.are.same({ p.hashtags[1]:lower(), p.hashtags[2]:lower(), "#m5", "#applechips" },
      s.hashtags)
    assert.are.equal(160, s.llm.usage.total_tokens)
    assert.are.equal(0.0004, s.llm.cost)
    assert.are.equal("test-model", s.llm.model)
    -- the prompt carries the persona's voice, the word window and the facts rule
    local sys, user = calls[1].req.messages[1].content, calls[1].req.messages[2].content
    assert.truthy(sys:find("Techie Tina", 1, true))
    assert.truthy(sys:find(p.tone.openers[1], 1, true))
    assert.truthy(sys:find("use only what the trend's own text", 1, true))
    assert.truthy(user:find("Trend text: " .. TREND.summary, 1, true))
    assert.truthy(user:find("min " .. s.min_words .. ", max " .. s.max_words, 1, true))
  end)
  it("refuses numbers and names the trend text does not have (the check fed to ain.llm)", function()
    local bad = H.copy(GOOD)
    bad.body[1] = "Leaked benchmarks suggest the M5 is about 42 percent faster for AI work."
    fake(bad)
    local s = assert(sw.write(TREND, { persona = H.persona("techie_tina"),
      config = { llm = LLM } }))
    assert.are.equal("template", s.writer)
    assert.matches("the number '42' is not in the trend text", s.llm.error)
    bad = H.copy(GOOD)
    bad.body[2] = "Even Samsung is said to be worried about it."
    fake(bad)
    s = assert(sw.write(TREND, { persona = H.persona("techie_tina"), config = { llm = LLM } }))
    assert.matches("the name 'Samsung' is not in the trend text", s.llm.error)
  end)
  it("refuses a script outside the persona's word window", function()
    local short = H.copy(GOOD)
    short.body = { "Big news." }
    fake(short)
    local s = assert(sw.write(TREND, { persona = H.persona("techie_tina"),
      config = { llm = LLM } }))
    assert.are.equal("template", s.writer)
    assert.matches("words; they must have", s.llm.error)
  end)
  it("falls back to the template and records why when the model fails", function()
    for _, f in ipairs({ { "ELLM_HTTP: HTTP 500: boom (after 2 attempts)", "ELLM_HTTP" },
      { "ELLM_REFUSED: the model refused: no", "ELLM_REFUSED" },
      { "ETIMEOUT: POST http://127.0.0.1:9/v1/chat/completions: timeout", "ETIMEOUT" } }) do
      sw.io.chat = function() return nil, f[1], f[2] end
      local p = H.persona("calm_kenji")
      local s = assert(sw.write(TREND, { persona = p, config = { llm = LLM } }))
      local plain = assert(sw.write(TREND, { persona = p }))
      assert.are.equal("template", s.writer)
      assert.are.equal(plain.text, s.text)
      assert.are.same({ model = "test-model", error = f[1], code = f[2],
        fallback = "template" }, s.llm)
    end
  end)
  it("fails, never guesses, when replay has no recorded answer", function()
    sw.io.chat = function() return nil, "EREPLAY: ain.http: no recorded exchange", "EREPLAY" end
    local r, err = sw.write(TREND, { persona = H.persona("calm_kenji"), config = { llm = LLM } })
    assert.is_nil(r)
    assert.matches("^EREPLAY", err)
  end)
  it("is not asked without a model in ctx.config", function()
    sw.io.chat = function() error("called") end
    local s = assert(sw.write(TREND, { persona = H.persona("calm_kenji"), config = {} }))
    assert.are.equal("template", s.writer)
    assert.is_nil(s.llm)
  end)
end)

describe("scriptwriter.fact_problem", function()
  local src = "Night trains return: Zürich to Amsterdam overnight.\nA sleeper links 2 cities, 1,200 km."
  it("accepts sentence starts, the persona's words and the source's names and numbers", function()
    assert.is_nil(sw.fact_problem("Pack a bag. The train leaves Zürich for Amsterdam.", src, {}))
    assert.is_nil(sw.fact_problem("It covers 1,200 km between 2 cities.", src, {}))
    assert.is_nil(sw.fact_problem("Ask Kenji: I think it is lovely.", src, { kenji = true }))
    assert.is_nil(sw.fact_problem("Tag it #Paris and go.", src, {}))
  end)
  it("names the first number or name that the source lacks", function()
    assert.matches("'3'", sw.fact_problem("It takes 3 hours.", src, {}))
    assert.matches("'Paris'", sw.fact_problem("Then on to Paris by noon.", src, {}))
    assert.matches("'Berlin'", sw.fact_problem("Zürich, Amsterdam and Berlin's stations.", src, {}))
  end)
end)
