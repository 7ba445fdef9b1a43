-- Find open or pending tickets untouched for N days and tag them "stale" (keeping their tags).
--   livechat-lua --sandbox examples/tag_stale.lua [DAYS] [--dry-run]
-- The updates run 8 at a time with livechat.map.

local days, dryRun = 14, false
for _, a in ipairs(arg) do
  if a == "--dry-run" then dryRun = true
  elseif tonumber(a) then days = tonumber(a)
  else error("usage: tag_stale.lua [DAYS] [--dry-run]", 0) end
end

local cutoff = os.time() - days * 86400
local stale = {}
for _, status in ipairs{ "open", "pending" } do
  for ticket in livechat.tickets{ status = status } do
    local alreadyTagged = false
    for _, tag in ipairs(ticket.tags) do if tag == "stale" then alreadyTagged = true end end
    if ticket.modified < cutoff and not alreadyTagged then stale[#stale + 1] = ticket end
  end
end

print(("%d ticket(s) untouched for %d days or more%s"):format(#stale, days, dryRun and " (dry run: nothing changed)" or ""))
if dryRun then
  for _, t in ipairs(stale) do print(("  %s  %s"):format(t.id, t.subject)) end
  return #stale
end

local failures = 0
livechat.map(stale, function(ticket)
  local tags = { "stale" }
  for _, tag in ipairs(ticket.tags) do tags[#tags + 1] = tag end
  local updated, err = livechat.updateTicketTags(ticket.id, tags)
  if updated then
    print(("  tagged %s  %s"):format(updated.id, updated.subject))
  else
    failures = failures + 1
    io.stderr:write(("  %s: %s\n"):format(ticket.id, tostring(err)))
  end
end, { concurrency = 8 })
if failures > 0 then os.exit(1) end
return #stale
