import LuaHost

/// Tab completion of names: globals and keywords, and the fields of a table reached by a path of
/// names (`livechat.cr`, `string.fo`, `t.requester.m`, `s:up`), including the fields that a
/// metatable's `__index` table lends.
///
/// It runs no Lua code (`LuaState.fieldNames(atPath:)`), so completing cannot have side effects.
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

        guard let fields = state.fieldNames(atPath: components) else { return nil }
        var names = Set(fields.filter { Lexicon.isName($0) && $0.hasPrefix(prefix) })
        if components.isEmpty { names.formUnion(Lexicon.keywords.filter { $0.hasPrefix(prefix) }) }
        return Candidates(prefix: prefix, names: names.sorted())
    }
}
