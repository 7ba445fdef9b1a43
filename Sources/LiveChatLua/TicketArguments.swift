import Foundation
import LiveChat
import LuaHost

/// The one place that maps a Lua call's table to a request: field names are the WSO2 connector's,
/// checks follow the spec, and every problem reads as the standard library's argument errors
/// (`field 'group' expected array of integers, got string`).
struct TicketArguments {
    /// A problem with an argument; becomes `bad argument #n to 'fn' (message)`.
    struct Problem: Error {
        var message: String
    }

    /// The message of a Problem, or of any other error.
    static func message(of error: Error) -> String {
        (error as? Problem)?.message ?? "\(error)"
    }

    /// Connection settings a call may carry of its own, as the connector's JSON requests do.
    static let connectionFields = Set(APIDescription.connection.map(\.name))
    /// The connection fields as table keys, in name order.
    static let connectionKeys: [(name: String, key: LuaValue)] = connectionFields.sorted().map { ($0, .string(LuaString($0))) }

    // The fields and their choices, read from the API's description (`APIDescription`): what is
    // checked here is what `help` and the editor types say.
    static let createFields = APIDescription.livechat.fieldNames(of: "livechat.createTicket").subtracting(connectionFields)
    static let listFields = APIDescription.livechat.fieldNames(of: "livechat.listTickets").subtracting(connectionFields)

    static let sourceTypes = APIDescription.livechat.allowed("livechat.createTicket", "sourceType")
    static let statuses = APIDescription.livechat.allowed("livechat.listTickets", "status")
    static let orders = APIDescription.livechat.allowed("livechat.listTickets", "order")
    static let listSources = APIDescription.livechat.allowed("livechat.listTickets", "source")

    let table: LuaTable

    /// Reads a table argument, refusing fields it does not know (a typo is an error, not a
    /// silently ignored filter).
    /// `ignoring` names one more field that may be present and is not read (a bulk row's key).
    init(_ value: LuaValue, allowed: Set<String>, ignoring: String? = nil) throws(Problem) {
        guard case .table(let table) = value else {
            throw Problem(message: "table expected, got \(Self.typeName(value))")
        }
        guard table.sequence.isEmpty else {
            throw Problem(message: "expected a table of named fields, got an array")
        }
        for key in table.fields.keys {
            // A field name this type knows needs no new string to be checked.
            if let known = Self.names[key], allowed.contains(known) || Self.connectionFields.contains(known) { continue }
            guard case .string(let name) = key, let text = name.string else {
                throw Problem(message: "unexpected key \(Self.describe(key)) (fields are named)")
            }
            guard allowed.contains(text) || Self.connectionFields.contains(text) || text == ignoring else {
                let suggestion = Self.closest(to: text, in: allowed.union(Self.connectionFields)).map { " (did you mean '\($0)'?)" } ?? ""
                throw Problem(message: "unknown field '\(text)'\(suggestion)")
            }
        }
        self.table = table
    }

    /// The type name Lua would give, with "no value" for nil.
    static func typeName(_ value: LuaValue) -> String {
        if case .nil = value { return "nil" }
        return value.typeName
    }

    static func describe(_ key: LuaValue) -> String {
        switch key {
        case .integer(let i): return "[\(i)]"
        case .string(let s): return "'\(s.description)'"
        default: return "of type \(key.typeName)"
        }
    }

