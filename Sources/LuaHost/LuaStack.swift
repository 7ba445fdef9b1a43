import CLuaShim

/// Moves values between Swift and one Lua thread's stack.
///
/// Reading uses only API calls that never raise; writing goes through CLuaShim's protected
/// helpers, so a memory error becomes a thrown `LuaError` instead of a longjmp.
public struct LuaStack {
    let L: OpaquePointer

    init(_ L: OpaquePointer) { self.L = L }

    /// The deepest table nesting converted either way; deeper is an error, not a crash.
    static let maxDepth = 200

    // MARK: - Writing

    /// Pushes a copy of a Swift value.
    public func push(_ value: LuaValue) throws {
        try push(value, depth: 0)
    }

    /// Pushes a copy of a Swift value with the registry's metatable `metatable`
    /// (`luaL_newmetatable`'s name).
    public func push(_ value: LuaValue, metatable: String) throws {
        try push(value, depth: 0)
        try check(clshim_setmetatable_named(L, -1, metatable))
    }

    private func push(_ value: LuaValue, depth: Int) throws {
        guard lua_checkstack(L, 3) != 0 else { throw LuaError(kind: .memory, message: "stack overflow") }
        switch value {
        case .nil: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .number(let d): lua_pushnumber(L, d)
        case .lightUserdata(let address): lua_pushlightuserdata(L, UnsafeMutableRawPointer(bitPattern: address))
        case .string(let s): try pushBytes(s.bytes)
        case .table(let table):
            guard depth < Self.maxDepth else {
                throw LuaError(kind: .conversion, message: "table nested more than \(Self.maxDepth) levels deep")
            }
            try check(clshim_createtable(L, Int32(clamping: table.sequence.count), Int32(clamping: table.fields.count)))
            do {
                for (offset, item) in table.sequence.enumerated() {
                    try push(item, depth: depth + 1)
                    try check(clshim_rawseti(L, -2, lua_Integer(offset + 1)))
                }
                for (key, item) in table.fields {
                    if case .nil = item { continue }
                    try push(key, depth: depth + 1)
                    try push(item, depth: depth + 1)
                    try check(clshim_rawset(L, -3))
                }
            } catch {
                clshim_pop(L, 1)
                throw error
            }
        }
    }

    /// Pushes an array of arrays of strings (a CSV file's records, say), built in one protected
    /// call rather than one per string.
    public func pushStringRows(_ rows: [[String]]) throws {
        guard rows.count <= Int(Int32.max) else { throw LuaError(kind: .memory, message: "too many rows") }
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var counts: [Int32] = []
        counts.reserveCapacity(rows.count)
        for row in rows {
            counts.append(Int32(clamping: row.count))
            for field in row {
                bytes.append(contentsOf: field.utf8)
                ends.append(bytes.count)
            }
        }
        let status = bytes.withUnsafeBufferPointer { bytes in
            ends.withUnsafeBufferPointer { ends in
                counts.withUnsafeBufferPointer { counts in
                    bytes.withMemoryRebound(to: CChar.self) { text in
                        clshim_pushstringrows(L, text.baseAddress, ends.baseAddress, counts.baseAddress, Int32(rows.count))
                    }
                }
            }
        }
        try check(status)
    }

