import Foundation
import LuaHost

/// How the prompt shows the API's results as people read them: a ticket as a card, a page as a
/// table of its tickets with a summary line, an error with its kind, status, message and
/// details. `raw(x)` shows the full table instead. Only the prompt does this: scripts, `print`
/// and `--json` get the plain tables with the API's field names.
enum ResultCards {
    /// The card for a value, or nil when it is none of the API's results.
    static func text(for value: LuaValue, width: Int = 100) -> String? {
        guard case .table(let table) = value else { return nil }
        if isTicket(table) { return ticketCard(table, width: width) }
        if isPage(table) { return pageTable(table, width: width) }
        if isError(table) { return errorCard(table) }
        return nil
    }

    static func isTicket(_ table: LuaTable) -> Bool {
        table["id"].stringValue != nil && table["status"].stringValue != nil && table["requester"].tableValue != nil
            && table["events"].tableValue != nil
    }

    static func isPage(_ table: LuaTable) -> Bool {
        table["tickets"].tableValue != nil && table["total"].integerValue != nil && table["pages"].integerValue != nil
    }

    static func isError(_ table: LuaTable) -> Bool {
        table["kind"].stringValue != nil && table["message"].stringValue != nil && table["retryable"] != .nil
    }

    /// A Unix time as a local ISO date-time (`2013-11-18 15:03:04 +01:00`).
    static func time(_ value: LuaValue, seconds: Bool = true) -> String? {
        guard let number = value.numberValue else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = seconds ? "yyyy-MM-dd HH:mm:ss xxx" : "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: number))
    }

    private static func person(_ value: LuaValue, key: String) -> String? {
        guard let table = value.tableValue else { return nil }
        let id = table[key].stringValue
        if let name = table["name"].stringValue, !name.isEmpty {
            return id.map { "\(name) <\($0)>" } ?? name
        }
        return id
    }

    private static func list(_ value: LuaValue) -> String {
        let items = value.tableValue?.sequence.compactMap { $0.stringValue ?? $0.integerValue.map(String.init) } ?? []
        return items.isEmpty ? "—" : items.joined(separator: ", ")
    }

    private static func clip(_ text: String, _ width: Int) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= width ? line : String(line.prefix(max(1, width - 1))) + "…"
    }

    static func ticketCard(_ ticket: LuaTable, width: Int) -> String {
        var lines = ["ticket \(ticket["id"].stringValue ?? "?")  \(ticket["status"].stringValue ?? "?")  "
            + ValuePrinter.quote(Array((ticket["subject"].stringValue ?? "").utf8))]
        lines.append("  requester  " + (person(ticket["requester"], key: "mail") ?? "—"))
        lines.append("  assignee   " + (person(ticket["assignee"], key: "id") ?? "unassigned"))
        lines.append("  groups     \(list(ticket["groups"]))    tags  \(list(ticket["tags"]))")
        let events = ticket["events"].tableValue?.sequence ?? []
        let created = events.first.flatMap { $0.tableValue?["date"] }.flatMap { time($0) }
            ?? ticket["opened"].tableValue?.sequence.first.flatMap { $0.tableValue?["from"] }.flatMap { time($0) }
        lines.append("  created    \(created ?? "—")    modified  \(time(ticket["modified"]) ?? "—")")
        lines.append("  events (\(events.count)):")
        for event in events.prefix(8) {
            guard let event = event.tableValue else { continue }
            let when = time(event["date"], seconds: false) ?? ""
            let who = event["author"].tableValue.flatMap { $0["name"].stringValue ?? $0["id"].stringValue } ?? ""
            let what: String
            if let message = event["message"].stringValue {
                what = "\(who): \(message)"
            } else if let to = event["to"].tableValue {
                what = "assigned to \(to["name"].stringValue ?? to["id"].stringValue ?? "?")"
            } else {
                what = event["type"].stringValue ?? "event"
            }
            lines.append(clip("    \(when)  \(what)", width))
        }
        if events.count > 8 { lines.append("    … \(events.count - 8) more") }
        lines.append("  raw(_) shows the whole table; help(_) its fields")
        return lines.joined(separator: "\n")
    }

    static func pageTable(_ page: LuaTable, width: Int) -> String {
        let tickets = page["tickets"].tableValue?.sequence.compactMap(\.tableValue) ?? []
        var rows = [["id", "status", "modified", "requester", "subject"]]
        for ticket in tickets {
            rows.append([
                ticket["id"].stringValue ?? "?", ticket["status"].stringValue ?? "?",
                time(ticket["modified"], seconds: false) ?? "", ticket["requester"].tableValue?["mail"].stringValue ?? "",
                ticket["subject"].stringValue ?? "",
            ])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            clip((0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[4], width)
        }
        let total = page["total"].integerValue ?? 0, pages = page["pages"].integerValue ?? 0
        lines.append("\(tickets.count) of \(total) ticket\(total == 1 ? "" : "s"), \(pages) page\(pages == 1 ? "" : "s"); "
            + "_.tickets holds them, raw(_) shows the whole table")
        return lines.joined(separator: "\n")
    }

    static func errorCard(_ error: LuaTable) -> String {
        var head = "livechat.Error " + (error["kind"].stringValue ?? "?")
        if let status = error["status"].integerValue { head += " (HTTP \(status))" }
        var lines = [head + ": " + (error["message"].stringValue ?? "")]
        let details = error["details"].tableValue?.sequence.compactMap(\.stringValue) ?? []
        for detail in details where detail != error["message"].stringValue { lines.append("  " + detail) }
        let retryable = error["retryable"] == .boolean(true)
        lines.append("  retryable: \(retryable ? "yes" : "no"), attempts: \(error["attempts"].integerValue ?? 1)")
        return lines.joined(separator: "\n")
    }
}
