-- ain.text.tokens on a 2 KB script with stems, against the plainest Lua tokenizer
-- (string.lower + gmatch("%w+")) on the same text in the same run. Run inside the engine:
--   build/ain test bench/text.lua            (prints µs per call and the ratio; docs/benchmarks.md)
-- BENCH_TEXT_ITERS=N changes the number of timed calls (default 2000).
local T = ain.text
local para = "Kill the stress, not yourself! Coach Ava here: this killer workout CURES " ..
  "back pain and shrinks belly fat in 10 days. Café-style H y p e protein shakes, don't skip " ..
  "them. Call five five five, zero one three two or mail coach@example.com. N4z1 and h@te have " ..
  "no place here; Неllо from Кyiv. "
local text = para:rep(math.ceil(2048 / #para)):sub(1, 2048)
local iters = tonumber(os.getenv("BENCH_TEXT_ITERS")) or 2000

local function clock() return os.clock() end

local function time(f)
  for _ = 1, 50 do f() end -- warm up (JIT, stemmer cache)
  local t0 = clock()
  for _ = 1, iters do f() end
  return (clock() - t0) / iters * 1e6
end

local ntok = #T.tokens(text, { stem = true })
local us_tokens = time(function() return T.tokens(text, { stem = true }) end)
local us_plain = time(function()
  local out = {}
  for w in text:lower():gmatch("%w+") do out[#out + 1] = w end
  return out
end)
local us_fold = time(function() return T.fold(text) end)
print(string.format("text: %d bytes, %d tokens, %d iterations", #text, ntok, iters))
print(string.format("ain.text.tokens(stem=true): %8.1f us/call", us_tokens))
print(string.format("ain.text.fold:              %8.1f us/call", us_fold))
print(string.format("lower+gmatch('%%w+'):        %8.1f us/call", us_plain))
print(string.format("ratio tokens/plain:         %8.2f", us_tokens / us_plain))
