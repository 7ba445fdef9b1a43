import Foundation

/// A decoded `application/x-www-form-urlencoded` body or query string with PHP-style bracket keys,
/// as LiveChat's public v2 clients send them:
/// - keys raw (`requester[mail]`) or percent-encoded (`requester%5Bmail%5D`), hex in either case;
/// - spaces as `+` or `%20`;
/// - arrays as `group[]=1&group[]=2`, `group[0]=1&group[1]=2`, repeated `group=1&group=2`, or `group=1`;
/// - whitespace around a key ignored (the official docs' curl sample sends `  message=`).
struct FormFields: Sendable, Equatable {
    /// One `key=value` pair, its key split into its bracket path: `a[b][]` → ["a", "b", ""].
    struct Pair: Sendable, Equatable {
        var path: [String]
        var value: String
    }

    private(set) var pairs: [Pair]

    /// The most fields a form or query string may carry.
    static let maximumFields = 1_000

    /// Decodes `text`, UTF-8 after percent-decoding unless `latin1` says the bytes are ISO-8859-1.
    /// Throws `FormDecodingError` on a broken escape, bytes that are not text, or a broken bracket key.
    init(decoding text: Substring, latin1: Bool = false) throws {
        var pairs: [Pair] = []
        for piece in text.split(separator: "&", omittingEmptySubsequences: true) {
            // Every lookup scans the pairs: a body of 200,000 of them kept a request busy for
            // seconds. No ticket, query or tag list needs more than this.
            guard pairs.count < Self.maximumFields else {
                throw FormDecodingError(message: "too many fields (more than \(Self.maximumFields))")
            }
            let key: Substring
            let value: Substring
            if let equals = piece.firstIndex(of: "=") {
                key = piece[..<equals]
                value = piece[piece.index(after: equals)...]
            } else {
                key = piece
                value = ""
            }
            let name = try Self.percentDecode(key, latin1: latin1).trimmingCharacters(in: .whitespacesAndNewlines)
            if name.isEmpty { continue }
            pairs.append(Pair(path: try Self.bracketPath(name), value: try Self.percentDecode(value, latin1: latin1)))
        }
        self.pairs = pairs
    }

    /// The last non-empty value of a scalar field (`["requester", "mail"]`), or nil when absent.
    /// Later values win, as in PHP.
    func value(_ path: [String]) -> String? {
        pairs.last(where: { $0.path == path && !$0.value.isEmpty })?.value
    }

    /// The non-empty values of an array field, in order: indexed entries (`group[1]`) sorted by index,
    /// then the others (`group[]`, `group`) in the order they came.
    func values(_ name: String) -> [String]? {
        var indexed: [(Int, Int, String)] = []
        var plain: [String] = []
        var present = false
        for (position, pair) in pairs.enumerated() where pair.path.first == name {
            switch pair.path.count {
            case 1:
                present = true
                if !pair.value.isEmpty { plain.append(pair.value) }
            case 2 where pair.path[1].isEmpty:
                present = true
                if !pair.value.isEmpty { plain.append(pair.value) }
            case 2:
                guard let index = Int(pair.path[1]) else { continue }
                present = true
                if !pair.value.isEmpty { indexed.append((index, position, pair.value)) }
            default:
                continue
            }
        }
        guard present else { return nil }
        return indexed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2) + plain
    }

    /// Splits `a[b][c]` into ["a", "b", "c"]; a name without brackets is a one-element path.
    static func bracketPath(_ name: String) throws -> [String] {
        guard let open = name.firstIndex(of: "[") else { return [name] }
        var path = [String(name[..<open])]
        var rest = name[open...]
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else {
                throw FormDecodingError(message: "malformed field name: \(name)")
            }
            path.append(String(rest[rest.index(after: rest.startIndex)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        if path[0].isEmpty { throw FormDecodingError(message: "malformed field name: \(name)") }
        return path
    }

    /// Decodes `+` and `%XX` escapes (hex in either case) and checks the result is text.
    static func percentDecode(_ text: Substring, latin1: Bool) throws -> String {
        let utf8 = text.utf8
        if !utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") || $0 >= 0x80 }) {
            return String(text)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first != utf8.endIndex, utf8.index(after: first) != utf8.endIndex,
                      let high = hexValue(utf8[first]), let low = hexValue(utf8[utf8.index(after: first)])
                else { throw FormDecodingError(message: "malformed percent-encoding in \(text.prefix(60))") }
                bytes.append(high << 4 | low)
                index = utf8.index(after: first)
            } else {
                bytes.append(byte)
            }
            index = utf8.index(after: index)
        }
        if latin1 { return String(bytes.map { Character(Unicode.Scalar($0)) }) }
        guard let decoded = String(bytes: bytes, encoding: .utf8) else {
            throw FormDecodingError(message: "form data is not valid UTF-8")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// A form body or query string that cannot be decoded.
struct FormDecodingError: Error, Equatable {
    var message: String
}
