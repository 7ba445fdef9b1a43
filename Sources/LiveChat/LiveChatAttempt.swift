/// One HTTP attempt of a client call, as reported to the observer given to `LiveChatClient`.
public struct LiveChatAttempt: Sendable, Hashable {
    /// `GET`, `POST` or `PUT`.
    public var method: String
    /// The path and query that were requested, without the base URL.
    public var path: String
    /// 1 for the first attempt of a call, 2 for its first retry, …
    public var number: Int
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// How the attempt failed; nil when it succeeded.
    public var failure: LiveChatError.Kind?
    /// Whether the client will try again after this attempt.
    public var willRetry: Bool
    /// From sending to the complete answer or the failure.
    public var duration: Duration
}
