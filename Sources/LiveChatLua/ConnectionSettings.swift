import Foundation
@_spi(LiveChatTools) import LiveChat

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
    /// The URL the key was given with, when it came with one: the key is sent there and nowhere
    /// else. Nil: the key was given alone and goes to whichever URL is in force.
    public var keyURL: String?
    /// Why requests cannot be made with these settings (a broken config file), said for the
    /// user; nil when nothing stands in the way.
    public var problem: String?
    /// The proxy given explicitly (`--proxy`, the config file's `proxy`); "" for none. Nil: the
    /// environment's (`https_proxy`, …), as curl reads it.
    public var proxy: String?
    /// Where `proxy` came from, for messages ("--proxy").
    public var proxyOrigin: String?
    /// A PEM file of certificates trusted besides the system's (the config file's `caFile`);
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` add theirs.
    public var caFile: String?

    /// Settings from one place; a key given with a URL is bound to that URL.
    public init(apiURL: String? = nil, login: String? = nil, apiKey: String? = nil) {
        self.apiURL = apiURL
        self.login = login
        self.apiKey = apiKey
        if apiKey != nil { keyURL = apiURL }
    }

    /// The per-request timeouts allowed, in seconds: more than 0, at most an hour.
    public static let longestTimeout = 3600.0

    /// Why `seconds` is not a timeout the client can use (said for `what`, e.g. "'--timeout'"),
    /// nil when it is one.
    public static func timeoutProblem(_ seconds: Double, _ what: String) -> String? {
        guard seconds > 0, seconds <= longestTimeout else {
            return "\(what) expects seconds, more than 0 and at most 3600"
        }
        return nil
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
        if let v = other.apiKey {
            merged.apiKey = v
            merged.keyURL = other.keyURL
        }
        if let v = other.problem { merged.problem = v }
        if let v = other.proxy {
            merged.proxy = v
            merged.proxyOrigin = other.proxyOrigin
        }
        if let v = other.caFile { merged.caFile = v }
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

    /// The settings the config file may hold.
    static let fileKeys = ["apiUrl", "login", "apiKey", "proxy", "caFile"]

    /// Reads the config file (`{"apiUrl": …, "login": …, "apiKey": …, "proxy": …, "caFile": …}`);
    /// nil when there is none.
    /// A problem names the file, the setting, and the line and column where it is. A file that
    /// holds a key and that others can read is refused, as ssh refuses such keys.
    public static func fromConfigFile(at path: String) throws(FileProblem) -> ConnectionSettings? {
        // stat(2) rather than FileManager: this runs at every start, and FileManager's set-up
        // is a measurable part of the start-up time.
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw FileProblem(description: "cannot read the config file \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        guard info.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: path) else {
            throw FileProblem(description: "cannot read the config file \(path): it is not a regular file")
        }
        let object: [String: JSONValue]
        do {
            guard !JSONDepth.exceedsLimit(data) else {
                throw FileProblem(description: "\(path): not valid JSON (nested more than \(JSONDepth.limit) levels deep)")
            }
            guard case .object(let members) = try JSONDecoder().decode(JSONValue.self, from: data) else {
                throw FileProblem(description: "\(path): the config file must hold a JSON object, such as {\"login\": \"agent@example.com\"}")
            }
            object = members
        } catch let problem as FileProblem {
            throw problem
        } catch {
            throw FileProblem(description: "\(path): not valid JSON (\(JSONText.describe(error, in: data)))")
        }
        for key in object.keys.sorted() where !fileKeys.contains(key) {
            let suggestion = TicketArguments.closest(to: key, in: Set(fileKeys)).map { " (did you mean '\($0)'?)" } ?? ""
            throw FileProblem(description: "\(path):\(JSONText.position(ofKey: key, in: data)): unknown setting '\(key)'\(suggestion); known: \(fileKeys.joined(separator: ", "))")
        }
        var strings: [String: String] = [:]
        for key in fileKeys {
            guard let value = object[key] else { continue }
            guard case .string(let text) = value else {
                throw FileProblem(description: "\(path):\(JSONText.position(ofKey: key, in: data)): '\(key)' must be a string, got \(value.typeName)")
            }
            strings[key] = text
        }
        if strings["apiKey"] != nil && info.st_mode & 0o077 != 0 {
            throw FileProblem(description: "\(path) holds an API key but others can read it; run: chmod 600 \(path)")
        }
        var settings = ConnectionSettings(apiURL: strings["apiUrl"], login: strings["login"], apiKey: strings["apiKey"])
        if let proxy = strings["proxy"] {
            settings.proxy = proxy
            settings.proxyOrigin = "'proxy' in \(path)"
        }
        settings.caFile = strings["caFile"].map { caFile in
            // Relative to the config file's folder, as a path in a config file is read.
            caFile.hasPrefix("/") ? caFile : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(caFile)
        }
        return settings
    }

    /// The settings in force before any script runs, weakest first: the config file, the
    /// environment, the command line; with `sandbox`, the sandbox's own over all of them. Also
    /// what the user should be told: a config file's problem (which then stops requests, and
    /// nothing else), and explicit settings that `--sandbox` overrides.
    public static func resolved(
        commandLine: ConnectionSettings, sandbox: (() throws -> ConnectionSettings)? = nil,
        environment: (String) -> String? = ConnectionSettings.getenv
    ) throws -> (settings: ConnectionSettings, warnings: [String]) {
        var warnings: [String] = []
        var settings = ConnectionSettings()
        let path = configFilePath(environment)
        do {
            if let file = try fromConfigFile(at: path) { settings = settings.overridden(by: file) }
        } catch {
            settings.problem = error.description
            warnings.append(sandbox == nil
                ? "\(error.description) (requests fail until it is fixed)"
                : "\(error.description) (ignored: --sandbox uses its own settings)")
        }
        let fromEnvironment = fromEnvironment(environment)
        settings = settings.overridden(by: fromEnvironment)
        settings = settings.overridden(by: commandLine)
        // A key given without a URL belongs to the URL these settings send it to: a script's
        // later `configure{apiUrl = …}` or a call's own apiUrl does not take it elsewhere.
        if settings.apiKey != nil && settings.keyURL == nil {
            settings.keyURL = settings.apiURL ?? LiveChatConfiguration.defaultAPIURL
        }
        guard let sandbox else { return (settings, warnings) }
        var overridden: [String] = []
        if commandLine.apiURL != nil { overridden.append("--api-url") }
        if commandLine.login != nil { overridden.append("--login") }
        if fromEnvironment.apiURL != nil { overridden.append("LIVECHAT_API_URL") }
        if fromEnvironment.login != nil { overridden.append("LIVECHAT_LOGIN") }
        if fromEnvironment.apiKey != nil { overridden.append("LIVECHAT_API_KEY") }
        if !overridden.isEmpty {
            warnings.append("--sandbox overrides \(overridden.joined(separator: ", ")): requests go to the sandbox, with its own login and key")
        }
        var embedded = try sandbox()
        embedded.requestTimeout = commandLine.requestTimeout
        embedded.retries = commandLine.retries
        embedded.proxy = commandLine.proxy
        embedded.proxyOrigin = commandLine.proxyOrigin
        return (embedded, warnings)
    }

    /// The client configuration, or the error a call returns when credentials are missing.
    func clientConfiguration() throws(LiveChatError) -> LiveChatConfiguration {
        if let problem { throw LiveChatError(kind: .configuration, message: problem) }
        guard let login, !login.isEmpty else {
            throw LiveChatError(kind: .auth, message: "no login configured: set LIVECHAT_LOGIN, use --login, or call livechat.configure{login = …}")
        }
        if let withheld = withheldKeyURL {
            throw LiveChatError(kind: .auth, message: "the API key given for \(withheld) is not sent to \(apiURL ?? LiveChatConfiguration.defaultAPIURL): give apiKey together with apiUrl")
        }
        guard let apiKey, !apiKey.isEmpty else {
            throw LiveChatError(kind: .auth, message: "no API key configured: set LIVECHAT_API_KEY, put it in \(Self.configFilePath()), or call livechat.configure{apiKey = …}")
        }
        var configuration = LiveChatConfiguration(apiURL: apiURL ?? LiveChatConfiguration.defaultAPIURL, login: login, apiKey: apiKey, allowInsecureHTTP: allowInsecureHTTP)
        configuration.proxy = try LiveChatProxy.select(
            explicit: proxy.map { ($0, proxyOrigin ?? "the proxy URL") }, environment: Self.proxyEnvironment(),
            apiURL: configuration.apiURL)?.proxy
        configuration.additionalTrustRoots = trustRoots()
        if let requestTimeout, Self.timeoutProblem(requestTimeout, "") == nil {
            configuration.requestTimeout = .milliseconds(Int64((requestTimeout * 1000).rounded(.up)))
        }
        if let retries { configuration.retryPolicy.maxAttempts = retries + 1 }
        return configuration
    }

    /// The variables `LiveChatProxy.select` reads, those that are set.
    static let proxyVariables = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                                 "no_proxy", "NO_PROXY"]

    static func proxyEnvironment(_ environment: (String) -> String? = ConnectionSettings.getenv) -> [String: String] {
        var values: [String: String] = [:]
        for name in proxyVariables { values[name] = environment(name) }
        return values
    }

    /// The proxy passwords these settings and the environment hold: never printed, never kept
    /// in the history.
    func proxySecrets(_ environment: (String) -> String? = ConnectionSettings.getenv) -> [String] {
        let urls = [proxy].compactMap { $0 } + Self.proxyVariables.compactMap(environment)
        return urls.flatMap { url in (try? LiveChatProxy(url: url))?.secrets ?? [] }
    }

    /// The trust files and folders: the config file's `caFile`, then `SSL_CERT_FILE` and the
    /// folders of `SSL_CERT_DIR` (colon-separated), as OpenSSL reads them; each adds to the
    /// system's roots.
    func trustRoots(_ environment: (String) -> String? = ConnectionSettings.getenv) -> [String] {
        var paths = [caFile].compactMap { $0 }
        if let file = environment("SSL_CERT_FILE"), !file.isEmpty { paths.append(file) }
        if let folders = environment("SSL_CERT_DIR") {
            // A search path, as OpenSSL reads it: a folder that is not there is passed over.
            paths += folders.split(separator: ":").map(String.init).filter { folder in
                var isFolder: ObjCBool = false
                return FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue
            }
        }
        return paths
    }

    /// The URL a key was bound to when it may not go to the URL in force; nil when the key (if
    /// any) may be sent.
    var withheldKeyURL: String? {
        guard apiKey != nil, let keyURL else { return nil }
        return Self.sameTarget(keyURL, apiURL ?? LiveChatConfiguration.defaultAPIURL) ? nil : keyURL
    }

    /// These settings without a key bound to another URL than the one in force (the login stays,
    /// so a terminal may ask for the key of this URL).
    var withoutWithheldKey: ConnectionSettings {
        guard withheldKeyURL != nil else { return self }
        var copy = self
        copy.apiKey = nil
        copy.keyURL = nil
        return copy
    }

    /// Whether two API URLs name the same place: scheme and host in any case, a trailing slash
    /// or not.
    static func sameTarget(_ a: String, _ b: String) -> Bool {
        func normal(_ url: String) -> String {
            var text = url.trimmingCharacters(in: .whitespaces)
            while text.hasSuffix("/") { text.removeLast() }
            guard let components = URLComponents(string: text) else { return text }
            var normalized = components
            normalized.scheme = components.scheme?.lowercased()
            normalized.host = components.host?.lowercased()
            return normalized.string ?? text
        }
        return normal(a) == normal(b)
    }

    /// The key as it may be shown: its last four characters at most, the rest masked.
    static func masked(_ key: String?) -> String? {
        guard let key, !key.isEmpty else { return nil }
        if key.count <= 8 { return String(repeating: "*", count: key.count) }
        return String(repeating: "*", count: key.count - 4) + key.suffix(4)
    }
}
