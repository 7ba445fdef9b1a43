import Foundation
import LiveChat
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The sandbox's admin API, under `/__sandbox/` and with the same credentials, for people
/// testing their own scripts (as WireMock and LocalStack serve theirs):
///
/// - `GET requests[?method=POST&path=/tickets]`: the request journal, oldest first, with a
///   count (`path` matches exactly, or as a prefix when it ends in `*`, with or without `/v2`);
///   `DELETE requests` empties it.
/// - `POST reset[?seeded=1]`: no tickets (and an empty journal), or back to the seeded state.
/// - `GET faults`, `PUT faults` (`{"failRate", "failStatus", "latencyMs", "dropRate",
///   "lostAnswerRate", "rateLimit"}`; a field left out is off): the faults of the next requests.
/// - `POST snapshot[?name=N]` and `POST restore/N`: keep the tickets as they are, and bring them
///   back (`default` when no name is given).
struct AdminRoutes: Sendable {
    let service: SandboxService

    func add(to group: RouterGroup<SandboxRequestContext>) {
        group.get("requests") { request, _ in requests(request) }
        group.delete("requests") { _, _ in
            service.journal.clear()
            return Self.json(["count": 0])
        }
        group.post("reset") { request, _ in try await reset(request) }
        group.get("faults") { _, _ in Self.json(FaultSettings(service.faults.settings)) }
        group.put("faults") { request, _ in try await putFaults(request) }
        group.post("snapshot") { request, _ in try await snapshot(request) }
        group.post("restore/:name") { _, context in try await restore(context.parameters.get("name") ?? "") }
    }

    private func requests(_ request: Request) -> Response {
        let query = Self.query(request)
        let method = query.value(["method"])?.uppercased()
        let path = query.value(["path"])
        let entries = service.journal.entries.filter { entry in
            if let method, entry.method != method { return false }
            if let path {
                // With or without the /v2 prefix: a script's test need not know which it used.
                let wanted = Self.withoutVersion(path), sent = Self.withoutVersion(entry.path)
                if wanted.hasSuffix("*") { return sent.hasPrefix(String(wanted.dropLast())) }
                return sent == wanted
            }
            return true
        }
        return Self.json(JournalPage(count: entries.count, requests: entries))
    }

    private func reset(_ request: Request) async throws -> Response {
        let query = Self.query(request)
        let seeded = ["1", "true", "yes"].contains(query.value(["seeded"])?.lowercased() ?? "")
        try await service.store.removeAll()
        if seeded { try await service.seed() }
        service.journal.clear()
        return Self.json(["tickets": try await service.store.count()])
    }

    private func putFaults(_ request: Request) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 64 * 1024)
        } catch is NIOTooManyBytesError {
            return APIResponse.error(.contentTooLarge, "request body exceeds the limit of 65536 bytes")
        }
        let settings: FaultSettings
        do {
            settings = try FaultSettings.decode(Data(body.readableBytesView))
        } catch let problem as FaultSettings.Problem {
            return APIResponse.error(.badRequest, problem.message)
        }
        let faults = settings.faults
        guard faults.problems.isEmpty else {
            return APIResponse.error(.badRequest, faults.problems.joined(separator: "; "))
        }
        service.faults.replace(with: faults)
        return Self.json(FaultSettings(faults))
    }

    private func snapshot(_ request: Request) async throws -> Response {
        let query = Self.query(request)
        let name = query.value(["name"]) ?? "default"
        guard Self.isName(name) else {
            return APIResponse.error(.badRequest, "a snapshot name is 1 to 64 letters, digits, '-' or '_'")
        }
        let tickets = try await service.store.allTickets()
        service.snapshots.withLock { $0[name] = tickets }
        return Self.json(SnapshotAnswer(name: name, tickets: tickets.count))
    }

    private func restore(_ name: String) async throws -> Response {
        guard let tickets = service.snapshots.withLock({ $0[name] }) else {
            return APIResponse.error(.notFound, "no snapshot named '\(name)'")
        }
        try await service.store.removeAll()
        for start in stride(from: 0, to: tickets.count, by: 5_000) {
            try await service.store.insert(Array(tickets[start..<min(start + 5_000, tickets.count)]))
        }
        return Self.json(SnapshotAnswer(name: name, tickets: tickets.count))
    }

    private static func withoutVersion(_ path: String) -> String {
        path == "/v2" || path.hasPrefix("/v2/") ? String(path.dropFirst(3)) : path
    }

    /// The query string's fields; an undecodable query counts as none.
    private static func query(_ request: Request) -> FormFields {
        (try? FormFields(decoding: Substring(request.uri.query ?? ""))) ?? (try! FormFields(decoding: ""))
    }

    private static func isName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    private struct JournalPage: Encodable {
        var count: Int
        var requests: [RequestJournal.Entry]
    }

    private struct SnapshotAnswer: Encodable {
        var name: String
        var tickets: Int
    }

    static func json<T: Encodable>(_ value: T) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return APIResponse.json(.ok, ByteBuffer(bytes: (try? encoder.encode(value)) ?? Data("{}".utf8)))
    }
}

