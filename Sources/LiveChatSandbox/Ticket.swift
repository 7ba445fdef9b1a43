import Foundation

/// A ticket exactly as the v2 API shows it; its JSON encoding is what the server answers with.
struct Ticket: Codable, Sendable, Equatable {
    var id: String
    var status: TicketStatus
    var subject: String
    var requester: Requester
    var assignee: Agent?
    var groups: [Int]
    var source: TicketSource
    var opened: [OpenedSpan]
    var modified: Int
    var firstResponse: FirstResponse
    var tags: [String]
    var events: [TicketEvent]

    /// Every moment the ticket was active: event dates, `opened[].from` and `modified`.
    var activityDates: [Int] {
        events.map(\.date) + opened.map(\.from) + [modified]
    }

    /// The lowercased text that `query` searches: subject, event messages, requester mail and name.
    var searchText: String {
        ([subject, requester.mail, requester.name] + events.compactMap(\.message))
            .joined(separator: "\n").lowercased()
    }
}

/// The ticket statuses of the v2 API.
enum TicketStatus: String, Codable, Sendable, CaseIterable {
    case open, pending, solved, spam
}

/// The customer who raised the ticket.
struct Requester: Codable, Sendable, Equatable {
    var mail: String
    /// Empty when the requester gave no name (the field is always present, as upstream).
    var name: String
}

/// An agent: an assignee or the author of an agent's event.
struct Agent: Codable, Sendable, Equatable {
    var id: String
    var name: String
}

/// Where a ticket came from; `url` only for `chat-window`.
struct TicketSource: Codable, Sendable, Equatable {
    var type: String
    var url: String?

    /// The source types a ticket can be created with.
    static let creatableTypes = ["chat-window", "mail", "lc2"]
    /// The source types the list filter knows.
    static let listableTypes = ["lc2", "mail", "facebook", "agent-app-manual", "chat-window"]
}

/// One span during which the ticket was open; `to` absent while it still is.
struct OpenedSpan: Codable, Sendable, Equatable {
    var from: Int
    var to: Int?
}

/// Always `{}` in the sandbox, as in the official samples.
struct FirstResponse: Codable, Sendable, Equatable {}

/// The author of an event: the requester (`type: client`) or an agent.
struct EventAuthor: Codable, Sendable, Equatable {
    var id: String
    var name: String
    var type: String?
}

/// A source reference inside a message event.
struct EventSource: Codable, Sendable, Equatable {
    var type: String
}

/// One entry of a ticket's history. The fields present depend on `type`: `message` has
/// `message`, `is_private` and `source`; `assignee_changed` has `to`; `status_changed` has
/// `previous` and `current`.
struct TicketEvent: Codable, Sendable, Equatable {
    var type: String
    var date: Int
    var author: EventAuthor
    var message: String?
    var isPrivate: Bool?
    var source: EventSource?
    var to: Agent?
    var previous: String?
    var current: String?

    enum CodingKeys: String, CodingKey {
        case type, date, author, message, isPrivate = "is_private", source, to, previous, current
    }

    static func message(
        date: Int, author: EventAuthor, text: String, isPrivate: Bool = false, source: String
    ) -> TicketEvent {
        TicketEvent(type: "message", date: date, author: author, message: text, isPrivate: isPrivate,
                    source: EventSource(type: source))
    }

    static func assigneeChanged(date: Int, by author: Agent, to assignee: Agent) -> TicketEvent {
        TicketEvent(type: "assignee_changed", date: date, author: EventAuthor(id: author.id, name: author.name),
                    to: assignee)
    }

    static func statusChanged(date: Int, by author: Agent, from previous: TicketStatus, to current: TicketStatus) -> TicketEvent {
        TicketEvent(type: "status_changed", date: date, author: EventAuthor(id: author.id, name: author.name),
                    previous: previous.rawValue, current: current.rawValue)
    }
}

extension Ticket {
    /// The JSON the API answers with for this ticket: `JSONEncoder`, keys sorted, slashes as they
    /// are (strings, numbers and arrays of them: encoding cannot fail).
    func encoded() -> Data {
        (try? Ticket.encoder.encode(self)) ?? Data("{}".utf8)
    }

    static func decode(_ data: Data) throws -> Ticket {
        try JSONDecoder().decode(Ticket.self, from: data)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
