import Foundation
import XCTest

@testable import LiveChat

/// Every way a call can fail, against a real HTTP server on 127.0.0.1.
final class LiveChatClientFailureTests: ClientTestCase {
    private let html = Array("<html><head><title>401 Authorization Required</title></head><body>nope</body></html>".utf8)

    // MARK: - Errors the server answers

    func testUnauthorizedWithHTMLBodyGivesAuthErrorWithClearMessage() async throws {
        let server = try await startServer(always: .raw(401, html, contentType: "text/html"))
        let error = await expectError { try await self.makeClient(server).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .auth)
        XCTAssertEqual(error?.status, 401)
        XCTAssertEqual(error?.messages, [])
        XCTAssertEqual(error?.retryable, false)
        XCTAssertEqual(error?.message, "HTTP 401 Unauthorized (response body was not JSON)")
        XCTAssertEqual(server.requests.count, 1)
    }

    func testServerErrorWithEmptyBodyGivesServerErrorAndIsNotRetried() async throws {
        let server = try await startServer(always: .raw(500, []))
        let error = await expectError { try await self.makeClient(server).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .server)
        XCTAssertEqual(error?.status, 500)
        XCTAssertEqual(error?.message, "HTTP 500 Internal Server Error (empty response body)")
        XCTAssertEqual(server.requests.count, 1)
    }

