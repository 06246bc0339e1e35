-- Safety matching for the judge: compiles the rules of the scripts/safety/ data modules into one
-- index (once per module version) and screens a text into findings.
-- Provides: compile(lexicons) -> index; scan(index, text, tokens) -> hits;
--           findings(index, text, tokens, categories) -> list of findings;
--           contacts(text, tokens) -> list of {rule, i, j} for contact details spelled out;
--           folded(text, tokens) -> folded text with a map back to byte offsets of text.
-- Relies on: ain.text (tokens, stem, fold, numbers; CONTRACTS section 1). Pure: no I/O.
--
-- A rule (docs/policies.md) is { id, terms = {...} } (any term matches), or { id, all = {{...},
-- {...}}, within = N, ordered = bool } (one term of every group within N tokens, in group order
-- when ordered), optionally with unless = {...} (no finding when one of those terms is within
-- unless_within tokens of the match), action and severity overriding the category's.
-- A rule with mask = true is a benign idiom ("kills it", "to die for", "the bomb"): it yields no
-- finding, and a hit of any other rule lying inside a span it matched is dropped.
-- A term is words matched on Snowball stems in sequence ("cure" matches "cures", "burn fat fast"
-- matches "burning fat fast"), "word*" a prefix of the folded word, "=word" the folded word
-- exactly (no stem), "#num" a number, "#num<N" a number below N (an age). Neighbouring tokens
-- are concatenated to match compounds
-- split by a separator ("Hype-Forge", "Trend_Bot", "Hype Forge", "k ill").

local M = {}

local MAX_JOIN = 4 -- tokens concatenated at most

-- What may sit between two tokens that are concatenated: one separator character or a
-- zero-width character (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, middle dot).
local JOIN_GAP = {
  [" "] = "space", ["-"] = true, ["."] = true, ["_"] = true, ["*"] = true, ["/"] = true,
  ["+"] = true, ["~"] = true, ["'"] = true, ["\226\128\139"] = true, ["\226\128\140"] = true,
  ["\226\128\141"] = true, ["\226\129\160"] = true, ["\239\187\191"] = true,
  ["\194\173"] = true, ["\194\183"] = true, [""] = true,
}

local function tokens_of(s, leet)
  return ain.text.tokens(s, { stem = true, leet = leet ~= false })
end

local function fail(where, msg) error(where .. ": " .. msg, 0) end

-- One term -> { kind = "seq"|"prefix"|"exact"|"num", seq = {{w, stem}...}, joined, text }.
local function compile_term(raw, where)
  if type(raw) ~= "string" or raw == "" then
    fail(where, "a term must be a non-empty string, found " .. type(raw))
  end
  if raw == "#num" then return { kind = "num", text = raw } end
  local below = raw:match("^#num<(%d+)$")
  if below then return { kind = "num", below = tonumber(below), text = raw } end
  if raw:sub(1, 1) == "#" then fail(where, "term '" .. raw .. "': unknown '#' term") end
  local kind, body = "seq", raw
  if raw:sub(1, 1) == "=" then
    kind, body = "exact", raw:sub(2)
  elseif raw:sub(-1) == "*" then
    kind, body = "prefix", raw:sub(1, -2)
  end
  local ts = tokens_of(body)
  if #ts == 0 then fail(where, "term '" .. raw .. "' has no word in it") end
  local seq, parts = {}, {}
  for k, t in ipairs(ts) do
    seq[k] = { w = t.w, stem = t.stem or t.w }
    parts[k] = t.w
  end
  if (kind == "prefix" or kind == "exact") and #seq > 1 then
    fail(where, "term '" .. raw .. "': '*' and '=' apply to one word")
  end
  local joined = table.concat(parts)
  return { kind = kind, seq = seq, joined = joined, joined_stem = ain.text.stem(joined),
    text = raw }
end

