-- The json module: round trips, integers kept, null, errors.
local T = dofile(arg[0]:match("(.*/)") .. "testlib.lua")

local text = json.encode({ b = 1, a = { 1, 2.5, "x", true }, c = { nested = { deep = "yes" } } })
T.eq(text, '{"a":[1,2.5,"x",true],"b":1,"c":{"nested":{"deep":"yes"}}}', "compact, keys sorted")
local back = json.decode(text)
T.eq(back.b, 1, "number back")
T.eq(math.type(back.b), "integer", "integers stay integers")
T.eq(math.type(back.a[2]), "float", "floats stay floats")
T.eq(back.c.nested.deep, "yes", "nested")
T.eq(json.decode("[1, null, 3]")[2], json.null, "null inside arrays is json.null")
T.eq(json.encode({ x = json.null }), '{"x":null}', "json.null encodes as null")
T.eq(json.encode(math.maxinteger), tostring(math.maxinteger), "maxinteger is exact")
T.eq(json.decode(tostring(math.maxinteger)), math.maxinteger, "maxinteger round trip")
T.eq(json.encode("a/b \"q\" é\n"), '"a/b \\"q\\" é\\n"', "strings escaped, slashes not")
T.eq(json.encode({}), "[]", "an empty table is an empty array")
T.ok(json.encode({ a = 1 }, { pretty = true }):find("\n", 1, true), "pretty output has newlines")

-- A ticket round-trips through JSON with its field names.
local ticket = assert(livechat.listTickets{}).tickets[1]
local again = json.decode(json.encode(ticket))
T.eq(again.id, ticket.id, "ticket id")
T.eq(again.requester.mail, ticket.requester.mail, "ticket requester")
T.eq(again.events[1].is_private, ticket.events[1].is_private, "event field names")

local bad, message = json.decode("{not json")
T.eq(bad, nil, "invalid JSON gives nil")
T.ok(message:find("invalid JSON", 1, true), "and a message")
T.raises("bad argument #1 to 'encode' (cannot convert a function value)", function() json.encode(print) end)
T.raises("(cannot convert a table that contains itself)", function() local t = {}; t.t = t; json.encode(t) end)
T.raises("(JSON has no NaN or infinity)", function() json.encode(0/0) end)
T.raises("bad argument #1 to 'decode' (string expected, got no value)", function() json.decode() end)

T.done()
