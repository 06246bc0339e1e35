-- The persona a step runs for, shared by the agents (pipeline, scriptwriter, judge, publisher):
-- ctx.persona when the engine handed a table, else the persona module named by ctx.persona_id.
-- Returns nil when there is none or its id is not a plain name (never requires a path).
local M = {}

function M.of(ctx)
  if type(ctx) ~= "table" then return nil end
  if type(ctx.persona) == "table" then return ctx.persona end
  local id = ctx.persona_id
  if type(id) == "string" and id:match("^[%w_%-]+$") then
    local ok, p = pcall(require, "personas/" .. id)
    if ok and type(p) == "table" then return p end
  end
  return nil
end

return M
