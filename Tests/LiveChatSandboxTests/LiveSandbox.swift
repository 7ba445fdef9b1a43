import Foundation
import XCTest
@testable import LiveChatSandbox

/// A real sandbox server on 127.0.0.1 and an ephemeral port, for one test.
struct LiveSandbox {
    let server: SandboxServer
    let url: URL
    var port: Int { url.port! }

    /// The demo account's Basic credentials, base64-encoded as RFC 7617 says.
    static let demoAuthorization = "Basic " + Data("\(SandboxConfiguration.demoLogin):\(SandboxConfiguration.demoAPIKey)".utf8).base64EncodedString()

    /// A fixed anchor for seeded dates, so seeded data does not depend on the day the test runs.
    static let anchor = Date(timeIntervalSince1970: 1_760_000_000)  // 2025-10-09

    static func start(_ configure: (inout SandboxConfiguration) -> Void = { _ in }) async throws -> LiveSandbox {
        var configuration = SandboxConfiguration()
        configuration.seedAnchor = anchor
        configure(&configuration)
        let server = SandboxServer(configuration: configuration)
        let url = try await server.start()
        return LiveSandbox(server: server, url: url)
    }

    func stop() async { await server.stop() }

    /// Sends exactly this request over its own connection, with the demo credentials unless
    /// `authorization` says otherwise (nil: none).
    func send(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: String? = nil,
        contentType: String? = nil, authorization: String? = LiveSandbox.demoAuthorization
    ) async throws -> RawResponse {
        var all = headers
        if let authorization { all.append(("Authorization", authorization)) }
        if let contentType { all.append(("Content-Type", contentType)) }
        let port = self.port
        let payload = body.map { Data($0.utf8) }
        let headersToSend = all
        return try await Self.offThread {
            try RawHTTP.exchange(port: port, method: method, target: target, headers: headersToSend, body: payload)
        }
    }

    /// POSTs a form body and returns the answer.
    func createForm(_ body: String, contentType: String = "application/x-www-form-urlencoded") async throws -> RawResponse {
        try await send("POST", "/tickets", body: body, contentType: contentType)
    }

    /// POSTs a JSON body and returns the answer.
    func createJSON(_ body: String) async throws -> RawResponse {
        try await send("POST", "/tickets", body: body, contentType: "application/json")
    }

    /// Creates a ticket that must succeed and returns it.
    @discardableResult
    func createTicket(_ json: String = #"{"message": "Hello", "requester": {"mail": "mary@example.com", "name": "Mary"}}"#,
                      file: StaticString = #filePath, line: UInt = #line) async throws -> [String: Any] {
        let response = try await createJSON(json)
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        return response.object
    }

    /// Every ticket a list query matches, following the pages.
    func listAll(_ query: String = "") async throws -> (total: Int, ids: [String]) {
        var ids: [String] = []
        var page = 1
        var total = 0
        while true {
            let separator = query.isEmpty ? "" : "&"
            let response = try await send("GET", "/tickets?\(query)\(separator)page=\(page)")
            guard response.status == 200 else { throw RawHTTP.Failure(description: "list \(query): \(response.status) \(response.text)") }
            total = response.object["total"] as? Int ?? -1
            let tickets = response.object["tickets"] as? [[String: Any]] ?? []
            if tickets.isEmpty { break }
            ids += tickets.compactMap { $0["id"] as? String }
            page += 1
        }
        return (total, ids)
    }

    /// Runs blocking socket work on a plain thread, never on Swift's cooperative pool (which the
    /// server itself needs).
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String? { self[key] as? String }
    func dictionary(_ key: String) -> [String: Any]? { self[key] as? [String: Any] }
    func strings(_ key: String) -> [String]? { self[key] as? [String] }
    func ints(_ key: String) -> [Int]? { self[key] as? [Int] }
}
