-- Specs for the judge's safety screen: scripts/safety/*.lua (data), scripts/agents/safety_match.lua
-- (compiling and matching) and judge.screen / the findings judge.decide adds. The issue's examples,
-- evasions, benign look-alikes, finding shape, bad data, the compile cache, and the bars on the
-- labelled set in tests/fixtures/judge (recall >= 0.95 reject / 0.90 review categories, benign
-- stopped <= 5 %). Needs ain.text: runs under `ain test`, pending under plain busted.
local H = require("tests.lua.helper")
local it = H.it_text(it, pending)
local cjson = require("cjson")

local IDS = { "pii", "violence", "tragedy", "hate", "sexual", "self_harm", "dangerous", "medical",
  "financial", "misinformation", "brand", "minors" }

local function screen(text, persona_id)
  return assert(require("judge").screen(text, { persona_id = persona_id }))
end

local function has(res, cat)
  for _, c in ipairs(res.categories) do if c == cat then return true end end
  return false
end

describe("safety data modules", function()
  it("categories name the fixed ids with a title, severity and action", function()
    local cats = require("safety/categories")
    for _, id in ipairs(IDS) do
      local c = cats.categories[id]
      assert.is_table(c, id)
      assert.is_string(c.title)
      assert.is_number(c.severity)
      assert.truthy(({ reject = true, review = true, pass = true })[c.action], id)
    end
    for _, id in ipairs({ "pii", "violence", "hate", "sexual", "self_harm", "dangerous",
      "medical", "financial" }) do
      assert.are.equal("reject", cats.categories[id].action, id)
    end
    for _, id in ipairs({ "tragedy", "misinformation", "brand", "minors" }) do
      assert.are.equal("review", cats.categories[id].action, id)
    end
  end)

  it("every lexicon compiles, names a known category and its sources", function()
    local cats = require("safety/categories")
    local sm = require("safety_match")
    for _, n in ipairs(cats.lexicons) do
      local data = require("safety/" .. n)
      if data.category ~= nil then
        assert.is_table(cats.categories[data.category], n)
      else -- a file of idioms: every rule is a mask and yields no finding
        for _, r in ipairs(data.rules) do assert.is_true(r.mask, n .. " " .. r.id) end
      end
      assert.matches("Sources", H.read("scripts/safety/" .. n .. ".lua"), 1, true)
      assert.is_table(sm.compile({ { name = "safety/" .. n, data = data } }))
    end
  end)

  it("bad data is refused naming the module and the rule", function()
    local sm = require("safety_match")
    local function err(data)
      local ok, e = pcall(sm.compile, { { name = "safety/x", data = data } })
      assert.is_false(ok)
      return e
    end
    assert.matches("safety/x: needs category", err({ rules = {} }))
    assert.matches("safety/x rule 1: needs an id", err({ category = "hate", rules = { {} } }))
    assert.matches("rule 'a': needs terms", err({ category = "hate", rules = { { id = "a" } } }))
    assert.matches("rule 'a' term 2: a term must be a non%-empty string",
      err({ category = "hate", rules = { { id = "a", terms = { "x", 3 } } } }))
    assert.matches("action must be reject, review or pass",
      err({ category = "hate", rules = { { id = "a", terms = { "x" }, action = "ban" } } }))
    assert.matches("has no word", err({ category = "hate", rules = { { id = "a",
      terms = { "!!" } } } }))
    assert.matches("unknown '#' term", err({ category = "hate", rules = { { id = "a",
      terms = { "#age" } } } }))
    -- only a file of masks may go without a category
    assert.matches("safety/x: needs category", err({ rules = { { id = "a", mask = true,
      terms = { "x" } }, { id = "b", terms = { "y" } } } }))
    assert.is_table(sm.compile({ { name = "safety/x", data = { rules = { { id = "a",
      mask = true, terms = { "x" } } } } } }))
  end)
end)

