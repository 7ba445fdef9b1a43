import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The client of the LiveChat REST API v2 tickets endpoints, on AsyncHTTPClient.
///
/// One client holds one pool of kept-alive connections (TLS with verified certificates for
/// https, HTTP/2 where the server offers it), at most `maxConnections` of them, through the
/// configured proxy if any; shut it down with `shutdown()` when no longer needed. Every call
/// sends HTTP Basic credentials and `X-API-Version: 2`, retries as its `RetryPolicy` allows, and
/// throws only `LiveChatError`. Every call honours Task cancellation: cancelling the calling task
/// cancels the request in flight (or the wait before a retry) at once, and the call throws a
/// `cancelled` error.
public final class LiveChatClient: Sendable {
    public let configuration: LiveChatConfiguration
    /// The HTTP client, and what every request carries; or why there can be none.
    private let transport: Result<Transport, LiveChatError>
    private let logger: Logger
    private let onAttempt: (@Sendable (LiveChatAttempt) -> Void)?
    private let gate = ThrottleGate()
    private let lifecycle = Lifecycle()

    private struct Transport: Sendable {
        var http: HTTPClient
        /// The base URL without a trailing slash (`http://127.0.0.1:8080/v2`).
        var baseURL: String
        /// `host[:port]`, as messages name the server.
        var host: String
        var headers: HTTPHeaders
    }

    deinit {
        // A client dropped without `shutdown()` closes its connections all the same.
        if lifecycle.beginShutdown(), case .success(let transport) = transport {
            transport.http.shutdown { _ in }
        }
    }

    /// Creates a client. A bad configuration (an invalid URL, plain http to a remote host, a
    /// trust file that cannot be read) does not fail here: every call then throws a
    /// `configuration` error. `onAttempt` is told of every HTTP attempt, retries included.
    public init(
        configuration: LiveChatConfiguration, logger: Logger? = nil,
        onAttempt: (@Sendable (LiveChatAttempt) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "livechat.client", factory: { _ in SwiftLogNoOpLogHandler() })
        self.onAttempt = onAttempt
        let baseURL = Result { try configuration.validatedBaseURL() }.mapError { $0 as! LiveChatError }
        self.transport = baseURL.flatMap { base in
            Result {
                Transport(
                    http: HTTPClient(
                        eventLoopGroupProvider: .singleton,
                        configuration: try Self.httpConfiguration(configuration)),
                    baseURL: base,
                    host: URLComponents(string: base).map { components in
                        (components.host ?? base) + (components.port.map { ":\($0)" } ?? "")
                    } ?? base,
                    headers: [
                        "Authorization": "Basic " + Self.basicCredentials(configuration),
                        "X-API-Version": "2",
                        "Accept": "application/json",
                        "User-Agent": "livechat-lua",
                    ])
            }.mapError { $0 as? LiveChatError ?? LiveChatError(kind: .configuration, message: "\($0)") }
        }

        if case .success(let base) = baseURL, base.lowercased().hasPrefix("http:"),
           let host = URL(string: base)?.host, !LiveChatConfiguration.isLoopback(host: host) {
            self.logger.warning("sending LiveChat credentials over plain http", metadata: ["host": "\(host)"])
        }
    }

