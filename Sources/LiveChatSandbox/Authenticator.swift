import Foundation
import Synchronization

/// Checks a request's `Authorization` header against the sandbox's account: HTTP Basic with the
/// configured login (case-insensitive, it is an e-mail) and API key, or the configured bearer token.
final class Authenticator: Sendable {
    let login: String
    let apiKey: String
    let bearerToken: String?
    /// Header values already admitted: a client sends the same one on every request, and checking
    /// it again (trimming, splitting, base64, lowercasing) was a visible share of a cached read.
    private let admitted = Mutex(Set<String>())
    /// Enough for every client of a local sandbox; beyond it the memo starts over.
    private static let admittedCapacity = 64

    init(login: String, apiKey: String, bearerToken: String? = nil) {
        self.login = login
        self.apiKey = apiKey
        self.bearerToken = bearerToken
    }

    /// Why a request was refused; the messages never repeat what the caller sent.
    enum Refusal: Error, Equatable {
        case missing
        case malformed
        case wrongCredentials

        var message: String {
            switch self {
            case .missing: return "authentication required: HTTP Basic with your login and API key"
            case .malformed: return "malformed Authorization header"
            case .wrongCredentials: return "invalid login or API key"
            }
        }
    }

    /// nil when the header admits the caller, the refusal otherwise.
    func check(_ authorization: String?) -> Refusal? {
        if let authorization, admitted.withLock({ $0.contains(authorization) }) { return nil }
        let refusal = verify(authorization)
        if refusal == nil, let authorization {
            admitted.withLock { admitted in
                if admitted.count >= Self.admittedCapacity { admitted.removeAll() }
                admitted.insert(authorization)
            }
        }
        return refusal
    }

    private func verify(_ authorization: String?) -> Refusal? {
        guard let authorization = authorization?.trimmed(newlines: false), !authorization.isEmpty else {
            return .missing
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return .malformed }
        let scheme = parts[0].lowercased()
        let credentials = parts[1].trimmed(newlines: false)
        switch scheme {
        case "basic":
            guard let (user, password) = Self.basicCredentials(credentials) else { return .malformed }
            return user.lowercased() == login.lowercased() && Self.constantTimeEqual(password, apiKey)
                ? nil : .wrongCredentials
        case "bearer":
            guard let bearerToken else { return .wrongCredentials }
            return Self.constantTimeEqual(credentials, bearerToken) ? nil : .wrongCredentials
        default:
            return .malformed
        }
    }

    /// The user and password of Basic credentials: base64 as RFC 7617 says, or `login:key` as is,
    /// since the official docs' curl samples send them unencoded (a base64 text never holds `:` or `@`).
    static func basicCredentials(_ text: String) -> (String, String)? {
        let decoded: String
        if text.utf8.contains(UInt8(ascii: ":")) {
            decoded = text
        } else {
            var base64 = text
            while base64.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64), let string = String(data: data, encoding: .utf8) else {
                return nil
            }
            decoded = string
        }
        guard let colon = decoded.firstIndex(of: ":") else { return nil }
        return (String(decoded[..<colon]), String(decoded[decoded.index(after: colon)...]))
    }

    /// Compares secrets without stopping at the first difference.
    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
