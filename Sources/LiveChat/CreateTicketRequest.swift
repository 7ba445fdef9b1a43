/// The fields of `POST /tickets`. Fields left nil are not sent, so the server applies its own
/// defaults (subject `(no subject)`, source `lc2`, group `[0]`).
public struct CreateTicketRequest: Encodable, Sendable, Hashable {
    /// The first message; required, non-empty.
    public var message: String
    /// The requester's e-mail address; required.
    public var requesterEmail: String
    public var requesterName: String?
    public var subject: String?
    /// `chat-window`, `mail` or `lc2`.
    public var sourceType: String?
    /// Kept by the server only when the source type is `chat-window`.
    public var sourceURL: String?
    /// The login of the agent to assign the ticket to.
    public var assigneeId: String?
    /// The ids of the groups the ticket belongs to.
    public var groups: [Int]?

    public init(
        message: String, requesterEmail: String, requesterName: String? = nil,
        subject: String? = nil, sourceType: String? = nil, sourceURL: String? = nil,
        assigneeId: String? = nil, groups: [Int]? = nil
    ) {
        self.message = message
        self.requesterEmail = requesterEmail
        self.requesterName = requesterName
        self.subject = subject
        self.sourceType = sourceType
        self.sourceURL = sourceURL
        self.assigneeId = assigneeId
        self.groups = groups
    }

    /// Throws a `validation` error when a group id is out of the contract's bounds.
    func validate() throws(LiveChatError) {
        if let bad = groups?.first(where: { !TicketQuery.groupIDs.contains($0) }) {
            throw LiveChatError(kind: .validation, message: "group ids must be integers from 0 to 2147483647, got \(bad)")
        }
    }

    enum CodingKeys: String, CodingKey {
        case message, requester, subject, source, assignee, group
    }

    enum RequesterKeys: String, CodingKey { case mail, name }
    enum SourceKeys: String, CodingKey { case type, url }
    enum AssigneeKeys: String, CodingKey { case id }

    /// Encodes the API's nested JSON shape:
    /// `{"message", "requester": {"mail", "name"}, "subject", "source": {"type", "url"},
    /// "assignee": {"id"}, "group": […]}`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(message, forKey: .message)
        var requester = container.nestedContainer(keyedBy: RequesterKeys.self, forKey: .requester)
        try requester.encode(requesterEmail, forKey: .mail)
        try requester.encodeIfPresent(requesterName, forKey: .name)
        try container.encodeIfPresent(subject, forKey: .subject)
        if sourceType != nil || sourceURL != nil {
            var source = container.nestedContainer(keyedBy: SourceKeys.self, forKey: .source)
            try source.encodeIfPresent(sourceType, forKey: .type)
            try source.encodeIfPresent(sourceURL, forKey: .url)
        }
        if let assigneeId {
            var assignee = container.nestedContainer(keyedBy: AssigneeKeys.self, forKey: .assignee)
            try assignee.encode(assigneeId, forKey: .id)
        }
        try container.encodeIfPresent(groups, forKey: .group)
    }
}
