import Foundation
import GRDB

/// A validated `GET /tickets` query: which tickets, in which order, which page.
struct TicketFilter: Sendable, Equatable {
    static let pageSize = 25
    /// The pages a query may ask for **[choice]**: beyond them the offset arithmetic would leave
    /// any sane range, so they are refused, not computed.
    static let pages = 1...1_000_000
    /// The group ids a filter or a create may name **[choice]**.
    static let groupIDs = 0...2_147_483_647

    /// A decimal integer within `range`, nil for anything else (sign, fraction, more digits than
    /// fit, NaN): never traps, whatever the text.
    static func integer(_ text: String, in range: ClosedRange<Int>) -> Int? {
        guard text.utf8.count <= 20, let value = Int(text), range.contains(value) else { return nil }
        return value
    }

    /// Start of the `date_from` day (UTC), in Unix seconds.
    var activeFrom: Int?
    /// End of the `date_to` day (UTC, inclusive), in Unix seconds; today when not given.
    var activeUntil: Int
    var page = 1
    var assigned: Bool?
    var ascending = false
    var status: TicketStatus?
    var assignee: String?
    var query: String?
    var requesterMail: String?
    var group: Int?
    var source: String?
    var tag: String?
    var tagged: Bool?

    /// Reads the query string's parameters, reporting every bad value at once (they go into
    /// `400 {"errors": [...]}`). Unknown parameters are ignored; empty values count as absent.
    static func parse(_ query: FormFields, now: Date = Date()) -> Result<TicketFilter, ValidationFailure> {
        var problems: [String] = []
        var filter = TicketFilter(activeUntil: endOfDay(containing: now))
        func value(_ key: String) -> String? {
            query.value(key == "requester[mail]" ? ["requester", "mail"] : [key])?
                .trimmingCharacters(in: .whitespaces).nilIfEmpty
        }

        if let text = value("date_from") {
            if let start = startOfDay(text) { filter.activeFrom = start } else {
                problems.append("date_from must be a date in YYYY-MM-DD format")
            }
        }
        if let text = value("date_to") {
            if let start = startOfDay(text) { filter.activeUntil = start + 86_399 } else {
                problems.append("date_to must be a date in YYYY-MM-DD format")
            }
        }
        if let text = value("page") {
            if let page = integer(text, in: pages) { filter.page = page } else {
                problems.append("page must be an integer from 1 to 1000000")
            }
        }
        if let text = value("assigned") {
            switch text {
            case "0": filter.assigned = false
            case "1": filter.assigned = true
            default: problems.append("assigned must be 0 or 1")
            }
        }
        if let text = value("order") {
            switch text.lowercased() {
            case "asc": filter.ascending = true
            case "desc": filter.ascending = false
            default: problems.append("order must be asc or desc")
            }
        }
        if let text = value("status") {
            if let status = TicketStatus(rawValue: text.lowercased()) { filter.status = status } else {
                problems.append("status must be one of open, pending, solved, spam")
            }
        }
        if let text = value("source") {
            if TicketSource.listableTypes.contains(text.lowercased()) { filter.source = text.lowercased() } else {
                problems.append("source must be one of \(TicketSource.listableTypes.joined(separator: ", "))")
            }
        }
        if let text = value("tagged") {
            switch text {
            case "0": filter.tagged = false
            case "1": filter.tagged = true
            default: problems.append("tagged must be 0 or 1")
            }
        }
        if let text = value("group") {
            if let group = integer(text, in: groupIDs) { filter.group = group } else {
                problems.append("group must be an integer from 0 to 2147483647")
            }
        }
        filter.assignee = value("assignee")
        filter.query = value("query")
        filter.requesterMail = value("requester[mail]")
        filter.tag = value("tag")
        if !problems.isEmpty { return .failure(ValidationFailure(messages: problems)) }
        return .success(filter)
    }

    /// The SQL condition over the `ticket` table and its arguments.
    var whereClause: (sql: String, arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        // "Any activity on or after date_from": the latest activity is; "on or before date_to": the earliest is.
        if let activeFrom {
            conditions.append("lastActivity >= ?")
            arguments += [activeFrom]
        }
        conditions.append("firstActivity <= ?")
        arguments += [activeUntil]
        if let assigned { conditions.append(assigned ? "assigneeKey IS NOT NULL" : "assigneeKey IS NULL") }
        if let status {
            conditions.append("status = ?")
            arguments += [status.rawValue]
        }
        if let assignee {
            conditions.append("assigneeKey = ?")
            arguments += [assignee.lowercased()]
        }
        if let requesterMail {
            conditions.append("requesterMailKey = ?")
            arguments += [requesterMail.lowercased()]
        }
        if let source {
            conditions.append("sourceType = ?")
            arguments += [source]
        }
        if let group {
            conditions.append("instr(groupKeys, ?) > 0")
            arguments += [",\(group),"]
        }
        if let tag {
            conditions.append("EXISTS (SELECT 1 FROM ticketTag WHERE ticketTag.tag = ? AND ticketTag.ticketId = ticket.id)")
            arguments += [tag]
        }
        if let tagged { conditions.append(tagged ? "tagCount > 0" : "tagCount = 0") }
        if let query {
            // instr, not LIKE: the query is a plain substring, `%` and `_` included.
            conditions.append("instr(searchText, ?) > 0")
            arguments += [query.lowercased()]
        }
        return (conditions.joined(separator: " AND "), arguments)
    }

    /// Newest first by `modified` unless `order=asc`; ties broken by `id` in the same direction.
    var orderClause: String {
        ascending ? "modified ASC, id ASC" : "modified DESC, id DESC"
    }

    /// The number of pages for `total` tickets: 0 when there are none.
    static func pages(total: Int) -> Int {
        (total + pageSize - 1) / pageSize
    }

    private static let utc = TimeZone(identifier: "UTC")!

    /// Unix seconds at 00:00 UTC of a strict `YYYY-MM-DD` date, nil when it is not one.
    static func startOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components),
              calendar.component(.day, from: date) == day  // rejects 2015-02-30
        else { return nil }
        return Int(date.timeIntervalSince1970)
    }

    /// Unix seconds of the last second of the UTC day containing `date`.
    static func endOfDay(containing date: Date) -> Int {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return seconds - seconds.modulo(86_400) + 86_399
    }
}

extension Int {
    /// The mathematical (never negative) remainder.
    func modulo(_ divisor: Int) -> Int { ((self % divisor) + divisor) % divisor }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
