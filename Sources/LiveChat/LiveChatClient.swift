import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The client of the LiveChat REST API v2 tickets endpoints.
///
/// One client holds one connection pool (keep-alive, TLS with verified certificates) and must be
/// shut down with `shutdown()` when no longer needed. Every call sends HTTP Basic credentials and
/// `X-API-Version: 2`, retries as its `RetryPolicy` allows, and throws only `LiveChatError`.
/// Every call honours Task cancellation: cancelling the calling task cancels the request in flight
/// (or the wait before a retry) at once, and the call throws a `cancelled` error.
public final class LiveChatClient: Sendable {
    public let configuration: LiveChatConfiguration
    private let baseURL: Result<String, LiveChatError>
    private let http: HTTPClient
    private let logger: Logger
    private let onAttempt: (@Sendable (LiveChatAttempt) -> Void)?
    private let gate = ThrottleGate()
    private let lifecycle = Lifecycle()

    deinit {
        // Forgetting `shutdown()` must not crash (AHC traps on it in debug builds) nor leak the pool.
        if lifecycle.beginShutdown() {
            http.shutdown().whenComplete { _ in }
        }
    }

    /// Creates a client. A bad configuration (an invalid URL, plain http to a remote host) does not
    /// fail here: every call then throws a `configuration` error. `onAttempt` is told of every
    /// HTTP attempt, retries included.
    public init(
        configuration: LiveChatConfiguration, logger: Logger? = nil,
        onAttempt: (@Sendable (LiveChatAttempt) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "livechat.client", factory: { _ in SwiftLogNoOpLogHandler() })
        self.onAttempt = onAttempt
        self.baseURL = Result { try configuration.validatedBaseURL() }.mapError { $0 as! LiveChatError }

        var httpConfiguration = HTTPClient.Configuration()
        // The API never redirects; following one could carry the credentials to another host.
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.timeout = .init(
            connect: Self.timeAmount(configuration.connectTimeout),
            read: Self.timeAmount(configuration.requestTimeout))
        // A failed connect must surface at once, so that `RetryPolicy` alone decides about retries
        // and knows the request never left (safe to repeat even for a create).
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        // AHC keeps 8 connections per host by default: calls beyond them would wait in its
        // queue whatever concurrency the caller asked for.
        httpConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.maxConnections
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)

