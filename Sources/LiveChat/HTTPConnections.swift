import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// Where requests go: scheme, host and port of the API, and the path prefix of its base URL.
struct HTTPOrigin: Sendable, Hashable {
    var useTLS: Bool
    var host: String
    var port: Int
    /// The base URL's path without a trailing slash, percent-encoded as given ("" or "/v2").
    var pathPrefix: String

    /// Parses a base URL that `LiveChatConfiguration.validatedBaseURL()` accepted.
    init(baseURL: String) throws {
        guard let components = URLComponents(string: baseURL), let scheme = components.scheme?.lowercased(),
              var host = components.host, !host.isEmpty
        else {
            throw LiveChatError(kind: .configuration, message: "invalid API URL '\(baseURL)'")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.useTLS = scheme == "https"
        self.host = host
        self.port = components.port ?? (useTLS ? 443 : 80)
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.pathPrefix = path
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (useTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Whether the host is an IP address literal, which TLS must not send as the server name.
    var hostIsAddress: Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// One request, ready to send: method, target (path and query, prefix included), the header
/// lines as bytes (`Name: value\r\n` each; `Content-Length` is added for a body), and the body.
struct HTTPExchangeRequest: Sendable {
    var method: HTTPMethod
    var target: String
    var headerLines: [UInt8]
    var body: [UInt8]?

    /// Header lines as the wire has them. Names and values are the client's own (never a
    /// line break in them), so they are written as they are.
    static func headerLines(_ headers: [(String, String)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (name, value) in headers {
            precondition(!(name + value).utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }), "a line break in a header")
            bytes.append(contentsOf: name.utf8)
            bytes.append(contentsOf: ": ".utf8)
            bytes.append(contentsOf: value.utf8)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        return bytes
    }

    /// The whole request as it goes on the wire.
    func encoded(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64 + target.utf8.count + headerLines.count + (body?.count ?? 0))
        buffer.writeString(method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(target)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        buffer.writeBytes(headerLines)
        if let body {
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(body.count))
            buffer.writeStaticString("\r\n\r\n")
            buffer.writeBytes(body)
        } else {
            buffer.writeStaticString("\r\n")
        }
        return buffer
    }
}

/// A complete answer of the server.
struct HTTPAnswer: Sendable {
    var status: Int
    var reason: String
    var headers: HTTPHeaders
    var body: [UInt8]
    /// Whether the connection may carry another request after this answer.
    var keepAlive: Bool
}

/// Kept-alive HTTP/1.1 connections to one origin, with one exchange in flight per connection.
///
/// Requests take an idle connection, or open a new one while fewer than `maxConnections` are
/// open, or wait in line for one. A connection goes back to the idle list after a complete answer
/// that allows keep-alive, and is closed after anything else (an error, a timeout, a cancellation,
/// `Connection: close`), so a connection in the idle list never has a half-read answer on it.
///
/// The retry policy needs to know whether a failed request can have reached the server: a failure
/// to connect (`NIOConnectionError`, `ChannelError.connectTimeout`, a refused connection) means it
/// did not; anything after the connection is up (`ChannelError.eof`, a reset) means it may have.
final class HTTPConnections: @unchecked Sendable {
    private let origin: HTTPOrigin
    private let group: EventLoopGroup
    private let tls: NIOSSLContext?
    private let maxConnections: Int
    private let connectTimeout: Duration
    /// A connection idle for longer is closed instead of reused: servers drop idle connections
    /// after a while, and a request sent just as that happens is lost in an unknown state.
    private let idleLimit: Duration

    private let lock = NSLock()
    private var idle: [Idle] = []
    private var open = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0
    private var shutDown = false

    private struct Idle {
        var connection: HTTPConnection
        var since: ContinuousClock.Instant
    }

    /// What a waiting request is handed: a connection, or the right to open one.
    private enum Grant {
        case connection(HTTPConnection)
        case openNew
    }

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Grant, Error>
    }

    init(
        origin: HTTPOrigin, group: EventLoopGroup, maxConnections: Int, connectTimeout: Duration,
        idleLimit: Duration = .seconds(20)
    ) throws {
        self.origin = origin
        self.group = group
        self.maxConnections = max(1, maxConnections)
        self.connectTimeout = connectTimeout
        self.idleLimit = idleLimit
        if origin.useTLS {
            // The system's trust roots, full certificate and host name verification.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.applicationProtocols = ["http/1.1"]
            do {
                self.tls = try NIOSSLContext(configuration: configuration)
            } catch {
                throw LiveChatError(kind: .configuration, message: "TLS could not be set up: \(error)")
            }
        } else {
            self.tls = nil
        }
    }

    /// Sends `request` and returns the complete answer. The whole exchange, waiting for a
    /// connection included, must end within `timeout`, or it fails with
    /// `TransportFailure.AttemptTimedOut` (`sent: false` when no byte was sent yet). Cancelling
    /// the task closes the connection and throws `CancellationError`.
    func execute(_ request: HTTPExchangeRequest, timeout: Duration, maxResponseBytes: Int) async throws -> HTTPAnswer {
        let deadline = ContinuousClock.now + timeout
        var closedBeforeSending = 0
        while true {
            let connection = try await lease(deadline: deadline)
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                // The time went on waiting: the request is not sent at all.
                release(connection, reusable: true)
                throw TransportFailure.AttemptTimedOut(sent: false)
            }
            do {
                let answer = try await connection.exchange(request, timeout: remaining, maxResponseBytes: maxResponseBytes)
                release(connection, reusable: answer.keepAlive)
                return answer
            } catch let error as TransportFailure.ClosedBeforeSending {
                // A kept-alive connection the server had just closed: nothing was sent, so
                // another connection may carry the request.
                release(connection, reusable: false)
                closedBeforeSending += 1
                if closedBeforeSending == 3 { throw error }
            } catch {
                release(connection, reusable: false)
                throw error
            }
        }
    }

    /// Closes every idle connection (a busy one closes when its exchange ends); requests waiting
    /// for a connection fail, later ones too. Returns when the idle connections are closed.
    func shutdown() async {
        for closing in close() {
            try? await closing.get()
        }
    }

    /// `shutdown()` without waiting for the connections to close.
    @discardableResult
    func close() -> [EventLoopFuture<Void>] {
        let (closing, waiting) = lock.withLock { () -> ([HTTPConnection], [Waiter]) in
            shutDown = true
            defer {
                open -= idle.count
                idle.removeAll()
                waiters.removeAll()
            }
            return (idle.map(\.connection), waiters)
        }
        for waiter in waiting { waiter.continuation.resume(throwing: TransportFailure.ShutDown()) }
        return closing.map { $0.channel.close() }
    }

    // MARK: - Leasing

    /// Sends `request` at once on an idle connection, without a task: for a caller on the
    /// connections' event loop (a group of one loop). Returns the connection, whose `abort` ends
    /// the exchange; nil when no connection is idle (the caller then uses `execute`).
    /// `completion` runs on the loop with the complete answer or the failure; a connection found
    /// closed before sending fails with `ClosedBeforeSending`: nothing was sent.
    func startOnIdleConnection(
        _ request: HTTPExchangeRequest, timeout: Duration, maxResponseBytes: Int,
        completion: @escaping (Result<HTTPAnswer, Error>) -> Void
    ) -> HTTPConnection? {
        var stale: [HTTPConnection] = []
        let taken = lock.withLock { shutDown ? nil : popIdle(stale: &stale) }
        for connection in stale { connection.channel.close(promise: nil) }
        if !stale.isEmpty { grantToNextWaiter() }
        guard let connection = taken else { return nil }
        guard connection.channel.eventLoop.inEventLoop else {
            release(connection, reusable: true)
            return nil
        }
        connection.start(request, timeout: timeout, maxResponseBytes: maxResponseBytes) { result in
            switch result {
            case .success(let answer): self.release(connection, reusable: answer.keepAlive)
            case .failure: self.release(connection, reusable: false)
            }
            completion(result)
        }
        return connection
    }

    /// The most recently used idle connection still fit for use; the unfit ones it passed are
    /// added to `stale`, to be closed. Called with the lock held.
    private func popIdle(stale: inout [HTTPConnection]) -> HTTPConnection? {
        let now = ContinuousClock.now
        while let last = idle.popLast() {
            if last.connection.channel.isActive, now - last.since <= idleLimit {
                return last.connection
            }
            open -= 1
            stale.append(last.connection)
        }
        return nil
    }

    private func lease(deadline: ContinuousClock.Instant) async throws -> HTTPConnection {
        enum Next { case use(HTTPConnection), openNew, wait }
        var stale: [HTTPConnection] = []
        let next = try lock.withLock { () throws -> Next in
            guard !shutDown else { throw TransportFailure.ShutDown() }
            if let connection = popIdle(stale: &stale) { return .use(connection) }
            if open < maxConnections {
                open += 1
                return .openNew
            }
            return .wait
        }
        for connection in stale { connection.channel.close(promise: nil) }
        switch next {
        case .use(let connection):
            return connection
        case .openNew:
            return try await openConnection(deadline: deadline)
        case .wait:
            switch try await waitForGrant(deadline: deadline) {
            case .connection(let connection): return connection
            case .openNew: return try await openConnection(deadline: deadline)
            }
        }
    }

    /// Opens a connection, counted in `open` already; gives the count back when it fails.
    private func openConnection(deadline: ContinuousClock.Instant) async throws -> HTTPConnection {
        do {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw TransportFailure.AttemptTimedOut(sent: false) }
            return try await connect(within: min(connectTimeout, remaining), timeoutIsTheRequests: remaining < connectTimeout)
        } catch {
            lock.withLock { open -= 1 }
            grantToNextWaiter()
            throw error
        }
    }

