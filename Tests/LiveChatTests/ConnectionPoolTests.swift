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

}
