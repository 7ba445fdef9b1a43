import CLuaShim
import Foundation
import Synchronization

/// Objects attached to a state, one of each type, found by their type: no key strings, and no
/// casts where they are used (`state.extensions[LuaScheduler.self]`).
public final class LuaStateExtensions {
    private var objects: [ObjectIdentifier: AnyObject] = [:]

    public subscript<Object: AnyObject>(_ type: Object.Type) -> Object? {
        get { objects[ObjectIdentifier(type)].map { $0 as! Object } }
        set { objects[ObjectIdentifier(type)] = newValue }
    }
}

/// One Lua state and the Swift API over it.
///
/// A state is not thread-safe: one thread at a time uses it (the scheduler's, in the host). The
/// one exception is `interrupter`, which any thread or a signal handler may use to stop running
/// Lua code.
public final class LuaState {
    /// The underlying `lua_State *` (the main thread): LuaHost's alone.
    let L: OpaquePointer
    /// Stops running Lua code from any thread.
    public let interrupter: LuaInterrupter
    /// Objects the host attaches to the state, one per type (its scheduler, its modules).
    public let extensions = LuaStateExtensions()

    /// Creates a state; `memoryLimit` caps its memory in bytes (nil: no cap), `openLibraries`
    /// opens Lua's standard libraries.
    public init(memoryLimit: Int? = nil, openLibraries: Bool = true) throws {
        SwiftBridge.install()
        guard let L = clshim_newstate((memoryLimit.map { max(1, $0) } ?? 0)) else {
            throw LuaError(kind: .memory, message: "not enough memory")
        }
        self.L = L
        self.interrupter = LuaInterrupter(L)
        if openLibraries {
            let status = clshim_openlibs(L)
            if status != LUA_OK {
                let error = popError(status: status)
                interrupter.detach()
                clshim_close(L)
                throw error
            }
        }
    }

    deinit {
        interrupter.detach()
        clshim_close(L)
    }

    // MARK: - The stack

    /// The index of the top of the stack (the number of values on it).
    public var top: Int32 { lua_gettop(L) }

    /// Pops n values.
    public func pop(_ n: Int32 = 1) { clshim_pop(L, n) }

    /// Pushes a copy of a Swift value.
    public func push(_ value: LuaValue) throws {
        try LuaStack(L).push(value)
    }

    /// Copies the value at a stack index into Swift.
    public func value(at index: Int32) throws -> LuaValue {
        try LuaStack(L).value(at: index)
    }

    /// Pushes a Swift function as a Lua function.
    public func push(function: @escaping LuaHostFunction) throws {
        try LuaStack(L).push(function: function)
    }

    // MARK: - Memory

    /// Bytes the state currently holds.
    public var memoryUsed: Int { Int(clshim_memory_used(L)) }

    /// The memory cap in bytes; nil when there is none.
    public var memoryLimit: Int? {
        get {
            let limit = clshim_memory_limit(L)
            return limit == 0 ? nil : Int(limit)
        }
        set { clshim_set_memory_limit(L, (newValue.map { max(1, $0) } ?? 0)) }
    }

    /// Runs a full garbage collection cycle.
    public func collectGarbage() {
        clshim_gc_collect(L)
    }

    // MARK: - Globals

    /// Sets a global variable.
    public func setGlobal(_ name: String, _ value: LuaValue) throws {
        try push(value)
        try setGlobalFromTop(name)
    }

    /// Sets a global variable to a Swift function.
    public func setGlobal(_ name: String, function: @escaping LuaHostFunction) throws {
        try push(function: function)
        try setGlobalFromTop(name)
    }

    /// The value of a global variable.
    public func global(_ name: String) throws -> LuaValue {
        let status = name.withCString { clshim_getglobal(L, $0) }
        guard status == LUA_OK else { throw popError(status: status) }
        defer { pop() }
        return try value(at: -1)
    }

    /// Pops the top value into a global variable.
    public func setGlobalFromTop(_ name: String) throws {
        let status = name.withCString { clshim_setglobal(L, $0) }
        guard status == LUA_OK else { throw popError(status: status) }
    }

