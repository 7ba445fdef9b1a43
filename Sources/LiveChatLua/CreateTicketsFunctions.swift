import BulkCreation
import Foundation
import LiveChat
import LuaHost

/// The Swift half of `livechat.createTickets` (the Lua half is in the prelude): `start` checks
/// the rows and options and starts a `BulkRun`; `next` parks the calling coroutine until
/// outcomes arrive and hands them over in batches; `cancel` stops a run. The prelude keeps these
/// functions as locals and removes them from the `livechat` table.
final class CreateTicketsFunctions {
    unowned let module: LiveChatModule
    private var runs: [Int: BulkRun] = [:]
    private var stats: [Int: AttemptStats] = [:]
    private var nextRun = 0

    init(module: LiveChatModule) {
        self.module = module
    }

    /// The functions the prelude takes, under the names it looks for.
    var functions: [String: LuaHostFunction] {
        ["_bulkStart": start, "_bulkNext": next, "_bulkCancel": cancel, "_bulkClose": close]
    }

    static let optionNames: Set<String> = ["concurrency", "journal", "key", "onResult", "onFailure", "dryRun", "results", "progress", "maxAttempts"]

    /// An argument problem: which argument, and the message.
    struct ArgumentProblem: Error {
        var index: Int
        var message: String
    }

    /// `start(rows, opts, wantTickets)` → run id; `false, argIndex, message` for a bad argument;
    /// `nil, err` when the run cannot start (no credentials, an unusable journal).
    lazy var start: LuaHostFunction = { [unowned self] args in
        do {
            let rowsValue = try args.value(1)
            let optsValue = try args.value(2)
            let wantTickets = args.boolean(3)
            let options = try self.options(optsValue, wantTickets: wantTickets)
            let rows = try Self.rows(rowsValue, key: options.key)
            return self.begin(rows, options)
        } catch let problem as ArgumentProblem {
            return .values([.boolean(false), .integer(Int64(problem.index)), .string(problem.message)])
        } catch {
            return .values([.boolean(false), .integer(1), .string((error as? LuaError)?.message ?? "\(error)")])
        }
    }

    struct ParsedOptions {
        var bulk = BulkRun.Options()
        var journal: String?
        var key: String?
        /// The bulk command's field mapping (`field=column`, sorted), part of the run's identity.
        var mapping: String?

        /// How rows are identified across runs, as the journal records it.
        var keyScheme: String { key.map { "column \($0)" } ?? "content" }
    }

    private func options(_ value: LuaValue, wantTickets: Bool) throws -> ParsedOptions {
        var parsed = ParsedOptions()
        parsed.bulk.keepTickets = wantTickets
        guard case .table(let table) = value else { return parsed }
        for key in table.fields.keys {
            guard let name = key.stringValue, Self.optionNames.contains(name) else {
                let text = key.stringValue ?? TicketArguments.describe(key)
                let hint = key.stringValue.flatMap { TicketArguments.closest(to: $0, in: Self.optionNames) }.map { " (did you mean '\($0)'?)" } ?? ""
                throw ArgumentProblem(index: 2, message: "unknown option '\(text)'\(hint)")
            }
        }
        func string(_ name: String) throws -> String? {
            switch table[name] {
            case .nil: return nil
            case .string(let s): return s.description
            case let other: throw ArgumentProblem(index: 2, message: "field '\(name)' expected string, got \(TicketArguments.typeName(other))")
            }
        }
        func flag(_ name: String) throws -> Bool? {
            switch table[name] {
            case .nil: return nil
            case .boolean(let b): return b
            case let other: throw ArgumentProblem(index: 2, message: "field '\(name)' expected boolean, got \(TicketArguments.typeName(other))")
            }
        }
        func describe(_ value: LuaValue) -> String {
            if let n = value.integerValue { return String(n) }
            return TicketArguments.describe(value: value)
        }
        func positive(_ name: String, upTo limit: Int) throws -> Int? {
            let value = table[name]
            if case .nil = value { return nil }
            guard let n = value.integerValue, n >= 1, n <= limit else {
                throw ArgumentProblem(index: 2, message: "field '\(name)' expected an integer from 1 to \(limit), got \(describe(value))")
            }
            return Int(n)
        }
        if let n = try positive("concurrency", upTo: 256) { parsed.bulk.concurrency = n }
        if let n = try positive("maxAttempts", upTo: 100) { parsed.bulk.maxRounds = n }
        parsed.journal = try string("journal")
        parsed.key = try string("key")
        parsed.bulk.dryRun = try flag("dryRun") ?? false
        parsed.bulk.progress = try flag("progress") ?? true
        parsed.bulk.resultsPath = try string("results")
        return parsed
    }

