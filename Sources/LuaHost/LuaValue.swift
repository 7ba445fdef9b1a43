import Foundation

/// A Lua value copied into Swift: nil, booleans, integers, floats, byte strings and tables.
///
/// Integers and floats stay apart (`3` and `3.0` are different values, as in Lua 5.4), and strings
/// are bytes, so embedded NULs and non-UTF-8 text survive a round trip.
public enum LuaValue: Hashable, Sendable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(LuaString)
    case table(LuaTable)
    /// A light userdata, by address; `LuaValue.null` (address 0) stands for JSON's null.
    case lightUserdata(UInt)

    /// The light userdata NULL, which the `json` module uses for JSON's `null`.
    public static let null = LuaValue.lightUserdata(0)

    /// The Lua type name of the value, as `type()` would say it.
    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .lightUserdata: return "userdata"
        }
    }

    /// The value as a Swift string when it is a Lua string holding valid UTF-8.
    public var stringValue: String? {
        if case .string(let s) = self { return s.string }
        return nil
    }

    /// The value as an integer when it is an integer, or a float with an exact integer value.
    public var integerValue: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// A number as Lua's `tostring` writes it (`7`, `7.0`, `1e+12`, `inf`); nil for other types.
    public var numberText: String? {
        switch self {
        case .integer(let i): return String(i)
        case .number(let d): return ValuePrinter.format(float: d)
        default: return nil
        }
    }

    /// The value as a Double when it is a number of either subtype.
    public var numberValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    /// The table, when the value is one.
    public var tableValue: LuaTable? {
        if case .table(let t) = self { return t }
        return nil
    }

    /// Lua's truthiness: everything but nil and false is true.
    public var isTruthy: Bool {
        switch self {
        case .nil: return false
        case .boolean(let b): return b
        default: return true
        }
    }
}

/// A Lua string: a sequence of bytes that need not be UTF-8.
public struct LuaString: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// The bytes decoded as UTF-8, or nil when they are not valid UTF-8.
    public var string: String? { String(validating: bytes, as: UTF8.self) }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// The bytes hashed as one block: an array's own hashing feeds them one by one, which made
    /// table lookups a large share of converting a bulk run's rows.
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func == (lhs: LuaString, rhs: LuaString) -> Bool {
        lhs.bytes == rhs.bytes
    }
}

/// A Lua table copied into Swift: its sequence part (keys 1...n) and every other field.
///
/// A table is a sequence when `fields` is empty; a map otherwise. Keys other than positive
/// integers continuing the sequence are kept in `fields`.
public struct LuaTable: Hashable, Sendable {
    public var sequence: [LuaValue]
    public var fields: [LuaValue: LuaValue]

    public init(sequence: [LuaValue] = [], fields: [LuaValue: LuaValue] = [:]) {
        self.sequence = sequence
        self.fields = fields
    }

    /// True when the table has only keys 1...n (an empty table counts as a sequence).
    public var isSequence: Bool { fields.isEmpty }

    /// The value at a string key, nil when absent.
    public subscript(key: String) -> LuaValue {
        get { fields[.string(LuaString(key))] ?? .nil }
        set {
            if case .nil = newValue { fields[.string(LuaString(key))] = nil } else { fields[.string(LuaString(key))] = newValue }
        }
    }
}

extension LuaValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .nil }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(LuaString(value)) }
    public init(arrayLiteral elements: LuaValue...) { self = .table(LuaTable(sequence: elements)) }
    public init(dictionaryLiteral elements: (LuaValue, LuaValue)...) {
        self = .table(LuaTable(fields: Dictionary(elements, uniquingKeysWith: { _, last in last })))
    }
}

extension LuaValue {
    /// A Lua string from a Swift string.
    public static func string(_ s: String) -> LuaValue { .string(LuaString(s)) }
}
