import Foundation

/// When and how long to wait before sending a failed request again: exponential backoff with full
/// jitter, a cap on attempts and on total time, and the server's `Retry-After` honoured up to a cap.
///
/// Which failures are retried depends on whether the server can have acted: a GET is always safe
/// to repeat, but a create repeated after a timeout could make a second ticket, so POST and PUT are
/// retried only when the request never reached the server or the server said it did not act.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included; 1 means never retry.
    public var maxAttempts: Int
    /// The backoff ceiling after the first failure; it doubles after each further one.
    public var baseDelay: Duration
    /// The largest backoff ceiling.
    public var maxDelay: Duration
    /// No retry is started that would end its wait later than this after the first attempt began.
    public var maxTotalTime: Duration
    /// The longest `Retry-After` that is waited out; a longer one is cut to this.
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(8),
        maxTotalTime: Duration = .seconds(60), maxRetryAfter: Duration = .seconds(30)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotalTime = maxTotalTime
        self.maxRetryAfter = maxRetryAfter
    }

    /// Four attempts within a minute, backoff from half a second up to eight.
    public static let `default` = RetryPolicy()

    /// A single attempt.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// How one attempt failed, as far as retrying is concerned.
    public enum Failure: Sendable, Hashable {
        /// The connection was never made (refused, connect timeout, name not resolved): the server
        /// cannot have seen the request.
        case connectionNotEstablished
        /// The connection broke after the request may have been sent.
        case connectionLost
        /// No complete answer in time: the server may have acted.
        case requestTimeout
        /// The server answered with this non-2xx status.
        case status(Int)
    }

    /// Whether a request with this HTTP method may be sent again after this failure.
    public func allowsRetry(after failure: Failure, method: String) -> Bool {
        let repeatable = ["GET", "HEAD"].contains(method.uppercased())
        switch failure {
        case .connectionNotEstablished:
            return true
        case .connectionLost, .requestTimeout:
            return repeatable
        case .status(let status):
            // 429 and 503 say the request was not processed; 502 and 504 come from a proxy that
            // may have passed it on.
            return repeatable ? [429, 502, 503, 504].contains(status) : [429, 503].contains(status)
        }
    }

    /// Whether a failed call's error shows that the server made nothing (so a create may be sent
    /// again without a duplicate): the request never reached it (the policy allowed a retry),
    /// or it refused the request (401, 403, 404, 4xx validation, 429, 503), or it was never sent
    /// (a configuration problem). Otherwise (a timeout, a connection lost mid-request, another
    /// 5xx, an answer that cannot be read) the ticket may exist.
    public static func provesNothingWasCreated(by error: LiveChatError) -> Bool {
        if error.retryable { return true }
        switch error.kind {
        case .auth, .validation, .notFound, .rateLimited, .configuration: return true
        case .server: return error.status == 503
        case .network, .timeout, .protocol, .cancelled: return false
        }
    }

    /// The backoff ceiling after `attempt` attempts have failed: `baseDelay · 2^(attempt-1)`,
    /// at most `maxDelay`.
    public func backoffCeiling(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)
        let ceiling = baseDelay * (1 << doublings)
        return min(ceiling, maxDelay)
    }

    /// A backoff with full jitter: uniformly random between zero and the ceiling.
    public func backoffDelay(afterAttempt attempt: Int) -> Duration {
        let ceiling = backoffCeiling(afterAttempt: attempt)
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds))
    }

    /// The wait before the next attempt: the server's `Retry-After` (capped) when it gave one,
    /// otherwise the jittered backoff.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter {
            return min(max(retryAfter, .zero), maxRetryAfter)
        }
        return backoffDelay(afterAttempt: attempt)
    }

    /// Parses a `Retry-After` value: delay seconds, or an HTTP date. The value comes from the
    /// network, so any number is taken: one beyond a day is read as a day (the caller caps it far
    /// lower anyway), never converted as it stands.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64((min(seconds, 86_400) * 1000).rounded(.up)))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = min(max(0, date.timeIntervalSince(now)), 86_400)
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }
}
