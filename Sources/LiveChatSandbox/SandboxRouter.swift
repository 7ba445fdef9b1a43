import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// What the sandbox knows about each request beyond the request itself: its connection, so a
/// fault can drop it, and what the request journal records of its body.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Filled by the handler that decodes the body; read by the journal once answered.
    let recorded = RecordedBody()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The body fields a handler decoded, for the request journal.
final class RecordedBody: Sendable {
    private let fields = Mutex<RequestFields?>(nil)

    var value: RequestFields? {
        get { fields.withLock { $0 } }
        set { fields.withLock { $0 = newValue } }
    }
}

/// Everything the routes share: the store, the credentials, the faults in force (changeable
/// while running), the request journal and the snapshots.
final class SandboxService: Sendable {
    let configuration: SandboxConfiguration
    let store: any TicketStorage
    let agents: AgentDirectory
    let authenticator: Authenticator
    let faults: FaultControl
    let journal: RequestJournal
    let snapshots = Mutex<[String: [Ticket]]>([:])
    let accessLog: AccessLog?

    init(configuration: SandboxConfiguration, store: any TicketStorage, agents: AgentDirectory) {
        self.configuration = configuration
        self.store = store
        self.agents = agents
        authenticator = Authenticator(login: configuration.login, apiKey: configuration.apiKey,
                                      bearerToken: configuration.bearerToken)
        faults = FaultControl(configuration.faults, seed: configuration.seed)
        journal = RequestJournal(apiKey: configuration.apiKey)
        accessLog = configuration.accessLog ? AccessLog() : nil
    }

    /// Seeds `configuration.seedTickets` tickets in batches of 5,000, each its own transaction:
    /// memory stays that of one batch, and a cancellation is heard between two of them.
    func seed() async throws {
        let anchor = configuration.seedAnchor.map { Int($0.timeIntervalSince1970) } ?? Seeder.defaultAnchor()
        var batches = Seeder(seed: configuration.seed, anchor: anchor, agents: agents).batches()
        var seeded = 0
        while seeded < configuration.seedTickets {
            try Task.checkCancellation()
            let batch = batches.next(min(5_000, configuration.seedTickets - seeded))
            try await store.insert(batch)
            seeded += batch.count
        }
    }

    /// The routes. Every answer is JSON; an unknown path is a `404` and a known path with
    /// another method a `405` with `Allow`, both with the v2 error body.
    ///
    /// - `/health`;
    /// - the four ticket endpoints, at the root and under the `/v2` group, behind the request
    ///   journal, fault injection, the version-header rule and authentication, in that order;
    /// - the admin API under `/__sandbox/`, behind authentication only (`AdminRoutes`).
    func router() -> Router<SandboxRequestContext> {
        let router = Router(context: SandboxRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: OutcomeMiddleware(accessLog: accessLog))
        router.get("health") { _, _ in APIResponse.json(.ok, ByteBuffer(string: "{\"status\":\"ok\"}")) }
        for group in [router.group(), router.group("v2")] {
            TicketRoutes(service: self).add(to: group
                .add(middleware: RequestJournalMiddleware(journal: journal))
                .add(middleware: FaultMiddleware(faults: faults))
                .add(middleware: VersionHeaderMiddleware())
                .add(middleware: AuthenticationMiddleware(authenticator: authenticator)))
        }
        AdminRoutes(service: self).add(to: router.group("__sandbox")
            .add(middleware: AuthenticationMiddleware(authenticator: authenticator)))
        return router
    }
}

// MARK: - The ticket endpoints

struct TicketRoutes: Sendable {
    let service: SandboxService

    func add(to group: RouterGroup<SandboxRequestContext>) {
        group.get("tickets") { request, _ in try await list(request) }
        group.post("tickets") { request, context in
            try await loseAnswerMaybe(try await create(request, context), context: context)
        }
        group.get("tickets/:id") { _, context in try await ticket(Self.id(context)) }
        group.put("tickets/:id/tags") { request, context in
            try await loseAnswerMaybe(try await updateTags(Self.id(context), request, context), context: context)
        }
        // POST too: the docs' JSON sample for this endpoint forgot `-X PUT`, so curl sends POST.
        group.post("tickets/:id/tags") { request, context in
            try await loseAnswerMaybe(try await updateTags(Self.id(context), request, context), context: context)
        }
    }

