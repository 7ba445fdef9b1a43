import CLuaShim
import Foundation

/// Renders Lua values for people to read: the one place that prints Lua values for humans.
///
/// Tables are pretty-printed with their sequence part first, in order, then the other keys
/// sorted; nested tables are indented, elided past a depth and a length limit (`…` and a count),
/// and a table met again inside itself is marked as a cycle. A ticket (a table with `id`,
/// `status`, `subject` and `requester`) shows those fields first and its other nested tables
/// briefly. Values are read from a Lua stack with calls that never raise; the only Lua code that
/// runs is a `__tostring` metamethod, through a protected helper, as `print` would run it.
/// Every rendering leaves the stack as it found it.
public struct ValuePrinter {
    /// ANSI escape sequences that colour each kind of token; `.plain` has none.
    public struct Palette: Sendable {
        public var string: String
        public var number: String
        /// `true`, `false` and `nil`.
        public var constant: String
        /// Functions, userdata, threads and `__tostring` results.
        public var opaque: String
        /// Elisions and cycle marks.
        public var note: String
        /// Resets the colour after a token.
        public var reset: String

        /// No colour at all.
        public static let plain = Palette(string: "", number: "", constant: "", opaque: "", note: "", reset: "")
        /// The colours of the interactive prompt on a terminal.
        public static let ansi = Palette(
            string: "\u{1B}[32m", number: "\u{1B}[36m", constant: "\u{1B}[35m",
            opaque: "\u{1B}[33m", note: "\u{1B}[2m", reset: "\u{1B}[0m"
        )
    }

    /// Tables nested deeper than this are shown as `{ … n items }`.
    public var maxDepth: Int
    /// At most this many entries of a table are shown; the rest as `… n more`.
    public var maxItems: Int
    /// A table goes on one line when that line fits in this many columns.
    public var width: Int
    public var palette: Palette

    /// The fields that make a table a ticket, in the order a ticket shows them first.
    public static let ticketFields = ["id", "status", "subject", "requester"]

    public init(maxDepth: Int = 4, maxItems: Int = 50, width: Int = 80, palette: Palette = .plain) {
        self.maxDepth = maxDepth
        self.maxItems = maxItems
        self.width = width
        self.palette = palette
    }

    /// The value at `index` as it reads inside a table: strings quoted and escaped.
    public func describe(_ stack: LuaStack, at index: Int32) -> String {
        var renderer = Renderer(L: stack.L, printer: self)
        return renderer.render(lua_absindex(stack.L, index), depth: 0, column: 0, limit: maxDepth)
    }

    /// The value at `index` as the prompt shows a result: a string as it is (as `print` writes
    /// it), anything else as `describe` renders it.
    public func describeResult(_ stack: LuaStack, at index: Int32) -> String {
        if let text = stack.string(at: index) { return text }
        return describe(stack, at: index)
    }

    /// Convenience over a state's stack.
    public func describe(_ state: LuaState, at index: Int32) -> String {
        describe(LuaStack(state.L), at: index)
    }

    /// Convenience over a state's stack.
    public func describeResult(_ state: LuaState, at index: Int32) -> String {
        describeResult(LuaStack(state.L), at: index)
    }

    /// Lua's own text for a float (`%.14g`, with `.0` added when it would read as an integer).
    public static func format(float value: Double) -> String {
        let text = String(format: "%.14g", value)
        return text.allSatisfy({ $0 == "-" || $0.isASCII && $0.isNumber }) ? text + ".0" : text
    }

    /// A Lua string literal for the bytes: quoted, with escapes for quotes, backslashes, control
    /// characters and bytes that are not UTF-8 (as `\ddd`, decimal, as Lua writes them).
    public static func quote(_ bytes: [UInt8]) -> String {
        var out = "\""
        var i = 0
        func nextIsDigit(_ j: Int) -> Bool { j < bytes.count && bytes[j] >= 0x30 && bytes[j] <= 0x39 }
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x07: out += "\\a"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x0B: out += "\\v"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x80...:
                let length = utf8SequenceLength(bytes, at: i)
                if length > 0 {
                    out += String(decoding: bytes[i..<i + length], as: UTF8.self)
                    i += length
                    continue
                }
                out += "\\\(byte)"
            default:
                // Short form unless a digit follows, which would be read as part of the escape.
                out += nextIsDigit(i + 1) ? "\\" + String(format: "%03d", byte) : "\\\(byte)"
            }
            i += 1
        }
        return out + "\""
    }

    /// The length of the well-formed UTF-8 sequence starting at `i`, 0 when there is none.
    static func utf8SequenceLength(_ bytes: [UInt8], at i: Int) -> Int {
        let lead = bytes[i]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard i + length <= bytes.count else { return 0 }
        return String(validating: bytes[i..<i + length], as: UTF8.self) != nil ? length : 0
    }
}

