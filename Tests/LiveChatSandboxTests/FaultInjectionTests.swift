import XCTest
@testable import LiveChatSandbox

/// Injected failures, rate limits, latency and dropped connections.
final class FaultInjectionTests: XCTestCase {
    func testFailureRateOneAnswersEveryAPIRequestWithTheStatusButNotHealth() async throws {
        let sandbox = try await LiveSandbox.start { $0.faults = FaultInjection(failureRate: 1, failureStatus: 502) }
        let list = try await sandbox.send("GET", "/tickets")
        let create = try await sandbox.createForm("message=Hi&requester[mail]=m@example.com")
        let health = try await sandbox.send("GET", "/health")
        let count = try await sandbox.server.ticketCount
        await sandbox.stop()
        XCTAssertEqual(list.status, 502)
        XCTAssertEqual(list.header("Content-Type"), "application/json; charset=utf-8")
        XCTAssertNotNil(list.object.string("error"))
        XCTAssertEqual(create.status, 502)
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(count, 0, "a failed request is not acted on")
    }

    func testFailuresFollowTheSeedDeterministically() async throws {
        func statuses(seed: UInt64) async throws -> [Int] {
            let sandbox = try await LiveSandbox.start { $0.seed = seed; $0.faults = FaultInjection(failureRate: 0.5) }
            var statuses: [Int] = []
            for _ in 0..<30 { statuses.append(try await sandbox.send("GET", "/tickets").status) }
            await sandbox.stop()
            return statuses
        }
        let first = try await statuses(seed: 11)
        let again = try await statuses(seed: 11)
        let other = try await statuses(seed: 12)
        XCTAssertEqual(first, again)
        XCTAssertNotEqual(first, other)
        XCTAssertEqual(Set(first), [200, 503])
        XCTAssertTrue((5...25).contains(first.filter { $0 == 503 }.count), "\(first)")
    }

    func testRateLimitAnswers429WithRetryAfter() async throws {
        let sandbox = try await LiveSandbox.start { $0.faults = FaultInjection(rateLimit: 2) }
        var responses: [RawResponse] = []
        for _ in 0..<8 { responses.append(try await sandbox.send("GET", "/tickets")) }
        let health = try await sandbox.send("GET", "/health")
        await sandbox.stop()
        let limited = responses.filter { $0.status == 429 }
        XCTAssertTrue(responses.prefix(2).allSatisfy { $0.status == 200 }, "the first requests within the rate pass")
        XCTAssertFalse(limited.isEmpty)
        for response in limited {
            XCTAssertGreaterThanOrEqual(Int(response.header("Retry-After") ?? "") ?? 0, 1)
            XCTAssertNotNil(response.object.string("error"))
        }
        XCTAssertEqual(health.status, 200)
    }

    func testLatencyDelaysEveryAPIAnswer() async throws {
        let sandbox = try await LiveSandbox.start { $0.faults = FaultInjection(latencyMilliseconds: 300) }
        let clock = ContinuousClock()
        let started = clock.now
        let response = try await sandbox.send("GET", "/tickets")
        let elapsed = clock.now - started
        await sandbox.stop()
        XCTAssertEqual(response.status, 200)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(300))
    }

    func testDroppedConnectionsGetNoAnswerAndCreateNothing() async throws {
        let sandbox = try await LiveSandbox.start { $0.faults = FaultInjection(dropRate: 1) }
        let port = sandbox.port
        let body = Data("message=Hi&requester[mail]=m@example.com".utf8)
        let received = try await LiveSandbox.offThread { () -> Data in
            let fd = try RawHTTP.connect(port: port)
            defer { close(fd) }
            try RawHTTP.write(fd, RawHTTP.head(method: "POST", target: "/tickets", headers: [
                ("Authorization", LiveSandbox.demoAuthorization), ("Content-Type", "application/x-www-form-urlencoded"),
            ], bodyLength: body.count) + body)
            return RawHTTP.read(fd)
        }
        let health = try await sandbox.send("GET", "/health")
        let count = try await sandbox.server.ticketCount
        await sandbox.stop()
        XCTAssertEqual(received.count, 0, "closed without a single byte of answer")
        XCTAssertEqual(count, 0)
        XCTAssertEqual(health.status, 200)
    }

    func testInvalidFaultSettingsAreRefusedAtStart() async throws {
        var configuration = SandboxConfiguration()
        configuration.faults = FaultInjection(failureRate: 1.5)
        let server = SandboxServer(configuration: configuration)
        do {
            _ = try await server.start()
            XCTFail("start must refuse a failure rate above 1")
            await server.stop()
        } catch {
            XCTAssertTrue("\(error)".contains("failure rate"), "\(error)")
        }
    }

    func testInjectorDecisionsDoNotDependOnWhichFaultsAreOn() {
        let dropsOnly = FaultInjector(faults: FaultInjection(dropRate: 0.3), seed: 5)
        let both = FaultInjector(faults: FaultInjection(failureRate: 0.3, dropRate: 0.3), seed: 5)
        let a = (0..<50).map { _ in dropsOnly.decide() == .drop }
        let b = (0..<50).map { _ in both.decide() == .drop }
        XCTAssertEqual(a, b)
    }
}
