import Foundation

/// How many requests a bulk run keeps in flight, adapted to the service as TCP adapts its window
/// (AIMD): halved when the service pushes back (429, 503, a lost connection), raised by about one
/// per window of successes, never above the caller's maximum nor below one.
final class AdaptiveConcurrency: @unchecked Sendable {
    let maximum: Int
    private let lock = NSLock()
    private var limit: Double
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Bool, Never>] = []
    private var closed = false
    private var lastDecrease = ContinuousClock.now - .seconds(60)
    /// Pushbacks within this long of a decrease count as the same congestion event: 32 workers
    /// hitting one 429 together halve the window once, not 32 times.
    private let cooldown: Duration

    init(maximum: Int, cooldown: Duration = .milliseconds(500)) {
        self.maximum = max(1, maximum)
        self.limit = Double(self.maximum)
        self.cooldown = cooldown
    }

    /// The current window, rounded down.
    var current: Int { lock.withLock { max(1, Int(limit)) } }

    /// Takes a slot if one is free now (and nobody waits for one); false otherwise, or when the
    /// limiter was closed.
    func tryAcquire() -> Bool {
        lock.withLock {
            guard !closed, waiters.isEmpty, inFlight < max(1, Int(limit)) else { return false }
            inFlight += 1
            return true
        }
    }

    /// Waits for a slot; false when the limiter was closed (the run is cancelled).
    func acquire() async -> Bool {
        // The common case, a free slot, without suspending.
        if tryAcquire() { return true }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let granted: Bool? = lock.withLock {
                if closed { return false }
                if inFlight < max(1, Int(limit)) {
                    inFlight += 1
                    return true
                }
                waiters.append(continuation)
                return nil
            }
            if let granted { continuation.resume(returning: granted) }
        }
    }

    /// Gives a slot back.
    func release() {
        let wake: [CheckedContinuation<Bool, Never>] = lock.withLock {
            inFlight -= 1
            return admitWaiters()
        }
        for waiter in wake { waiter.resume(returning: true) }
    }

    /// The service took a request well: grow by 1/window, so about one per window of successes.
    func recordSuccess() {
        let wake: [CheckedContinuation<Bool, Never>] = lock.withLock {
            limit = min(Double(maximum), limit + 1 / max(limit, 1))
            return admitWaiters()
        }
        for waiter in wake { waiter.resume(returning: true) }
    }

    /// The service pushed back: halve the window, once per congestion event.
    func recordPushback() {
        lock.withLock {
            let now = ContinuousClock.now
            guard now - lastDecrease >= cooldown else { return }
            lastDecrease = now
            limit = max(1, limit / 2)
        }
    }

    /// Wakes every waiter with `false`; later acquires fail at once.
    func close() {
        let all: [CheckedContinuation<Bool, Never>] = lock.withLock {
            closed = true
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in all { waiter.resume(returning: false) }
    }

    /// Takes the waiters that fit in the window now (called with the lock held).
    private func admitWaiters() -> [CheckedContinuation<Bool, Never>] {
        var admitted: [CheckedContinuation<Bool, Never>] = []
        while !waiters.isEmpty && inFlight < max(1, Int(limit)) {
            inFlight += 1
            admitted.append(waiters.removeFirst())
        }
        return admitted
    }
}