    private func waitForGrant(deadline: ContinuousClock.Instant) async throws -> Grant {
        let id = lock.withLock { () -> Int in
            nextWaiterID += 1
            return nextWaiterID
        }
        // Rarely taken (every connection busy), so a timer task is affordable here.
        let timer = Task { [weak self] in
            try await Task.sleep(until: deadline, clock: .continuous)
            self?.abandonWait(id: id, with: TransportFailure.AttemptTimedOut(sent: false))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, Error>) in
                let refused: Error? = lock.withLock {
                    if shutDown { return TransportFailure.ShutDown() }
                    if Task.isCancelled { return CancellationError() }
                    // Past the deadline the timer may already have looked for this waiter.
                    if ContinuousClock.now >= deadline { return TransportFailure.AttemptTimedOut(sent: false) }
                    waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) }
            }
        } onCancel: {
            abandonWait(id: id, with: CancellationError())
        }
    }

    private func abandonWait(id: Int, with error: Error) {
        let waiter = lock.withLock { () -> Waiter? in
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Gives a connection back: to the first request waiting, or to the idle list, or closes it.
    private func release(_ connection: HTTPConnection, reusable: Bool) {
        enum Outcome { case handedOver(Waiter), keptIdle, closed }
        let keep = reusable && connection.channel.isActive
        let outcome = lock.withLock { () -> Outcome in
            guard keep, !shutDown else {
                open -= 1
                return .closed
            }
            if !waiters.isEmpty { return .handedOver(waiters.removeFirst()) }
            idle.append(Idle(connection: connection, since: .now))
            return .keptIdle
        }
        switch outcome {
        case .handedOver(let waiter):
            waiter.continuation.resume(returning: .connection(connection))
        case .keptIdle:
            break
        case .closed:
            connection.channel.close(promise: nil)
            grantToNextWaiter()
        }
    }

    /// Lets the first waiting request open a connection, when there is room for one.
    private func grantToNextWaiter() {
        let waiter = lock.withLock { () -> Waiter? in
            guard !waiters.isEmpty, open < maxConnections, !shutDown else { return nil }
            open += 1
            return waiters.removeFirst()
        }
        waiter?.continuation.resume(returning: .openNew)
    }

    /// Forgets an idle connection the server closed.
    private func closed(_ connection: HTTPConnection) {
        let removed = lock.withLock { () -> Bool in
            guard let index = idle.firstIndex(where: { $0.connection === connection }) else { return false }
            idle.remove(at: index)
            open -= 1
            return true
        }
        if removed { grantToNextWaiter() }
    }

    // MARK: - Connecting

    private func connect(within limit: Duration, timeoutIsTheRequests: Bool) async throws -> HTTPConnection {
        let origin = self.origin
        let tls = self.tls
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(limit.timeAmount)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        let handler = try NIOSSLClientHandler(
                            context: tls, serverHostname: origin.hostIsAddress ? nil : origin.host)
                        try pipeline.addHandler(handler)
                        try pipeline.addHandler(TLSHandshakeWaiter(channel.eventLoop.makePromise()))
                    }
                    try pipeline.addHandler(RequestBytesWriter())
                    try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(ExchangeHandler())
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: origin.host, port: origin.port).get()
        } catch ChannelError.connectTimeout where timeoutIsTheRequests {
            throw TransportFailure.AttemptTimedOut(sent: false)
        }
        if tls != nil {
            // Nothing is sent before the handshake is done, so whatever ends it (but a TLS error
            // proper) means the request never left: safe to send again, even a create.
            let waiter = try await channel.pipeline.handler(type: TLSHandshakeWaiter.self).get()
            let timeout = channel.eventLoop.scheduleTask(in: limit.timeAmount) {
                waiter.fail(ChannelError.connectTimeout(limit.timeAmount))
            }
            defer { timeout.cancel() }
            do {
                try await waiter.done.get()
            } catch {
                channel.close(promise: nil)
                switch error {
                case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
                    throw error
                case ChannelError.connectTimeout where timeoutIsTheRequests:
                    throw TransportFailure.AttemptTimedOut(sent: false)
                case ChannelError.connectTimeout:
                    throw error
                default:
                    throw TransportFailure.NotEstablished(cause: error)
                }
            }
        }
        let handler = try await channel.pipeline.handler(type: ExchangeHandler.self).get()
        let connection = HTTPConnection(channel: channel, handler: handler)
        channel.closeFuture.whenComplete { [weak self, weak connection] _ in
            if let self, let connection { self.closed(connection) }
        }
        return connection
    }
}