    /// Each row checked into a request, or the argument error it earns; keys checked for repeats.
    private static func rows(_ value: LuaValue, key: String?) throws -> [BulkRow] {
        guard case .table(let table) = value else {
            throw ArgumentProblem(index: 1, message: "table expected, got \(TicketArguments.typeName(value))")
        }
        guard table.fields.isEmpty else {
            throw ArgumentProblem(index: 1, message: "expected an array of rows, got a table with named fields")
        }
        let keyField = key.map { LuaValue.string(LuaString($0)) }
        return checkRows(
            count: table.sequence.count,
            identity: { index in
                guard case .table(let fields) = table.sequence[index] else {
                    return .failure("table expected, got \(TicketArguments.typeName(table.sequence[index]))")
                }
                // The key identifies the row; it is not sent unless it is also a ticket field
                // (TicketArguments ignores it).
                guard let key, let keyField else { return .success(nil) }
                switch fields.fields[keyField] ?? .nil {
                case .string(let s) where !s.bytes.isEmpty: return .success(s.description)
                case .integer(let n): return .success(String(n))
                case .nil: return .failure("key field '\(key)' is missing")
                case let other: return .failure("key field '\(key)' expected a non-empty string or an integer, got \(TicketArguments.describe(value: other))")
                }
            },
            request: { index in
                guard case .table(let fields) = table.sequence[index] else { fatalError("checked by identity") }
                if let connection = TicketArguments.connectionKeys.first(where: { fields.fields[$0.key] != nil }) {
                    return .failure("field '\(connection.name)' is not allowed in a row (use livechat.configure)")
                }
                do {
                    return .success(try TicketArguments(.table(fields), allowed: TicketArguments.createFields, ignoring: key).createRequest())
                } catch {
                    return .failure(RowProblem(TicketArguments.message(of: error)))
                }
            },
            problem: { number, message in
                LiveChatError(kind: .validation, message: "bad argument #1 to 'createTickets' (row \(number): \(message))")
            })
    }

    /// Rows checked into requests (see `RowChecker`), all at once.
    static func checkRows(
        count: Int,
        identity: (Int) -> Result<String?, RowProblem>,
        request: (Int) -> Result<CreateTicketRequest, RowProblem>,
        problem: (Int, String) -> LiveChatError
    ) -> [BulkRow] {
        RowChecker().check(count: count, identity: identity, request: request, problem: problem)
    }

    /// Opens the journal and the run's own client, and starts the run.
    private func begin(_ rows: [BulkRow], _ options: ParsedOptions) -> LuaReturn {
        switch Self.startRun(rows, options, module: module) {
        case .failure(let failure):
            return .values([.nil, ErrorObject.table(failure)])
        case .success(let (run, attemptStats)):
            nextRun += 1
            runs[nextRun] = run
            stats[nextRun] = attemptStats
            return .value(.integer(Int64(nextRun)))
        }
    }

    /// Starts a run with the module's settings; or why it cannot start (no credentials, an
    /// unusable journal or results file). With a `feed`, more rows reach the run after it has
    /// started.
    static func startRun(_ rows: [BulkRow], _ options: ParsedOptions, feed: RowFeed? = nil,
                         module: LiveChatModule) -> Result<(BulkRun, AttemptStats), LiveChatError> {
        BulkRun.start(rows: rows, feed: feed, options: options.bulk, journal: options.journal,
                      keyScheme: options.keyScheme, mapping: options.mapping,
                      configuration: { try module.requestSettings(.init()).clientConfiguration() })
    }

    /// `next(run)` → the next batch of outcomes (every one when the script keeps tickets, else
    /// only failures), the number of rows created and skipped in it besides; nil when the run is
    /// over.
    lazy var next: LuaHostFunction = { [unowned self] args in
        guard let id = args.integer(1).map(Int.init), let run = self.runs[id] else {
            return .argumentError(1, "not a running bulk run")
        }
        let keepTickets = run.options.keepTickets
        return self.module.state.scheduler.suspend(args) {
            let batch = await withTaskCancellationHandler {
                await run.outcomes.next()
            } onCancel: {
                run.cancel()
            }
            guard let batch else { return .values([.nil]) }
            var items: [LuaValue] = []
            // A script without onResult sees only failures one by one; the rest are counted.
            var created: Int64 = 0, skipped: Int64 = 0
            for outcome in batch {
                if !keepTickets {
                    switch outcome.status {
                    case .created: created += 1; continue
                    case .skipped: skipped += 1; continue
                    case .notAttempted: continue
                    case .failed, .changed: break
                    }
                }
                var table = LuaTable()
                table["row"] = .integer(Int64(outcome.row))
                table["key"] = .string(outcome.key)
                // Lua's names: `notAttempted` is a field of the summary.
                table["status"] = .string(outcome.status == .notAttempted ? "notAttempted" : outcome.status.rawValue)
                if let id = outcome.ticketID { table["ticketId"] = .string(id) }
                if outcome.reconciled { table["reconciled"] = .boolean(true) }
                if keepTickets, let ticket = outcome.ticket, let value = try? LuaValue(encoding: ticket) {
                    table["ticket"] = value
                }
                if let error = outcome.error { table["error"] = ErrorObject.table(error) }
                items.append(.table(table))
            }
            return .values([.table(LuaTable(sequence: items)), .integer(created), .integer(skipped)])
        }
    }

    /// `cancel(run)`: stops sending; outcomes still arrive until `next` returns nil.
    lazy var cancel: LuaHostFunction = { [unowned self] args in
        if let id = args.integer(1).map(Int.init), let run = self.runs[id] { run.cancel() }
        return .none
    }

    /// `close(run)` → the run's request counters (attempts, throttled, serverErrors,
    /// networkErrors, timeouts, lowestConcurrency); forgets a run whose outcomes were all taken.
    lazy var close: LuaHostFunction = { [unowned self] args in
        guard let id = args.integer(1).map(Int.init) else { return .none }
        self.runs[id] = nil
        var table = LuaTable()
        for (name, value) in self.stats.removeValue(forKey: id)?.snapshot ?? [:] { table[name] = .integer(Int64(value)) }
        return .value(.table(table))
    }
}
