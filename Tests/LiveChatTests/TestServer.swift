import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the test server received it.
struct RecordedRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var arrival: ContinuousClock.Instant
    /// Identifies the TCP connection the request came on, among the connections open together.
    var connection: ObjectIdentifier
    /// The client's port: tells connections apart over time too (a closed channel's identifier
    /// can be reused by the next).
    var clientPort: Int?

    var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
    var query: String? { uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) } }

    /// The first value of a header, by case-insensitive name.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body parsed as JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
}

/// What the test server does with one request.
enum ScriptedReply: Sendable {
    /// Answers after `delay`; `chunked` leaves out Content-Length.
    case respond(status: Int, headers: [(String, String)], body: [UInt8], delay: Duration, chunked: Bool)
    /// Closes the connection without answering.
    case close
    /// Resets the connection (TCP RST) without answering.
    case reset
    /// An informational `1xx` answer first, then `reply`.
    indirect case informational(status: Int, then: ScriptedReply)

    /// A JSON answer.
    static func json(_ status: Int = 200, _ text: String, headers: [(String, String)] = [], delay: Duration = .zero) -> ScriptedReply {
        .respond(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
                 body: Array(text.utf8), delay: delay, chunked: false)
    }

    /// An answer with any body and content type.
    static func raw(_ status: Int, _ body: [UInt8], contentType: String? = nil, headers: [(String, String)] = [], chunked: Bool = false) -> ScriptedReply {
        .respond(status: status, headers: (contentType.map { [("Content-Type", $0)] } ?? []) + headers,
                 body: body, delay: .zero, chunked: chunked)
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 whose answers a test scripts: `script` gets each request and
/// its 0-based index among all requests received.
final class TestServer: @unchecked Sendable {
    typealias Script = @Sendable (RecordedRequest, Int) -> ScriptedReply

    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private let lock = NSLock()
    private var received: [RecordedRequest] = []
    private let script: Script

    /// Starts listening on 127.0.0.1 at `port` (0: any free port).
    init(port: Int = 0, script: @escaping Script) async throws {
        self.script = script
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let box = ServerBox()
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                        channel.pipeline.addHandler(ScriptedHandler(server: box))
                    }
                }
                .bind(host: "127.0.0.1", port: port)
                .get()
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        self.port = channel.localAddress!.port!
        box.server = self
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Every request received so far, in order.
    var requests: [RecordedRequest] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    func stop() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }

    fileprivate func record(_ request: RecordedRequest) -> ScriptedReply {
        lock.lock()
        let index = received.count
        received.append(request)
        lock.unlock()
        return script(request, index)
    }

    /// A port on 127.0.0.1 on which nothing listens (it was free a moment ago).
    static func unusedPort() async throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        try await group.shutdownGracefully()
        return port
    }
}

/// Lets the channel initializer refer to the server before `init` has finished.
private final class ServerBox: @unchecked Sendable {
    weak var server: TestServer?
}

/// Collects one request, asks the script what to do, and does it.
private final class ScriptedHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: ServerBox
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(server: ServerBox) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head, let server = server.server else { return }
            let request = RecordedRequest(
                method: head.method.rawValue, uri: head.uri,
                headers: head.headers.map { ($0.name, $0.value) }, body: body,
                arrival: .now, connection: ObjectIdentifier(context.channel), clientPort: context.channel.remoteAddress?.port)
            act(on: server.record(request), version: head.version, context: context)
        }
    }

    private func act(on reply: ScriptedReply, version: HTTPVersion, context: ChannelHandlerContext) {
        let channel = context.channel
        switch reply {
        case .close:
            channel.close(promise: nil)
        case .reset:
            // SO_LINGER 0 makes close() send RST instead of FIN.
            if let provider = channel as? SocketOptionProvider {
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                    channel.close(promise: nil)
                }
            } else {
                channel.close(promise: nil)
            }
        case .informational(let status, let reply):
            let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status))
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
            act(on: reply, version: version, context: context)
        case .respond(let status, let headers, let body, let delay, let chunked):
            let (seconds, attoseconds) = delay.components
            let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
            let context = NIOLoopBound(context, eventLoop: context.eventLoop)
            channel.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                let context = context.value
                var responseHeaders = HTTPHeaders(headers)
                if !chunked {
                    responseHeaders.replaceOrAdd(name: "Content-Length", value: String(body.count))
                }
                let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: responseHeaders)
                context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
                if !body.isEmpty {
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                }
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            }
        }
    }
}