    /// AsyncHTTPClient set up for an API client.
    /// - The pool holds up to `maxConnections` connections to the API.
    /// - A failed connect fails the request at once instead of being retried inside the pool,
    ///   so that `RetryPolicy` alone decides about retries and knows the request never left
    ///   (safe to repeat even for a create).
    /// - Redirects are never followed: one could carry the credentials to another host.
    /// - Compressed answers are decompressed, up to the response size limit.
    /// - TLS trusts the system's roots and `additionalTrustRoots`.
    private static func httpConfiguration(_ configuration: LiveChatConfiguration) throws -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        let extra = try TrustRoots.load(configuration.additionalTrustRoots)
        if !extra.isEmpty { tls.additionalTrustRoots = [.certificates(extra)] }
        var http = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            // A connect never waits longer than the request may take in all.
            timeout: .init(connect: min(configuration.connectTimeout, configuration.requestTimeout).timeAmount),
            connectionPool: .init(idleTimeout: .seconds(55),
                                  concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnections),
            proxy: configuration.proxy.map { proxy in
                switch proxy.kind {
                case .http:
                    return .server(host: proxy.host, port: proxy.port, authorization: proxy.password.map {
                        .basic(credentials: LiveChatProxy.basic(proxy.username ?? "", $0))
                    })
                case .socks5:
                    return .socksServer(host: proxy.host, port: proxy.port)
                }
            },
            decompression: .enabled(limit: .size(configuration.maxResponseBytes)))
        http.connectionPool.retryConnectionEstablishment = false
        return http
    }

    /// Closes the connection pool. Calls made afterwards fail with a `configuration` error;
    /// calling it again does nothing. A client dropped without it is shut down in the background.
    public func shutdown() async throws {
        guard lifecycle.beginShutdown(), case .success(let transport) = transport else { return }
        try? await transport.http.shutdown()
    }

    // MARK: - Endpoints

    /// `POST /tickets`: creates a ticket and returns it.
    public func createTicket(_ request: CreateTicketRequest) async throws -> Ticket {
        try request.validate()
        return try await send(.POST, path: "/tickets", body: try Self.encode(request))
    }

    /// `GET /tickets/{id}`: one ticket.
    public func ticket(id: String) async throws -> Ticket {
        try await send(.GET, path: try ticketPath(id))
    }

    /// `GET /tickets`: one page of the tickets matching the query.
    public func listTickets(_ query: TicketQuery = TicketQuery()) async throws -> TicketPage {
        try query.validate()
        return try await send(.GET, path: "/tickets", query: query.queryString)
    }

    /// `PUT /tickets/{id}/tags`: replaces the ticket's tags and returns the updated ticket.
    public func updateTicketTags(id: String, tags: [String]) async throws -> Ticket {
        try await send(.PUT, path: try ticketPath(id) + "/tags", body: try Self.encode(["tag": tags]))
    }

    /// A request body: keys sorted, slashes as they are.
    private static func encode<Body: Encodable>(_ body: Body) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return ByteBuffer(bytes: try encoder.encode(body))
        } catch {
            throw LiveChatError(kind: .validation, message: "the request cannot be written as JSON: \(error)")
        }
    }

    /// A request to the sandbox's admin API: `/__sandbox/PATH` at the API URL's origin, with the
    /// same credentials, one attempt; its JSON answer. For the project's `livechat.sandbox`.
    @_spi(LiveChatTools) public func sandboxAdmin(
        method: String, path: String, query: String = "", body: JSONValue? = nil
    ) async throws -> JSONValue {
        let transport: Transport
        switch self.transport {
        case .success(let value): transport = value
        case .failure(let error): throw error
        }
        guard var origin = URLComponents(string: transport.baseURL) else {
            throw LiveChatError(kind: .configuration, message: "invalid API URL '\(transport.baseURL)'")
        }
        origin.path = ""
        let target = "/__sandbox/" + path + (query.isEmpty ? "" : "?" + query)
        var request = HTTPClientRequest(url: (origin.string ?? transport.baseURL) + target)
        request.method = HTTPMethod(rawValue: method)
        request.headers = transport.headers
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(try Self.encode(body))
        }
        let started = ContinuousClock.now
        switch await perform(request, on: transport.http) {
        case .success(let answer) where (200..<300).contains(answer.status):
            return try decode(Delivered(answer: answer, method: request.method, target: target, attempt: 1,
                                        duration: .now - started))
        case .success(let answer):
            throw finish(LiveChatError.http(status: answer.status, reason: answer.reason,
                                            body: Array(answer.body.readableBytesView), retryable: false),
                         request.method, target, 1, .now - started)
        case .failure(let error):
            throw finish(TransportFailure.classify(error, host: transport.host, configuration: configuration).0,
                         request.method, target, 1, .now - started)
        }
    }

    private func ticketPath(_ id: String) throws -> String {
        guard !id.isEmpty else {
            throw LiveChatError(kind: .validation, message: "the ticket id must not be empty")
        }
        return "/tickets/" + PercentEncoding.encode(id)
    }

    // MARK: - Sending, with retries

    /// One answer as it arrived: its status, headers and whole body.
    private struct Answer: Sendable {
        var status: Int
        var reason: String
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Sends one call and decodes its answer.
    private func send<Response: Decodable>(
        _ method: HTTPMethod, path: String, query: String = "", body: ByteBuffer? = nil
    ) async throws -> Response {
        try decode(try await exchange(method, path: path, query: query, body: body))
    }

    /// A successful (2xx) answer, and what its attempt is reported with once it is decoded.
    private struct Delivered {
        var answer: Answer
        var method: HTTPMethod
        var target: String
        var attempt: Int
        var duration: Duration

        func reportSuccess(_ client: LiveChatClient) {
            client.report(method, target, attempt, status: answer.status, failure: nil, willRetry: false, duration)
        }
    }

    /// Decodes a successful answer; an answer that is not the expected JSON is a `protocol` error.
    private func decode<Response: Decodable>(_ delivered: Delivered) throws -> Response {
        do {
            let bytes = delivered.answer.body.readableBytesView
            guard !JSONDepth.exceedsLimit(bytes) else { throw TooDeep() }
            let value = try JSONDecoder().decode(Response.self, from: Data(bytes))
            delivered.reportSuccess(self)
            return value
        } catch {
            let summary = Self.describe(decodingError: error)
            throw finish(
                LiveChatError(kind: .protocol, status: delivered.answer.status,
                              message: "the answer is not the expected JSON: \(summary)"),
                delivered.method, delivered.target, delivered.attempt, delivered.duration)
        }
    }

    /// Makes one call's attempts: waits for the shared throttle gate, sends, and tries again
    /// until an answer is 2xx or the retry policy says stop.
    private func exchange(
        _ method: HTTPMethod, path: String, query: String = "", body: ByteBuffer? = nil
    ) async throws -> Delivered {
        let transport: Transport
        switch self.transport {
        case .success(let value): transport = value
        case .failure(let error): throw error
        }
        guard !lifecycle.isShutDown else {
            throw LiveChatError(kind: .configuration, message: "the client has been shut down")
        }
        let target = query.isEmpty ? path : path + "?" + query
        var request = HTTPClientRequest(url: transport.baseURL + target)
        request.method = method
        request.headers = transport.headers
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(body)
        }
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
            let outcome = await perform(request, on: transport.http)
            let duration = clock.now - attemptStarted

            var error: LiveChatError
            var failure: RetryPolicy.Failure?
            var retryAfter: Duration?
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                return Delivered(answer: response, method: method, target: target, attempt: attempt, duration: duration)
            case .success(let response):
                failure = .status(response.status)
                error = LiveChatError.http(status: response.status, reason: response.reason,
                                           body: Array(response.body.readableBytesView), retryable: false)
                retryAfter = response.headers.first(name: "retry-after").flatMap { RetryPolicy.parseRetryAfter($0) }
                if response.status == 429, let retryAfter {
                    // Everyone using this client waits out the pause, not only this call.
                    gate.close(for: min(retryAfter, policy.maxRetryAfter))
                }
            case .failure(let underlying):
                if Task.isCancelled {
                    throw finish(LiveChatError.cancelled(attempts: attempt), method, target, attempt, duration)
                }
                (error, failure) = TransportFailure.classify(
                    underlying, host: transport.host, configuration: configuration)
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
        // Built only when it will be logged: a bulk run reports thousands of attempts.
        if logger.logLevel <= .debug {
            var metadata: Logger.Metadata = [
                "method": "\(method.rawValue)", "path": "\(target)", "attempt": "\(attempt)",
                "duration": "\(duration)",
            ]
            if let status { metadata["status"] = "\(status)" }
            if let failure { metadata["failure"] = "\(failure.rawValue)" }
            if willRetry { metadata["retry"] = "true" }
            logger.debug("LiveChat request", metadata: metadata)
        }
        onAttempt?(LiveChatAttempt(
            method: method.rawValue, path: target, number: attempt, status: status, failure: failure,
            willRetry: willRetry, duration: duration))
    }

    /// The strings that must never leave this client: the key, the Basic credentials (a proxy
    /// or a server may echo the Authorization header back), and the proxy's.
    private var secrets: [String] {
        [configuration.apiKey, Self.basicCredentials(configuration)] + (configuration.proxy?.secrets ?? [])
    }

    private static func basicCredentials(_ configuration: LiveChatConfiguration) -> String {
        Data("\(configuration.login):\(configuration.apiKey)".utf8).base64EncodedString()
    }

    // MARK: - One attempt

    /// Makes one HTTP exchange, bounded by the request timeout from the call to the last body byte.
    private func perform(_ request: HTTPClientRequest, on http: HTTPClient) async -> Result<Answer, Error> {
        let deadline = NIODeadline.now() + configuration.requestTimeout.timeAmount
        do {
            let response = try await http.execute(request, deadline: deadline, logger: logger)
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: configuration.maxResponseBytes)
            } catch is NIOTooManyBytesError {
                throw TransportFailure.ResponseTooLarge()
            }
            return .success(Answer(status: Int(response.status.code), reason: response.status.reasonPhrase,
                                   headers: response.headers, body: body))
        } catch {
            return .failure(error)
        }
    }

    /// A short account of why decoding failed: where, and what was expected.
    /// An answer nested deeper than `JSONDepth.limit`: refused before Foundation parses it.
    private struct TooDeep: Error {}

    private static func describe(decodingError error: Error) -> String {
        if error is TooDeep { return "nested more than \(JSONDepth.limit) levels deep" }
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
}

extension LiveChatClient: CustomStringConvertible, CustomReflectable {
    public var description: String { "LiveChatClient(\(configuration))" }

    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": configuration], displayStyle: .class)
    }
}

/// Whether the client has been shut down, so that the pool is shut down exactly once. A lock, not
/// an actor, because `deinit` cannot wait.
private final class Lifecycle: Sendable {
    private let shutDown = Mutex(false)

    var isShutDown: Bool { shutDown.withLock { $0 } }

    /// Marks the client shut down; false when it already was.
    func beginShutdown() -> Bool {
        shutDown.withLock { shutDown in
            defer { shutDown = true }
            return !shutDown
        }
    }
}
