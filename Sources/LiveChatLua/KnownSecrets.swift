import Foundation
import Synchronization

/// Every API key this process has been given, however it came (the environment, the config
/// file, the terminal prompt, `livechat.configure{}`, a call's own fields), so that whatever keeps
/// or shows text (the prompt's history, error messages) can leave them out.
public final class KnownSecrets: Sendable {
    private let values = Mutex<Set<String>>([])

    public init() {}

    /// The shortest secret looked for in text: a shorter one (a test's "k") would match
    /// ordinary words and mangle every message, and hides nothing anyway.
    public static let shortestMatched = 6

    /// Remembers a secret; nil and values shorter than `shortestMatched` are ignored.
    public func add(_ secret: String?) {
        guard let secret, secret.count >= Self.shortestMatched else { return }
        _ = values.withLock { $0.insert(secret) }
    }

    /// Every secret known, longest first (so that a key containing another is replaced whole).
    public var all: [String] {
        values.withLock { $0.sorted { $0.count > $1.count } }
    }

    /// Whether any known secret appears in `text`.
    public func appear(in text: String) -> Bool {
        all.contains { text.contains($0) }
    }
}
