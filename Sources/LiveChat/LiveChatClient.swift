import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The client of the LiveChat REST API v2 tickets endpoints.
///
/// One client holds one pool of kept-alive HTTP/1.1 connections (TLS with verified certificates
/// for https), at most `maxConnections` of them, and should be shut down with `shutdown()` when
/// no longer needed. Every call sends HTTP Basic credentials and
/// `X-API-Version: 2`, retries as its `RetryPolicy` allows, and throws only `LiveChatError`.
/// Every call honours Task cancellation: cancelling the calling task cancels the request in flight
/// (or the wait before a retry) at once, and the call throws a `cancelled` error.
public final class LiveChatClient: Sendable {
    public let configuration: LiveChatConfiguration
    /// The connections, and the headers every request carries; or why there can be none.
    private let transport: Result<Transport, LiveChatError>
    private let logger: Logger
    private let onAttempt: (@Sendable (LiveChatAttempt) -> Void)?
    private let gate = ThrottleGate()
    private let lifecycle = Lifecycle()

    private struct Transport: Sendable {
        var connections: HTTPConnections
        var origin: HTTPOrigin
        /// The header lines of every request, rendered once; and with the JSON content type.
        var headerLines: [UInt8]
        var headerLinesWithJSON: [UInt8]
    }

    deinit {
        // A client dropped without `shutdown()` closes its idle connections all the same.
        if lifecycle.beginShutdown(), case .success(let transport) = transport {
            transport.connections.close()
        }
    }

    /// Creates a client. A bad configuration (an invalid URL, plain http to a remote host) does not
    /// fail here: every call then throws a `configuration` error. `onAttempt` is told of every
    /// HTTP attempt, retries included.
    ///
    /// The connections' I/O runs on NIO's shared event loops, or only on `executor`'s loop when
    /// one is given: a caller that runs its tasks on that executor too is resumed after each
    /// answer without a thread switch.
    public init(
        configuration: LiveChatConfiguration, logger: Logger? = nil,
        executor: EventLoopTaskExecutor? = nil,
        onAttempt: (@Sendable (LiveChatAttempt) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "livechat.client", factory: { _ in SwiftLogNoOpLogHandler() })
        self.onAttempt = onAttempt
        let baseURL = Result { try configuration.validatedBaseURL() }.mapError { $0 as! LiveChatError }
        // A failed connect surfaces at once, never retried inside the transport, so that
        // `RetryPolicy` alone decides about retries and knows the request never left (safe to
        // repeat even for a create). Redirects are never followed: one could carry the
        // credentials to another host.
        self.transport = baseURL.flatMap { base in
            Result {
                let origin = try HTTPOrigin(baseURL: base)
                let connections = try HTTPConnections(
                    origin: origin, group: executor?.eventLoop ?? MultiThreadedEventLoopGroup.singleton,
                    maxConnections: configuration.maxConnections, connectTimeout: configuration.connectTimeout)
                let headers = [
                    ("Host", origin.hostHeader),
                    ("Authorization", "Basic " + Self.basicCredentials(configuration)),
                    ("X-API-Version", "2"),
                    ("Accept", "application/json"),
                    ("User-Agent", "livechat-lua"),
                ]
                return Transport(
                    connections: connections, origin: origin,
                    headerLines: HTTPExchangeRequest.headerLines(headers),
                    headerLinesWithJSON: HTTPExchangeRequest.headerLines(
                        headers + [("Content-Type", "application/json; charset=utf-8")]))
            }.mapError { $0 as? LiveChatError ?? LiveChatError(kind: .configuration, message: "\($0)") }
        }

        if case .success(let base) = baseURL, base.lowercased().hasPrefix("http:"),
           let host = URL(string: base)?.host, !LiveChatConfiguration.isLoopback(host: host) {
            self.logger.warning("sending LiveChat credentials over plain http", metadata: ["host": "\(host)"])
        }
    }

    /// Closes the connection pool. Calls made afterwards fail with a `configuration` error;
    /// calling it again does nothing. A client dropped without it is shut down in the background.
    public func shutdown() async throws {
        guard lifecycle.beginShutdown(), case .success(let transport) = transport else { return }
        await transport.connections.shutdown()
    }

