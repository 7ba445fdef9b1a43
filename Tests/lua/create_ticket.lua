-- livechat.createTicket: every parameter, the defaults, and every argument error.
local T = dofile(arg[0]:match("(.*/)") .. "testlib.lua")

-- Only the required fields: the server fills the defaults.
local t, err = livechat.createTicket{ message = "Printer on fire", requesterEmail = "mary@example.com" }
T.ok(t, "minimal create: " .. tostring(err))
T.eq(#t.id, 5, "id length")
T.ok(t.id:match("^[A-Z0-9]+$"), "id alphabet")
T.eq(t.status, "open", "status")
T.eq(t.subject, "(no subject)", "default subject")
T.eq(t.source.type, "lc2", "default source")
T.eq(t.groups[1], 0, "default group")
T.eq(#t.groups, 1, "one default group")
T.eq(t.requester.mail, "mary@example.com", "requester mail")
T.eq(t.assignee, nil, "unassigned ticket has no assignee")
T.eq(#t.events, 1, "one event")
T.eq(t.events[1].type, "message", "event type")
T.eq(t.events[1].message, "Printer on fire", "event message")
T.eq(t.events[1].is_private, false, "event is public")
T.eq(t.events[1].author.type, "client", "author type")
T.eq(math.type(t.modified), "integer", "times are integers")
T.eq(#t.tags, 0, "no tags")

-- Every parameter.
local full = assert(livechat.createTicket{
  message = "Hello", requesterEmail = "john@example.com", requesterName = "John Doe",
  subject = "Full ticket", sourceType = "chat-window", sourceUrl = "https://shop.example.com/cart",
  assigneeId = "jane.doe@sandbox.livechat.local", group = {0, 2},
})
T.eq(full.requester.name, "John Doe", "requester name")
T.eq(full.subject, "Full ticket", "subject")
T.eq(full.source.type, "chat-window", "source type")
T.eq(full.source.url, "https://shop.example.com/cart", "source url kept for chat-window")
T.eq(full.assignee.id, "jane.doe@sandbox.livechat.local", "assignee")
T.eq(full.groups[1], 0, "group 1")
T.eq(full.groups[2], 2, "group 2")
local back = assert(livechat.getTicketById(full.id))
T.eq(back.subject, "Full ticket", "created ticket can be read back")

-- The connector's JSON samples send numbers as strings.
local fromStrings = assert(livechat.createTicket{ message = "x", requesterEmail = "s@example.com", group = {"1", 3.0} })
T.eq(fromStrings.groups[1], 1, "numeric string group")
T.eq(fromStrings.groups[2], 3, "integral float group")
local single = assert(livechat.createTicket{ message = "x", requesterEmail = "s@example.com", group = "2" })
T.eq(single.groups[1], 2, "single group as a string")
local mailSource = assert(livechat.createTicket{ message = "x", requesterEmail = "s@example.com", sourceType = "mail", sourceUrl = "https://ignored" })
T.eq(mailSource.source.url, nil, "source url dropped when the type is not chat-window")

-- Argument errors read like the standard library's, and nothing is sent.
T.raises("bad argument #1 to 'createTicket' (field 'requesterEmail' expected string, got number)",
  function() livechat.createTicket{ message = "x", requesterEmail = 5 } end)
T.raises("bad argument #1 to 'createTicket' (field 'group' expected array of integers, got string 'all')",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", group = "all" } end)
T.raises("(unknown field 'requesterMial' (did you mean 'requesterEmail'?))",
  function() livechat.createTicket{ message = "x", requesterMial = "a@b.c" } end)
T.raises("(field 'message' expected string, got nil)", function() livechat.createTicket{ requesterEmail = "a@b.c" } end)
T.raises("(field 'message' must not be empty)", function() livechat.createTicket{ message = "   ", requesterEmail = "a@b.c" } end)
T.raises("(field 'requesterEmail' expected string, got nil)", function() livechat.createTicket{ message = "x" } end)
T.raises("(field 'requesterEmail' expected an e-mail address, got 'not-an-address')",
  function() livechat.createTicket{ message = "x", requesterEmail = "not-an-address" } end)
for _, address in ipairs({ "a@b@c.d", "@b.c", "a@", "a b@c.d", "a@b.c\t", "a\u{A0}@b.c" }) do
  T.raises("(field 'requesterEmail' expected an e-mail address, got '" .. address .. "')",
    function() livechat.createTicket{ message = "x", requesterEmail = address } end)
end
T.raises("(field 'message' must not be empty)",
  function() livechat.createTicket{ message = " \t\n\u{3000}", requesterEmail = "a@b.c" } end)
T.raises("(field 'sourceType' must be one of 'chat-window', 'mail', 'lc2', got 'fax')",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", sourceType = "fax" } end)
T.raises("(field 'group' expected array of integers, got string 'x' at [2])",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", group = {1, "x"} } end)
T.raises("(field 'group' expected group ids from 0 to 2147483647, got 4611686018427387904 at [1])",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", group = {2^62|0} } end)
T.raises("(field 'group' expected group ids from 0 to 2147483647, got -1 at [2])",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", group = {1, -1} } end)
T.raises("(field 'group' expected a group id from 0 to 2147483647, got 2147483648)",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", group = 2147483648 } end)
T.raises("(field 'group' expected array of integers, got number nan at [1])",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", group = {0/0} } end)
T.raises("(field 'subject' expected string, got boolean)",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", subject = true } end)
T.raises("(field 'requesterName' expected string, got table)",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", requesterName = {} } end)
T.raises("(field 'assigneeId' expected string, got number)",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", assigneeId = 1 } end)
T.raises("(field 'sourceUrl' expected string, got number)",
  function() livechat.createTicket{ message = "x", requesterEmail = "a@b.c", sourceUrl = 1 } end)
T.raises("bad argument #1 to 'createTicket' (table expected, got string)", function() livechat.createTicket("hello") end)
T.raises("bad argument #1 to 'createTicket' (table expected, got no value)", function() livechat.createTicket() end)
T.raises("(expected a table of named fields, got an array)", function() livechat.createTicket{ "message" } end)

-- The server's own validation comes back as a validation error (it checks e-mails strictly).
local none, verr = livechat.createTicket{ message = "x", requesterEmail = "a@b" }
if none == nil then
  T.fails("validation", none, verr, "server-side validation")
  T.eq(verr.status, 400, "validation status")
  T.ok(#verr.details >= 1, "validation details")
end

T.done()
