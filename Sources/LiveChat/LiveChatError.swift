import Foundation

/// Every failure of a `LiveChatClient` call: what went wrong, what the server said, and whether
/// trying again can help.
public struct LiveChatError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of failure; the raw values are the names the Lua API uses.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// 401 or 403: missing or wrong credentials.
        case auth
        /// 400, 413, 422 and other 4xx: the request was refused as it stands.
        case validation
        /// 404: no such ticket or path.
        case notFound = "not_found"
        /// 429: too many requests.
        case rateLimited = "rate_limited"
        /// 5xx: the server failed.
        case server
        /// The connection could not be made, or was lost.
        case network
        /// No (complete) answer within the configured time.
        case timeout
        /// An answer this client cannot use: not JSON, the wrong shape, too large, a redirect.
        case `protocol`
        /// The calling task was cancelled.
        case cancelled
        /// The client is set up wrongly (a bad URL, plain http to a remote host) or shut down.
        case configuration
    }

    public var kind: Kind
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// The server's own messages, from `error` (a string or an array) or `errors`.
    public var messages: [String]
    /// Whether sending the same request again can help, and is safe (never for a create whose
    /// outcome is unknown).
    public var retryable: Bool
    /// A one-line summary for humans.
    public var message: String
    /// How many attempts were made before giving up.
    public var attempts: Int

    public init(
        kind: Kind, status: Int? = nil, messages: [String] = [], retryable: Bool = false,
        message: String, attempts: Int = 1
    ) {
        self.kind = kind
        self.status = status
        self.messages = messages
        self.retryable = retryable
        self.message = message
        self.attempts = attempts
    }

    public var description: String {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        return "LiveChat \(kind.rawValue) error: \(message)\(tries)"
    }
}

extension LiveChatError {
    /// The kind of failure an HTTP status stands for.
    static func kind(forStatus status: Int) -> Kind {
        switch status {
        case 401, 403: return .auth
        case 404: return .notFound
        case 429: return .rateLimited
        case 400..<500: return .validation
        case 500..<600: return .server
        default: return .protocol
        }
    }

    /// The error for a non-2xx answer, with the server's messages when the body has them.
    static func http(status: Int, reason: String, body: [UInt8], retryable: Bool) -> LiveChatError {
        let kind = kind(forStatus: status)
        let head = reason.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(reason)"
        let messages: [String]
        let summary: String
        if body.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
            messages = []
            summary = "\(head) (empty response body)"
        } else if let found = serverMessages(in: body) {
            messages = found
            summary = found.isEmpty ? "\(head) (no error message in the response)" : "\(head): " + found.joined(separator: "; ")
        } else {
            messages = []
            summary = "\(head) (response body was not JSON)"
        }
        return LiveChatError(kind: kind, status: status, messages: messages, retryable: retryable, message: summary)
    }

    /// The messages of a JSON error body (`error` as a string or array, else `errors`, else
    /// `message`); nil when the body is not JSON at all.
    static func serverMessages(in body: [UInt8]) -> [String]? {
        guard !JSONDepth.exceedsLimit(body), let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
            return nil
        }
        guard case .object(let members) = value else {
            return []
        }
        for key in ["error", "errors", "message"] {
            if let found = members[key].map(strings(in:)), !found.isEmpty {
                return found
            }
        }
        return []
    }

    private static func strings(in value: JSONValue) -> [String] {
        switch value {
        case .string(let text): return [text]
        case .array(let items): return items.flatMap(strings(in:))
        case .object(let members):
            // `{"message": …}` objects inside `errors`; otherwise every member, in a stable order.
            if let text = members["message"]?.stringValue { return [text] }
            return members.keys.sorted().flatMap { key in strings(in: members[key]!).map { "\(key): \($0)" } }
        case .int(let number): return [String(number)]
        case .double(let number): return [String(number)]
        case .bool(let flag): return [String(flag)]
        case .null: return []
        }
    }

    /// The calling task was cancelled during or before attempt `attempts`.
    static func cancelled(attempts: Int) -> LiveChatError {
        LiveChatError(kind: .cancelled, message: "the request was cancelled", attempts: max(attempts, 1))
    }

    /// This error with every occurrence of the given secrets replaced, so that a server or proxy
    /// echoing the credentials cannot carry them into a message. Secrets shorter than six
    /// characters are not looked for: they would match ordinary words and hide nothing.
    public func redacting(_ secrets: [String]) -> LiveChatError {
        var copy = self
        for secret in secrets where secret.count >= 6 {
            copy.message = copy.message.replacingOccurrences(of: secret, with: "<redacted>")
            copy.messages = copy.messages.map { $0.replacingOccurrences(of: secret, with: "<redacted>") }
        }
        return copy
    }
}
