import XCTest
@testable import LiveChatSandbox

/// HTTP-level behaviour: authentication, the version header, headers in any case, Host, JSON for
/// every answer, 404/405, /health, the body limit, Expect: 100-continue.
final class ProtocolTests: XCTestCase {
    var sandbox: LiveSandbox!

    override func setUp() async throws {
        sandbox = try await LiveSandbox.start { $0.seedTickets = 2; $0.bodyLimit = 4_096; $0.bearerToken = "sandbox-bearer" }
    }
    override func tearDown() async throws { await sandbox.stop() }

    private func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    func testMissingCredentialsAre401JSON() async throws {
        let response = try await sandbox.send("GET", "/tickets", authorization: nil)
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertNotNil(response.object.string("error"))
    }

    func testWrongKeyOrLoginIs401AndNothingIsCreated() async throws {
        for authorization in [basic(SandboxConfiguration.demoLogin, "wrong"), basic("other@example.com", SandboxConfiguration.demoAPIKey),
                              "Basic !!!notbase64", "Digest abc", "Bearer wrong-token"] {
            let response = try await sandbox.send("POST", "/tickets", body: "message=Hi&requester[mail]=m@example.com",
                                                  authorization: authorization)
            XCTAssertEqual(response.status, 401, authorization)
            XCTAssertFalse(response.text.contains("wrong"), "the answer never echoes credentials")
        }
        let count = try await sandbox.server.ticketCount
        XCTAssertEqual(count, 2)
    }

    func testBasicCredentialsAreAcceptedEncodedUnencodedAndWithLoginInAnyCase() async throws {
        for authorization in [basic(SandboxConfiguration.demoLogin, SandboxConfiguration.demoAPIKey),
                              "Basic \(SandboxConfiguration.demoLogin):\(SandboxConfiguration.demoAPIKey)",
                              "basic " + Data("AGENT@Sandbox.LiveChat.Local:sandbox-demo-key".utf8).base64EncodedString()] {
            let response = try await sandbox.send("GET", "/tickets/5FUED", authorization: authorization)
            XCTAssertEqual(response.status, 200, authorization)
        }
    }

    func testConfiguredBearerTokenIsAccepted() async throws {
        let response = try await sandbox.send("GET", "/tickets/5FUED", authorization: "Bearer sandbox-bearer")
        XCTAssertEqual(response.status, 200)
    }

    func testConfiguredLoginAndKeyReplaceTheDemoAccount() async throws {
        let custom = try await LiveSandbox.start { $0.login = "ops@example.com"; $0.apiKey = "k-123" }
        let accepted = try await custom.send("GET", "/tickets", authorization: basic("ops@example.com", "k-123"))
        let demo = try await custom.send("GET", "/tickets")
        await custom.stop()
        XCTAssertEqual(accepted.status, 200)
        XCTAssertEqual(demo.status, 401)
    }

    func testHeaderNamesAreCaseInsensitive() async throws {
        for name in ["X-API-Version", "x-api-version", "X-Api-Version"] {
            let response = try await sandbox.send("GET", "/tickets/5FUED", headers: [(name, "2")],
                                                  authorization: nil)
            XCTAssertEqual(response.status, 401, "still needs credentials")
            let bad = try await sandbox.send("GET", "/tickets/5FUED", headers: [(name, "3")])
            XCTAssertEqual(bad.status, 400, name)
        }
        let lower = try await sandbox.send("GET", "/tickets/5FUED", headers: [("authorization", LiveSandbox.demoAuthorization)], authorization: nil)
        XCTAssertEqual(lower.status, 200)
        let upper = try await sandbox.send("GET", "/tickets/5FUED", headers: [("AUTHORIZATION", LiveSandbox.demoAuthorization)], authorization: nil)
        XCTAssertEqual(upper.status, 200)
    }

    func testVersionHeaderMissingOr2IsServedOtherwise400() async throws {
        let missing = try await sandbox.send("GET", "/tickets/5FUED")
        XCTAssertEqual(missing.status, 200)
        let two = try await sandbox.send("GET", "/tickets/5FUED", headers: [("X-API-Version", "2")])
        XCTAssertEqual(two.status, 200)
        let three = try await sandbox.send("GET", "/tickets/5FUED", headers: [("X-API-Version", "3")])
        XCTAssertEqual(three.status, 400)
        XCTAssertEqual(three.object.string("error"), "unsupported API version: 3")
    }

    func testAnyHostHeaderIsAccepted() async throws {
        let response = try await sandbox.send("GET", "/tickets/5FUED", headers: [("Host", "api.livechatinc.com")])
        XCTAssertEqual(response.status, 200)
    }

    func testJSONContentTypeOnGetWithoutBodyIsFine() async throws {
        let response = try await sandbox.send("GET", "/tickets", contentType: "application/json")
        XCTAssertEqual(response.status, 200)
    }

