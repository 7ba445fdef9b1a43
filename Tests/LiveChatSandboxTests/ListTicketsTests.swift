import XCTest
@testable import LiveChatSandbox

/// GET /tickets over 120 seeded tickets: every filter alone and combined, checked against the
/// tickets' own JSON; paging, ordering and validation.
final class ListTicketsTests: XCTestCase {
    var sandbox: LiveSandbox!
    /// Every ticket, as the unfiltered list returns it (newest first).
    var all: [[String: Any]] = []

    override func setUp() async throws {
        sandbox = try await LiveSandbox.start { $0.seedTickets = 120; $0.seed = 7 }
        all = []
        for page in 1...5 {
            let response = try await sandbox.send("GET", "/tickets?page=\(page)")
            all += response.object["tickets"] as? [[String: Any]] ?? []
        }
        XCTAssertEqual(all.count, 120)
    }

    override func tearDown() async throws { await sandbox.stop() }

    /// Asserts that `query` lists exactly the tickets `matching` picks, newest first.
    private func assertFilter(_ query: String, _ matching: ([String: Any]) -> Bool,
                              file: StaticString = #filePath, line: UInt = #line) async throws {
        let expected = all.filter(matching).map { $0.string("id")! }
        let listed = try await sandbox.listAll(query)
        XCTAssertEqual(listed.total, expected.count, query, file: file, line: line)
        XCTAssertEqual(listed.ids, expected, query, file: file, line: line)
        XCTAssertFalse(expected.isEmpty, "the seeded data should exercise \(query)", file: file, line: line)
    }

    private func activity(_ ticket: [String: Any]) -> [Int] {
        let events = (ticket["events"] as? [[String: Any]] ?? []).compactMap { $0["date"] as? Int }
        let opened = (ticket["opened"] as? [[String: Any]] ?? []).compactMap { $0["from"] as? Int }
        return events + opened + [ticket["modified"] as! Int]
    }

    func testEnvelopeCountsPagesOf25() async throws {
        let first = try await sandbox.send("GET", "/tickets")
        XCTAssertEqual(first.object["total"] as? Int, 120)
        XCTAssertEqual(first.object["pages"] as? Int, 5)
        XCTAssertEqual((first.object["tickets"] as? [Any])?.count, 25)
        let last = try await sandbox.send("GET", "/tickets?page=5")
        XCTAssertEqual((last.object["tickets"] as? [Any])?.count, 20)
        let past = try await sandbox.send("GET", "/tickets?page=6")
        XCTAssertEqual(past.status, 200)
        XCTAssertEqual((past.object["tickets"] as? [Any])?.count, 0)
        XCTAssertEqual(past.object["total"] as? Int, 120)
        XCTAssertEqual(past.object["pages"] as? Int, 5)
    }

    func testPagesAreDisjointAndCoverEveryTicket() async throws {
        XCTAssertEqual(Set(all.map { $0.string("id")! }).count, 120)
    }

    func testDefaultOrderIsNewestModifiedFirstAndAscReversesIt() async throws {
        let modified = all.map { $0["modified"] as! Int }
        XCTAssertEqual(modified, modified.sorted(by: >))
        let ascending = try await sandbox.listAll("order=asc")
        XCTAssertEqual(ascending.ids, all.map { $0.string("id")! }.reversed())
        let explicit = try await sandbox.listAll("order=desc")
        XCTAssertEqual(explicit.ids, all.map { $0.string("id")! })
    }

    func testStatusFilter() async throws {
        for status in ["open", "pending", "solved", "spam"] {
            try await assertFilter("status=\(status)") { $0.string("status") == status }
        }
    }

    func testAssignedFilter() async throws {
        try await assertFilter("assigned=1") { $0["assignee"] != nil }
        try await assertFilter("assigned=0") { $0["assignee"] == nil }
    }

    func testAssigneeFilter() async throws {
        try await assertFilter("assignee=priya.shah@sandbox.livechat.local") {
            $0.dictionary("assignee")?.string("id") == "priya.shah@sandbox.livechat.local"
        }
        try await assertFilter("assignee=PRIYA.SHAH%40sandbox.livechat.local") {
            $0.dictionary("assignee")?.string("id") == "priya.shah@sandbox.livechat.local"
        }
    }

