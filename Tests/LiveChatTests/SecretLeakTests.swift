import Foundation
import Logging
import XCTest

@testable import LiveChat

/// The API key must not appear in any error, log line or description, whatever goes wrong.
final class SecretLeakTests: ClientTestCase {
    private static let secretKey = "sk-LEAK-7f3a9c5e"

    /// Keeps every log line, with its metadata, at every level.
    private struct CapturingLogHandler: LogHandler {
        let lines: Collected<String>
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lines.append("\(event.level) \(event.message) \(event.metadata ?? [:]) \(metadata) \(event.error.map { "\($0)" } ?? "")")
        }
    }

    func testAPIKeyNeverAppearsInErrorsLogsOrDescriptions() async throws {
        let key = Self.secretKey
        let credentials = Data("\(Self.login):\(key)".utf8).base64EncodedString()
        // Each path answers the way one kind of failure needs; the 401 echoes the credentials back,
        // as a careless proxy might.
        let server = try await startServer { request, _ in
            switch request.path {
            case "/tickets/AUTH": return .json(401, #"{"error": "bad key \#(key), header Basic \#(credentials)"}"#)
            case "/tickets/HTML": return .raw(401, Array("<html>\(key)</html>".utf8), contentType: "text/html")
            case "/tickets/VALID": return .json(400, #"{"error": ["key \#(key) is not allowed here"]}"#)
            case "/tickets/GONE": return .json(404, #"{"error": "ticket not found"}"#)
            case "/tickets/LIMIT": return .json(429, #"{"error": "slow down"}"#)
            case "/tickets/FAIL": return .json(500, #"{"errors": ["\#(key)"]}"#)
            case "/tickets/SLOW": return .json(200, DocsSamples.ticket, delay: .seconds(2))
            case "/tickets/BAD": return .json(200, #"{"id": "\#(key)"#)
            case "/tickets/CLOSE": return .close
            default: return Self.ticketReply
            }
        }
        let lines = Collected<String>()
        let logger = Logger(label: "leak-test") { _ in CapturingLogHandler(lines: lines) }
        let client = makeClient(url: server.baseURL, apiKey: key, requestTimeout: .milliseconds(300),
                                retryPolicy: .never, logger: logger)

        var errors: [LiveChatError] = []
        for id in ["AUTH", "HTML", "VALID", "GONE", "LIMIT", "FAIL", "SLOW", "BAD", "CLOSE"] {
            if let error = await expectError({ try await client.ticket(id: id) }) { errors.append(error) }
        }
        let port = try await TestServer.unusedPort()
        let refused = makeClient(url: "http://127.0.0.1:\(port)", apiKey: key, retryPolicy: .never, logger: logger)
        if let error = await expectError({ try await refused.ticket(id: "5FUED") }) { errors.append(error) }
        let insecure = makeClient(url: "http://example.com", apiKey: key, logger: logger)
        if let error = await expectError({ try await insecure.ticket(id: "5FUED") }) { errors.append(error) }
        let slow = Task { try await client.ticket(id: "SLOW") }
        try await Task.sleep(for: .milliseconds(50))
        slow.cancel()
        if let error = await expectError({ try await slow.value }) { errors.append(error) }

        XCTAssertEqual(Set(errors.map(\.kind)), Set(LiveChatError.Kind.allCases))

        var texts: [String] = lines.all
        XCTAssertFalse(texts.isEmpty, "the client logged nothing at trace level")
        for error in errors {
            texts += [error.description, error.message, String(reflecting: error), error.localizedDescription]
            texts += error.messages
            var dumped = ""
            dump(error, to: &dumped)
            texts.append(dumped)
        }
        for value in [client.configuration as Any, client as Any] {
            var dumped = ""
            dump(value, to: &dumped)
            texts += [String(describing: value), String(reflecting: value), dumped]
        }
        for text in texts {
            XCTAssertFalse(text.contains(key), "the key leaked into: \(text)")
            XCTAssertFalse(text.contains(credentials), "the credentials leaked into: \(text)")
        }
        // The echoed messages are still there, with the secret cut out.
        XCTAssertTrue(errors[0].message.contains("bad key <redacted>"), errors[0].message)
    }
}