        if case .success(let base) = baseURL, base.lowercased().hasPrefix("http:"),
           let host = URL(string: base)?.host, !LiveChatConfiguration.isLoopback(host: host) {
            self.logger.warning("sending LiveChat credentials over plain http", metadata: ["host": "\(host)"])
        }
    }

    /// Closes the connection pool. Calls made afterwards fail with a `configuration` error;
    /// calling it again does nothing. A client dropped without it is shut down in the background.
    public func shutdown() async throws {
        guard lifecycle.beginShutdown() else { return }
        try await http.shutdown()
    }

    // MARK: - Endpoints

    /// `POST /tickets`: creates a ticket and returns it.
    public func createTicket(_ request: CreateTicketRequest) async throws -> Ticket {
        try await send(.POST, path: "/tickets", body: try encode(request))
    }

    /// `POST /tickets`, for callers that need only the new ticket's id (a bulk run that hands no
    /// ticket to a script): the answer's `id` is read, not the whole ticket.
    public func createTicketID(_ request: CreateTicketRequest) async throws -> String {
        let created: CreatedTicketID = try await send(.POST, path: "/tickets", body: try encode(request))
        return created.id
    }

    private struct CreatedTicketID: Decodable {
        var id: String
    }

    /// `GET /tickets/{id}`: one ticket.
    public func ticket(id: String) async throws -> Ticket {
        try await send(.GET, path: try ticketPath(id))
    }

    /// `GET /tickets`: one page of the tickets matching the query.
    public func listTickets(_ query: TicketQuery = TicketQuery()) async throws -> TicketPage {
        try await send(.GET, path: "/tickets", query: query.queryString)
    }

    /// `PUT /tickets/{id}/tags`: replaces the ticket's tags and returns the updated ticket.
    public func updateTicketTags(id: String, tags: [String]) async throws -> Ticket {
        try await send(.PUT, path: try ticketPath(id) + "/tags", body: try encode(["tag": tags]))
    }

    private func ticketPath(_ id: String) throws -> String {
        guard !id.isEmpty else {
            throw LiveChatError(kind: .validation, message: "the ticket id must not be empty")
        }
        return "/tickets/" + PercentEncoding.encode(id)
    }

    private func encode<Body: Encodable>(_ body: Body) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(body))
        } catch {
            throw LiveChatError(kind: .validation, message: "the request could not be encoded as JSON: \(error)")
        }
    }

    // MARK: - Sending, with retries

    /// Sends one call: waits for the shared throttle gate, makes attempts until one succeeds or the
    /// retry policy says stop, and decodes the answer.
    private func send<Response: Decodable>(
        _ method: HTTPMethod, path: String, query: String = "", body: [UInt8]? = nil
    ) async throws -> Response {
        let base: String
        switch baseURL {
        case .success(let url): base = url
        case .failure(let error): throw error
        }
        guard !lifecycle.isShutDown else {
            throw LiveChatError(kind: .configuration, message: "the client has been shut down")
        }
        let target = query.isEmpty ? path : path + "?" + query
        let request = makeRequest(method, url: base + target, body: body)
        let policy = configuration.retryPolicy
        let clock = ContinuousClock()
        let callStarted = clock.now
        var attempt = 0

        while true {
            attempt += 1
            do {
                try await gate.waitUntilOpen()
            } catch {
                throw LiveChatError.cancelled(attempts: attempt - 1)
            }

            let attemptStarted = clock.now
            let outcome = await perform(request)
            let duration = clock.now - attemptStarted

            var error: LiveChatError
            var failure: RetryPolicy.Failure?
            var retryAfter: Duration?
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                do {
                    let value = try JSONDecoder().decode(Response.self, from: Data(response.body))
                    report(method, target, attempt, status: response.status, failure: nil, willRetry: false, duration)
                    return value
                } catch {
                    let summary = Self.describe(decodingError: error)
                    throw finish(
                        LiveChatError(kind: .protocol, status: response.status,
                                      message: "the answer is not the expected JSON: \(summary)"),
                        method, target, attempt, duration)
                }
            case .success(let response):
                failure = .status(response.status)
                error = LiveChatError.http(status: response.status, reason: response.reason, body: response.body, retryable: false)
                retryAfter = response.headers.first(name: "retry-after").flatMap { RetryPolicy.parseRetryAfter($0) }
                if response.status == 429, let retryAfter {
                    // Everyone using this client waits out the pause, not only this call.
                    await gate.close(for: min(retryAfter, policy.maxRetryAfter))
                }
            case .failure(let underlying):
                if Task.isCancelled {
                    throw finish(LiveChatError.cancelled(attempts: attempt), method, target, attempt, duration)
                }
                (error, failure) = TransportFailure.classify(underlying, host: hostDescription, configuration: configuration)
            }

            let allowed = failure.map { policy.allowsRetry(after: $0, method: method.rawValue) } ?? false
            error.retryable = allowed
            error.attempts = attempt
            let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
            let willRetry = allowed && attempt < policy.maxAttempts
                && (clock.now - callStarted) + delay <= policy.maxTotalTime
            guard willRetry else {
                throw finish(error, method, target, attempt, duration)
            }
            report(method, target, attempt, status: error.status, failure: error.kind, willRetry: true, duration)
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw LiveChatError.cancelled(attempts: attempt)
            }
        }
    }

    /// Reports a final failed attempt and returns its error, with any echoed secret removed.
    private func finish(
        _ error: LiveChatError, _ method: HTTPMethod, _ target: String, _ attempt: Int, _ duration: Duration
    ) -> LiveChatError {
        report(method, target, attempt, status: error.status, failure: error.kind, willRetry: false, duration)
        return error.redacting(secrets)
    }

    private func report(
        _ method: HTTPMethod, _ target: String, _ attempt: Int, status: Int?,
        failure: LiveChatError.Kind?, willRetry: Bool, _ duration: Duration
    ) {
        var metadata: Logger.Metadata = [
            "method": "\(method.rawValue)", "path": "\(target)", "attempt": "\(attempt)",
            "duration": "\(duration)",
        ]
        if let status { metadata["status"] = "\(status)" }
        if let failure { metadata["failure"] = "\(failure.rawValue)" }
        if willRetry { metadata["retry"] = "true" }
        logger.debug("LiveChat request", metadata: metadata)
        onAttempt?(LiveChatAttempt(
            method: method.rawValue, path: target, number: attempt, status: status, failure: failure,
            willRetry: willRetry, duration: duration))
    }

    /// The strings that must never leave this client: the key, and the Basic credentials
    /// (a proxy or a server may echo the Authorization header back).
    private var secrets: [String] {
        [configuration.apiKey, basicCredentials]
    }

    private var basicCredentials: String {
        Data("\(configuration.login):\(configuration.apiKey)".utf8).base64EncodedString()
    }

    private func makeRequest(_ method: HTTPMethod, url: String, body: [UInt8]?) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Basic " + basicCredentials)
        request.headers.add(name: "X-API-Version", value: "2")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "livechat-lua")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    // MARK: - One attempt

    /// A complete answer of the server.
    private struct HTTPAnswer: Sendable {
        var status: Int
        var reason: String
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// Makes one HTTP exchange, bounded by the request timeout from sending to the last body byte.
    private func perform(_ request: HTTPClientRequest) async -> Result<HTTPAnswer, Error> {
        let http = self.http
        let timeout = configuration.requestTimeout
        let limit = configuration.maxResponseBytes
        do {
            return .success(try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                group.addTask {
                    // AHC's own deadline covers only the head, and is a backstop behind ours.
                    let response = try await http.execute(
                        request, deadline: .now() + Self.timeAmount(timeout) + .seconds(1))
                    let body: ByteBuffer
                    do {
                        body = try await response.body.collect(upTo: limit)
                    } catch is NIOTooManyBytesError {
                        throw TransportFailure.ResponseTooLarge()
                    }
                    return HTTPAnswer(
                        status: Int(response.status.code), reason: response.status.reasonPhrase,
                        headers: response.headers, body: Array(body.readableBytesView))
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw TransportFailure.AttemptTimedOut()
                }
                // Whichever ends first decides; the other is cancelled (an HTTP request cancelled
                // this way is aborted and its connection closed).
                defer { group.cancelAll() }
                return try await group.next()!
            })
        } catch {
            return .failure(error)
        }
    }

    /// `host:port` of the API, for messages.
    private var hostDescription: String {
        guard case .success(let base) = baseURL, let url = URL(string: base), let host = url.host else {
            return "the server"
        }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// A short account of why decoding failed: where, and what was expected.
    private static func describe(decodingError error: Error) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing '\(key.stringValue)' at \(at(context.codingPath))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "\(context.debugDescription) at \(at(context.codingPath))"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "not valid JSON" : "\(context.debugDescription) at \(at(context.codingPath))"
        default:
            return "\(error)"
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension LiveChatClient: CustomStringConvertible, CustomReflectable {
    public var description: String { "LiveChatClient(\(configuration))" }

    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": configuration], displayStyle: .class)
    }
}

/// Whether the client has been shut down, so that the pool is shut down exactly once. A lock, not
/// an actor, because `deinit` cannot wait.
private final class Lifecycle: @unchecked Sendable {
    private let lock = NSLock()
    private var shutDown = false

    var isShutDown: Bool {
        lock.lock()
        defer { lock.unlock() }
        return shutDown
    }

    /// Marks the client shut down; false when it already was.
    func beginShutdown() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        defer { shutDown = true }
        return !shutDown
    }
}