    func testRequesterMailFilterIsExactAndCaseInsensitiveWithRawOrEncodedBrackets() async throws {
        let mail = all[3].dictionary("requester")!.string("mail")!
        let matching: ([String: Any]) -> Bool = { $0.dictionary("requester")?.string("mail") == mail }
        try await assertFilter("requester[mail]=\(mail)", matching)
        try await assertFilter("requester%5Bmail%5D=\(mail.uppercased())", matching)
        try await assertFilter("requester%5bmail%5d=\(mail)", matching)
        let partial = try await sandbox.listAll("requester[mail]=\(mail.dropLast())")
        XCTAssertEqual(partial.total, 0)
    }

    func testGroupFilter() async throws {
        for group in [0, 2] {
            try await assertFilter("group=\(group)") { ($0.ints("groups") ?? []).contains(group) }
        }
    }

    func testSourceFilter() async throws {
        for source in ["lc2", "mail", "facebook", "agent-app-manual", "chat-window"] {
            try await assertFilter("source=\(source)") { $0.dictionary("source")?.string("type") == source }
        }
    }

    func testTagAndTaggedFilters() async throws {
        try await assertFilter("tag=billing") { ($0.strings("tags") ?? []).contains("billing") }
        try await assertFilter("tagged=1") { !($0.strings("tags") ?? []).isEmpty }
        try await assertFilter("tagged=0") { ($0.strings("tags") ?? []).isEmpty }
    }

    func testQueryMatchesSubjectMessagesAndRequesterCaseInsensitively() async throws {
        func matches(_ needle: String) -> ([String: Any]) -> Bool {
            { ticket in
                let requester = ticket.dictionary("requester")!
                let texts = [ticket.string("subject")!, requester.string("mail")!, requester.string("name")!]
                    + (ticket["events"] as! [[String: Any]]).compactMap { $0.string("message") }
                return texts.contains { $0.lowercased().contains(needle.lowercased()) }
            }
        }
        try await assertFilter("query=ORDER", matches("order"))                 // subject and messages
        try await assertFilter("query=prepaid+return", matches("prepaid return"))  // a reply only
        try await assertFilter("query=%C3%81lvarez", matches("Álvarez"))       // requester name
        try await assertFilter("query=example.org", matches("example.org"))     // requester mail
    }

    func testDateBoundsAreWholeUTCDaysInclusive() async throws {
        let middle = activity(all[60]).max()!
        let day = Date(timeIntervalSince1970: TimeInterval(middle))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        let text = formatter.string(from: day)
        let start = middle - middle % 86_400
        try await assertFilter("date_from=\(text)") { self.activity($0).max()! >= start }
        try await assertFilter("date_to=\(text)") { self.activity($0).min()! <= start + 86_399 }
        try await assertFilter("date_from=\(text)&date_to=\(text)") {
            self.activity($0).max()! >= start && self.activity($0).min()! <= start + 86_399
        }
    }

    func testDateToDefaultsToTodaySoNewTicketsAreListed() async throws {
        let created = try await sandbox.createTicket()
        let listed = try await sandbox.send("GET", "/tickets")
        XCTAssertEqual((listed.object["tickets"] as? [[String: Any]])?.first?.string("id"), created.string("id"))
        XCTAssertEqual(listed.object["total"] as? Int, 121)
    }

    func testFiltersCombine() async throws {
        try await assertFilter("status=open&assigned=1&group=0") {
            $0.string("status") == "open" && $0["assignee"] != nil && ($0.ints("groups") ?? []).contains(0)
        }
        try await assertFilter("source=mail&tagged=1&order=desc") {
            $0.dictionary("source")?.string("type") == "mail" && !($0.strings("tags") ?? []).isEmpty
        }
        let both = try await sandbox.listAll("status=solved&tag=shipping&order=asc")
        let expected = all.filter { $0.string("status") == "solved" && ($0.strings("tags") ?? []).contains("shipping") }
        XCTAssertEqual(both.ids, expected.map { $0.string("id")! }.reversed())
    }

    func testUnknownParametersAreIgnoredAndEmptyValuesAreAbsent() async throws {
        let listed = try await sandbox.listAll("colour=blue&status=&assigned=&tag=")
        XCTAssertEqual(listed.ids, all.map { $0.string("id")! })
    }

