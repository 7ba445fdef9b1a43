import CLuaShim
import LuaHost

/// Tab completion of names: globals and keywords, and the fields of a table reached by a path of
/// names (`livechat.cr`, `string.fo`, `t.requester.m`, `s:up`), including the fields that a
/// metatable's `__index` table lends.
///
/// It runs no Lua code: every lookup is a raw get, and `__index` is followed only when it is a
/// table (never called), so completing cannot have side effects.
struct Completion {
    /// What to complete: the word's text before the cursor and the names that may finish it.
    struct Candidates: Equatable {
        /// The partial name being completed (after the last `.` or `:`).
        var prefix: String
        /// The matching names, sorted.
        var names: [String]

        /// The text every candidate continues the prefix with (the unambiguous part).
        var commonSuffix: String {
            guard var common = names.first.map(Array.init) else { return "" }
            for name in names.dropFirst() {
                let chars = Array(name)
                var n = 0
                while n < common.count && n < chars.count && common[n] == chars[n] { n += 1 }
                common.removeLast(common.count - n)
            }
            return String(common.dropFirst(prefix.count))
        }
    }

    let state: LuaState
    /// How many `__index` tables are followed from one value (guards against loops).
    static let maxIndexChain = 8

    /// The candidates for the word that ends the text before the cursor; nil when the cursor is
    /// not after a name or a path of names.
    func candidates(before text: String) -> Candidates? {
        let bytes = Array(text.utf8)
        var start = bytes.count
        while start > 0 && (Lexicon.isNameByte(bytes[start - 1]) || bytes[start - 1] == 0x2E || bytes[start - 1] == 0x3A) {
            start -= 1
        }
        let word = String(decoding: bytes[start...], as: UTF8.self)
        // Inside a string literal or after a number there is nothing to complete.
        if let first = word.utf8.first, first >= 0x30 && first <= 0x39 { return nil }
        if start > 0 && (bytes[start - 1] == 0x22 || bytes[start - 1] == 0x27) { return nil }
        var components = word.split(separator: ".", omittingEmptySubsequences: false).flatMap {
            $0.split(separator: ":", omittingEmptySubsequences: false)
        }.map(String.init)
        let prefix = components.removeLast()
        guard components.allSatisfy(Lexicon.isName) else { return nil }

        let L = state.L
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        guard lua_checkstack(L, 8) != 0 else { return nil }
        lua_rawgeti(L, clshim_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        for name in components {
            guard pushField(of: lua_gettop(L), name) else { return nil }
            clshim_remove(L, -2)
        }
        var names = Set(fieldNames(of: lua_gettop(L)).filter { $0.hasPrefix(prefix) })
        if components.isEmpty { names.formUnion(Lexicon.keywords.filter { $0.hasPrefix(prefix) }) }
        return Candidates(prefix: prefix, names: names.sorted())
    }

    /// Pushes `value[name]` looked up raw, through `__index` tables; false (nothing pushed) when
    /// the value has no such field.
    private func pushField(of index: Int32, _ name: String) -> Bool {
        let L = state.L
        lua_pushvalue(L, index)
        for _ in 0...Self.maxIndexChain {
            if lua_type(L, -1) == LUA_TTABLE {
                guard (try? LuaStack(L).pushString(name)) != nil else { break }
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
        let L = state.L
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

    /// The names (string keys that are Lua names) of a value's fields and of its `__index`
    /// tables.
    private func fieldNames(of index: Int32) -> [String] {
        let L = state.L
        var names: [String] = []
        lua_pushvalue(L, index)
        for _ in 0...Self.maxIndexChain {
            if lua_type(L, -1) == LUA_TTABLE {
                let status = clshim_rawkeys(L, -1)
                if status == LUA_OK {
                    let count = lua_rawlen(L, -1)
                    for i in stride(from: 1, through: Int(count), by: 1) {
                        lua_rawgeti(L, -1, lua_Integer(i))
                        if let name = LuaStack(L).string(at: -1), Lexicon.isName(name) { names.append(name) }
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
