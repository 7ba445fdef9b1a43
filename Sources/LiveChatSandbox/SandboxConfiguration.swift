import Foundation

/// Everything that shapes one sandbox server: where it listens, where it stores, who may call it,
/// what it is seeded with and which faults it injects.
public struct SandboxConfiguration: Sendable {
    /// The address to bind; loopback by default.
    public var host: String = "127.0.0.1"
    /// The port to bind; 0 picks a free one (read it back from `SandboxServer.start()`).
    public var port: Int = 0
    /// The SQLite file; nil keeps the database in memory.
    public var databasePath: String? = nil
    /// The agent login accepted as the HTTP Basic user.
    public var login: String = SandboxConfiguration.demoLogin
    /// The API key accepted as the HTTP Basic password.
    public var apiKey: String = SandboxConfiguration.demoAPIKey
    /// An OAuth-style bearer token also accepted, when set.
    public var bearerToken: String? = nil
    /// How many sample tickets to add when the store is empty, at most `maximumSeedTickets`.
    public var seedTickets: Int = 0
    /// The most sample tickets a sandbox is seeded with: a million take about a minute and a few
    /// hundred MB of disk, already more than any script's test needs.
    public static let maximumSeedTickets = 1_000_000
    /// The seed of the sample tickets and of fault injection.
    public var seed: UInt64 = 1
    /// The instant seeded dates count back from; nil means the start of the current UTC day.
    public var seedAnchor: Date? = nil
    /// Failures, rate limits, latency and dropped connections to inject; none by default.
    public var faults: FaultInjection = .none
    /// The largest request body accepted; larger ones are answered with 413.
    public var bodyLimit: Int = 1 << 20
    /// Writes one line per request to stderr: method, path, status, milliseconds (never credentials).
    public var accessLog: Bool = false

    /// The demo account's login: plainly not a real LiveChat agent.
    public static let demoLogin = "agent@sandbox.livechat.local"
    /// The demo account's API key: plainly not a real key.
    public static let demoAPIKey = "sandbox-demo-key"

    public init() {}
}