    func testEveryBadValueIsReportedUnderErrors() async throws {
        let cases: [(String, String)] = [
            ("order=up", "order must be asc or desc"),
            ("status=closed", "status must be one of open, pending, solved, spam"),
            ("date_from=yesterday", "date_from must be a date in YYYY-MM-DD format"),
            ("date_to=2015-02-30", "date_to must be a date in YYYY-MM-DD format"),
            ("page=0", "page must be an integer from 1 to 1000000"),
            ("page=two", "page must be an integer from 1 to 1000000"),
            ("assigned=2", "assigned must be 0 or 1"),
            ("tagged=yes", "tagged must be 0 or 1"),
            ("group=-1", "group must be an integer from 0 to 2147483647"),
            ("page=1000001", "page must be an integer from 1 to 1000000"),
            ("page=9223372036854775807", "page must be an integer from 1 to 1000000"),
            ("page=9223372036854775808", "page must be an integer from 1 to 1000000"),
            ("page=1.5", "page must be an integer from 1 to 1000000"),
            ("page=NaN", "page must be an integer from 1 to 1000000"),
            ("page=-9223372036854775808", "page must be an integer from 1 to 1000000"),
            ("group=2147483648", "group must be an integer from 0 to 2147483647"),
            ("group=99999999999999999999999999", "group must be an integer from 0 to 2147483647"),
            ("source=phone", "source must be one of lc2, mail, facebook, agent-app-manual, chat-window"),
        ]
        for (query, message) in cases {
            let response = try await sandbox.send("GET", "/tickets?\(query)")
            XCTAssertEqual(response.status, 400, query)
            XCTAssertEqual(response.header("Content-Type"), "application/json; charset=utf-8")
            XCTAssertEqual(response.object.strings("errors"), [message], query)
        }
        let last = try await sandbox.send("GET", "/tickets?page=1000000")
        XCTAssertEqual(last.status, 200)
        XCTAssertEqual((last.object["tickets"] as? [Any])?.count, 0)
        let several = try await sandbox.send("GET", "/tickets?order=up&page=0")
        XCTAssertEqual(several.object.strings("errors"), ["page must be an integer from 1 to 1000000", "order must be asc or desc"])
    }
}

/// Paging arithmetic and tie-breaking on hand-made data.
final class ListOrderingTests: XCTestCase {
    func testEmptyStoreListsZeroPages() async throws {
        let sandbox = try await LiveSandbox.start()
        let response = try await sandbox.send("GET", "/tickets")
        await sandbox.stop()
        XCTAssertEqual(response.object["pages"] as? Int, 0)
        XCTAssertEqual(response.object["total"] as? Int, 0)
        XCTAssertEqual((response.object["tickets"] as? [Any])?.count, 0)
    }

    func testPagesRoundUpAtTheBoundaries() {
        XCTAssertEqual(TicketFilter.pages(total: 0), 0)
        XCTAssertEqual(TicketFilter.pages(total: 1), 1)
        XCTAssertEqual(TicketFilter.pages(total: 25), 1)
        XCTAssertEqual(TicketFilter.pages(total: 26), 2)
        XCTAssertEqual(TicketFilter.pages(total: 50), 2)
    }

    func testEqualModifiedTimesAreOrderedById() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ties-\(UUID()).sqlite").path
        defer { removeDatabase(path) }
        let store = try TicketStore(path: path)
        let template = Seeder.documentationSample
        let tickets = ["B0000", "A0000", "D0000", "C0000"].map { id -> Ticket in
            var ticket = template
            ticket.id = id
            ticket.modified = 1_700_000_000
            return ticket
        }
        try await store.insert(tickets)
        try store.close()
        let sandbox = try await LiveSandbox.start { $0.databasePath = path }
        let descending = try await sandbox.listAll()
        let ascending = try await sandbox.listAll("order=asc")
        await sandbox.stop()
        XCTAssertEqual(descending.ids, ["D0000", "C0000", "B0000", "A0000"])
        XCTAssertEqual(ascending.ids, ["A0000", "B0000", "C0000", "D0000"])
    }
}

/// Removes a SQLite database and its WAL companions.
func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}
