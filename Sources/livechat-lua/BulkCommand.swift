import ArgumentParser
import Foundation
import LiveChatLua
import LuaHost

/// `livechat-lua bulk FILE.csv`: a ticket for every row of a CSV file, with no script to write.
/// Resumable through its journal, never duplicated; exits 1 when any row failed for good.
struct BulkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "livechat-lua bulk",
        abstract: "Create a ticket for every row of a CSV file: resumable, never duplicated.",
        discussion: """
            Columns named like the ticket fields (message, requesterEmail or requester_email, \
            requesterName, subject, sourceType, sourceUrl, assigneeId, group) are used as they are; \
            --map field=column picks any other column. A group column holds ids separated by commas \
            or semicolons.

            The journal (by default FILE.journal; with --sandbox, a temporary file) records every attempt and outcome, synced to disk: \
            run the same command again after a crash or a failure and rows already created are \
            skipped, rows whose outcome was unknown are looked up before being sent again. The \
            results file (by default FILE.results.csv; .jsonl for JSON lines) maps every row to its \
            ticket id or its error.

            Exit status: 0 when every row has its ticket, 1 when some row failed, 2 for bad input.
            """)

    @Argument(help: "The CSV file; its first row names the columns.")
    var file: String

    @Option(name: .customLong("map"), help: ArgumentHelp("Fill a ticket field from a column (repeatable).", valueName: "field=column"))
    var mappings: [String] = []

    @Option(help: "The column that identifies a row across runs (default: the row number).")
    var key: String?

    @Option(help: "The journal file (default: FILE.journal).")
    var journal: String?

    @Option(help: "The results file, CSV or .jsonl (default: FILE.results.csv).")
    var results: String?

    @Option(help: "Requests in flight at most (adapted down when the service pushes back).")
    var concurrency = 8

    @Option(help: "Attempts per row at most, besides the client's own retries.")
    var maxAttempts = 6

    @Option(help: "The CSV delimiter, one character.")
    var delimiter = ","

    @Flag(help: "Check every row and report; send nothing.")
    var dryRun = false

    @Flag(help: "Start a sandbox server in this process and send the tickets there.")
    var sandbox = false

    @Option(name: .customLong("api-url"), help: "The API's base URL.")
    var apiURL: String?

    @Option(help: "The agent login (the API key comes from LIVECHAT_API_KEY, the config file or, at a terminal, a prompt).")
    var login: String?

    @Option(help: "Per-request timeout, in seconds.")
    var timeout: Double?

    @Flag(name: .customLong("insecure-http"), help: "Allow plain http:// to a host other than loopback.")
    var insecureHTTP = false

    /// Runs `bulk` with the arguments after it; returns the exit status.
    static func main(_ arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            guard let bulk = command as? BulkCommand else {
                try command.run()
                return 0
            }
            return bulk.execute()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            return 2
        }
    }

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 256") }
        guard (1...100).contains(maxAttempts) else { throw ValidationError("--max-attempts must be from 1 to 100") }
        guard delimiter.unicodeScalars.count == 1 else { throw ValidationError("--delimiter must be one character") }
        for mapping in mappings {
            let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--map expects field=column, got '\(mapping)'")
            }
            guard Self.fields.contains(parts[0]) else {
                throw ValidationError("--map: unknown ticket field '\(parts[0])' (fields: \(Self.fields.joined(separator: ", ")))")
            }
        }
    }

    static let fields = ["message", "requesterEmail", "requesterName", "subject", "sourceType", "sourceUrl", "assigneeId", "group"]

    /// The file's sibling with a suffix: `tickets.csv` → `tickets.journal`.
    private func sibling(_ suffix: String) -> String {
        let url = URL(fileURLWithPath: file)
        return url.deletingPathExtension().path + suffix
    }

    private func execute() -> Int32 {
        let state: LuaState
        do {
            state = try Interpreter.makeState(ignoreEnvironment: false)
            KeyPrompt.attach(to: try LiveChatModule.install(in: state, settings: try connectionSettings()))
        } catch {
            Interpreter.report(error)
            return 2
        }
        var map = LuaTable()
        for mapping in mappings {
            let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
            map[parts[0]] = .string(parts[1])
        }
        var options = LuaTable()
        options["file"] = .string(file)
        options["map"] = .table(map)
        options["fields"] = .table(LuaTable(sequence: Self.fields.map { .string($0) }))
        if let key { options["key"] = .string(key) }
        // The embedded sandbox dies with the process, so a journal of its runs is useless later.
        let defaultJournal = sandbox
            ? FileManager.default.temporaryDirectory.appendingPathComponent("livechat-lua-bulk-\(UUID().uuidString).journal").path
            : sibling(".journal")
        options["journal"] = .string(journal ?? defaultJournal)
        options["results"] = .string(results ?? sibling(".results.csv"))
        options["concurrency"] = .integer(Int64(concurrency))
        options["maxAttempts"] = .integer(Int64(maxAttempts))
        options["delimiter"] = .string(delimiter)
        options["dryRun"] = .boolean(dryRun)
        options["terminal"] = .boolean(isatty(STDERR_FILENO) != 0)
        let session = Session(state: state)
        let base = state.top
        defer { state.pop(state.top - base) }
        do {
            try state.load(Self.script, name: "=[bulk]")
            try state.push(.table(options))
            try session.call(arguments: 1)
            let failed = try state.value(at: base + 1).integerValue ?? 1
            return failed == 0 ? 0 : 1
        } catch let error as LuaError where error.message.hasPrefix("bulk: ") {
            FileHandle.standardError.write(Data("livechat-lua \(error.message)\n".utf8))
            return 2
        } catch {
            Interpreter.report(error)
            return 2
        }
    }

    /// The connection settings, weakest first: config file, environment, command line, `--sandbox`.
    private func connectionSettings() throws -> ConnectionSettings {
        var settings = ConnectionSettings()
        if let fromFile = try ConnectionSettings.fromConfigFile(at: ConnectionSettings.configFilePath()) {
            settings = settings.overridden(by: fromFile)
        }
        settings = settings.overridden(by: ConnectionSettings.fromEnvironment())
        var command = ConnectionSettings(apiURL: apiURL, login: login)
        command.requestTimeout = timeout
        command.allowInsecureHTTP = insecureHTTP
        settings = settings.overridden(by: command)
        if sandbox && !dryRun {
            var embedded = try EmbeddedSandbox.start()
            embedded.requestTimeout = timeout
            settings = embedded
        }
        return settings
    }

    /// The command's work, in Lua: read, map columns to fields, create, report. Returns the
    /// number of rows that failed. Input problems raise "bulk: …" (exit status 2).
    static let script = #"""
    local o = ...
    local function fail(message) error("bulk: " .. message, 0) end
    -- Read as arrays, the first row naming the columns: no table keyed by name per row.
    local rows, message = csv.read(o.file, { header = false, delimiter = o.delimiter })
    if rows == nil then fail(message) end
    local header = rows[1]
    if header == nil then fail(o.file .. ": no header row") end

    -- Columns named like a field (any case, ignoring '_', '-' and spaces) fill it.
    local function normal(name) return (name:lower():gsub("[%s_%-]", "")) end
    local columns, position = {}, {}
    for i, column in ipairs(header) do
      columns[normal(column)] = column
      position[column] = i
    end
    local map = {}
    for _, field in ipairs(o.fields) do map[field] = columns[normal(field)] end
    for field, column in pairs(o.map) do map[field] = column end
    for field, column in pairs(map) do
      if not position[column] then fail(string.format("--map %s=%s: no column '%s' in %s", field, column, column, o.file)) end
    end
    if o.key ~= nil and not position[o.key] then fail(string.format("--key: no column '%s' in %s", o.key, o.file)) end
    for _, field in ipairs({ "message", "requesterEmail" }) do
      if map[field] == nil then fail(string.format("no column for '%s' in %s: name one with --map %s=COLUMN", field, o.file, field)) end
    end

    local fill = {}
    for field, column in pairs(map) do fill[#fill + 1] = { field, position[column] } end
    local keyAt = o.key and position[o.key]
    local tickets = {}
    for i = 2, #rows do
      local row, ticket = rows[i], {}
      for _, pair in ipairs(fill) do
        local field, value = pair[1], row[pair[2]]
        if value ~= nil and value ~= "" then
          if field == "group" then
            local groups = {}
            for id in value:gmatch("[^,;%s]+") do groups[#groups + 1] = math.tointeger(tonumber(id)) or id end
            value = groups
          end
          ticket[field] = value
        end
      end
      if keyAt then ticket._key = row[keyAt] end
      tickets[i - 1] = ticket
    end
    rows = nil

    -- Failures are told as they happen (the first 20; the results file has them all).
    local told, number = 0, nil
    local function tell(row, err)
      told = told + 1
      if told > 20 then return end
      local message = err.message:gsub("^bad argument #1 to 'createTickets' %(row %d+: (.*)%)$", "%1")
      if told == 20 then message = message .. " (further failures: see the results file)" end
      io.stderr:write(string.format("%srow %d: %s\n", o.terminal and "\r\27[K" or "", number[row], message))
    end
    number = {}
    for i, ticket in ipairs(tickets) do number[ticket] = i end
    local summary, err = livechat.createTickets(tickets, {
      concurrency = o.concurrency, maxAttempts = o.maxAttempts, key = o.key and "_key" or nil,
      journal = (not o.dryRun) and o.journal or nil, results = (not o.dryRun) and o.results or nil,
      dryRun = o.dryRun, onFailure = tell,
    })
    if summary == nil then error(tostring(err), 0) end
    return summary.failed
    """#
}
