import Foundation
import Synchronization

/// A pause shared by every request of one client: when the server answers 429 with `Retry-After`,
/// the gate closes for that long and no request is sent until it opens again, so that many
/// concurrent workers wait together instead of each hammering the server. An open gate costs a
/// lock and no suspension.
final class ThrottleGate: Sendable {
    private let reopensAt = Mutex<ContinuousClock.Instant?>(nil)

    /// Closes the gate for `duration` from now; an earlier pause that ends later is kept.
    func close(for duration: Duration) {
        let until = ContinuousClock.now + duration
        reopensAt.withLock { reopensAt in
            if let current = reopensAt, current >= until { return }
            reopensAt = until
        }
    }

    /// Returns when the gate is open; throws `CancellationError` if the task is cancelled first.
    func waitUntilOpen() async throws {
        // Re-read after each sleep: another request may have extended the pause meanwhile.
        while let until = closedUntil {
            try await Task.sleep(until: until, clock: .continuous)
        }
        try Task.checkCancellation()
    }

    /// When the gate reopens, if it is closed now.
    var closedUntil: ContinuousClock.Instant? {
        reopensAt.withLock { reopensAt in
            guard let reopensAt, reopensAt > .now else { return nil }
            return reopensAt
        }
    }
}
