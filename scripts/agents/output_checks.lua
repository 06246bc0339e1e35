-- Output checks: does the rendered video show and say what the script says?
-- Provides: findings(inspect, script, settings) -> array of findings
--   { category = "output", rule, severity, action = "review", span = {1, 0}, match, detail }
--   (the judge's finding shape, docs/policies.md); measure(inspect, script, settings) -> the
--   figures the rules use (exported for specs and the thresholds' calibration).
-- Relies on: nothing from `ain`. Reads the "inspect" built-in's result (ctx.deps.inspect:
--   {enabled, ocr = {{t, text, words = {{text, conf, box}}}...}, plan = {texts = {{start, stop,
--   title, box, text}}}, asr = {text, words, oov}}) and the script (title, text, hashtags);
--   thresholds from settings.output_checks over DEFAULTS.
--
-- OCR: the title and the captions must be on screen, and nothing else (beyond OCR noise).
-- With the words' boxes and the render's plan (what text it drew where and when), a word read
-- inside a box the render drew text in at that frame's time is that text misread when it
-- resembles one of its words (a part, two run together, a third of its letters wrong), and
-- those words must be the script's; a word anywhere else must be a script word. The inspect step
-- already kept the pictures (masked) and the scene changes (not sampled) out of the frames.
-- ASR: the recogniser's words are aligned with the script's (edit distance); too little of the
-- script heard, a sentence not heard, or a stretch of words the script does not have is a finding.
-- The recogniser's model is built from the script (engine/media/asrlm.c), so a good render is heard
-- well; what it hears instead of a dropped or changed sentence is noise, which these rules measure.

local M = {}

-- Calibrated on real renders of the five personas (docs/policies.md, "Output checks").
M.DEFAULTS = {
  min_title_recall = 0.5,       -- title words found by OCR (a long title is cut to two lines)
  min_caption_frames = 0.5,     -- frames whose text has script words
  max_unexpected_words = 3,     -- distinct OCR words in neither title, script nor hashtags
  min_drawn_conf = 50,          -- inside a text the render drew, a word tesseract is less sure of
                                --   than this (0..100) is its struggle with that text
  min_speech_recall = 0.5,      -- script words heard, aligned in order
  min_sentence_recall = 0.3,    -- a sentence of >= sentence_min_words words heard less ...
  sentence_min_words = 5,
  max_gap_ratio = 0.5,          -- ... with at most this many words per expected one in its place
                                --     is dropped;
  min_foreign_share = 0.5,      -- ... with this share of words the script lacks is different
  max_foreign_run = 8,          -- heard words in a row that align with nothing in the script
}

-- Text ------------------------------------------------------------------------------------------

-- Latin-1 letters (UTF-8 C3 80..C3 BF) to their ASCII base, as the recogniser's model does.
local LATIN1 = "aaaaaaaceeeeiiiidnooooo ouuuuytsaaaaaaaceeeeiiiidnooooo ouuuuyty"

local function fold(s)
  s = s:gsub("\195([\128-\191])", function(c)
    local b = LATIN1:sub(c:byte() - 127, c:byte() - 127)
    return b == " " and " " or b
  end)
  s = s:gsub("\226\128\153", "'"):gsub("(%a)'(%a)", "%1%2")
  return s:lower()
end

-- Words (letters only: numbers are read differently by every voice and OCR) of a text.
local function words(s)
  local out = {}
  for w in fold(s or ""):gmatch("%a+") do out[#out + 1] = w end
  return out
end

-- Sentences as the recogniser's model splits them: at . ! ? ; : and line breaks.
local function sentences(s)
  local out = {}
  for part in fold(s or ""):gmatch("[^%.!%?;:\n]+") do
    local ws = {}
    for w in part:gmatch("%a+") do ws[#ws + 1] = w end
    if #ws > 0 then out[#out + 1] = ws end
  end
  return out
end

-- Levenshtein distance, stopping early once it exceeds max.
local function edits(a, b, max)
  local la, lb = #a, #b
  if math.abs(la - lb) > max then return max + 1 end
  local prev = {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local cur, best = { [0] = i }, i
    local ca = a:byte(i)
    for j = 1, lb do
      local c = prev[j - 1] + (ca == b:byte(j) and 0 or 1)
      if prev[j] + 1 < c then c = prev[j] + 1 end
      if cur[j - 1] + 1 < c then c = cur[j - 1] + 1 end
      cur[j] = c
      if c < best then best = c end
    end
    if best > max then return max + 1 end
    prev = cur
  end
  return prev[lb]
end

-- OCR's errors: one edit in a word of 4..7 letters, two from 8 on; short words must be exact.
local function near(w, set)
  if set[w] then return true end
  local max = #w >= 8 and 2 or (#w >= 4 and 1 or 0)
  if max == 0 then return false end
  for v in pairs(set) do
    if edits(w, v, max) <= max then return true end
  end
  return false
end

local function set_of(list)
  local s = {}
  for _, w in ipairs(list) do s[w] = true end
  return s
end

-- OCR ------------------------------------------------------------------------------------------

-- The texts the render drew at time t (a frame's own timestamp) whose box holds the centre of an
-- OCR box: {words...} of all of them in order, or nil when the word lies outside every text.
-- A caption that changes within `PLAN_SLACK_S` of t counts on both sides of the change.
local PLAN_SLACK_S, PLAN_MARGIN = 0.1, 0.02

local function drawn_at(texts, t, box)
  if type(box) ~= "table" or type(t) ~= "number" then return nil end
  local cx = (box[1] or 0) + (box[3] or 0) / 2
  local cy = (box[2] or 0) + (box[4] or 0) / 2
  local got
  for _, e in ipairs(texts) do
    local b = type(e.box) == "table" and e.box or nil
    if b and type(e.start) == "number" and type(e.stop) == "number"
        and t >= e.start - PLAN_SLACK_S and t < e.stop + PLAN_SLACK_S
        and cx >= b[1] - PLAN_MARGIN and cx <= b[1] + b[3] + PLAN_MARGIN
        and cy >= b[2] - PLAN_MARGIN and cy <= b[2] + b[4] + PLAN_MARGIN then
      got = got or {}
      for _, w in ipairs(words(e.text)) do got[#got + 1] = w end
    end
  end
  return got
end

-- Is token w, read where `drawn` (words in order) was drawn, one of them misread? A part of one
-- (a letter lost at an edge), two run together ("foryour"), or a third of its letters wrong.
local function misread_of(w, drawn)
  for i, d in ipairs(drawn) do
    local cands = { d, drawn[i + 1] and (d .. drawn[i + 1]) or nil }
    for _, c in ipairs(cands) do
      if c:find(w, 1, true) then return c end
      local max = math.max(1, math.floor(#w / 3))
      if edits(w, c, max) <= max then return c end
    end
  end
  return nil
end

local function ocr_measure(inspect, script, s)
  local body = words(script.text)
  if type(script.lines) == "table" then
    for _, l in ipairs(script.lines) do
      if type(l) == "string" then for _, w in ipairs(words(l)) do body[#body + 1] = w end end
    end
  end
  local allowed = set_of(body)
  for _, w in ipairs(words(script.title)) do allowed[w] = true end
  for _, h in ipairs(type(script.hashtags) == "table" and script.hashtags or {}) do
    if type(h) == "string" then for _, w in ipairs(words(h)) do allowed[w] = true end end
  end
  local bodyset = set_of(body)
  -- The title's own words: the captions show the script, and a title word the script also says
  -- would be "found" in a caption although the title is not on screen.
  local title = {}
  for _, w in ipairs(words(script.title)) do
    if not bodyset[w] and #w >= 3 then title[w] = true end
  end
  local title_all = set_of(words(script.title))
  if next(title) == nil then title = title_all end
  local seen_title, frames, caption_frames, unexpected, order = {}, 0, 0, {}, {}
  local plan = type(inspect.plan) == "table" and inspect.plan or {}
  local texts = type(plan.texts) == "table" and plan.texts or {}
  -- The drawn words that are the script's: a misread is checked against these only, so a caption
  -- the render drew with other words than the script's is still unexpected text.
  local function allowed_only(list)
    local out = {}
    for _, w in ipairs(list) do if near(w, allowed) then out[#out + 1] = w end end
    return out
  end
  local function add_unexpected(w, t)
    if not unexpected[w] then
      unexpected[w] = t or true
      order[#order + 1] = w
    end
  end
  local n_placed = 0
  for _, f in ipairs(type(inspect.ocr) == "table" and inspect.ocr or {}) do
    frames = frames + 1
    local has_caption = false
    local fw = words(type(f.text) == "string" and f.text or "")
    -- OCR splits a word at a wide gap ("kit chen", "sto ries"): a token that joined with its
    -- neighbour makes an allowed word is read as that word.
    local joined = {}
    for i = 1, #fw - 1 do
      if not near(fw[i], allowed) and near(fw[i] .. fw[i + 1], allowed) then
        joined[i], joined[i + 1] = true, true
      end
    end
    local placed = type(f.words) == "table" and #texts > 0
    for i, w in ipairs(fw) do
      if joined[i] then goto next_word end
      if title[w] then seen_title[w] = true
      elseif near(w, title) then
        for t in pairs(title) do if edits(w, t, 2) <= 2 then seen_title[t] = true end end
      end
      if near(w, bodyset) and not title_all[w] then has_caption = true end
      -- One- and two-letter fragments are what OCR makes of outlines and gradients.
      if not placed and #w >= 3 and not near(w, allowed) then add_unexpected(w, f.t) end
      ::next_word::
    end
    if placed then
      n_placed = n_placed + 1
      -- Each word by where it was read: in a drawn text, against that text; elsewhere, against
      -- the script (a split word joined with its neighbour, as above).
      local toks = {}
      for _, ow in ipairs(f.words) do
        local drawn = type(ow) == "table" and drawn_at(texts, f.t, ow.box) or nil
        for _, w in ipairs(words(type(ow) == "table" and ow.text or "")) do
          toks[#toks + 1] = { w = w, drawn = drawn and allowed_only(drawn),
            unsure = type(ow.conf) == "number" and ow.conf < s.min_drawn_conf }
        end
      end
      for i, k in ipairs(toks) do
        local w, nx = k.w, toks[i + 1]
        if #w < 3 or near(w, allowed) then goto next_tok end
        if k.drawn then
          -- Two lines read as one, a word half over a moving edge: tesseract says it is unsure.
          -- A word over the captions that is not theirs reads clearly (a spec shows it caught).
          if not k.unsure and not misread_of(w, k.drawn) then add_unexpected(w, f.t) end
        elseif not (nx and not nx.drawn and near(w .. nx.w, allowed))
            and not (i > 1 and not toks[i - 1].drawn and near(toks[i - 1].w .. w, allowed)) then
          add_unexpected(w, f.t)
        end
        ::next_tok::
      end
    end
    if has_caption then caption_frames = caption_frames + 1 end
  end
  local ntitle, nseen = 0, 0
  for w in pairs(title) do
    ntitle = ntitle + 1
    if seen_title[w] then nseen = nseen + 1 end
  end
  return { frames = frames, title_words = ntitle, title_seen = nseen,
    title_recall = ntitle > 0 and nseen / ntitle or 1,
    caption_frames = frames > 0 and caption_frames / frames or 0,
    unexpected = order, unexpected_at = unexpected, placed_frames = n_placed }
end

-- ASR ------------------------------------------------------------------------------------------

-- Aligns heard words with expected ones (edit distance, equal words only match); returns for each
-- expected word the index of the heard word matched with it (or false) and for each heard word
-- whether it matched.
local function align(exp, heard)
  local n, m = #exp, #heard
  local d = {}
  for i = 0, n do d[i] = { [0] = i } end
  for j = 1, m do d[0][j] = j end
  for i = 1, n do
    local di, dp, e = d[i], d[i - 1], exp[i]
    for j = 1, m do
      local c = dp[j - 1] + (e == heard[j] and 0 or 1)
      if dp[j] + 1 < c then c = dp[j] + 1 end
      if di[j - 1] + 1 < c then c = di[j - 1] + 1 end
      di[j] = c
    end
  end
  local hit, used = {}, {}
  local i, j = n, m
  while i > 0 and j > 0 do
    if exp[i] == heard[j] and d[i][j] == d[i - 1][j - 1] then
      hit[i], used[j] = j, true
      i, j = i - 1, j - 1
    elseif d[i][j] == d[i - 1][j] + 1 then
      i = i - 1
    elseif d[i][j] == d[i][j - 1] + 1 then
      j = j - 1
    else
      i, j = i - 1, j - 1
    end
  end
  return hit, used, (n > 0 and d[n][m] / n or 0)
end

local function asr_measure(inspect, script, s)
  local asr = type(inspect.asr) == "table" and inspect.asr or {}
  local oov = set_of(words(type(asr.oov) == "string" and asr.oov or ""))
  local exp, sent_of, sents = {}, {}, {}
  for k, ws in ipairs(sentences(script.text)) do
    local kept = {}
    for _, w in ipairs(ws) do
      -- Words the recogniser's dictionary lacks can never be heard: they are not expected.
      if not oov[w] then
        exp[#exp + 1] = w
        sent_of[#exp] = k
        kept[#kept + 1] = w
      end
    end
    sents[k] = kept
  end
  local heard = words(type(asr.text) == "string" and asr.text or "")
  local vocab = set_of(exp)
  local hit, used, wer = align(exp, heard)
  local nhit = 0
  for i = 1, #exp do if hit[i] then nhit = nhit + 1 end end
  -- Sentences heard too little: show what was heard where they should be.
  local dropped = {}
  local first = {}
  for i = 1, #exp do first[sent_of[i]] = first[sent_of[i]] or i end
  for k, ws in ipairs(sents) do
    if #ws >= s.sentence_min_words then
      local a, h = first[k], 0
      for i = a, a + #ws - 1 do if hit[i] then h = h + 1 end end
      if h / #ws < s.min_sentence_recall then
        -- Heard words between the previous and the next matched expected words.
        local lo, hi = 0, #heard + 1
        for i = a - 1, 1, -1 do if hit[i] then lo = hit[i]; break end end
        for i = a + #ws, #exp do if hit[i] then hi = hit[i]; break end end
        local got, nforeign = {}, 0
        for j = lo + 1, hi - 1 do
          got[#got + 1] = heard[j]
          if not vocab[heard[j]] then nforeign = nforeign + 1 end
        end
        -- Silence where the sentence should be: dropped. Words the script does not have: said
        -- differently. Script words in the wrong places is how the recogniser fails on a good
        -- render (the model pulls it towards the script), so that alone is not a finding.
        local kind = (#got <= s.max_gap_ratio * #ws and "dropped")
          or (nforeign >= s.min_foreign_share * #got and "different") or nil
        if kind then
          dropped[#dropped + 1] = { expected = table.concat(ws, " "), kind = kind,
            heard = table.concat(got, " "), recall = h / #ws }
        end
      end
    end
  end
  -- The longest stretch of heard words matching nothing expected.
  local run, best, best_at = 0, 0, 0
  for j = 1, #heard do
    if used[j] then run = 0 else
      run = run + 1
      if run > best then best, best_at = run, j end
    end
  end
  local foreign = {}
  for j = best_at - best + 1, best_at do foreign[#foreign + 1] = heard[j] end
  return { expected = #exp, heard = #heard, matched = nhit,
    recall = #exp > 0 and nhit / #exp or 1, wer = wer, dropped = dropped,
    foreign_run = best, foreign = table.concat(foreign, " ") }
end

-- Findings ---------------------------------------------------------------------------------------

local function settings_of(settings)
  local s = {}
  for k, v in pairs(M.DEFAULTS) do s[k] = v end
  local o = type(settings) == "table" and settings.output_checks
  if type(o) == "table" then
    for k, v in pairs(o) do if M.DEFAULTS[k] ~= nil and type(v) == "number" then s[k] = v end end
  end
  return s
end

function M.measure(inspect, script, settings)
  local s = settings_of(settings)
  script = type(script) == "table" and script or {}
  return { ocr = ocr_measure(inspect, script, s), asr = asr_measure(inspect, script, s) }, s
end

local function finding(out, rule, severity, match, detail)
  out[#out + 1] = { category = "output", rule = rule, severity = severity, action = "review",
    span = { 1, 0 }, match = match, detail = detail }
end

local function fmt(x) return string.format("%.2f", x) end

-- The voice's text (script.speech) against the screen's (script.text). The captions show the text
-- as written (engine/media/capwords.c), so a voice that says other words is heard, never seen:
-- a run of more than max_foreign_run spoken words the text lacks is a finding. A spoken form
-- ("twelve three thirty" for 12-3-30, "example dot com") is a few words, and emoji or text the
-- voice cannot read (writing.lua) are left out, not added.
local function speech_vs_text(out, script, settings)
  if type(script) ~= "table" or type(script.speech) ~= "string" or type(script.text) ~= "string" then
    return
  end
  local s = settings_of(settings)
  local said, shown = words(script.speech), words(script.text)
  local _, used = align(shown, said)
  local run, best, best_at = 0, 0, 0
  for j = 1, #said do
    if used[j] then run = 0 else
      run = run + 1
      if run > best then best, best_at = run, j end
    end
  end
  if best > s.max_foreign_run then
    local got = {}
    for j = best_at - best + 1, best_at do got[#got + 1] = said[j] end
    finding(out, "speech_not_text", "major", table.concat(got, " "),
      "the voice says " .. best .. " words in a row that the captions do not show: \""
      .. table.concat(got, " ") .. "\"")
  end
end

function M.findings(inspect, script, settings)
  local out = {}
  speech_vs_text(out, script, settings)
  if type(inspect) ~= "table" or inspect.enabled == false then return out end
  local m, s = M.measure(inspect, script, settings)
  local o, a = m.ocr, m.asr
  if o.frames == 0 then
    finding(out, "ocr_no_frames", "major", "", "no frames were read from the video")
  else
    if o.title_recall < s.min_title_recall then
      finding(out, "title_not_on_screen", "major", tostring(script.title),
        "OCR found " .. o.title_seen .. " of " .. o.title_words .. " title words (recall "
        .. fmt(o.title_recall) .. ", need " .. fmt(s.min_title_recall) .. ")")
    end
    if o.caption_frames < s.min_caption_frames then
      finding(out, "captions_not_on_screen", "major", "",
        "script words on " .. fmt(o.caption_frames) .. " of the frames (need "
        .. fmt(s.min_caption_frames) .. ")")
    end
    if #o.unexpected > s.max_unexpected_words then
      finding(out, "unexpected_text", "major", table.concat(o.unexpected, " "),
        "unexpected on-screen text: " .. #o.unexpected .. " words in neither title, captions nor "
        .. "hashtags (tolerance " .. s.max_unexpected_words .. "): "
        .. table.concat(o.unexpected, " "))
    end
  end
  if a.expected > 0 and a.recall < s.min_speech_recall then
    finding(out, "speech_mismatch", "major", "",
      "heard " .. a.matched .. " of " .. a.expected .. " script words (recall " .. fmt(a.recall)
      .. ", need " .. fmt(s.min_speech_recall) .. ")")
  end
  for _, d in ipairs(a.dropped) do
    finding(out, d.kind == "dropped" and "sentence_not_heard" or "sentence_different", "major",
      d.expected, (d.kind == "dropped" and "sentence not heard" or "different words")
      .. ": expected \"" .. d.expected .. "\", heard \"" .. d.heard .. "\" (recall "
      .. fmt(d.recall) .. ")")
  end
  if a.foreign_run > s.max_foreign_run then
    finding(out, "unexpected_speech", "major", a.foreign,
      a.foreign_run .. " words in a row that the script does not have: \"" .. a.foreign .. "\"")
  end
  return out
end

return M
