-- Specs for scripts/agents/pipeline.lua: the DAG shape, persona data copied into built-in
-- payloads, one publish step per channel, validation of bad shapes and bad input.
local H = require("tests.lua.helper")
local pipeline = require("pipeline")

local PAYLOAD = { trend_key = "night trains", title = "Night trains", summary = "s", tags = { "travel" } }

local function by_name(spec)
  local m = {}
  for _, s in ipairs(spec.steps) do m[s.name] = s end
  return m
end

describe("pipeline.build", function()
  it("returns script, tts, assets, visuals, render, inspect, judge, review_gate, publish with handlers and deps", function()
    local spec = assert(pipeline.build(PAYLOAD, { persona = H.persona("calm_kenji") }))
    local names = {}
    for _, s in ipairs(spec.steps) do names[#names + 1] = s.name end
    assert.are.same({ "script", "tts", "assets", "visuals", "render", "inspect", "judge", "review_gate", "publish" }, names)
    local s = by_name(spec)
    assert.are.equal("lua:scriptwriter.write", s.script.handler)
    assert.are.equal("tts", s.tts.handler)
    assert.are.equal("assets", s.assets.handler)
    assert.are.equal("render", s.render.handler)
    assert.are.equal("inspect", s.inspect.handler)
    assert.are.equal("lua:judge.decide", s.judge.handler)
    assert.are.equal("review_gate", s.review_gate.handler)
    assert.are.equal("publish", s.publish.handler)
    assert.are.same({}, s.script.deps)
    assert.are.same({ "script" }, s.tts.deps)
    assert.are.same({}, s.assets.deps)
    assert.are.same({ "tts", "script", "assets" }, s.visuals.deps)
    assert.are.equal("lua:visuals.choose", s.visuals.handler)
    assert.are.same({ "tts", "assets", "visuals", "script" }, s.render.deps)
    assert.are.same({ "render", "script", "visuals" }, s.inspect.deps)
    assert.are.same({ "render", "script", "inspect" }, s.judge.deps)
    assert.are.same({ "judge", "render" }, s.review_gate.deps)
    assert.are.same({ "review_gate", "judge", "render", "script" }, s.publish.deps)
    assert.is_true(pipeline.validate(spec))
    for _, st in ipairs(spec.steps) do
      assert.is_true(st.timeout_ms > 0 and st.max_attempts >= 1)
    end
  end)
  it("copies the persona's voice and style into the built-in steps", function()
    local p = H.persona("calm_kenji")
    local s = by_name(assert(pipeline.build(PAYLOAD, { persona = p })))
    assert.are.same(p.voice, s.tts.payload.voice)
    assert.are.same(p.style, s.assets.payload.style)
    assert.are.same(p.style, s.render.payload.style)
    assert.are.equal(1080, s.render.payload.width)
    assert.are.equal(1920, s.render.payload.height)
    assert.are.equal("Night trains", s.script.payload.title)
    assert.are.equal("night trains", s.script.payload.trend_key)
    assert.are.equal("outbox", s.publish.payload.channel)
    -- copies, not shared tables: a step cannot change the persona
    s.tts.payload.voice.rate = 1
    assert.are.equal(150, p.voice.rate)
  end)
  it("adds one publish step per channel", function()
    local p = H.persona("techie_tina")
    p.channels = { "outbox", "webhook" }
    local s = by_name(assert(pipeline.build(PAYLOAD, { persona = p })))
    assert.are.equal("outbox", s.publish.payload.channel)
    assert.are.equal("webhook", s.publish_webhook.payload.channel)
    assert.are.equal("publish", s.publish_webhook.handler)
    assert.are.same({ "review_gate", "judge", "render", "script" }, s.publish_webhook.deps)
  end)
  it("loads the persona named by ctx.persona_id when ctx.persona is absent", function()
    local spec = assert(pipeline.build(PAYLOAD, { persona_id = "calm_kenji" }))
    assert.are.same(H.persona("calm_kenji").voice, by_name(spec).tts.payload.voice)
    for _, id in ipairs({ "nobody", "../../etc/passwd", 7 }) do
      local r, err = pipeline.build(PAYLOAD, { persona_id = id })
      assert.is_nil(r)
      assert.matches("^EINVAL: ctx.persona", err)
    end
  end)
  it("rejects bad input", function()
    local p = H.persona("techie_tina")
    local r, err = pipeline.build({}, { persona = p })
    assert.is_nil(r); assert.matches("^EINVAL: payload.title", err)
    r, err = pipeline.build(PAYLOAD, {})
    assert.is_nil(r); assert.matches("^EINVAL: ctx.persona", err)
    p.channels = {}
    r, err = pipeline.build(PAYLOAD, { persona = p })
    assert.is_nil(r); assert.matches("no channels", err)
    p.channels = { "bad channel/.." }
    r, err = pipeline.build(PAYLOAD, { persona = p })
    assert.is_nil(r); assert.matches("channel name must match", err)
  end)
end)

describe("pipeline.validate", function()
  local function step(name, deps)
    return { name = name, handler = "tts", deps = deps or {}, timeout_ms = 1, max_attempts = 1,
      payload = {} }
  end
  it("accepts a well-formed chain", function()
    assert.is_true(pipeline.validate({ steps = { step("a"), step("b", { "a" }) } }))
  end)
  it("rejects empty specs, repeats, unknown or later deps, bad handlers and limits", function()
    local bad = {
      { steps = {} },
      { steps = { step("a"), step("a") } },
      { steps = { step("a", { "b" }), step("b") } },
      { steps = { step("a", { "a" }) } },
      { steps = { step("a", { "nope" }) } },
    }
    local s = step("a"); s.handler = "lua:no_function"; bad[#bad + 1] = { steps = { s } }
    s = step("a"); s.handler = "rm -rf"; bad[#bad + 1] = { steps = { s } }
    s = step("a"); s.timeout_ms = 0; bad[#bad + 1] = { steps = { s } }
    s = step("a"); s.max_attempts = 1.5; bad[#bad + 1] = { steps = { s } }
    s = step("a"); s.payload = nil; bad[#bad + 1] = { steps = { s } }
    s = step("a"); s.deps = "x"; bad[#bad + 1] = { steps = { s } }
    for i, spec in ipairs(bad) do
      local ok, err = pipeline.validate(spec)
      assert.is_nil(ok, "case " .. i)
      assert.matches("^EINVAL: ", err)
    end
  end)
end)