    /// Pushes a string of raw bytes.
    public func pushBytes(_ bytes: [UInt8]) throws {
        try check(bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { clshim_pushlstring(L, $0.baseAddress, $0.count) }
        })
    }

    /// Pushes a Swift string.
    public func pushString(_ string: String) throws {
        var string = string
        try check(string.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { clshim_pushlstring(L, $0.baseAddress, $0.count) }
        })
    }

    /// Pushes a Swift function as a Lua function.
    public func push(function: @escaping LuaHostFunction) throws {
        let box = Unmanaged.passRetained(HostFunctionBox(function)).toOpaque()
        try check(clshim_pushswiftfunction(L, box))
    }

    // MARK: - Reading

    /// Copies the value at an index into Swift. Functions, full userdata and threads cannot be
    /// copied; nor can a table that contains itself.
    public func value(at index: Int32) throws -> LuaValue {
        var path: [UnsafeRawPointer] = []
        return try value(at: lua_absindex(L, index), path: &path)
    }

    private func value(at index: Int32, path: inout [UnsafeRawPointer]) throws -> LuaValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .integer(Int64(lua_tointegerx(L, index, nil))) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(LuaString(bytes: bytes(at: index) ?? []))
        case LUA_TLIGHTUSERDATA: return .lightUserdata(UInt(bitPattern: lua_touserdata(L, index)))
        case LUA_TTABLE: return try table(at: index, path: &path)
        default:
            let name = String(cString: lua_typename(L, lua_type(L, index)))
            throw LuaError(kind: .conversion, message: "cannot convert a \(name) value")
        }
    }

    /// `path`: the tables being copied, outermost first (an array: it is short, and searching it
    /// costs less than hashing into a set for every table).
    private func table(at index: Int32, path: inout [UnsafeRawPointer]) throws -> LuaValue {
        guard let identity = lua_topointer(L, index) else { return .table(LuaTable()) }
        guard !path.contains(identity) else {
            throw LuaError(kind: .conversion, message: "cannot convert a table that contains itself")
        }
        guard path.count < Self.maxDepth else {
            throw LuaError(kind: .conversion, message: "table nested more than \(Self.maxDepth) levels deep")
        }
        guard lua_checkstack(L, 4) != 0 else { throw LuaError(kind: .memory, message: "stack overflow") }
        path.append(identity)
        defer { path.removeLast() }

        var table = LuaTable()
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        // The sequence part first, by raw index, so it keeps its order.
        let length = lua_rawlen(L, index)
        if length > 0 {
            table.sequence.reserveCapacity(Int(length))
            for i in 1...Int64(length) {
                lua_rawgeti(L, index, lua_Integer(i))
                defer { clshim_pop(L, 1) }
                if lua_type(L, -1) == LUA_TNIL { break }
                table.sequence.append(try value(at: lua_gettop(L), path: &path))
            }
        }
        let count = Int64(table.sequence.count)
        // Every other key; lua_next raises only for a key not in the table, which cannot happen
        // with keys it returned itself.
        // Gathered first, so that the dictionary is allocated once at its size.
        var fields: [(LuaValue, LuaValue)] = []
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            let keyIndex = lua_gettop(L) - 1
            if lua_isinteger(L, keyIndex) != 0 {
                let k = Int64(lua_tointegerx(L, keyIndex, nil))
                if k >= 1 && k <= count {
                    clshim_pop(L, 1)
                    continue
                }
            }
            // Copy the key without converting it in place (lua_tolstring on a number would
            // confuse lua_next).
            let key = try value(at: keyIndex, path: &path)
            let item = try value(at: keyIndex + 1, path: &path)
            fields.append((key, item))
            clshim_pop(L, 1)
        }
        if !fields.isEmpty {
            table.fields.reserveCapacity(fields.count)
            for (key, item) in fields { table.fields[key] = item }
        }
        return .table(table)
    }

    /// The bytes of the string at an index; nil when the value is not a string (numbers are not
    /// converted, since that would allocate).
    public func bytes(at index: Int32) -> [UInt8]? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = clshim_tostring_raw(L, index, &length) else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The string at an index decoded as UTF-8 (invalid bytes repaired); nil when not a string.
    public func string(at index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = clshim_tostring_raw(L, index, &length) else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    // MARK: - Errors

    /// Throws the error object a protected helper left, when its status is not LUA_OK.
    func check(_ status: Int32) throws {
        if status != LUA_OK { throw popError(status: status) }
    }

    /// Pops the error object left by a failed call and turns it into a `LuaError`.
    func popError(status: Int32) -> LuaError {
        if status == Int32(CLSHIM_ERRSTACK) {
            return LuaError(kind: .memory, message: "stack overflow")
        }
        defer { clshim_pop(L, 1) }
        if let text = string(at: -1) {
            return LuaError.fromHandled(text, status: status)
        }
        let typeName = String(cString: lua_typename(L, lua_type(L, -1)))
        return LuaError(kind: LuaError.kind(ofStatus: status), message: "(error object is a \(typeName) value)")
    }
}
