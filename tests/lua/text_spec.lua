-- ain.text as the policies see it (the C side is tested in tests/unit/test_lua_text.c): the
-- judge's matching idioms on the issue's own examples. Needs the engine (`ain test`, which
-- tests/lua/run.sh and it.lua_specs use); pending under plain busted.
local H = require("tests.lua.helper")

local function words(s, opts)
  local out = {}
  for _, t in ipairs(ain.text.tokens(s, opts)) do out[#out + 1] = t.w end
  return table.concat(out, " ")
end

describe("ain.text", function()
  it("folds the evasions of issue 13 to the words a reader sees", function()
    if not H.has_text then return pending(H.NO_TEXT) end
    assert.are.equal("kill them all", words("K1ll th\u{0435}m ａｌｌ"))
    assert.are.equal("hype forge", words("Hype-Forge"))
    assert.are.equal("hype forge", words("H y p e Forge"))
    assert.are.equal("leaked nude photos", words("Lеаkеd nudе phоtоs"))
  end)

  it("stems inflections so a banned term matches its forms", function()
    if not H.has_text then return pending(H.NO_TEXT) end
    local stems = {}
    for _, t in ipairs(ain.text.tokens("workout cures diabetes; it reverses, shrinks tumors",
      { stem = true })) do
      stems[t.stem] = t.raw
    end
    assert.are.equal("cures", stems[ain.text.stem("cure")])
    assert.are.equal("reverses", stems[ain.text.stem("reverse")])
    assert.are.equal("tumors", stems[ain.text.stem("tumor")])
  end)

  it("gives spans that point into the original text", function()
    if not H.has_text then return pending(H.NO_TEXT) end
    local s = "Call ｆｉｖｅ five five, zero one three two!"
    local n = ain.text.numbers(s)
    assert.are.equal(1, #n)
    assert.are.equal("5550132", n[1].value)
    assert.are.equal("ｆｉｖｅ five five, zero one three two", s:sub(n[1].i, n[1].j))
  end)

  it("is read-only like the rest of ain", function()
    if not H.has_text then return pending(H.NO_TEXT) end
    assert.has_error(function() ain.text.fold = nil end)
  end)
end)
