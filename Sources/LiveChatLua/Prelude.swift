import LuaHost

/// The parts of the `livechat` module written in Lua: they compose the Swift functions and read
/// best as Lua. Run once when the module is installed.
enum Prelude {
    static func run(in state: LuaState) throws {
        try state.run(source, name: "=[livechat]")
    }

    static let source = #"""
    local livechat = livechat
    local type, error, tostring, select, pairs, setmetatable = type, error, tostring, select, pairs, setmetatable
    local collectgarbage = collectgarbage
    local format, concat = string.format, table.concat

    -- The error objects returned as `nil, err`: readable with tostring().
    local ErrorMeta = debug.getregistry()["livechat.Error"] or {}
    debug.getregistry()["livechat.Error"] = ErrorMeta
    ErrorMeta.__name = "livechat.Error"
    ErrorMeta.__tostring = function(e)
      local text = format("livechat: %s: %s", tostring(e.kind), tostring(e.message))
      if e.retryable then text = text .. " (retryable)" end
      return text
    end

    local function argerror(n, fname, message)
      error(format("bad argument #%d to '%s' (%s)", n, fname, message), 3)
    end

    -- livechat.map(items, fn [, {concurrency = N}]): fn(item, index) for every item, at most N
    -- at once; the results in input order. The first error stops new work and is raised, with
    -- the traceback of where it happened.
    function livechat.map(items, fn, opts)
      if type(items) ~= "table" then argerror(1, "map", "table expected, got " .. type(items)) end
      if type(fn) ~= "function" then argerror(2, "map", "function expected, got " .. type(fn)) end
      if opts ~= nil and type(opts) ~= "table" then argerror(3, "map", "table expected, got " .. type(opts)) end
      local concurrency = opts and opts.concurrency or 8
      if math.type(concurrency) ~= "integer" or concurrency < 1 then
        argerror(3, "map", "field 'concurrency' expected a positive integer")
      end
      -- The length goes through __len (a proxy table may give it), so it is checked: a NaN or
      -- endless length would never let the workers stop.
      local n = #items
      n = math.type(n) == "float" and math.tointeger(n) or n
      if math.type(n) ~= "integer" or n < 0 or n > 100000000 then
        argerror(1, "map", "length (#) from 0 to 100000000 expected, got " .. tostring(n))
      end
      local results, nextIndex, failure = {}, 0, nil
      local function worker()
        while failure == nil do
          nextIndex = nextIndex + 1
          local i = nextIndex
          if i > n then return end
          local ok, value = xpcall(fn, debug.traceback, items[i], i)
          if ok then results[i] = value elseif failure == nil then failure = value end
        end
      end
      local workers = {}
      for w = 1, math.min(concurrency, n) do workers[w] = livechat.spawn(worker) end
      for w = 1, #workers do workers[w]:wait() end
      if failure ~= nil then error(failure, 0) end
      return results, n
    end

    -- livechat.createTickets(rows, opts): bulk creation (BulkRun.swift does the work; this
    -- half checks the callbacks, calls onResult(row, ticket, err) for every outcome and
    -- onFailure(row, err) for every failure, and sums them up). Returns
    -- {created =, skipped =, changed =, failed =, notAttempted =, total =, failures = {{index =, key =, row =, error =}, …},
    -- requests = {attempts =, throttled =, serverErrors =, networkErrors =, timeouts =,
    -- lowestConcurrency =}},
    -- or nil, err when the run cannot start (no credentials, an unusable journal).
    -- livechat.sandbox: the sandbox's admin API, for a script's own tests (see `serve --help`).
    local sandboxCall = livechat._sandbox
    livechat._sandbox = nil
    livechat.sandbox = {
      -- {count =, requests = {{method, path, query, body, status, time}, ...}}, oldest first
      requests = function(filter) return sandboxCall("requests", filter) end,
      clearRequests = function() return sandboxCall("clearRequests") end,
      -- no tickets (reset()) or the seeded ones (reset{seeded = true}); the journal emptied
      reset = function(options) return sandboxCall("reset", options) end,
      -- faults() reads them; faults{failRate =, failStatus =, latencyMs =, dropRate =,
      -- lostAnswerRate =, rateLimit =} replaces them (a setting left out is off)
      faults = function(settings) return sandboxCall("faults", settings) end,
      snapshot = function(name) return sandboxCall("snapshot", name) end,
      restore = function(name) return sandboxCall("restore", name) end,
    }

