import Foundation
import Logging
import XCTest

@testable import LiveChat

/// Starts scripted servers and clients for a test, and stops them all when it ends.
class ClientTestCase: XCTestCase {
    static let login = "agent@example.com"
    static let apiKey = "test-key-1234"

    /// Retries fast enough for tests: three attempts, backoff up to 100 ms.
    static let fastRetries = RetryPolicy(
        maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(100),
        maxTotalTime: .seconds(5), maxRetryAfter: .seconds(2))

    /// A server that answers every request by `script`.
    func startServer(port: Int = 0, _ script: @escaping TestServer.Script) async throws -> TestServer {
        let server = try await TestServer(port: port, script: script)
        addTeardownBlock { try await server.stop() }
        return server
    }

    /// A server that answers every request the same way.
    func startServer(always reply: ScriptedReply) async throws -> TestServer {
        try await startServer { _, _ in reply }
    }

    func makeClient(
        url: String, apiKey: String = ClientTestCase.apiKey, requestTimeout: Duration = .seconds(1),
        retryPolicy: RetryPolicy = ClientTestCase.fastRetries, maxResponseBytes: Int = 8 * 1024 * 1024,
        allowInsecureHTTP: Bool = false, logger: Logger? = nil,
        onAttempt: (@Sendable (LiveChatAttempt) -> Void)? = nil
    ) -> LiveChatClient {
        let configuration = LiveChatConfiguration(
            apiURL: url, login: Self.login, apiKey: apiKey, allowInsecureHTTP: allowInsecureHTTP,
            connectTimeout: .milliseconds(500), requestTimeout: requestTimeout, retryPolicy: retryPolicy,
            maxResponseBytes: maxResponseBytes)
        let client = LiveChatClient(configuration: configuration, logger: logger, onAttempt: onAttempt)
        addTeardownBlock { try await client.shutdown() }
        return client
    }

    func makeClient(_ server: TestServer, requestTimeout: Duration = .seconds(1), retryPolicy: RetryPolicy = ClientTestCase.fastRetries) -> LiveChatClient {
        makeClient(url: server.baseURL, requestTimeout: requestTimeout, retryPolicy: retryPolicy)
    }

    /// Runs `body`, which must throw a `LiveChatError`, and returns that error.
    func expectError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> LiveChatError? {
        do {
            let value = try await body()
            XCTFail("expected a LiveChatError, got \(value)", file: file, line: line)
        } catch let error as LiveChatError {
            return error
        } catch {
            XCTFail("expected a LiveChatError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }

    /// The docs' single ticket, as the server's answer.
    static var ticketReply: ScriptedReply { .json(200, DocsSamples.ticket) }
}

/// Thread-safe storage for values a test collects from callbacks.
final class Collected<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element] = []

    func append(_ element: Element) {
        lock.lock()
        storage.append(element)
        lock.unlock()
    }

    var all: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