/// One rendering pass: the stack, the tables on the current path (for cycles).
private struct Renderer {
    let L: OpaquePointer
    let printer: ValuePrinter
    var path: Set<UnsafeRawPointer> = []

    init(L: OpaquePointer, printer: ValuePrinter) {
        self.L = L
        self.printer = printer
    }

    var palette: ValuePrinter.Palette { printer.palette }

    func paint(_ text: String, _ colour: String) -> String {
        colour.isEmpty ? text : colour + text + palette.reset
    }

    /// The value at the absolute `index`. `column` is where it starts on its line (for deciding
    /// whether a table fits on one line); `limit` the depth at which tables are elided.
    mutating func render(_ index: Int32, depth: Int, column: Int, limit: Int) -> String {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return paint("nil", palette.constant)
        case LUA_TBOOLEAN: return paint(lua_toboolean(L, index) != 0 ? "true" : "false", palette.constant)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return paint(String(lua_tointegerx(L, index, nil)), palette.number) }
            return paint(ValuePrinter.format(float: lua_tonumberx(L, index, nil)), palette.number)
        case LUA_TSTRING: return paint(ValuePrinter.quote(LuaStack(L).bytes(at: index) ?? []), palette.string)
        case LUA_TTABLE: return renderTable(index, depth: depth, column: column, limit: limit)
        case LUA_TFUNCTION: return paint(hostName(of: index) ?? toString(index), palette.opaque)
        default: return paint(toString(index), palette.opaque)
        }
    }

    /// The name a host gave a function (`registry["LuaHost.functionNames"][f]`, a string), read
    /// raw: printing runs no Lua code.
    func hostName(of index: Int32) -> String? {
        let absolute = lua_absindex(L, index)
        guard lua_checkstack(L, 3) != 0 else { return nil }
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        guard (try? LuaStack(L).pushString("LuaHost.functionNames")) != nil else { return nil }
        guard lua_rawget(L, clshim_registryindex()) == LUA_TTABLE else { return nil }
        lua_pushvalue(L, absolute)
        guard lua_rawget(L, -2) == LUA_TSTRING else { return nil }
        return LuaStack(L).string(at: -1)
    }

    /// `tostring` of a value, honouring `__tostring` and `__name`; a failure is shown, not raised.
    func toString(_ index: Int32) -> String {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        let status = clshim_tolstring(L, index)
        if status == LUA_OK { return LuaStack(L).string(at: -1) ?? "?" }
        let error = LuaStack(L).popError(status: status)
        return "<error in __tostring: \(error.message)>"
    }

    /// "table: 0x…" from the value's address, running no metamethod.
    func address(_ index: Int32) -> String {
        let name = String(cString: lua_typename(L, lua_type(L, index)))
        let pointer = UInt(bitPattern: lua_topointer(L, index))
        return "\(name): 0x" + String(pointer, radix: 16)
    }

    /// Pushes the metatable's raw field `name` of the value at `index` (nil when absent).
    func pushMetafield(_ index: Int32, _ name: String) -> Bool {
        guard lua_checkstack(L, 3) != 0 else { return false }
        guard lua_getmetatable(L, index) != 0 else {
            lua_pushnil(L)
            return true
        }
        guard (try? LuaStack(L).pushString(name)) != nil else {
            clshim_pop(L, 1)
            return false
        }
        lua_rawget(L, -2)
        clshim_remove(L, -2)
        return true
    }

    /// The type of the metatable's raw field `name`, LUA_TNIL when absent.
    func metafieldType(_ index: Int32, _ name: String) -> Int32 {
        guard pushMetafield(index, name) else { return LUA_TNIL }
        defer { clshim_pop(L, 1) }
        return lua_type(L, -1)
    }

    mutating func renderTable(_ index: Int32, depth: Int, column: Int, limit: Int) -> String {
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        if metafieldType(index, "__tostring") != LUA_TNIL { return paint(toString(index), palette.opaque) }
        var prefix = ""
        if pushMetafield(index, "__name") {
            if let name = LuaStack(L).string(at: -1) { prefix = name + " " }
            clshim_pop(L, 1)
        }
        guard let identity = lua_topointer(L, index) else { return "{}" }
        if path.contains(identity) { return paint("<cycle: \(address(index))>", palette.note) }

        guard let entries = Entries(L: L, table: index) else {
            return paint("<\(address(index)): not enough memory to show it>", palette.note)
        }
        // The key table sits at entries.keys until the defer above restores the stack.
        if entries.count == 0 { return prefix + "{}" }
        if depth >= limit { return prefix + "{ " + paint("… \(entries.count) \(entries.count == 1 ? "item" : "items")", palette.note) + " }" }

        path.insert(identity)
        defer { path.remove(identity) }
        let isTicket = entries.isTicket
        var parts: [String] = []
        let shown = min(entries.count, printer.maxItems)
        for position in 0..<shown {
            guard lua_checkstack(L, 4) != 0 else { break }
            let key = entries.pushKey(at: position)
            var keyText = ""
            if key >= 0 { keyText = keyPrefix(lua_gettop(L)) }
            let isRequester = key >= 0 && LuaStack(L).string(at: -1) == "requester"
            lua_rawget(L, index)
            var childLimit = limit
            // A ticket's other nested tables (events, tags) show one level only: compact.
            if isTicket && !isRequester { childLimit = min(limit, depth + 2) }
            // Where the value starts when this table takes several lines (the worst case).
            let start = 2 * (depth + 1) + keyText.count
            let value = render(lua_gettop(L), depth: depth + 1, column: start, limit: childLimit)
            clshim_pop(L, 1)
            parts.append(keyText + value)
        }
        if entries.count > shown { parts.append(paint("… \(entries.count - shown) more", palette.note)) }

        let inline = prefix + "{ " + parts.joined(separator: ", ") + " }"
        if !inline.contains("\n") && column + visibleWidth(inline) <= printer.width { return inline }
        let indent = String(repeating: " ", count: 2 * (depth + 1))
        let closing = String(repeating: " ", count: 2 * depth)
        return prefix + "{\n" + parts.map { indent + $0 + "," }.joined(separator: "\n") + "\n" + closing + "}"
    }

    /// `name = `, `["a key"] = `, `[10] = `: the key on top of the stack (left there) as it is
    /// written in a table constructor.
    func keyPrefix(_ index: Int32) -> String {
        switch lua_type(L, index) {
        case LUA_TSTRING:
            let bytes = LuaStack(L).bytes(at: index) ?? []
            if let name = String(validating: bytes, as: UTF8.self), Lexicon.isName(name) { return name + " = " }
            return "[" + ValuePrinter.quote(bytes) + "] = "
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return "[\(lua_tointegerx(L, index, nil))] = " }
            return "[" + ValuePrinter.format(float: lua_tonumberx(L, index, nil)) + "] = "
        case LUA_TBOOLEAN: return lua_toboolean(L, index) != 0 ? "[true] = " : "[false] = "
        default: return "[" + address(index) + "] = "
        }
    }

    /// Columns a rendering takes on screen: characters, not counting colour escapes.
    func visibleWidth(_ text: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
            } else if scalar == "\u{1B}" {
                inEscape = true
            } else {
                count += 1
            }
        }
        return count
    }
}

