import Foundation
import LiveChat

/// Request bodies are read into the project's one `JSONValue` (LiveChat's), so that each field's
/// problem gets its own message.
extension JSONValue {
    /// Parses a JSON text (RFC 8259) with `JSONParser`; throws on anything malformed.
    init(parsing bytes: some Collection<UInt8>) throws {
        self = try JSONParser.parse(Array(bytes))
    }

    /// The value as text when it is a string or a number (clients send `"page": "1"` and `1` alike).
    var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number) where number.rounded() == number && abs(number) < 1e15: return String(Int64(number))
        case .double(let number): return String(number)
        default: return nil
        }
    }
}

/// A small strict JSON parser (RFC 8259) for request bodies. Why not Foundation's: its
/// `JSONDecoder` and `JSONSerialization` accept what the API refuses (a trailing comma:
/// `{"a": 1,}`), and the sandbox must refuse what the API refuses, or a script tested against it
/// fails against LiveChat (`EncodingTests.testMalformedBodiesAreRefused`). It also reads the
/// bytes once, where decoding into an enum tries each type in turn.
struct JSONParser {
    struct Malformed: Error {}

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    /// Deep enough for any real body, shallow enough that recursion cannot exhaust the stack.
    static let maximumDepth = 512

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw Malformed() }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value() throws -> JSONValue {
        guard index < bytes.count else { throw Malformed() }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw Malformed() }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw Malformed() }
        index += count
    }

    private mutating func nested<T>(_ body: (inout JSONParser) throws -> T) throws -> T {
        depth += 1
        guard depth <= Self.maximumDepth else { throw Malformed() }
        defer { depth -= 1 }
        return try body(&self)
    }

    private mutating func object() throws -> JSONValue {
        try nested { parser in
            parser.index += 1  // {
            var members: [String: JSONValue] = [:]
            parser.skipWhitespace()
            if parser.peek == UInt8(ascii: "}") { parser.index += 1; return .object(members) }
            while true {
                parser.skipWhitespace()
                guard parser.peek == UInt8(ascii: "\"") else { throw Malformed() }
                let key = try parser.string()
                parser.skipWhitespace()
                guard parser.peek == UInt8(ascii: ":") else { throw Malformed() }
                parser.index += 1
                parser.skipWhitespace()
                members[key] = try parser.value()  // a repeated key: the last one wins
                parser.skipWhitespace()
                switch parser.peek {
                case UInt8(ascii: ","): parser.index += 1
                case UInt8(ascii: "}"): parser.index += 1; return .object(members)
                default: throw Malformed()
                }
            }
        }
    }

    private mutating func array() throws -> JSONValue {
        try nested { parser in
            parser.index += 1  // [
            var elements: [JSONValue] = []
            parser.skipWhitespace()
            if parser.peek == UInt8(ascii: "]") { parser.index += 1; return .array(elements) }
            while true {
                parser.skipWhitespace()
                elements.append(try parser.value())
                parser.skipWhitespace()
                switch parser.peek {
                case UInt8(ascii: ","): parser.index += 1
                case UInt8(ascii: "]"): parser.index += 1; return .array(elements)
                default: throw Malformed()
                }
            }
        }
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func string() throws -> String {
        index += 1  // opening quote
        var decoded: [UInt8] = []
        var runStart = index
        while true {
            guard index < bytes.count else { throw Malformed() }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                decoded.append(contentsOf: bytes[runStart..<index])
                index += 1
                break
            }
            if byte < 0x20 { throw Malformed() }  // control characters must be escaped
            if byte != UInt8(ascii: "\\") { index += 1; continue }
            decoded.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard index < bytes.count else { throw Malformed() }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    else { throw Malformed() }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw Malformed() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw Malformed()
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
                decoded.append(contentsOf: String(unicode).utf8)
            default:
                throw Malformed()
            }
            runStart = index
        }
        // Raw bytes must be valid UTF-8, as JSONDecoder requires.
        guard let text = String(validating: decoded, as: UTF8.self) else { throw Malformed() }
        return text
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw Malformed() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Malformed()
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an integer when it has neither a
    /// fraction nor an exponent and fits in 64 bits, a double otherwise.
    private mutating func number() throws -> JSONValue {
        let start = index
        var integral = true
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, isDigit(first) else { throw Malformed() }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard let digit = peek, isDigit(digit) else { throw Malformed() }
            skipDigits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek, isDigit(digit) else { throw Malformed() }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if integral, let integer = Int(text) { return .int(integer) }
        guard let double = Double(text), double.isFinite else { throw Malformed() }
        return .double(double)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = peek, isDigit(byte) { index += 1 }
    }
}
