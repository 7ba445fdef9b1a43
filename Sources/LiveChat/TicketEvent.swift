import Foundation

/// One entry of a ticket's history. Event types this client does not model, and known types whose
/// fields do not fit, are kept as `.other` with their raw fields rather than rejected.
public enum TicketEvent: Codable, Sendable, Hashable {
    case message(MessageEvent)
    case assigneeChanged(AssigneeChangedEvent)
    case other(OtherEvent)

    /// The event's `type` field as the API names it (`message`, `assignee_changed`, …).
    public var type: String {
        switch self {
        case .message: return MessageEvent.type
        case .assigneeChanged: return AssigneeChangedEvent.type
        case .other(let event): return event.type
        }
    }

    /// When the event happened, if it says.
    public var date: Date? {
        switch self {
        case .message(let event): return event.date
        case .assigneeChanged(let event): return event.date
        case .other(let event): return event.date
        }
    }

    public init(from decoder: Decoder) throws {
        let fields = try [String: JSONValue](from: decoder)
        let type = fields["type"]?.stringValue ?? ""
        switch type {
        case MessageEvent.type:
            if let event = try? MessageEvent(from: decoder) {
                self = .message(event)
                return
            }
        case AssigneeChangedEvent.type:
            if let event = try? AssigneeChangedEvent(from: decoder) {
                self = .assigneeChanged(event)
                return
            }
        default:
            break
        }
        self = .other(OtherEvent(fields: fields))
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .message(let event): try event.encode(to: encoder)
        case .assigneeChanged(let event): try event.encode(to: encoder)
        case .other(let event): try event.fields.encode(to: encoder)
        }
    }
}

/// Who made an event: `{"id": …, "name": …, "type": "client" | "agent"}`.
public struct EventAuthor: Codable, Sendable, Hashable {
    /// An e-mail address: the requester's or an agent's login.
    public var id: String
    public var name: String?
    /// `client` or `agent`, when the API says.
    public var type: String?

    public init(id: String, name: String? = nil, type: String? = nil) {
        self.id = id
        self.name = name
        self.type = type
    }
}

/// A message on the ticket, public or private (an agents' note).
public struct MessageEvent: Codable, Sendable, Hashable {
    static let type = "message"

    public var date: Date
    public var author: EventAuthor
    public var message: String
    public var isPrivate: Bool
    public var source: TicketSource?

    public init(date: Date, author: EventAuthor, message: String, isPrivate: Bool = false, source: TicketSource? = nil) {
        self.date = date
        self.author = author
        self.message = message
        self.isPrivate = isPrivate
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case type, date, author, message, source
        case isPrivate = "is_private"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        date = try container.decodeTime(forKey: .date)
        author = try container.decode(EventAuthor.self, forKey: .author)
        message = try container.decode(String.self, forKey: .message)
        isPrivate = try container.decodeIfPresent(Bool.self, forKey: .isPrivate) ?? false
        source = try container.decodeIfPresent(TicketSource.self, forKey: .source)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.type, forKey: .type)
        try container.encodeTime(date, forKey: .date)
        try container.encode(author, forKey: .author)
        try container.encode(message, forKey: .message)
        try container.encode(isPrivate, forKey: .isPrivate)
        try container.encodeIfPresent(source, forKey: .source)
    }
}

/// The ticket was (re)assigned; `to` is absent when it was unassigned.
public struct AssigneeChangedEvent: Codable, Sendable, Hashable {
    static let type = "assignee_changed"

    public var date: Date
    public var author: EventAuthor?
    public var to: Assignee?

    public init(date: Date, author: EventAuthor? = nil, to: Assignee? = nil) {
        self.date = date
        self.author = author
        self.to = to
    }

    enum CodingKeys: String, CodingKey { case type, date, author, to }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        date = try container.decodeTime(forKey: .date)
        author = try container.decodeIfPresent(EventAuthor.self, forKey: .author)
        to = try container.decodeIfPresent(Assignee.self, forKey: .to)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.type, forKey: .type)
        try container.encodeTime(date, forKey: .date)
        try container.encodeIfPresent(author, forKey: .author)
        try container.encodeIfPresent(to, forKey: .to)
    }
}

/// An event kept as received: its `type` and every raw field (the type included).
public struct OtherEvent: Sendable, Hashable {
    public var fields: [String: JSONValue]

    public init(fields: [String: JSONValue]) {
        self.fields = fields
    }

    /// The `type` field; empty when the event has none.
    public var type: String { fields["type"]?.stringValue ?? "" }

    /// The `date` field read in any of the API's time encodings.
    public var date: Date? { fields["date"].flatMap(TicketTime.date(from:)) }
}
