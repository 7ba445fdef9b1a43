import CLuaShim

/// A Swift function callable from Lua. It reads its arguments and returns what Lua should get;
/// it never raises itself: returning `.error` makes the C trampoline raise for it.
///
/// A host function must not capture its `LuaState` strongly: the state owns the function, so a
/// strong capture would keep both alive forever.
public typealias LuaHostFunction = (LuaArguments) -> LuaReturn

/// What a host function hands back to Lua.
public enum LuaReturn {
    /// No results.
    case none
    /// One result.
    case value(LuaValue)
    /// Several results.
    case values([LuaValue])
    /// Raise an error with this message, prefixed by the caller's position (as `error` does).
    case error(String)
    /// Raise this value as the error object, unchanged.
    case errorValue(LuaValue)
    /// Raise `bad argument #n to 'name' (message)`, as the standard library does.
    case argumentError(Int32, String)
    /// Leave results already pushed on the stack by the function itself (their count).
    case pushed(Int32)
    /// Yield the running coroutine with these values; `resume` later supplies the call's results.
    case yield([LuaValue])
}

/// The arguments of one call of a host function: a view of the Lua stack, valid during the call.
public struct LuaArguments {
    /// The Lua thread making the call (a coroutine or the main thread).
    let L: OpaquePointer
    /// How many arguments were passed.
    public let count: Int32

    init(_ L: OpaquePointer) {
        self.L = L
        self.count = lua_gettop(L)
    }

    /// The stack of the calling thread, for pushing results with `.pushed`.
    public var stack: LuaStack { LuaStack(L) }

    /// The Lua type of argument i (1-based); LUA_TNONE past the end.
    func type(_ i: Int32) -> Int32 { lua_type(L, i) }

    /// Whether argument i is a table.
    public func isTable(_ i: Int32) -> Bool { i <= count && lua_type(L, i) == LUA_TTABLE }

    /// The type name of argument i, as `type()` says it ("no value" past the end).
    public func typeName(_ i: Int32) -> String {
        if i > count { return "no value" }
        return String(cString: lua_typename(L, lua_type(L, i)))
    }

    /// Whether argument i is absent or nil.
    public func isNil(_ i: Int32) -> Bool { i > count || lua_type(L, i) <= LUA_TNIL }

    /// Argument i as an integer, when it is one (or a float with an integral value).
    public func integer(_ i: Int32) -> Int64? {
        guard lua_type(L, i) == LUA_TNUMBER else { return nil }
        var ok: Int32 = 0
        let value = lua_tointegerx(L, i, &ok)
        return ok != 0 ? Int64(value) : nil
    }

    /// Argument i as a number.
    public func number(_ i: Int32) -> Double? {
        guard lua_type(L, i) == LUA_TNUMBER else { return nil }
        return lua_tonumberx(L, i, nil)
    }

    /// Argument i as a string (only a real string; numbers are not converted).
    public func string(_ i: Int32) -> String? { LuaStack(L).string(at: i) }

    /// Argument i's raw bytes, when it is a string.
    public func bytes(_ i: Int32) -> [UInt8]? { LuaStack(L).bytes(at: i) }

    /// Argument i's truthiness.
    public func boolean(_ i: Int32) -> Bool { lua_toboolean(L, i) != 0 }

    /// Argument i copied into Swift.
    public func value(_ i: Int32) throws -> LuaValue { try LuaStack(L).value(at: i) }

    /// Every argument copied into Swift.
    public func values() throws -> [LuaValue] { try stride(from: 1, through: count, by: 1).map { try value($0) } }
}

/// The box that keeps a Swift function alive while Lua holds it.
final class HostFunctionBox {
    let function: LuaHostFunction
    init(_ function: @escaping LuaHostFunction) { self.function = function }
}

/// The Swift half of the trampoline: installed once into CLuaShim.
enum SwiftBridge {
    private static let installed: Void = {
        clshim_set_swift_bridge(dispatch, release)
    }()

    static func install() { _ = installed }

    /// Runs the boxed function and translates its answer into a trampoline code.
    private static let dispatch: clshim_dispatch_fn = { L, box in
        guard let L, let box else { return Int32(CLSHIM_RAISE) }
        // The box is kept alive by its userdata for the whole call: no retain needed.
        let result = Unmanaged<HostFunctionBox>.fromOpaque(box)._withUnsafeGuaranteedRef { $0.function(LuaArguments(L)) }
        let stack = LuaStack(L)
        do {
            switch result {
            case .none:
                return 0
            case .value(let value):
                // Scalars need no allocation, and a C function always has LUA_MINSTACK free
                // slots: push them directly, the common case of a fast call.
                switch value {
                case .integer(let i): lua_pushinteger(L, lua_Integer(i))
                case .number(let d): lua_pushnumber(L, d)
                case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
                case .nil: lua_pushnil(L)
                default: try stack.push(value)
                }
                return 1
            case .values(let values):
                guard lua_checkstack(L, Int32(clamping: values.count + 2)) != 0 else {
                    try stack.pushString("too many results")
                    return Int32(CLSHIM_RAISE_WHERE)
                }
                for value in values { try stack.push(value) }
                return Int32(values.count)
            case .pushed(let n):
                return n
            case .error(let message):
                try stack.pushString(message)
                return Int32(CLSHIM_RAISE_WHERE)
            case .errorValue(let value):
                try stack.push(value)
                return Int32(CLSHIM_RAISE)
            case .argumentError(let index, let message):
                try stack.pushString(message)
                return Int32(CLSHIM_ARGERROR_BASE) - index
            case .yield(let values):
                for value in values { try stack.push(value) }
                return Int32(CLSHIM_YIELD_BASE) - Int32(values.count)
            }
        } catch {
            // A push failed and its helper's error object was consumed into `error`: raise its
            // message. A short string such as "not enough memory" is already interned, so
            // pushing it again needs no allocation.
            let message = (error as? LuaError)?.message ?? String(describing: error)
            if (try? stack.pushString(message)) == nil { lua_pushnil(L) }
            return Int32(CLSHIM_RAISE)
        }
    }

    /// Releases a box whose userdata Lua collected.
    private static let release: clshim_release_fn = { box in
        guard let box else { return }
        Unmanaged<HostFunctionBox>.fromOpaque(box).release()
    }
}