    /// Creates a module table of Swift functions, sets it as the global `name` and registers it
    /// in `package.loaded` so that `require(name)` returns it. Leaves the stack as it was.
    public func registerModule(_ name: String, functions: [String: LuaHostFunction], values: [String: LuaValue] = [:]) throws {
        let stack = LuaStack(L)
        try stack.check(clshim_createtable(L, 0, Int32(functions.count + values.count)))
        defer { pop() }
        for (field, function) in functions.sorted(by: { $0.key < $1.key }) {
            try push(function: function)
            try stack.check(field.withCString { clshim_setfield(L, -2, $0) })
        }
        for (field, value) in values.sorted(by: { $0.key < $1.key }) {
            try push(value)
            try stack.check(field.withCString { clshim_setfield(L, -2, $0) })
        }
        lua_pushvalue(L, -1)
        try setGlobalFromTop(name)
        try stack.check(clshim_getfield(L, clshim_registryindex(), LUA_LOADED_TABLE))
        lua_pushvalue(L, -2)
        try stack.check(name.withCString { clshim_setfield(L, -2, $0) })
        pop()
    }

    // MARK: - Running code

    /// Compiles a chunk and pushes it as a function. `name` follows Lua's chunk-name rules
    /// (`=stdin`, `@file.lua`); `mode` is "t", "b" or "bt".
    public func load(_ chunk: [UInt8], name: String, mode: String = "bt") throws {
        // An empty chunk still needs a valid pointer.
        let storage = chunk.isEmpty ? [0] : chunk
        let status = storage.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                luaL_loadbufferx(L, chars.baseAddress, chunk.count, name, mode)
            }
        }
        guard status == LUA_OK else { throw popError(status: status) }
    }

    /// Compiles a chunk given as text and pushes it as a function.
    public func load(_ chunk: String, name: String = "=(load)", mode: String = "bt") throws {
        try load(Array(chunk.utf8), name: name, mode: mode)
    }

    /// Calls the function below `arguments` on the stack with a traceback handler; the results
    /// are left on the stack (`results`: a count, or nil for all of them).
    public func call(arguments: Int32, results: Int32? = nil) throws {
        let status = clshim_docall(L, arguments, results ?? LUA_MULTRET)
        guard status == LUA_OK else { throw popError(status: status) }
    }

    /// Compiles and runs a chunk and returns its results.
    @discardableResult
    public func run(_ chunk: String, name: String = "=(load)", arguments: [LuaValue] = []) throws -> [LuaValue] {
        let base = top
        try load(chunk, name: name)
        for argument in arguments { try push(argument) }
        try call(arguments: Int32(arguments.count))
        return try popResults(above: base)
    }

    /// Calls a global function with arguments and returns its results.
    @discardableResult
    public func call(global name: String, _ arguments: LuaValue...) throws -> [LuaValue] {
        let base = top
        let status = name.withCString { clshim_getglobal(L, $0) }
        guard status == LUA_OK else { throw popError(status: status) }
        for argument in arguments { try push(argument) }
        try call(arguments: Int32(arguments.count))
        return try popResults(above: base)
    }

    /// Converts and pops every value above `base`.
    public func popResults(above base: Int32) throws -> [LuaValue] {
        defer { lua_settop(L, base) }
        return try (base + 1 ..< top + 1).map { try value(at: $0) }
    }

    /// Pops the error object left by a failed call and turns it into a `LuaError`.
    func popError(status: Int32) -> LuaError {
        LuaStack(L).popError(status: status)
    }
}

/// Stops running Lua code of a state from any thread (or a signal handler's proxy thread).
///
/// Interrupting arms a hook on the thread running Lua code; the next instruction raises
/// "interrupted!", which unwinds to the nearest protected call.
public final class LuaInterrupter: @unchecked Sendable {
    /// The main thread (nil once the state is closed) and the coroutine running now.
    private let threads: Mutex<(main: OpaquePointer?, running: OpaquePointer?)>

    init(_ L: OpaquePointer) { threads = Mutex((L, nil)) }

    /// Interrupts whatever Lua code runs now: the current coroutine if one is set, else the
    /// main thread.
    public func interrupt() {
        threads.withLock { threads in
            if let target = threads.running ?? threads.main { clshim_interrupt(target) }
        }
    }

    /// Records which coroutine runs now (nil: the main thread); the scheduler sets it.
    func setRunning(_ thread: OpaquePointer?) {
        threads.withLock { $0.running = thread }
    }

    /// Disarms a pending interrupt on the main thread, once it has finished running.
    public func clear() { clear(nil) }

    /// Disarms a pending interrupt on a thread that has finished running.
    func clear(_ thread: OpaquePointer?) {
        threads.withLock { threads in
            if let target = thread ?? threads.main { clshim_clear_interrupt(target) }
        }
    }

    func detach() {
        threads.withLock { $0 = (nil, nil) }
    }
}
