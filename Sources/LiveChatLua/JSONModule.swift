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

    /// JSON text for a Lua value: keys sorted, slashes unescaped, indented when pretty.
    public static func text(of value: LuaValue, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