describe("judge.screen", function()
  it("stops every example the issue lists", function()
    local cases = {
      { "New fitness trend alert: Man stabbed at gym. Try this today!", "tragedy", "coach_ava" },
      { "Immigrants are vermin, every last one of them.", "hate" },
      { "This workout cures diabetes.", "medical", "coach_ava" },
      { "This workout cures diabetes.", "brand", "coach_ava" }, -- banned "cure", on stems
      { "Email me: coach dot ava at gmail dot com", "pii" },
      { "This smoothie reverses diabetes.", "medical" },
      { "Turmeric shrinks tumors.", "medical" },
      { "Zero risk investing for everyone.", "financial" },
      { "Make 10000 dollars a week from home.", "financial" },
      { "Kill them all.", "violence" },
      { "Leaked nude photos of the singer.", "sexual" },
      { "Gym shooting leaves three dead", "tragedy" },
      { "Shout-out to Hype-Forge for this edit.", "brand" },
      { "Hype Forge templates are great.", "brand" },
      { "H y p e F o r g e did this.", "brand" },
      { "HypeForge's editor is great.", "brand" },
      { "Call five five five zero one three two today.", "pii" },
    }
    for _, c in ipairs(cases) do
      local r = screen(c[1], c[3])
      assert.is_true(has(r, c[2]), c[1] .. " -> " .. c[2])
      assert.are_not.equal("pass", r.decision, c[1])
    end
  end)

  it("sees through leetspeak, confusables, separators and zero-width spaces", function()
    for _, t in ipairs({ "k1ll them all", "K I L L the landlord", "Kіll the traitors",
      "ki\226\128\139ll every one of them", "ｓｔａｂ him", "Beat-him-to-death" }) do
      assert.is_true(has(screen(t), "violence"), t)
    end
    assert.is_true(has(screen("r1sk-fr33 income"), "financial"))
    assert.is_true(has(screen("The s u i c i d e method"), "self_harm"))
  end)

  it("lets risky-looking but harmless text pass", function()
    for _, t in ipairs({ "This killer workout takes twenty minutes.", "This recipe is the bomb.",
      "Shooting a short film on a phone.", "The comedian absolutely killed it.",
      "Kill the background process and your phone runs cooler.",
      "Local clinic opens a new wing for children's check-ups.", "A Sussex village.",
      "Pull-ups are murder on the forearms.", "Fact check: the moon landing was not faked.",
      "Salt-cured salmon in three days.", "Dead lifts done right.", "Beat the eggs.",
      "Version 2.4.1 ships on 2024-05-12.", "Your order number is 48213-7." }) do
      local r = screen(t)
      assert.are.equal("pass", r.decision, t .. ": " .. table.concat(r.categories, ","))
    end
  end)

  it("names category, rule, severity, action, span and the matched text", function()
    local text = "Honestly, Hype-Forge is fine. Kill them all."
    local r = screen(text)
    assert.are.equal("reject", r.decision)
    assert.are.same({ "brand", "violence" }, r.categories)
    for _, f in ipairs(r.findings) do
      assert.is_string(f.category)
      assert.is_string(f.rule)
      assert.is_number(f.severity)
      assert.is_string(f.action)
      assert.are.equal(text:sub(f.span[1], f.span[2]), f.match)
    end
    assert.are.equal("Hype-Forge", r.findings[1].match)
    assert.are.equal("brand.competitor", r.findings[1].rule)
  end)

  it("keeps rejecting a persona's banned terms, on stems, as brand", function()
    local r = screen("Miracles happen when you stretch.", "coach_ava")
    assert.are.equal("reject", r.decision)
    assert.are.same({ "brand" }, r.categories)
    assert.are.equal("brand.banned_term", r.findings[1].rule)
    assert.are.equal("pass", screen("Miracles happen when you stretch.", "techie_tina").decision)
  end)

  it("finds contact details through folding and spelled out", function()
    for _, t in ipairs({ "tina＠ｔｅｃｈｍａｉｌ．ｃｏｍ is my inbox",
      "Reach ava.fit\226\128\139@\226\128\139gmail.com", "write to kenji at slowroads dot jp",
      "Text me, 5 5 5 - 0 1 3 - 4 4 7 7", "mail <pii:email:3f2a9c1b> now" }) do
      local r = screen(t)
      assert.is_true(has(r, "pii"), t)
      for _, f in ipairs(r.findings) do
        assert.are.equal(t:sub(f.span[1], f.span[2]), f.match)
      end
    end
  end)

  it("compiles the lexicons once per version of the safety modules", function()
    local sm = require("safety_match")
    local compile, n = sm.compile, 0
    sm.compile = function(...) n = n + 1; return compile(...) end
    screen("first call")
    local before = n
    screen("second call")
    screen("third call")
    sm.compile = compile
    assert.are.equal(before, n)
  end)

  it("refuses a text that is not a string or not UTF-8", function()
    local r, e = require("judge").screen(42, {})
    assert.is_nil(r)
    assert.matches("EINVAL", e)
    r, e = require("judge").screen("bad \255 byte", {})
    assert.is_nil(r)
    assert.matches("EINVAL: text: .*UTF%-8", e)
  end)
end)

