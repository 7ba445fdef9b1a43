import Foundation

/// Encodes an `Encodable` value straight into a `LuaValue`, in one pass (no JSON text between):
/// a keyed container becomes a table with string keys, an unkeyed one a sequence, `nil` is
/// `LuaValue.null`, integers stay integers and floating-point numbers floats.
public struct LuaValueEncoder {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> LuaValue {
        let root = EncodedNode()
        try value.encode(to: NodeEncoder(node: root, codingPath: []))
        return root.value
    }
}

/// Decodes a `Decodable` value straight from a `LuaValue`: the inverse of `LuaValueEncoder`. A
/// float with an integral value decodes as an integer; `nil` and `LuaValue.null` as nil.
public struct LuaValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: LuaValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

// MARK: - Encoding

/// One value being encoded: set once, or filled as a table.
private final class EncodedNode {
    enum Content {
        case value(LuaValue)
        case keyed([String: EncodedNode])
        case unkeyed([EncodedNode])
    }

    var content = Content.value(.null)

    var value: LuaValue {
        switch content {
        case .value(let value):
            return value
        case .keyed(let members):
            var table = LuaTable()
            table.fields.reserveCapacity(members.count)
            for (key, node) in members { table.fields[.string(LuaString(key))] = node.value }
            return .table(table)
        case .unkeyed(let items):
            return .table(LuaTable(sequence: items.map(\.value)))
        }
    }

    /// The member `key`, made a keyed table first if need be.
    func member(_ key: String) -> EncodedNode {
        var members: [String: EncodedNode] = [:]
        if case .keyed(let existing) = content { members = existing }
        if let node = members[key] { return node }
        let node = EncodedNode()
        members[key] = node
        content = .keyed(members)
        return node
    }

    func makeKeyed() {
        if case .keyed = content { return }
        content = .keyed([:])
    }

    func makeUnkeyed() {
        if case .unkeyed = content { return }
        content = .unkeyed([])
    }

    func append() -> EncodedNode {
        var items: [EncodedNode] = []
        if case .unkeyed(let existing) = content { items = existing }
        let node = EncodedNode()
        items.append(node)
        content = .unkeyed(items)
        return node
    }

    var count: Int {
        if case .unkeyed(let items) = content { return items.count }
        return 0
    }
}

private struct NodeEncoder: Encoder {
    let node: EncodedNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeKeyed()
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeUnkeyed()
        return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeEncoder(node: node, codingPath: codingPath)
    }
}

/// The Lua value of a scalar, or nil when `value` is not one (it encodes itself).
private func scalar<T: Encodable>(_ value: T) -> LuaValue? {
    switch value {
    case let value as String: return .string(LuaString(value))
    case let value as Bool: return .boolean(value)
    case let value as Int: return .integer(Int64(value))
    case let value as Int64: return .integer(value)
    case let value as Int32: return .integer(Int64(value))
    case let value as Int16: return .integer(Int64(value))
    case let value as Int8: return .integer(Int64(value))
    case let value as UInt8: return .integer(Int64(value))
    case let value as UInt16: return .integer(Int64(value))
    case let value as UInt32: return .integer(Int64(value))
    case let value as UInt: return Int64(exactly: value).map(LuaValue.integer) ?? .number(Double(value))
    case let value as UInt64: return Int64(exactly: value).map(LuaValue.integer) ?? .number(Double(value))
    case let value as Double: return .number(value)
    case let value as Float: return .number(Double(value))
    case let value as LuaValue: return value
    default: return nil
    }
}

private func encode<T: Encodable>(_ value: T, into node: EncodedNode, codingPath: [any CodingKey]) throws {
    if let scalar = scalar(value) {
        node.content = .value(scalar)
    } else {
        try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
    }
}

private struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodedNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try LuaHost.encode(value, into: node.member(key.stringValue), codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = node.member(key.stringValue)
        child.makeKeyed()
        return KeyedEncodingContainer(KeyedNodeEncoder<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.member(key.stringValue)
        child.makeUnkeyed()
        return UnkeyedNodeEncoder(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.member("super"), codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { String(intValue ?? 0) }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let node: EncodedNode
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws { node.append().content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [IndexKey(count)]
        try LuaHost.encode(value, into: node.append(), codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [IndexKey(count)]
        let child = node.append()
        child.makeKeyed()
        return KeyedEncodingContainer(KeyedNodeEncoder<NestedKey>(node: child, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [IndexKey(count)]
        let child = node.append()
        child.makeUnkeyed()
        return UnkeyedNodeEncoder(node: child, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.append(), codingPath: codingPath) }
}

private struct SingleNodeEncoder: SingleValueEncodingContainer {
    let node: EncodedNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try LuaHost.encode(value, into: node, codingPath: codingPath)
    }
}

// MARK: - Decoding

private struct ValueDecoder: Decoder {
    let value: LuaValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(value.typeName)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .table(let table) = value else { throw mismatch("a table") }
        return KeyedDecodingContainer(KeyedValueDecoder<Key>(table: table, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .table(let table) = value else { throw mismatch("a table") }
        return UnkeyedValueDecoder(items: table.sequence, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueDecoder(decoder: self)
    }
}

private func decodeValue<T: Decodable>(_ type: T.Type, from value: LuaValue, codingPath: [any CodingKey]) throws -> T {
    func mismatch() -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(type), got \(value.typeName)"))
    }
    func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
        if let whole = value.integerValue, let exact = I(exactly: whole) { return exact }
        // An unsigned value beyond Int64 was carried as a float.
        if let number = value.numberValue, let exact = I(exactly: number) { return exact }
        throw mismatch()
    }
    switch type {
    case is String.Type:
        guard case .string(let text) = value, let string = text.string else { throw mismatch() }
        return string as! T
    case is Bool.Type:
        guard case .boolean(let flag) = value else { throw mismatch() }
        return flag as! T
    case is Double.Type:
        guard let number = value.numberValue else { throw mismatch() }
        return number as! T
    case is Float.Type:
        guard let number = value.numberValue else { throw mismatch() }
        return Float(number) as! T
    case is Int.Type: return try integer(Int.self) as! T
    case is Int64.Type: return try integer(Int64.self) as! T
    case is Int32.Type: return try integer(Int32.self) as! T
    case is UInt.Type: return try integer(UInt.self) as! T
    case is UInt64.Type: return try integer(UInt64.self) as! T
    case is LuaValue.Type: return value as! T
    default: return try T(from: ValueDecoder(value: value, codingPath: codingPath))
    }
}

private struct KeyedValueDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let table: LuaTable
    let codingPath: [any CodingKey]

    var allKeys: [Key] {
        table.fields.keys.compactMap { $0.stringValue.flatMap(Key.init(stringValue:)) }
    }

    private func lookup(_ key: Key) -> LuaValue? {
        if let value = table.fields[.string(LuaString(key.stringValue))] { return value }
        if let index = key.intValue, index >= 1, index <= table.sequence.count { return table.sequence[index - 1] }
        return nil
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = lookup(key) else { return true }
        return value == .nil || value == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no field '\(key.stringValue)'"))
        }
        return try decodeValue(type, from: value, codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: lookup(key) ?? .nil, codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: lookup(key) ?? .nil, codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .table(table), codingPath: codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: lookup(key) ?? .nil, codingPath: codingPath + [key])
    }
}

private struct UnkeyedValueDecoder: UnkeyedDecodingContainer {
    let items: [LuaValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> (LuaValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "no more elements"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .nil || items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try decodeValue(type, from: value, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next()
        return ValueDecoder(value: value, codingPath: path)
    }
}

private struct SingleValueDecoder: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .nil || decoder.value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(type, from: decoder.value, codingPath: codingPath)
    }
}
