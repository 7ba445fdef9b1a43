import CLuaShim

// What a `lua`-compatible front end needs of a state besides running code: the standard
// libraries as `lua.c` opens them, files, warnings, globals, the stack's top, Ctrl-C, and the
// raw field walk of completion. Everything here keeps `lua_State` inside LuaHost, and every call
// that can raise goes through a protected helper.
//
// `lua.c` runs its whole `pmain` inside one `lua_pcall`, so that no error escapes. A Swift
// function cannot run inside a protected call that way (a raise would longjmp across its
// frames), so LuaHost gives the same guarantee call by call: each API call that can raise is a
// protected helper of CLuaShim returning a status, and the front end never calls Lua directly.

extension LuaState {
    /// Opens Lua's standard libraries; with `ignoringEnvironment`, `package.path` and
    /// `package.cpath` ignore `LUA_PATH` and `LUA_CPATH` (the registry's `LUA_NOENV`, as `lua -E`).
    public func openStandardLibraries(ignoringEnvironment: Bool) throws {
        if ignoringEnvironment {
            lua_pushboolean(L, 1)
            let status = clshim_setfield(L, clshim_registryindex(), "LUA_NOENV")
            if status != LUA_OK { throw popError(status: status) }
        }
        let status = clshim_openlibs(L)
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Compiles a file (nil: standard input) and pushes the chunk; a leading `#` line is skipped,
    /// as `lua` does. A missing file or a syntax error is thrown as `lua` words it.
    public func loadFile(_ path: String?) throws {
        let status = path.map { clshim_loadfile(L, $0) } ?? clshim_loadfile(L, nil)
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Turns Lua's warnings on or off (`lua -W`).
    public func setWarnings(_ on: Bool) {
        clshim_warnings(L, on ? 1 : 0)
    }

    /// Pushes the global `name` (metamethods of `_G` apply).
    public func pushGlobal(_ name: String) throws {
        let status = clshim_getglobal(L, name)
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Drops every value above `index` (the stack's top becomes `index`).
    public func settle(top index: Int32) {
        lua_settop(L, index)
    }

    /// Pushes a copy of the value at `index`.
    public func pushCopy(of index: Int32) throws {
        guard lua_checkstack(L, 1) != 0 else { throw LuaError(kind: .memory, message: "stack overflow") }
        lua_pushvalue(L, index)
    }

    /// The stack of the main thread, to read values in place (a printer describing results).
    public var stack: LuaStack { LuaStack(L) }

    /// Lua's copyright line (`Lua 5.4.6  Copyright (C) 1994-2023 Lua.org, PUC-Rio`).
    public static var copyright: String { String(cString: clshim_copyright()) }

    // MARK: - Ctrl-C

    /// Arms Ctrl-C while Lua runs, as `lua.c` does: the first one interrupts the running code
    /// (`interrupted!`), a second one before the first is handled ends the process.
    public func catchInterrupts() {
        clshim_sigint_catch(L)
    }

    /// Disarms `catchInterrupts`.
    public static func releaseInterrupts() {
        clshim_sigint_release()
    }

    /// How many Ctrl-C have arrived since the process started (compare two readings).
    public static var interruptCount: Int { Int(clshim_sigint_count()) }

    /// Arms Ctrl-C while no Lua code runs (a prompt waits for a line): it is counted, not raised.
    public static func catchPromptInterrupts() {
        clshim_prompt_sigint_catch()
    }

    /// Whether a Ctrl-C arrived at the prompt since the last call (and forgets it).
    public static func takePromptInterrupt() -> Bool {
        clshim_prompt_sigint_take() != 0
    }

    // MARK: - Fields, for completion

    /// How many `__index` tables are followed from one value (guards against loops).
    public static let maxIndexChain = 8

    /// One step of a path from the globals: a string key (`.name`, `["name"]`) or an integer
    /// one (`[1]`).
    public enum FieldKey: Equatable, Sendable {
        case name(String)
        case index(Int64)
    }

    /// The string keys of the value reached from the globals by `path` (`["string"]` for
    /// `string.`), and of the tables its metatables' `__index` lend; nil when the path leads
    /// nowhere. It runs no Lua code: every lookup is a raw get, and `__index` is followed only
    /// when it is a table (never called), so it cannot have side effects.
    public func fieldNames(atPath path: [String]) -> [String]? {
        fieldNames(atPath: path.map(FieldKey.name))
    }

    /// `fieldNames(atPath:)` through string and integer keys (`t.events[1].`).
    public func fieldNames(atPath path: [FieldKey]) -> [String]? {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        guard lua_checkstack(L, 8) != 0 else { return nil }
        lua_rawgeti(L, clshim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        for key in path {
            guard pushField(of: lua_gettop(L), key) else { return nil }
            clshim_remove(L, -2)
        }
        return fieldNames(of: lua_gettop(L))
    }

    /// Pushes `value[key]` looked up raw, through `__index` tables; false (nothing pushed) when
    /// the value has no such field.
    private func pushField(of index: Int32, _ key: FieldKey) -> Bool {
        lua_pushvalue(L, index)
        for _ in 0...Self.maxIndexChain {
            if lua_type(L, -1) == LUA_TTABLE {
                switch key {
                case .name(let name):
                    guard (try? LuaStack(L).pushString(name)) != nil else {
                        clshim_pop(L, 1)
                        return false
                    }
                case .index(let number):
                    lua_pushinteger(L, lua_Integer(number))
                }
                lua_rawget(L, -2)
                if lua_type(L, -1) != LUA_TNIL {
                    clshim_remove(L, -2)
                    return true
                }
                clshim_pop(L, 1)
            }
            guard pushIndexTable(of: -1) else { break }
            clshim_remove(L, -2)
        }
        clshim_pop(L, 1)
        return false
    }

    /// Pushes the `__index` of the value's metatable when it is a table; false (nothing pushed)
    /// otherwise.
    private func pushIndexTable(of index: Int32) -> Bool {
        let absolute = lua_absindex(L, index)
        guard lua_getmetatable(L, absolute) != 0 else { return false }
        guard (try? LuaStack(L).pushString("__index")) != nil else {
            clshim_pop(L, 1)
            return false
        }
        lua_rawget(L, -2)
        clshim_remove(L, -2)
        if lua_type(L, -1) == LUA_TTABLE { return true }
        clshim_pop(L, 1)
        return false
    }

    /// The string keys of a value's fields and of its `__index` tables.
    private func fieldNames(of index: Int32) -> [String] {
        var names: [String] = []
        lua_pushvalue(L, index)
        for _ in 0...Self.maxIndexChain {
            if lua_type(L, -1) == LUA_TTABLE {
                let status = clshim_rawkeys(L, -1)
                if status == LUA_OK {
                    let count = lua_rawlen(L, -1)
                    for i in stride(from: 1, through: Int(count), by: 1) {
                        lua_rawgeti(L, -1, lua_Integer(i))
                        if let name = LuaStack(L).string(at: -1) { names.append(name) }
                        clshim_pop(L, 1)
                    }
                }
                // On failure the helper left an error object (or, for a full stack, nothing).
                if status != Int32(CLSHIM_ERRSTACK) { clshim_pop(L, 1) }
            }
            guard pushIndexTable(of: -1) else { break }
            clshim_remove(L, -2)
        }
        clshim_pop(L, 1)
        return names
    }
}
