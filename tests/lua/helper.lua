-- Spec helper: puts scripts/agents and scripts/personas on package.path and, when the specs run
-- under plain busted (not `ain test`), installs a minimal stand-in for the parts of the `ain`
-- module the policies use: ain.json (lua-cjson), ain.sha256 (pure Lua, checked against FIPS 180-2
-- vectors in helper_spec.lua) and ain.now. Inside the engine the real `ain` is left untouched.
-- Relies on: LuaJIT's bit library, lua-cjson, lfs (optional, to list personas).

local H = {}

local function script_root()
  local ok, info = pcall(function() return debug.getinfo(1, "S").source end)
  if ok and type(info) == "string" then
    local dir = info:match("^@(.*)tests/lua/helper%.lua$")
    if dir then return dir == "" and "./" or dir end
  end
  return "./"
end

H.root = script_root()
-- scripts/?.lua resolves require("personas/<id>") the way the engine's sandbox does.
package.path = H.root .. "scripts/agents/?.lua;" .. H.root .. "scripts/personas/?.lua;"
  .. H.root .. "scripts/?.lua;" .. package.path

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror = bit.rshift, bit.lshift, bit.ror

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

function H.sha256(msg)
  assert(type(msg) == "string", "sha256: expected string")
  local len = #msg
  -- Padding: 0x80, zeros, then the bit length as a 64-bit big-endian integer.
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64)
  local bits = len * 8
  local hi, lo = math.floor(bits / 2 ^ 32), bits % 2 ^ 32
  local function be32(x)
    return string.char(band(rshift(x, 24), 255), band(rshift(x, 16), 255),
      band(rshift(x, 8), 255), band(x, 255))
  end
  msg = msg .. be32(hi) .. be32(lo)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
    0x1f83d9ab, 0x5be0cd19 }
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 63 do
      local s0 = bxor(ror(w[i - 15], 7), ror(w[i - 15], 18), rshift(w[i - 15], 3))
      local s1 = bxor(ror(w[i - 2], 17), ror(w[i - 2], 19), rshift(w[i - 2], 10))
      w[i] = bit.tobit(w[i - 16] + s0 + w[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for i = 0, 63 do
      local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = hh + S1 + ch + K[i + 1] + w[i]
      local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local maj = bxor(band(a, b), band(a, c), band(b, c))
      local t2 = S0 + maj
      hh, g, f, e, d, c, b, a = g, f, e, bit.tobit(d + t1), c, b, a, bit.tobit(t1 + t2)
    end
    h[1], h[2], h[3], h[4] = bit.tobit(h[1] + a), bit.tobit(h[2] + b), bit.tobit(h[3] + c),
      bit.tobit(h[4] + d)
    h[5], h[6], h[7], h[8] = bit.tobit(h[5] + e), bit.tobit(h[6] + f), bit.tobit(h[7] + g),
      bit.tobit(h[8] + hh)
  end
  local out = {}
  for i = 1, 8 do out[i] = bit.tohex(h[i]) end
  return table.concat(out)
end

if rawget(_G, "ain") == nil then
  local cjson = require("cjson")
  rawset(_G, "ain", {
    -- Same contract as the engine's ain module: decode returns nil, "EINVAL: ..." instead of
    -- raising, and now() is epoch milliseconds.
    json = { encode = cjson.encode, null = cjson.null, decode = function(s)
      local ok, v = pcall(cjson.decode, s)
      if ok then return v end
      return nil, "EINVAL: " .. tostring(v), "EINVAL"
    end },
    sha256 = H.sha256,
    now = function() return os.time() * 1000 end,
    log = function() end,
  })
end

-- ain.text (fold, tokens, stem, numbers) is C inside the engine and has no stand-in: a Lua copy
-- of NFKC and Snowball would test the copy, not the engine. tests/lua/run.sh runs the specs under
-- `ain test` when it finds the binary, and it.lua_specs always does; under plain busted a spec
-- that needs ain.text starts with `if not H.has_text then return pending(H.NO_TEXT) end`.
H.has_text = type(rawget(_G, "ain")) == "table" and ain.text ~= nil
H.NO_TEXT = "needs ain.text: run under `ain test` (tests/lua/run.sh does when build/ain exists)"

-- Reads a file relative to the repository root (fixtures, samples).
function H.read(path)
  local f = assert(io.open(H.root .. path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Every persona file, keyed by file name (without .lua), loaded fresh.
function H.persona_files()
  local names = {}
  local ok, lfs = pcall(require, "lfs")
  if ok then
    for f in lfs.dir(H.root .. "scripts/personas") do
      local n = f:match("^(.+)%.lua$")
      if n then names[#names + 1] = n end
    end
  else
    names = { "techie_tina", "chef_marco", "coach_ava", "calm_kenji", "penny_ledger" }
  end
  table.sort(names)
  local out = {}
  for _, n in ipairs(names) do
    out[n] = dofile(H.root .. "scripts/personas/" .. n .. ".lua")
  end
  return out, names
end

function H.personas()
  local byfile, names = H.persona_files()
  local list = {}
  for _, n in ipairs(names) do list[#list + 1] = byfile[n] end
  return list
end

function H.persona(id)
  return dofile(H.root .. "scripts/personas/" .. id .. ".lua")
end

-- Deep copy, so a spec can mutate a persona or a fixture without leaking into another test.
function H.copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = H.copy(v) end
  return c
end

-- For a spec file whose every case needs ain.text: `local it = H.it_text(it, pending)` (busted's
-- `it` and `pending` live in the spec file's environment) reports each case pending without it.
function H.it_text(it, pending)
  if H.has_text then return it end
  return function(name) pending(name .. " (" .. H.NO_TEXT .. ")") end
end

-- Median fundamental frequency (Hz) of a 16-bit PCM WAV: 40 ms frames every 10 ms, frames within
-- 13 dB of the loudest, normalised autocorrelation over 60..400 Hz, voiced when it peaks above
-- 0.6. Enough to tell voices apart (personas_spec.lua); not a pitch tracker.
function H.median_f0(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("*a")
  f:close()
  local function u32(p) return d:byte(p) + d:byte(p + 1) * 256 + d:byte(p + 2) * 65536 + d:byte(p + 3) * 16777216 end
  local rate, pos = u32(25), 13
  while pos + 8 <= #d and d:sub(pos, pos + 3) ~= "data" do pos = pos + 8 + u32(pos + 4) end
  local s, n = {}, 0
  for i = pos + 8, #d - 1, 2 do
    local v = d:byte(i) + d:byte(i + 1) * 256
    n = n + 1
    s[n] = v >= 32768 and v - 65536 or v
  end
  local win, hop = math.floor(rate * 0.04), math.floor(rate * 0.01)
  local lo, hi = math.floor(rate / 400), math.floor(rate / 60)
  local energy, maxe = {}, 0
  for st = 1, n - win - hi, hop do
    local e = 0
    for i = st, st + win - 1 do e = e + s[i] * s[i] end
    energy[st] = e
    if e > maxe then maxe = e end
  end
  local f0s = {}
  for st = 1, n - win - hi, hop do
    local e0 = energy[st]
    if e0 > maxe * 0.05 then
      local best, bl = 0, 0
      for lag = lo, hi do
        local c, el = 0, 0
        for i = st, st + win - 1 do
          local x = s[i + lag]
          c = c + s[i] * x
          el = el + x * x
        end
        local r = c / math.sqrt(e0 * el + 1)
        if r > best then best, bl = r, lag end
      end
      if best > 0.6 then f0s[#f0s + 1] = rate / bl end
    end
  end
  table.sort(f0s)
  return f0s[math.floor(#f0s / 2) + 1] or 0
end

return H
