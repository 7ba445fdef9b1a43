-- livechat.getTicketById and livechat.updateTicketTags.
local T = dofile(arg[0]:match("(.*/)") .. "testlib.lua")

local page = assert(livechat.listTickets{})
local id = page.tickets[1].id

local byString = assert(livechat.getTicketById(id))
T.eq(byString.id, id, "get by string id")
local byTable = assert(livechat.getTicketById{ ticketId = id })
T.eq(byTable.id, id, "get by {ticketId = …}")
T.ok(#byString.events >= 1, "a ticket has events")
T.ok(byString.requester.mail:find("@"), "requester mail")

local missing, err = livechat.getTicketById("ZZZZZ")
T.fails("not_found", missing, err, "unknown id")
T.eq(err.status, 404, "not found status")
T.eq(err.retryable, false, "not found is not retryable")
T.ok(tostring(err):find("not_found", 1, true), "tostring names the kind: " .. tostring(err))
T.ok(tostring(err):find("ticket not found", 1, true), "tostring carries the server message")
T.eq(type(err.details), "table", "details is a table")

-- An id that needs percent-encoding still reaches the server as one path segment.
local odd, oddErr = livechat.getTicketById("A/B C")
T.fails("not_found", odd, oddErr, "id with a slash")

T.raises("bad argument #1 to 'getTicketById' (string or table expected, got number)", function() livechat.getTicketById(42) end)
T.raises("(ticket id must not be empty)", function() livechat.getTicketById("") end)
T.raises("(field 'ticketId' expected string, got nil)", function() livechat.getTicketById{} end)
T.raises("(unknown field 'id'", function() livechat.getTicketById{ id = "X" } end)

local tagged = assert(livechat.updateTicketTags(id, { "vip", "billing" }))
T.eq(tagged.tags[1], "vip", "first tag")
T.eq(tagged.tags[2], "billing", "second tag")
T.ok(tagged.modified >= byString.modified, "modified moves forward")
T.eq(assert(livechat.getTicketById(id)).tags[2], "billing", "tags stored")
local cleared = assert(livechat.updateTicketTags(id, {}))
T.eq(#cleared.tags, 0, "empty list clears the tags")
local tagMissing, tagErr = livechat.updateTicketTags("ZZZZZ", { "x" })
T.fails("not_found", tagMissing, tagErr, "tags of an unknown ticket")
T.raises("bad argument #2 to 'updateTicketTags' (array of strings expected, got number at [2])",
  function() livechat.updateTicketTags(id, { "ok", 7 }) end)
T.raises("bad argument #2 to 'updateTicketTags' (array of strings expected, got no value)", function() livechat.updateTicketTags(id) end)
T.raises("bad argument #1 to 'updateTicketTags' (ticket id expected, got no value)", function() livechat.updateTicketTags() end)

T.done()
