import Foundation
import Synchronization

/// How many requests a bulk run keeps in flight, adapted to the service as TCP adapts its window
/// (AIMD): halved when the service pushes back (429, 503, a lost connection), raised by about one
/// per window of successes, never above the caller's maximum nor below one.
final class AdaptiveConcurrency: Sendable {
    let maximum: Int
    /// Pushbacks within this long of a decrease count as the same congestion event: 32 workers
    /// hitting one 429 together halve the window once, not 32 times.
    private let cooldown: Duration
    private let state: Mutex<State>

    private struct State {
        var limit: Double
        var inFlight = 0
        var waiters: [CheckedContinuation<Bool, Never>] = []
        var closed = false
        var lastDecrease = ContinuousClock.now - .seconds(60)

        var window: Int { max(1, Int(limit)) }

        /// Takes the waiters that fit in the window now.
        mutating func admitWaiters() -> [CheckedContinuation<Bool, Never>] {
            var admitted: [CheckedContinuation<Bool, Never>] = []
            while !waiters.isEmpty && inFlight < window {
                inFlight += 1
                admitted.append(waiters.removeFirst())
            }
            return admitted
        }
    }

    init(maximum: Int, cooldown: Duration = .milliseconds(500)) {
        self.maximum = max(1, maximum)
        self.cooldown = cooldown
        state = Mutex(State(limit: Double(max(1, maximum))))
    }

    /// The current window, rounded down.
    var current: Int { state.withLock { $0.window } }

    /// Takes a slot if one is free now (and nobody waits for one); false otherwise, or when the
    /// limiter was closed.
    func tryAcquire() -> Bool {
        state.withLock { state in
            guard !state.closed, state.waiters.isEmpty, state.inFlight < state.window else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Waits for a slot; false when the limiter was closed (the run is cancelled).
    func acquire() async -> Bool {
        // The common case, a free slot, without suspending.
        if tryAcquire() { return true }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let granted: Bool? = state.withLock { state in
                if state.closed { return false }
                if state.inFlight < state.window {
                    state.inFlight += 1
                    return true
                }
                state.waiters.append(continuation)
                return nil
            }
            if let granted { continuation.resume(returning: granted) }
        }
    }

    /// Gives a slot back.
    func release() {
        let wake = state.withLock { state in
            state.inFlight -= 1
            return state.admitWaiters()
        }
        for waiter in wake { waiter.resume(returning: true) }
    }

    /// The service took a request well: grow by 1/window, so about one per window of successes.
    func recordSuccess() {
        let maximum = Double(self.maximum)
        let wake = state.withLock { state in
            state.limit = min(maximum, state.limit + 1 / max(state.limit, 1))
            return state.admitWaiters()
        }
        for waiter in wake { waiter.resume(returning: true) }
    }

    /// The service pushed back: halve the window, once per congestion event.
    func recordPushback() {
        let cooldown = self.cooldown
        state.withLock { state in
            let now = ContinuousClock.now
            guard now - state.lastDecrease >= cooldown else { return }
            state.lastDecrease = now
            state.limit = max(1, state.limit / 2)
        }
    }

    /// Wakes every waiter with `false`; later acquires fail at once.
    func close() {
        let all = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in all { waiter.resume(returning: false) }
    }
}
