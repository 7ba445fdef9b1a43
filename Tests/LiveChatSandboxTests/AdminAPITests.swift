import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest
@testable import LiveChatSandbox

/// The routes through HummingbirdTesting's router framework (no socket): the admin API under
/// `/__sandbox/`, and how unknown routes and methods are answered.
final class AdminAPITests: XCTestCase {
    static let authorization = "Basic " + Data("\(SandboxConfiguration.demoLogin):\(SandboxConfiguration.demoAPIKey)".utf8).base64EncodedString()

    /// A sandbox service over an in-memory store, seeded with `seedTickets`.
    private func application(seedTickets: Int = 3) async throws -> (some ApplicationProtocol, SandboxService) {
        var configuration = SandboxConfiguration()
        configuration.seedTickets = seedTickets
        configuration.seedAnchor = Date(timeIntervalSince1970: 1_760_000_000)
        let store = try TicketStore(path: nil)
        let service = SandboxService(configuration: configuration, store: store, agents: AgentDirectory())
        try await service.seed()
        return (Application(router: service.router()), service)
    }

    private func headers(json: Bool = false, authorized: Bool = true) -> HTTPFields {
        var fields = HTTPFields()
        if authorized { fields[.authorization] = Self.authorization }
        if json { fields[.contentType] = "application/json" }
        return fields
    }

