import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP proxy on 127.0.0.1 for tests, speaking `CONNECT` as corporate proxies do. It
/// records every tunnel asked for (the target and the headers), answers 407 when it wants
/// credentials and was not given them, reaches every target host at 127.0.0.1 (so a name such as
/// `api.test` gets to the test's server without DNS), and then copies bytes both ways.
public final class ConnectProxy: @unchecked Sendable {
    public struct Tunnel: Sendable {
        /// `host:port`, as the CONNECT line named it.
        public var target: String
        /// Header names in lowercase.
        public var headers: [String: String]
    }

    public let port: Int
    private let listener: Int32
    private let credentials: String?
    private let lock = NSLock()
    private var recorded: [Tunnel] = []
    private var open: Set<Int32> = []

    /// `credentials`: `user:password` the proxy asks for (Basic); nil asks for none.
    public init(credentials: String? = nil) throws {
        self.credentials = credentials
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw NSError(domain: "ConnectProxy", code: Int(errno))
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// The tunnels asked for so far.
    public var tunnels: [Tunnel] { lock.withLock { recorded } }

    /// `http://[credentials@]127.0.0.1:PORT`.
    public func url(credentials: String? = nil) -> String {
        "http://" + (credentials.map { $0 + "@" } ?? "") + "127.0.0.1:\(port)"
    }

    /// Stops listening and ends the tunnels.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for socket in lock.withLock({ open }) { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            lock.withLock { _ = open.insert(client) }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer {
            lock.withLock { _ = open.remove(client) }
            close(client)
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var end: Int?
        while end == nil {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { return }
            received += buffer[0..<count]
            end = Self.find([13, 10, 13, 10], in: received)
            if received.count > 65536 { return }
        }
        let head = String(decoding: received[0..<end!], as: UTF8.self).components(separatedBy: "\r\n")
        let rest = Array(received[(end! + 4)...])
        let requestLine = head[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard requestLine.count == 3, requestLine[0] == "CONNECT" else {
            write(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        let target = String(requestLine[1])
        lock.withLock { recorded.append(Tunnel(target: target, headers: headers)) }
        if let credentials, headers["proxy-authorization"] != "Basic " + Data(credentials.utf8).base64EncodedString() {
            write(client, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        guard let colon = target.lastIndex(of: ":"), let targetPort = UInt16(target[target.index(after: colon)...]) else {
            write(client, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(upstream) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = targetPort.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            write(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        lock.withLock { _ = open.insert(upstream) }
        defer { lock.withLock { _ = open.remove(upstream) } }
        write(client, "HTTP/1.1 200 Connection established\r\n\r\n")
        if !rest.isEmpty { _ = rest.withUnsafeBytes { Glibc.write(upstream, $0.baseAddress, rest.count) } }
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            Self.pump(from: upstream, to: client)
            done.signal()
        }
        Self.pump(from: client, to: upstream)
        done.wait()
    }

    /// Copies until `from` ends, then ends `to`'s writing side.
    private static func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(from, &buffer, buffer.count)
            guard count > 0 else { break }
            var sent = 0
            while sent < count {
                let written = buffer[sent..<count].withUnsafeBytes { Glibc.write(to, $0.baseAddress, count - sent) }
                guard written > 0 else { return }
                sent += written
            }
        }
        shutdown(to, Int32(SHUT_WR))
    }

    private func write(_ socket: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(socket, $0.baseAddress, bytes.count) }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

/// A certificate authority and a server certificate it signed, made with `openssl` in a
/// temporary folder: for TLS tests that trust a company's own CA.
public struct TestCertificates: Sendable {
    public let folder: String
    /// The CA's certificate (PEM): what a client is told to trust.
    public var caFile: String { folder + "/ca.pem" }
    /// The server's certificate (PEM), for `names`, and its key.
    public var serverCertificate: String { folder + "/server.pem" }
    public var serverKey: String { folder + "/server.key" }

    /// Makes a CA and a server certificate for `names` (DNS names only: NIOSSL also accepts a
    /// certificate whose IP address names the peer, which would match any name on 127.0.0.1).
    public init(names: [String]) throws {
        folder = NSTemporaryDirectory() + "livechat-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let alternative = names.map { "DNS:\($0)" }.joined(separator: ",")
        try "subjectAltName=\(alternative)\nbasicConstraints=CA:FALSE\n".write(
            toFile: folder + "/server.ext", atomically: true, encoding: .utf8)
        try Self.openssl(in: folder, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                      "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=livechat-lua test CA", "-days", "2"])
        try Self.openssl(in: folder, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                      "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=\(names.first ?? "127.0.0.1")"])
        try Self.openssl(in: folder, ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                                      "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"])
    }

    private static func openssl(in folder: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "openssl", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")) failed"])
        }
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}
