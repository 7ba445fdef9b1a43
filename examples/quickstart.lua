-- Quick start: list open tickets, read one, create one, and show what came back.
-- Run it against the built-in sandbox:
--   scripts/livechat-lua --sandbox examples/quickstart.lua
-- or against your account (LIVECHAT_LOGIN and LIVECHAT_API_KEY set):
--   livechat-lua examples/quickstart.lua

local page, err = livechat.listTickets{ status = "open", order = "desc" }
if not page then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("%d open tickets (%d pages); the latest ones:"):format(page.total, page.pages))
for i = 1, math.min(5, #page.tickets) do
  local t = page.tickets[i]
  print(("  %s  %-40.40s  %s"):format(t.id, t.subject, t.requester.mail))
end

if page.tickets[1] then
  local ticket = assert(livechat.getTicketById(page.tickets[1].id))
  print(("\nTicket %s from %s, %d event(s); first message:\n  %s"):format(
    ticket.id, ticket.requester.name or ticket.requester.mail, #ticket.events,
    (ticket.events[1] and ticket.events[1].message or ""):gsub("\n", "\n  ")))
end

local created, cerr = livechat.createTicket{
  message = "Hello! My order #1042 arrived damaged. Can you help?",
  requesterEmail = "mary.brown@example.com",
  requesterName = "Mary Brown",
  subject = "Damaged order #1042",
  sourceType = "mail",
}
if not created then
  io.stderr:write(tostring(cerr), "\n")
  os.exit(1)
end
print(("\nCreated ticket %s (status %s, subject %q)."):format(created.id, created.status, created.subject))
print(json.encode({ id = created.id, requester = created.requester, groups = created.groups }, { pretty = true }))
