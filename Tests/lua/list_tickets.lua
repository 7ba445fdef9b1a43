-- livechat.listTickets: every filter, paging, and every argument error; livechat.tickets.
local T = dofile(arg[0]:match("(.*/)") .. "testlib.lua")

local all = assert(livechat.listTickets{})
T.ok(all.total >= 30, "seeded tickets are listed: " .. all.total)
T.eq(all.pages, (all.total + 24) // 25, "pages = ceil(total / 25)")
T.eq(#all.tickets, 25, "25 tickets a page")
local last = assert(livechat.listTickets{ page = all.pages })
T.eq(#last.tickets, all.total - 25 * (all.pages - 1), "the last page holds the rest")
local past = assert(livechat.listTickets{ page = all.pages + 1 })
T.eq(#past.tickets, 0, "a page past the end is empty")
T.eq(past.total, all.total, "total stays the same past the end")

-- Ordering by modified, newest first by default.
local desc = all.tickets
T.ok(desc[1].modified >= desc[2].modified, "default order is descending")
local asc = assert(livechat.listTickets{ order = "asc" }).tickets
T.ok(asc[1].modified <= asc[2].modified, "asc order")

-- Each filter alone: every ticket returned satisfies it.
local function every(filters, predicate, what)
  local n = 0
  for ticket in livechat.tickets(filters) do
    n = n + 1
    T.ok(predicate(ticket), what .. " holds for " .. ticket.id)
  end
  return n
end

local open = every({ status = "open" }, function(t) return t.status == "open" end, "status")
T.ok(open > 0, "some open tickets")
local seen = every({ source = "mail" }, function(t) return t.source.type == "mail" end, "source")
T.ok(seen > 0, "some mail tickets")
local g = every({ group = 1 }, function(t) for _, x in ipairs(t.groups) do if x == 1 then return true end end end, "group")
T.ok(g > 0, "some tickets in group 1")
every({ assigned = 1 }, function(t) return t.assignee ~= nil end, "assigned = 1")
every({ assigned = false }, function(t) return t.assignee == nil end, "assigned = false")
every({ tagged = 1 }, function(t) return #t.tags > 0 end, "tagged = 1")
every({ tagged = "0" }, function(t) return #t.tags == 0 end, "tagged = '0'")

-- A fresh ticket to find by its own fields.
local mine = assert(livechat.createTicket{ message = "Zebra-striped invoice question", requesterEmail = "Find.Me@Example.com",
  requesterName = "Finn", subject = "Unique subject 42", assigneeId = "li.wei@sandbox.livechat.local" })
assert(livechat.updateTicketTags(mine.id, { "needle-tag" }))
local function ids(filters)
  local set = {}
  for t in livechat.tickets(filters) do set[t.id] = true end
  return set
end
T.ok(ids{ requesterMail = "find.me@example.com" }[mine.id], "requesterMail, case-insensitive")
T.ok(ids{ query = "zebra-STRIPED" }[mine.id], "query matches a message, case-insensitive")
T.ok(ids{ query = "unique subject" }[mine.id], "query matches the subject")
T.ok(ids{ tag = "needle-tag" }[mine.id], "tag")
T.ok(ids{ assignee = "li.wei@sandbox.livechat.local" }[mine.id], "assignee")
local today = os.date("!%Y-%m-%d")
T.ok(ids{ dateFrom = today, dateTo = today }[mine.id], "a date range including today")
T.ok(not ids{ dateTo = "2000-01-01" }[mine.id], "a date range before it")
-- Combined filters.
local combined = assert(livechat.listTickets{ requesterMail = "find.me@example.com", tag = "needle-tag", status = "open", page = "1" })
T.eq(combined.total, 1, "combined filters")
T.eq(combined.tickets[1].id, mine.id, "combined filters find the ticket")
local nothing = assert(livechat.listTickets{ requesterMail = "nobody@nowhere.example" })
T.eq(nothing.total, 0, "no match")
T.eq(nothing.pages, 0, "no pages when nothing matches")

-- Iteration covers every page exactly once.
local count, distinct = 0, {}
for t in livechat.tickets{} do
  count = count + 1
  T.ok(not distinct[t.id], "no duplicate across pages: " .. t.id)
  distinct[t.id] = true
end
T.eq(count, assert(livechat.listTickets{}).total, "iteration sees every ticket")

-- Argument errors, before any request.
T.raises("bad argument #1 to 'listTickets' (field 'status' must be one of 'open', 'pending', 'solved', 'spam', got 'closed')",
  function() livechat.listTickets{ status = "closed" } end)
T.raises("(field 'order' must be one of 'asc', 'desc', got 'up')", function() livechat.listTickets{ order = "up" } end)
T.raises("(field 'dateFrom' expected a date as YYYY-MM-DD, got 'yesterday')", function() livechat.listTickets{ dateFrom = "yesterday" } end)
T.raises("(field 'dateTo' expected a date as YYYY-MM-DD, got '2015-02-30')", function() livechat.listTickets{ dateTo = "2015-02-30" } end)
T.raises("(field 'dateFrom' (2015-03-01) is after field 'dateTo' (2015-02-01))",
  function() livechat.listTickets{ dateFrom = "2015-03-01", dateTo = "2015-02-01" } end)
T.raises("(field 'page' expected an integer from 1 to 1000000, got 0)", function() livechat.listTickets{ page = 0 } end)
T.raises("(field 'page' expected integer, got string 'two')", function() livechat.listTickets{ page = "two" } end)
T.raises("(field 'page' expected integer, got number 1.5)", function() livechat.listTickets{ page = 1.5 } end)
T.raises("(field 'assigned' expected 0, 1 or a boolean, got number)", function() livechat.listTickets{ assigned = 2 } end)
T.raises("(field 'tagged' expected 0, 1 or a boolean, got string 'yes')", function() livechat.listTickets{ tagged = "yes" } end)
T.raises("(field 'source' must be one of", function() livechat.listTickets{ source = "phone" } end)
T.raises("(field 'group' expected an integer from 0 to 2147483647, got -1)", function() livechat.listTickets{ group = -1 } end)
-- Numbers far out of range are refused before anything is sent, and never trap.
T.raises("(field 'page' expected an integer from 1 to 1000000, got 4611686018427387904)", function() livechat.listTickets{ page = 2^62|0 } end)
T.raises("(field 'page' expected an integer from 1 to 1000000, got 1000001)", function() livechat.listTickets{ page = 1000001 } end)
T.raises("(field 'page' expected an integer from 1 to 1000000, got 9223372036854775807)", function() livechat.listTickets{ page = math.maxinteger } end)
T.raises("(field 'page' expected integer, got number 1e+300)", function() livechat.listTickets{ page = 1e300 } end)
T.raises("(field 'page' expected integer, got number inf)", function() livechat.listTickets{ page = math.huge } end)
T.raises("(field 'page' expected integer, got string '9223372036854775808')", function() livechat.listTickets{ page = "9223372036854775808" } end)
T.raises("(field 'group' expected an integer from 0 to 2147483647, got 2147483648)", function() livechat.listTickets{ group = 2^31|0 } end)
do
  local last = assert(livechat.listTickets{ page = 1000000 })
  T.eq(#last.tickets, 0, "the last page allowed is served, empty")
end
T.raises("(unknown field 'stauts' (did you mean 'status'?))", function() livechat.listTickets{ stauts = "open" } end)
T.raises("(field 'query' expected string, got number)", function() livechat.listTickets{ query = 5 } end)
T.raises("(field 'assignee' expected string, got boolean)", function() livechat.listTickets{ assignee = true } end)
T.raises("(field 'requesterMail' expected string, got table)", function() livechat.listTickets{ requesterMail = {} } end)
T.raises("(field 'tag' expected string, got number)", function() livechat.listTickets{ tag = 1 } end)
T.raises("bad argument #1 to 'tickets' (table expected, got string)", function() livechat.tickets("open") end)

T.done()
