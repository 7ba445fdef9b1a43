-- A small assertion library for the Lua-level tests. Each test file calls T.done() last, which
-- prints how many checks passed; any failed check raises, so the script exits with status 1.
local T = { checks = 0 }

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function T.eq(actual, expected, what)
  T.checks = T.checks + 1
  if actual ~= expected then
    error(string.format("%s: expected %s, got %s", what or "value", show(expected), show(actual)), 2)
  end
end

function T.ok(value, what)
  T.checks = T.checks + 1
  if not value then error((what or "condition") .. " was false", 2) end
end

-- Calls fn(...) and checks that it raises an error whose text contains `needle` (plain text).
function T.raises(needle, fn, ...)
  T.checks = T.checks + 1
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error containing " .. show(needle) .. ", got none", 2) end
  if not tostring(err):find(needle, 1, true) then
    error("expected an error containing " .. show(needle) .. ", got " .. show(tostring(err)), 2)
  end
  return err
end

-- Checks a `nil, err` result: err is a livechat error object of the given kind.
function T.fails(kind, result, err, what)
  T.checks = T.checks + 1
  if result ~= nil then error((what or "call") .. ": expected a failure of kind " .. kind .. ", got a result", 2) end
  if type(err) ~= "table" or err.kind ~= kind then
    error((what or "call") .. ": expected kind " .. kind .. ", got " .. show(err and err.kind or err) .. " (" .. tostring(err) .. ")", 2)
  end
  return err
end

function T.done()
  print(("ok %d checks"):format(T.checks))
end

return T
