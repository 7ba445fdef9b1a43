import XCTest
@testable import BulkCreation

/// The AIMD window of a bulk run: halved once per congestion event, grown back by successes.
final class AdaptiveConcurrencyTests: XCTestCase {
    func testPushbackHalvesOncePerEventAndSuccessesGrowItBack() async throws {
        let window = AdaptiveConcurrency(maximum: 32, cooldown: .milliseconds(100))
        XCTAssertEqual(window.current, 32)
        for _ in 0..<32 { window.recordPushback() }  // 32 workers hit by the same 429
        XCTAssertEqual(window.current, 16)
        try await Task.sleep(for: .milliseconds(150))
        window.recordPushback()
        XCTAssertEqual(window.current, 8)
        for _ in 0..<1000 { window.recordSuccess() }
        XCTAssertEqual(window.current, 32, "never above the maximum")
    }

    func testAcquireWaitsForTheWindowAndCloseReleasesWaiters() async throws {
        let window = AdaptiveConcurrency(maximum: 1)
        let first = await window.acquire()
        XCTAssertTrue(first)
        let waiter = Task { await window.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        window.close()
        let second = await waiter.value
        XCTAssertFalse(second)
    }
}