    /// The `:id` segment, percent-decoded.
    private static func id(_ context: SandboxRequestContext) -> String {
        let raw = context.parameters.get("id") ?? ""
        return raw.contains("%") ? (raw.removingPercentEncoding ?? raw) : raw
    }

    private func list(_ request: Request) async throws -> Response {
        let query: FormFields
        do {
            query = try FormFields(decoding: Substring(request.uri.query ?? ""))
        } catch let error as FormDecodingError {
            return APIResponse.errors(.badRequest, key: "errors", [error.message])
        }
        switch TicketFilter.parse(query) {
        case .failure(let failure):
            return APIResponse.errors(.badRequest, key: "errors", failure.messages)
        case .success(let filter):
            let page = try await service.store.list(filter)
            return APIResponse.page(total: page.total, documents: page.documents)
        }
    }

    private func ticket(_ id: String) async throws -> Response {
        guard TicketID.isWellFormed(id), let document = try await service.store.document(id: id) else {
            return APIResponse.error(.notFound, "ticket not found")
        }
        return APIResponse.ok(document)
    }

    private func create(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let fields: RequestFields
        do { fields = try await readFields(request, context) } catch let error as RequestBodyError { return error.response }
        switch NewTicket.validate(fields) {
        case .failure(let failure):
            return APIResponse.errors(.badRequest, key: "error", failure.messages)
        case .success(let newTicket):
            return APIResponse.ok(try await service.store.create(newTicket, now: Self.now()))
        }
    }

    private func updateTags(_ id: String, _ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let fields: RequestFields
        do { fields = try await readFields(request, context) } catch let error as RequestBodyError { return error.response }
        guard TicketID.isWellFormed(id) else { return APIResponse.error(.notFound, "ticket not found") }
        switch TagList.validate(fields) {
        case .failure(let failure):
            return APIResponse.errors(.badRequest, key: "error", failure.messages)
        case .success(let tags):
            guard let document = try await service.store.replaceTags(id: id, with: tags, now: Self.now()) else {
                return APIResponse.error(.notFound, "ticket not found")
            }
            return APIResponse.ok(document)
        }
    }

    /// Reads the whole body (up to the limit) and decodes it by its content type; the journal
    /// records the fields.
    private func readFields(_ request: Request, _ context: SandboxRequestContext) async throws -> RequestFields {
        let limit = service.configuration.bodyLimit
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw RequestBodyError.tooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw RequestBodyError.tooLarge(limit: limit)
        }
        do {
            let fields = try RequestFields.decode(body: Data(buffer.readableBytesView), contentType: request.headers[.contentType])
            context.recorded.value = fields
            return fields
        } catch let error as BodyDecodingError {
            throw RequestBodyError.malformed(error.message)
        }
    }

    /// The lost-answer fault: a write that succeeded is not answered (the connection closes).
    private func loseAnswerMaybe(_ response: Response, context: SandboxRequestContext) async throws -> Response {
        guard response.status == .ok, let injector = service.faults.current, injector.losesAnswer() else { return response }
        try? await context.channel.close()
        throw DroppedConnection()
    }

    private static func now() -> Int { Int(Date().timeIntervalSince1970) }
}

// MARK: - Middleware

