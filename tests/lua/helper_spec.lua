-- Specs for the spec helper's pure-Lua sha256 stand-in (FIPS 180-2 / NIST vectors), so that
-- publisher keys computed under plain busted equal the engine's real ain.sha256.
local H = require("tests.lua.helper")

describe("helper.sha256", function()
  it("matches the published SHA-256 test vectors", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", H.sha256(""))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", H.sha256("abc"))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      H.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    assert.are.equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
      H.sha256(string.rep("a", 1000000)))
  end)
  it("handles lengths around the 55/56/64-byte padding boundaries", function()
    -- Values from coreutils sha256sum.
    assert.are.equal("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
      H.sha256(string.rep("a", 55)))
    assert.are.equal("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
      H.sha256(string.rep("a", 56)))
    assert.are.equal("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
      H.sha256(string.rep("a", 64)))
  end)
end)
