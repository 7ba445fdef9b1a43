import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemConnect = Glibc.connect
#else
private let systemConnect = Darwin.connect
#endif

/// An HTTP/1.1 answer as it came off the wire.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: Data
    /// The `100 Continue` interim answer, when one came first.
    var sawContinue: Bool

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The body parsed as JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A deliberately plain HTTP client over a blocking loopback socket: it sends exactly the bytes
/// it is given (raw brackets, odd header case, leading spaces), which a real client library would
/// normalise away.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens a connection to 127.0.0.1:`port`.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { systemConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw Failure(description: "connect failed") }
        return fd
    }

    static func write(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw Failure(description: "send failed") }
                offset += sent
            }
        }
    }

    /// Reads until the peer closes the connection (or `until` is satisfied).
    static func read(_ fd: Int32, until done: (Data) -> Bool = { _ in false }) -> Data {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !done(data) {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        return data
    }

    /// Sends one request (`Connection: close` added) and returns the parsed answer.
    static func exchange(
        port: Int, method: String, target: String, headers: [(String, String)] = [], body: Data? = nil
    ) throws -> RawResponse {
        let fd = try connect(port: port)
        defer { close(fd) }
        try write(fd, head(method: method, target: target, headers: headers, bodyLength: body?.count))
        if let body { try write(fd, body) }
        return try parse(read(fd))
    }

    /// The request head's bytes.
    static func head(method: String, target: String, headers: [(String, String)], bodyLength: Int?) -> Data {
        var text = "\(method) \(target) HTTP/1.1\r\n"
        var all = headers
        if !all.contains(where: { $0.0.lowercased() == "host" }) { all.insert(("Host", "127.0.0.1"), at: 0) }
        if let bodyLength, !all.contains(where: { $0.0.lowercased() == "content-length" || $0.0.lowercased() == "transfer-encoding" }) {
            all.append(("Content-Length", String(bodyLength)))
        }
        all.append(("Connection", "close"))
        for (name, value) in all { text += "\(name): \(value)\r\n" }
        return Data((text + "\r\n").utf8)
    }

    /// Parses everything the server sent on a `Connection: close` exchange.
    static func parse(_ data: Data) throws -> RawResponse {
        var rest = data
        var sawContinue = false
        while true {
            guard let end = rest.range(of: Data("\r\n\r\n".utf8)) else {
                throw Failure(description: "no complete answer (\(data.count) bytes)")
            }
            let headText = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            let lines = headText.components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ")
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
                throw Failure(description: "bad status line: \(lines[0])")
            }
            rest = rest[end.upperBound...]
            if status == 100 {
                sawContinue = true
                continue
            }
            var headers: [(String, String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            var response = RawResponse(status: status, headers: headers, body: Data(rest), sawContinue: sawContinue)
            if let length = response.header("Content-Length").flatMap(Int.init) {
                response.body = Data(rest.prefix(length))
            }
            return response
        }
    }
}
