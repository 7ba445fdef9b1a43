import Foundation

/// LuaValue as JSON-shaped data: the bridge between Lua tables and `Codable` Swift types.
///
/// Integers stay integers and floats stay floats; JSON `null` is `LuaValue.null`. A table with
/// only keys 1...n is an array; any other table is an object whose keys must be strings (or
/// integers, written as their decimal text). An empty table is an empty array.
extension LuaValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .boolean(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .integer(i)
        } else if let d = try? container.decode(Double.self) {
            self = .number(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(LuaString(s))
        } else if let array = try? container.decode([LuaValue].self) {
            self = .table(LuaTable(sequence: array))
        } else {
            let object = try container.decode([String: LuaValue].self)
            var table = LuaTable()
            table.fields.reserveCapacity(object.count)
            for (key, value) in object { table.fields[.string(LuaString(key))] = value }
            self = .table(table)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .nil: try container.encodeNil()
        case .lightUserdata(0): try container.encodeNil()
        case .lightUserdata:
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "cannot encode a userdata value"))
        case .boolean(let b): try container.encode(b)
        case .integer(let i): try container.encode(i)
        case .number(let d):
            guard d.isFinite else {
                throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "cannot encode \(d) (JSON has no NaN or infinity)"))
            }
            try container.encode(d)
        case .string(let s):
            guard let text = s.string else {
                throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "cannot encode a string that is not valid UTF-8"))
            }
            try container.encode(text)
        case .table(let table):
            if table.isSequence {
                try container.encode(table.sequence)
            } else {
                var object = [String: LuaValue]()
                for (index, item) in table.sequence.enumerated() { object[String(index + 1)] = item }
                for (key, item) in table.fields {
                    switch key {
                    case .string(let s):
                        guard let text = s.string else {
                            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "cannot encode a key that is not valid UTF-8"))
                        }
                        object[text] = item
                    case .integer(let i): object[String(i)] = item
                    default:
                        throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "cannot encode a table key of type \(key.typeName)"))
                    }
                }
                try container.encode(object)
            }
        }
    }
}

extension LuaValue {
    /// The Lua form of any `Encodable` value, made in one pass (`LuaValueEncoder`).
    public init<T: Encodable>(encoding value: T) throws {
        self = try LuaValueEncoder().encode(value)
    }

    /// Decodes a `Decodable` Swift value from this Lua value, in one pass (`LuaValueDecoder`).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try LuaValueDecoder().decode(type, from: self)
    }
}

extension LuaState {
    /// Pushes any `Encodable` value as Lua data (objects become tables).
    public func push<T: Encodable>(encoding value: T) throws {
        try push(LuaValue(encoding: value))
    }

    /// Decodes a Swift value from the Lua value at a stack index.
    public func decode<T: Decodable>(_ type: T.Type, at index: Int32) throws -> T {
        try value(at: index).decode(type)
    }
}
