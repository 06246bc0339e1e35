-- Writing systems in a script's text, and what a voice can say of it (issue 12 §5).
-- Provides: systems(text) -> {name = count} (han, kana, hangul, arabic, hebrew, cyrillic, greek,
--   thai, devanagari; Latin is not listed: every voice reads it), voice_language(voice) -> "en",
--   speech(text, voice) -> text to speak, unspoken -> list of languages ("Japanese", ...) whose
--   text was left out because the voice cannot read it, emoji and pictographs dropped (shown on
--   screen, never read out as "Chinese letter" or "face with tears of joy").
-- Relies on: nothing (pure Lua over UTF-8 bytes).
local M = {}

-- Code point ranges per writing system.
local SYSTEMS = {
  { "kana", 0x3040, 0x30FF }, { "kana", 0x31F0, 0x31FF }, { "kana", 0xFF66, 0xFF9F },
  { "han", 0x3400, 0x4DBF }, { "han", 0x4E00, 0x9FFF }, { "han", 0xF900, 0xFAFF },
  { "han", 0x20000, 0x3FFFF },
  { "hangul", 0x1100, 0x11FF }, { "hangul", 0x3130, 0x318F }, { "hangul", 0xAC00, 0xD7AF },
  { "arabic", 0x0600, 0x06FF }, { "arabic", 0x0750, 0x077F }, { "arabic", 0xFB50, 0xFDFF },
  { "arabic", 0xFE70, 0xFEFF },
  { "hebrew", 0x0590, 0x05FF }, { "cyrillic", 0x0400, 0x04FF }, { "greek", 0x0370, 0x03FF },
  { "thai", 0x0E00, 0x0E7F }, { "devanagari", 0x0900, 0x097F },
}

-- Which voice languages (espeak-ng codes, first part) read a writing system.
local READERS = {
  kana = { ja = true }, han = { ja = true, zh = true, cmn = true, yue = true, hak = true },
  hangul = { ko = true }, arabic = { ar = true, fa = true, ur = true },
  hebrew = { he = true }, cyrillic = { ru = true, uk = true, bg = true, sr = true, mk = true,
    be = true, kk = true, ky = true }, greek = { el = true, grc = true }, thai = { th = true },
  devanagari = { hi = true, mr = true, ne = true },
}

-- The language a reviewer is told about, per system (han alone is read as Chinese).
local LANGUAGE = { kana = "Japanese", han = "Chinese", hangul = "Korean", arabic = "Arabic",
  hebrew = "Hebrew", cyrillic = "Cyrillic-script", greek = "Greek", thai = "Thai",
  devanagari = "Hindi" }

local function system_of(cp)
  for _, r in ipairs(SYSTEMS) do
    if cp >= r[2] and cp <= r[3] then return r[1] end
  end
  return nil
end

-- Emoji, pictographs, dingbats, arrows, joiners and variation selectors: shown, not spoken.
local function pictograph(cp)
  return (cp >= 0x1F000 and cp <= 0x1FAFF) or (cp >= 0x2600 and cp <= 0x27BF)
    or (cp >= 0x2B00 and cp <= 0x2BFF) or (cp >= 0x2190 and cp <= 0x21FF)
    or (cp >= 0x2300 and cp <= 0x23FF) or cp == 0x200D or (cp >= 0xFE00 and cp <= 0xFE0F)
    or (cp >= 0xE0000 and cp <= 0xE007F)
end

-- Iterates code points: returns (byte start, byte end, code point) per character; a bad byte is
-- one character of its own (code point -1).
local function chars(s)
  local i, n = 1, #s
  return function()
    if i > n then return nil end
    local b = s:byte(i)
    local len = b < 0x80 and 1 or b >= 0xF0 and b < 0xF8 and 4 or b >= 0xE0 and 3
      or b >= 0xC0 and 2 or 1
    local cp
    if len == 1 then cp = b < 0x80 and b or -1
    elseif i + len - 1 > n then len, cp = 1, -1
    else
      cp = b % (len == 2 and 0x20 or len == 3 and 0x10 or 0x08)
      for k = 1, len - 1 do
        local c = s:byte(i + k)
        if c < 0x80 or c >= 0xC0 then len, cp = 1, -1 break end
        cp = cp * 64 + (c - 0x80)
      end
    end
    local a = i
    i = i + len
    return a, i - 1, cp
  end
end

function M.systems(text)
  local out = {}
  for _, _, cp in chars(type(text) == "string" and text or "") do
    local sys = system_of(cp)
    if sys then out[sys] = (out[sys] or 0) + 1 end
  end
  return out
end

-- "en-gb-x-rp+m3" -> "en"; "ja" -> "ja"; a table {name = ..., lang = ...} uses lang first.
function M.voice_language(voice)
  local v = voice
  if type(v) == "table" then v = v.lang or v.name end
  if type(v) ~= "string" or v == "" then return "en" end
  local code = v:lower():match("^([a-z][a-z][a-z]?)[%-%+_]") or v:lower():match("^([a-z][a-z][a-z]?)$")
  if code then return code end
  if v:lower():match("^english") then return "en" end
  return v:lower()
end

-- The text to speak with voice: pictographs dropped, runs of writing systems the voice cannot
-- read dropped (with their punctuation), spaces collapsed. Returns speech, unspoken languages.
function M.speech(text, voice)
  text = type(text) == "string" and text or ""
  local lang = M.voice_language(voice)
  local systems = M.systems(text)
  local skip, unspoken = {}, {}
  for sys in pairs(systems) do
    if not (READERS[sys] and READERS[sys][lang]) then skip[sys] = true end
  end
  -- Japanese text mixes kana and han: one language for the reviewer, not two
  if skip.kana then skip.han = skip.han or systems.han ~= nil end
  local seen = {}
  for sys in pairs(skip) do
    local name = (sys == "han" and systems.kana) and "Japanese" or LANGUAGE[sys]
    if not seen[name] then seen[name] = true unspoken[#unspoken + 1] = name end
  end
  table.sort(unspoken)
  local out, in_skipped = {}, false
  for a, b, cp in chars(text) do
    local sys = system_of(cp)
    if pictograph(cp) or cp == -1 then
      -- dropped
    elseif sys and skip[sys] then
      in_skipped = true
    elseif in_skipped and cp < 0x80 and not tostring(string.char(cp)):match("[%w%s]") then
      -- punctuation right after a skipped run ("寺、", "秋 —") goes with it
    elseif in_skipped and ((cp >= 0x3000 and cp <= 0x303F) or (cp >= 0xFF00 and cp <= 0xFF20)
        or (cp >= 0x2010 and cp <= 0x2015)) then
      -- CJK punctuation and dashes of the skipped run
    else
      if cp >= 0x80 or tostring(string.char(cp)):match("%w") then in_skipped = false end
      out[#out + 1] = text:sub(a, b)
    end
  end
  local s = table.concat(out):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  -- a sentence left with nothing but its end mark ("Today: ." ) loses the stray mark
  s = s:gsub(":%s*%.", "."):gsub("%s+([%.,!%?;:])", "%1")
  return s, unspoken
end

return M
