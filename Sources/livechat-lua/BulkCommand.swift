import ArgumentParser
import Foundation
import BulkCreation
import LiveChat
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
            --map field=column picks any other column. A group column holds ids separated by commas, \
            semicolons or spaces.

            A row is identified across runs by its --key column, or else by its content and its \
            place among identical rows: inserting, removing, reordering or editing other rows \
            changes nothing for it. The journal (by default FILE.journal; with --sandbox, \
            FILE.sandbox.journal, begun anew each time) records the run (its API URL, login, key \
            and column mapping; a rerun that differs is refused before anything is sent) and every \
            attempt and outcome, synced to disk: run the same command again after a crash or a \
            failure and rows already created are skipped, rows whose outcome was unknown are \
            looked up (a ticket created before the attempt is never taken for one) before being \
            sent again. With --key, a row edited after its ticket was created is reported as \
            changed and not sent. The results file (by default FILE.results.csv, with --sandbox \
            FILE.sandbox.results.csv; .jsonl for JSON lines), checked before anything is sent, \
            lists every row: created, created before, changed, failed, or not attempted.

            Ctrl-C stops sending, ends the requests in flight and writes the results file; run \
            the same command again to resume.

            Exit status: 0 when every row has its ticket, 1 when some row failed, 2 for bad \
            input, 130 when interrupted.
            """)

    @Argument(help: "The CSV file; its first row names the columns.")
    var file: String

    @Option(name: .customLong("map"), help: ArgumentHelp("Fill a ticket field from a column (repeatable).", valueName: "field=column"))
    var mappings: [String] = []

    @Option(help: "The column that identifies a row across runs (default: the row's content and its place among identical rows).")
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

    @Option(name: .customLong("proxy"), help: ArgumentHelp(
        "The HTTP proxy, http://[USER:PASSWORD@]HOST:PORT (\"\" for none); by default https_proxy, all_proxy and no_proxy, as curl reads them.",
        valueName: "URL"))
    var proxy: String?

    @Flag(help: "Print the run's summary as JSON on standard output (counts, seconds, rate, files).")
    var json = false

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
        if let timeout, let problem = ConnectionSettings.timeoutProblem(timeout, "--timeout") {
            throw ValidationError("\(problem), got \(ValuePrinter.format(float: timeout))")
        }
        guard (1...100).contains(maxAttempts) else { throw ValidationError("--max-attempts must be from 1 to 100") }
        if let proxy, !proxy.isEmpty {
            do { _ = try LiveChatProxy(url: proxy, origin: "--proxy") } catch { throw ValidationError(error.message) }
        }
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

    static let fields = BulkFile.fields

    /// The file's sibling with a suffix: `tickets.csv` → `tickets.journal`.
    private func sibling(_ suffix: String) -> String {
        let url = URL(fileURLWithPath: file)
        return url.deletingPathExtension().path + suffix
    }

    private func execute() -> Int32 {
        let state: LuaState
        let module: LiveChatModule
        do {
            state = try Interpreter.makeState(ignoreEnvironment: false)
            module = try LiveChatModule.install(in: state, settings: try connectionSettings())
            KeyPrompt.attach(to: module)
        } catch {
            Interpreter.report(error)
            return 2
        }
        var bulk = BulkFile(path: file)
        for mapping in mappings {
            let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
            bulk.mappings[parts[0]] = parts[1]
        }
        bulk.key = key
        // Under --sandbox, the default files say so in their names, and nothing of a real run is
        // touched. The embedded sandbox is new at every start, so its default journal begins
        // anew too: it describes tickets that are gone.
        let suffix = sandbox ? ".sandbox" : ""
        if journal == nil && sandbox && !dryRun { unlink(sibling(suffix + ".journal")) }
        bulk.journal = journal ?? sibling(suffix + ".journal")
        bulk.results = results ?? sibling(suffix + ".results.csv")
        bulk.concurrency = concurrency
        bulk.maxAttempts = maxAttempts
        bulk.delimiter = delimiter.unicodeScalars.first!
        bulk.dryRun = dryRun
        bulk.terminal = isatty(STDERR_FILENO) != 0
        // Ctrl-C stops the run cleanly (results file and summary written); a second one kills,
        // as in lua.c. Either way the journal lets the same command resume.
        state.catchInterrupts()
        defer { LuaState.releaseInterrupts() }
        let signals = LuaState.interruptCount
        do {
            let ending = try withExtendedLifetime(state) {
                try bulk.run(module: module, interrupted: { LuaState.interruptCount != signals })
            }
            if json, let summary = ending.summary {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                if let data = try? encoder.encode(summary) {
                    print(String(decoding: JSONModule.indented(data), as: UTF8.self))
                    fflush(stdout)
                }
            }
            if ending.interrupted {
                FileHandle.standardError.write(Data("livechat-lua bulk: interrupted; run the same command again to resume\n".utf8))
                return 130
            }
            return ending.failed == 0 ? 0 : 1
        } catch let error as BulkFile.InputError {
            FileHandle.standardError.write(Data("livechat-lua bulk: \(error)\n".utf8))
            return 2
        } catch let error as LiveChatError {
            FileHandle.standardError.write(Data("livechat-lua: livechat: \(error.kind.rawValue): \(error.message)\n".utf8))
            return 2
        } catch {
            Interpreter.report(error)
            return 2
        }
    }

    /// The connection settings, weakest first: config file, environment, command line, `--sandbox`.
    private func connectionSettings() throws -> ConnectionSettings {
        try Interpreter.connectionSettings(apiURL: apiURL, login: login, proxy: proxy, timeout: timeout,
                                           insecureHTTP: insecureHTTP, sandbox: sandbox && !dryRun)
    }
}
