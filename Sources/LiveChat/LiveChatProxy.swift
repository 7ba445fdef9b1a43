import Foundation

/// An HTTP proxy (or a SOCKS5 one) that a client reaches the API through. Requests go through
/// the proxy in a `CONNECT` tunnel, https and plain http alike, so the proxy sees only the host
/// and port. Credentials in the proxy URL are sent to the proxy alone (`Proxy-Authorization:
/// Basic`), and never printed: the descriptions show `***` for the password.
public struct LiveChatProxy: Sendable, Hashable {
    /// An HTTP proxy (`CONNECT`) or a SOCKS5 one.
    public enum Kind: String, Sendable, Hashable {
        case http
        case socks5
    }

    public var kind: Kind
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?

    public init(kind: Kind = .http, host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.kind = kind
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// Parses a proxy URL as curl reads one: `http://[user:password@]host[:port]`, `socks5://…`,
    /// or a bare `host:port` (http). The port defaults to 1080, as curl's does. Credentials are
    /// percent-decoded. `origin` names where the URL came from, for the error message.
    public init(url text: String, origin: String = "the proxy URL") throws(LiveChatError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let withScheme = trimmed.contains("://") ? trimmed : "http://" + trimmed
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
              var host = components.host, !host.isEmpty
        else {
            throw LiveChatError(kind: .configuration, message: "\(origin) is not a proxy URL (expected http://host:port): \(Self.masked(trimmed))")
        }
        switch scheme {
        case "http": kind = .http
        case "socks5", "socks5h": kind = .socks5
        case "https":
            throw LiveChatError(kind: .configuration, message: "\(origin): a proxy reached over https is not supported; use http://\(host)…")
        default:
            throw LiveChatError(kind: .configuration, message: "\(origin): unsupported proxy scheme '\(scheme)' (use http:// or socks5://)")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw LiveChatError(kind: .configuration, message: "\(origin) must be only a scheme, a host and a port: \(Self.masked(trimmed))")
        }
        let port = components.port ?? 1080
        guard (1...65535).contains(port) else {
            throw LiveChatError(kind: .configuration, message: "\(origin): the port must be from 1 to 65535, got \(port)")
        }
        self.host = host
        self.port = port
        username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding ?? $0 }
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding ?? $0 }
        if kind == .socks5, username != nil {
            throw LiveChatError(kind: .configuration, message: "\(origin): a SOCKS5 proxy with a user name and password is not supported")
        }
    }

    /// `host:port`, as messages name the proxy.
    public var address: String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    /// What must never be printed: the password and the Basic credentials made of it.
    public var secrets: [String] {
        guard let password, !password.isEmpty else { return [] }
        return [password, Self.basic(username ?? "", password)]
    }

    static func basic(_ user: String, _ password: String) -> String {
        Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// A proxy URL with its password replaced by `***`.
    static func masked(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let start = url.range(of: "://")?.upperBound ?? url.startIndex
        let userInfo = url[start..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }

    // MARK: - Which proxy, as curl decides

    /// The proxy for requests to `apiURL`, as curl chooses one: an explicit proxy (the command
    /// line, the config file) first; otherwise `https_proxy`/`HTTPS_PROXY` for https,
    /// `http_proxy`/`HTTP_PROXY` for http, then `all_proxy`/`ALL_PROXY` (the lowercase name
    /// first), except for loopback hosts. An empty explicit value means no proxy. Either way, a
    /// host that `no_proxy`/`NO_PROXY` lists is reached directly. Returns the proxy and where it
    /// came from.
    public static func select(
        explicit: (url: String, origin: String)?, environment: [String: String], apiURL: String
    ) throws(LiveChatError) -> (proxy: LiveChatProxy, origin: String)? {
        guard let url = URLComponents(string: apiURL), let scheme = url.scheme?.lowercased(), var host = url.host else {
            return nil
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        func variable(_ name: String) -> (String, String)? {
            for candidate in [name.lowercased(), name.uppercased()] {
                if let value = environment[candidate], !value.trimmingCharacters(in: .whitespaces).isEmpty {
                    return (value, candidate)
                }
            }
            return nil
        }
        let chosen: (String, String)?
        if let explicit {
            chosen = explicit.url.trimmingCharacters(in: .whitespaces).isEmpty ? nil : (explicit.url, explicit.origin)
        } else {
            chosen = variable(scheme == "https" ? "https_proxy" : "http_proxy") ?? variable("all_proxy")
        }
        guard let (text, origin) = chosen else { return nil }
        // The machine itself is never reached through an environment's proxy (as Go's clients
        // do): a sandbox on 127.0.0.1 works behind any corporate proxy.
        if explicit == nil, LiveChatConfiguration.isLoopback(host: host) { return nil }
        if let noProxy = variable("no_proxy"), bypasses(host: host, noProxy: noProxy.0) { return nil }
        return (try LiveChatProxy(url: text, origin: origin), origin)
    }

    /// Whether `no_proxy` lists the host: `*` lists every host; a name lists itself and every
    /// name under it (`example.com` and `.example.com` both list `api.example.com`); an address
    /// lists itself. Entries are separated by commas or spaces; a `:port` on an entry is ignored.
    public static func bypasses(host: String, noProxy: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        for raw in noProxy.split(whereSeparator: { $0 == "," || $0 == " " }) {
            var entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if entry == "*" { return true }
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                entry = String(entry[entry.index(after: entry.startIndex)..<close])
            } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
                entry = String(entry[..<colon])
            }
            entry = entry.trimmingCharacters(in: CharacterSet(charactersIn: "."))
            guard !entry.isEmpty else { continue }
            if name == entry || name.hasSuffix("." + entry) { return true }
        }
        return false
    }
}

extension LiveChatProxy: CustomStringConvertible {
    public var description: String {
        "\(kind.rawValue)://" + (username.map { "\($0):***@" } ?? "") + address
    }
}
