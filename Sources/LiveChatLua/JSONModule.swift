import Foundation
@_spi(LiveChatTools) import LiveChat
import LuaHost

/// The `json` Lua module, on Foundation's JSON: `json.encode(value, {pretty = true})`,
/// `json.decode(text)`, `json.null`. Integers stay integers; `json.null` stands for JSON's null
/// inside tables, where Lua's nil cannot stand.
public enum JSONModule {
    static func install(in state: LuaState) throws {
        try state.registerModule("json", functions: ["encode": encode, "decode": decode], values: ["null": .null])
    }

    /// `json.encode(value [, {pretty = bool}])` → text; values JSON cannot hold raise an error.
    static let encode: LuaHostFunction = { args in
        let value: LuaValue
        do {
            value = try args.value(1)
        } catch {
            return .argumentError(1, (error as? LuaError)?.message ?? "\(error)")
        }
        var pretty = false
        if !args.isNil(2) {
            guard case .table(let options)? = try? args.value(2) else {
                return .argumentError(2, "table expected, got \(args.typeName(2))")
            }
            pretty = options["pretty"].isTruthy
        }
        do {
            return .value(.string(try text(of: value, pretty: pretty)))
        } catch let error as EncodingError {
            if case .invalidValue(_, let context) = error { return .argumentError(1, context.debugDescription) }
            return .argumentError(1, "\(error)")
        } catch {
            return .argumentError(1, "\(error)")
        }
    }

    /// `json.decode(text)` → value, or nil and a message when the text is not JSON.
    static let decode: LuaHostFunction = { args in
        guard let bytes = args.bytes(1) else {
            return .argumentError(1, "string expected, got \(args.typeName(1))")
        }
        let data = Data(bytes)
        guard !JSONDepth.exceedsLimit(bytes) else {
            return .values([.nil, .string("invalid JSON: nested more than \(JSONDepth.limit) levels deep")])
        }
        do {
            return .value(try JSONDecoder().decode(LuaValue.self, from: data))
        } catch {
            return .values([.nil, .string("invalid JSON: \(JSONText.describe(error, in: data))")])
        }
    }

    /// JSON text for a Lua value: keys sorted, slashes unescaped; when pretty, indented by two
    /// spaces with `"key": value` and `[]`/`{}` for empty containers.
    public static func text(of value: LuaValue, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let compact = try encoder.encode(value)
        return String(decoding: pretty ? indented(compact) : Array(compact), as: UTF8.self)
    }

    /// Compact JSON laid out on lines. Foundation's pretty printing writes `"key" : value` and
    /// opens empty containers over lines (`[\n\n]`); the convention of JSON tools (jq, Python,
    /// JavaScript) is `"key": value` and `[]`, so the encoder's compact text is re-laid here.
    /// Only punctuation outside strings moves: the text's tokens are the encoder's own.
    public static func indented(_ compact: Data) -> [UInt8] {
        let bytes = Array(compact)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        var level = 0
        var inString = false, escaped = false
        func newline() {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * level))
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                out.append(byte)
                if index < bytes.count, bytes[index] == (byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    out.append(bytes[index])  // empty: `{}` or `[]`
                    index += 1
                } else {
                    level += 1
                    newline()
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                level -= 1
                newline()
                out.append(byte)
            case UInt8(ascii: ","):
                out.append(byte)
                newline()
            case UInt8(ascii: ":"):
                out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            default:
                out.append(byte)
            }
        }
        return out
    }
}
