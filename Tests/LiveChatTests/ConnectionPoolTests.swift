import Foundation
import XCTest

@testable import LiveChat

/// Calls made at once go out at once, each on a connection of its own, up to `maxConnections`.
final class ConnectionPoolTests: ClientTestCase {
    /// Sends `calls` reads at once to a server that holds each answer for a while (so that they
    /// overlap); returns how many distinct connections carried them.
    private func connectionsUsed(calls: Int, maxConnections: Int?) async throws -> Int {
        let server = try await startServer(always: .json(200, DocsSamples.ticket, delay: .milliseconds(400)))
        var configuration = LiveChatConfiguration(
            apiURL: server.baseURL, login: Self.login, apiKey: Self.apiKey, requestTimeout: .seconds(10),
            retryPolicy: Self.fastRetries)
        if let maxConnections { configuration.maxConnections = maxConnections }
        let client = LiveChatClient(configuration: configuration)
        addTeardownBlock { try await client.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<calls {
                group.addTask { _ = try await client.ticket(id: "ABCDE") }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(server.requests.count, calls)
        return Set(server.requests.map(\.connection)).count
    }

    func testTwentyFourCallsAtOnceUseTwentyFourConnectionsByDefault() async throws {
        let used = try await connectionsUsed(calls: 24, maxConnections: nil)
        XCTAssertEqual(used, 24, "each call had a connection of its own, none waited in the client")
    }

    func testConnectionsAreCappedAtMaxConnections() async throws {
        let used = try await connectionsUsed(calls: 12, maxConnections: 3)
        XCTAssertEqual(used, 3)
    }

    func testAnAnswerWithConnectionCloseIsNotFollowedOnThatConnection() async throws {
        let server = try await startServer { _, index in
            index == 0 ? .json(200, DocsSamples.ticket, headers: [("Connection", "close")]) : .json(200, DocsSamples.ticket)
        }
        let client = makeClient(server)
        _ = try await client.ticket(id: "ABCDE")
        _ = try await client.ticket(id: "ABCDE")
        _ = try await client.ticket(id: "ABCDE")
        let connections = server.requests.map(\.clientPort)
        XCTAssertEqual(connections.count, 3)
        XCTAssertNotEqual(connections[0], connections[1], "the server said it would close the first")
        XCTAssertEqual(connections[1], connections[2], "the second was kept alive")
    }

    func testHTTPSToAServerThatDoesNotSpeakTLSFailsAsATLSErrorWithoutRetrying() async throws {
        let server = try await startServer(always: .json(200, DocsSamples.ticket))
        let client = makeClient(url: "https://127.0.0.1:\(server.port)")
        let error = await expectError { try await client.ticket(id: "ABCDE") }
        XCTAssertEqual(error?.kind, .network)
        XCTAssertEqual(error?.message, "the server at 127.0.0.1:\(server.port) does not speak TLS: use http:// for it, or the port where it speaks https")
        XCTAssertEqual(error?.attempts, 1, "a certificate or protocol failure is not retried")
        XCTAssertEqual(server.requests.count, 0)
    }

    func testAnAnswerNestedDeeperThanFoundationCanWordIsAProtocolError() async throws {
        // 513 opening brackets: Foundation's parser traps while it words this error.
        for body in [String(repeating: "[", count: 513), String(repeating: "{\"a\":", count: 513)] {
            let server = try await startServer(always: .json(200, body))
            let client = makeClient(url: "http://127.0.0.1:\(server.port)")
            let error = await expectError { try await client.ticket(id: "ABCDE") }
            XCTAssertEqual(error?.kind, .protocol)
            XCTAssertTrue(error?.message.contains("nested more than 500 levels deep") == true, "\(String(describing: error))")
            let failed = try await startServer(always: .json(500, body))
            let serverError = await expectError { try await makeClient(url: "http://127.0.0.1:\(failed.port)").ticket(id: "ABCDE") }
            XCTAssertEqual(serverError?.kind, .server)
        }
    }

    func testHTTPSToAPortWhereNothingListensFailsInWordsWithoutCrashing() async throws {
        // The TLS handler is set up before the connection is refused: its wait must still end.
        let client = makeClient(url: "https://127.0.0.1:1")
        let error = await expectError { try await client.ticket(id: "ABCDE") }
        XCTAssertEqual(error?.kind, .network)
        XCTAssertEqual(error?.message, "could not connect to 127.0.0.1:1: connection refused")
    }

    func testAHostWithNoAddressIsSaidInWords() async throws {
        // `.invalid` never resolves (RFC 6761): the lookup fails here, with no traffic anywhere.
        let client = makeClient(url: "https://no-such-host.invalid")
        let error = await expectError { try await client.ticket(id: "ABCDE") }
        XCTAssertEqual(error?.kind, .network)
        XCTAssertTrue(error?.message.hasPrefix("could not connect to no-such-host.invalid: no address found for the name") == true,
                      "\(String(describing: error))")
        XCTAssertFalse(error?.message.contains("SocketAddressError") == true)
    }
}