describe("judge.screen beyond the labelled set (sentences written for these specs)", function()
  local function expect(cases)
    for _, c in ipairs(cases) do
      local r = screen(c[1])
      assert.are.equal(c[2], r.decision, c[1] .. ": " .. table.concat(r.categories, ","))
      assert.are.same(c[3], r.categories, c[1])
    end
  end

  it("hate: vermin and beast words aimed at a group or at 'those people'", function()
    expect({
      { "The newcomers from over the border are lice on this town.", "reject", { "hate" } },
      { "Honestly they are maggots, the lot of them across the border.", "reject",
        { "hate" } },
      { "Those pakistanis multiply like termites.", "reject", { "hate" } },
      { "Gas them all, every asylum family in the county.", "reject", { "hate" } },
      { "They really are beasts, these foreigners.", "reject", { "hate" } },
      -- animals and pests, not people
      { "A woman teaches her dog to fetch the paper.", "pass", {} },
      { "Rats in the loft? Set traps and call pest control.", "pass", {} },
      { "The pandas from China are the cutest animals at the zoo.", "pass", {} },
    })
  end)

  it("sexual: leaked intimate images in slang and leet; an age under 18 is minors too", function()
    expect({
      { "n00dz of the barista leaked, check the link in bio", "reject", { "sexual" } },
      { "Posting my ex's private pics tonight, stay tuned.", "reject", { "sexual" } },
      { "her nsfw pics got hacked and dumped online", "reject", { "sexual" } },
      { "Rate this sexy sixteen year old in the comments", "reject", { "minors", "sexual" } },
      { "Bikini body of a 15 yr old cheer girl", "reject", { "minors", "sexual" } },
      { "hottest high schooler pics this week", "reject", { "minors", "sexual" } },
      -- family and fitness context
      { "Party photos from my 7 year old's birthday.", "pass", {} },
      { "Body weight circuits for 13 year olds in PE class.", "pass", {} },
    })
  end)

  it("violence: imperative harm at people, fullwidth or not, is not a tragedy", function()
    expect({
      { "Ｓｔａｂ ｅｖｅｒｙ ｌａｓｔ ｏｎｅ ｏｆ ｔｈｅｍ", "reject", { "violence" } },
      { "Shoot all of them before they get to the gate.", "reject", { "violence" } },
      { "Pick up a hammer and wait for him outside the pub.", "reject", { "violence" } },
      { "Go snap her jaw, she deserves it.", "reject", { "violence" } },
      { "She will break his record at the nationals.", "pass", {} },
      { "Our team will beat them in the final on Sunday.", "pass", {} },
    })
  end)

  it("medical: other verbs of a disease claim; clinics, jabs and research pass", function()
    expect({
      { "Beet juice dissolves kidney stones in days.", "reject", { "medical" } },
      { "This herb wipes out psoriasis for good.", "reject", { "medical" } },
      { "Soursop tea kills leukemia cells at home.", "reject", { "medical" } },
      { "Drink this daily and covid can't touch you.", "reject", { "medical" } },
      { "Pharmacy opens a weekend flu jab clinic.", "pass", {} },
      { "Scientists report a compound that kills tumour cells in early trials.", "pass", {} },
      { "Know the signs of a heart attack or stroke.", "pass", {} },
    })
  end)

  it("dangerous: chemicals as a remedy, choking games, a child left in a car", function()
    expect({
      { "Gargle with a capful of bleach to cure a sore throat.", "reject",
        { "dangerous", "medical" } },
      { "A spoonful of borax in water detoxes your liver, drink it daily.", "reject",
        { "dangerous", "medical" } },
      { "Try the fainting game at the sleepover, loser passes out first.", "reject",
        { "dangerous" } },
      { "Leaving the kids in the hot car for five minutes never hurt anyone.", "reject",
        { "dangerous", "minors" } }, -- a child at risk is minors as well
      { "Leave the dog in the parked car, it's only twenty minutes.", "reject",
        { "dangerous" } },
      { "Never drink bleach; call poison control if a child swallows any.", "pass", {} },
    })
  end)

  it("benign idioms of harm pass", function()
    for _, t in ipairs({ "Our drummer really kills it every night.", "You are killing it!",
      "Slay your morning run.", "Knock 'em dead at the audition.", "This cheesecake is to die for.",
      "Dead tired after the double shift.", "Shoot your shot at the tryouts.",
      "This smoothie is the bomb.", "Murder your to-do list in an hour.",
      "Attack the garlic with the flat of the knife.", "Explode off the blocks.",
      "A passkey stops hackers from stealing your account." }) do
      local r = screen(t)
      assert.are.equal("pass", r.decision, t .. ": " .. table.concat(r.categories, ","))
    end
    -- a mask covers its own words only: harm next to an idiom still counts
    assert.are.same({ "violence" }, screen("She kills it on stage. Now kill them all.").categories)
  end)
end)

