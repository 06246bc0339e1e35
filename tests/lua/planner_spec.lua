-- Specs for scripts/agents/planner.lua: normalization, JSON Lines parsing, de-duplication,
-- persona matching, banned topics, no re-planning, priorities, bad records.
local H = require("tests.lua.helper")
local planner = require("planner")

local NOW = "2025-06-02T12:00:00Z"

local function plan_sample(extra)
  local recs, bad = planner.parse_jsonl(H.read("samples/trends.jsonl"))
  local ctx = { personas = H.personas(), now = NOW }
  for k, v in pairs(extra or {}) do ctx[k] = v end
  return planner.plan(recs, ctx), recs, bad
end

local function find_task(res, key)
  for _, t in ipairs(res.tasks) do
    if t.payload.trend_key == key then return t end
  end
end

describe("planner.normalize", function()
  it("lowercases ASCII and strips ASCII and unicode punctuation", function()
    assert.are.equal("apples m5 chip benchmarks leak",
      planner.normalize("Apple’s M5 chip — “benchmarks” LEAK!!!"))
    assert.are.equal("ai powered lo fi", planner.normalize("AI-powered   lo–fi…"))
  end)
  it("treats straight and curly apostrophes the same", function()
    assert.are.equal(planner.normalize("Tokyo's"), planner.normalize("Tokyo’s"))
  end)
  it("keeps non-ASCII letters and folds Latin-1 and Cyrillic capitals", function()
    assert.are.equal("crème brûlée zürich", planner.normalize("CRÈME Brûlée, ZÜRICH"))
    assert.are.equal("привет мир", planner.normalize("ПРИВЕТ мир"))
    assert.are.equal("京都の秋 旅行者", planner.normalize("京都の秋 — 「旅行者」"))
  end)
  it("drops emoji, zero-width joiners and invalid bytes", function()
    assert.are.equal("ramen bars", planner.normalize("ramen 🍜 bars 🏃‍♀️"))
    assert.are.equal("bad byte", planner.normalize("bad \255 byte \195"))
  end)
  it("collapses whitespace including no-break and ideographic spaces", function()
    assert.are.equal("a b c", planner.normalize("  a\t\n b\194\160\227\128\128c  "))
  end)
  it("returns an empty key for non-strings and punctuation-only input", function()
    assert.are.equal("", planner.normalize(nil))
    assert.are.equal("", planner.normalize(42))
    assert.are.equal("", planner.normalize("!!! — …"))
  end)
end)

