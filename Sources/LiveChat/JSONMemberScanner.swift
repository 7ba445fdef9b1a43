/// Reads one string member of a JSON object without decoding the rest: a create's answer is a
/// whole ticket, of which a bulk run needs only the `id`. The whole document is still checked to
/// be well-formed JSON. Anything unusual (the member missing, repeated, not a plain string, escapes
/// in it, malformed JSON) gives nil, and the caller decodes the answer the ordinary way, which
/// also says what is wrong.
enum JSONMemberScanner {
    static func string(named name: String, in bytes: [UInt8]) -> String? {
        var scanner = Scanner(bytes: bytes, wanted: Array(name.utf8))
        guard scanner.topLevelObject(), scanner.found.count == 1 else { return nil }
        let range = scanner.found[0]
        return String(decoding: bytes[range], as: UTF8.self)
    }

    private struct Scanner {
        let bytes: [UInt8]
        let wanted: [UInt8]
        var index = 0
        /// Where the wanted member's plain string values are (without quotes).
        var found: [Range<Int>] = []
        var depth = 0

        init(bytes: [UInt8], wanted: [UInt8]) {
            self.bytes = bytes
            self.wanted = wanted
        }

        mutating func topLevelObject() -> Bool {
            skipSpace()
            guard peek == UInt8(ascii: "{"), object(topLevel: true) else { return false }
            skipSpace()
            return index == bytes.count
        }

        private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        private mutating func value() -> Bool {
            skipSpace()
            guard let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "{"): return object(topLevel: false)
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        private mutating func object(topLevel: Bool) -> Bool {
            depth += 1
            defer { depth -= 1 }
            guard depth <= 512 else { return false }
            index += 1  // {
            skipSpace()
            if peek == UInt8(ascii: "}") { index += 1; return true }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), let key = string() else { return false }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return false }
                index += 1
                skipSpace()
                let isWanted = topLevel && key.plain && bytes[key.range].elementsEqual(wanted)
                if isWanted {
                    if peek == UInt8(ascii: "\""), let text = string(), text.plain {
                        found.append(text.range)
                    } else {
                        found.append(0..<0)
                        found.append(0..<0)  // not a plain string: the caller decodes
                        guard value() else { return false }
                    }
                } else {
                    guard value() else { return false }
                }
                skipSpace()
                guard let next = peek else { return false }
                index += 1
                if next == UInt8(ascii: "}") { return true }
                guard next == UInt8(ascii: ",") else { return false }
            }
        }

        private mutating func array() -> Bool {
            depth += 1
            defer { depth -= 1 }
            guard depth <= 512 else { return false }
            index += 1  // [
            skipSpace()
            if peek == UInt8(ascii: "]") { index += 1; return true }
            while true {
                guard value() else { return false }
                skipSpace()
                guard let next = peek else { return false }
                index += 1
                if next == UInt8(ascii: "]") { return true }
                guard next == UInt8(ascii: ",") else { return false }
            }
        }

        /// A string at `index` (on its opening quote): its contents' range, and whether it has no
        /// escapes. Nil when malformed.
        private mutating func string() -> (range: Range<Int>, plain: Bool)? {
            index += 1
            let start = index
            var plain = true
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return (start..<(index - 1), plain)
                case UInt8(ascii: "\\"):
                    plain = false
                    guard index + 1 < bytes.count else { return nil }
                    let escaped = bytes[index + 1]
                    if escaped == UInt8(ascii: "u") {
                        guard index + 5 < bytes.count,
                              bytes[(index + 2)...(index + 5)].allSatisfy({ Self.isHexDigit($0) })
                        else { return nil }
                        index += 6
                    } else {
                        guard Array("\"\\/bfnrt".utf8).contains(escaped) else { return nil }
                        index += 2
                    }
                case 0..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }

        private static func isHexDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let matches = word.withUTF8Buffer { bytes[index..<(index + count)].elementsEqual($0) }
            index += count
            return matches
        }

        /// A JSON number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
        private mutating func number() -> Bool {
            func digits() -> Int {
                let start = index
                while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
                return index - start
            }
            if peek == UInt8(ascii: "-") { index += 1 }
            if peek == UInt8(ascii: "0") {
                index += 1
            } else if digits() == 0 {
                return false
            }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { return false }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return false }
            }
            return true
        }
    }
}
