/// The filters of `GET /tickets`; nil means "not filtered" and is not sent.
public struct TicketQuery: Sendable, Hashable {
    /// The pages the API serves (the contract's numeric bounds).
    public static let pages = 1...1_000_000
    /// The group ids the API knows, in filters and in creates (the contract's numeric bounds).
    public static let groupIDs = 0...2_147_483_647

    /// Throws a `validation` error when a number is out of the contract's bounds.
    func validate() throws(LiveChatError) {
        if let page, !Self.pages.contains(page) {
            throw LiveChatError(kind: .validation, message: "page must be an integer from 1 to 1000000, got \(page)")
        }
        if let group, !Self.groupIDs.contains(group) {
            throw LiveChatError(kind: .validation, message: "group must be an integer from 0 to 2147483647, got \(group)")
        }
    }
    /// `YYYY-MM-DD`: tickets with any activity on or after that day (UTC).
    public var dateFrom: String?
    /// `YYYY-MM-DD`: tickets with any activity on or before that day; the server's default is today.
    public var dateTo: String?
    /// 1-based page number.
    public var page: Int?
    /// true: only assigned tickets; false: only unassigned ones.
    public var assigned: Bool?
    /// `desc` (the server's default) or `asc`, by `modified`.
    public var order: String?
    /// `open`, `pending`, `solved` or `spam`.
    public var status: String?
    /// An agent login.
    public var assignee: String?
    /// A case-insensitive substring of the subject, a message, or the requester's mail or name.
    public var query: String?
    /// The requester's e-mail address, sent as `requester[mail]`.
    public var requesterMail: String?
    /// A group id.
    public var group: Int?
    /// `lc2`, `mail`, `facebook`, `agent-app-manual` or `chat-window`.
    public var source: String?
    /// Tickets carrying this tag.
    public var tag: String?
    /// true: tickets with any tag; false: tickets with none.
    public var tagged: Bool?

    public init(
        dateFrom: String? = nil, dateTo: String? = nil, page: Int? = nil, assigned: Bool? = nil,
        order: String? = nil, status: String? = nil, assignee: String? = nil, query: String? = nil,
        requesterMail: String? = nil, group: Int? = nil, source: String? = nil, tag: String? = nil,
        tagged: Bool? = nil
    ) {
        self.dateFrom = dateFrom
        self.dateTo = dateTo
        self.page = page
        self.assigned = assigned
        self.order = order
        self.status = status
        self.assignee = assignee
        self.query = query
        self.requesterMail = requesterMail
        self.group = group
        self.source = source
        self.tag = tag
        self.tagged = tagged
    }

    /// The query parameters with the spec's keys, in the spec's order, unencoded.
    public var parameters: [(name: String, value: String)] {
        let all: [(String, String?)] = [
            ("date_from", dateFrom),
            ("date_to", dateTo),
            ("page", page.map(String.init)),
            ("assigned", assigned.map { $0 ? "1" : "0" }),
            ("order", order),
            ("status", status),
            ("assignee", assignee),
            ("query", query),
            ("requester[mail]", requesterMail),
            ("group", group.map(String.init)),
            ("source", source),
            ("tag", tag),
            ("tagged", tagged.map { $0 ? "1" : "0" }),
        ]
        return all.compactMap { name, value in value.map { (name, $0) } }
    }

    /// The encoded query string without the leading `?`; empty when nothing is filtered.
    /// Keys and values are percent-encoded (so `requester[mail]` travels as `requester%5Bmail%5D`).
    public var queryString: String {
        parameters
            .map { "\(PercentEncoding.encode($0.name))=\(PercentEncoding.encode($0.value))" }
            .joined(separator: "&")
    }
}