    local bulkStart, bulkNext, bulkCancel, bulkClose = livechat._bulkStart, livechat._bulkNext, livechat._bulkCancel, livechat._bulkClose
    livechat._bulkStart, livechat._bulkNext, livechat._bulkCancel, livechat._bulkClose = nil, nil, nil, nil
    local rawlen, xpcall, traceback = rawlen, xpcall, debug.traceback

    function livechat.createTickets(rows, opts)
      if type(rows) ~= "table" then argerror(1, "createTickets", "table expected, got " .. type(rows)) end
      if opts ~= nil and type(opts) ~= "table" then argerror(2, "createTickets", "table expected, got " .. type(opts)) end
      local onResult, onFailure = opts and opts.onResult, opts and opts.onFailure
      if onResult ~= nil and type(onResult) ~= "function" then
        argerror(2, "createTickets", "field 'onResult' expected function, got " .. type(onResult))
      end
      if onFailure ~= nil and type(onFailure) ~= "function" then
        argerror(2, "createTickets", "field 'onFailure' expected function, got " .. type(onFailure))
      end
      -- The callbacks stay here: functions do not cross into Swift.
      local plain = {}
      for k, v in pairs(opts or {}) do if k ~= "onResult" and k ~= "onFailure" then plain[k] = v end end
      local run, second, third = bulkStart(rows, plain, onResult ~= nil)
      if run == false then argerror(second, "createTickets", third) end
      if run == nil then return nil, setmetatable(second, ErrorMeta) end
      local summary = { total = rawlen(rows), created = 0, skipped = 0, changed = 0, failed = 0, notAttempted = 0, failures = {},
        dryRun = plain.dryRun == true }
      local failures = summary.failures
      local callbackError = nil
      while true do
        local batch, created, skipped = bulkNext(run)
        if batch == nil then break end
        summary.created, summary.skipped = summary.created + created, summary.skipped + skipped
        for i = 1, #batch do
          local outcome = batch[i]
          local err = outcome.error
          if err ~= nil then setmetatable(err, ErrorMeta) end
          summary[outcome.status] = summary[outcome.status] + 1
          local row = rows[outcome.row]
          if outcome.status == "failed" or outcome.status == "changed" then
            failures[#failures + 1] = { index = outcome.row, key = outcome.key, row = row, error = err }
          end
          local ok, message = true, nil
          if onResult ~= nil and callbackError == nil then
            local ticket = outcome.ticket
            if ticket == nil and outcome.ticketId ~= nil then ticket = { id = outcome.ticketId } end
            ok, message = xpcall(onResult, traceback, row, ticket, err)
          end
          if ok and onFailure ~= nil and err ~= nil and callbackError == nil then
            ok, message = xpcall(onFailure, traceback, row, err)
          end
          if not ok then
            -- Stop sending; rows in flight settle (the journal keeps them), then raise.
            callbackError = message
            bulkCancel(run)
          end
        end
      end
      summary.requests = bulkClose(run)
      if callbackError ~= nil then error(callbackError, 0) end
      if summary.dryRun then summary.valid = summary.total - summary.failed end
      return summary
    end

    -- livechat.tickets{filters}: every matching ticket, page after page, fetching the next page
    -- while the current one is read. Holds at most two pages at a time. A failed page raises
    -- its error object (a for loop cannot return nil, err).
    function livechat.tickets(filters)
      if filters ~= nil and type(filters) ~= "table" then
        argerror(1, "tickets", "table expected, got " .. type(filters))
      end
      local base = {}
      for k, v in pairs(filters or {}) do base[k] = v end
      local firstPage = tonumber(base.page) or 1
      local function fetch(page)
        local query = {}
        for k, v in pairs(base) do query[k] = v end
        query.page = page
        local result, err = livechat.listTickets(query)
        if not result then error(err, 0) end
        return result
      end
      local current = fetch(firstPage)
      local page, index = firstPage, 0
      local ahead = nil
      if current.pages > page then ahead = livechat.spawn(fetch, page + 1) end
      return function()
        while true do
          index = index + 1
          local ticket = current.tickets[index]
          if ticket ~= nil then return ticket end
          if ahead == nil then return nil end
          current = ahead:wait()
          page, index = page + 1, 0
          -- The pages left behind are garbage: a step of the collector per page keeps the
          -- memory of a long iteration that of two pages, not of the collector's pause.
          collectgarbage("step", 0)
          ahead = nil
          if current.pages > page then ahead = livechat.spawn(fetch, page + 1) end
          if #current.tickets == 0 then return nil end
        end
      end
    end

    -- help: the API's description (APIDescription.swift), for the prompt and scripts.
    do
      local helpText, described = livechat._help, livechat._describedFunctions
      livechat._help, livechat._describedFunctions = nil, nil
      local names = {}
      -- What the prompt prints for our functions: `function livechat.createTicket{message, …}`.
      local registry = debug.getregistry()
      local shown = registry["LuaHost.functionNames"] or setmetatable({}, { __mode = "k" })
      registry["LuaHost.functionNames"] = shown
      for name, signature in pairs(described()) do
        local module, fname = name:match("^(%w+)%.(%w+)$")
        local t = rawget(_G, module)
        local f = t and rawget(t, fname)
        if type(f) == "function" then
          names[f] = name
          shown[f] = "function " .. signature
        end
      end
      local function textFor(x)
        if x == nil or x == livechat then return helpText() end
        if type(x) == "function" then
          local name = names[x]
          if name then return helpText(name) end
          return "a function livechat-lua does not describe; help() lists the API"
        end
        if type(x) == "string" then
          local text, problem = helpText(x)
          return text or problem
        end
        if type(x) == "table" then
          if getmetatable(x) == ErrorMeta then return helpText("livechat.Error") end
          if rawget(x, "tickets") ~= nil and rawget(x, "total") ~= nil then return helpText("livechat.Page") end
          if rawget(x, "id") ~= nil and rawget(x, "requester") ~= nil then return helpText("livechat.Ticket") end
          if rawget(x, "type") ~= nil and rawget(x, "date") ~= nil then return helpText("livechat.Event") end
        end
        return "help() lists the API; help(f) or help \"name\" tells of one function or result"
      end
      -- help(x) prints; help.text(x) returns the text.
      help = setmetatable({ text = textFor }, { __call = function(_, x) print(textFor(x)) end })

      -- A misspelt function name is said, with the closest one, instead of a nil call.
      for _, module in ipairs({ "livechat", "json", "csv" }) do
        local t = rawget(_G, module)
        if type(t) == "table" and getmetatable(t) == nil then
          setmetatable(t, { __index = function(_, key)
            if type(key) ~= "string" then return nil end
            local _, problem = helpText(key)
            local suggestion = problem and problem:match("did you mean '([^']+)'")
            if suggestion then suggestion = suggestion:match("%.(%w+)$") or suggestion end
            -- Only a name this module has: `csv.decode` is not told of json.decode.
            if suggestion and rawget(t, suggestion) ~= nil then
              error(format("%s has no field '%s' (did you mean '%s'?)", module, key, suggestion), 2)
            end
            return nil
          end })
        end
      end
    end
    """#
}