    private func object(_ response: TestResponse) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any],
                      String(buffer: response.body))
    }

    func testTheJournalRecordsWhatAScriptSentWithTheKeyRedacted() async throws {
        let (app, _) = try await application()
        try await app.test(.router) { client in
            let body = #"{"message": "Parcel missing", "requester": {"mail": "mary@example.com"}, "apiKey": "sandbox-demo-key"}"#
            try await client.execute(uri: "/v2/tickets", method: .post, headers: headers(json: true), body: ByteBuffer(string: body)) {
                XCTAssertEqual($0.status, .ok)
            }
            try await client.execute(uri: "/v2/tickets?status=open&page=1", method: .get, headers: headers()) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/v2/tickets/ZZZZZ", method: .get, headers: headers()) { XCTAssertEqual($0.status, .notFound) }
            try await client.execute(uri: "/v2/tickets", method: .post, headers: headers(authorized: false)) { XCTAssertEqual($0.status, .unauthorized) }

            try await client.execute(uri: "/__sandbox/requests", method: .get, headers: headers()) { response in
                XCTAssertEqual(response.status, .ok)
                let journal = try self.object(response)
                XCTAssertEqual(journal["count"] as? Int, 4)
                let requests = try XCTUnwrap(journal["requests"] as? [[String: Any]])
                XCTAssertEqual(requests.map { $0["method"] as? String }, ["POST", "GET", "GET", "POST"])
                XCTAssertEqual(requests.map { $0["status"] as? Int }, [200, 200, 404, 401])
                XCTAssertEqual(requests[1]["query"] as? [String: [String]], ["status": ["open"], "page": ["1"]])
                XCTAssertNotNil(requests[0]["time"] as? String)
                let sent = try XCTUnwrap(requests[0]["body"] as? [String: Any])
                XCTAssertEqual(sent["message"] as? String, "Parcel missing")
                XCTAssertEqual((sent["requester"] as? [String: Any])?["mail"] as? String, "mary@example.com")
                XCTAssertEqual(sent["apiKey"] as? String, "<redacted>")
                let text = String(buffer: response.body)
                XCTAssertFalse(text.contains("sandbox-demo-key"), text)
                XCTAssertFalse(text.contains(Self.authorization.dropFirst(6)), "no Authorization header is kept")
            }
            try await client.execute(uri: "/__sandbox/requests?method=get&path=/v2/tickets/*", method: .get, headers: headers()) { response in
                let journal = try self.object(response)
                XCTAssertEqual(journal["count"] as? Int, 1, "filtered by method and path prefix")
                XCTAssertEqual((journal["requests"] as? [[String: Any]])?.first?["path"] as? String, "/v2/tickets/ZZZZZ")
            }
            try await client.execute(uri: "/__sandbox/requests", method: .delete, headers: headers()) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/__sandbox/requests", method: .get, headers: headers()) {
                XCTAssertEqual(try self.object($0)["count"] as? Int, 0)
            }
        }
    }

    func testAFormBodyIsJournalledAsItsFields() async throws {
        let (app, _) = try await application()
        try await app.test(.router) { client in
            var form = headers()
            form[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/tickets", method: .post, headers: form,
                                     body: ByteBuffer(string: "message=Hi&requester[mail]=m%40example.com&group[]=0&group[]=2&api_key=sandbox-demo-key")) {
                XCTAssertEqual($0.status, .ok)
            }
            try await client.execute(uri: "/__sandbox/requests", method: .get, headers: headers()) { response in
                let body = try XCTUnwrap((try self.object(response)["requests"] as? [[String: Any]])?.first?["body"] as? [String: Any])
                XCTAssertEqual(body["message"] as? String, "Hi")
                XCTAssertEqual(body["requester.mail"] as? String, "m@example.com")
                XCTAssertEqual(body["group"] as? [String], ["0", "2"])
                XCTAssertEqual(body["api_key"] as? String, "<redacted>")
            }
        }
    }

    func testResetAndRestoreBringBackTheExpectedTickets() async throws {
        let (app, service) = try await application(seedTickets: 3)
        let seededIDs = try await service.store.allTickets().map(\.id)
        try await app.test(.router) { client in
            try await client.execute(uri: "/__sandbox/snapshot?name=before", method: .post, headers: headers()) { response in
                XCTAssertEqual(try self.object(response)["tickets"] as? Int, 3)
            }
            var created = ""
            try await client.execute(uri: "/tickets", method: .post, headers: headers(json: true),
                                     body: ByteBuffer(string: #"{"message": "Hi", "requester": {"mail": "m@example.com"}}"#)) { response in
                created = try self.object(response)["id"] as? String ?? ""
            }
            let afterCreate = try await service.store.count()
            XCTAssertEqual(afterCreate, 4)

            try await client.execute(uri: "/__sandbox/restore/before", method: .post, headers: headers()) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(try self.object(response)["tickets"] as? Int, 3)
            }
            let restored = try await service.store.allTickets().map(\.id)
            XCTAssertEqual(restored, seededIDs)
            try await client.execute(uri: "/tickets/\(created)", method: .get, headers: headers()) {
                XCTAssertEqual($0.status, .notFound, "the ticket made after the snapshot is gone")
            }
            try await client.execute(uri: "/__sandbox/restore/nothing", method: .post, headers: headers()) { response in
                XCTAssertEqual(response.status, .notFound)
                XCTAssertEqual(try self.object(response)["error"] as? String, "no snapshot named 'nothing'")
            }

            try await client.execute(uri: "/__sandbox/reset", method: .post, headers: headers()) { response in
                XCTAssertEqual(try self.object(response)["tickets"] as? Int, 0)
            }
            try await client.execute(uri: "/tickets", method: .get, headers: headers()) {
                XCTAssertEqual(try self.object($0)["total"] as? Int, 0)
            }
            try await client.execute(uri: "/__sandbox/reset?seeded=1", method: .post, headers: headers()) { response in
                XCTAssertEqual(try self.object(response)["tickets"] as? Int, 3)
            }
            let reseeded = try await service.store.allTickets().map(\.id)
            XCTAssertEqual(reseeded, seededIDs, "the seeded state, the same tickets")
        }
    }

    func testChangedFaultsTakeEffectOnTheNextRequest() async throws {
        let (app, _) = try await application()
        try await app.test(.router) { client in
            try await client.execute(uri: "/__sandbox/faults", method: .get, headers: headers()) { response in
                let faults = try self.object(response)
                XCTAssertEqual(faults["failRate"] as? Double, 0)
                XCTAssertTrue(faults["rateLimit"] is NSNull)
            }
            try await client.execute(uri: "/__sandbox/faults", method: .put, headers: headers(json: true),
                                     body: ByteBuffer(string: #"{"failRate": 1, "failStatus": 503}"#)) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/v2/tickets", method: .get, headers: headers()) { response in
                XCTAssertEqual(response.status, .serviceUnavailable)
                XCTAssertEqual(try self.object(response)["error"] as? String, "injected failure: 503 Service Unavailable")
            }
            try await client.execute(uri: "/__sandbox/faults", method: .get, headers: headers()) { response in
                XCTAssertEqual(try self.object(response)["failRate"] as? Double, 1, "the admin API is not subject to the faults")
            }
            try await client.execute(uri: "/__sandbox/faults", method: .put, headers: headers(json: true), body: ByteBuffer(string: "{}")) {
                XCTAssertEqual($0.status, .ok)
            }
            try await client.execute(uri: "/v2/tickets", method: .get, headers: headers()) { XCTAssertEqual($0.status, .ok) }

            for (body, message) in [
                (#"{"failRate": 2}"#, "failure rate must be between 0 and 1"),
                (#"{"failrate": 1}"#, "unknown fault setting 'failrate'; known: failRate, failStatus, latencyMs, dropRate, lostAnswerRate, rateLimit"),
                (#"{"latencyMs": "slow"}"#, "'latencyMs' must be a number"),
                ("[1]", #"the body must be a JSON object such as {"failRate": 0.5, "failStatus": 503}"#),
            ] {
                try await client.execute(uri: "/__sandbox/faults", method: .put, headers: headers(json: true), body: ByteBuffer(string: body)) { response in
                    XCTAssertEqual(response.status, .badRequest, body)
                    XCTAssertEqual(try self.object(response)["error"] as? String, message)
                }
            }
        }
    }

    func testAnOversizedFaultsBodyIsRefusedAsTooLarge() async throws {
        let (app, _) = try await application()
        try await app.test(.router) { client in
            let body = ByteBuffer(string: "{\"failRate\": 0" + String(repeating: " ", count: 70_000) + "}")
            try await client.execute(uri: "/__sandbox/faults", method: .put, headers: headers(json: true), body: body) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
                XCTAssertEqual(try self.object(response)["error"] as? String, "request body exceeds the limit of 65536 bytes")
            }
        }
    }

    func testTheAdminAPIAsksForTheSameCredentials() async throws {
        let (app, _) = try await application()
        try await app.test(.router) { client in
            for (uri, method) in [("/__sandbox/requests", HTTPRequest.Method.get), ("/__sandbox/reset", .post), ("/__sandbox/faults", .put)] {
                try await client.execute(uri: uri, method: method, headers: headers(authorized: false)) { response in
                    XCTAssertEqual(response.status, .unauthorized, uri)
                }
            }
        }
    }

    func testUnknownRoutesAndMethodsAreAnsweredAsTheAPIWouldAndHeadWorks() async throws {
        let (app, _) = try await application()
        try await app.test(.router) { client in
            try await client.execute(uri: "/v2/nothing", method: .get, headers: headers()) { response in
                XCTAssertEqual(response.status, .notFound)
                XCTAssertEqual(try self.object(response)["error"] as? String, "not found: GET /v2/nothing")
            }
            try await client.execute(uri: "/v2/tickets/5FUED", method: .delete, headers: headers()) { response in
                XCTAssertEqual(response.status, .methodNotAllowed)
                XCTAssertEqual(response.headers[.allow], "GET")
            }
            try await client.execute(uri: "/tickets", method: .patch, headers: headers()) { response in
                XCTAssertEqual(response.headers[.allow], "GET, POST")
            }
            try await client.execute(uri: "/v2/tickets/5FUED", method: .head, headers: headers()) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.body.readableBytes, 0)
            }
        }
    }
}
