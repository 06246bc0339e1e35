-- Specs for scripts/agents/moderation.lua: the request shapes, the mapping of provider categories
-- onto ours, strict parsing (a malformed answer is an error, never a pass), every failure sending
-- the video to review, the answer cache, and the judge keeping its rule findings whatever a
-- provider says. The I/O goes through moderation.io, replaced here by a scripted provider; the
-- real HTTP path runs in tests/integration/judge_providers.sh.
local H = require("tests.lua.helper")
local mod = require("moderation")
local judge = require("judge")

local REAL_IO = mod.io

local function moderation_answer(flags, scores, flagged)
  local cats, sc = {}, {}
  for _, n in ipairs({ "harassment", "hate", "sexual", "sexual/minors", "violence",
    "self-harm", "illicit" }) do
    cats[n], sc[n] = false, 0.01
  end
  for _, n in ipairs(flags) do cats[n] = true end
  for n, v in pairs(scores or {}) do sc[n] = v end
  if flagged == nil then flagged = #flags > 0 end
  return ain.json.encode({ id = "modr-1", model = "m",
    results = { { flagged = flagged, categories = cats, category_scores = sc } } })
end

local function chat_answer(content, extra)
  local choice = { index = 0, finish_reason = "stop",
    message = { role = "assistant", content = content } }
  for k, v in pairs(extra or {}) do choice[k] = v end
  return ain.json.encode({ id = "chat-1", object = "chat.completion", choices = { choice } })
end

