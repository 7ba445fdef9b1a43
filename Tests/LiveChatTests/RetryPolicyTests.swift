import Foundation
import XCTest

@testable import LiveChat

final class RetryPolicyTests: XCTestCase {
    private let policy = RetryPolicy.default

    func testGetIsRetriedOnEveryTransientFailure() {
        let retried: [RetryPolicy.Failure] = [
            .connectionNotEstablished, .connectionLost, .requestTimeout,
            .status(429), .status(502), .status(503), .status(504),
        ]
        for failure in retried {
            XCTAssertTrue(policy.allowsRetry(after: failure, method: "GET"), "\(failure)")
        }
        for status in [400, 401, 404, 413, 500, 501] {
            XCTAssertFalse(policy.allowsRetry(after: .status(status), method: "GET"), "\(status)")
        }
    }

    func testPostAndPutAreRetriedOnlyWhenTheServerCannotHaveActed() {
        for method in ["POST", "PUT"] {
            XCTAssertTrue(policy.allowsRetry(after: .connectionNotEstablished, method: method))
            XCTAssertTrue(policy.allowsRetry(after: .status(429), method: method))
            XCTAssertTrue(policy.allowsRetry(after: .status(503), method: method))
            XCTAssertFalse(policy.allowsRetry(after: .requestTimeout, method: method))
            XCTAssertFalse(policy.allowsRetry(after: .connectionLost, method: method))
            XCTAssertFalse(policy.allowsRetry(after: .status(502), method: method))
            XCTAssertFalse(policy.allowsRetry(after: .status(504), method: method))
            XCTAssertFalse(policy.allowsRetry(after: .status(500), method: method))
        }
    }

    func testBackoffCeilingDoublesUpToTheMaximum() {
        let policy = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .milliseconds(1000))
        XCTAssertEqual((1...6).map { policy.backoffCeiling(afterAttempt: $0) },
                       [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                        .milliseconds(1000), .milliseconds(1000)])
        XCTAssertEqual(policy.backoffCeiling(afterAttempt: 1000), .milliseconds(1000))
    }

    func testJitteredBackoffIsSpreadBetweenZeroAndTheCeiling() {
        let policy = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(10))
        let delays = (0..<500).map { _ in policy.backoffDelay(afterAttempt: 3) }
        XCTAssertTrue(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(400) })
        XCTAssertLessThan(delays.min()!, .milliseconds(100))  // full jitter, not "ceiling ± a bit"
        XCTAssertGreaterThan(delays.max()!, .milliseconds(300))
    }

    func testRetryAfterIsUsedButCapped() {
        let policy = RetryPolicy(maxRetryAfter: .seconds(5))
        XCTAssertEqual(policy.delay(afterAttempt: 1, retryAfter: .seconds(2)), .seconds(2))
        XCTAssertEqual(policy.delay(afterAttempt: 1, retryAfter: .seconds(3600)), .seconds(5))
    }

    func testRetryAfterParsesSecondsAndHTTPDates() {
        XCTAssertEqual(RetryPolicy.parseRetryAfter("1"), .seconds(1))
        // From the network: any number, however large, is read without trapping.
        XCTAssertEqual(RetryPolicy.parseRetryAfter("1e300"), .seconds(86_400))
        XCTAssertEqual(RetryPolicy.parseRetryAfter("99999999999999999999"), .seconds(86_400))
        XCTAssertEqual(RetryPolicy.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT"), .seconds(86_400))
        XCTAssertNil(RetryPolicy.parseRetryAfter("NaN"))
        XCTAssertNil(RetryPolicy.parseRetryAfter("-5"))
        XCTAssertEqual(RetryPolicy.parseRetryAfter(" 120 "), .seconds(120))
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        XCTAssertEqual(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now: now), .seconds(30))
        XCTAssertEqual(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now: now), .zero)
        XCTAssertNil(RetryPolicy.parseRetryAfter("soon"))
        XCTAssertNil(RetryPolicy.parseRetryAfter("-3"))
    }

    func testAttemptsAreAtLeastOne() {
        XCTAssertEqual(RetryPolicy(maxAttempts: 0).maxAttempts, 1)
        XCTAssertEqual(RetryPolicy.never.maxAttempts, 1)
    }

    func testThrottleGateHoldsUntilTheLongestPauseEnds() async throws {
        let gate = ThrottleGate()
        gate.close(for: .milliseconds(300))
        gate.close(for: .milliseconds(100))  // a shorter pause does not shorten it
        let started = ContinuousClock.now
        try await gate.waitUntilOpen()
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(280))
        let closedUntil = gate.closedUntil
        XCTAssertNil(closedUntil)
    }
}
