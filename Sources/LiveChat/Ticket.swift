import Foundation

/// A LiveChat ticket, as `GET /tickets/{id}` returns it.
///
/// Decoding is tolerant of the API's inconsistencies (times as Unix seconds or ISO-8601, groups as
/// ids or `{id, name}` objects, unknown event types, unknown fields); encoding gives back the
/// canonical REST shape with the API's own field names.
public struct Ticket: Codable, Sendable, Hashable {
    /// Five characters from `A–Z0–9`.
    public var id: String
    /// `open`, `pending`, `solved` or `spam`.
    public var status: String
    public var subject: String
    public var requester: Requester
    /// Absent on an unassigned ticket.
    public var assignee: Assignee?
    /// The ids of the groups the ticket belongs to.
    public var groups: [Int]
    public var source: TicketSource
    /// The periods during which the ticket was open, oldest first.
    public var opened: [OpenedInterval]
    public var modified: Date
    /// The first agent response, kept as received; an empty object when there is none.
    public var firstResponse: JSONValue
    public var tags: [String]
    public var events: [TicketEvent]

    /// Creates a ticket; the parts left out are empty.
    public init(
        id: String, status: String, subject: String, requester: Requester,
        assignee: Assignee? = nil, groups: [Int] = [], source: TicketSource,
        opened: [OpenedInterval] = [], modified: Date, firstResponse: JSONValue = .object([:]),
        tags: [String] = [], events: [TicketEvent] = []
    ) {
        self.id = id
        self.status = status
        self.subject = subject
        self.requester = requester
        self.assignee = assignee
        self.groups = groups
        self.source = source
        self.opened = opened
        self.modified = modified
        self.firstResponse = firstResponse
        self.tags = tags
        self.events = events
    }

    enum CodingKeys: String, CodingKey {
        case id, status, subject, requester, assignee, groups, source, opened, modified
        case firstResponse, tags, events
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        status = try container.decode(String.self, forKey: .status)
        subject = try container.decodeIfPresent(String.self, forKey: .subject) ?? ""
        requester = try container.decode(Requester.self, forKey: .requester)
        assignee = try container.decodeIfPresent(Assignee.self, forKey: .assignee)
        groups = try container.decodeIfPresent([GroupReference].self, forKey: .groups)?.map(\.id) ?? []
        source = try container.decode(TicketSource.self, forKey: .source)
        opened = try container.decodeIfPresent([OpenedInterval].self, forKey: .opened) ?? []
        modified = try container.decodeTime(forKey: .modified)
        firstResponse = try container.decodeIfPresent(JSONValue.self, forKey: .firstResponse) ?? .object([:])
        tags = try container.decodeIfPresent([String].self, forKey: .tags) ?? []
        events = try container.decodeIfPresent([TicketEvent].self, forKey: .events) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(subject, forKey: .subject)
        try container.encode(requester, forKey: .requester)
        try container.encodeIfPresent(assignee, forKey: .assignee)
        try container.encode(groups, forKey: .groups)
        try container.encode(source, forKey: .source)
        try container.encode(opened, forKey: .opened)
        try container.encodeTime(modified, forKey: .modified)
        try container.encode(firstResponse, forKey: .firstResponse)
        try container.encode(tags, forKey: .tags)
        try container.encode(events, forKey: .events)
    }
}

/// The customer who asked: `{"mail": …, "name": …}`.
public struct Requester: Codable, Sendable, Hashable {
    public var mail: String
    public var name: String?

    public init(mail: String, name: String? = nil) {
        self.mail = mail
        self.name = name
    }
}

/// The agent a ticket is assigned to: `{"id": login, "name": …}`.
public struct Assignee: Codable, Sendable, Hashable {
    /// The agent's login, an e-mail address.
    public var id: String
    public var name: String?

    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
    }
}

/// Where a ticket or a message came from: `{"type": "chat-window", "url": …}`.
public struct TicketSource: Codable, Sendable, Hashable {
    /// `lc2`, `mail`, `facebook`, `agent-app-manual` or `chat-window`.
    public var type: String
    /// Present only for `chat-window`.
    public var url: String?

    public init(type: String, url: String? = nil) {
        self.type = type
        self.url = url
    }
}

/// One period during which a ticket was open; `to` is absent while it still is.
public struct OpenedInterval: Codable, Sendable, Hashable {
    public var from: Date
    public var to: Date?

    public init(from: Date, to: Date? = nil) {
        self.from = from
        self.to = to
    }

    enum CodingKeys: String, CodingKey { case from, to }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        from = try container.decodeTime(forKey: .from)
        to = try container.decodeTimeIfPresent(forKey: .to)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeTime(from, forKey: .from)
        try container.encodeTimeIfPresent(to, forKey: .to)
    }
}

/// A group as either encoding carries it: `0` (REST) or `{"id": 0, "name": "All operators"}`
/// (webhooks).
struct GroupReference: Decodable {
    var id: Int

    init(from decoder: Decoder) throws {
        let raw = try JSONValue(from: decoder)
        guard let id = Self.id(of: raw) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "expected a group id or an object with an integer id"))
        }
        self.id = id
    }

    private static func id(of raw: JSONValue) -> Int? {
        switch raw {
        case .int(let id): return id
        case .double(let id) where id.rounded() == id: return Int(exactly: id)
        case .string(let text): return Int(text)
        case .object(let members): return members["id"].flatMap(id(of:))
        default: return nil
        }
    }
}