    // MARK: - Endpoints

    /// `POST /tickets`: creates a ticket and returns it.
    public func createTicket(_ request: CreateTicketRequest) async throws -> Ticket {
        try request.validate()
        return try await send(.POST, path: "/tickets", body: request.json())
    }

    /// `POST /tickets`, for callers that need only the new ticket's id (a bulk run that hands no
    /// ticket to a script): the answer's `id` is read, not the whole ticket. With `first`, the
    /// call finishes a create that `startCreateTicketID` began: that attempt's outcome is judged
    /// as any attempt's (retried as the policy allows, or thrown).
    public func createTicketID(_ request: CreateTicketRequest, after first: FirstAttempt? = nil) async throws -> String {
        try request.validate()
        let delivered = try await exchange(.POST, path: "/tickets", body: request.json(), first: first)
        if let id = JSONMemberScanner.string(named: "id", in: delivered.answer.body) {
            delivered.reportSuccess(self)
            return id
        }
        // Anything unusual: decoded the ordinary way, which also says what is wrong.
        let created: CreatedTicketID = try decode(delivered)
        return created.id
    }

    private struct CreatedTicketID: Decodable {
        var id: String
    }

    /// A create's first attempt, made by `startCreateTicketID` and not finished there: its answer
    /// or failure, for `createTicketID(_:after:)`.
    public struct FirstAttempt: Sendable {
        fileprivate var outcome: Result<HTTPAnswer, Error>
        fileprivate var duration: Duration
    }

    /// How a create started by `startCreateTicketID` ended.
    public enum StartedCreate: Sendable {
        /// The ticket was created; its id.
        case created(String)
        /// Anything else (a failure, or an answer that needs decoding): finish the call with
        /// `createTicketID(_:after:)`, which treats the attempt as any call's first.
        case unfinished(FirstAttempt)
        /// The request was not sent after all (its connection had closed): call `createTicketID`.
        case notSent
    }

    /// A create started by `startCreateTicketID`, in flight.
    public struct CreateInFlight: Sendable {
        fileprivate let connection: HTTPConnection

        /// Ends the exchange: the create finishes as a cancelled attempt (it may have been made).
        public func cancel() { connection.abort() }
    }

    /// `POST /tickets` sent at once on an idle kept-alive connection, without a task: for a bulk
    /// run on the client's `executor`, called on its event loop. Nil when it cannot start there
    /// and then (a 429 pause, no idle connection, a shut-down client): the caller uses
    /// `createTicketID`. Otherwise `completion` runs on the loop with how it ended.
    public func startCreateTicketID(
        _ request: CreateTicketRequest, completion: @escaping @Sendable (StartedCreate) -> Void
    ) -> CreateInFlight? {
        guard case .success(let transport) = self.transport, !lifecycle.isShutDown, gate.closedUntil == nil else { return nil }
        let exchangeRequest = HTTPExchangeRequest(
            method: .POST, target: transport.origin.pathPrefix + "/tickets",
            headerLines: transport.headerLinesWithJSON, body: request.json())
        let started = ContinuousClock.now
        let connection = transport.connections.startOnIdleConnection(
            exchangeRequest, timeout: configuration.requestTimeout, maxResponseBytes: configuration.maxResponseBytes
        ) { result in
            let duration = ContinuousClock.now - started
            if case .failure(let error) = result, error is TransportFailure.ClosedBeforeSending {
                completion(.notSent)
                return
            }
            if case .success(let answer) = result, (200..<300).contains(answer.status),
               let id = JSONMemberScanner.string(named: "id", in: answer.body) {
                self.report(.POST, "/tickets", 1, status: answer.status, failure: nil, willRetry: false, duration)
                completion(.created(id))
                return
            }
            completion(.unfinished(FirstAttempt(outcome: result, duration: duration)))
        }
        return connection.map(CreateInFlight.init)
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
        var body = JSONWriter()
        body.beginObject()
        body.key("tag")
        body.beginArray()
        for tag in tags { body.string(tag) }
        body.endArray()
        body.endObject()
        return try await send(.PUT, path: try ticketPath(id) + "/tags", body: body.bytes)
    }

