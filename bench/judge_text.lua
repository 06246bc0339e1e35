-- bench/judge_text.lua: Lua time of the judge's text checks for one video (issue 13 bar:
-- <= 20 ms), run by `build/ain test bench/judge_text.lua` (the engine's LuaJIT and real
-- ain.text; JIT off, as policies run). For each persona a scriptwriter script, then
-- judge.decide on it with a render result (screening title, text, lines and hashtags against
-- every lexicon and the persona's brand rules, plus the format checks), timed per call. The
-- reference, measured in the same run on the same texts: the matcher the judge had before
-- issue 13 (lowercase, punctuation to spaces, a plain find per term) over the same number of
-- terms the lexicons hold. Prints mean and p99 per video and the ratio; exits 1 above the bar.
-- Relies on: scripts/agents (judge, scriptwriter, persona), scripts/safety, scripts/personas.
local root = (debug.getinfo(1, "S").source:match("^@(.*)bench/judge_text%.lua$") or "./")
package.path = root .. "scripts/agents/?.lua;" .. root .. "scripts/?.lua;" .. package.path
if jit then jit.off() end

local N = tonumber(os.getenv("AIN_BENCH_N")) or 200
local BAR_MS = 20
local judge, sw = require("judge"), require("scriptwriter")
local clock = os.clock

local trends = {
  { trend_key = "marathon", title = "City marathon sells out in two days",
    summary = "Runners rushed to sign up for the autumn city marathon, which sold out in two "
      .. "days; organisers promise more water stations and a new finish line by the river.",
    tags = { "running", "marathon" } },
  { trend_key = "ramen", title = "Tokyo ramen bars go cashless",
    summary = "Ticket machines in small ramen shops now accept phone payments, and tourists "
      .. "love the shorter queues at lunch time in the busiest districts.", tags = { "food" } },
}
local videos = {}
for _, id in ipairs({ "coach_ava", "chef_marco", "penny_ledger", "techie_tina", "calm_kenji" }) do
  local persona = require("personas/" .. id)
  for _, t in ipairs(trends) do
    videos[#videos + 1] = { persona = persona, script = assert(sw.write(t, { persona = persona })) }
  end
end
local render = { gate_ok = true, video_id = "v", probe = { duration = 15, width = 1080,
  height = 1920, video_codec = "h264", audio_codec = "aac" } }

-- the reference: the pre-issue-13 whole-word matcher over as many terms as the lexicons hold
local terms = {}
for _, n in ipairs(require("safety/categories").lexicons) do
  local function collect(t)
    for _, v in pairs(t) do
      if type(v) == "string" then
        terms[#terms + 1] = v
      elseif type(v) == "table" then
        collect(v)
      end
    end
  end
  collect(require("safety/" .. n).rules)
end
local function norm(s)
  s = s:gsub("[%c%p%s]", " "):gsub("[A-Z]", string.lower)
  return " " .. s:gsub(" +", " ") .. " "
end
local function reference(script)
  local padded = norm(table.concat({ script.title, script.text,
    table.concat(script.hashtags, " ") }, "\n"))
  local hits = 0
  for _, t in ipairs(terms) do
    if padded:find(norm(t), 1, true) then hits = hits + 1 end
  end
  return hits
end

local function measure(fn)
  local times = {}
  for i = 1, N do
    local v = videos[(i - 1) % #videos + 1]
    local t0 = clock()
    fn(v)
    times[#times + 1] = (clock() - t0) * 1000
  end
  table.sort(times)
  local sum = 0
  for _, t in ipairs(times) do sum = sum + t end
  return sum / #times, times[math.max(1, math.ceil(#times * 0.99))]
end

assert(judge.decide({}, { persona = videos[1].persona, deps = { script = videos[1].script,
  render = render } })) -- compiles the lexicons once, as the first call of a version does
local ref_mean = measure(function(v) reference(v.script) end)
local mean, p99 = measure(function(v)
  local r = assert(judge.decide({}, { persona = v.persona, deps = { script = v.script,
    render = render } }))
  assert(r.decision == "pass", "a benign bench script was stopped")
end)
print(string.format("judge text checks per video: mean %.3f ms, p99 %.3f ms (bar %d ms); "
  .. "reference (plain find of %d terms) %.3f ms; ratio %.1f; N=%d", mean, p99, BAR_MS, #terms,
  ref_mean, mean / ref_mean, N))
judge.screen("warm", {})
local first = clock()
package.loaded["safety/hate"] = nil -- a new version of one module: the next call recompiles
judge.screen("again", {})
print(string.format("recompile after a new safety version: %.3f ms", (clock() - first) * 1000))
if p99 > BAR_MS then os.exit(1) end