/// The fault settings as the admin API reads and writes them.
struct FaultSettings: Codable {
    var failRate: Double = 0
    var failStatus: Int = 503
    var latencyMs: Int = 0
    var dropRate: Double = 0
    var lostAnswerRate: Double = 0
    var rateLimit: Double?

    init(_ faults: FaultInjection) {
        failRate = faults.failureRate
        failStatus = faults.failureStatus
        latencyMs = faults.latencyMilliseconds
        dropRate = faults.dropRate
        lostAnswerRate = faults.lostAnswerRate
        rateLimit = faults.rateLimit
    }

    var faults: FaultInjection {
        var faults = FaultInjection()
        faults.failureRate = failRate
        faults.failureStatus = failStatus
        faults.latencyMilliseconds = latencyMs
        faults.dropRate = dropRate
        faults.lostAnswerRate = lostAnswerRate
        faults.rateLimit = rateLimit
        return faults
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(failRate, forKey: .failRate)
        try container.encode(failStatus, forKey: .failStatus)
        try container.encode(latencyMs, forKey: .latencyMs)
        try container.encode(dropRate, forKey: .dropRate)
        try container.encode(lostAnswerRate, forKey: .lostAnswerRate)
        try container.encode(rateLimit, forKey: .rateLimit)  // null when there is none
    }

    struct Problem: Error {
        var message: String
    }

    static let fields = ["failRate", "failStatus", "latencyMs", "dropRate", "lostAnswerRate", "rateLimit"]

    /// Reads a `PUT faults` body: a JSON object of the fields above, each a number (rateLimit
    /// may be null); anything else is said in words.
    static func decode(_ data: Data) throws -> FaultSettings {
        guard case .object(let object)? = try? JSONValue(parsing: data) else {
            throw Problem(message: "the body must be a JSON object such as {\"failRate\": 0.5, \"failStatus\": 503}")
        }
        var settings = FaultSettings(.none)
        for (key, value) in object {
            guard fields.contains(key) else {
                throw Problem(message: "unknown fault setting '\(key)'; known: \(fields.joined(separator: ", "))")
            }
            if key == "rateLimit", value == .null {
                settings.rateLimit = nil
                continue
            }
            let number: Double
            switch value {
            case .int(let whole): number = Double(whole)
            case .double(let real) where real.isFinite: number = real
            default: throw Problem(message: "'\(key)' must be a number")
            }
            switch key {
            case "failRate": settings.failRate = number
            case "failStatus", "latencyMs":
                guard let whole = Int(exactly: number) else { throw Problem(message: "'\(key)' must be a whole number") }
                if key == "failStatus" { settings.failStatus = whole } else { settings.latencyMs = whole }
            case "dropRate": settings.dropRate = number
            case "lostAnswerRate": settings.lostAnswerRate = number
            default: settings.rateLimit = number
            }
        }
        return settings
    }
}

/// The faults in force, replaced whole by the admin API; the next request sees the new ones.
final class FaultControl: Sendable {
    private let injector: Mutex<FaultInjector?>
    private let seed: UInt64

    init(_ faults: FaultInjection, seed: UInt64) {
        self.seed = seed
        injector = Mutex(faults.isActive ? FaultInjector(faults: faults, seed: seed) : nil)
    }