/// One kept-alive connection: its channel and the handler that runs its exchanges. The handler
/// is touched only on the channel's event loop.
final class HTTPConnection: @unchecked Sendable {
    let channel: Channel
    private let handler: ExchangeHandler

    fileprivate init(channel: Channel, handler: ExchangeHandler) {
        self.channel = channel
        self.handler = handler
    }

    /// Starts one exchange, as `exchange` does; on the channel's event loop only. `reply` is
    /// called on the loop, perhaps before this returns.
    func start(_ request: HTTPExchangeRequest, timeout: Duration, maxResponseBytes: Int,
               reply: @escaping (Result<HTTPAnswer, Error>) -> Void) {
        handler.start(method: request.method, bytes: request.encoded(allocator: channel.allocator),
                      timeout: timeout, maxResponseBytes: maxResponseBytes, reply: reply)
    }

    /// Ends the exchange in flight, if any, with a `CancellationError`, and closes the connection.
    func abort() {
        let handler = self.handler
        channel.eventLoop.execute { handler.abort(CancellationError()) }
    }

    /// One request and its complete answer on this connection, which must be idle. The request's
    /// header lines must include `Host`.
    func exchange(_ request: HTTPExchangeRequest, timeout: Duration, maxResponseBytes: Int) async throws -> HTTPAnswer {
        try Task.checkCancellation()
        let promise = channel.eventLoop.makePromise(of: HTTPAnswer.self)
        let begin = { self.start(request, timeout: timeout, maxResponseBytes: maxResponseBytes, reply: promise.completeWith) }
        if channel.eventLoop.inEventLoop {
            begin()
        } else {
            channel.eventLoop.execute(begin)
        }
        // A cancellation is handled on the event loop after the start above, so it always finds
        // the exchange it is meant to end.
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            abort()
        }
    }
}

