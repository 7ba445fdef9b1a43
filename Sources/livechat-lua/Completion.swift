import LiveChatLua
import LuaHost

/// Tab completion of names: globals and keywords, the fields of a table reached by a path
/// (`livechat.cr`, `string.fo`, `t.events[1].au`, `t["requester"].m`, `_.ti`, `s:up`),
/// including the fields that a metatable's `__index` table lends, and the parameters of a
/// described function inside its table (`livechat.createTicket{req`).
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
    /// not after a name or a path. A path goes through names, integer and string indexes
    /// (`t.events[1].au`, `t["requester"].ma`, `s:up`); inside a described function's table
    /// (`livechat.createTicket{req`), the candidates are its parameters not given yet.
    func candidates(before text: String) -> Candidates? {
        if let parameters = parameterCandidates(before: text) { return parameters }
        let bytes = Array(text.utf8)
        var end = bytes.count
        while end > 0 && Lexicon.isNameByte(bytes[end - 1]) { end -= 1 }
        let prefix = String(decoding: bytes[end...], as: UTF8.self)
        if let first = prefix.utf8.first, first >= 0x30 && first <= 0x39 { return nil }
        guard let path = Self.path(endingAt: end, in: bytes) else { return nil }
        guard let fields = state.fieldNames(atPath: path) else { return nil }
        var names = Set(fields.filter { Lexicon.isName($0) && $0.hasPrefix(prefix) })
        if path.isEmpty { names.formUnion(Lexicon.keywords.filter { $0.hasPrefix(prefix) }) }
        return Candidates(prefix: prefix, names: names.sorted())
    }

    /// The path of keys that leads to the table being completed, read backwards from `end`
    /// (just before the partial name): empty for a bare name, nil where no path can be read (a
    /// string, a call's result, a number).
    static func path(endingAt end: Int, in bytes: [UInt8]) -> [LuaState.FieldKey]? {
        let dot = UInt8(ascii: "."), colon = UInt8(ascii: ":")
        var i = end
        /// Whether a `.` or `:` stands before `i` (a `..` is concatenation, not a path).
        func separatorBefore() -> Bool {
            guard i > 0, bytes[i - 1] == dot || bytes[i - 1] == colon else { return false }
            return !(i > 1 && bytes[i - 2] == dot)
        }
        guard separatorBefore() else {
            // A bare name, unless it is inside a string literal.
            if i > 0 && (bytes[i - 1] == UInt8(ascii: "\"") || bytes[i - 1] == UInt8(ascii: "'")) { return nil }
            return []
        }
        i -= 1
        var keys: [LuaState.FieldKey] = []
        while true {
            if i > 0 && bytes[i - 1] == UInt8(ascii: "]") {
                guard let (key, open) = index(endingAt: i, in: bytes) else { return nil }
                keys.insert(key, at: 0)
                i = open
                continue  // before `[` stands what it indexes: a name or another index
            }
            var start = i
            while start > 0 && Lexicon.isNameByte(bytes[start - 1]) { start -= 1 }
            let name = String(decoding: bytes[start..<i], as: UTF8.self)
            guard Lexicon.isName(name) else { return nil }
            keys.insert(.name(name), at: 0)
            i = start
            if separatorBefore() {
                i -= 1
                continue
            }
            return keys
        }
    }

    /// An index `[1]` or `["name"]` ending just before `end` (at its `]`): the key, and where
    /// the `[` starts.
    static func index(endingAt end: Int, in bytes: [UInt8]) -> (LuaState.FieldKey, Int)? {
        guard let open = bytes[..<end].lastIndex(of: UInt8(ascii: "[")) else { return nil }
        let inside = String(decoding: bytes[(open + 1)..<(end - 1)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if let number = Int64(inside) { return (.index(number), open) }
        for quote in ["\"", "'"] where inside.count >= 2 && inside.hasPrefix(quote) && inside.hasSuffix(quote) {
            let key = String(inside.dropFirst().dropLast())
            guard !key.contains(quote), !key.contains("\\") else { return nil }
            return (.name(key), open)
        }
        return nil
    }

    /// Inside `livechat.createTicket{…` (any table-style function the API describes), at a field
    /// name: the parameters, less those already given.
    func parameterCandidates(before text: String) -> Candidates? {
        let bytes = Array(text.utf8)
        var end = bytes.count
        while end > 0 && Lexicon.isNameByte(bytes[end - 1]) { end -= 1 }
        let prefix = String(decoding: bytes[end...], as: UTF8.self)
        // Only where a field name may stand: just after `{` or `,` (and spaces).
        var i = end
        while i > 0 && (bytes[i - 1] == UInt8(ascii: " ") || bytes[i - 1] == UInt8(ascii: "\t")) { i -= 1 }
        guard i > 0, bytes[i - 1] == UInt8(ascii: "{") || bytes[i - 1] == UInt8(ascii: ",") else { return nil }
        // The unclosed `{` this field belongs to, skipping strings and nested braces.
        var depth = 0, open: Int?
        var quote: UInt8?
        for (position, byte) in bytes[..<end].enumerated() {
            if let q = quote {
                if byte == q { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
            case UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { open = position }
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { open = nil }
            default: break
            }
        }
        guard depth == 1, let open else { return nil }
        var nameEnd = open
        while nameEnd > 0 && bytes[nameEnd - 1] == UInt8(ascii: " ") { nameEnd -= 1 }
        var nameStart = nameEnd
        while nameStart > 0 && (Lexicon.isNameByte(bytes[nameStart - 1]) || bytes[nameStart - 1] == UInt8(ascii: ".")) { nameStart -= 1 }
        let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self)
        guard let function = APIDescription.livechat.function(named: name), function.name == name,
              function.style == .table else { return nil }
        let given = String(decoding: bytes[(open + 1)..<end], as: UTF8.self)
        let names = function.parameters.map(\.name).filter { parameter in
            parameter.hasPrefix(prefix) && given.range(of: "\\b\(parameter)\\s*=", options: .regularExpression) == nil
        }
        return names.isEmpty ? nil : Candidates(prefix: prefix, names: names.sorted())
    }
}