/// The entries of one table in display order: the sequence part 1…n first, then the other keys
/// sorted (numbers, then strings, then booleans, then the rest by type and address); a ticket's
/// own fields lead. Keys stay in a Lua table of keys pushed on the stack, so that values are
/// reached with raw gets and no traversal is in progress while a `__tostring` runs.
private struct Entries {
    let L: OpaquePointer
    /// Stack index of the key table.
    let keys: Int32
    /// The length of the sequence part.
    let sequence: Int
    /// Positions in the key table of the other keys, in display order.
    let order: [Int]
    let isTicket: Bool

    var count: Int { sequence + order.count }

    /// Pushes the key table; nil when memory runs out (nothing is then left on the stack).
    init?(L: OpaquePointer, table: Int32) {
        self.L = L
        guard clshim_rawkeys(L, table) == LUA_OK else {
            clshim_pop(L, 1)
            return nil
        }
        keys = lua_gettop(L)
        var length = 0
        while true {
            let type = lua_rawgeti(L, table, lua_Integer(length + 1))
            clshim_pop(L, 1)
            if type == LUA_TNIL { break }
            length += 1
        }
        sequence = length

        var sortable: [(key: SortKey, position: Int)] = []
        let total = Int(lua_rawlen(L, keys))
        var ticketFields = 0
        for position in stride(from: 1, through: total, by: 1) {
            lua_rawgeti(L, keys, lua_Integer(position))
            defer { clshim_pop(L, 1) }
            if lua_isinteger(L, -1) != 0 {
                let n = lua_tointegerx(L, -1, nil)
                if n >= 1 && n <= length { continue }
            }
            let key = SortKey(L: L, index: lua_gettop(L))
            if case .string(let name) = key, ValuePrinter.ticketFields.contains(name) { ticketFields += 1 }
            sortable.append((key, position))
        }
        isTicket = ticketFields == ValuePrinter.ticketFields.count
        let ticket = isTicket
        sortable.sort { a, b in
            if ticket {
                let ra = a.key.ticketRank, rb = b.key.ticketRank
                if ra != rb { return ra < rb }
            }
            return a.key < b.key
        }
        order = sortable.map(\.position)
    }

