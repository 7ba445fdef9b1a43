import Foundation
import LiveChat

/// Where the `livechat` module sends requests and as whom. Settings come, weakest first, from the
/// config file, the environment, the command line, `livechat.configure{…}`, and a call's own
/// `apiUrl`/`login`/`apiKey` fields.
public struct ConnectionSettings: Sendable, Hashable {
    public var apiURL: String?
    public var login: String?
    public var apiKey: String?
    /// Allows plain http:// to a host other than loopback.
    public var allowInsecureHTTP = false
    /// Per-attempt timeout, in seconds; nil leaves the client's default.
    public var requestTimeout: Double?
    /// Retries after a failed attempt (within the client's retry rules); nil leaves the default.
    public var retries: Int?

    public init(apiURL: String? = nil, login: String? = nil, apiKey: String? = nil) {
        self.apiURL = apiURL
        self.login = login
        self.apiKey = apiKey
    }

    /// The parts a single call may override.
    public struct Overrides: Sendable, Hashable {
        public var apiURL: String?
        public var login: String?
        public var apiKey: String?
        public var isEmpty: Bool { apiURL == nil && login == nil && apiKey == nil }
    }

    /// These settings with every non-nil field of `other` taking precedence.
    public func overridden(by other: ConnectionSettings) -> ConnectionSettings {
        var merged = self
        if let v = other.apiURL { merged.apiURL = v }
        if let v = other.login { merged.login = v }
        if let v = other.apiKey { merged.apiKey = v }
        if other.allowInsecureHTTP { merged.allowInsecureHTTP = true }
        if let v = other.requestTimeout { merged.requestTimeout = v }
        if let v = other.retries { merged.retries = v }
        return merged
    }

    /// These settings with a call's own fields taking precedence.
    func overridden(by overrides: Overrides) -> ConnectionSettings {
        overridden(by: ConnectionSettings(apiURL: overrides.apiURL, login: overrides.login, apiKey: overrides.apiKey))
    }

    /// `LIVECHAT_API_URL`, `LIVECHAT_LOGIN`, `LIVECHAT_API_KEY` (empty values count as unset).
    public static func fromEnvironment(_ environment: (String) -> String? = ConnectionSettings.getenv) -> ConnectionSettings {
        func value(_ name: String) -> String? {
            guard let v = environment(name), !v.isEmpty else { return nil }
            return v
        }
        return ConnectionSettings(apiURL: value("LIVECHAT_API_URL"), login: value("LIVECHAT_LOGIN"), apiKey: value("LIVECHAT_API_KEY"))
    }

    /// One environment variable, read with the C library: ProcessInfo's dictionary of the whole
    /// environment costs a measurable share of start-up in a binary this size.
    public static func getenv(_ name: String) -> String? {
        Foundation.getenv(name).map { String(cString: $0) }
    }

    /// The config file's path: `$XDG_CONFIG_HOME/livechat-lua/config.json`, by default under
    /// `~/.config`.
    public static func configFilePath(_ environment: (String) -> String? = ConnectionSettings.getenv) -> String {
        let base = environment("XDG_CONFIG_HOME").flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment("HOME") ?? NSHomeDirectory()) + "/.config")
        return base + "/livechat-lua/config.json"
    }

    /// A problem with the config file, said in a way a user can act on.
    public struct FileProblem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the config file (`{"apiUrl": …, "login": …, "apiKey": …}`); nil when there is none.
    /// A file that holds a key and that others can read is refused, as ssh refuses such keys.
    public static func fromConfigFile(at path: String) throws -> ConnectionSettings? {
        // stat(2) rather than FileManager: this runs at every start, and FileManager's set-up
        // is a measurable part of the start-up time.
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileProblem(description: "cannot read \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileProblem(description: "cannot read \(path)")
        }
        let object: [String: String]
        do {
            object = try JSONDecoder().decode([String: String].self, from: data)
        } catch {
            throw FileProblem(description: "\(path) is not a JSON object of strings (apiUrl, login, apiKey)")
        }
        let known: Set<String> = ["apiUrl", "login", "apiKey"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw FileProblem(description: "\(path): unknown setting '\(unknown)' (known: apiUrl, login, apiKey)")
        }
        if object["apiKey"] != nil && info.st_mode & 0o077 != 0 {
            throw FileProblem(description: "\(path) holds an API key but others can read it; run: chmod 600 \(path)")
        }
        return ConnectionSettings(apiURL: object["apiUrl"], login: object["login"], apiKey: object["apiKey"])
    }

    /// The client configuration, or the error a call returns when credentials are missing.
    func clientConfiguration() throws(LiveChatError) -> LiveChatConfiguration {
        guard let login, !login.isEmpty else {
            throw LiveChatError(kind: .auth, message: "no login configured: set LIVECHAT_LOGIN, use --login, or call livechat.configure{login = …}")
        }
        guard let apiKey, !apiKey.isEmpty else {
            throw LiveChatError(kind: .auth, message: "no API key configured: set LIVECHAT_API_KEY, put it in \(Self.configFilePath()), or call livechat.configure{apiKey = …}")
        }
        var configuration = LiveChatConfiguration(apiURL: apiURL ?? LiveChatConfiguration.defaultAPIURL, login: login, apiKey: apiKey, allowInsecureHTTP: allowInsecureHTTP)
        if let requestTimeout, requestTimeout > 0 {
            configuration.requestTimeout = .milliseconds(Int64(requestTimeout * 1000))
        }
        if let retries { configuration.retryPolicy.maxAttempts = retries + 1 }
        return configuration
    }

    /// The key as it may be shown: its last four characters at most, the rest masked.
    static func masked(_ key: String?) -> String? {
        guard let key, !key.isEmpty else { return nil }
        if key.count <= 8 { return String(repeating: "*", count: key.count) }
        return String(repeating: "*", count: key.count - 4) + key.suffix(4)
    }
}
