import Foundation
import Hummingbird
import NIOCore
import HTTPTypes
import NIOHTTP1

/// What the sandbox knows about each request beyond the request itself: its connection, so a
/// fault can drop it.
struct SandboxRequestContext: InitializableFromSource {
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        channel = source.channel
    }
}

/// The sandbox's router: `/health`, then the four ticket endpoints (also under `/v2`), each behind
/// fault injection, the version header rule and authentication. Every answer is JSON.
struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxRequestContext

    let store: TicketStore
    let authenticator: Authenticator
    let faults: FaultInjector?
    let bodyLimit: Int
    let accessLog: AccessLog?

    /// The routes, as data: a path shape and the methods it answers.
    private enum Route {
        case list, create, ticket(String), tags(String)
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await dispatch(request, context: context)
        } catch let error as DroppedConnection {
            accessLog?.record(method: request.method.rawValue, path: request.uri.path, status: 0, elapsed: .now - started)
            throw error
        }
        accessLog?.record(method: request.method.rawValue, path: request.uri.path, status: response.status.code,
                          elapsed: .now - started)
        return response
    }

    private func dispatch(_ request: Request, context: Context) async throws -> Response {
        // An answer to CONNECT goes out without a body or its length (a tunnel would follow),
        // so a client could not tell where it ends and waits: this is no proxy, and the
        // connection is closed instead.
        if request.method == .connect {
            try? await context.channel.close()
            throw DroppedConnection()
        }
        var segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.count == 1, segments[0] == "health" {
            return request.method == .get || request.method == .head ? Self.health : methodNotAllowed(request, allow: "GET")
        }
        if segments.first == "v2" { segments.removeFirst() }
        guard segments.first == "tickets", segments.count <= 3 else { return notFound(request) }
        let ids = segments.dropFirst().map { $0.contains("%") ? (String($0).removingPercentEncoding ?? String($0)) : String($0) }

        let route: Route
        switch (ids.count, request.method) {
        case (0, .get): route = .list
        case (0, .post): route = .create
        case (0, _): return methodNotAllowed(request, allow: "GET, POST")
        case (1, .get): route = .ticket(ids[0])
        case (1, _): return methodNotAllowed(request, allow: "GET")
        // POST too: the docs' JSON sample for this endpoint forgot `-X PUT`, so curl sends POST.
        case (2, .put) where ids[1] == "tags", (2, .post) where ids[1] == "tags": route = .tags(ids[0])
        case (2, _) where ids[1] == "tags": return methodNotAllowed(request, allow: "PUT")
        default: return notFound(request)
        }

        if let refusal = try await injectFault(context: context) { return refusal }
        if let version = request.headers[.xAPIVersion]?.trimmed(newlines: false), version != "2" {
            return APIResponse.error(.badRequest, "unsupported API version: \(version)")
        }
        if let refusal = authenticator.check(request.headers[.authorization]) {
            // No `WWW-Authenticate` challenge: it is an API, not a page, and Foundation's URLSession
            // on Linux stalls until its timeout when answered with a Basic challenge.
            return APIResponse.error(.unauthorized, refusal.message)
        }

        do {
            switch route {
            case .list: return try await list(request)
            case .create: return try await loseAnswerMaybe(create(request), context: context)
            case .ticket(let id): return try await ticket(id)
            case .tags(let id): return try await loseAnswerMaybe(updateTags(id, request), context: context)
            }
        } catch let error as RequestBodyError {
            return error.response
        } catch let error as HTTPParserError {
            throw error  // a broken HTTP stream: Hummingbird answers 400 and closes the connection
        } catch let error as DroppedConnection {
            throw error  // a lost answer: nothing more is said
        } catch {
            return APIResponse.error(.internalServerError, "internal error: \(error)")
        }
    }

    // MARK: Endpoints

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
            let page = try await store.list(filter)
            return APIResponse.page(total: page.total, documents: page.documents)
        }
    }

    private func ticket(_ id: String) async throws -> Response {
        guard TicketID.isWellFormed(id), let document = try await store.document(id: id) else {
            return APIResponse.error(.notFound, "ticket not found")
        }
        return APIResponse.ok(document)
    }

    private func create(_ request: Request) async throws -> Response {
        let fields = try await readFields(request)
        switch NewTicket.validate(fields) {
        case .failure(let failure):
            return APIResponse.errors(.badRequest, key: "error", failure.messages)
        case .success(let newTicket):
            return APIResponse.ok(try await store.create(newTicket, now: Self.now()))
        }
    }

    private func updateTags(_ id: String, _ request: Request) async throws -> Response {
        let fields = try await readFields(request)
        guard TicketID.isWellFormed(id) else { return APIResponse.error(.notFound, "ticket not found") }
        switch TagList.validate(fields) {
        case .failure(let failure):
            return APIResponse.errors(.badRequest, key: "error", failure.messages)
        case .success(let tags):
            guard let document = try await store.replaceTags(id: id, with: tags, now: Self.now()) else {
                return APIResponse.error(.notFound, "ticket not found")
            }
            return APIResponse.ok(document)
        }
    }

    // MARK: Pieces

    /// Reads the whole body (up to the limit) and decodes it by its content type.
    private func readFields(_ request: Request) async throws -> RequestFields {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > bodyLimit {
            throw RequestBodyError.tooLarge(limit: bodyLimit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: bodyLimit)
        } catch is NIOTooManyBytesError {
            throw RequestBodyError.tooLarge(limit: bodyLimit)
        }
        do {
            return try RequestFields.decode(body: Data(buffer.readableBytesView), contentType: request.headers[.contentType])
        } catch let error as BodyDecodingError {
            throw RequestBodyError.malformed(error.message)
        }
    }

    /// Applies the configured faults: nil to serve the request, or the answer that replaces it.
    /// A dropped connection is closed here, before anything is read or stored.
    private func injectFault(context: Context) async throws -> Response? {
        guard let faults else { return nil }
        let decision = faults.decide()
        if decision == .drop {
            try? await context.channel.close()
            throw DroppedConnection()
        }
        if faults.faults.latencyMilliseconds > 0 {
            try await Task.sleep(for: .milliseconds(faults.faults.latencyMilliseconds))
        }
        switch decision {
        case .serve, .drop:
            return nil
        case .rateLimited(let retryAfter):
            return APIResponse.error(.tooManyRequests, "rate limit exceeded: retry after \(retryAfter) s",
                                     headers: [.retryAfter: String(retryAfter)])
        case .fail(let status):
            let status = HTTPResponse.Status(code: status)
            return APIResponse.error(status, "injected failure: \(status.code) \(status.reasonPhrase)")
        }
    }

    /// The lost-answer fault: a write that succeeded is not answered (the connection closes).
    private func loseAnswerMaybe(_ response: Response, context: Context) async throws -> Response {
        guard response.status == .ok, let faults, faults.losesAnswer() else { return response }
        try? await context.channel.close()
        throw DroppedConnection()
    }

    private func notFound(_ request: Request) -> Response {
        APIResponse.error(.notFound, "not found: \(request.method.rawValue) \(request.uri.path)")
    }

    private func methodNotAllowed(_ request: Request, allow: String) -> Response {
        APIResponse.error(.methodNotAllowed, "method \(request.method.rawValue) not allowed on \(request.uri.path)",
                          headers: [.allow: allow])
    }

    private static func now() -> Int { Int(Date().timeIntervalSince1970) }

    private static let health = APIResponse.json(.ok, ByteBuffer(string: "{\"status\":\"ok\"}"))
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