    /// The injector for the next request; nil when no fault is set.
    var current: FaultInjector? { injector.withLock { $0 } }

    var settings: FaultInjection { current?.faults ?? .none }

    func replace(with faults: FaultInjection) {
        let next = faults.isActive ? FaultInjector(faults: faults, seed: seed) : nil
        injector.withLock { $0 = next }
    }
}

/// The requests the ticket endpoints received, newest last, at most `capacity` of them: method,
/// path, query, body fields (a key, password or token replaced by `<redacted>`), status and
/// time. The Authorization header is never kept.
///
/// Recording keeps the request's parts as they came (a lock and an append per request); they
/// are decoded, redacted and formatted only when the journal is read.
final class RequestJournal: Sendable {
    static let capacity = 10_000

    struct Entry: Encodable, Sendable {
        var method: String
        var path: String
        var query: [String: [String]]
        var body: JSONValue?
        /// 0 when the connection was dropped without an answer (a fault).
        var status: Int
        var time: String
    }

    private struct Recorded: Sendable {
        var method: String
        var path: String
        var query: String
        var body: RequestFields?
        var status: Int
        var time: Date
    }

    private let apiKey: String
    private let recorded = Mutex<[Recorded]>([])

    init(apiKey: String) {
        self.apiKey = apiKey
    }

    var entries: [Entry] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return recorded.withLock { $0 }.map { entry(of: $0, formatter) }
    }

    func clear() { recorded.withLock { $0.removeAll() } }

    func record(_ request: Request, body: RequestFields?, status: Int, time: Date) {
        let item = Recorded(method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                            body: body, status: status, time: time)
        recorded.withLock { items in
            // The oldest are dropped a tenth at a time: no per-request shift of the whole array.
            if items.count >= Self.capacity + Self.capacity / 10 { items.removeFirst(items.count - Self.capacity + 1) }
            items.append(item)
        }
    }

    private func entry(of item: Recorded, _ formatter: ISO8601DateFormatter) -> Entry {
        var query: [String: [String]] = [:]
        if let fields = try? FormFields(decoding: Substring(item.query)) {
            for pair in fields.pairs {
                query[pair.path.joined(separator: "."), default: []].append(Self.redacted(pair.path.last ?? "", pair.value, apiKey))
            }
        }
        return Entry(method: item.method, path: item.path, query: query,
                     body: item.body.map { Self.value(of: $0, apiKey: apiKey) }, status: item.status,
                     time: formatter.string(from: item.time))
    }
    /// The body as JSON: a JSON body as it came, a form as an object of its keys (bracket paths
    /// joined with `.`), secrets redacted.
    private static func value(of fields: RequestFields, apiKey: String) -> JSONValue {
        switch fields {
        case .json(let object):
            return redacting(.object(object), apiKey: apiKey)
        case .form(let form):
            var object: [String: JSONValue] = [:]
            for pair in form.pairs {
                let key = pair.path.filter { !$0.isEmpty }.joined(separator: ".")
                let value = JSONValue.string(redacted(pair.path.last ?? key, pair.value, apiKey))
                if case .array(let items)? = object[key] {
                    object[key] = .array(items + [value])
                } else if let existing = object[key] {
                    object[key] = .array([existing, value])
                } else {
                    object[key] = pair.path.last == "" ? .array([value]) : value
                }
            }
            return .object(object)
        }
    }

    private static func redacting(_ value: JSONValue, key: String = "", apiKey: String) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.reduce(into: [:]) { $0[$1.key] = redacting($1.value, key: $1.key, apiKey: apiKey) })
        case .array(let items):
            return .array(items.map { redacting($0, key: key, apiKey: apiKey) })
        case .string(let text):
            return .string(redacted(key, text, apiKey))
        default:
            return isSecretName(key) ? .string("<redacted>") : value
        }
    }

    private static func redacted(_ key: String, _ value: String, _ apiKey: String) -> String {
        isSecretName(key) || (!apiKey.isEmpty && value.contains(apiKey)) ? "<redacted>" : value
    }

    private static func isSecretName(_ key: String) -> Bool {
        let name = key.lowercased().filter { $0.isLetter }
        return ["apikey", "key", "password", "token", "secret", "authorization"].contains { name.hasSuffix($0) }
    }

}
