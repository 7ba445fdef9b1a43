-- spawn, wait, map and sleep: many requests in flight, results in order, errors never lost.
local T = dofile(arg[0]:match("(.*/)") .. "testlib.lua")

local ids = {}
for t in livechat.tickets{} do ids[#ids + 1] = t.id end

-- map returns results in input order, whatever order they complete in.
local got = livechat.map(ids, function(id) return assert(livechat.getTicketById(id)).id end, { concurrency = 8 })
T.eq(#got, #ids, "one result per item")
for i = 1, #ids do T.eq(got[i], ids[i], "result " .. i .. " in input order") end

-- At most `concurrency` run at once.
local running, peak = 0, 0
livechat.map({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, function()
  running = running + 1
  peak = math.max(peak, running)
  livechat.sleep(0.02)
  running = running - 1
end, { concurrency = 3 })
T.eq(peak, 3, "the pool is bounded")

-- Work overlaps: ten 0.2 s sleeps in parallel take far less than 2 s.
local t0 = os.time()
local clock0 = os.clock()
livechat.map({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, function() livechat.sleep(0.2) end, { concurrency = 10 })
T.ok(os.time() - t0 <= 1, "sleeps overlap")

-- spawn/wait: results, several values, and ordering by completion.
local order = {}
local slow = livechat.spawn(function() livechat.sleep(0.1); order[#order + 1] = "slow"; return "s", 2 end)
local fast = livechat.spawn(function() livechat.sleep(0.01); order[#order + 1] = "fast"; return "f" end)
local a, b = slow:wait()
T.eq(a, "s", "first result")
T.eq(b, 2, "second result")
T.eq(fast:wait(), "f", "fast result")
T.eq(order[1], "fast", "the faster task finished first")
T.eq(fast:wait(), "f", "waiting again returns the same results")

-- Errors propagate: from wait, and from map with the traceback of where they happened.
local broken = livechat.spawn(function() livechat.sleep(0.01); error("task failed on purpose") end)
local err = T.raises("task failed on purpose", broken.wait, broken)
local mapErr = T.raises("item 3 is bad", livechat.map, { 1, 2, 3, 4 }, function(i)
  if i == 3 then error("item " .. i .. " is bad") end
  return i
end, { concurrency = 2 })
T.ok(tostring(mapErr):find("stack traceback", 1, true), "map's error carries a traceback")

-- API calls inside spawned tasks park only their own coroutine.
local handles = {}
for i = 1, 5 do handles[i] = livechat.spawn(livechat.listTickets, { page = 1 }) end
for i = 1, 5 do T.eq(#handles[i]:wait().tickets, 25, "parallel list " .. i) end

-- Calls where a yield is impossible still work: they wait in place.
local proxy = setmetatable({}, { __index = function(_, id) return assert(livechat.getTicketById(id)).subject end })
T.ok(type(proxy[ids[1]]) == "string", "an API call inside __index")
local sorted = { ids[1], ids[2], ids[3] }
table.sort(sorted, function(x, y) return livechat.getTicketById(x).id < livechat.getTicketById(y).id end)
T.ok(sorted[1] < sorted[2] and sorted[2] < sorted[3], "API calls inside table.sort's comparator")

-- Argument errors.
T.raises("bad argument #1 to 'spawn' (function expected, got no value)", function() livechat.spawn() end)
T.raises("bad argument #1 to 'sleep' (number expected, got string)", function() livechat.sleep("1") end)
T.raises("bad argument #1 to 'sleep' (seconds from 0 to 1000000 expected, got 1000000000000.0)", function() livechat.sleep(1e12) end)
T.raises("bad argument #1 to 'sleep' (seconds from 0 to 1000000 expected, got inf)", function() livechat.sleep(math.huge) end)
T.raises("bad argument #1 to 'sleep' (seconds from 0 to 1000000 expected, got -1)", function() livechat.sleep(-1) end)
T.raises("bad argument #1 to 'sleep' (seconds from 0 to 1000000 expected, got 9223372036854775807)", function() livechat.sleep(math.maxinteger) end)
T.raises("bad argument #1 to 'sleep' (seconds from 0 to 1000000 expected, got", function() livechat.sleep(0/0) end)
T.raises("bad argument #2 to 'map' (function expected, got nil)", function() livechat.map({}) end)
T.raises("bad argument #1 to 'map' (length (#) from 0 to 100000000 expected, got", function()
  livechat.map(setmetatable({}, { __len = function() return 0/0 end }), print)
end)
T.raises("bad argument #1 to 'map' (length (#) from 0 to 100000000 expected, got 1e+300)", function()
  livechat.map(setmetatable({}, { __len = function() return 1e300 end }), print)
end)
T.eq(select(2, livechat.map(setmetatable({}, { __len = function() return 2.0 end, __index = function(_, i) return i end }),
  function(x) return x end)), 2, "a length given as a float with an integer value")
T.raises("bad argument #3 to 'map' (field 'concurrency' expected a positive integer)", function() livechat.map({}, print, { concurrency = 0 }) end)
T.raises("bad argument #1 to 'wait' (task handle expected, got table)", function() livechat.wait({}) end)

T.done()