describe("judge on the labelled set", function()
  it("holds the bars: recall >= 0.95 (reject) / 0.90 (review), benign stopped <= 5 %", function()
    local cats = require("safety/categories").categories
    local total, hit, benign, stopped = {}, {}, 0, 0
    local files = { "pii", "violence", "tragedy", "hate", "sexual", "self_harm", "dangerous",
      "medical", "financial", "misinformation", "brand", "minors", "benign" }
    for _, f in ipairs(files) do
      for line in H.read("tests/fixtures/judge/" .. f .. ".jsonl"):gmatch("[^\n]+") do
        local d = cjson.decode(line)
        local r = screen(d.text, d.persona)
        if #d.categories == 0 then
          benign = benign + 1
          if r.decision ~= "pass" then stopped = stopped + 1 end
        end
        for _, c in ipairs(d.categories) do
          total[c] = (total[c] or 0) + 1
          if has(r, c) then hit[c] = (hit[c] or 0) + 1 end
        end
      end
    end
    assert.is_true(benign >= 150)
    for c, n in pairs(total) do
      local bar = cats[c].action == "reject" and 0.95 or 0.90
      local recall = (hit[c] or 0) / n
      assert.is_true(recall >= bar, string.format("%s recall %.3f < %.2f", c, recall, bar))
    end
    assert.is_true(stopped / benign <= 0.05, string.format("benign stopped %d/%d", stopped,
      benign))
  end)
end)

describe("judge.decide with findings", function()
  local sw = require("scriptwriter")
  local persona = H.persona("coach_ava")
  local function script(extra)
    local s = assert(sw.write({ trend_key = "marathon", title = "City marathon sells out",
      summary = "The city marathon sold out in two days as runners rush to sign up.",
      tags = { "running" } }, { persona = persona }))
    s.text = s.text .. " " .. (extra or "")
    return s
  end
  local render = { gate_ok = true, video_id = "v", probe = { duration = 15, width = 1080,
    height = 1920, video_codec = "h264", audio_codec = "aac" } }

  it("adds findings and categories; a reject finding fails the safety check", function()
    local judge = require("judge")
    local clean = assert(judge.decide({}, { persona = persona, deps = { script = script(),
      render = render } }))
    assert.are.equal("pass", clean.decision)
    assert.are.same({}, clean.findings)
    assert.are.same({}, clean.categories)
    local bad = assert(judge.decide({}, { persona = persona, deps = {
      script = script("Then k1ll them all."), render = render } }))
    assert.are.equal("reject", bad.decision)
    assert.are.same({ "violence" }, bad.categories)
    assert.are.equal("text", bad.findings[1].field)
    local odd = assert(judge.decide({}, { persona = persona, deps = {
      script = script("caf\233"), render = render } }))
    assert.are.equal("review", odd.decision)
    assert.are.equal("judge.unreadable", odd.findings[1].rule)
  end)

  it("merges output checks and providers through their modules (CONTRACTS 3)", function()
    local judge = require("judge")
    local seen = {}
    package.loaded.output_checks = { findings = function(inspect, s, settings)
      seen.inspect, seen.script = inspect, s
      return { { category = "output", rule = "output.ocr_extra", severity = 2,
        action = "review", span = { 1, 3 }, match = "abc", detail = "extra text" } }
    end }
    package.loaded.moderation = { assess = function(text, ctx, settings)
      seen.text = text
      return { findings = {}, record = { moderation = { status = "ok" } } }
    end }
    local s = script()
    local r = assert(judge.decide({}, { persona = persona, config = { providers = {
      moderation = { url = "http://x" } } }, deps = { script = s, render = render,
      inspect = { ocr = {} } } }))
    package.loaded.output_checks, package.loaded.moderation = nil, nil
    assert.are.equal("review", r.decision)
    assert.are.same({ "output" }, r.categories)
    assert.are.equal(s, seen.script)
    assert.matches("marathon", seen.text)
    assert.are.same({ moderation = { status = "ok" } }, r.providers)
  end)
end)
