-- ain.llm's pure parts as policies see them (engine/lua/llm.lua, embedded in the binary): the
-- JSON-schema subset, the canonical request encoding (the cache key and replay match on its
-- sha256), Retry-After parsing, and misuse raising. The HTTP side (retries, backoff, cache,
-- replay) runs against tests/servers/openai_compat.js in tests/integration/llm_script.sh.
-- Pending under plain busted (ain.llm lives in the engine).
local H = require("tests.lua.helper")
local has = type(rawget(_G, "ain")) == "table" and ain.llm ~= nil
local NO = "needs ain.llm: run under `ain test` (tests/lua/run.sh does when build/ain exists)"

local SCRIPT = {
  type = "object", additionalProperties = false,
  required = { "hook", "body", "cta", "hashtags" },
  properties = {
    hook = { type = "string", minLength = 3, maxLength = 120 },
    body = { type = "array", minItems = 1, maxItems = 4,
      items = { type = "string", minLength = 1 } },
    cta = { type = "string" },
    hashtags = { type = "array", maxItems = 3, items = { type = "string" } },
    mood = { type = "string", enum = { "calm", "upbeat" } },
    n = { type = "integer", minimum = 1, maximum = 5 },
  },
}

describe("ain.llm.validate", function()
  local function ok(v) return ain.llm.validate(SCRIPT, v) end
  local good = { hook = "Big news", body = { "One.", "Two." }, cta = "Follow.", hashtags = {} }
  it("accepts a value that matches", function()
    if not has then return pending(NO) end
    assert.is_true(ok(good))
    local g = H.copy(good); g.mood = "calm"; g.n = 3
    assert.is_true(ok(g))
  end)
  it("names the path of the first problem", function()
    if not has then return pending(NO) end
    local cases = {
      { function(v) v.hook = nil end, "$: missing required property 'hook'" },
      { function(v) v.hook = 7 end, "$.hook: expected string, got integer" },
      { function(v) v.hook = "ab" end, "$.hook: shorter than 3 characters" },
      { function(v) v.hook = string.rep("é", 121) end, "$.hook: longer than 120 characters" },
      { function(v) v.body = {} end, "$.body: fewer than 1 items" },
      { function(v) v.body = { "a", 2 } end, "$.body[2]: expected string, got integer" },
      { function(v) v.body = { "a", "b", "c", "d", "e" } end, "$.body: more than 4 items" },
      { function(v) v.extra = true end, "$: unexpected property 'extra'" },
      { function(v) v.mood = "angry" end, '$.mood: must be one of "calm", "upbeat"' },
      { function(v) v.n = 2.5 end, "$.n: expected integer, got number" },
      { function(v) v.n = 9 end, "$.n: above 5" },
      { function(v) v.hashtags = { x = 1 } end, "$.hashtags: expected array, got object" },
    }
    for _, c in ipairs(cases) do
      local v = H.copy(good)
      c[1](v)
      local r, why = ok(v)
      assert.is_nil(r)
      assert.are.equal(c[2], why)
    end
    assert.are.equal("$: expected object, got string", select(2, ok("text")))
  end)
  it("raises on a schema outside the subset, naming the keyword and path", function()
    if not has then return pending(NO) end
    local e = select(2, pcall(ain.llm.validate, { type = "object", properties = {
      a = { type = "string", pattern = "^x" } } }, {}))
    assert.matches("schema %$%.properties%.a: keyword 'pattern' is not supported", e)
    e = select(2, pcall(ain.llm.validate, { type = "strng" }, "x"))
    assert.matches("unknown type 'strng'", e)
    e = select(2, pcall(ain.llm.validate, { additionalProperties = true }, {}))
    assert.matches("only false is supported", e)
  end)
end)

describe("ain.llm.encode", function()
  it("sorts keys and writes sequences as arrays, the same bytes every time", function()
    if not has then return pending(NO) end
    local a = ain.llm.encode({ z = 1, a = { 3, 2, "x" }, m = { b = true, a = "é\"" } })
    assert.are.equal('{"a":[3,2,"x"],"m":{"a":"é\\"","b":true},"z":1}', a)
    local t = {}
    for i = 20, 1, -1 do t["k" .. i] = i end
    assert.are.equal(ain.llm.encode(t), ain.llm.encode(H.copy(t)))
  end)
  it("refuses values JSON cannot hold", function()
    if not has then return pending(NO) end
    assert.is_false(pcall(ain.llm.encode, { [true] = 1 }))
    assert.is_false(pcall(ain.llm.encode, { f = print }))
  end)
end)

describe("ain.llm.retry_after", function()
  it("reads delta-seconds and HTTP dates", function()
    if not has then return pending(NO) end
    local ra = ain.llm.retry_after
    assert.are.equal(2000, ra("2", 0))
    assert.are.equal(0, ra(" 0 ", 0))
    -- 1994-11-06 08:49:37 UTC is 784111777 s after the epoch (RFC 9110's example)
    local t = 784111777 * 1000
    assert.are.equal(5000, ra("Sun, 06 Nov 1994 08:49:42 GMT", t))
    assert.are.equal(5000, ra("Sunday, 06-Nov-94 08:49:42 GMT", t))
    assert.are.equal(0, ra("Sun, 06 Nov 1994 08:49:30 GMT", t))
    assert.are.equal(86400000, ra("Mon, 07 Nov 1994 08:49:37 GMT", t))
    assert.is_nil(ra("soon", t))
    assert.is_nil(ra("-1", t))
    assert.is_nil(ra(nil, t))
  end)
end)

describe("ain.llm.chat misuse", function()
  local cfg = { url = "http://127.0.0.1:9", model = "m" }
  it("raises on a bad config or request before any I/O", function()
    if not has then return pending(NO) end
    local msgs = { { role = "user", content = "hi" } }
    assert.matches("cfg must be", select(2, pcall(ain.llm.chat, nil, { messages = msgs })))
    assert.matches("cfg.url", select(2, pcall(ain.llm.chat, { url = "http://x/", model = "m" },
      { messages = msgs })))
    assert.matches("cfg.model", select(2, pcall(ain.llm.chat, { url = "http://x" },
      { messages = msgs })))
    assert.matches("req.messages", select(2, pcall(ain.llm.chat, cfg, { messages = {} })))
    assert.matches("messages%[1%]", select(2, pcall(ain.llm.chat, cfg,
      { messages = { { role = "user" } } })))
    assert.matches("keyword 'oneOf'", select(2, pcall(ain.llm.chat, cfg,
      { messages = msgs, schema = { oneOf = {} } })))
    assert.matches("schema_name", select(2, pcall(ain.llm.chat, cfg,
      { messages = msgs, schema = { type = "object" }, schema_name = "a b" })))
  end)
  it("is read-only", function()
    if not has then return pending(NO) end
    assert.is_false(pcall(function() ain.llm.chat = nil end))
  end)
end)
