import Foundation
import LiveChatLua

/// The prompt's history: the entries of earlier sessions and this one, kept in a file in the XDG
/// state directory (`$XDG_STATE_HOME/livechat-lua/history`, mode 0600).
///
/// An entry that may hold the API key is never kept (not in memory, not in the file), nor is one
/// equal to the entry before it. The file holds one entry a line, newlines and backslashes of
/// multi-line entries escaped; it is appended to as entries come, and trimmed to `limit` entries
/// when a session starts.
final class History {
    /// The file, nil when there is none (no home directory): then history lives in memory only.
    let file: URL?
    /// The most entries kept.
    let limit: Int
    /// The API keys this process knows (from anywhere): a line holding one is a secret.
    let secrets: KnownSecrets
    private(set) var entries: [String] = []

    /// Words that mark a line as holding the API key, whatever its value.
    static let secretMarkers = ["apikey", "api_key", "livechat_api_key"]

    init(file: URL?, limit: Int = 1000, secrets: KnownSecrets) {
        self.file = file
        self.limit = limit
        self.secrets = secrets
        load()
    }

    /// The history of the current user: the file named by the XDG environment variables.
    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment, secrets: KnownSecrets) -> History {
        secrets.add(environment["LIVECHAT_API_KEY"])
        return History(file: defaultFile(environment: environment), secrets: secrets)
    }

    /// `$XDG_STATE_HOME/livechat-lua/history`, or `~/.local/state/livechat-lua/history`; the
    /// specification ignores a relative XDG_STATE_HOME.
    static func defaultFile(environment: [String: String]) -> URL? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return URL(fileURLWithPath: state).appendingPathComponent("livechat-lua/history")
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".local/state/livechat-lua/history")
    }

    /// Whether an entry may be kept: not blank, no sign of the API key.
    func isKeepable(_ entry: String) -> Bool {
        guard entry.contains(where: { !$0.isWhitespace }) else { return false }
        let lowered = entry.lowercased()
        if Self.secretMarkers.contains(where: { lowered.contains($0) }) { return false }
        if secrets.appear(in: entry) { return false }
        return true
    }

    /// Adds an entry unless it is a secret or repeats the last one; returns whether it was added.
    @discardableResult
    func add(_ entry: String) -> Bool {
        guard isKeepable(entry), entry != entries.last else { return false }
        entries.append(entry)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
        append(entry)
        return true
    }

    // MARK: - The file

    /// Reads the file, dropping entries that are not keepable (a file from an older version, or
    /// edited by hand) and keeping the last `limit`; rewrites it when it held more.
    private func load() {
        guard let file, let data = FileManager.default.contents(atPath: file.path) else { return }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        let decoded = lines.map { Self.decode(String($0)) }
        entries = Array(decoded.filter(isKeepable).suffix(limit))
        if decoded.count != entries.count { rewrite() }
    }

    /// Appends one entry to the file, creating it (and its directory) private to the user.
    private func append(_ entry: String) {
        guard let file, let handle = openPrivate(file, flags: O_WRONLY | O_APPEND | O_CREAT) else { return }
        defer { close(handle) }
        write(Self.encode(entry) + "\n", to: handle)
    }

    /// Replaces the file with the current entries, atomically.
    private func rewrite() {
        guard let file else { return }
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".history.\(getpid())")
        guard let handle = openPrivate(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC) else { return }
        write(entries.map { Self.encode($0) + "\n" }.joined(), to: handle)
        close(handle)
        if rename(temporary.path, file.path) != 0 { unlink(temporary.path) }
    }

    /// Opens a file with mode 0600 (also tightening an existing one), its directory with 0700.
    private func openPrivate(_ url: URL, flags: Int32) -> Int32? {
        let directory = url.deletingLastPathComponent().path
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        let handle = open(url.path, flags | O_CLOEXEC, 0o600)
        guard handle >= 0 else { return nil }
        fchmod(handle, 0o600)
        return handle
    }

    private func write(_ text: String, to handle: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Foundation.write(handle, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// One entry as one line: `\` and newline escaped.
    static func encode(_ entry: String) -> String {
        entry.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// The entry a line of the file holds.
    static func decode(_ line: String) -> String {
        var out = ""
        var escaped = false
        for character in line {
            if escaped {
                out.append(character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
