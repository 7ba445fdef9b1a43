import BulkCreation
import Foundation
import LiveChat
import LuaHost
import Synchronization

/// `livechat-lua bulk FILE.csv`'s work, with no script: the file's columns mapped to ticket
/// fields, every row checked straight from the parsed records (in parallel, no Lua table per
/// row), and a bulk run whose failures are told on stderr as they happen.
public struct BulkFile {
    /// The ticket fields a column can fill.
    public static let fields = ["message", "requesterEmail", "requesterName", "subject", "sourceType", "sourceUrl", "assigneeId", "group"]

    public var path: String
    /// Field → column, from `--map`; the other fields are filled from columns named like them.
    public var mappings: [String: String] = [:]
    /// The column that identifies a row across runs; nil: the row number.
    public var key: String?
    public var delimiter: UnicodeScalar = ","
    public var journal: String?
    public var results: String?
    public var concurrency = 8
    public var maxAttempts = 6
    public var dryRun = false
    /// Whether stderr is a terminal: a failure's line then first clears the progress line.
    public var terminal = false

    public init(path: String) {
        self.path = path
    }

    /// A problem with the input (the file, a column that is not there): nothing was sent.
    public struct InputError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Failures told on stderr as they happen; the results file has them all.
    static let failuresTold = 20

    /// How a run ended.
    public struct Ending {
        /// Rows that failed for good (or whose outcome is unknown after an interrupt).
        public var failed: Int
        /// Whether `interrupted` stopped the run: rows in flight ended in doubt, later rows
        /// were not attempted.
        public var interrupted: Bool
        /// The run's counts (nil when it never started).
        public var summary: BulkSummary? = nil
    }

    /// Reads, checks and sends every row. Throws `InputError` for bad input, and the
    /// `LiveChatError` that keeps the run from starting (no credentials, an unusable journal).
    /// `interrupted` is asked every 50 ms: once it says yes, nothing more is sent, the creates
    /// in flight are ended (their rows in doubt, for a rerun to reconcile), and the run ends
    /// with its results file and summary.
    public func run(module: LiveChatModule, interrupted: () -> Bool = { false }) throws -> Ending {
        let (rows, rest, mapping) = try firstRows()
        var options = CreateTicketsFunctions.ParsedOptions()
        options.key = key
        options.mapping = mapping
        options.bulk.concurrency = concurrency
        options.bulk.maxRounds = maxAttempts
        options.bulk.dryRun = dryRun
        options.bulk.resultsPath = dryRun ? nil : results
        options.journal = dryRun ? nil : journal
        let teller = FailureTeller(terminal: terminal)
        options.bulk.onFailure = { teller.tell($0) }
        options.bulk.queuesOutcomes = false
        // Interrupted while the file was read, or at the API key's prompt: nothing is sent.
        if interrupted() { return Ending(failed: 0, interrupted: true) }
        let started = CreateTicketsFunctions.startRun(rows, options, feed: rest?.feed, module: module)
        if case .failure = started, interrupted() { return Ending(failed: 0, interrupted: true) }
        let run = try started.get().0
        rest?.start()

        let finished = DispatchSemaphore(value: 0)
        Task {
            _ = await run.outcomes.next()  // nil: the run is over
            finished.signal()
        }
        var stopped = false
        repeat {
            if !stopped, interrupted() {
                // Nothing more is sent; the rest of the file is still read (not checked against
                // the service), so that the results file lists every row.
                stopped = true
                run.cancel()
            }
        } while finished.wait(timeout: .now() + .milliseconds(50)) == .timedOut
        if !stopped, let problem = rest?.problem {
            throw InputError(description: "\(problem); the rows before it were sent (see the results file)")
        }
        var summary = run.summary
        summary?.interrupted = stopped
        return Ending(failed: teller.failed, interrupted: stopped, summary: summary)
    }

    /// Parts a large file is read in when its first rows are sent while the rest is read: the
    /// first part's rows start the run.
    static let streamingParts = 16

