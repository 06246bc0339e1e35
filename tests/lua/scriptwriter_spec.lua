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
      assert.is_true(#s.title <= 80)
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
  it("keeps emoji and symbols out of the spoken text but keeps letters", function()
    local s = sw.write({ title = "Ramen 🍜 in Zürich ♀ → now", summary = "Crème brûlée 🏃‍♀️ too." },
      { persona = H.persona("chef_marco") })
    assert.is_nil(s.text:find("\240", 1, true))
    assert.is_nil(s.text:find("♀", 1, true))
    assert.is_nil(s.text:find("→", 1, true))
    assert.truthy(s.text:find("Zürich", 1, true))
    assert.truthy(s.text:find("Crème brûlée too.", 1, true))
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
