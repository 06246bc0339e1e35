-- Specs for scripts/agents/publisher.lua: the request for a passed video, skips for review and
-- reject, human approval, channel and artifact validation.
local H = require("tests.lua.helper")
local publisher = require("publisher")

local function ctx(decision, extra)
  local c = {
    persona = H.persona("chef_marco"),
    dag_id = "dag-1",
    deps = {
      judge = { decision = decision, confidence = 0.91, failed = { "shouting" },
        checks = { { name = "pii_email", passed = true }, { name = "shouting", passed = false } } },
      render = { video_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        artifacts = { video = "videos/ab/abcdef.mp4", thumbnail = "thumbs/ab/abcdef.jpg" } },
      script = { title = "Crème brûlée croissant", text = "Friends, pull up a chair.",
        hashtags = { "#food", "#baking" }, trend_key = "creme" },
    },
  }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

describe("publisher.publish", function()
  it("builds the outbox request for a passed video", function()
    local c = ctx("pass")
    local r = assert(publisher.publish({ channel = "outbox" }, c))
    local vid = c.deps.render.video_id
    assert.are.equal("outbox", r.channel)
    assert.are.equal(vid, r.video_id)
    assert.are.equal(ain.sha256(vid .. "outbox"), r.idempotency_key)
    assert.matches("^%x+$", r.idempotency_key)
    assert.are.equal(64, #r.idempotency_key)
    assert.are.same({
      { role = "video", key = "videos/ab/abcdef.mp4", name = vid .. ".mp4" },
      { role = "thumbnail", key = "thumbs/ab/abcdef.jpg", name = vid .. ".jpg" },
    }, r.files)
    assert.are.equal("Crème brûlée croissant", r.sidecar.title)
    assert.are.same({ "#food", "#baking" }, r.sidecar.hashtags)
    assert.are.same({ id = "chef_marco", display_name = "Chef Marco" }, r.sidecar.persona)
    assert.are.same({ decision = "pass", confidence = 0.91, passed = 1, total = 2,
      failed = { "shouting" } }, r.sidecar.checks)
    assert.is_nil(r.sidecar.reviewed_by)
    assert.is_nil(r.skipped)
  end)
  it("gives the same key for the same video and channel, and different ones otherwise", function()
    local a = publisher.publish({}, ctx("pass"))
    local b = publisher.publish({}, ctx("pass"))
    assert.are.equal(a.idempotency_key, b.idempotency_key)
    local c = ctx("pass")
    c.deps.render.video_id = "another"
    assert.are_not.equal(a.idempotency_key, publisher.publish({}, c).idempotency_key)
  end)
  it("defaults to the persona's first channel and accepts *_key render fields", function()
    local c = ctx("pass")
    c.deps.render = { video_id = "v9", video_key = "k/v9", captions_key = "k/v9.ass" }
    local r = assert(publisher.publish({}, c))
    assert.are.equal("outbox", r.channel)
    assert.are.same({ { role = "video", key = "k/v9", name = "v9.mp4" },
      { role = "captions", key = "k/v9.ass", name = "v9.ass" } }, r.files)
  end)
  it("skips videos the judge sent to review or rejected", function()
    assert.are.same({ skipped = true, reason = "judge decision: review" },
      publisher.publish({}, ctx("review")))
    assert.are.same({ skipped = true, reason = "judge decision: reject" },
      publisher.publish({}, ctx("reject")))
  end)
  it("publishes a reviewed video once a human approved it, never a rejected one", function()
    local r = assert(publisher.publish({}, ctx("review", { review = { approved = true, by = "alice" } })))
    assert.are.equal("alice", r.sidecar.reviewed_by)
    assert.is_true(publisher.publish({}, ctx("reject", { review = { approved = true } })).skipped)
    assert.is_true(publisher.publish({}, ctx("review", { review = { approved = false } })).skipped)
  end)
  it("rejects unknown channels, missing judge, video id or video file", function()
    local r, err = publisher.publish({ channel = "tiktok" }, ctx("pass"))
    assert.is_nil(r); assert.matches("^EINVAL: channel 'tiktok'", err)
    local c = ctx("pass"); c.deps.judge = nil
    r, err = publisher.publish({}, c)
    assert.is_nil(r); assert.matches("^EINVAL: ctx.deps.judge", err)
    c = ctx("pass"); c.deps.render.video_id = nil; c.dag_id = nil
    r, err = publisher.publish({}, c)
    assert.is_nil(r); assert.matches("^EINVAL: no video_id", err)
    c = ctx("pass"); c.deps.render.artifacts = { thumbnail = "t.jpg" }
    r, err = publisher.publish({}, c)
    assert.is_nil(r); assert.matches("no video artifact", err)
    r, err = publisher.publish({}, nil)
    assert.is_nil(r)
  end)
end)

describe("publisher.compensate", function()
  local function failed(extra, config)
    local c = ctx("pass", extra)
    c.failure = { error = "EHTTP: 500 from the platform", step = "publish_tiktok" }
    c.config = config
    return c
  end
  it("keeps the other posts and flags the video by default", function()
    local r = assert(publisher.compensate({ channel = "tiktok" }, failed()))
    assert.are.same({ action = "flag", video_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
      channel = "tiktok", reason = "publish to tiktok failed: EHTTP: 500 from the platform" }, r)
  end)
  it("follows the config's publish.compensation", function()
    local r = assert(publisher.compensate({ channel = "tiktok" },
      failed(nil, { compensation = "unpublish_others" })))
    assert.are.equal("unpublish_others", r.action)
  end)
  it("lets a persona override the config", function()
    local p = H.persona("chef_marco")
    p.compensation = "unpublish_others"
    local r = assert(publisher.compensate({ channel = "tiktok" },
      failed({ persona = p }, { compensation = "none" })))
    assert.are.equal("unpublish_others", r.action)
  end)
  it("names the persona's first channel when the payload has none, and a plain reason",
    function()
    local c = failed(); c.failure = nil
    local r = assert(publisher.compensate({}, c))
    assert.are.equal("outbox", r.channel)
    assert.are.equal("publish to outbox failed: failed past its retries", r.reason)
  end)
  it("refuses an unknown action and a context without a video", function()
    local r, err = publisher.compensate({}, failed(nil, { compensation = "delete_everything" }))
    assert.is_nil(r); assert.matches("^EINVAL: compensation 'delete_everything'", err)
    local c = failed(); c.deps.render.video_id = nil; c.dag_id = nil
    r, err = publisher.compensate({}, c)
    assert.is_nil(r); assert.matches("^EINVAL: no video_id", err)
  end)
end)
