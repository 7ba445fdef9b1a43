import Foundation

/// A validated `POST /tickets` body: what a new ticket is made from.
struct NewTicket: Sendable, Equatable {
    var message: String
    var requesterMail: String
    var requesterName: String
    var subject: String
    var sourceType: String
    var sourceURL: String?
    var assigneeID: String?
    var groups: [Int]

    /// Checks every field and reports every problem at once: the messages go into
    /// `400 {"error": [...]}`.
    static func validate(_ fields: RequestFields) -> Result<NewTicket, ValidationFailure> {
        var problems: [String] = []
        func text(_ path: [String]) -> String? {
            do { return try fields.string(path) } catch let error as FieldTypeError {
                problems.append(error.message)
            } catch {
                problems.append("\(RequestFields.name(path)) is malformed")
            }
            return nil
        }

        // Kept as sent; only its emptiness is judged after trimming.
        let message = text(["message"]) ?? ""
        if message.trimmed(newlines: true).isEmpty && !problems.contains(where: { $0.hasPrefix("message ") }) {
            problems.append("message is required")
        }

        let mail = text(["requester", "mail"])?.trimmed(newlines: false) ?? ""
        if mail.isEmpty {
            if !problems.contains(where: { $0.hasPrefix("requester[mail] ") }) { problems.append("requester[mail] is required") }
        } else if !isEmailAddress(mail) {
            problems.append("requester[mail] must be an e-mail address")
        }

        let name = text(["requester", "name"])?.trimmed(newlines: false) ?? ""
        let subject = text(["subject"])?.trimmed(newlines: true)

        let sourceType = text(["source", "type"])?.trimmed(newlines: false) ?? "lc2"
        if !TicketSource.creatableTypes.contains(sourceType) {
            problems.append("source[type] must be one of \(TicketSource.creatableTypes.joined(separator: ", "))")
        }
        let sourceURL = text(["source", "url"])

        let assignee = text(["assignee", "id"])?.trimmed(newlines: false)

        var groups = [0]
        do {
            if let values = try fields.strings("group", expected: "an array of integers from 0 to 2147483647") {
                let parsed = values.map { TicketFilter.integer($0.trimmed(newlines: false), in: TicketFilter.groupIDs) }
                if parsed.contains(where: { $0 == nil }) {
                    problems.append("group must be an array of integers from 0 to 2147483647")
                } else if !parsed.isEmpty {
                    groups = deduplicated(parsed.map { $0! })
                }
            }
        } catch let error as FieldTypeError {
            problems.append(error.message)
        } catch {
            problems.append("group must be an array of integers from 0 to 2147483647")
        }

        if !problems.isEmpty { return .failure(ValidationFailure(messages: problems)) }
        return .success(NewTicket(
            message: message,
            requesterMail: mail,
            requesterName: name,
            subject: (subject?.isEmpty ?? true) ? "(no subject)" : subject!,
            sourceType: sourceType,
            sourceURL: sourceType == "chat-window" ? sourceURL : nil,
            assigneeID: (assignee?.isEmpty ?? true) ? nil : assignee,
            groups: groups
        ))
    }

    /// Builds the ticket as the API returns it right after creation.
    func ticket(id: String, now: Int, agents: AgentDirectory) -> Ticket {
        let author = EventAuthor(id: requesterMail, name: requesterName, type: "client")
        return Ticket(
            id: id, status: .open, subject: subject,
            requester: Requester(mail: requesterMail, name: requesterName),
            assignee: assigneeID.map(agents.agent),
            groups: groups,
            source: TicketSource(type: sourceType, url: sourceURL),
            opened: [OpenedSpan(from: now)], modified: now, firstResponse: FirstResponse(), tags: [],
            events: [.message(date: now, author: author, text: message, source: sourceType)]
        )
    }

    /// A plain address check: one `@`, something before it, a dotted domain after, no spaces.
    static func isEmailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !text.contains(where: \.isWhitespace) else { return false }
        let domain = parts[1]
        let dot = UInt8(ascii: ".")
        return domain.utf8.contains(dot) && domain.utf8.first != dot && domain.utf8.last != dot
            && !zip(domain.utf8, domain.utf8.dropFirst()).contains { $0 == dot && $1 == dot }
    }
}

/// The tags of a `PUT /tickets/{id}/tags` body: `tag[]=a&tag[]=b`, `tag[0]=a`, `{"tag": ["a"]}`;
/// no `tag` at all clears them.
enum TagList {
    static func validate(_ fields: RequestFields) -> Result<[String], ValidationFailure> {
        do {
            let tags = try fields.strings("tag", expected: "an array of strings") ?? []
            let trimmed = tags.map { $0.trimmed(newlines: true) }.filter { !$0.isEmpty }
            return .success(deduplicated(trimmed))
        } catch let error as FieldTypeError {
            return .failure(ValidationFailure(messages: [error.message]))
        } catch {
            return .failure(ValidationFailure(messages: ["tag must be an array of strings"]))
        }
    }
}

/// Validation problems, one message each.
struct ValidationFailure: Error, Equatable {
    var messages: [String]
}

/// The elements in first-seen order, without repeats.
func deduplicated<T: Hashable>(_ items: [T]) -> [T] {
    var seen = Set<T>()
    return items.filter { seen.insert($0).inserted }
}
