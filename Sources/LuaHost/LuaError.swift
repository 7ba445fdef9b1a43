import CLuaShim

/// An error raised by Lua code or by the host while running it.
public struct LuaError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure the Lua status code reported.
    public enum Kind: Sendable, Equatable {
        /// A runtime error (`error(...)`, a bad call, an interrupt).
        case runtime
        /// A chunk that does not compile.
        case syntax
        /// The state's memory cap or the machine's memory ran out.
        case memory
        /// The message handler itself failed.
        case handler
        /// A value could not be converted between Lua and Swift.
        case conversion
    }

    public var kind: Kind
    /// The error message, as `tostring(err)` would give it (without the traceback).
    public var message: String
    /// The stack traceback at the point of the error, when one was taken.
    public var traceback: String?

    public init(kind: Kind, message: String, traceback: String? = nil) {
        self.kind = kind
        self.message = message
        self.traceback = traceback
    }

    /// The message followed by the traceback, as `lua` prints an uncaught error.
    public var description: String {
        guard let traceback else { return message }
        return message + "\n" + traceback
    }

    /// Whether the error is the one an interrupt (`LuaState.interrupt()`) raises.
    public var isInterrupt: Bool { message.hasSuffix("interrupted!") }

    /// The kind that a Lua status code stands for.
    static func kind(ofStatus status: Int32) -> Kind {
        switch status {
        case LUA_ERRSYNTAX: return .syntax
        case LUA_ERRMEM: return .memory
        case LUA_ERRERR: return .handler
        case Int32(CLSHIM_ERRSTACK): return .memory
        default: return .runtime
        }
    }

    /// Splits a message handler's "message\nstack traceback:\n…" into its two parts.
    static func fromHandled(_ text: String, status: Int32) -> LuaError {
        let marker = "\nstack traceback:\n"
        if let range = text.range(of: marker) {
            return LuaError(
                kind: kind(ofStatus: status),
                message: String(text[..<range.lowerBound]),
                traceback: "stack traceback:\n" + text[range.upperBound...]
            )
        }
        return LuaError(kind: kind(ofStatus: status), message: text)
    }
}