    func testValidationErrorCarriesEachServerMessage() async throws {
        let server = try await startServer(always: .json(400, #"{"error": ["message is required", "requester[mail] is invalid"]}"#))
        let error = await expectError {
            try await self.makeClient(server).createTicket(CreateTicketRequest(message: "", requesterEmail: "x"))
        }
        XCTAssertEqual(error?.kind, .validation)
        XCTAssertEqual(error?.messages, ["message is required", "requester[mail] is invalid"])
        XCTAssertEqual(error?.message, "HTTP 400 Bad Request: message is required; requester[mail] is invalid")
        XCTAssertEqual(error?.retryable, false)
    }

    func testListValidationMessagesAreReadFromErrors() async throws {
        let server = try await startServer(always: .json(400, #"{"errors": ["order must be asc or desc"]}"#))
        let error = await expectError { try await self.makeClient(server).listTickets(TicketQuery(order: "up")) }
        XCTAssertEqual(error?.kind, .validation)
        XCTAssertEqual(error?.messages, ["order must be asc or desc"])
    }

    func testUnknownTicketGivesNotFoundWithTheServerMessage() async throws {
        let server = try await startServer(always: .json(404, #"{"error": "ticket not found"}"#))
        let error = await expectError { try await self.makeClient(server).ticket(id: "NOPE1") }
        XCTAssertEqual(error?.kind, .notFound)
        XCTAssertEqual(error?.messages, ["ticket not found"])
        XCTAssertEqual(error.map { "\($0)" }, "LiveChat not_found error: HTTP 404 Not Found: ticket not found")
    }

    // MARK: - Retries on answers

    func testRateLimitRetryAfterIsHonouredBeforeRetrying() async throws {
        let server = try await startServer { _, index in
            index == 0 ? .json(429, #"{"error": "slow down"}"#, headers: [("Retry-After", "1")]) : Self.ticketReply
        }
        let client = makeClient(server)
        let started = ContinuousClock.now
        let ticket = try await client.ticket(id: "5FUED")
        XCTAssertEqual(ticket.id, "5FUED")
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1))
        let requests = server.requests
        XCTAssertEqual(requests.count, 2)
        XCTAssertGreaterThanOrEqual(requests[1].arrival - requests[0].arrival, .seconds(1))
    }

    func testRateLimitPausesEveryRequestOfTheSameClient() async throws {
        let server = try await startServer { _, index in
            index == 0 ? .json(429, #"{"error": "slow down"}"#, headers: [("Retry-After", "1")]) : Self.ticketReply
        }
        let limited = Collected<ContinuousClock.Instant>()
        let client = makeClient(url: server.baseURL, onAttempt: { attempt in
            if attempt.status == 429 { limited.append(.now) }
        })
        // The first call is limited once (only the very first request gets 429); the second call
        // starts after that answer and must wait out the same pause, though it never got a 429.
        async let first = client.ticket(id: "FIRST")
        while limited.all.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        let second = try await client.ticket(id: "SECOND")
        _ = try await first
        XCTAssertEqual(second.id, "5FUED")

        let pausedAt = try XCTUnwrap(limited.all.first)
        let secondArrival = try XCTUnwrap(server.requests.first { $0.path == "/tickets/SECOND" }?.arrival)
        XCTAssertGreaterThanOrEqual(secondArrival - pausedAt, .milliseconds(950))
    }

    func testServiceUnavailableThenSuccessIsRetried() async throws {
        let server = try await startServer { _, index in
            index == 0 ? .json(503, #"{"error": "maintenance"}"#) : Self.ticketReply
        }
        let ticket = try await makeClient(server).createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@x.com"))
        XCTAssertEqual(ticket.id, "5FUED")
        XCTAssertEqual(server.requests.map(\.method), ["POST", "POST"])
    }

    func testPostIsNotRetriedAfterBadGateway() async throws {
        let server = try await startServer(always: .json(502, #"{"error": "bad gateway"}"#))
        let error = await expectError {
            try await self.makeClient(server).createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@x.com"))
        }
        XCTAssertEqual(error?.kind, .server)
        XCTAssertEqual(error?.retryable, false)
        XCTAssertEqual(server.requests.count, 1)
    }

    func testGetIsRetriedAfterBadGatewayUntilAttemptsRunOut() async throws {
        let server = try await startServer(always: .json(502, #"{"error": "bad gateway"}"#))
        let error = await expectError { try await self.makeClient(server).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .server)
        XCTAssertEqual(error?.retryable, true)
        XCTAssertEqual(error?.attempts, 3)
        XCTAssertEqual(server.requests.count, 3)
    }

    func testRetriesStopWhenTheWaitWouldExceedTheTotalTime() async throws {
        let server = try await startServer(always: .json(503, #"{"error": "maintenance"}"#, headers: [("Retry-After", "2")]))
        let policy = RetryPolicy(maxAttempts: 5, maxTotalTime: .seconds(1), maxRetryAfter: .seconds(5))
        let started = ContinuousClock.now
        let error = await expectError { try await self.makeClient(server, retryPolicy: policy).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .server)
        XCTAssertEqual(error?.retryable, true)
        XCTAssertEqual(error?.attempts, 1)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
        XCTAssertEqual(server.requests.count, 1)
    }

    // MARK: - Broken connections

    func testGetIsRetriedAfterConnectionClosedWithoutAnswer() async throws {
        let server = try await startServer { _, index in index == 0 ? .close : Self.ticketReply }
        let ticket = try await makeClient(server).ticket(id: "5FUED")
        XCTAssertEqual(ticket.id, "5FUED")
        XCTAssertEqual(server.requests.count, 2)
    }

    func testPostIsNotRetriedAfterConnectionClosedWithoutAnswer() async throws {
        let server = try await startServer { _, index in index == 0 ? .close : Self.ticketReply }
        let error = await expectError {
            try await self.makeClient(server).createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@x.com"))
        }
        XCTAssertEqual(error?.kind, .network)
        XCTAssertEqual(error?.retryable, false)
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(server.requests.count, 1)
    }

    func testConnectionResetGivesRetryableNetworkError() async throws {
        let server = try await startServer(always: .reset)
        let error = await expectError { try await self.makeClient(server).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .network)
        XCTAssertEqual(error?.retryable, true)
        XCTAssertEqual(server.requests.count, 3)
    }

    // MARK: - Timeouts

    func testResponseSlowerThanTheTimeoutGivesTimeoutError() async throws {
        let server = try await startServer(always: .json(200, DocsSamples.ticket, delay: .seconds(3)))
        let client = makeClient(server, requestTimeout: .milliseconds(300), retryPolicy: .never)
        let started = ContinuousClock.now
        let error = await expectError { try await client.ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertNil(error?.status)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
    }

    func testASlowAnswerOnAKeptAliveConnectionTimesOutFromItsOwnStart() async throws {
        // A quick answer, then, 400 ms later on the same connection, one that never comes in
        // time. The connection's timer, set for the first exchange's deadline, fires while the
        // second is in flight: it must leave it its whole time.
        let server = try await startServer { _, index in
            index == 0 ? Self.ticketReply : .json(200, DocsSamples.ticket, delay: .seconds(5))
        }
        let client = makeClient(server, requestTimeout: .milliseconds(600), retryPolicy: .never)
        _ = try await client.ticket(id: "5FUED")
        try await Task.sleep(for: .milliseconds(400))
        let started = ContinuousClock.now
        let error = await expectError { try await client.ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertEqual(Set(server.requests.map(\.connection)).count, 1, "one kept-alive connection carried both")
        let waited = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(550), "not cut short by the first exchange's deadline")
        XCTAssertLessThan(waited, .seconds(3))
    }

    func testPostIsNotRetriedAfterTimeout() async throws {
        let server = try await startServer(always: .json(200, DocsSamples.ticket, delay: .seconds(3)))
        let client = makeClient(server, requestTimeout: .milliseconds(300))
        let error = await expectError {
            try await client.createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@x.com"))
        }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertEqual(error?.retryable, false)
        XCTAssertEqual(error?.attempts, 1)
        try await Task.sleep(for: .milliseconds(300))  // a retry would have arrived by now
        XCTAssertEqual(server.requests.count, 1)
    }

    func testGetIsRetriedAfterTimeout() async throws {
        let server = try await startServer { _, index in
            index == 0 ? .json(200, DocsSamples.ticket, delay: .seconds(3)) : Self.ticketReply
        }
        let ticket = try await makeClient(server, requestTimeout: .milliseconds(300)).ticket(id: "5FUED")
        XCTAssertEqual(ticket.id, "5FUED")
        XCTAssertEqual(server.requests.count, 2)
    }

    // MARK: - Refused connections

    func testRefusedConnectionGivesNetworkError() async throws {
        let port = try await TestServer.unusedPort()
        let client = makeClient(url: "http://127.0.0.1:\(port)", retryPolicy: .never)
        let error = await expectError { try await client.ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .network)
        XCTAssertEqual(error?.retryable, true)
        XCTAssertTrue(error?.message.contains("could not connect") ?? false, error?.message ?? "")
    }

    func testPostIsRetriedAfterRefusedConnectionOnceTheServerListens() async throws {
        let port = try await TestServer.unusedPort()
        let attempts = Collected<LiveChatAttempt>()
        let client = makeClient(
            url: "http://127.0.0.1:\(port)",
            retryPolicy: RetryPolicy(maxAttempts: 50, baseDelay: .milliseconds(20), maxDelay: .milliseconds(50), maxTotalTime: .seconds(5)),
            onAttempt: { attempts.append($0) })

        async let created = client.createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@x.com"))
        // Only once an attempt has been refused does anything listen on the port.
        while attempts.all.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        let server = try await startServer(port: port) { _, _ in Self.ticketReply }
        let ticket = try await created

        XCTAssertEqual(ticket.id, "5FUED")
        XCTAssertEqual(server.requests.count, 1)
        XCTAssertEqual(server.requests.first?.method, "POST")
        let all = attempts.all
        XCTAssertGreaterThanOrEqual(all.count, 2)
        XCTAssertEqual(all.first?.failure, .network)
        XCTAssertEqual(all.last?.status, 200)
    }

    // MARK: - Bad answers

    func testMalformedJSONGivesProtocolError() async throws {
        let server = try await startServer(always: .json(200, #"{"id": "5FUED", "status": "#))
        let error = await expectError { try await self.makeClient(server).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .protocol)
        XCTAssertEqual(error?.status, 200)
        XCTAssertEqual(error?.retryable, false)
        XCTAssertEqual(server.requests.count, 1)
    }

    func testAnswerOfTheWrongShapeNamesTheMissingField() async throws {
        let server = try await startServer(always: .json(200, #"{"id": "5FUED"}"#))
        let error = await expectError { try await self.makeClient(server).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .protocol)
        XCTAssertTrue(error?.message.contains("missing 'status'") ?? false, error?.message ?? "")
    }

    func testTenMegabyteBodyIsRefusedByTheSizeLimit() async throws {
        let huge = [UInt8](repeating: UInt8(ascii: " "), count: 10 * 1024 * 1024)
        for chunked in [false, true] {
            let server = try await startServer(always: .raw(200, huge, contentType: "application/json", chunked: chunked))
            let error = await expectError { try await self.makeClient(server).listTickets() }
            XCTAssertEqual(error?.kind, .protocol, "chunked: \(chunked)")
            XCTAssertEqual(error?.message, "the response body is larger than the limit of 8388608 bytes")
            XCTAssertEqual(server.requests.count, 1)
        }
    }

    func testRedirectIsNotFollowed() async throws {
        let server = try await startServer(always: .raw(302, [], headers: [("Location", "http://127.0.0.1:1/elsewhere")]))
        let error = await expectError { try await self.makeClient(server).ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .protocol)
        XCTAssertEqual(error?.status, 302)
    }

    func testAGzipAnswerIsDecompressed() async throws {
        // {"id":"GZIP1", …} gzipped, as a server or proxy that compresses sends it.
        let gzipped = Array(Data(base64Encoded: "H4sIAAAAAAACAy2NsQoCMRBEez9j6yC5U/C8SrAQO2vFIibrEUkuMdmIcty/uxGrnXnMzkxgDfRwOB9PDQjIpKhkBiHiWH25PVATg33wMWHOaBgnfBbMhAn6CbyyjgN+h2/lo8OlDh5mAUMKJXLXRV4FkBqqZIUvHOmvcyhJYy2hT+QLTrf1ta7z0C/jg7F3W12z6tabrexkOy++Gv/IebgAAAA=")!)
        let server = try await startServer(always: .raw(200, gzipped, contentType: "application/json", headers: [("Content-Encoding", "gzip")]))
        let ticket = try await makeClient(server).ticket(id: "GZIP1")
        XCTAssertEqual(ticket.id, "GZIP1")
        XCTAssertEqual(ticket.subject, "Compressed")
        XCTAssertEqual(server.requests.first?.header("Accept-Encoding")?.contains("gzip"), true, "the client asks for it")
    }

    func testAnInformationalAnswerIsNotTakenForTheFinalOne() async throws {
        let server = try await startServer(always: .informational(status: 100, then: .json(201, DocsSamples.ticket)))
        let ticket = try await makeClient(server).createTicket(CreateTicketRequest(message: "Hi", requesterEmail: "m@example.com"))
        XCTAssertFalse(ticket.id.isEmpty, "the 201 after the 100 is the answer")
        XCTAssertEqual(server.requests.count, 1)
    }

    // MARK: - Cancellation and lifecycle

    func testCancellingTheTaskCancelsTheRequestPromptly() async throws {
        let server = try await startServer(always: .json(200, DocsSamples.ticket, delay: .seconds(5)))
        let client = makeClient(server, requestTimeout: .seconds(10))
        let call = Task { try await client.ticket(id: "5FUED") }
        while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        let started = ContinuousClock.now
        call.cancel()
        let error = await expectError { try await call.value }
        XCTAssertEqual(error?.kind, .cancelled)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))  // the server would answer after 5 s
        XCTAssertEqual(server.requests.count, 1)
    }

    func testCancellingDuringRetryWaitStopsAtOnce() async throws {
        let server = try await startServer(always: .json(429, #"{"error": "slow down"}"#, headers: [("Retry-After", "2")]))
        let client = makeClient(server)
        let call = Task { try await client.ticket(id: "5FUED") }
        while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        call.cancel()
        let error = await expectError { try await call.value }
        XCTAssertEqual(error?.kind, .cancelled)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))  // the retry would come after 2 s
        XCTAssertEqual(server.requests.count, 1)
    }

    func testClientDroppedWithoutShutdownDoesNotCrash() async throws {
        let server = try await startServer(always: Self.ticketReply)
        do {
            let client = LiveChatClient(configuration: LiveChatConfiguration(apiURL: server.baseURL, login: Self.login, apiKey: Self.apiKey))
            _ = try await client.ticket(id: "5FUED")
        }
        XCTAssertEqual(server.requests.count, 1)
    }

    func testShutdownTwiceIsSafeAndLaterCallsFail() async throws {
        let server = try await startServer(always: Self.ticketReply)
        let client = makeClient(server)
        _ = try await client.ticket(id: "5FUED")
        try await client.shutdown()
        try await client.shutdown()
        let error = await expectError { try await client.ticket(id: "5FUED") }
        XCTAssertEqual(error?.kind, .configuration)
        XCTAssertEqual(server.requests.count, 1)
    }
}
