import Foundation
import Synchronization

/// Faults the sandbox injects into API requests, for testing how clients and scripts cope.
/// All are off by default. `/health` is never affected.
public struct FaultInjection: Sendable, Equatable {
    /// The share of requests, 0...1, answered with `failureStatus` instead of being served.
    public var failureRate: Double = 0
    /// The status of injected failures (e.g. 500, 502, 503).
    public var failureStatus: Int = 503
    /// Requests per second allowed across the server; beyond it, 429 with `Retry-After`. nil: no limit.
    public var rateLimit: Double? = nil
    /// Added to every API request before it is served.
    public var latencyMilliseconds: Int = 0
    /// The share of requests, 0...1, whose connection is closed without an answer, before acting.
    public var dropRate: Double = 0
    /// The share of writes (creates, tag updates), 0...1, whose answer is lost: the change is
    /// made and committed, then the connection is closed without an answer. A client cannot tell
    /// this from a drop; only looking can.
    public var lostAnswerRate: Double = 0

    /// No faults at all.
    public static let none = FaultInjection()

    public init(
        failureRate: Double = 0, failureStatus: Int = 503, rateLimit: Double? = nil,
        latencyMilliseconds: Int = 0, dropRate: Double = 0, lostAnswerRate: Double = 0
    ) {
        self.failureRate = failureRate
        self.failureStatus = failureStatus
        self.rateLimit = rateLimit
        self.latencyMilliseconds = latencyMilliseconds
        self.dropRate = dropRate
        self.lostAnswerRate = lostAnswerRate
    }

    /// The problems with these settings, empty when they are usable.
    public var problems: [String] {
        var problems: [String] = []
        if !(0...1).contains(failureRate) { problems.append("failure rate must be between 0 and 1") }
        if !(400...599).contains(failureStatus) { problems.append("failure status must be between 400 and 599") }
        if let rateLimit, !(0.001...1_000_000).contains(rateLimit) {
            problems.append("rate limit must be from 0.001 to 1000000 requests per second")
        }
        if !(0...600_000).contains(latencyMilliseconds) { problems.append("latency must be from 0 to 600000 milliseconds") }
        if !(0...1).contains(dropRate) { problems.append("drop rate must be between 0 and 1") }
        if !(0...1).contains(lostAnswerRate) { problems.append("lost answer rate must be between 0 and 1") }
        return problems
    }

    var isActive: Bool {
        failureRate > 0 || rateLimit != nil || latencyMilliseconds > 0 || dropRate > 0 || lostAnswerRate > 0
    }
}

/// What the injector decided for one request, in the order it is applied.
enum FaultDecision: Equatable {
    /// Serve the request normally.
    case serve
    /// Close the connection without answering.
    case drop
    /// Answer 429; the client may retry after this many seconds.
    case rateLimited(retryAfter: Int)
    /// Answer with this failure status.
    case fail(status: Int)
}

/// Decides, request by request, which fault (if any) applies. The draws come from one seeded
/// sequence, so a given seed yields the same sequence of decisions in request order.
final class FaultInjector: Sendable {
    let faults: FaultInjection
    private let state: Mutex<State>
    /// Its own sequence, so that lost answers leave the other decisions' sequence as it was.
    private let lostAnswers: Mutex<SeededRandom>

    private struct State {
        var random: SeededRandom
        var tokens: Double
        var lastRefill: ContinuousClock.Instant
    }

    init(faults: FaultInjection, seed: UInt64) {
        self.faults = faults
        let capacity = max(1, faults.rateLimit ?? 1)
        state = Mutex(State(random: SeededRandom(seed: seed ^ 0xFA17), tokens: capacity, lastRefill: .now))
        lostAnswers = Mutex(SeededRandom(seed: seed ^ 0x1057))
    }

    /// Whether the answer to a write that was just made is to be lost.
    func losesAnswer() -> Bool {
        guard faults.lostAnswerRate > 0 else { return false }
        return lostAnswers.withLock { $0.nextUnit() } < faults.lostAnswerRate
    }

    /// The decision for the next request. Every call draws the same number of values, so the
    /// sequence of decisions does not depend on which faults are enabled.
    func decide(now: ContinuousClock.Instant = .now) -> FaultDecision {
        state.withLock { state in
            let dropDraw = state.random.nextUnit()
            let failDraw = state.random.nextUnit()
            if dropDraw < faults.dropRate { return .drop }
            if let rate = faults.rateLimit {
                // Token bucket: `rate` tokens a second, at most one second's worth banked.
                let capacity = max(1, rate)
                let elapsed = now - state.lastRefill
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                state.tokens = min(capacity, state.tokens + seconds * rate)
                state.lastRefill = now
                if state.tokens >= 1 {
                    state.tokens -= 1
                } else {
                    let wait = (1 - state.tokens) / rate
                    return .rateLimited(retryAfter: max(1, Int(wait.rounded(.up))))
                }
            }
            if failDraw < faults.failureRate { return .fail(status: faults.failureStatus) }
            return .serve
        }
    }
}
