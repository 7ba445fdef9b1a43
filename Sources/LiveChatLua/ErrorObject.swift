import LiveChat
import LuaHost

/// The error object a failed `livechat.*` call returns as its second result: a table with
/// `kind`, `status`, `message`, `details`, `retryable` and `attempts`, whose metatable gives it a
/// readable `tostring`.
enum ErrorObject {
    /// The registry name of the error objects' metatable (its `__tostring` is set by the prelude).
    static let metatable = "livechat.Error"

    /// The error as a plain Lua table.
    static func table(_ error: LiveChatError) -> LuaValue {
        var table = LuaTable()
        table["kind"] = .string(error.kind.rawValue)
        if let status = error.status { table["status"] = .integer(Int64(status)) }
        table["message"] = .string(error.message)
        table["details"] = .table(LuaTable(sequence: error.messages.map { .string($0) }))
        table["retryable"] = .boolean(error.retryable)
        table["attempts"] = .integer(Int64(error.attempts))
        return .table(table)
    }

    /// The `nil, err` pair, pushed with the error's metatable.
    static func outcome(_ error: LiveChatError) -> LuaOutcome {
        let value = table(error)
        return .results { stack in
            try stack.push(.nil)
            try stack.push(value, metatable: metatable)
            return 2
        }
    }
}
