-- Specs of ain.http, ain.store, ain.emit, ain.secret and ain.hmac_sha256 that need no policy call:
-- digests, the misuse that raises before any I/O, and the refusal to wait outside a call. They run
-- against the real C functions under `ain test` (tests/integration/lua_specs.sh); under plain busted
-- (tests/lua/run.sh) there is no C `ain` module and they are reported pending. The I/O itself
-- (a real HTTP server, a real store) is covered by tests/unit/test_lua_api.c.
require("tests.lua.helper")

local engine = type(ain) == "table" and ain.hmac_sha256 ~= nil

local function it_engine(name, fn)
  if engine then it(name, fn) else pending(name .. " (runs under `ain test`)") end
end

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.is_truthy(tostring(err):find(pattern, 1, true), tostring(err))
end

describe("ain.hmac_sha256", function()
  it_engine("matches RFC 4231", function()
    assert.are.equal("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      ain.hmac_sha256(string.rep("\11", 20), "Hi There"))
    assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      ain.hmac_sha256("Jefe", "what do ya want for nothing?"))
    -- a key longer than the block is hashed first
    assert.are.equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      ain.hmac_sha256(string.rep("\170", 131), "Test Using Larger Than Block-Size Key - Hash Key First"))
  end)
  it_engine("takes binary keys and messages", function()
    local a = ain.hmac_sha256("k\0ey", "m\0sg")
    assert.are.equal(64, #a)
    assert.are_not.equal(a, ain.hmac_sha256("k", "m\0sg"))
  end)
  it_engine("raises on missing arguments", function()
    raises("bad argument #1", ain.hmac_sha256, nil, "x")
    raises("bad argument #2", ain.hmac_sha256, "k")
  end)
end)

describe("ain.http", function()
  it_engine("raises on a bad request table before any I/O", function()
    raises("table expected", ain.http, "http://example.com/")
    raises("url must be an http:// or https:// URL", ain.http, { url = "file:///etc/passwd" })
    raises("url must be", ain.http, { url = "http://a b/" })
    raises("method must be", ain.http, { url = "http://x/", method = "get" })
    raises("body must be a string", ain.http, { url = "http://x/", body = { a = 1 } })
    raises("headers must be", ain.http, { url = "http://x/", headers = { "a" } })
    raises("headers must be", ain.http, { url = "http://x/", headers = { ["Bad Name"] = "v" } })
    raises("headers must be", ain.http, { url = "http://x/", headers = { X = "a\nb" } })
    raises("timeout_ms must be", ain.http, { url = "http://x/", timeout_ms = -5 })
    raises("max_bytes must be", ain.http, { url = "http://x/", max_bytes = 0 })
  end)
  it_engine("only waits inside a policy call", function()
    raises("must be called from the policy's own call", ain.http, { url = "http://127.0.0.1:1/" })
  end)
end)

describe("ain.store", function()
  it_engine("is read-only", function()
    raises("", function() ain.store.get = nil end)
  end)
  it_engine("raises on bad keys, values and versions", function()
    raises("key must be", ain.store.get, "")
    raises("key must be", ain.store.get, string.rep("k", 257))
    raises("value must be a table, string, number or boolean", ain.store.put, "k", nil)
    raises("value is not JSON", ain.store.put, "k", { f = function() end })
    raises("expect_version must be", ain.store.put, "k", 1, 1.5)
    raises("expect_version must be >= 1", ain.store.delete, "k", 0)
  end)
  it_engine("only waits inside a policy call", function()
    raises("must be called from the policy's own call", ain.store.get, "k")
  end)
  it_engine("lists personas as tables keyed by id", function()
    local all = ain.store.personas()
    assert.are.equal("table", type(all))
    for id, p in pairs(all) do
      assert.are.equal("string", type(id))
      assert.are.equal("table", type(p))
    end
    raises("persona id must be", ain.store.persona, "../agents/judge")
  end)
  it_engine("lists trends only inside a policy call, with a checked limit", function()
    raises("must be called from the policy's own call", ain.store.trends)
    raises("limit must be an integer from 1 to 1000", ain.store.trends, 0)
    raises("limit must be an integer from 1 to 1000", ain.store.trends, 1.5)
    raises("limit must be an integer from 1 to 1000", ain.store.trends, 5000)
  end)
end)

describe("ain.emit", function()
  it_engine("validates like the task message and raises naming the field", function()
    raises("ain.emit: bad argument #1 (table expected", ain.emit, "noop")
    raises("ain.emit: type: required field is missing", ain.emit, { persona_id = "p" })
    raises("ain.emit: persona_id: required field is missing", ain.emit, { type = "noop" })
    raises("type", ain.emit, { type = "Not A Type", persona_id = "p" })
    raises("priority", ain.emit, { type = "noop", persona_id = "p", priority = 1e6 })
    raises("ain.emit: when: unknown field", ain.emit, { type = "noop", persona_id = "p", when = 1 })
    raises("ain.emit: persona_id: unknown persona 'nobody_here' (known: ", ain.emit,
      { type = "noop", persona_id = "nobody_here" })
    raises("ain.emit: payload: must be a table with named fields", ain.emit,
      { type = "noop", persona_id = "p", payload = { 1, 2 } })
  end)
end)

describe("ain.json.decode", function()
  it_engine("refuses what the message layer refuses, naming the field", function()
    local function refused(text, want)
      local v, err, code = ain.json.decode(text)
      assert.is_nil(v)
      assert.are.equal("EINVAL", code)
      assert.is_truthy(err:find(want, 1, true), err)
    end
    refused('{"a":"\255"}', "a: invalid UTF-8 at byte offset 6")
    refused('{"a":"x\\u0000y"}', "a: strings must not contain U+0000")
    refused('{"a":1,"b":{"c":1,"c":2}}', "b.c: duplicate key")
    refused('{"n":[1,-1e999]}', "n[1]: number out of range")
    refused("1e999", "value: number out of range")
    refused(("["):rep(200) .. ("]"):rep(200), "JSON text: nested deeper than 128 levels")
    refused('{"a":1} x', "JSON text: unexpected data after the JSON value")
    -- still a general decoder: any JSON value, any size
    assert.are.same({ 1, 2 }, ain.json.decode("[1,2]"))
    assert.are.equal("x", ain.json.decode('"x"'))
    assert.are.equal(3, #ain.json.decode('{"s":"' .. ("z"):rep(3000000) .. '","t":[1,2,3]}').t)
  end)
end)

describe("ain.secret", function()
  it_engine("raises on a name that could leave the secrets folder", function()
    raises("secret name must be", ain.secret, "../x")
    raises("secret name must be", ain.secret, "")
    raises("secret name must be", ain.secret, ".hidden")
  end)
end)