    /// The file's rows, checked; or, for a large file sent (not a dry run), its first part's,
    /// and the rest to be read while they are sent. Also which column fills which field
    /// (`field=column`), as the journal records the run.
    func firstRows() throws -> ([BulkRow], FileRest?, String) {
        let contents: (Data, String?)
        do {
            contents = try CSVModule.contents(at: path)
        } catch {
            throw InputError(description: "\(error)")
        }
        guard !dryRun, let text = contents.1,
              let parts = CSVModule.parts(of: text, delimiter: delimiter, count: Self.streamingParts) else {
            let (rows, plan) = try checkedRows(contents)
            return (rows, nil, plan.mapping)
        }
        var (records, problem) = CSVModule.records(ofPart: parts[0], before: 0, csvOptions, path: path)
        if let problem { throw InputError(description: "\(problem)") }
        guard !records.isEmpty else { throw InputError(description: "\(path): no header row") }
        let plan = try ColumnPlan(header: records.removeFirst(), mappings: mappings, key: key, file: path)
        let checker = RowChecker()
        let rows = check(records, plan, checker)
        return (rows, FileRest(bulk: self, parts: Array(parts.dropFirst()), before: records.count + 1, plan: plan, checker: checker),
                plan.mapping)
    }

    /// Every row of the file, checked.
    func checkedRows() throws -> [BulkRow] {
        do {
            return try checkedRows(CSVModule.contents(at: path)).0
        } catch let error as CSVModule.Problem {
            throw InputError(description: "\(error)")
        }
    }

    private func checkedRows(_ contents: (Data, String?)) throws -> ([BulkRow], ColumnPlan) {
        var records: [[String]]
        do {
            records = try CSVModule.rows(of: contents, csvOptions, path: path).0
        } catch {
            throw InputError(description: "\(error)")
        }
        guard !records.isEmpty else { throw InputError(description: "\(path): no header row") }
        let plan = try ColumnPlan(header: records.removeFirst(), mappings: mappings, key: key, file: path)
        return (check(records, plan, RowChecker()), plan)
    }

    fileprivate var csvOptions: CSVModule.Options {
        var options = CSVModule.Options()
        options.header = false
        options.delimiter = delimiter
        return options
    }

    /// Records checked into rows, numbered on from the checker's earlier ones.
    fileprivate func check(_ records: [[String]], _ plan: ColumnPlan, _ checker: RowChecker) -> [BulkRow] {
        checker.check(
            count: records.count,
            identity: { index in
                guard let keyAt = plan.keyAt, let keyColumn = key else { return .success(nil) }
                let record = records[index]
                guard keyAt < record.count, !record[keyAt].isEmpty else { return .failure("key column '\(keyColumn)' is empty") }
                return .success(record[keyAt])
            },
            request: { index in
                let fields = plan.fields(of: records[index])
                do {
                    return .success(try TicketArguments(.table(fields), allowed: TicketArguments.createFields).createRequest())
                } catch {
                    return .failure(.init(TicketArguments.message(of: error)))
                }
            },
            problem: { _, message in LiveChatError(kind: .validation, message: message) })
    }
}

/// The rest of a large file, read and checked a part at a time, in order, on a thread of its
/// own while the first rows are sent; the rows reach the run through `feed`.
final class FileRest: @unchecked Sendable {
    let feed = RowFeed()
    private let bulk: BulkFile
    /// The parts not read yet, each let go once read.
    private let parts: Mutex<[String]>
    private let partCount: Int
    private let before: Int
    private let plan: ColumnPlan
    private let checker: RowChecker
    /// What stopped the reading, if anything: set before `feed` finishes. The rows before it
    /// were fed.
    private(set) var problem: CSVModule.Problem?

    init(bulk: BulkFile, parts: [String], before: Int, plan: ColumnPlan, checker: RowChecker) {
        self.bulk = bulk
        self.parts = Mutex(parts)
        self.partCount = parts.count
        self.before = before
        self.plan = plan
        self.checker = checker
    }

    func start() {
        DispatchQueue.global().async {
            var before = self.before
            for index in 0..<self.partCount {
                let part = self.parts.withLock { parts -> String in
                    defer { parts[index] = "" }
                    return parts[index]
                }
                let (records, problem) = CSVModule.records(ofPart: part, before: before, self.bulk.csvOptions, path: self.bulk.path)
                before += records.count
                if !records.isEmpty { self.feed.append(self.bulk.check(records, self.plan, self.checker)) }
                if let problem {
                    self.problem = problem
                    break
                }
            }
            self.feed.finish()
        }
    }
}

