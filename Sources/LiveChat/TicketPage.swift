/// One page of `GET /tickets`: 25 tickets at most, with the totals of the whole filtered list.
public struct TicketPage: Codable, Sendable, Hashable {
    public var tickets: [Ticket]
    /// The number of tickets matching the filters, over all pages.
    public var total: Int
    /// The number of pages; 0 when nothing matches.
    public var pages: Int

    public init(tickets: [Ticket], total: Int, pages: Int) {
        self.tickets = tickets
        self.total = total
        self.pages = pages
    }
}