    /// The allowed name nearest to a misspelt one (edit distance at most 3).
    static func closest(to name: String, in allowed: Set<String>) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var current = [i + 1] + Array(repeating: 0, count: b.count)
                for (j, cb) in b.enumerated() {
                    current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
                }
                previous = current
            }
            return previous[b.count]
        }
        let lower = Array(name.lowercased())
        let scored = allowed.map { ($0, distance(lower, Array($0.lowercased()))) }.filter { $0.1 <= 3 }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    // MARK: - Fields

    func raw(_ name: String) -> LuaValue {
        table.fields[Self.keys[name] ?? .string(LuaString(name))] ?? .nil
    }

    /// Every field name as a table key, made once: building a key per lookup (an array of its
    /// bytes) was a large share of checking a bulk run's rows.
    private static let keys: [String: LuaValue] = Dictionary(
        uniqueKeysWithValues: createFields.union(listFields).union(connectionFields).map { ($0, .string(LuaString($0))) })
    private static let names: [LuaValue: String] = Dictionary(uniqueKeysWithValues: keys.map { ($1, $0) })

    /// An optional string field; numbers are not strings here.
    func string(_ name: String) throws(Problem) -> String? {
        switch raw(name) {
        case .nil, .null: return nil
        case .string(let s):
            guard let text = s.string else { throw Problem(message: "field '\(name)' is not valid UTF-8") }
            return text
        case let other: throw Problem(message: "field '\(name)' expected string, got \(Self.typeName(other))")
        }
    }

    /// An optional array of strings (a ticket's tags).
    func strings(_ name: String) throws(Problem) -> [String]? {
        switch raw(name) {
        case .nil, .null: return nil
        case .table(let t) where t.fields.isEmpty:
            var texts: [String] = []
            for (i, item) in t.sequence.enumerated() {
                guard case .string(let s) = item, let text = s.string else {
                    throw Problem(message: "field '\(name)' expected array of strings, got \(Self.typeName(item)) at [\(i + 1)]")
                }
                texts.append(text)
            }
            return texts
        case let other: throw Problem(message: "field '\(name)' expected array of strings, got \(Self.typeName(other))")
        }
    }

    /// A required, non-blank string field.
    func requiredString(_ name: String) throws(Problem) -> String {
        guard let text = try string(name) else { throw Problem(message: "field '\(name)' expected string, got nil") }
        guard text.unicodeScalars.contains(where: { !Self.isSpace($0) }) else {
            throw Problem(message: "field '\(name)' must not be empty")
        }
        return text
    }

    /// An optional string field that must be one of `choices`.
    func choice(_ name: String, _ choices: [String]) throws(Problem) -> String? {
        guard let text = try string(name) else { return nil }
        guard choices.contains(text) else {
            throw Problem(message: "field '\(name)' must be one of \(choices.map { "'\($0)'" }.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    /// An integer from an integer, an integral float, or a numeric string ("1", as the
    /// connector's JSON samples send).
    static func integer(_ value: LuaValue) -> Int? {
        switch value {
        case .integer(let i): return Int(exactly: i)
        case .number(let d): return Int(exactly: d)
        case .string(let s):
            guard let text = s.string?.trimmingCharacters(in: .whitespaces) else { return nil }
            return Int(text)
        default: return nil
        }
    }

    /// An optional integer field.
    func integer(_ name: String) throws(Problem) -> Int? {
        let value = raw(name)
        if case .nil = value { return nil }
        guard let number = Self.integer(value) else {
            throw Problem(message: "field '\(name)' expected integer, got \(Self.describe(value: value))")
        }
        return number
    }

    /// A flag given as a boolean, 0/1, or "0"/"1".
    func flag(_ name: String) throws(Problem) -> Bool? {
        let value = raw(name)
        switch value {
        case .nil: return nil
        case .boolean(let b): return b
        default:
            switch Self.integer(value) {
            case 0?: return false
            case 1?: return true
            default: throw Problem(message: "field '\(name)' expected 0, 1 or a boolean, got \(Self.describe(value: value))")
            }
        }
    }

    /// A date field `YYYY-MM-DD` that names a real day.
    func date(_ name: String) throws(Problem) -> String? {
        guard let text = try string(name) else { return nil }
        guard Self.isDay(text) else {
            throw Problem(message: "field '\(name)' expected a date as YYYY-MM-DD, got '\(text)'")
        }
        return text
    }

    /// Whether text is a real calendar day written YYYY-MM-DD.
    static func isDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month)
        guard let date = calendar.date(from: components),
              let days = calendar.range(of: .day, in: .month, for: date) else { return false }
        return days.contains(day)
    }

    /// A type description for messages: "string 'abc'" reads better than "string" for a
    /// string that is not a number.
    static func describe(value: LuaValue) -> String {
        switch value {
        case .string(let s): return "string '\(s.description)'"
        case .number(let d): return d.isNaN ? "number nan" : "number \(d)"
        default: return typeName(value)
        }
    }

    /// The group list: an array of integers, one integer, or a numeric string.
    func groups(_ name: String) throws(Problem) -> [Int]? {
        let value = raw(name)
        switch value {
        case .nil: return nil
        case .table(let t):
            guard t.fields.isEmpty else {
                throw Problem(message: "field '\(name)' expected array of integers, got a table with named fields")
            }
            var groups: [Int] = []
            for (i, item) in t.sequence.enumerated() {
                guard let g = Self.integer(item) else {
                    throw Problem(message: "field '\(name)' expected array of integers, got \(Self.describe(value: item)) at [\(i + 1)]")
                }
                guard TicketQuery.groupIDs.contains(g) else {
                    throw Problem(message: "field '\(name)' expected group ids from 0 to 2147483647, got \(g) at [\(i + 1)]")
                }
                groups.append(g)
            }
            return groups
        default:
            if let g = Self.integer(value) {
                guard TicketQuery.groupIDs.contains(g) else {
                    throw Problem(message: "field '\(name)' expected a group id from 0 to 2147483647, got \(g)")
                }
                return [g]
            }
            throw Problem(message: "field '\(name)' expected array of integers, got \(Self.describe(value: value))")
        }
    }

    // MARK: - Requests

    /// `createTicket{…}` → the create request, checked before anything is sent.
    func createRequest() throws(Problem) -> CreateTicketRequest {
        let message = try requiredString("message")
        let email = try requiredString("requesterEmail")
        guard Self.looksLikeEmail(email) else {
            throw Problem(message: "field 'requesterEmail' expected an e-mail address, got '\(email)'")
        }
        return CreateTicketRequest(
            message: message,
            requesterEmail: email,
            requesterName: try string("requesterName"),
            subject: try string("subject"),
            sourceType: try choice("sourceType", Self.sourceTypes),
            sourceURL: try string("sourceUrl"),
            assigneeId: try string("assigneeId"),
            groups: try groups("group")
        )
    }

    /// `listTickets{…}` → the list query, checked before anything is sent.
    func listQuery() throws(Problem) -> TicketQuery {
        var query = TicketQuery()
        query.status = try choice("status", Self.statuses)
        query.dateFrom = try date("dateFrom")
        query.dateTo = try date("dateTo")
        if let from = query.dateFrom, let to = query.dateTo, from > to {
            throw Problem(message: "field 'dateFrom' (\(from)) is after field 'dateTo' (\(to))")
        }
        query.query = try string("query")
        query.requesterMail = try string("requesterMail")
        query.tag = try string("tag")
        query.assigned = try flag("assigned")
        query.assignee = try string("assignee")
        query.order = try choice("order", Self.orders)
        query.source = try choice("source", Self.listSources)
        if let page = try integer("page") {
            guard TicketQuery.pages.contains(page) else {
                throw Problem(message: "field 'page' expected an integer from 1 to 1000000, got \(page)")
            }
            query.page = page
        }
        query.tagged = try flag("tagged")
        if let group = try integer("group") {
            guard TicketQuery.groupIDs.contains(group) else {
                throw Problem(message: "field 'group' expected an integer from 0 to 2147483647, got \(group)")
            }
            query.group = group
        }
        return query
    }

    /// A plausible e-mail address: something@something, no spaces.
    static func looksLikeEmail(_ text: String) -> Bool {
        var ats = 0, atOffset = -1, count = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "@") {
                ats += 1
                atOffset = count
            }
            count += 1
        }
        return ats == 1 && atOffset > 0 && atOffset < count - 1 && !text.unicodeScalars.contains(where: isSpace)
    }

    /// White space, as `Character.isWhitespace` has it, without its cost for the ASCII common case.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            return (0x09...0x0D).contains(scalar.value) || scalar.value == 0x20
        }
        return scalar.properties.isWhitespace
    }

    /// The connection settings this call carries, if any.
    func connectionOverrides() throws(Problem) -> ConnectionSettings.Overrides {
        ConnectionSettings.Overrides(apiURL: try string("apiUrl"), login: try string("login"), apiKey: try string("apiKey"))
    }
}
