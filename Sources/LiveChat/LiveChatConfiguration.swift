import NIOCore
import Foundation

/// Where and how a `LiveChatClient` reaches the API. Its descriptions never show the API key.
public struct LiveChatConfiguration: Sendable, Hashable {
    /// The production API.
    public static let defaultAPIURL = "https://api.livechatinc.com"

    /// The base URL; a path prefix (such as the sandbox's `/v2`) is kept.
    public var apiURL: String
    /// The agent's login, an e-mail address: the user of HTTP Basic.
    public var login: String
    /// The API key: the password of HTTP Basic.
    public var apiKey: String
    /// Allows plain `http://` to hosts other than loopback (127.0.0.0/8, ::1, localhost), which
    /// would send the credentials in clear.
    public var allowInsecureHTTP: Bool
    /// The longest wait for a connection to be made.
    public var connectTimeout: Duration
    /// The longest wait for one attempt's complete answer, from sending to the last body byte.
    public var requestTimeout: Duration
    public var retryPolicy: RetryPolicy
    /// The largest response body accepted; a larger one fails with a `protocol` error.
    public var maxResponseBytes: Int
    /// The most connections open to the API at once; calls beyond it wait for a free one. Set
    /// it to at least the number of calls a caller makes at once, or they queue in the client.
    public var maxConnections: Int
    /// The proxy requests go through; nil: straight to the API. `LiveChatProxy.select` chooses
    /// one from the environment as curl does.
    public var proxy: LiveChatProxy?
    /// PEM files (or folders of them) whose certificates are trusted as roots besides the
    /// system's: a company's own certificate authority.
    public var additionalTrustRoots: [String]

    public init(
        apiURL: String = LiveChatConfiguration.defaultAPIURL, login: String, apiKey: String,
        allowInsecureHTTP: Bool = false, connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(30), retryPolicy: RetryPolicy = .default,
        maxResponseBytes: Int = 8 * 1024 * 1024, maxConnections: Int = 32,
        proxy: LiveChatProxy? = nil, additionalTrustRoots: [String] = []
    ) {
        self.apiURL = apiURL
        self.login = login
        self.apiKey = apiKey
        self.allowInsecureHTTP = allowInsecureHTTP
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retryPolicy = retryPolicy
        self.maxResponseBytes = maxResponseBytes
        self.maxConnections = max(1, maxConnections)
        self.proxy = proxy
        self.additionalTrustRoots = additionalTrustRoots
    }

    /// Checks the URL and the transport rule; returns the base URL without a trailing slash.
    public func validatedBaseURL() throws -> String {
        var base = apiURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(),
              let host = url.host, !host.isEmpty
        else {
            throw LiveChatError(kind: .configuration, message: "invalid API URL '\(apiURL)'")
        }
        guard url.query == nil, url.fragment == nil, url.user == nil, url.password == nil else {
            throw LiveChatError(
                kind: .configuration,
                message: "the API URL must not carry a query, fragment or credentials")
        }
        switch scheme {
        case "https":
            return base
        case "http" where allowInsecureHTTP || Self.isLoopback(host: host):
            return base
        case "http":
            throw LiveChatError(
                kind: .configuration,
                message: "refusing plain http:// to \(host): it would send the credentials in clear; "
                    + "use https://, a loopback host, or allow insecure HTTP explicitly")
        default:
            throw LiveChatError(kind: .configuration, message: "unsupported URL scheme '\(scheme)' in the API URL")
        }
    }

    /// Whether a host name or address is the local machine: `localhost`, 127.0.0.0/8 or ::1.
    static func isLoopback(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ $0.count <= 3 && UInt8($0) != nil }) {
            return octets[0] == "127"
        }
        return name == "::1" || name == "0:0:0:0:0:0:0:1"
    }
}

extension LiveChatConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "LiveChatConfiguration(apiURL: \(apiURL), login: \(login), apiKey: \(Self.maskedKey), "
            + "allowInsecureHTTP: \(allowInsecureHTTP), connectTimeout: \(connectTimeout), "
            + "requestTimeout: \(requestTimeout), maxResponseBytes: \(maxResponseBytes)"
            + (proxy.map { ", proxy: \($0)" } ?? "") + ")"
    }

    public var debugDescription: String { description }

    /// What `dump` and debuggers show: every field, the key masked.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "apiURL": apiURL, "login": login, "apiKey": Self.maskedKey,
            "allowInsecureHTTP": allowInsecureHTTP, "connectTimeout": connectTimeout,
            "requestTimeout": requestTimeout, "retryPolicy": retryPolicy,
            "maxResponseBytes": maxResponseBytes, "maxConnections": maxConnections,
            "proxy": proxy.map { "\($0)" } ?? "none", "additionalTrustRoots": additionalTrustRoots,
        ], displayStyle: .struct)
    }

    private static let maskedKey = "<redacted>"
}

extension Duration {
    /// The duration as NIO's time amount, to the nanosecond.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        // Saturating: the configured durations are bounded, but no duration may trap here.
        let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .nanoseconds(seconds < 0 ? .min : .max) }
        let (total, overflowAgain) = nanoseconds.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(overflowAgain ? .max : total)
    }
}
