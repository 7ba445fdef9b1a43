-- A script's own test, against the sandbox: set up tickets, run the code under test, then ask
-- the sandbox what the code sent (its request journal) and how it copes with a failing API.
--
--   livechat-lua --sandbox examples/sandbox_test.lua
--
-- livechat.sandbox speaks the sandbox's admin API (/__sandbox/ on the API URL, the same
-- credentials); against the real API those calls fail with a not-found error.

local sandbox = livechat.sandbox

-- The code under test: tags every open ticket about a refund, and says how many it tagged.
local function escalateRefunds()
  local tagged = 0
  for ticket in livechat.tickets{ status = "open", query = "refund" } do
    assert(livechat.updateTicketTags(ticket.id, { "refund", "escalated" }))
    tagged = tagged + 1
  end
  return tagged
end

-- Arrange: no tickets but these two, and an empty journal.
assert(sandbox.reset())
assert(livechat.createTicket{ subject = "Refund please", message = "I want my money back",
                              requesterEmail = "ann@example.com" })
assert(livechat.createTicket{ subject = "Parcel late", message = "Where is my parcel?",
                              requesterEmail = "bob@example.com" })
assert(sandbox.clearRequests())

-- Act.
local tagged = escalateRefunds()

-- Assert on what was sent, not only on what came back.
local updates = assert(sandbox.requests{ method = "PUT" })
assert(tagged == 1, "one ticket is about a refund, tagged " .. tagged)
assert(updates.count == 1, "one tag update sent, got " .. updates.count)
local sent = updates.requests[1]
assert(sent.status == 200, "the update succeeded")
assert(sent.body.tag[1] == "refund" and sent.body.tag[2] == "escalated", "the tags sent")
local lists = assert(sandbox.requests{ method = "GET", path = "/tickets" })
assert(lists.requests[1].query.query[1] == "refund", "the list asked for refunds")

-- A failing API: every request answers 500 until the faults are cleared.
assert(sandbox.faults{ failRate = 1, failStatus = 500 })
local ticket, err = livechat.createTicket{ message = "Hello", requesterEmail = "cy@example.com" }
assert(ticket == nil and err.kind == "server" and err.status == 500, "the failure reaches the script")
assert(sandbox.faults{})

print(("ok: %d ticket tagged, %d request%s checked"):format(tagged, updates.count + lists.count,
                                                           updates.count + lists.count == 1 and "" or "s"))