    private func ticketPath(_ id: String) throws -> String {
        guard !id.isEmpty else {
            throw LiveChatError(kind: .validation, message: "the ticket id must not be empty")
        }
        return "/tickets/" + PercentEncoding.encode(id)
    }

    // MARK: - Sending, with retries

    /// Sends one call and decodes its answer.
    private func send<Response: Decodable>(
        _ method: HTTPMethod, path: String, query: String = "", body: [UInt8]? = nil
    ) async throws -> Response {
        try decode(try await exchange(method, path: path, query: query, body: body))
    }

    /// A successful (2xx) answer, and what its attempt is reported with once it is decoded.
    private struct Delivered {
        var answer: HTTPAnswer
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
            guard !JSONDepth.exceedsLimit(delivered.answer.body) else { throw TooDeep() }
            let value = try JSONDecoder().decode(Response.self, from: Data(delivered.answer.body))
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
    /// until an answer is 2xx or the retry policy says stop. Not generic, so that the hot path
    /// of a bulk run is compiled once, for its types.
    private func exchange(
        _ method: HTTPMethod, path: String, query: String = "", body: [UInt8]? = nil, first: FirstAttempt? = nil
    ) async throws -> Delivered {
        let transport: Transport
        switch self.transport {
        case .success(let value): transport = value
        case .failure(let error): throw error
        }
        // A first attempt already made is judged whatever happened since: its ticket may exist.
        guard first != nil || !lifecycle.isShutDown else {
            throw LiveChatError(kind: .configuration, message: "the client has been shut down")
        }
        let target = query.isEmpty ? path : path + "?" + query
        let request = HTTPExchangeRequest(
            method: method, target: transport.origin.pathPrefix + target,
            headerLines: body == nil ? transport.headerLines : transport.headerLinesWithJSON, body: body)
        let policy = configuration.retryPolicy
        let clock = ContinuousClock()
        let callStarted = clock.now - (first?.duration ?? .zero)
        var attempt = 0

        while true {
            attempt += 1
            let outcome: Result<HTTPAnswer, Error>
            let duration: Duration
            if attempt == 1, let first {
                (outcome, duration) = (first.outcome, first.duration)
            } else {
                do {
                    try await gate.waitUntilOpen()
                } catch {
                    throw LiveChatError.cancelled(attempts: attempt - 1)
                }
                let attemptStarted = clock.now
                outcome = await perform(request, on: transport.connections)
                duration = clock.now - attemptStarted
            }

            var error: LiveChatError
            var failure: RetryPolicy.Failure?
            var retryAfter: Duration?
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                return Delivered(answer: response, method: method, target: target, attempt: attempt, duration: duration)
            case .success(let response):
                failure = .status(response.status)
                error = LiveChatError.http(status: response.status, reason: response.reason, body: response.body, retryable: false)
                retryAfter = response.headers.first(name: "retry-after").flatMap { RetryPolicy.parseRetryAfter($0) }
                if response.status == 429, let retryAfter {
                    // Everyone using this client waits out the pause, not only this call.
                    gate.close(for: min(retryAfter, policy.maxRetryAfter))
                }
            case .failure(let underlying):
                if Task.isCancelled {
                    throw finish(LiveChatError.cancelled(attempts: attempt), method, target, attempt, duration)
                }
                (error, failure) = TransportFailure.classify(underlying, host: transport.origin.hostHeader, configuration: configuration)
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

    /// The strings that must never leave this client: the key, and the Basic credentials
    /// (a proxy or a server may echo the Authorization header back).
    private var secrets: [String] {
        [configuration.apiKey, Self.basicCredentials(configuration)]
    }

    private static func basicCredentials(_ configuration: LiveChatConfiguration) -> String {
        Data("\(configuration.login):\(configuration.apiKey)".utf8).base64EncodedString()
    }

    // MARK: - One attempt

    /// Makes one HTTP exchange, bounded by the request timeout from the call to the last body byte.
    private func perform(_ request: HTTPExchangeRequest, on connections: HTTPConnections) async -> Result<HTTPAnswer, Error> {
        do {
            return .success(try await connections.execute(
                request, timeout: configuration.requestTimeout, maxResponseBytes: configuration.maxResponseBytes))
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
