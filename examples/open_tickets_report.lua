-- A report of open tickets by assignee and age.
--   livechat-lua --sandbox examples/open_tickets_report.lua
-- Reads every open ticket (page by page), groups them by assignee, and prints how many each
-- assignee holds and how old they are: under a day, under a week, older.

local now = os.time()
local buckets = { { "< 1 day", 86400 }, { "< 1 week", 7 * 86400 }, { "older", math.huge } }
local byAssignee, total = {}, 0

for ticket in livechat.tickets{ status = "open" } do
  local who = ticket.assignee and (ticket.assignee.name or ticket.assignee.id) or "(unassigned)"
  local row = byAssignee[who]
  if not row then
    row = { name = who, count = 0, ages = { 0, 0, 0 }, oldest = nil }
    byAssignee[who] = row
  end
  local opened = ticket.opened and ticket.opened[1] and ticket.opened[1].from or ticket.modified
  local age = now - opened
  for i, bucket in ipairs(buckets) do
    if age < bucket[2] then row.ages[i] = row.ages[i] + 1; break end
  end
  row.count = row.count + 1
  if not row.oldest or opened < row.oldest.opened then row.oldest = { id = ticket.id, opened = opened } end
  total = total + 1
end

local rows = {}
for _, row in pairs(byAssignee) do rows[#rows + 1] = row end
table.sort(rows, function(a, b) return a.count > b.count or (a.count == b.count and a.name < b.name) end)

print(("Open tickets: %d\n"):format(total))
print(("%-24s %6s %8s %9s %6s  %s"):format("assignee", "open", buckets[1][1], buckets[2][1], "older", "oldest"))
for _, row in ipairs(rows) do
  local days = math.floor((now - row.oldest.opened) / 86400)
  print(("%-24s %6d %8d %9d %6d  %s (%d days)"):format(row.name, row.count, row.ages[1], row.ages[2], row.ages[3], row.oldest.id, days))
end
return { total = total, assignees = #rows }
