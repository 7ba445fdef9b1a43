-- Creates a ticket for every row of a CSV export, resumably and without duplicates.
--
--   livechat-lua --sandbox examples/bulk_create.lua [tickets.csv [journal]]
--
-- Run it again with the same journal after a crash, a network failure or Ctrl-C: rows already
-- created are skipped, rows whose outcome was unknown are looked up before being sent again.

local path = arg[1] or "examples/data/tickets.csv"
local journal = arg[2] or os.tmpname()

local rows, err = csv.read(path, { header = true })
if not rows then error(err, 0) end

-- The export's columns, mapped to the createTicket fields.
local tickets = {}
for i, row in ipairs(rows) do
  local groups = {}
  for id in (row.group or ""):gmatch("%d+") do groups[#groups + 1] = math.tointeger(id) end
  tickets[i] = {
    externalId = row.id,            -- identifies the row across runs (opts.key below)
    requesterEmail = row.email,
    requesterName = row.name ~= "" and row.name or nil,
    subject = row.subject,
    message = row.message,
    sourceType = row.source ~= "" and row.source or nil,
    sourceUrl = row.page_url ~= "" and row.page_url or nil,
    group = #groups > 0 and groups or nil,
  }
end

local bySource = {}
local summary = assert(livechat.createTickets(tickets, {
  concurrency = 16,
  journal = journal,
  key = "externalId",
  onResult = function(row, ticket, err)
    if ticket then
      local source = row.sourceType or "lc2"
      bySource[source] = (bySource[source] or 0) + 1
    else
      io.stderr:write(("%s: %s\n"):format(row.externalId, tostring(err)))
    end
  end,
}))

print(("created %d, skipped %d, failed %d of %d rows"):format(
  summary.created, summary.skipped, summary.failed, summary.total))
for source, count in pairs(bySource) do print(("  %-12s %d"):format(source, count)) end
for _, failure in ipairs(summary.failures) do
  print(("  row %d (%s): %s"):format(failure.index, failure.key, failure.error.message))
end
return summary.failed == 0
