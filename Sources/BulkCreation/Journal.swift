import Foundation
@_spi(LiveChatTools) import LiveChat

/// The bulk run's journal: an append-only file of JSON lines, one per event (an attempt started,
/// a ticket created, a row failed for good), each flushed and fsynced before the event is acted
/// on, so that a `kill -9` at any instant loses no acknowledged result.
///
/// Writes are group-committed: events recorded while an fsync is in progress are written and
/// synced together by the next one, so many workers share each fsync. A torn last line (the
/// process died mid-write) is dropped on open; the journal never holds credentials.
final class Journal: @unchecked Sendable {
    /// One line of the journal.
    struct Event: Codable, Sendable {
        /// `run` (a run began), `attempt`, `created` or `failed`.
        var event: String
        /// The row's identity across runs (empty on `run`).
        var key: String
        /// The row number in the run that wrote the event.
        var row: Int?
        /// UTC, ISO 8601 with milliseconds.
        var time: String
        /// On `attempt`: a hash of the request, to notice a row that changed between runs.
        var fingerprint: String?
        /// On `created`: the ticket id.
        var ticket: String?
        /// On `created`: `reconciled` when the ticket was found by searching after an attempt in doubt.
        var via: String?
        /// On `failed`: what went wrong.
        var error: Failure?
        /// On `run`: the service the run sent to (its base URL and login; never the key).
        var service: String?
        /// On `run`: how rows are identified across runs: `content` (a row's fields and its
        /// place among identical rows) or `column NAME`.
        var keyScheme: String?
        /// On `run`: which column fills which field (`field=column`, sorted), for the bulk command.
        var mapping: String?

        struct Failure: Codable, Sendable {
            var kind: String
            var status: Int?
            var message: String
        }
    }

    /// What the journal says about one key, after replaying its events in order.
    enum RowState: Equatable, Sendable {
        /// An attempt started and no outcome was recorded: the ticket may or may not exist.
        case inDoubt(since: Date, fingerprint: String?)
        /// Created as that ticket, by an attempt with that fingerprint (nil in older journals).
        case created(ticketID: String, fingerprint: String?)
        /// The last attempt failed in a way that proves no ticket was made; a rerun tries again.
        case failed
    }

    /// A journal that cannot be used, said so that a user can act.
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    /// The state of every key the journal had when it was opened.
    let loaded: [String: RowState]
    /// What the last run recorded says of itself, if any run was recorded.
    let lastRun: RunIdentity?
    /// Whether the journal records any row.
    var isEmpty: Bool { loaded.isEmpty }

    /// What a run is, for a journal: a rerun must be the same run, or the journal's records
    /// would be read against other rows or another service.
    struct RunIdentity: Equatable, Sendable {
        /// The base URL and login.
        var service: String
        /// `content` or `column NAME`; nil in journals of earlier versions (rows by number).
        var keyScheme: String?
        /// The bulk command's field mapping; nil for a script's run.
        var mapping: String?

        /// What differs from `other`, in words; empty when nothing does.
        func differences(from other: RunIdentity) -> [String] {
            var differences: [String] = []
            if service != other.service { differences.append("it went to \(service), this run goes to \(other.service)") }
            // A journal of an earlier version says nothing of its keys or mapping: its keys were
            // the --key column's values (as now) or row numbers, which no run uses any more.
            if keyScheme != other.keyScheme && !(keyScheme == nil && other.keyScheme?.hasPrefix("column ") == true) {
                differences.append("it identified rows by \(Self.words(keyScheme)), this run by \(Self.words(other.keyScheme))")
            }
            if let mapping, mapping != other.mapping {
                differences.append("it mapped columns as \(mapping), this run as \(other.mapping ?? "none given")")
            }
            return differences
        }