/// The outermost layer: refuses `CONNECT` (closing the connection: an answer to it could not be
/// framed), words unknown routes as the API does (`404`, or `405` with `Allow` for a known path),
/// and writes the access log.
struct OutcomeMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext
    let accessLog: AccessLog?

    /// The paths the sandbox answers and their methods, for `405`'s `Allow`.
    private static func allowed(_ path: String) -> String? {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments == ["health"] { return "GET" }
        if segments == ["__sandbox", "faults"] { return "GET, PUT" }
        if segments == ["__sandbox", "requests"] { return "GET, DELETE" }
        if segments.count == 2, segments[0] == "__sandbox", ["reset", "snapshot"].contains(segments[1]) { return "POST" }
        if segments.first == "v2" { segments.removeFirst() }
        guard segments.first == "tickets" else { return nil }
        switch segments.count {
        case 1: return "GET, POST"
        case 2: return "GET"
        case 3 where segments[2] == "tags": return "PUT"
        default: return nil
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        if request.method == .connect {
            try? await context.channel.close()
            accessLog?.record(method: request.method.rawValue, path: request.uri.path, status: 0, elapsed: .now - started)
            throw DroppedConnection()
        }
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            if let allow = Self.allowed(request.uri.path) {
                response = APIResponse.error(.methodNotAllowed, "method \(request.method.rawValue) not allowed on \(request.uri.path)",
                                             headers: [.allow: allow])
            } else {
                response = APIResponse.error(.notFound, "not found: \(request.method.rawValue) \(request.uri.path)")
            }
        } catch let error as DroppedConnection {
            accessLog?.record(method: request.method.rawValue, path: request.uri.path, status: 0, elapsed: .now - started)
            throw error
        } catch let error as HTTPParserError {
            throw error  // a broken HTTP stream: Hummingbird answers 400 and closes the connection
        } catch {
            response = APIResponse.error(.internalServerError, "internal error: \(error)")
        }
        accessLog?.record(method: request.method.rawValue, path: request.uri.path, status: response.status.code, elapsed: .now - started)
        return response
    }
}

/// Records every request to the ticket endpoints, whatever its answer, for the admin API.
struct RequestJournalMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext
    let journal: RequestJournal

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let time = Date()
        do {
            let response = try await next(request, context)
            journal.record(request, body: context.recorded.value, status: Int(response.status.code), time: time)
            return response
        } catch {
            // A dropped connection (a fault) is recorded with status 0: nothing was answered.
            journal.record(request, body: context.recorded.value, status: 0, time: time)
            throw error
        }
    }
}

/// Applies the faults in force: a dropped connection, latency, a 429 or an injected failure,
/// before anything is read or stored.
struct FaultMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext
    let faults: FaultControl

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let injector = faults.current else { return try await next(request, context) }
        let decision = injector.decide()
        if decision == .drop {
            try? await context.channel.close()
            throw DroppedConnection()
        }
        if injector.faults.latencyMilliseconds > 0 {
            try await Task.sleep(for: .milliseconds(injector.faults.latencyMilliseconds))
        }
        switch decision {
        case .serve, .drop:
            return try await next(request, context)
        case .rateLimited(let retryAfter):
            return APIResponse.error(.tooManyRequests, "rate limit exceeded: retry after \(retryAfter) s",
                                     headers: [.retryAfter: String(retryAfter)])
        case .fail(let status):
            // HTTPTypes leaves the reason phrase of a status made from a code empty; NIO knows it.
            let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
            return APIResponse.error(HTTPResponse.Status(code: status, reasonPhrase: reason), "injected failure: \(status) \(reason)")
        }
    }
}

/// `X-API-Version` is optional; when given it must be 2.
struct VersionHeaderMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let version = request.headers[.xAPIVersion]?.trimmed(newlines: false), version != "2" {
            return APIResponse.error(.badRequest, "unsupported API version: \(version)")
        }
        return try await next(request, context)
    }
}

/// HTTP Basic with the sandbox's login and key (or its bearer token).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = authenticator.check(request.headers[.authorization]) {
            // No `WWW-Authenticate` challenge: it is an API, not a page, and Foundation's URLSession
            // on Linux stalls until its timeout when answered with a Basic challenge.
            return APIResponse.error(.unauthorized, refusal.message)
        }
        return try await next(request, context)
    }
}

/// A body that could not be taken in: too large (413) or not decodable (400).
enum RequestBodyError: Error {
    case tooLarge(limit: Int)
    case malformed(String)

    var response: Response {
        switch self {
        case .tooLarge(let limit): return APIResponse.error(.contentTooLarge, "request body exceeds the limit of \(limit) bytes")
        case .malformed(let message): return APIResponse.error(.badRequest, message)
        }
    }
}

/// Thrown once a fault has closed the connection: nothing is answered.
struct DroppedConnection: Error {}

extension HTTPField.Name {
    static let xAPIVersion = HTTPField.Name("X-API-Version")!
}