/// Which column fills which field, and where the key is.
struct ColumnPlan {
    /// Field names and their columns' positions.
    let fill: [(field: LuaValue, position: Int, isGroup: Bool)]
    let keyAt: Int?
    /// `field=column` for every field filled, in field order.
    let mapping: String

    /// Columns named like a field (in any case, ignoring '_', '-' and spaces) fill it; `mappings`
    /// (field → column) pick others.
    init(header: [String], mappings: [String: String], key: String?, file: String) throws {
        func normal(_ name: String) -> String {
            String(name.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" && !$0.properties.isWhitespace })
        }
        var byNormalName: [String: String] = [:]
        var position: [String: Int] = [:]
        for (index, column) in header.enumerated() {
            byNormalName[normal(column)] = column
            position[column] = index
        }
        var map: [String: String] = [:]
        for field in BulkFile.fields { map[field] = byNormalName[normal(field)] }
        for (field, column) in mappings {
            guard position[column] != nil else {
                throw BulkFile.InputError(description: "--map \(field)=\(column): no column '\(column)' in \(file)")
            }
            map[field] = column
        }
        if let key, position[key] == nil {
            throw BulkFile.InputError(description: "--key: no column '\(key)' in \(file)")
        }
        for field in ["message", "requesterEmail"] where map[field] == nil {
            throw BulkFile.InputError(description: "no column for '\(field)' in \(file): name one with --map \(field)=COLUMN")
        }
        fill = BulkFile.fields.compactMap { field in
            map[field].map { (LuaValue.string(LuaString(field)), position[$0]!, field == "group") }
        }
        mapping = BulkFile.fields.compactMap { field in map[field].map { "\(field)=\($0)" } }.joined(separator: ",")
        keyAt = key.flatMap { position[$0] }
    }

    /// A group id as Lua's `math.tointeger(tonumber(id))` reads it: `7`, `7.0`, `0x7`, `7e0`.
    static func integer(_ text: Substring) -> Int64? {
        if let value = Int64(text) { return value }
        var digits = text
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        if digits.lowercased().hasPrefix("0x"), let value = UInt64(digits.dropFirst(2), radix: 16) {
            // Lua wraps hexadecimal integers around, as C's unsigned arithmetic does.
            let wrapped = Int64(bitPattern: value)
            return negative ? 0 &- wrapped : wrapped
        }
        guard let number = Double(text), number.isFinite, number.rounded() == number,
              number >= -0x1p63, number < 0x1p63 else { return nil }
        return Int64(number)
    }

    /// A record's non-empty fields as the table `createTicket` takes; a group column holds ids
    /// separated by commas, semicolons or spaces.
    func fields(of record: [String]) -> LuaTable {
        var table = LuaTable()
        for (field, position, isGroup) in fill where position < record.count && !record[position].isEmpty {
            let value = record[position]
            if isGroup {
                let ids = value.split(whereSeparator: { $0 == "," || $0 == ";" || $0.isWhitespace })
                table.fields[field] = .table(LuaTable(sequence: ids.map { id in
                    Self.integer(id).map { .integer($0) } ?? .string(LuaString(String(id)))
                }))
            } else {
                table.fields[field] = .string(LuaString(value))
            }
        }
        return table
    }
}

/// Tells a run's failures on stderr, the first `BulkFile.failuresTold` of them, and counts them all.
/// Called from the run's threads, one failure at a time or several at once.
private final class FailureTeller: @unchecked Sendable {
    private let terminal: Bool
    private let count = Mutex(0)

    init(terminal: Bool) {
        self.terminal = terminal
    }

    var failed: Int { count.withLock { $0 } }

    func tell(_ outcome: BulkOutcome) {
        let number = count.withLock { count -> Int in
            count += 1
            return count
        }
        guard number <= BulkFile.failuresTold else { return }
        var message = outcome.error?.message ?? "failed"
        if number == BulkFile.failuresTold { message += " (further failures: see the results file)" }
        let line = "\(terminal ? "\r\u{1B}[K" : "")row \(outcome.row): \(message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