/// Runs one exchange at a time on its channel: writes the request, gathers the answer, and fails
/// the exchange (closing the channel) on a timeout, an error, an oversized body or an early close.
/// Sendable only to be handed to its own event loop: every method runs there.
final class ExchangeHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    /// Who gets the answer of the exchange in flight, or its failure.
    private var reply: ((Result<HTTPAnswer, Error>) -> Void)?
    /// When the exchange in flight times out.
    private var deadline: NIODeadline?
    /// One timer for the connection, not one per exchange: it fires at `timerAt`, ends the
    /// exchange then in flight if its deadline has passed, or is set again for it. An exchange
    /// that starts while it is set for an earlier time keeps it.
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline?
    private var limit = 0
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        timer?.cancel()
        timer = nil
    }

    /// Sends a request, already encoded; `reply` is called once, on the event loop, with its
    /// answer or its failure.
    func start(method: HTTPMethod, bytes: ByteBuffer, timeout: Duration, maxResponseBytes: Int,
               reply: @escaping (Result<HTTPAnswer, Error>) -> Void) {
        guard let context, context.channel.isActive, self.reply == nil else {
            reply(.failure(TransportFailure.ClosedBeforeSending()))
            return
        }
        self.reply = reply
        self.limit = maxResponseBytes
        self.head = nil
        self.body = nil
        // The request is written below, in this same turn of the loop: by the time the timer
        // ends it, it was sent.
        let deadline = NIODeadline.now() + timeout.timeAmount
        self.deadline = deadline
        if timerAt.map({ $0 > deadline }) ?? true { setTimer(at: deadline, context: context) }
        // The head tells the response decoder the method (a HEAD answer has no body); the bytes
        // are the whole request, which RequestBytesWriter puts on the wire as they are.
        context.write(wrapOutboundOut(.head(RequestBytesWriter.head(for: method))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
    }

    private func setTimer(at time: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        timerAt = time
        timer = context.eventLoop.scheduleTask(deadline: time) { [weak self] in self?.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerAt = nil
        guard reply != nil, let deadline, let context else { return }
        if deadline <= .now() {
            abort(TransportFailure.AttemptTimedOut(sent: true))
        } else {
            setTimer(at: deadline, context: context)
        }
    }

    /// Fails the exchange in flight, if any, and closes the connection.
    func abort(_ error: Error) {
        fail(error)
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard reply != nil else {
                // An answer nobody asked for: the connection's state is unknown.
                context.close(promise: nil)
                return
            }
            self.head = head
        case .body(var part):
            guard reply != nil else { return }
            let size = (body?.readableBytes ?? 0) + part.readableBytes
            if size > limit {
                abort(TransportFailure.ResponseTooLarge())
                return
            }
            if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            guard let reply, let head else { return }
            self.reply = nil
            deadline = nil
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            body = nil
            self.head = nil
            reply(.success(HTTPAnswer(status: Int(head.status.code), reason: head.status.reasonPhrase,
                                      headers: head.headers, body: bytes, keepAlive: head.isKeepAlive)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        abort(error)
    }

    private func fail(_ error: Error) {
        guard let reply else { return }
        self.reply = nil
        deadline = nil
        head = nil
        body = nil
        reply(.failure(error))
    }
}

/// Puts requests on the wire that `HTTPExchangeRequest.encoded` wrote whole: a `.body` part is
/// the request's bytes, a `.head` part only tells the response decoder (which observes it on
/// its way here) the request's method. Rendering the head once per client, not through NIO's
/// encoder and header validator per request, is a measurable share of a bulk run.
final class RequestBytesWriter: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    /// A head that carries only the method.
    static func head(for method: HTTPMethod) -> HTTPRequestHead {
        switch method {
        case .GET: return getHead
        case .POST: return postHead
        case .PUT: return putHead
        default: return HTTPRequestHead(version: .http1_1, method: method, uri: "")
        }
    }

    private static let getHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")
    private static let postHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: "")
    private static let putHead = HTTPRequestHead(version: .http1_1, method: .PUT, uri: "")

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(.byteBuffer(let bytes)):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .head, .end:
            promise?.succeed(())
        case .body(.fileRegion):
            promise?.fail(ChannelError.operationUnsupported)
        }
    }
}

/// Completes `done` when the TLS handshake has finished, or fails it with what ended the
/// connection first. Passes every event on.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<Void>
    private var finished = false

    init(_ promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    var done: EventLoopFuture<Void> { promise.futureResult }

    /// Ends the wait with an error (a timeout); on the channel's event loop or not.
    func fail(_ error: Error) {
        promise.futureResult.eventLoop.execute { self.finish(.failure(error)) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted? = event as? TLSUserEvent { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    /// A connection that never became active (refused) is torn down without any of the events
    /// above: the wait still ends, so that its promise is never left behind.
    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
    }

    private func finish(_ result: Result<Void, Error>) {
        guard !finished else { return }
        finished = true
        promise.completeWith(result)
    }
}

extension Duration {
    /// The duration as NIO's time amount, to the nanosecond.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        // Saturating: the configured durations are bounded, but no duration may trap here.
        let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .nanoseconds(seconds < 0 ? .min : .max) }
        let (total, overflowAgain) = nanoseconds.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(overflowAgain ? .max : total)
    }
}