    func testUnknownPathIs404JSONAndWrongMethodIs405JSON() async throws {
        let unknown = try await sandbox.send("GET", "/agents")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertNotNil(unknown.object.string("error"))
        let deep = try await sandbox.send("GET", "/tickets/5FUED/events")
        XCTAssertEqual(deep.status, 404)
        let delete = try await sandbox.send("DELETE", "/tickets/5FUED")
        XCTAssertEqual(delete.status, 405)
        XCTAssertEqual(delete.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(delete.header("Allow"), "GET")
    }

    func testHealthIsConstantAndNeedsNoCredentials() async throws {
        let first = try await sandbox.send("GET", "/health", authorization: nil)
        let second = try await sandbox.send("GET", "/health", headers: [("X-API-Version", "9")])
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertEqual(first.object as NSDictionary, ["status": "ok"])
        XCTAssertEqual(second.body, first.body)
    }

    func testBodyOverTheLimitIs413JSON() async throws {
        let big = "message=" + String(repeating: "x", count: 5_000) + "&requester[mail]=m@example.com"
        let declared = try await sandbox.createForm(big)
        XCTAssertEqual(declared.status, 413)
        XCTAssertEqual(declared.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertNotNil(declared.object.string("error"))
        // Chunked, so the size is only known while reading.
        let port = sandbox.port
        let chunked = try await LiveSandbox.offThread {
            let fd = try RawHTTP.connect(port: port)
            defer { close(fd) }
            try RawHTTP.write(fd, RawHTTP.head(method: "POST", target: "/tickets", headers: [
                ("Authorization", LiveSandbox.demoAuthorization), ("Content-Type", "application/x-www-form-urlencoded"),
                ("Transfer-Encoding", "chunked"),
            ], bodyLength: nil))
            let chunk = "3e8\r\n" + String(repeating: "y", count: 1_000) + "\r\n"
            try RawHTTP.write(fd, Data((String(repeating: chunk, count: 5) + "0\r\n\r\n").utf8))
            return try RawHTTP.parse(RawHTTP.read(fd))
        }
        XCTAssertEqual(chunked.status, 413)
        let count = try await sandbox.server.ticketCount
        XCTAssertEqual(count, 2)
    }

    func testExpect100ContinueIsAnsweredBeforeTheBodyIsSent() async throws {
        let port = sandbox.port
        let body = Data("message=Hi&requester[mail]=m@example.com".utf8)
        let (interim, response) = try await LiveSandbox.offThread { () -> (String, RawResponse) in
            let fd = try RawHTTP.connect(port: port)
            defer { close(fd) }
            try RawHTTP.write(fd, RawHTTP.head(method: "POST", target: "/tickets", headers: [
                ("Authorization", LiveSandbox.demoAuthorization), ("Expect", "100-continue"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ], bodyLength: body.count))
            // Nothing of the body has been sent: the interim answer must come anyway.
            let interim = RawHTTP.read(fd, until: { $0.range(of: Data("\r\n\r\n".utf8)) != nil })
            try RawHTTP.write(fd, body)
            let rest = RawHTTP.read(fd)
            return (String(decoding: interim, as: UTF8.self), try RawHTTP.parse(interim + rest))
        }
        XCTAssertTrue(interim.hasPrefix("HTTP/1.1 100 Continue"), interim)
        XCTAssertTrue(response.sawContinue)
        XCTAssertEqual(response.status, 200, response.text)
    }

    func testCONNECTIsRefusedByClosingTheConnectionSoTheClientDoesNotHang() async throws {
        let port = sandbox.port
        let (answer, seconds) = try await LiveSandbox.offThread { () -> (Data, Double) in
            let fd = try RawHTTP.connect(port: port)
            defer { close(fd) }
            var limit = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            let started = Date()
            try RawHTTP.write(fd, Data("CONNECT /tickets HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            return (RawHTTP.read(fd), Date().timeIntervalSince(started))
        }
        XCTAssertEqual(answer.count, 0, String(decoding: answer, as: UTF8.self))
        XCTAssertLessThan(seconds, 4, "the server closed the connection")
        let health = try await sandbox.send("GET", "/health")
        XCTAssertEqual(health.status, 200)
    }

    func testAFormOfTooManyFieldsIsRefusedAt400() async throws {
        let body = String(repeating: "a&", count: 1_001) + "message=Hi&requester[mail]=m@example.com"
        let response = try await sandbox.send("POST", "/tickets", body: body, contentType: "application/x-www-form-urlencoded")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.object["error"] as? String, "too many fields (more than 1000)")
        let query = try await sandbox.send("GET", "/tickets?" + String(repeating: "x&", count: 1_001))
        XCTAssertEqual(query.status, 400)
    }

    func testGarbageRequestDoesNotStopTheServer() async throws {
        let port = sandbox.port
        _ = try await LiveSandbox.offThread { () -> Data in
            let fd = try RawHTTP.connect(port: port)
            defer { close(fd) }
            try RawHTTP.write(fd, Data("NOT HTTP AT ALL\r\n\r\n".utf8))
            return RawHTTP.read(fd)
        }
        let health = try await sandbox.send("GET", "/health")
        XCTAssertEqual(health.status, 200)
    }
}