        static func words(_ scheme: String?) -> String {
            guard let scheme else { return "row number (an earlier version, without --key)" }
            if scheme == "content" { return "their content (no --key)" }
            if scheme.hasPrefix("column ") { return "the column '\(scheme.dropFirst(7))' (--key)" }
            return scheme
        }
    }
    private let descriptor: Int32
    /// Guards the fields below; signalled when an urgent append arrives.
    private let lock = NSCondition()
    private var pending: [UInt8] = []
    /// Called once their events are on disk (nil), or could not be written.
    private var waiters: [@Sendable (Problem?) -> Void] = []
    /// Whether someone waits for the pending events (an `attempt` must be on disk before its
    /// request is sent); otherwise the flusher gathers appends a little longer per sync.
    private var urgent = false
    private var flushing = false
    private var failure: Problem?
    private let flusher = DispatchQueue(label: "livechat-lua.journal")

    /// Opens (or creates) the journal at `path` and replays it.
    init(path: String) throws {
        self.path = path
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Problem(description: "cannot open the journal \(path): \(String(cString: strerror(errno)))") }
        do {
            var data = try Self.readAll(fd, path: path)
            // A line without its newline was torn by a crash mid-write: it was never synced, so
            // never acknowledged. Cut it off, so that the next event starts on a line of its own.
            if let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) {
                if lastNewline != data.count - 1 {
                    data.removeSubrange((lastNewline + 1)...)
                    guard ftruncate(fd, off_t(data.count)) == 0 else { throw Problem(description: "cannot repair the journal \(path)") }
                }
            } else if !data.isEmpty {
                data.removeAll()
                guard ftruncate(fd, 0) == 0 else { throw Problem(description: "cannot repair the journal \(path)") }
            }
            let (states, lastRun) = try Self.replay(data, path: path)
            self.loaded = states
            self.lastRun = lastRun
        } catch {
            close(fd)
            throw error
        }
        self.descriptor = fd
        if !existed { Self.syncDirectory(of: path) }
    }

    deinit { close(descriptor) }

    private static func readAll(_ fd: Int32, path: String) throws -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 { throw Problem(description: "cannot read the journal \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
            offset += off_t(n)
        }
    }

    /// Each key's state after its events, in file order.
    static func replay(_ data: [UInt8], path: String) throws -> ([String: RowState], RunIdentity?) {
        var states: [String: RowState] = [:]
        var lastRun: RunIdentity?
        var records: [String: [BulkCreation.RowState.Record]] = [:]
        /// The fingerprint of each key's last attempt, and of the attempt that made its ticket.
        var attempted: [String: String?] = [:]
        var createdFrom: [String: String?] = [:]
        let decoder = JSONDecoder()
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            guard !JSONDepth.exceedsLimit(line), let event = try? decoder.decode(Event.self, from: Data(line)) else {
                throw Problem(description: "\(path):\(lineNumber): not a journal event; the journal is damaged")
            }
            if event.event == "run" {
                lastRun = RunIdentity(service: event.service ?? lastRun?.service ?? "", keyScheme: event.keyScheme, mapping: event.mapping)
                continue
            }
            switch event.event {
            case "attempt":
                records[event.key, default: []].append(.attempt(at: Timestamp.parse(event.time) ?? Date()))
                attempted[event.key] = event.fingerprint
            case "created":
                guard let ticket = event.ticket else {
                    throw Problem(description: "\(path):\(lineNumber): a created event without its ticket id")
                }
                records[event.key, default: []].append(.created(ticket: ticket, found: event.via == "reconciled"))
                if createdFrom[event.key] == nil { createdFrom[event.key] = attempted[event.key] ?? nil }
            case "failed":
                records[event.key, default: []].append(.failed(reason: event.error?.message ?? "failed"))
            case "notSent":
                records[event.key, default: []].append(.notSent)
            default:
                throw Problem(description: "\(path):\(lineNumber): unknown event '\(event.event)'")
            }
        }
        // Each row's records, replayed by the row state machine.
        for (key, rowRecords) in records {
            switch BulkCreation.RowState.replay(rowRecords) {
            case .created(let ticket): states[key] = .created(ticketID: ticket, fingerprint: createdFrom[key] ?? nil)
            case .inDoubt(let since): states[key] = .inDoubt(since: since, fingerprint: attempted[key] ?? nil)
            case .failed: states[key] = .failed
            case .pending, .announced, .sent: break  // not sent: simply sent again
            }
        }
        return (states, lastRun)
    }

    /// Appends an event and returns once it is on disk (written and fsynced).
    func record(_ event: Event) async throws {
        try await record([event])
    }

    /// Appends events, in order, and returns once they are on disk: one sync for them all. With
    /// no events, returns once everything appended before is on disk and reported.
    func record(_ events: [Event]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            append(events, urgent: true) { problem in
                if let problem { continuation.resume(throwing: problem) } else { continuation.resume() }
            }
        }
    }

    /// Appends events, in order, and calls `whenDurable` on the journal's own thread once they
    /// are on disk (nil) or could not be written (the problem). Callbacks run in append order.
    /// Unless `urgent`, the sync may wait a few milliseconds to take more events with it.
    func append(_ events: [Event], urgent: Bool = false, whenDurable: @escaping @Sendable (Problem?) -> Void) {
        var lines: [UInt8] = []
        for event in events { lines.append(contentsOf: event.line()) }
        let (refused, startFlush): (Problem?, Bool) = lock.withLock {
            if let failure { return (failure, false) }
            pending.append(contentsOf: lines)
            waiters.append(whenDurable)
            if urgent {
                self.urgent = true
                lock.signal()
            }
            if flushing { return (nil, false) }
            flushing = true
            return (nil, true)
        }
        if let refused { whenDurable(refused) }
        if startFlush { flusher.async { self.flushLoop() } }
    }

    /// How long lazy appends wait for company before their sync.
    static let gathering: TimeInterval = 0.010

    /// Writes and syncs batches until nothing is pending; each batch's waiters resume after its fsync.
    private func flushLoop() {
        while true {
            let (bytes, batch): ([UInt8], [@Sendable (Problem?) -> Void]) = lock.withLock {
                // Appends nobody waits for are gathered for up to 10 ms, or until an urgent one:
                // a bulk run's `created` events then share syncs instead of one each.
                if !urgent, !waiters.isEmpty {
                    _ = lock.wait(until: Date(timeIntervalSinceNow: Self.gathering))
                }
                urgent = false
                let taken = (pending, waiters)
                pending.removeAll(keepingCapacity: true)
                waiters.removeAll(keepingCapacity: true)
                if taken.1.isEmpty { flushing = false }
                return taken
            }
            if batch.isEmpty { return }
            if let problem = persist(bytes) {
                lock.withLock { failure = problem }
                for waiter in batch { waiter(problem) }
            } else {
                for waiter in batch { waiter(nil) }
            }
        }
    }

    private func persist(_ bytes: [UInt8]) -> Problem? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                return Problem(description: "cannot write the journal \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        // fdatasync: the appended bytes and the new length, without the timestamps fsync adds.
        guard fdatasync(descriptor) == 0 else {
            return Problem(description: "cannot sync the journal \(path): \(String(cString: strerror(errno)))")
        }
        return nil
    }

    /// Makes a new file's directory entry durable too.
    private static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// UTC timestamps as the journal writes them: `2026-11-29T17:30:02.123Z`.
enum Timestamp {
    static func string(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Digit by digit: String(format:) goes through Foundation's formatter, a measurable share of
        // a bulk run that stamps two events per row.
        var text = [UInt8]()
        text.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); text.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2); text.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2); text.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2); text.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2); text.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2); text.append(UInt8(ascii: "."))
        digits(Int(millis % 1000), 3); text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    /// The UTC day of a date, `YYYY-MM-DD`, as the list endpoint's `date_from` takes it.
    static func day(_ date: Date) -> String {
        String(string(date).prefix(10))
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

extension Journal.Event {
    /// The event as one JSON line, keys sorted, ending in a newline.
    func line() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and optionals only: encoding cannot fail.
        var bytes = Array((try? encoder.encode(self)) ?? Data("{}".utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