describe("planner.parse_jsonl", function()
  it("parses every line of the sample", function()
    local recs, bad = planner.parse_jsonl(H.read("samples/trends.jsonl"))
    assert.are.equal(0, #bad)
    assert.is_true(#recs >= 14)
    assert.are.equal(1, recs[1]._line)
  end)
  it("skips malformed lines, naming their line numbers, and keeps the rest", function()
    local recs, bad = planner.parse_jsonl(H.read("tests/fixtures/trends/malformed.jsonl"))
    assert.are.equal(2, #bad)
    assert.are.equal(2, bad[1].line)
    assert.matches("invalid JSON", bad[1].error)
    assert.are.equal(8, bad[2].line)
    assert.matches("expected a JSON object", bad[2].error)
    assert.are.equal(8, #recs)   -- 11 lines - 1 blank - 2 bad
  end)
  -- ain.json.decode of the engine applies the message layer's checks (docs/messages.md); plain
  -- busted's lua-cjson does not, so this runs under `ain test` only.
  local strict = type(ain) == "table" and ain.hmac_sha256 ~= nil
  ;(strict and it or pending)("skips hostile lines naming line and field, keeping the good ones", function()
    local recs, bad = planner.parse_jsonl(H.read("tests/fixtures/trends/hostile.jsonl"))
    assert.are.equal(2, #recs)
    assert.are.equal("h-1", recs[1].id)
    assert.are.equal("h-8", recs[2].id)
    assert.are.equal(8, recs[2]._line)
    local want = {
      { 2, "title: invalid UTF-8 at byte offset" },
      { 3, "title: strings must not contain U+0000" },
      { 4, "title: invalid UTF-8 at byte offset" },
      { 5, "title: duplicate key" },
      { 6, "tags: nested deeper than 128 levels" },
      { 7, "score: number out of range" },
    }
    assert.are.equal(#want, #bad)
    for i, w in ipairs(want) do
      assert.are.equal(w[1], bad[i].line)
      assert.is_truthy(bad[i].error:find(w[2], 1, true), bad[i].error)
    end
  end)
  it("handles CRLF, a BOM and a missing final newline", function()
    local recs, bad = planner.parse_jsonl('\239\187\191{"title":"a"}\r\n{"title":"b"}')
    assert.are.equal(0, #bad)
    assert.are.equal(2, #recs)
    assert.are.equal("b", recs[2].title)
  end)
  it("raises on misuse", function()
    assert.has_error(function() planner.parse_jsonl(nil) end)
  end)
end)

describe("planner.plan", function()
  it("plans the sample: one task per distinct, allowed trend", function()
    local res = plan_sample()
    assert.are.equal(14, #res.tasks)
    assert.are.equal(2, #res.skipped)
    for _, t in ipairs(res.tasks) do
      assert.are.equal("generate_video", t.type)
      assert.is_string(t.persona_id)
      assert.is_true(t.priority >= 0 and t.priority <= 100)
      assert.are.equal(planner.normalize(t.payload.title), t.payload.trend_key)
      assert.is_table(t.payload.tags)
    end
  end)
  it("de-duplicates near-duplicates by normalized key, keeping the first", function()
    local res = plan_sample()
    assert.are.same({ line = 2, reason = "duplicate of line 1",
      trend_key = "apples m5 chip benchmarks leak ahead of launch" }, res.skipped[1])
    local t = find_task(res, "apples m5 chip benchmarks leak ahead of launch")
    assert.are.equal("t-001", t.payload.trend_id)
  end)
  it("matches trends to the persona with the best topic score", function()
    local res = plan_sample()
    assert.are.equal("techie_tina",
      find_task(res, "apples m5 chip benchmarks leak ahead of launch").persona_id)
    assert.are.equal("chef_marco",
      find_task(res, "crème brûlée croissant is the new bakery obsession").persona_id)
    assert.are.equal("coach_ava",
      find_task(res, "zone 2 running why slow workouts build a faster engine").persona_id)
    assert.are.equal("calm_kenji", find_task(res, "京都の秋 旅行者に人気の静かな寺").persona_id)
    assert.are.equal("penny_ledger",
      find_task(res, "central bank holds interest rates steady as inflation cools").persona_id)
  end)
  it("never assigns a trend to a persona whose banned topics it touches", function()
    local res = plan_sample()
    local s = res.skipped[2]
    assert.are.equal(13, s.line)
    assert.matches("banned topic", s.reason)
    assert.matches("penny_ledger %(crypto%)", s.reason)
    -- Without the ban the finance persona would have taken it.
    local p = H.persona("penny_ledger")
    p.banned_topics = {}
    local res2 = planner.plan({ { title = "New crypto token", tags = { "finance", "money" } } },
      { personas = { p } })
    assert.are.equal(1, #res2.tasks)
  end)
  it("falls back to a persona that does not ban the topic", function()
    local recs = { { title = "Craft beer and alcohol-free cocktails at the food festival",
      tags = { "food", "festival" } } }
    local res = planner.plan(recs, { personas = H.personas() })
    assert.are.equal(0, #res.tasks) -- chef and kenji both ban alcohol
    local recs2 = { { title = "Ramen festival in Tokyo", tags = { "food", "festival" } } }
    local res2 = planner.plan(recs2, { personas = H.personas() })
    assert.are.equal(1, #res2.tasks)
  end)
  it("never plans a trend again for the same persona", function()
    local first = plan_sample()
    local done = {}
    for _, t in ipairs(first.tasks) do done[t.persona_id .. "|" .. t.payload.trend_key] = true end
    local again = plan_sample({ already_planned = done })
    assert.are.equal(0, #again.tasks)
    assert.are.equal(#first.tasks + 2, #again.skipped)
    assert.matches("already planned for", again.skipped[#again.skipped].reason)
    -- An array of keys works as well as a set.
    local one = { first.tasks[1].persona_id .. "|" .. first.tasks[1].payload.trend_key }
    local third = plan_sample({ already_planned = one })
    assert.are.equal(#first.tasks - 1, #third.tasks)
  end)
  it("skips records with missing or wrongly typed fields, naming the field", function()
    local recs = planner.parse_jsonl(H.read("tests/fixtures/trends/malformed.jsonl"))
    local res = planner.plan(recs, { personas = H.personas(), now = NOW })
    local reasons = {}
    for _, s in ipairs(res.skipped) do reasons[s.line] = s.reason end
    assert.are.equal("title: missing", reasons[4])
    assert.are.equal("title: expected string", reasons[5])
    assert.are.equal("tags: expected array of strings", reasons[6])
    assert.are.equal("score: expected number", reasons[7])
    assert.are.equal("title: missing", reasons[9])
    assert.are.equal("ts: expected epoch seconds or ISO 8601 string", reasons[10])
    assert.are.equal(2, #res.tasks) -- lines 1 and 11; JSON nulls count as absent
  end)
  it("skips trends that match no persona", function()
    local res = planner.plan({ { title = "Quarterly report of the regional water authority" } },
      { personas = H.personas() })
    assert.are.equal(0, #res.tasks)
    assert.are.same({ line = 1, reason = "no persona matches",
      trend_key = "quarterly report of the regional water authority" }, res.skipped[1])
  end)
  it("matches whole words only", function()
    local p = { id = "x", topics = { app = 3 } }
    assert.are.equal(0, #planner.plan({ { title = "Apple pie" } }, { personas = { p } }).tasks)
    assert.are.equal(1, #planner.plan({ { title = "A new app" } }, { personas = { p } }).tasks)
  end)
  it("ranks fresher and higher-scored trends first", function()
    local p = { id = "x", topics = { food = 3 } }
    local recs = {
      { title = "old food", score = 90, ts = "2025-05-20T12:00:00Z" },
      { title = "new food", score = 90, ts = "2025-06-02T11:00:00Z" },
      { title = "new weak food", score = 10, ts = "2025-06-02T11:00:00Z" },
      { title = "future food", score = 90, ts = "2025-06-03T12:00:00+02:00" },
    }
    local res = planner.plan(recs, { personas = { p }, now = NOW })
    local pr = {}
    for _, t in ipairs(res.tasks) do pr[t.payload.trend_key] = t.priority end
    assert.is_true(pr["new food"] > pr["old food"])
    assert.is_true(pr["new food"] > pr["new weak food"])
    assert.are.equal(94, pr["future food"]) -- clock skew: treated as age 0
    assert.are.equal("future food", res.tasks[1].payload.trend_key)
    -- Epoch seconds and milliseconds mean the same instant.
    local a = planner.plan({ { title = "food a", ts = 1748865600 } }, { personas = { p }, now = NOW })
    local b = planner.plan({ { title = "food b", ts = 1748865600000 } }, { personas = { p }, now = NOW })
    assert.are.equal(a.tasks[1].priority, b.tasks[1].priority)
    assert.are.equal(70, a.tasks[1].priority) -- 0.6*0.5 + 0.4*1 (ts == now)
  end)
  it("is deterministic", function()
    assert.are.same(plan_sample(), plan_sample())
  end)
  it("rejects a call without personas or trends", function()
    local r, err = planner.plan({}, {})
    assert.is_nil(r)
    assert.matches("^EINVAL", err)
    r, err = planner.plan(nil, { personas = H.personas() })
    assert.is_nil(r)
    assert.matches("^EINVAL", err)
  end)
end)

describe("planner.run (the engine's entry point)", function()
  it("parses, plans and reports bad lines with their numbers", function()
    local text = H.read("samples/trends.jsonl") .. "{not json\n[1,2]\n"
    local res = planner.run({ text = text }, { personas = H.personas(), now = NOW })
    local direct = plan_sample()
    assert.are.equal(#direct.tasks, #res.tasks)
    assert.are.equal(2, #res.bad)
    local nlines = select(2, H.read("samples/trends.jsonl"):gsub("\n", ""))
    assert.are.equal(nlines + 1, res.bad[1].line)
    assert.matches("invalid JSON", res.bad[1].error)
    assert.are.equal(nlines + 2, res.bad[2].line)
  end)
  it("skips already planned pairs like plan()", function()
    local ctx = { personas = H.personas(), now = NOW }
    local first = planner.run({ text = H.read("samples/trends.jsonl") }, ctx)
    local done = {}
    for _, t in ipairs(first.tasks) do done[#done + 1] = t.persona_id .. "|" .. t.payload.trend_key end
    ctx.already_planned = done
    local again = planner.run({ text = H.read("samples/trends.jsonl") }, ctx)
    assert.are.equal(0, #again.tasks)
  end)
  it("refuses a payload without text", function()
    local r, err = planner.run({}, { personas = H.personas() })
    assert.is_nil(r)
    assert.matches("^EINVAL: payload.text", err)
    r, err = planner.run({ text = 42 }, { personas = H.personas() })
    assert.is_nil(r)
  end)
end)

describe("planner.run with the trend sources' records (payload.feeds)", function()
  it("plans feed records after the file's, naming source and place", function()
    local text = '{"title":"Apple M5 chip benchmarks leak","tags":["apple","ai"]}\n'
    local feeds = {
      { title = "APPLE M5 chip: benchmarks leak!", source = "hn", tags = { "ai" } },
      { title = "New pasta recipe for busy cooks", source = "blog", tags = { "food", "recipe" } },
      "not a record",
    }
    local r = assert(planner.run({ text = text, feeds = feeds },
      { personas = H.personas(), now = NOW }))
    assert.are.equal(2, #r.tasks)
    local dup
    for _, s in ipairs(r.skipped) do
      if s.line == "hn#1" then dup = s end
    end
    assert.is_truthy(dup, "the feed's duplicate of the file's line is skipped")
    assert.are.equal("duplicate of line 1", dup.reason)
    assert.are.equal(1, #r.bad)
    assert.are.same({ line = "feeds#3", error = "expected a JSON object" }, r.bad[1])
    local sources = {}
    for _, t in ipairs(r.tasks) do sources[t.payload.source or "file"] = true end
    assert.is_true(sources.blog)
  end)
  it("refuses feeds that are not an array", function()
    local r, err = planner.run({ text = "", feeds = "x" }, { personas = H.personas() })
    assert.is_nil(r)
    assert.matches("^EINVAL: payload.feeds", err)
  end)
  it("normalises ASCII-only text (the fast path) as the general path does", function()
    for _, s in ipairs({ "Hello, World's  42!", "  --x--  ", "a\0b", "It's 9:30 a.m. (UTC)" }) do
      -- a trailing non-ASCII symbol turns into a space and takes the general path
      assert.are.equal(planner.normalize(s .. "\226\128\148"), planner.normalize(s))
    end
  end)
end)

describe("planner: what performed (analytics.planner_weight)", function()
  local rows = {
    { persona_id = "a", topic = "rust compiler release", views = 9000, likes = 300, shares = 50 },
    { persona_id = "a", topic = "rust async book", views = 7000, likes = 200 },
    { persona_id = "b", topic = "sourdough starter", views = 100, likes = 2, comments = 1 },
    { persona_id = "b", topic = "sourdough crumb", views = 80 },
  }
  it("weights personas and topic words by mean engagement, within [0.5, 2]", function()
    local w = planner.performance_weights(rows)
    assert.is_true(w.persona.a > 1 and w.persona.a <= 2)
    assert.are.equal(0.5, w.persona.b)
    assert.is_true(w.word.rust > 1)
    assert.are.equal(0.5, w.word.sourdough)
    assert.is_nil(w.word.of) -- short words are not topics
    assert.is_nil(planner.performance_weights({}))
    assert.is_nil(planner.performance_weights({ { views = 0 } }))
  end)
  it("gives 1 to what was never measured", function()
    local w = planner.performance_weights(rows)
    assert.are.equal(1, planner.performance_factor(nil, "a", "rust"))
    assert.are.equal(1, planner.performance_factor(w, "c", "quantum chips"))
    assert.is_true(planner.performance_factor(w, "a", "rust news") > 1)
    assert.are.equal(0.5, planner.performance_factor(w, "b", "sourdough loaf"))
  end)
  it("raises what performed and lowers what did not, only when switched on", function()
    local pa = { id = "a", topics = { rust = 3, bread = 3 } }
    local pb = { id = "b", topics = { bread = 3, sourdough = 3 } }
    local trends = { { title = "Rust 2.0 ships", score = 50 }, { title = "Sourdough bread tips", score = 50 } }
    local off = planner.plan(trends, { personas = { pa, pb }, post_metrics = rows })
    local on = planner.plan(trends, { personas = { pa, pb }, post_metrics = rows,
      config = { performance_weight = 1 } })
    local function prio(res, key)
      for _, t in ipairs(res.tasks) do
        if t.payload.trend_key == key then return t.priority, t.persona_id end
      end
    end
    assert.are.equal(prio(off, "rust 2 0 ships"), prio(off, "sourdough bread tips"))
    assert.is_true(prio(on, "rust 2 0 ships") > prio(off, "rust 2 0 ships"))
    assert.is_true(prio(on, "sourdough bread tips") < prio(off, "sourdough bread tips"))
    assert.is_true(prio(on, "rust 2 0 ships") <= 100)
  end)
end)