    /// Pushes the key shown at `position` (display order); returns it, or -1 when the key is a
    /// sequence index, whose key is not written.
    func pushKey(at position: Int) -> Int {
        if position < sequence {
            lua_pushinteger(L, lua_Integer(position + 1))
            return -1
        }
        let slot = order[position - sequence]
        lua_rawgeti(L, keys, lua_Integer(slot))
        return slot
    }
}

/// How table keys sort for display.
private enum SortKey: Comparable {
    case number(Double, Int64?)
    case string(String)
    case boolean(Bool)
    case other(type: Int32, address: UInt)

    init(L: OpaquePointer, index: Int32) {
        switch lua_type(L, index) {
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 {
                let n = Int64(lua_tointegerx(L, index, nil))
                self = .number(Double(n), n)
            } else {
                self = .number(lua_tonumberx(L, index, nil), nil)
            }
        case LUA_TSTRING: self = .string(LuaStack(L).string(at: index) ?? "")
        case LUA_TBOOLEAN: self = .boolean(lua_toboolean(L, index) != 0)
        default: self = .other(type: lua_type(L, index), address: UInt(bitPattern: lua_topointer(L, index)))
        }
    }

    /// The position of a ticket's own field (0…3), 4 for any other key.
    var ticketRank: Int {
        if case .string(let name) = self, let rank = ValuePrinter.ticketFields.firstIndex(of: name) { return rank }
        return ValuePrinter.ticketFields.count
    }

    var group: Int {
        switch self {
        case .number: return 0
        case .string: return 1
        case .boolean: return 2
        case .other: return 3
        }
    }

    static func < (a: SortKey, b: SortKey) -> Bool {
        switch (a, b) {
        case let (.number(x, xi), .number(y, yi)):
            if let xi, let yi { return xi < yi }
            if x.isNaN || y.isNaN { return !x.isNaN && y.isNaN }
            return x < y
        case let (.string(x), .string(y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        case let (.boolean(x), .boolean(y)): return !x && y
        case let (.other(tx, ax), .other(ty, ay)): return tx != ty ? tx < ty : ax < ay
        default: return a.group < b.group
        }
    }
}

/// Lua's lexical facts that printing and completion need.
public enum Lexicon {
    /// Lua's reserved words.
    public static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
        "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    /// Whether `text` is a Lua name: letters, digits and `_`, not starting with a digit, not a
    /// reserved word (so it can be written as `t.name`).
    public static func isName(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return text.utf8.allSatisfy(isNameByte) && !keywords.contains(text)
    }

    /// Whether a byte may appear in a Lua name.
    public static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
}