local function push(map, key, v)
  local l = map[key]
  if not l then l = {}; map[key] = l end
  l[#l + 1] = v
end

-- Adds one term of `slot` (a rule and the group it belongs to) to the index.
local function index_term(ix, term, slot)
  local e = { term = term, slot = slot }
  if term.kind == "num" then
    ix.num[#ix.num + 1] = e
  elseif term.kind == "prefix" then
    ix.prefix[#ix.prefix + 1] = e
  elseif term.kind == "exact" then
    push(ix.exact, term.seq[1].w, e)
  else
    push(ix.first, term.seq[1].stem, e)
    if term.seq[1].w ~= term.seq[1].stem then push(ix.first, term.seq[1].w, e) end
    -- a compound or phrase written as one word or split differently ("hypeforge", "k ill")
    if #term.joined >= 4 then
      push(ix.join, term.joined, e)
      if term.joined_stem ~= term.joined then push(ix.join, term.joined_stem, e) end
    end
  end
end

local function compile_group(ix, list, slot, where)
  if type(list) ~= "table" or #list == 0 then
    fail(where, "needs a non-empty list of terms")
  end
  for k, raw in ipairs(list) do
    index_term(ix, compile_term(raw, where .. " term " .. k), slot)
  end
end

local ACTIONS = { reject = true, review = true, pass = true }

-- lexicons: list of { name = "safety/hate", data = table returned by the module }.
function M.compile(lexicons)
  local ix = { first = {}, join = {}, exact = {}, prefix = {}, num = {}, rules = {} }
  for _, lex in ipairs(lexicons) do
    local d = lex.data
    local where = lex.name
    if type(d) ~= "table" then fail(where, "is not a table") end
    if type(d.rules) ~= "table" and type(d.category) == "string" then
      fail(where, "needs a rules list")
    end
    -- a file of idioms only (every rule mask = true) yields no finding and needs no category
    local masks_only = type(d.rules) == "table" and #d.rules > 0
    for _, r in ipairs(type(d.rules) == "table" and d.rules or {}) do
      masks_only = masks_only and type(r) == "table" and r.mask == true
    end
    if type(d.category) ~= "string" and not masks_only then
      fail(where, "needs category = \"<id>\"")
    end
    for n, r in ipairs(d.rules) do
      local rw = where .. " rule " .. n
      if type(r) ~= "table" or type(r.id) ~= "string" then fail(rw, "needs an id string") end
      rw = where .. " rule '" .. r.id .. "'"
      if r.action ~= nil and not ACTIONS[r.action] then
        fail(rw, "action must be reject, review or pass, found " .. tostring(r.action))
      end
      local rule = { id = r.id, category = r.category or d.category, action = r.action,
        severity = r.severity, detail = r.detail, within = tonumber(r.within),
        ordered = r.ordered == true, unless_within = tonumber(r.unless_within) or 4,
        ngroups = 0, has_unless = r.unless ~= nil, mask = r.mask == true }
      ix.rules[#ix.rules + 1] = rule
      if r.terms ~= nil then
        if r.all ~= nil then fail(rw, "has both terms and all") end
        rule.ngroups = 1
        compile_group(ix, r.terms, { rule = rule, group = 1 }, rw)
      elseif type(r.all) == "table" and #r.all >= 1 then
        rule.ngroups = #r.all
        for g, list in ipairs(r.all) do
          compile_group(ix, list, { rule = rule, group = g }, rw .. " group " .. g)
        end
      else
        fail(rw, "needs terms = {...} or all = {{...}, {...}}")
      end
      if r.unless ~= nil then
        compile_group(ix, r.unless, { rule = rule, group = 0 }, rw .. " unless")
      end
    end
  end
  return ix
end

-- The bytes between two tokens, if they may be concatenated.
local function joinable(text, a, b)
  local gap = text:sub(a.j + 1, b.i - 1)
  return JOIN_GAP[gap]
end

local function add(hits, slot, p, q)
  local by = hits[slot.rule]
  if not by then by = {}; hits[slot.rule] = by end
  local l = by[slot.group]
  if not l then l = {}; by[slot.group] = l end
  l[#l + 1] = { p, q }
end

local function seq_at(T, p, seq)
  for k = 2, #seq do
    local t = T[p + k - 1]
    if not t or (t.stem ~= seq[k].stem and t.w ~= seq[k].w and t.w2 ~= seq[k].w
        and t.stem2 ~= seq[k].stem) then
      return false
    end
  end
  return true
end

-- Digits read as letters when ain.text left them (it keeps digits at a word's edge: "fr33",
-- "d3ad" may stay as written); the word as written is kept too ("5g", "mp3").
local LEET = { ["0"] = "o", ["1"] = "i", ["3"] = "e", ["4"] = "a", ["5"] = "s", ["7"] = "t",
  ["8"] = "b", ["9"] = "g" }

local function decorate(T)
  local stem = ain.text.stem
  for _, t in ipairs(T) do
    t.stem = t.stem or stem(t.w)
    if t.w:find("%d") and t.w:find("%a") then
      t.w2 = t.w:gsub("%d", LEET)
      t.stem2 = stem(t.w2)
    end
  end
end

-- hits[rule][group] = list of {p, q} token ranges (group 0: unless terms).
function M.scan(ix, text, T)
  local hits = {}
  local stem = ain.text.stem
  decorate(T)
  for p = 1, #T do
    local t = T[p]
    for form = 1, t.w2 and 2 or 1 do
      local w, st = t.w, t.stem
      if form == 2 then w, st = t.w2, t.stem2 end
      local l = ix.first[st]
      if l then
        for _, e in ipairs(l) do
          if seq_at(T, p, e.term.seq) then add(hits, e.slot, p, p + #e.term.seq - 1) end
        end
      end
      if w ~= st then
        l = ix.first[w]
        if l then
          for _, e in ipairs(l) do
            if e.term.seq[1].stem ~= st and seq_at(T, p, e.term.seq) then
              add(hits, e.slot, p, p + #e.term.seq - 1)
            end
          end
        end
      end
      l = ix.exact[w]
      if l then for _, e in ipairs(l) do add(hits, e.slot, p, p) end end
      for _, e in ipairs(ix.prefix) do
        if w:sub(1, #e.term.joined) == e.term.joined then add(hits, e.slot, p, p) end
      end
      if #ix.num > 0 then
        local n = w:match("^%d+$") and tonumber(w)
        for _, e in ipairs(ix.num) do
          if n and (not e.term.below or n < e.term.below) then
            add(hits, e.slot, p, p)
          end
        end
      end
      -- one token holding a phrase written as one word ("hypeforge", "killthemall")
      l = ix.join[w] or (st ~= w and ix.join[st])
      if l then
        for _, e in ipairs(l) do if #e.term.seq > 1 then add(hits, e.slot, p, p) end end
      end
    end
    -- neighbours concatenated: "Hype-Forge", "Trend_Bot", "Hype Forge", "k ill"
    local acc, spaced = t.w2 or t.w, false
    for q = p + 1, math.min(#T, p + MAX_JOIN - 1) do
      local g = joinable(text, T[q - 1], T[q])
      if not g then break end
      spaced = spaced or g == "space"
      acc = acc .. (T[q].w2 or T[q].w)
      if not spaced or #acc >= 5 then
        local found = ix.join[acc]
        local s2 = stem(acc)
        local found2 = s2 ~= acc and ix.join[s2] or nil
        for _, list in ipairs({ found or {}, found2 or {} }) do
          for _, e in ipairs(list) do
            -- a phrase whose words are these very tokens was matched above already
            if #e.term.seq == 1 or not seq_at(T, p, e.term.seq) then add(hits, e.slot, p, q) end
          end
        end
      end
    end
  end
  return hits
end

local function near(list, p, q, dist)
  for _, h in ipairs(list or {}) do
    if h[1] <= q + dist and h[2] >= p - dist then return true end
  end
  return false
end

-- Token ranges where a rule fires: each hit of a terms rule; for an all rule, each hit of its
-- first group with a hit of every other group within `within` tokens (after it, when ordered).
local function fired(rule, by)
  local out = {}
  local first = by[1] or {}
  for _, h in ipairs(first) do
    local p, q, ok = h[1], h[2], true
    for g = 2, rule.ngroups do
      local best
      for _, o in ipairs(by[g] or {}) do
        local d = o[1] >= p and (o[1] - q) or (p - o[2])
        local after = o[1] > q or (o[1] >= p and o[2] > q)
        if (not rule.within or d <= rule.within) and (not rule.ordered or after) then
          if not best or math.abs(o[1] - p) < math.abs(best[1] - p) then best = o end
        end
      end
      if not best then ok = false; break end
      p, q = math.min(p, best[1]), math.max(q, best[2])
    end
    if ok and not (rule.has_unless and near(by[0], p, q, rule.unless_within)) then
      out[#out + 1] = { p, q }
    end
  end
  return out
end

-- categories: the table of safety/categories (categories = {id = {title, severity, action}}).
function M.findings(ix, text, T, categories, out)
  out = out or {}
  local hits = M.scan(ix, text, T)
  local masks = {}
  for _, rule in ipairs(ix.rules) do
    if rule.mask and hits[rule] and hits[rule][1] then
      for _, r in ipairs(fired(rule, hits[rule])) do masks[#masks + 1] = r end
    end
  end
  if #masks > 0 then
    for rule, by in pairs(hits) do
      if not rule.mask then
        for g, list in pairs(by) do
          if g > 0 then
            local keep = {}
            for _, h in ipairs(list) do
              local inside = false
              for _, m in ipairs(masks) do
                if h[1] >= m[1] and h[2] <= m[2] then inside = true; break end
              end
              if not inside then keep[#keep + 1] = h end
            end
            by[g] = keep
          end
        end
      end
    end
  end
  local seen = {}
  for _, rule in ipairs(ix.rules) do
    local by = hits[rule]
    if by and by[1] and not rule.mask then
      local cat = categories[rule.category] or {}
      for _, r in ipairs(fired(rule, by)) do
        local i, j = T[r[1]].i, T[r[2]].j
        local key = rule.id .. ":" .. i .. ":" .. j
        if not seen[key] then
          seen[key] = true
          out[#out + 1] = { category = rule.category, rule = rule.id,
            severity = rule.severity or cat.severity or 1,
            action = rule.action or cat.action or "review", span = { i, j },
            match = text:sub(i, j), detail = rule.detail or cat.title }
        end
      end
    end
  end
  return out
end

-- Contact details -----------------------------------------------------------------------------

local TLD = { com = true, net = true, org = true, io = true, co = true, uk = true, de = true,
  fr = true, jp = true, me = true, edu = true, gov = true, info = true, biz = true, us = true,
  ca = true, au = true, nl = true, es = true, it = true, app = true, dev = true, mail = true }

-- "ann dot lee at example dot org", "kenji at slowroads dot jp": a word, "at", a word, then one
-- or more "dot" word with a top-level domain last. Tokens without leet decoding.
local function spelled_emails(T, out)
  for k = 2, #T - 3 do
    if T[k].w == "at" then
      local q, last = k + 1, nil
      while T[q + 2] and T[q + 1].w == "dot" do
        last = q + 2
        q = q + 2
      end
      if last and TLD[T[last].w] then
        local p = k - 1
        while p > 2 and T[p - 1].w == "dot" do p = p - 2 end
        out[#out + 1] = { rule = "pii.email_spelled", p = p, q = last }
      end
    end
  end
end

-- Digits written as words ("five five five zero one three two", "oh-one-three, double two") or
-- spaced one by one ("5 5 5 - 0 1 3"), 7 to 15 of them: a phone number read out. Plain digit
-- runs are find_pii's job (it knows dates, years and prices apart).
local function spelled_phones(text, out)
  for _, n in ipairs(ain.text.numbers(text)) do
    local d = #n.value
    if d >= 7 and d <= 15 then
      local raw = text:sub(n.i, n.j)
      local longest = 0
      for run in raw:gmatch("%d+") do longest = math.max(longest, #run) end
      if raw:find("%a") or longest <= 2 then
        out[#out + 1] = { rule = "pii.phone_spelled", i = n.i, j = n.j }
      end
    end
  end
end

-- T: tokens of text without leet decoding. Spans are byte spans of text.
function M.contacts(text, T)
  local out = {}
  spelled_emails(T, out)
  for _, c in ipairs(out) do c.i, c.j, c.p, c.q = T[c.p].i, T[c.q].j, nil, nil end
  spelled_phones(text, out)
  return out
end

-- The text with every word folded (NFKC, case, confusables; no leet) and every gap folded with
-- zero-width characters removed, so a fullwidth at sign or dot, Cyrillic letters or a zero-width
-- space around the "@" still read as a plain address. Returns the folded string and a function
-- mapping a byte span of it back to a span of text.
local ZW = { "\226\128\139", "\226\128\140", "\226\128\141", "\226\129\160", "\239\187\191",
  "\194\173" }

function M.folded(text, T)
  local parts, starts, origin = {}, {}, {}
  local pos, at = 1, 1
  local function put(s, oi)
    if s == "" then return end
    parts[#parts + 1] = s
    starts[#starts + 1] = pos
    origin[#origin + 1] = oi
    pos = pos + #s
  end
  for _, t in ipairs(T) do
    if t.i > at then
      local gap = text:sub(at, t.i - 1)
      for _, z in ipairs(ZW) do gap = gap:gsub(z, "") end
      local ok, f = pcall(ain.text.fold, gap)
      put(ok and f or gap, { at, t.i - 1 })
    end
    put(t.w, { t.i, t.j })
    at = t.j + 1
  end
  if at <= #text then put(text:sub(at), { at, #text }) end
  local s = table.concat(parts)
  local function piece(b)
    local lo, hi = 1, #starts
    while lo < hi do
      local mid = math.floor((lo + hi + 1) / 2)
      if starts[mid] <= b then lo = mid else hi = mid - 1 end
    end
    return origin[lo]
  end
  return s, function(i, j)
    if #starts == 0 then return 1, #text end
    return piece(i)[1], piece(j)[2]
  end
end

return M