-- A scripted provider: answers[i] is {status, body} or {nil, err, code}; records every request.
local function script_io(answers, secrets)
  local st = { requests = {}, store = {}, puts = 0 }
  mod.io = {
    http = function(req)
      st.requests[#st.requests + 1] = req
      local a = table.remove(answers, 1)
      assert(a, "unexpected request to " .. req.url)
      if a[1] == nil then return nil, a[2], a[3] end
      return { status = a[1], headers = {}, body = a[2], ms = 7 }
    end,
    secret = function(name)
      local v = (secrets or {})[name]
      if v then return v end
      return nil, "ENOTFOUND: secret '" .. name .. "': not set", "ENOTFOUND"
    end,
    get = function(key) return st.store[key] end,
    put = function(key, value) st.puts = st.puts + 1; st.store[key] = value; return 1 end,
  }
  return st
end

local MOD = { url = "http://127.0.0.1:9", model = "omni-moderation-latest", secret = "mod_key",
  timeout_ms = 1500 }
local LLM = { url = "http://127.0.0.1:9", model = "guard", timeout_ms = 2500 }

local function find(findings, rule)
  for _, f in ipairs(findings) do if f.rule == rule then return f end end
  return nil
end

describe("moderation", function()
  after_each(function() mod.io = REAL_IO end)

  describe("the moderation endpoint", function()
    it("sends the OpenAI request and maps flagged categories onto ours", function()
      local st = script_io({ { 200, moderation_answer({ "harassment", "sexual/minors" },
        { harassment = 0.91, ["sexual/minors"] = 0.8 }) } }, { mod_key = "sk-test" })
      local text = "Some script text"
      local r = mod.assess(text, {}, { providers = { moderation = MOD } })
      local req = st.requests[1]
      assert.equal("POST", req.method)
      assert.equal("http://127.0.0.1:9/v1/moderations", req.url)
      assert.equal("Bearer sk-test", req.headers.Authorization)
      assert.equal("application/json", req.headers["Content-Type"])
      assert.equal(1500, req.timeout_ms)
      assert.same({ input = text, model = "omni-moderation-latest" }, ain.json.decode(req.body))
      local hate = assert(find(r.findings, "moderation.hate"))
      assert.equal("hate", hate.category)
      assert.equal("reject", hate.action)
      assert.same({ 1, #text }, hate.span)
      assert.truthy(hate.detail:find("harassment 0.91", 1, true))
      -- minors is a review category, but sexual content about minors rejects
      local minors = assert(find(r.findings, "moderation.minors"))
      assert.equal("reject", minors.action)
      local rec = r.record.moderation
      assert.equal("ok", rec.status)
      assert.equal("flagged", rec.verdict)
      assert.equal(0.91, rec.scores.harassment)
      assert.equal(ain.sha256(text), rec.input_sha256)
      assert.equal("omni-moderation-latest", rec.model)
      assert.equal(7, rec.ms)
      -- the key never reaches the record
      assert.falsy(ain.json.encode(r):find("sk-test", 1, true))
    end)

    it("adds nothing for a clean answer, and caches it", function()
      local st = script_io({ { 200, moderation_answer({}) } }, { mod_key = "k" })
      local r = mod.assess("a killer workout", {}, { providers = { moderation = MOD } })
      assert.same({}, r.findings)
      assert.equal("clean", r.record.moderation.verdict)
      local again = mod.assess("a killer workout", {}, { providers = { moderation = MOD } })
      assert.equal(1, #st.requests)
      assert.equal("cached", again.record.moderation.status)
      assert.equal("clean", again.record.moderation.verdict)
      assert.equal(0.01, again.record.moderation.scores.hate)
      -- another text, or another model, is another key
      script_io({ { 200, moderation_answer({}) } }, { mod_key = "k" }).store = st.store
      local other = mod.assess("another text", {}, { providers = { moderation = MOD } })
      assert.equal("ok", other.record.moderation.status)
    end)

    it("replays a cached flag as the same findings", function()
      local st = script_io({ { 200, moderation_answer({ "violence" }, { violence = 0.7 }) } },
        { mod_key = "k" })
      local a = mod.assess("x", {}, { providers = { moderation = MOD } })
      local b = mod.assess("x", {}, { providers = { moderation = MOD } })
      assert.equal(1, #st.requests)
      assert.same(a.findings, b.findings)
      assert.equal("cached", b.record.moderation.status)
    end)

    it("turns an unknown flagged category into a review, not a pass", function()
      script_io({ { 200, moderation_answer({ "new/category" }) } }, { mod_key = "k" })
      local r = mod.assess("x", {}, { providers = { moderation = MOD } })
      local f = assert(find(r.findings, "moderation.provider"))
      assert.equal("review", f.action)
    end)
  end)

  describe("parse_moderation is strict", function()
    local bad = {
      { "not json", "not JSON" },
      { "[]", "'results' must be an array of one result" },
      { '{"results":[]}', "'results' must be an array of one result" },
      { '{"results":[{"flagged":false,"categories":{},"category_scores":{}},'
        .. '{"flagged":false,"categories":{},"category_scores":{}}]}', "array of one result" },
      { '{"results":[{"flagged":"no","categories":{},"category_scores":{}}]}',
        "flagged' must be a boolean" },
      { '{"results":[{"flagged":true,"categories":{"hate":1},"category_scores":{}}]}',
        "categories.hate' must be a boolean" },
      { '{"results":[{"flagged":true,"categories":{"hate":true},"category_scores":{"hate":2}}]}',
        "must be a number from 0 to 1" },
      { '{"results":[{"flagged":false,"categories":{"hate":true},"category_scores":{}}]}',
        "'flagged' is false" },
      { '{"results":[{"flagged":false,"category_scores":{}}]}', "categories' must be an object" },
    }
    for _, case in ipairs(bad) do
      it("refuses " .. case[1]:sub(1, 60), function()
        local v, err = mod.parse_moderation(case[1])
        assert.is_nil(v)
        assert.truthy(err:find(case[2], 1, true), err)
      end)
    end
  end)

  describe("the LLM classifier", function()
    it("sends the policy prompt with a json_schema answer and maps our ids and S-codes", function()
      local st = script_io({ { 200, chat_answer('{"verdict":"unsafe","categories":["S10","medical"]}') } })
      local r = mod.assess("workout cures diabetes", {}, { providers = { llm = LLM } })
      local req = st.requests[1]
      assert.equal("http://127.0.0.1:9/v1/chat/completions", req.url)
      assert.is_nil(req.headers.Authorization)
      local body = ain.json.decode(req.body)
      assert.equal("guard", body.model)
      assert.equal("system", body.messages[1].role)
      assert.truthy(body.messages[1].content:find("- self_harm: ", 1, true))
      assert.equal("workout cures diabetes", body.messages[2].content)
      assert.equal("json_schema", body.response_format.type)
      local schema = body.response_format.json_schema.schema
      assert.same({ "safe", "unsafe" }, schema.properties.verdict.enum)
      assert.equal(12, #schema.properties.categories.items.enum)
      assert.equal("hate", assert(find(r.findings, "llm.hate")).category)
      assert.equal("reject", assert(find(r.findings, "llm.medical")).action)
      assert.equal("unsafe", r.record.llm.verdict)
      assert.same({ "S10", "medical" }, r.record.llm.flags)
    end)

    it("passes a safe verdict without findings", function()
      script_io({ { 200, chat_answer('{"verdict":"safe","categories":[]}') } })
      local r = mod.assess("x", {}, { providers = { llm = LLM } })
      assert.same({}, r.findings)
      assert.equal("safe", r.record.llm.verdict)
    end)

    local bad = {
      { chat_answer("safe"), "not JSON" },
      { chat_answer('{"verdict":"unsafe","categories":["S10"],"why":"x"}'), "unexpected key 'why'" },
      { chat_answer('{"verdict":"maybe","categories":[]}'), "'verdict' must be" },
      { chat_answer('{"verdict":"unsafe","categories":["gore"]}'), "unknown category 'gore'" },
      { chat_answer('{"verdict":"unsafe","categories":[]}'), "\"unsafe\" without a category" },
      { chat_answer('{"verdict":"safe","categories":["hate"]}'), "\"safe\" with categories" },
      { chat_answer('{"verdict":"unsafe","categories":["hate","hate"]}'), "repeated" },
      { chat_answer('{"verdict":"safe","categories":"none"}'), "'categories' must be an array" },
      { chat_answer('{"verdict":"saf', { finish_reason = "length" }), "finish_reason is 'length'" },
      { '{"choices":[]}', "'choices[1].message' missing" },
      { chat_answer(nil, { message = { role = "assistant", refusal = "no" } }), "refused" },
    }
    for _, case in ipairs(bad) do
      it("refuses a malformed answer (" .. case[2] .. ") and sends it to review", function()
        local v, err = mod.parse_llm(case[1])
        assert.is_nil(v)
        assert.truthy(err:find(case[2], 1, true), err)
        script_io({ { 200, case[1] } })
        local r = mod.assess("x", {}, { providers = { llm = LLM } })
        assert.equal("error", r.record.llm.status)
        local f = assert(find(r.findings, "provider_unavailable"))
        assert.equal("review", f.action)
      end)
    end
  end)

  describe("a provider that fails sends the video to review", function()
    local cases = {
      { "timeout", { nil, "ETIMEOUT: POST http://127.0.0.1:9/v1/moderations: slow", "ETIMEOUT" },
        "timeout" },
      { "refused connection", { nil, "EHTTP: POST http://127.0.0.1:9/v1/moderations: refused",
        "EHTTP" }, "error" },
      { "HTTP 500", { 500, '{"error":{"message":"boom","type":"server_error"}}' }, "error" },
      { "HTTP 429", { 429, '{"error":{"message":"Rate limit","type":"requests"}}' }, "error" },
      { "garbage", { 200, "<html>oops</html>" }, "error" },
      { "HTTP 502 with binary", { 502, "\255\254bad gateway\0" }, "error" },
      { "truncated JSON", { 200, '{"results":[{"flagged":tr' }, "error" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local st = script_io({ c[2] }, { mod_key = "k" })
        local r = mod.assess("x", {}, { providers = { moderation = MOD } })
        assert.equal(c[3], r.record.moderation.status)
        assert.equal(1, #r.findings)
        local f = r.findings[1]
        assert.equal("provider_unavailable", f.rule)
        assert.equal("review", f.action)
        assert.equal("provider", f.category)
        assert.equal(0, st.puts) -- a failure is never cached
        assert.is_nil(r.record.moderation.error:find("[^\32-\126]"), "printable error text")
      end)
    end

    it("a missing API key, without asking the provider", function()
      local st = script_io({})
      local r = mod.assess("x", {}, { providers = { moderation = MOD } })
      assert.equal(0, #st.requests)
      assert.equal("error", r.record.moderation.status)
      assert.truthy(r.record.moderation.error:find("secret 'mod_key'", 1, true))
      assert.equal("review", r.findings[1].action)
    end)

    it("a misconfigured or unknown provider", function()
      script_io({})
      local r = mod.assess("x", {}, { providers = { llm = { url = "ftp://x", model = "m" },
        vision = { url = "http://x", model = "m" } } })
      assert.equal(2, #r.findings)
      assert.truthy(r.record.llm.error:find("misconfigured", 1, true))
      assert.truthy(r.record.vision.error:find("unknown provider", 1, true))
    end)
  end)

  describe("with the judge", function()
    local it = H.it_text(it, pending) -- the judge screens with ain.text
    local PERSONA = H.persona("techie_tina")
    local function script(text)
      return { title = "Linux laptop ships", text = text, lines = { "a", "b", "c" },
        hashtags = { "#linux" }, words = 30, est_seconds = 12 }
    end
    local function render()
      return { gate_ok = true, video_id = "v", probe = { duration = 15, width = 1080,
        height = 1920, video_codec = "h264", audio_codec = "aac" } }
    end

    it("a clean provider never clears a rule finding", function()
      script_io({ { 200, moderation_answer({}) } }, { mod_key = "k" })
      local res = assert(judge.decide({}, { persona = PERSONA,
        config = { providers = { moderation = MOD } },
        deps = { script = script("Write to me at ava@example.com for the full plan today."),
          render = render() } }))
      assert.equal("reject", res.decision)
      assert.equal("ok", res.providers.moderation.status)
    end)

    it("a flag raises a passing script, a failure sends it to review", function()
      local clean = "A new developer laptop ships with Linux and a long battery life today."
      script_io({ { 200, moderation_answer({ "violence" }, { violence = 0.9 }) } },
        { mod_key = "k" })
      local res = assert(judge.decide({}, { persona = PERSONA,
        config = { providers = { moderation = MOD } },
        deps = { script = script(clean), render = render() } }))
      assert.equal("reject", res.decision)
      assert.equal("flagged", res.providers.moderation.verdict)
      script_io({ { nil, "ETIMEOUT: slow", "ETIMEOUT" } }, { mod_key = "k" })
      res = assert(judge.decide({}, { persona = PERSONA,
        config = { providers = { moderation = MOD } },
        deps = { script = script(clean), render = render() } }))
      assert.equal("review", res.decision)
      assert.equal("timeout", res.providers.moderation.status)
    end)

    it("asks no provider when none is configured", function()
      script_io({})
      local res = assert(judge.decide({}, { persona = PERSONA,
        deps = { script = script("A new developer laptop ships with Linux today."),
          render = render() } }))
      assert.is_nil(res.providers)
    end)
  end)
end)
